// The playback timeline's arithmetic: where the wall's clock stands between updates, the
// stretch of time the bar shows, and the alarms and bookmarks to jump between.

import type { PlaybackView } from "./generated/app";
import type { Alarm, Bookmark } from "./generated/hub";

/** Something on the timeline to jump to. */
export interface Mark {
  atMs: number;
  kind: "alarm" | "bookmark";
  id: string;
  camera: string;
  label: string;
}

/** Where the clock stands `nowMs` (performance or wall time, as `sinceMs`) after the view
 *  taken at `sinceMs`: it runs at its rate unless paused, and never past `liveMs` (now). */
export function clockAt(view: PlaybackView, sinceMs: number, nowMs: number, liveMs: number): number {
  if (view.paused || view.starting) return Math.min(view.at_ms, liveMs);
  return Math.min(view.at_ms + Math.max(0, nowMs - sinceMs) * view.rate, liveMs);
}

/** Where a stretch from `from` to `to` (Unix ms) lies on a bar showing `span`, as percentages
 *  of its width; `null` when none of it is on the bar. */
export function place(from: number, to: number, span: { from: number; to: number }): { left: string; width: string } | null {
  const start = Math.max(from, span.from);
  const end = Math.min(to, span.to);
  if (!(end > start) || !(span.to > span.from)) return null;
  const percent = (ms: number) => `${((ms / (span.to - span.from)) * 100).toFixed(3)}%`;
  return { left: percent(start - span.from), width: percent(end - start) };
}

/** The stretch the bar shows: `spanMs` around `atMs`, ending at live at the latest. */
export function windowAround(atMs: number, liveMs: number, spanMs: number): { from: number; to: number } {
  const to = Math.min(liveMs, atMs + spanMs / 2);
  return { from: to - spanMs, to };
}

/** The alarms and bookmarks of `cameras`, oldest first. */
export function marksOf(alarms: Alarm[], bookmarks: Bookmark[], cameras: string[]): Mark[] {
  const on = new Set(cameras);
  const marks: Mark[] = [];
  for (const alarm of alarms) {
    const camera = alarm.cameras.find((c) => on.has(c));
    if (camera) marks.push({ atMs: Date.parse(alarm.raised), kind: "alarm", id: alarm.id, camera, label: alarm.title });
  }
  for (const bookmark of bookmarks) {
    if (on.has(bookmark.camera)) {
      marks.push({ atMs: Date.parse(bookmark.at), kind: "bookmark", id: bookmark.id, camera: bookmark.camera, label: bookmark.note });
    }
  }
  return marks.filter((m) => Number.isFinite(m.atMs)).sort((a, b) => a.atMs - b.atMs || a.id.localeCompare(b.id));
}

/** The mark to jump to from `atMs`: the next one after it, or the previous one before it.
 *  A mark within `slackMs` of the clock counts as where it stands (pressing "previous" twice
 *  goes further back, not to the same mark again). */
export function jump(marks: Mark[], atMs: number, direction: "previous" | "next", slackMs = 1500): Mark | null {
  if (direction === "next") return marks.find((m) => m.atMs > atMs + slackMs) ?? null;
  return [...marks].reverse().find((m) => m.atMs < atMs - slackMs) ?? null;
}

/** Speeds the playback offers, times real time. */
export const RATES = [0.25, 0.5, 1, 2, 4, 8, 16] as const;

/** A speed as people write it: ¼×, ½×, 4×. */
export function rateLabel(rate: number): string {
  if (rate === 0.25) return "¼×";
  if (rate === 0.5) return "½×";
  return `${rate}×`;
}
