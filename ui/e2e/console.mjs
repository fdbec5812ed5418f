// What the browser scripts of the end-to-end test share: their arguments, Chromium with the
// page's errors on stderr, and signing in through the console's own form.
import { rmSync } from "node:fs";
import { launch } from "./chromium.mjs";

/** `--name value` pairs; each of `required` must be there. */
export function parseArgs(argv, required) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i];
    if (!name.startsWith("--") || argv[i + 1] === undefined) throw new Error(`bad argument ${name}`);
    out[name.slice(2)] = argv[i + 1];
  }
  for (const need of required) {
    if (!out[need]) throw new Error(`--${need} is required`);
  }
  return out;
}

/** Chromium on a fresh profile (the hub's test certificate accepted) and its page, whose
 *  console errors and page errors go to stderr. */
export async function openBrowser(name) {
  const { context, profile } = await launch(name, { ignoreHTTPSErrors: true, args: ["--ignore-certificate-errors"] });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (m) => {
    if (m.type() === "error") process.stderr.write(`console error: ${m.text()}\n`);
  });
  page.on("pageerror", (e) => process.stderr.write(`page error: ${e.message}\n`));
  return { context, profile, page };
}

/** Signs in at `url` through the console's form (in a browser it has no hub field: same
 *  origin); resolves once the console shows `tab`. */
export async function signIn(page, url, username, password, tab) {
  await page.goto(url);
  await page.locator("input[name=username]").fill(username, { timeout: 15_000 });
  await page.locator("input[name=password]").fill(password);
  await page.locator("form button[type=submit]").click();
  const shown = page.locator(`[data-tab="${tab}"]`);
  try {
    await shown.waitFor({ timeout: 15_000 });
  } catch {
    const problem = await page.locator(".sign-in .error").textContent().catch(() => null);
    throw new Error(`sign-in did not complete${problem ? `: ${problem}` : ""}`);
  }
  return shown;
}

/** Fills the `datetime-local` field `field` with the instant `ms` in the browser's local time,
 *  to the second. Written as the browser writes it back (without ":00" seconds), or Playwright
 *  refuses the value it reads back as malformed. */
export async function fillInstant(field, ms) {
  const value = await field.evaluate((_, ms) => {
    const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
    return d.toISOString().slice(0, 19).replace(/:00$/, "");
  }, Number(ms));
  await field.fill(value);
}

/** Runs a browser script: `body(page)` on a fresh Chromium named `name`; it answers the exit
 *  code (0 when it says nothing). Any failure prints `error <message>` and exits 1; the browser
 *  and its profile go in any case. */
export async function runScript(name, body) {
  let context;
  let profile;
  let code = 0;
  try {
    let page;
    ({ context, profile, page } = await openBrowser(name));
    code = (await body(page)) ?? 0;
  } catch (e) {
    process.stdout.write(`error ${(e instanceof Error ? e.message : String(e)).split("\n")[0]}\n`);
    code = 1;
  } finally {
    await context?.close().catch(() => undefined);
    if (profile) rmSync(profile, { recursive: true, force: true });
  }
  process.exit(code);
}
