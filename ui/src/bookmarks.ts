// Bookmarks as the console keeps them: the list of a site's, kept in step with the live feed,
// and the request that makes one (from the wall, the instant a tile shows).

import type { Bookmark, Change, Incident, NewBookmark } from "./generated/hub";

/** The list after a change from the feed: a bookmark made (added, newest instant first) or
 *  removed; any other change leaves it as it is. */
export function applyBookmarkChange(list: Bookmark[], change: Change, site: string): Bookmark[] {
  if (change.site !== site) return list;
  if (change.kind === "bookmark") {
    const made = change.data;
    return [made, ...list.filter((b) => b.id !== made.id)].sort((a, b) => b.at.localeCompare(a.at) || a.id.localeCompare(b.id));
  }
  if (change.kind === "bookmark.removed") return list.filter((b) => b.id !== change.data.id);
  return list;
}

/** Bookmarks whose note has every word of `query` (any case), of `camera` when given. */
export function filterBookmarks(list: Bookmark[], query: string, camera: string | null): Bookmark[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  return list.filter((b) => (!camera || b.camera === camera) && words.every((w) => b.note.toLowerCase().includes(w)));
}

/** A bookmark of `camera` at `atMs` (Unix ms) with `note`; `id` is made by the caller. */
export function newBookmark(id: string, camera: string, atMs: number, note: string, lastS = 0): NewBookmark {
  // A range: the `lastS` seconds up to the instant marked.
  if (lastS > 0) return { id, camera, at: new Date(atMs - lastS * 1000).toISOString(), to: new Date(atMs).toISOString(), note };
  return { id, camera, at: new Date(atMs).toISOString(), note };
}

/** What a bookmark made on the wall covers: the instant, or the seconds up to it. */
export const BOOKMARK_SPANS = [0, 10, 30, 60, 300] as const;

/** The incidents a bookmark may be linked to: the site's open ones, newest first, and the one
 *  it is linked to now even if closed (so the choice shows what is). */
export function linkableIncidents(incidents: Incident[], bookmark: Bookmark): Incident[] {
  return incidents
    .filter((i) => i.site === bookmark.site && (i.status !== "closed" || i.id === bookmark.incident))
    .sort((a, b) => b.created.localeCompare(a.created) || a.id.localeCompare(b.id));
}

/** The list of one incident's bookmarks after a change from the feed: one linked to it comes
 *  in (or is updated), one unlinked or deleted goes. */
export function applyIncidentBookmarkChange(list: Bookmark[], change: Change, site: string, incident: string): Bookmark[] {
  const next = applyBookmarkChange(list, change, site);
  return next.filter((b) => b.incident === incident);
}

/** A list as read, with the changes heard while the read was under way applied on top: the
 *  answer may have been read before they were made (a bookmark linked just before an incident
 *  opened), and applying one it already holds changes nothing. */
export function readWithChanges(read: Bookmark[], heard: Change[], apply: (list: Bookmark[], change: Change) => Bookmark[]): Bookmark[] {
  return heard.reduce(apply, read);
}
