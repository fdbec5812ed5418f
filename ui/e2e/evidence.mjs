#!/usr/bin/env node
// An incident's evidence export as the browser console makes and shows it (tests/e2e): signs
// in, opens the incident, with `--camera` exports that camera's range from the incident's form
// (or takes export `--export`), waits for it to be done, presses "Check" and prints what the
// console says: `verified <export> <words>` or `refused <export> <words>` (it does not
// verify), and the page's screenshot when asked. With `--download-to`, it then downloads the
// export's ZIP from its link into that folder and prints `downloaded <path>`. With
// `--link-bookmark`, it first links that bookmark to the incident from the Bookmarks panel and
// prints `linked <bookmark>` once the incident lists it; with `--play-bookmark-shot PATH` too,
// it then plays that bookmark from the incident's list (the Video tab shows it at its instant),
// screenshots the video at its own size and prints `played <path> <instant shown, Unix ms>`.
//
//   node e2e/evidence.mjs --url https://127.0.0.1:PORT/ --username U --password-file F \
//        --incident ID (--camera ID --from-ms MS --to-ms MS | --export ID) [--screenshot PATH] \
//        [--download-to DIR] [--link-bookmark ID [--play-bookmark-shot PATH]]
//
// Prints `error <message>` (exit 1) on any failure. Uses Debian's Chromium; never downloads a
// browser.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fillInstant, parseArgs, runScript, signIn } from "./console.mjs";

await runScript("e2e-evidence", async (page) => {
  const args = parseArgs(process.argv.slice(2), ["url", "username", "password-file", "incident"]);
  const password = readFileSync(args["password-file"], "utf8").replace(/\r?\n$/, "");
  const incidents = await signIn(page, args.url, args.username, password, "incidents");
  if (args["link-bookmark"]) {
    await page.locator('[data-tab="bookmarks"]').click();
    const choice = page.locator(`.bookmarks li[data-bookmark-id="${args["link-bookmark"]}"] select[name=bookmark-incident]`);
    await choice.locator(`option[value="${args.incident}"]`).waitFor({ state: "attached", timeout: 15_000 });
    await choice.selectOption(args.incident);
  }
  await incidents.click();
  await page.locator(`.incident-list [data-incident-id="${args.incident}"] button`).click({ timeout: 15_000 });
  const incident = page.locator(`section.incident[data-incident-id="${args.incident}"]`);
  if (args["link-bookmark"]) {
    await incident.locator(`.incident-bookmarks li[data-bookmark-id="${args["link-bookmark"]}"]`).waitFor({ timeout: 15_000 });
    process.stdout.write(`linked ${args["link-bookmark"]}\n`);
  }
  if (args["link-bookmark"] && args["play-bookmark-shot"]) {
    await incident.locator(`.incident-bookmarks li[data-bookmark-id="${args["link-bookmark"]}"] button[data-action=play-bookmark]`).click();
    const cell = page.locator('.video-cell[data-cell="0"]');
    const shown = cell.locator("video[data-shown-ms]");
    const problem = cell.locator("[data-problem]");
    await Promise.race([shown.waitFor({ timeout: 30_000 }), problem.waitFor({ timeout: 30_000 })]);
    if (await problem.count()) throw new Error(`the bookmark's video: ${await problem.textContent()}`);
    // At its own size, so that its pixel stamp reads.
    await page.waitForFunction(() => document.querySelector(".video-cell video")?.style.width.endsWith("px"));
    await shown.screenshot({ path: args["play-bookmark-shot"] });
    process.stdout.write(`played ${args["play-bookmark-shot"]} ${await shown.getAttribute("data-shown-ms")}\n`);
    await incidents.click();
  }
  let id = args.export;
  if (args.camera) {
    const form = incident.locator("form.export-form");
    await form.locator("input[name=export-cameras]").fill(args.camera, { timeout: 15_000 });
    await fillInstant(form.locator("input[name=export-from]"), args["from-ms"]);
    await fillInstant(form.locator("input[name=export-to]"), args["to-ms"]);
    await form.locator("button[data-action=export]").click();
    const made = incident.locator("li[data-export-id]").first();
    await made.waitFor({ timeout: 15_000 });
    id = await made.getAttribute("data-export-id");
  }
  const exported = incident.locator(`li[data-export-id="${id}"][data-state=done]`);
  await exported.waitFor({ timeout: 60_000 });
  await exported.locator("button[data-action=check-export]").click();
  const checked = incident.locator(`li[data-export-id="${id}"][data-verified]`);
  await checked.waitFor({ timeout: 15_000 });
  const verified = await checked.getAttribute("data-verified");
  const words = (await checked.locator("[role=status] p").first().textContent())?.trim() ?? "";
  if (args.screenshot) await page.screenshot({ path: args.screenshot, fullPage: true });
  process.stdout.write(`${verified === "true" ? "verified" : "refused"} ${id} ${words}\n`);
  if (args["download-to"]) {
    const [download] = await Promise.all([
      page.waitForEvent("download", { timeout: 60_000 }),
      exported.locator("a[data-action=download-export]").click(),
    ]);
    const path = join(args["download-to"], download.suggestedFilename());
    await download.saveAs(path);
    process.stdout.write(`downloaded ${path}\n`);
  }
});
