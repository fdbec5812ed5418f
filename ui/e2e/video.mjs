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
// The grid then steps a frame forward ("+1 frame" of all four views): each view screenshotted
// again (`stepped <i> <path>`) once it stands on the clock's new instant, after `stepped-at
// <Unix ms>`.
//
// With `--step-shots DIR` beside `--camera ID --at-ms MS`, the single view then steps a frame
// forward and a frame back, screenshotted after each (`forward <path>`, `back <path>`), and is
// then dragged on its timeline from the playhead, out to the bar's middle and back to about
// eight seconds before the playhead (where the recording began at the latest): `scrubbed
// <Unix ms> <Unix ms>`, the instant it shows then and the one the bar said as it was let go.
//
// With `--alarm ID --count N --shots-dir DIR` instead, the four views first show cam05 to
// cam08 (`--others`, comma-separated), then the alarm is replayed from the Alarms tab
// ("Replay from 10 s before"): its N cameras shown in the Video tab (one view, or the 2x2
// grid on one clock), each screenshotted (`replayed <i> <path>`), and each view beyond them
// left with no camera (`cleared <i>`).
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
  process.stdout.write(`video ${(await cell.locator("video").isVisible()) ? "shown" : "hidden"}\n`);
  return false;
}

/** Waits until the single view's video stands still on another frame than at `beforeS`. */
async function steppedFrom(page, beforeS) {
  await page.waitForFunction(
    (before) => {
      const video = document.querySelector('.video-cell[data-cell="0"] video');
      return video && video.paused && !video.seeking && Math.abs(video.currentTime - before) > 0.0005;
    },
    beforeS,
    { timeout: 15_000 },
  );
  // Painted.
  await page.waitForTimeout(300);
}

await runScript("e2e-video", async (page) => {
  const grid = process.argv.includes("--cameras");
  const live = process.argv.includes("--live-shots");
  const alarm = process.argv.includes("--alarm");
  const args = parseArgs(
    process.argv.slice(2),
    grid
      ? ["url", "username", "password-file", "cameras", "at-ms", "shots-dir"]
      : alarm
        ? ["url", "username", "password-file", "alarm", "count", "shots-dir"]
        : live
        ? ["url", "username", "password-file", "camera", "live-shots"]
        : ["url", "username", "password-file", "camera", "at-ms", "screenshot"],
  );
  const password = readFileSync(args["password-file"], "utf8").replace(/\r?\n$/, "");
  const videoTab = await signIn(page, args.url, args.username, password, "video");
  if (alarm) {
    // Other cameras in the views first: the replay must put the alarm's own in their place.
    await videoTab.click();
    await page.locator('[data-grid="4"]').click();
    for (const [i, id] of (args.others ?? "cam05,cam06,cam07,cam08").split(",").entries()) {
      await choose(page.locator(`.video-cell[data-cell="${i}"]`), id);
    }
    await page.locator('[data-tab="alarms"]').click();
    const row = page.locator(`li.alarm[data-alarm-id="${args.alarm}"]`);
    await row.locator(".alarm-summary").click({ timeout: 15_000 });
    await row.locator("button[data-action=replay-alarm]").click();
    const count = Number(args.count);
    if (count === 1) {
      const cell = page.locator('.video-cell[data-cell="0"]');
      if (!(await shownOrProblem(cell, cell.locator("video[data-shown-ms]")))) return 1;
    } else await aligned(page, count);
    await shootViews(page, count, args["shots-dir"], "replayed");
    for (let i = count; i < 4 && count > 1; i++) {
      if ((await page.locator(`.video-cell[data-cell="${i}"] select[name=camera]`).inputValue()) === "") process.stdout.write(`cleared ${i}\n`);
    }
    return;
  }
  await videoTab.click();
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
    // A frame forward, all four: each stands on the clock's next instant.
    await page.locator('[aria-label="All four views"] button[data-action=frame-forward]').click();
    const next = await page.waitForFunction(
      (at) => {
        const shown = [...document.querySelectorAll(".video-cell video")].map((v) => v.getAttribute("data-aligned-ms"));
        return shown.every((s) => s !== null && Number(s) > Number(at)) && shown.every((s) => s === shown[0]) && shown[0];
      },
      at,
      { timeout: 30_000 },
    );
    process.stdout.write(`stepped-at ${await next.jsonValue()}\n`);
    await shootViews(page, cameras.length, args["shots-dir"], "stepped");
    return;
  }
  const cell = page.locator('.video-cell[data-cell="0"]');
  await choose(cell, args.camera);
  await fillInstant(cell.locator("input[name=at]"), args["at-ms"]);
  await cell.locator("button[data-action=show]").click();
  const shown = cell.locator("video[data-shown-ms]");
  if (!(await shownOrProblem(cell, shown))) return 1;
  await shown.screenshot({ path: args.screenshot });
  if (args["step-shots"]) {
    for (const [action, name] of [
      ["frame-forward", "forward"],
      ["frame-back", "back"],
    ]) {
      const before = await shown.evaluate((v) => v.currentTime);
      await cell.locator(`button[data-action=${action}]`).click();
      await steppedFrom(page, before);
      const path = join(args["step-shots"], `${name}.png`);
      await shown.screenshot({ path });
      process.stdout.write(`${name} ${path}\n`);
    }
    // A drag on the timeline: the time under the pointer shows while it lasts; let go, the
    // video shows there.
    const bar = cell.locator(".playback-timeline");
    const box = await bar.boundingBox();
    const head = await cell.locator(".playback-timeline .playhead").boundingBox();
    const y = box.y + box.height / 2;
    const was = await shown.getAttribute("data-shown-ms");
    const [min, max] = await Promise.all(["aria-valuemin", "aria-valuemax"].map(async (a) => Number(await bar.getAttribute(a))));
    const back = (8_000 / (max - min)) * box.width;
    await page.mouse.move(head.x + 1, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2, y, { steps: 5 });
    await cell.locator(".scrub-time").waitFor({ timeout: 5_000 });
    await page.mouse.move(head.x + 1 - back, y, { steps: 5 });
    const said = await bar.getAttribute("aria-valuenow");
    await page.mouse.up();
    const moved = await page.waitForFunction(
      (was) => {
        const shown = document.querySelector('.video-cell[data-cell="0"] video')?.getAttribute("data-shown-ms");
        return shown && shown !== was && shown;
      },
      was,
      { timeout: 30_000 },
    );
    process.stdout.write(`scrubbed ${await moved.jsonValue()} ${said}\n`);
  }
  // Under it, the camera's timeline: what it recorded around the instant.
  await cell.locator(`.timeline-row[data-camera="${args.camera}"] .span`).first().waitFor({ timeout: 15_000 });
  if (args["page-screenshot"]) await page.screenshot({ path: args["page-screenshot"], fullPage: true });
  process.stdout.write(`shown ${args.screenshot}\n`);
});
