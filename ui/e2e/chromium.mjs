// Debian's Chromium for the browser scripts (benchmark, end-to-end), started the way this
// machine allows: headless, no sandbox as root, no GPU, and no background network traffic
// (the network is closed; Chromium's own calls would only fail and retry).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

/** A fresh persistent context in a new profile folder; `extra` adds launch options. */
export async function launch(name, extra = {}) {
  const profile = mkdtempSync(join(tmpdir(), `wf-${name}-`));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1400, height: 900 },
    ...extra,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      ...(extra.args ?? []),
    ],
  });
  return { context, profile };
}
