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

import { readFileSync, rmSync } from "node:fs";
import { launch } from "./chromium.mjs";

function parse(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i];
    if (!name.startsWith("--")) throw new Error(`unexpected argument ${name}`);
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${name} needs a value`);
    out[name.slice(2)] = value;
    i++;
  }
  for (const need of ["url", "username", "password-file", "incident", "expect-note"]) {
    if (!out[need]) throw new Error(`--${need} is required`);
  }
  return out;
}

let context;
let profile;
let code = 0;
try {
  const args = parse(process.argv.slice(2));
  const password = readFileSync(args["password-file"], "utf8").replace(/\r?\n$/, "");
  const waitMs = Number(args["timeout-ms"] ?? 30_000);
  ({ context, profile } = await launch("e2e-manager", {
    ignoreHTTPSErrors: true,
    args: ["--ignore-certificate-errors"],
  }));
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (m) => {
    if (m.type() === "error") process.stderr.write(`console error: ${m.text()}\n`);
  });
  page.on("pageerror", (e) => process.stderr.write(`page error: ${e.message}\n`));

  await page.goto(args.url);
  // Sign in through the console's own form (in a browser it has no hub field: same origin).
  await page.locator("input[name=username]").fill(args.username, { timeout: 15_000 });
  await page.locator("input[name=password]").fill(password);
  await page.locator("form button[type=submit]").click();
  const incidentsTab = page.locator('[data-tab="incidents"]');
  try {
    await incidentsTab.waitFor({ timeout: 15_000 });
  } catch {
    const problem = await page.locator(".sign-in .error").textContent().catch(() => null);
    throw new Error(`sign-in did not complete${problem ? `: ${problem}` : ""}`);
  }
  await incidentsTab.click();
  const row = page.locator(`.incident-list [data-incident-id="${args.incident}"] button`);
  await row.click({ timeout: 15_000 });
  await page.locator(`section.incident[data-incident-id="${args.incident}"] .timeline`).waitFor({ timeout: 15_000 });
  // Only now is the view listening for the note.
  process.stdout.write("ready\n");

  await page.locator("li.note", { hasText: args["expect-note"] }).first().waitFor({ timeout: waitMs });
  process.stdout.write(`seen ${Date.now()}\n`);
  if (args.screenshot) await page.screenshot({ path: args.screenshot, fullPage: true });
} catch (e) {
  process.stdout.write(`error ${(e instanceof Error ? e.message : String(e)).split("\n")[0]}\n`);
  code = 1;
} finally {
  await context?.close().catch(() => undefined);
  if (profile) rmSync(profile, { recursive: true, force: true });
}
process.exit(code);
