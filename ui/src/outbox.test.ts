import { describe, expect, it } from "vitest";
import { outboxSummary } from "./outbox";
import type { OutboxItem } from "./generated/app";

const item = (id: string, failed: boolean, last_error: string | null = null): OutboxItem => ({
  id,
  hub: "https://hub", username: "guard", created_ms: 1,
  method: "POST",
  path: `/incidents/i1/notes`,
  summary: `Note ${id}`,
  attempts: failed ? 1 : 0,
  last_error,
  failed,
});

describe("outbox summary", () => {
  it("says all is delivered when nothing waits, also before the first answer", () => {
    expect(outboxSummary(null)).toMatchObject({ count: 0, waiting: 0, text: "all delivered", symbol: "✓" });
    expect(outboxSummary({ items: [] }).failed).toEqual([]);
  });

  it("counts what waits for the hub", () => {
    const summary = outboxSummary({ items: [item("a", false), item("b", false)] });
    expect(summary).toMatchObject({ count: 2, waiting: 2, text: "2 waiting for the hub", symbol: "⧗" });
  });

  it("shows refused writes apart, with their reasons, and marks the whole as failed", () => {
    const refused = item("c", true, "not allowed: close-alarm");
    const summary = outboxSummary({ items: [item("a", false), refused] });
    expect(summary.count).toBe(2);
    expect(summary.waiting).toBe(1);
    expect(summary.failed).toEqual([refused]);
    expect(summary.text).toBe("1 waiting for the hub · 1 failed");
    expect(summary.symbol).toBe("✖");
  });
});
