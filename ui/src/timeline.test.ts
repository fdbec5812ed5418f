import { describe, expect, it } from "vitest";
import { clockAt, jump, marksOf, place, rateLabel, windowAround } from "./timeline";
import type { Alarm, Bookmark } from "./generated/hub";

const alarm = (id: string, raised: string, cameras: string[]): Alarm =>
  ({ id, site: "hq", rule: "r", event: "e", door: null, title: `Alarm ${id}`, priority: 1, procedure: "", cameras, state: "new", raised }) as unknown as Alarm;
const bookmark = (id: string, at: string, camera: string): Bookmark => ({
  id,
  site: "hq",
  camera,
  at,
  to: null,
  note: `note ${id}`,
  incident: null,
  created_by: "guard",
  created: at,
});

describe("timeline", () => {
  it("runs the clock at its rate between updates, stands when paused, never passes live", () => {
    const view = { at_ms: 10_000, rate: 4, paused: false, starting: false };
    expect(clockAt(view, 1_000, 1_500, 1e9)).toBe(12_000);
    expect(clockAt({ ...view, paused: true }, 1_000, 1_500, 1e9)).toBe(10_000);
    expect(clockAt({ ...view, starting: true }, 1_000, 1_500, 1e9)).toBe(10_000);
    expect(clockAt(view, 1_000, 1_500, 11_000)).toBe(11_000);
    expect(clockAt({ ...view, paused: true }, 1_000, 1_500, 9_000)).toBe(9_000);
    expect(clockAt(view, 1_000, 900, 1e9)).toBe(10_000);
  });

  it("shows a stretch around the clock that ends at live at the latest", () => {
    expect(windowAround(100_000, 1e9, 20_000)).toEqual({ from: 90_000, to: 110_000 });
    expect(windowAround(100_000, 105_000, 20_000)).toEqual({ from: 85_000, to: 105_000 });
  });

  it("places a stretch on the bar by the part of it the bar shows", () => {
    const span = { from: 1_000, to: 2_000 };
    expect(place(500, 1_500, span)).toEqual({ left: "0.000%", width: "50.000%" });
    expect(place(1_250, 1_500, span)).toEqual({ left: "25.000%", width: "25.000%" });
    expect(place(0, 5_000, span)).toEqual({ left: "0.000%", width: "100.000%" });
    expect(place(2_500, 3_000, span)).toBeNull();
    expect(place(0, 900, span)).toBeNull();
  });

  it("jumps between the wall's cameras' alarms and bookmarks, oldest first", () => {
    const marks = marksOf(
      [alarm("a1", "2026-11-28T08:00:10Z", ["cam01"]), alarm("a2", "2026-11-28T08:00:40Z", ["cam09"])],
      [bookmark("b1", "2026-11-28T08:00:20Z", "cam02"), bookmark("b2", "2026-11-28T08:00:30Z", "cam07")],
      ["cam01", "cam02"],
    );
    expect(marks.map((m) => m.id)).toEqual(["a1", "b1"]);
    const at = Date.parse("2026-11-28T08:00:15Z");
    expect(jump(marks, at, "next")?.id).toBe("b1");
    expect(jump(marks, at, "previous")?.id).toBe("a1");
    // Standing on a mark, "previous" goes to the one before it.
    expect(jump(marks, marks[1]!.atMs, "previous")?.id).toBe("a1");
    expect(jump(marks, marks[0]!.atMs, "previous")).toBeNull();
    expect(jump(marks, marks[1]!.atMs, "next")).toBeNull();
  });

  it("writes speeds as people do", () => {
    expect([0.25, 0.5, 1, 16].map(rateLabel)).toEqual(["¼×", "½×", "1×", "16×"]);
  });
});
