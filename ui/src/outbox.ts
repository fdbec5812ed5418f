// The app's outbox as the status bar shows it: writes waiting for the hub, and those that failed.

import type { OutboxItem, OutboxView } from "./generated/app";

export interface OutboxSummary {
  /** Every item still in the outbox, failed ones included. */
  count: number;
  waiting: number;
  failed: OutboxItem[];
  symbol: string;
  text: string;
}

export function outboxSummary(view: OutboxView | null): OutboxSummary {
  const items = view?.items ?? [];
  const failed = items.filter((i) => i.failed);
  const waiting = items.length - failed.length;
  const parts: string[] = [];
  if (waiting > 0) parts.push(`${waiting} waiting for the hub`);
  if (failed.length > 0) parts.push(`${failed.length} failed`);
  return {
    count: items.length,
    waiting,
    failed,
    symbol: failed.length > 0 ? "✖" : waiting > 0 ? "⧗" : "✓",
    text: parts.length === 0 ? "all delivered" : parts.join(" · "),
  };
}
