// The event list alone with 50,000 synthetic rows and live inserts, for bench/event-list.mjs.
// Not part of the console: a second Vite entry (bench.html).

import { useEffect } from "react";
import { createRoot } from "react-dom/client";
import { EventList, useRowBuffer } from "./EventList";
import { syntheticRows } from "./events";

declare global {
  interface Window {
    benchReady?: boolean;
    benchInserted?: number;
  }
}

const ROWS = Number(new URLSearchParams(window.location.search).get("rows") ?? 50_000);
const INSERT_EVERY_MS = 50;

function Bench() {
  const { buffer, version, push, setFilter } = useRowBuffer();
  useEffect(() => {
    push(syntheticRows(ROWS, 1));
    let n = 0;
    // Live rows, newer than all synthetic ones, a few at a time as the feed brings them.
    const timer = setInterval(() => {
      const rows = syntheticRows(3, 1000 + n, Date.UTC(2026, 0, 1) + n * 10_000);
      n += 1;
      window.benchInserted = (window.benchInserted ?? 0) + rows.length;
      push(rows);
    }, INSERT_EVERY_MS);
    requestAnimationFrame(() => requestAnimationFrame(() => (window.benchReady = true)));
    return () => clearInterval(timer);
  }, [push]);
  return (
    <div className="bench">
      <EventList
        buffer={buffer}
        version={version}
        sites={[
          { id: "demo-hq", name: "Demo HQ" },
          { id: "depot", name: "Depot" },
        ]}
        onFilter={setFilter}
      />
    </div>
  );
}

const root = document.getElementById("root");
if (!root) throw new Error("bench.html has no #root");
createRoot(root).render(<Bench />);
