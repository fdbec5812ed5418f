// One clock over the browser's video views (the 2x2 grid), as the app's wall in playback has:
// the views are shown together from one instant, played and paused together, and a view that
// drifts from the clock is brought back, gently (a slightly faster or slower rate) when it is
// near, by showing it again where the clock is when it is far.

/** Where the grid's playback stands: at `atMs` (a capture time, Unix ms) when the page's clock
 *  read `sinceMs`, and running from there at `rate` (times real time) or not. */
export interface GridClock {
  atMs: number;
  sinceMs: number;
  playing: boolean;
  rate: number;
}

/** The capture time the clock is at when the page's clock reads `nowMs`. */
export function gridNow(clock: GridClock, nowMs: number): number {
  return clock.playing ? clock.atMs + Math.max(0, nowMs - clock.sinceMs) * clock.rate : clock.atMs;
}

/** The clock started, or stopped, at the instant it is at `nowMs`. */
export function setPlaying(clock: GridClock, playing: boolean, nowMs: number): GridClock {
  return { ...clock, atMs: gridNow(clock, nowMs), sinceMs: nowMs, playing };
}

/** The clock at another speed from the instant it is at `nowMs`. */
export function setRate(clock: GridClock, rate: number, nowMs: number): GridClock {
  return { ...clock, atMs: gridNow(clock, nowMs), sinceMs: nowMs, rate };
}

/** The clock paused `frames` frame intervals of `frameMs` from where it is at `nowMs` (back
 *  when negative). */
export function step(clock: GridClock, frames: number, frameMs: number, nowMs: number): GridClock {
  return { ...clock, atMs: gridNow(clock, nowMs) + frames * frameMs, sinceMs: nowMs, playing: false };
}

/** What a view does to keep to the clock: play at `rate`, be shown again at `toMs` (far
 *  behind), or stand still until the clock reaches it (far ahead: a gap in its recording,
 *  which showing it again would only skip again). */
export type Keep = { kind: "rate"; rate: number } | { kind: "jump"; toMs: number } | { kind: "wait" };

/** A drift is made good over about this long; beyond it, the view is shown again. */
export const CATCH_UP_MS = 2_000;

/** How a view showing `ownMs` keeps to a clock at `gridMs` running at `rate`: within half a
 *  frame interval it plays at the clock's speed; nearer than `CATCH_UP_MS` of real time it
 *  plays faster (behind) or slower (ahead) to close the gap over about that long; further
 *  behind it jumps, further ahead it waits. */
export function keepTo(gridMs: number, ownMs: number, frameMs: number, rate = 1): Keep {
  const behind = gridMs - ownMs;
  // A gap made good over CATCH_UP_MS of real time spans that much more video when faster.
  const window = CATCH_UP_MS * Math.max(1, rate);
  if (Math.abs(behind) <= frameMs / 2) return { kind: "rate", rate: playable(rate) };
  if (behind > window) return { kind: "jump", toMs: gridMs };
  if (behind < -window) return { kind: "wait" };
  const wanted = rate * Math.min(1.5, Math.max(0.5, 1 + behind / window));
  // Behind at a speed no browser plays faster than: shown again where the clock is.
  if (wanted > MAX_RATE && behind > CATCH_UP_MS) return { kind: "jump", toMs: gridMs };
  return { kind: "rate", rate: playable(wanted) };
}

/** The fastest and slowest a browser plays (Chromium refuses more, Firefox mutes). */
export const MAX_RATE = 16;
export const MIN_RATE = 1 / 16;

/** `rate` within what a browser plays. */
function playable(rate: number): number {
  return Math.min(MAX_RATE, Math.max(MIN_RATE, rate));
}

/** Where a paused view goes to show the clock's instant: the media time `currentS` moved by
 *  the gap, when that time is buffered (`ranges`, start and end in s); `null` when it is not
 *  (the view is shown again from the instant). */
export function seekWithin(currentS: number, ownMs: number, gridMs: number, ranges: [number, number][]): number | null {
  const target = currentS + (gridMs - ownMs) / 1000;
  return ranges.some(([start, end]) => target >= start && target <= end) ? target : null;
}
