#!/usr/bin/env node
// Scroll benchmark of the event list: serves ui/dist (build it first with `npm run build`),
// opens bench.html (the list alone, 50,000 synthetic rows plus live inserts) in Debian's
// Chromium, scrolls through the list for ~3 s with requestAnimationFrame, and prints frame
// times and how many rows are in the DOM. Exits non-zero if the page errors or the DOM holds
// more than MAX_DOM_ROWS rows.
//
//   node bench/event-list.mjs [--rows 50000] [--seconds 3]

import { createServer } from "node:http";
import { readFileSync, rmSync, statSync } from "node:fs";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { launch } from "../e2e/chromium.mjs";

const MAX_DOM_ROWS = 200;
const FRAME_MS = 1000 / 60;
const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] ? args[at + 1] : fallback;
};
const rows = Number(arg("rows", "50000"));
const seconds = Number(arg("seconds", "3"));

const dist = fileURLToPath(new URL("../dist/", import.meta.url));
try {
  statSync(join(dist, "bench.html"));
} catch {
  console.error("ui/dist/bench.html is missing: run `npm run build` first");
  process.exit(2);
}

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".map": "application/json", ".svg": "image/svg+xml" };
const server = createServer((req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)).replace(/^[/\\]+/, "");
  if (path === "favicon.ico") {
    res.writeHead(204).end();
    return;
  }
  const file = join(dist, path || "bench.html");
  if (!file.startsWith(dist) || file.includes(`..${sep}`)) {
    res.writeHead(404).end();
    return;
  }
  try {
    const body = readFileSync(file);
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
const port = server.address().port;

let profile;
let context;
let failed = null;
try {
  ({ context, profile } = await launch("bench"));
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("pageerror", (e) => {
    failed = `page error: ${e.message}`;
  });
  page.on("console", (m) => {
    if (m.type() === "error") failed = `console error: ${m.text()}`;
  });
  await page.goto(`http://127.0.0.1:${port}/bench.html?rows=${rows}`);
  await page.waitForFunction(() => window.benchReady === true, null, { timeout: 30_000 });
  await page.waitForSelector(".event-row");

  const result = await page.evaluate(
    async ({ seconds }) => {
      const scroller = document.querySelector(".event-scroller");
      const total = scroller.scrollHeight - scroller.clientHeight;
      const frames = [];
      let maxRows = 0;
      const insertedBefore = window.benchInserted ?? 0;
      await new Promise((done) => {
        const start = performance.now();
        let last = start;
        const step = (now) => {
          frames.push(now - last);
          last = now;
          const t = (now - start) / (seconds * 1000);
          // Down through the whole list and back up, as an operator flinging the wheel would.
          const f = t < 0.5 ? t * 2 : 2 - t * 2;
          scroller.scrollTop = Math.round(f * total);
          maxRows = Math.max(maxRows, scroller.querySelectorAll(".event-row").length);
          if (t < 1) requestAnimationFrame(step);
          else done();
        };
        requestAnimationFrame((now) => {
          last = now;
          requestAnimationFrame(step);
        });
      });
      return {
        frames,
        maxRows,
        rowsShown: Number(document.querySelector("[data-row-count]")?.getAttribute("data-row-count")),
        inserted: (window.benchInserted ?? 0) - insertedBefore,
        scrollHeight: scroller.scrollHeight,
      };
    },
    { seconds },
  );

  const sorted = [...result.frames].sort((a, b) => a - b);
  const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  const p50 = pct(50);
  const p95 = pct(95);
  const max = sorted[sorted.length - 1];
  console.log(`rows in the list:      ${result.rowsShown} (${rows} synthetic + live)`);
  console.log(`live rows inserted:    ${result.inserted} during the scroll`);
  console.log(`frames:                ${result.frames.length} in ${seconds} s`);
  console.log(`frame time p50:        ${p50.toFixed(1)} ms`);
  console.log(`frame time p95:        ${p95.toFixed(1)} ms`);
  console.log(`frame time max:        ${max.toFixed(1)} ms`);
  console.log(`p95 / 16.7 ms frame:   ${(p95 / FRAME_MS).toFixed(2)}`);
  console.log(`rows in the DOM (max): ${result.maxRows}`);
  if (result.maxRows > MAX_DOM_ROWS) failed ??= `${result.maxRows} rows in the DOM, more than ${MAX_DOM_ROWS}: the list is not virtualised`;
  if (result.rowsShown < rows) failed ??= `only ${result.rowsShown} rows in the list, expected at least ${rows}`;
} catch (e) {
  failed ??= e instanceof Error ? e.message : String(e);
} finally {
  await context?.close();
  server.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
}
if (failed) {
  console.error(`FAILED: ${failed}`);
  process.exit(1);
}
