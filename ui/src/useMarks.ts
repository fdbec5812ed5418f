// The alarms and bookmarks of some cameras around an instant, as marks for a timeline: read
// from the hub an hour either side (again when the instant moves into another half hour, and
// every 30 s, since more come), with the alarms the console holds live on top. The wall's
// playback and the browser's video views share it.

import { useEffect, useMemo, useRef, useState } from "react";
import type { Alarm, Bookmark } from "./generated/hub";
import { marksOf, type Mark } from "./timeline";

/** What is read around the instant: an hour either side. */
export const READ_MS = 60 * 60_000;
/** How often the marks are read again (alarms and bookmarks keep coming). */
export const REFRESH_MS = 30_000;

export const iso = (ms: number) => encodeURIComponent(new Date(ms).toISOString());

/** The stretch read around `atMs`: the same for every instant in one half hour. */
export function readWindow(atMs: number, nowMs: number): { from: number; to: number } {
  const from = Math.floor(atMs / (READ_MS / 2)) * (READ_MS / 2) - READ_MS;
  return { from, to: Math.min(nowMs, from + 3 * READ_MS) };
}

/** Marks of `cameras` (ids with their sites) around `atMs`; `liveAlarms` are alarms heard since. */
export function useMarks(
  hubGet: <T>(path: string) => Promise<T>,
  cameras: { id: string; site: string }[],
  atMs: number | null,
  liveAlarms: Alarm[],
): Mark[] {
  const [bookmarks, setBookmarks] = useState<Bookmark[]>([]);
  const [pastAlarms, setPastAlarms] = useState<Alarm[]>([]);
  const [refresh, setRefresh] = useState(0);
  useEffect(() => {
    const timer = window.setInterval(() => setRefresh((n) => n + 1), REFRESH_MS);
    return () => window.clearInterval(timer);
  }, []);
  const cameraKey = cameras.map((c) => `${c.site}/${c.id}`).join(",");
  // The same cameras are the same list, however often the caller draws.
  const shown = useMemo(() => cameras, [cameraKey]);
  const readKey = atMs === null ? null : Math.floor(atMs / (READ_MS / 2));
  // Callers pass a new function each time they draw: the reads follow what is asked.
  const hubGetNow = useRef(hubGet);
  hubGetNow.current = hubGet;
  useEffect(() => {
    if (readKey === null || shown.length === 0) {
      setBookmarks([]);
      setPastAlarms([]);
      return;
    }
    const hubGet = <T,>(path: string) => hubGetNow.current<T>(path);
    let current = true;
    const { from, to } = readWindow(readKey * (READ_MS / 2), Date.now());
    const range = `from=${iso(from)}&to=${iso(to)}`;
    const sites = [...new Set(shown.map((c) => c.site))];
    // A list the hub will not give (no right to it) leaves no marks, not an error.
    void Promise.all(
      sites.map((site) => hubGet<Bookmark[]>(`/sites/${encodeURIComponent(site)}/bookmarks?${range}&limit=500`).catch(() => [] as Bookmark[])),
    ).then((lists) => current && setBookmarks(lists.flat()));
    void Promise.all(
      sites.map((site) => hubGet<Alarm[]>(`/alarms?site=${encodeURIComponent(site)}&${range}&limit=500`).catch(() => [] as Alarm[])),
    ).then((lists) => current && setPastAlarms(lists.flat()));
    return () => {
      current = false;
    };
  }, [shown, readKey, refresh]);

  return useMemo(() => {
    const alarms = new Map([...pastAlarms, ...liveAlarms].map((a) => [a.id, a]));
    return marksOf([...alarms.values()], bookmarks, shown.map((c) => c.id));
  }, [pastAlarms, liveAlarms, bookmarks, shown]);
}
