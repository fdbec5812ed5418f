#!/usr/bin/env node
// Accounts in the browser console (tests/e2e): an IT admin and a guard, each in their own
// Chromium. The IT admin disables the guard (whose console signs out as it happens), enables
// them again and sets a new password; the guard signs in with it and changes it on their own
// My account tab (a wrong current password refused first); the IT admin adds a user and gives
// them another role. Prints a line for each step, as it happens:
//   disabled, guard-signed-out, enabled, password-set, guard-signed-in, wrong-current-refused,
//   guard-changed, added <username>, access-saved
// and `error <message>` (exit 1) on any failure.
//
//   node e2e/users.mjs --url https://127.0.0.1:PORT/ --admin U --admin-password-file F \
//        --guard U --guard-password-file F --reset-password-file F --own-password-file F \
//        --add USERNAME --site SITE [--screenshot PATH]
//
// Uses Debian's Chromium; never downloads a browser.

import { readFileSync, rmSync } from "node:fs";
import { openBrowser, parseArgs, runScript, signIn } from "./console.mjs";

const say = (line) => process.stdout.write(`${line}\n`);
const secret = (path) => readFileSync(path, "utf8").replace(/\r?\n$/, "");

await runScript("e2e-users-admin", async (page) => {
  const args = parseArgs(process.argv.slice(2), [
    "url",
    "admin",
    "admin-password-file",
    "guard",
    "guard-password-file",
    "reset-password-file",
    "own-password-file",
    "add",
    "site",
  ]);
  const reset = secret(args["reset-password-file"]);
  const own = secret(args["own-password-file"]);
  const guardBrowser = await openBrowser("e2e-users-guard");
  try {
    const guard = guardBrowser.page;
    await signIn(guard, args.url, args.guard, secret(args["guard-password-file"]), "alarms");

    const users = await signIn(page, args.url, args.admin, secret(args["admin-password-file"]), "users");
    await users.click();
    const row = page.locator(`tr[data-username="${args.guard}"]`);
    await row.locator("button").click({ timeout: 15_000 });
    const detail = page.locator(".user-detail");
    await detail.locator("[data-action=disable]").click();
    // Asked first, in place.
    await detail.locator("[data-action=disable-confirm]").click();
    await page.locator(`tr[data-username="${args.guard}"][data-state=disabled]`).waitFor({ timeout: 10_000 });
    say("disabled");
    // The guard's console hears it on its feed and signs out: the sign-in form is back.
    await guard.locator("input[name=username]").waitFor({ timeout: 10_000 });
    say("guard-signed-out");

    await detail.locator("[data-action=enable]").click();
    await page.locator(`tr[data-username="${args.guard}"][data-state=enabled]`).waitFor({ timeout: 10_000 });
    say("enabled");
    const form = detail.locator("form.reset-password");
    await form.locator("input[name=new-password]").fill(reset);
    await form.locator("input[name=new-password-again]").fill(reset);
    await form.locator("button[type=submit]").click();
    await detail.locator("[role=status]", { hasText: "Password set" }).waitFor({ timeout: 10_000 });
    say("password-set");

    const account = await signIn(guard, args.url, args.guard, reset, "account");
    say("guard-signed-in");
    await account.click();
    const change = guard.locator("form.change-password");
    const changeWith = async (current) => {
      await change.locator("input[name=current-password]").fill(current);
      await change.locator("input[name=new-password]").fill(own);
      await change.locator("input[name=new-password-again]").fill(own);
      await change.locator("button[type=submit]").click();
    };
    await changeWith(`${reset} (wrong)`);
    await change.locator(".error[data-code=hub_forbidden]").waitFor({ timeout: 10_000 });
    say("wrong-current-refused");
    await changeWith(reset);
    await change.locator("[role=status]", { hasText: "Password changed" }).waitFor({ timeout: 10_000 });
    say("guard-changed");

    const add = page.locator("form.add-user");
    await add.locator("input[name=username]").fill(args.add);
    await add.locator("input[name=display-name]").fill(`Night shift ${args.add}`);
    await add.locator("input[name=new-password]").fill(reset);
    await add.locator("input[name=new-password-again]").fill(reset);
    await add.locator("select[name=site]").selectOption(args.site);
    await add.locator("select[name=role]").selectOption("guard");
    await add.locator("button[type=submit]").click();
    const added = page.locator(`tr[data-username="${args.add}"]`);
    await added.waitFor({ timeout: 10_000 });
    say(`added ${args.add}`);
    await added.locator("button").click();
    const addedDetail = page.locator(".user-detail");
    await addedDetail.locator(`[data-grant-site="${args.site}"] select`).selectOption("supervisor");
    await addedDetail.locator("[data-action=save-grants]").click();
    await addedDetail.locator("[role=status]", { hasText: "Access saved" }).waitFor({ timeout: 10_000 });
    await page.locator(`tr[data-username="${args.add}"]`, { hasText: "Supervisor" }).waitFor({ timeout: 10_000 });
    say("access-saved");
    if (args.screenshot) await page.screenshot({ path: args.screenshot, fullPage: true });
  } finally {
    await guardBrowser.context.close().catch(() => undefined);
    rmSync(guardBrowser.profile, { recursive: true, force: true });
  }
});
