import { describe, expect, it } from "vitest";
import { gridNow, keepTo, seekWithin, setPlaying, setRate, step } from "./gridClock";

describe("the grid's clock", () => {
  it("runs from its instant while playing and stands still while paused", () => {
    const paused = { atMs: 1_000_000, sinceMs: 50, playing: false, rate: 1 };
    expect(gridNow(paused, 5_000)).toBe(1_000_000);
    const playing = setPlaying(paused, true, 100);
    expect(gridNow(playing, 100)).toBe(1_000_000);
    expect(gridNow(playing, 2_100)).toBe(1_002_000);
    // A page clock read before the start never runs it backwards.
    expect(gridNow(playing, 0)).toBe(1_000_000);
    const stopped = setPlaying(playing, false, 3_100);
    expect(gridNow(stopped, 10_000)).toBe(1_003_000);
  });

  it("runs at its speed from where it is, and steps a frame either way, paused", () => {
    const playing = { atMs: 1_000_000, sinceMs: 0, playing: true, rate: 1 };
    const fast = setRate(playing, 4, 1_000);
    expect(gridNow(fast, 1_000)).toBe(1_001_000);
    expect(gridNow(fast, 2_000)).toBe(1_005_000);
    const quarter = setRate(fast, 0.25, 2_000);
    expect(gridNow(quarter, 6_000)).toBe(1_006_000);
    // Paused, the speed is kept for the next play.
    const stopped = setPlaying(quarter, false, 6_000);
    expect(stopped.rate).toBe(0.25);
    expect(gridNow(stopped, 60_000)).toBe(1_006_000);
    const ahead = step(playing, 1, 66, 1_000);
    expect(ahead).toMatchObject({ atMs: 1_001_066, playing: false, rate: 1 });
    expect(gridNow(step(ahead, -2, 66, 9_000), 20_000)).toBe(1_000_934);
  });

  it("keeps a view on it: alone within half a frame, faster or slower nearby, a jump far behind, a wait far ahead", () => {
    expect(keepTo(10_000, 9_980, 66)).toEqual({ kind: "rate", rate: 1 });
    expect(keepTo(10_000, 9_800, 66)).toEqual({ kind: "rate", rate: 1.1 });
    expect(keepTo(10_000, 10_400, 66)).toEqual({ kind: "rate", rate: 0.8 });
    expect(keepTo(10_000, 6_000, 66)).toEqual({ kind: "jump", toMs: 10_000 });
    // Far ahead (a gap in its recording): it waits for the clock rather than jumping back.
    expect(keepTo(10_000, 14_000, 66)).toEqual({ kind: "wait" });
    // At 4x: the clock's speed, and a drift made good over the same real time (a wider gap).
    expect(keepTo(10_000, 9_980, 66, 4)).toEqual({ kind: "rate", rate: 4 });
    expect(keepTo(10_000, 9_200, 66, 4)).toEqual({ kind: "rate", rate: 4.4 });
    expect(keepTo(10_000, 6_000, 66, 4)).toEqual({ kind: "rate", rate: 6 });
    expect(keepTo(20_000, 6_000, 66, 4)).toEqual({ kind: "jump", toMs: 20_000 });
    // At 16x no browser plays faster: a view behind by more than the catch-up is shown again
    // where the clock is, and no rate asked for is beyond what a browser takes.
    expect(keepTo(10_000, 9_980, 66, 16)).toEqual({ kind: "rate", rate: 16 });
    expect(keepTo(10_000, 7_000, 66, 16)).toEqual({ kind: "jump", toMs: 10_000 });
    expect(keepTo(10_000, 9_000, 66, 16)).toEqual({ kind: "rate", rate: 16 });
    expect(keepTo(10_000, 10_400, 66, 0.0625)).toEqual({ kind: "rate", rate: 0.0625 });
  });

  it("moves a paused view within what it has buffered, and only there", () => {
    expect(seekWithin(5, 10_000, 10_500, [[0, 8]])).toBeCloseTo(5.5);
    expect(seekWithin(5, 10_000, 9_000, [[0, 8]])).toBeCloseTo(4);
    expect(seekWithin(5, 10_000, 14_000, [[0, 8]])).toBeNull();
    expect(seekWithin(5, 10_000, 14_000, [[0, 8], [8.5, 12]])).toBeCloseTo(9);
  });
});
