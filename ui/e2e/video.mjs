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
// Prints `problem <words>` (exit 1) when the console says the video cannot play, `error
// <message>` (exit 1) on any other failure. Uses Debian's Chromium; never downloads a browser.

import { readFileSync } from "node:fs";
import { parseArgs, runScript, signIn } from "./console.mjs";

await runScript("e2e-video", async (page) => {
  const args = parseArgs(process.argv.slice(2), ["url", "username", "password-file", "camera", "at-ms", "screenshot"]);
  const password = readFileSync(args["password-file"], "utf8").replace(/\r?\n$/, "");
  await (await signIn(page, args.url, args.username, password, "video")).click();
  const cell = page.locator('.video-cell[data-cell="0"]');
  // The camera by its id, whichever site lists it (the option values are `site/camera`).
  const option = cell.locator(`select[name=camera] option[value$="/${args.camera}"]`).first();
  await cell.locator("select[name=camera]").selectOption(await option.getAttribute("value", { timeout: 15_000 }));
  // The instant as the browser's local time, as the field takes it.
  const local = await page.evaluate((ms) => {
    const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
    return d.toISOString().slice(0, 19);
  }, Number(args["at-ms"]));
  await cell.locator("input[name=at]").fill(local);
  await cell.locator("button[data-action=show]").click();
  const shown = cell.locator("video[data-shown-ms]");
  const problem = cell.locator("[data-problem]");
  await Promise.race([shown.waitFor({ timeout: 30_000 }), problem.waitFor({ timeout: 30_000 })]);
  if (await problem.count()) {
    process.stdout.write(`problem ${await problem.textContent()}\n`);
    return 1;
  } else {
    await shown.screenshot({ path: args.screenshot });
    // Under it, the camera's timeline: what it recorded around the instant.
    await cell.locator(`.timeline-row[data-camera="${args.camera}"] .span`).first().waitFor({ timeout: 15_000 });
    if (args["page-screenshot"]) await page.screenshot({ path: args["page-screenshot"], fullPage: true });
    process.stdout.write(`shown ${args.screenshot}\n`);
  }
});
