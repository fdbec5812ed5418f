import { describe, expect, it } from "vitest";
import { applyBookmarkChange, applyIncidentBookmarkChange, filterBookmarks, linkableIncidents, newBookmark, readWithChanges } from "./bookmarks";
import type { Bookmark, Change, Incident } from "./generated/hub";

const mark = (id: string, at: string, camera = "cam01", note = ""): Bookmark => ({
  id,
  site: "hq",
  camera,
  at,
  to: null,
  note,
  incident: null,
  created_by: "guard",
  created: at,
});

describe("bookmarks", () => {
  it("follows the feed: made ones in order of their instant, removed ones gone, other sites ignored", () => {
    const a = mark("a", "2026-11-28T04:00:00.000Z");
    const b = mark("b", "2026-11-28T05:00:00.000Z");
    let list = applyBookmarkChange([a], { seq: 1, at: 0, site: "hq", kind: "bookmark", data: b } as Change, "hq");
    expect(list.map((x) => x.id)).toEqual(["b", "a"]);
    list = applyBookmarkChange(list, { seq: 2, at: 0, site: "hq", kind: "bookmark", data: b } as Change, "hq");
    expect(list.map((x) => x.id)).toEqual(["b", "a"]);
    list = applyBookmarkChange(list, { seq: 3, at: 0, site: "elsewhere", kind: "bookmark.removed", data: { id: "b" } } as Change, "hq");
    expect(list).toHaveLength(2);
    list = applyBookmarkChange(list, { seq: 4, at: 0, site: "hq", kind: "bookmark.removed", data: { id: "b" } } as Change, "hq");
    expect(list.map((x) => x.id)).toEqual(["a"]);
  });

  it("searches notes by every word and filters by camera", () => {
    const list = [mark("a", "x", "cam01", "Red jacket at the DOCK"), mark("b", "x", "cam02", "dock van")];
    expect(filterBookmarks(list, "dock", null).map((b) => b.id)).toEqual(["a", "b"]);
    expect(filterBookmarks(list, "red dock", null).map((b) => b.id)).toEqual(["a"]);
    expect(filterBookmarks(list, "", "cam02").map((b) => b.id)).toEqual(["b"]);
  });

  it("marks an instant as the hub takes it", () => {
    expect(newBookmark("b1", "cam01", Date.UTC(2026, 10, 28, 5, 0, 0, 120), "gate")).toEqual({
      id: "b1",
      camera: "cam01",
      at: "2026-11-28T05:00:00.120Z",
      note: "gate",
    });
    // The last 30 s up to the instant: a range.
    expect(newBookmark("b2", "cam01", Date.UTC(2026, 10, 28, 5, 0, 0, 120), "tailgate", 30)).toEqual({
      id: "b2",
      camera: "cam01",
      at: "2026-11-28T04:59:30.120Z",
      to: "2026-11-28T05:00:00.120Z",
      note: "tailgate",
    });
  });

  it("offers the site's open incidents to link to, and the one linked now even when closed", () => {
    const incident = (id: string, status: Incident["status"], created: string, site = "hq"): Incident => ({
      id,
      site,
      title: id,
      status,
      priority: 3,
      assignee: null,
      created_by: "guard",
      created,
      updated: created,
      links: [],
    });
    const all = [
      incident("old", "open", "2026-11-27T01:00:00Z"),
      incident("new", "in-progress", "2026-11-28T01:00:00Z"),
      incident("done", "closed", "2026-11-28T02:00:00Z"),
      incident("away", "open", "2026-11-28T03:00:00Z", "elsewhere"),
    ];
    expect(linkableIncidents(all, mark("a", "2026-11-28T04:00:00Z")).map((i) => i.id)).toEqual(["new", "old"]);
    expect(linkableIncidents(all, { ...mark("a", "2026-11-28T04:00:00Z"), incident: "done" }).map((i) => i.id)).toEqual(["done", "new", "old"]);
  });

  it("keeps an incident's list to the bookmarks linked to it as they are linked and unlinked", () => {
    const a = { ...mark("a", "2026-11-28T04:00:00.000Z"), incident: "inc-1" };
    const change = (data: Bookmark, seq: number) => ({ seq, at: 0, site: "hq", kind: "bookmark", data }) as Change;
    let list = applyIncidentBookmarkChange([], change(a, 1), "hq", "inc-1");
    expect(list.map((b) => b.id)).toEqual(["a"]);
    list = applyIncidentBookmarkChange(list, change(mark("b", "2026-11-28T05:00:00.000Z"), 2), "hq", "inc-1");
    expect(list.map((b) => b.id)).toEqual(["a"]);
    list = applyIncidentBookmarkChange(list, { ...change(mark("c", "2026-11-28T06:00:00.000Z"), 3), site: "elsewhere" } as Change, "hq", "inc-1");
    expect(list.map((b) => b.id)).toEqual(["a"]);
    const removed = applyIncidentBookmarkChange(list, { seq: 4, at: 0, site: "hq", kind: "bookmark.removed", data: { id: "a" } } as Change, "hq", "inc-1");
    expect(removed).toEqual([]);
    list = applyIncidentBookmarkChange(list, change({ ...a, incident: null }, 5), "hq", "inc-1");
    expect(list).toEqual([]);
  });

  it("keeps a link heard while an incident's list was being read, though the read came back without it", () => {
    const linked = { ...mark("a", "2026-11-28T04:00:00.000Z"), incident: "inc-1" };
    const heard = [{ seq: 5, at: 0, site: "hq", kind: "bookmark", data: linked } as Change];
    const apply = (list: Bookmark[], change: Change) => applyIncidentBookmarkChange(list, change, "hq", "inc-1");
    // Read before the link was made: empty; the link's change came before the answer.
    expect(readWithChanges([], heard, apply).map((b) => b.id)).toEqual(["a"]);
    // Read after it: the same, once.
    expect(readWithChanges([linked], heard, apply).map((b) => b.id)).toEqual(["a"]);
  });
});
