import { describe, expect, it } from "vitest";
import { RowBuffer, alarmRow, eventRow, filterRows, listWindow, scrollToRow, syntheticRows, type ListRow } from "./events";
import type { Alarm, Event as HubEvent } from "./generated/hub";

const event = (id: string, time: string, more: Partial<HubEvent> = {}): HubEvent => ({
  id,
  site: "hq",
  source: "webhook:ctl",
  kind: "access-granted",
  type: "AccessGranted",
  topic: null,
  door: "d1",
  camera: null,
  time,
  received: time,
  body: {},
  ...more,
});

const alarm = (id: string, priority: number, more: Partial<Alarm> = {}): Alarm => ({
  id,
  site: "hq",
  rule: "r",
  event: "e",
  door: "d2",
  title: "Door forced open",
  priority,
  procedure: "Send a guard",
  cameras: [],
  state: "new",
  raised: "2025-01-01T00:00:05Z",
  repeats: 0,
  last_repeat: null,
  acknowledged_by: null,
  acknowledged: null,
  acknowledge_comment: null,
  forwarded_to: null,
  closed_by: null,
  closed: null,
  close_comment: null,
  ...more,
});

describe("windowing", () => {
  it("renders the visible rows and the overscan, no more", () => {
    expect(listWindow(0, 280, 28, 50_000, 5)).toEqual({ first: 0, last: 15, height: 1_400_000 });
    expect(listWindow(2800, 280, 28, 50_000, 5)).toEqual({ first: 95, last: 115, height: 1_400_000 });
  });
  it("counts a partly visible row", () => {
    expect(listWindow(14, 280, 28, 100, 0)).toMatchObject({ first: 0, last: 11 });
  });
  it("clamps at both ends and past the end", () => {
    expect(listWindow(-50, 280, 28, 100, 5)).toMatchObject({ first: 0, last: 15 });
    expect(listWindow(1e9, 280, 28, 100, 5)).toMatchObject({ first: 85, last: 100 });
    expect(listWindow(0, 280, 28, 3, 5)).toMatchObject({ first: 0, last: 3 });
  });
  it("handles empty lists and empty viewports", () => {
    expect(listWindow(0, 280, 28, 0)).toEqual({ first: 0, last: 0, height: 0 });
    expect(listWindow(0, 0, 28, 10, 2)).toMatchObject({ first: 0, last: 3 });
  });
  it("keeps the DOM small whatever the list's length", () => {
    for (const count of [10, 1000, 50_000, 100_000]) {
      for (const top of [0, 12_345, 1_000_000]) {
        const w = listWindow(top, 900, 28, count, 8);
        expect(w.last - w.first).toBeLessThanOrEqual(Math.ceil(900 / 28) + 1 + 16);
      }
    }
  });
  it("scrolls a row into view only when needed", () => {
    expect(scrollToRow(0, 280, 280, 28)).toBe(0);
    expect(scrollToRow(20, 0, 280, 28)).toBe(20 * 28 + 28 - 280);
    expect(scrollToRow(5, 0, 280, 28)).toBe(0);
  });
});

describe("filters", () => {
  const rows: ListRow[] = [
    eventRow(event("1", "2025-01-01T00:00:00Z")),
    eventRow(event("2", "2025-01-01T00:01:00Z", { kind: "access-denied", door: "d2", site: "depot" })),
    alarmRow(alarm("a1", 1)),
    alarmRow(alarm("a3", 3, { site: "depot" })),
  ];
  it("keeps everything without a filter", () => {
    expect(filterRows(rows, {})).toHaveLength(4);
  });
  it("filters on site, type and door", () => {
    expect(filterRows(rows, { site: "depot" }).map((r) => r.id)).toEqual(["2", "a3"]);
    expect(filterRows(rows, { type: "access-denied" }).map((r) => r.id)).toEqual(["2"]);
    expect(filterRows(rows, { type: "alarm" }).map((r) => r.id)).toEqual(["a1", "a3"]);
    expect(filterRows(rows, { door: "d2" }).map((r) => r.id)).toEqual(["2", "a1", "a3"]);
  });
  it("filters alarms by priority: that one or more urgent; events drop out", () => {
    expect(filterRows(rows, { priority: 1 }).map((r) => r.id)).toEqual(["a1"]);
    expect(filterRows(rows, { priority: 3 }).map((r) => r.id)).toEqual(["a1", "a3"]);
  });
  it("filters on a time range, from inclusive, to exclusive", () => {
    const from = Date.parse("2025-01-01T00:00:00Z");
    const to = Date.parse("2025-01-01T00:01:00Z");
    expect(filterRows(rows, { from, to }).map((r) => r.id)).toEqual(["1", "a1", "a3"]);
    expect(filterRows(rows, { from: to }).map((r) => r.id)).toEqual(["2"]);
  });
  it("reads the event type under `type` or `event_type`", () => {
    expect(eventRow(event("x", "2025-01-01T00:00:00Z")).title).toBe("AccessGranted");
    const old = { ...event("y", "2025-01-01T00:00:00Z"), type: undefined, event_type: "DoorAlarm" } as unknown as HubEvent;
    expect(eventRow(old).title).toBe("DoorAlarm");
  });
});

