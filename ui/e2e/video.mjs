#!/usr/bin/env node
// The manager's video in the end-to-end test (tests/e2e): signs in to the hub's browser
// console, opens the Video tab, shows a camera's recording at an instant, and saves a
// screenshot of the video element at its own size; prints `shown <path>` once the camera's
// timeline is shown under it too. A test then reads
// the simulator's pixel stamp from it.
//
//   node e2e/video.mjs --url https://127.0.0.1:PORT/ --username U --password-file F \
//        --camera ID --at-ms UNIX_MS --screenshot PATH [--page-screenshot PATH]
//
// With `--cameras A,B,C,D --shots-dir DIR` instead, the 2x2 grid on one clock: the four
// cameras shown together at the instant ("Show all"), each view screenshotted at its own size
// (`shown <i> <path>`), then played together for `--play-ms` and paused ("Play all" twice),
// each screenshotted again (`played <i> <path>`) after `paused-at <Unix ms>`, the instant the
// grid's clock paused at. `--nudge-ms` first moves the second view that far off the clock.
//
// With `--camera ID --live-shots DIR` instead, the camera live: "Live" pressed, and two seconds
// after it plays, its video screenshotted twice a second apart, each printed as `live <path> <before>
// <after>` with the Unix ms just before and after the screenshot was taken.
//
// Prints `problem <words>` (exit 1) when the console says the video cannot play, `error
// <message>` (exit 1) on any other failure. Uses Debian's Chromium; never downloads a browser.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fillInstant, parseArgs, runScript, signIn } from "./console.mjs";

/** Picks camera `id` in view `cell`, whichever site lists it (option values are `site/camera`). */
async function choose(cell, id) {
  const option = cell.locator(`select[name=camera] option[value$="/${id}"]`).first();
  await cell.locator("select[name=camera]").selectOption(await option.getAttribute("value", { timeout: 15_000 }));
}

/** Each view's video at its own size (so its pixel stamp reads), screenshotted as `<kind>-<i>`. */
async function shootViews(page, count, dir, kind) {
  await page.evaluate(() => {
    for (const video of document.querySelectorAll(".video-cell video")) video.style.width = `${video.videoWidth}px`;
  });
  await page.waitForTimeout(300);
  for (let i = 0; i < count; i++) {
    const path = join(dir, `${kind}-${i}.png`);
    await page.locator(`.video-cell[data-cell="${i}"] video`).screenshot({ path });
    process.stdout.write(`${kind} ${i} ${path}\n`);
  }
}

/** Waits until every view stands on the grid's instant, or says why one cannot. */
async function aligned(page, count) {
  for (let i = 0; i < count; i++) {
    const cell = page.locator(`.video-cell[data-cell="${i}"]`);
    const done = cell.locator("video[data-aligned-ms]");
    const problem = cell.locator("[data-problem]");
    await Promise.race([done.waitFor({ timeout: 30_000 }), problem.waitFor({ timeout: 30_000 })]);
    if (await problem.count()) throw new Error(`view ${i}: ${await problem.textContent()}`);
  }
}

/** Waits until `cell` shows what `shown` finds, or prints the problem it says instead. */
async function shownOrProblem(cell, shown) {
  const problem = cell.locator("[data-problem]");
  await Promise.race([shown.waitFor({ timeout: 30_000 }), problem.waitFor({ timeout: 30_000 })]);
  if (!(await problem.count())) return true;
  process.stdout.write(`problem ${await problem.textContent()}\n`);
  return false;
}

await runScript("e2e-video", async (page) => {
  const grid = process.argv.includes("--cameras");
  const live = process.argv.includes("--live-shots");
  const args = parseArgs(
    process.argv.slice(2),
    grid
      ? ["url", "username", "password-file", "cameras", "at-ms", "shots-dir"]
      : live
        ? ["url", "username", "password-file", "camera", "live-shots"]
        : ["url", "username", "password-file", "camera", "at-ms", "screenshot"],
  );
  const password = readFileSync(args["password-file"], "utf8").replace(/\r?\n$/, "");
  await (await signIn(page, args.url, args.username, password, "video")).click();
  if (live) {
    const cell = page.locator('.video-cell[data-cell="0"]');
    await choose(cell, args.camera);
    await cell.locator("button[data-action=live]").click();
    const video = cell.locator("video[data-live]");
    if (!(await shownOrProblem(cell, video))) return 1;
    // At its own size, so that its pixel stamp reads; and settled (a view that opened behind
    // catches up at 1.1x within a couple of seconds).
    await page.waitForFunction(() => document.querySelector(".video-cell video")?.style.width.endsWith("px"));
    await page.waitForTimeout(2000);
    for (const i of [0, 1]) {
      if (i) await page.waitForTimeout(1000);
      const path = join(args["live-shots"], `live-${i}.png`);
      const before = Date.now();
      await video.screenshot({ path });
      process.stdout.write(`live ${path} ${before} ${Date.now()}\n`);
    }
    if (args["page-screenshot"]) await page.screenshot({ path: args["page-screenshot"], fullPage: true });
    return;
  }
  if (grid) {
    const cameras = args.cameras.split(",");
    await page.locator('[data-grid="4"]').click();
    for (const [i, id] of cameras.entries()) await choose(page.locator(`.video-cell[data-cell="${i}"]`), id);
    await fillInstant(page.locator("input[name=grid-at]"), args["at-ms"]);
    await page.locator("button[data-action=show-all]").click();
    await aligned(page, cameras.length);
    if (args["page-screenshot"]) await page.screenshot({ path: args["page-screenshot"], fullPage: true });
    await shootViews(page, cameras.length, args["shots-dir"], "shown");
    // One view put off the clock (as a slow decoder would), to be brought back.
    if (args["nudge-ms"]) {
      await page.evaluate((s) => {
        const video = document.querySelector('.video-cell[data-cell="1"] video');
        video.currentTime += s;
      }, Number(args["nudge-ms"]) / 1000);
    }
    const playAll = page.locator("button[data-action=play-all]");
    await playAll.click();
    await page.waitForTimeout(Number(args["play-ms"] ?? 4000));
    await playAll.click();
    await aligned(page, cameras.length);
    const at = await page.locator('.video-cell[data-cell="0"] video').getAttribute("data-aligned-ms");
    process.stdout.write(`paused-at ${at}\n`);
    await shootViews(page, cameras.length, args["shots-dir"], "played");
    return;
  }
  const cell = page.locator('.video-cell[data-cell="0"]');
  await choose(cell, args.camera);
  await fillInstant(cell.locator("input[name=at]"), args["at-ms"]);
  await cell.locator("button[data-action=show]").click();
  const shown = cell.locator("video[data-shown-ms]");
  if (!(await shownOrProblem(cell, shown))) return 1;
  await shown.screenshot({ path: args.screenshot });
  // Under it, the camera's timeline: what it recorded around the instant.
  await cell.locator(`.timeline-row[data-camera="${args.camera}"] .span`).first().waitFor({ timeout: 15_000 });
  if (args["page-screenshot"]) await page.screenshot({ path: args["page-screenshot"], fullPage: true });
  process.stdout.write(`shown ${args.screenshot}\n`);
});
