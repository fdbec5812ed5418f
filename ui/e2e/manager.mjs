#!/usr/bin/env node
// The manager's side of the end-to-end test (tests/e2e): signs in to the hub's browser console,
// opens an incident, prints `ready`, then waits for a note with the given text to arrive live
// (written elsewhere, e.g. by the desktop app) and prints `seen <ms since epoch>`.
//
//   node e2e/manager.mjs --url https://127.0.0.1:PORT/ --username U --password-file F \
//        --incident ID --expect-note TEXT [--screenshot PATH] [--timeout-ms 30000]
//
// Exit 0 when the note was seen; otherwise prints `error <message>` and exits 1. Page console
// errors go to stderr. Uses Debian's Chromium (/usr/bin/chromium); never downloads a browser.

import { readFileSync } from "node:fs";
import { parseArgs, runScript, signIn } from "./console.mjs";

await runScript("e2e-manager", async (page) => {
  const args = parseArgs(process.argv.slice(2), ["url", "username", "password-file", "incident", "expect-note"]);
  const password = readFileSync(args["password-file"], "utf8").replace(/\r?\n$/, "");
  const waitMs = Number(args["timeout-ms"] ?? 30_000);
  const incidentsTab = await signIn(page, args.url, args.username, password, "incidents");
  await incidentsTab.click();
  const row = page.locator(`.incident-list [data-incident-id="${args.incident}"] button`);
  await row.click({ timeout: 15_000 });
  await page.locator(`section.incident[data-incident-id="${args.incident}"] .timeline`).waitFor({ timeout: 15_000 });
  // Only now is the view listening for the note.
  process.stdout.write("ready\n");

  await page.locator("li.note", { hasText: args["expect-note"] }).first().waitFor({ timeout: waitMs });
  process.stdout.write(`seen ${Date.now()}\n`);
  if (args.screenshot) await page.screenshot({ path: args.screenshot, fullPage: true });
});