describe("row buffer", () => {
  const at = (b: RowBuffer) => Array.from({ length: b.shown }, (_, i) => b.shownAt(i)?.id);
  it("shows newest first and takes rows in any order", () => {
    const b = new RowBuffer(100);
    b.push([eventRow(event("2", "2025-01-01T00:02:00Z")), eventRow(event("1", "2025-01-01T00:01:00Z"))]);
    b.push([eventRow(event("3", "2025-01-01T00:03:00Z"))]);
    b.push([eventRow(event("0", "2025-01-01T00:00:00Z"))]);
    expect(at(b)).toEqual(["3", "2", "1", "0"]);
  });
  it("finds a row's place, newest first, whichever end rows arrive at (the scroll anchor)", () => {
    const b = new RowBuffer(100);
    b.push([eventRow(event("2", "2025-01-01T00:02:00Z")), eventRow(event("1", "2025-01-01T00:01:00Z"))]);
    const key = b.shownAt(1)?.key ?? "";
    expect(b.shownIndexOf(key)).toBe(1);
    b.push([eventRow(event("0", "2025-01-01T00:00:00Z"))]);
    expect(b.shownIndexOf(key)).toBe(1);
    b.push([eventRow(event("3", "2025-01-01T00:03:00Z"))]);
    expect(b.shownIndexOf(key)).toBe(2);
    b.setFilter({ type: "alarm" });
    expect(b.shownIndexOf(key)).toBe(-1);
    expect(b.shownIndexOf("nothing")).toBe(-1);
  });
  it("replaces an alarm by id, in place", () => {
    const b = new RowBuffer(100);
    b.push([alarmRow(alarm("a", 1)), eventRow(event("1", "2025-01-01T00:09:00Z"))]);
    b.push([alarmRow(alarm("a", 1, { state: "acknowledged" }))]);
    expect(b.size).toBe(2);
    expect(b.shownAt(1)?.state).toBe("acknowledged");
  });
  it("keeps the filter as rows arrive", () => {
    const b = new RowBuffer(100);
    b.setFilter({ type: "alarm" });
    b.push([eventRow(event("1", "2025-01-01T00:00:00Z")), alarmRow(alarm("a", 2))]);
    expect(at(b)).toEqual(["a"]);
    b.push([alarmRow(alarm("b", 2, { raised: "2025-01-01T01:00:00Z" }))]);
    expect(at(b)).toEqual(["b", "a"]);
    b.setFilter({});
    expect(b.shown).toBe(3);
  });
  it("stays bounded: the oldest go first", () => {
    const b = new RowBuffer(1000);
    for (let i = 0; i < 10; i++) b.push(syntheticRows(500, i + 1, Date.UTC(2025, 0, 1) + i * 1e9));
    expect(b.size).toBeLessThanOrEqual(1000);
    expect(b.size).toBeGreaterThanOrEqual(900);
    expect(b.shown).toBe(b.size);
    // The newest batch is all there.
    expect(b.shownAt(0)?.id).toBe("syn-10-499");
  });
  it("makes the same synthetic rows from the same seed", () => {
    expect(syntheticRows(50, 7)).toEqual(syntheticRows(50, 7));
    expect(syntheticRows(50, 7)).not.toEqual(syntheticRows(50, 8));
  });
});
