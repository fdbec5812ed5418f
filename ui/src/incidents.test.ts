import { describe, expect, it } from "vitest";
import { addNote, historyText, timeline, updateDetail, upsertIncident } from "./incidents";
import type { AuditRecord, Incident, IncidentDetail, IncidentNote } from "./generated/hub";

const incident = (id: string, updated: string): Incident => ({
  id,
  site: "hq",
  title: id,
  status: "open",
  priority: 2,
  assignee: null,
  created_by: "guard",
  created: "2025-01-01T00:00:00Z",
  updated,
  links: [],
});

const note = (id: string, time: string, text = id): IncidentNote => ({ id, incident: "i1", author: "guard", time, text, attachments: [] });
const record = (seq: number, time: string, action: string, target: string | null = "i1", detail: unknown = {}): AuditRecord => ({
  seq,
  time,
  user: "u1",
  action,
  site: "hq",
  target,
  detail,
});

const detail: IncidentDetail = {
  ...incident("i1", "2025-01-01T00:00:00Z"),
  notes: [note("n2", "2025-01-01T00:02:00Z"), note("n1", "2025-01-01T00:01:00Z"), note("n1", "2025-01-01T00:01:00Z")],
  history: [
    record(1, "2025-01-01T00:00:00Z", "incident.create"),
    record(2, "2025-01-01T00:01:00Z", "incident.note", "n1"),
    record(3, "2025-01-01T00:01:30Z", "incident.update", "i1", { status: "in-progress", priority: null, assignee: null }),
    record(4, "2025-01-01T00:02:00Z", "incident.note", "n2"),
  ],
};

describe("timeline", () => {
  it("merges notes and history in time order, notes unique by id", () => {
    const t = timeline(detail);
    expect(t.map((e) => (e.kind === "note" ? e.note.id : e.record.seq))).toEqual([1, "n1", 3, "n2"]);
  });
  it("leaves out a note's own history record while the note is shown", () => {
    expect(timeline({ ...detail, notes: [] }).map((e) => (e.kind === "note" ? e.note.id : e.record.seq))).toEqual([1, 2, 3, 4]);
  });
  it("shows pending notes until the hub has them, marked pending", () => {
    const pending = [
      { id: "n2", text: "queued then delivered", time: "2025-01-01T00:05:00Z", author: "guard" },
      { id: "n9", text: "still queued", time: "2025-01-01T00:05:00Z", author: "guard" },
    ];
    const t = timeline(detail, pending);
    const notes = t.filter((e) => e.kind === "note");
    expect(notes.map((e) => [e.kind === "note" && e.note.id, e.kind === "note" && e.pending])).toEqual([
      ["n1", false],
      ["n2", false],
      ["n9", true],
    ]);
    expect(t[t.length - 1]?.kind === "note" && t[t.length - 1]).toMatchObject({ pending: true, note: { text: "still queued", incident: "i1" } });
  });
  it("puts equal times in a stable order: history, notes, pending", () => {
    const d = { id: "i1", notes: [note("a", "2025-01-01T00:00:00Z")], history: [record(9, "2025-01-01T00:00:00Z", "incident.update")] };
    const t = timeline(d, [{ id: "p", text: "p", time: "2025-01-01T00:00:00Z", author: "g" }]);
    expect(t.map((e) => e.kind + (e.kind === "note" && e.pending ? "-pending" : ""))).toEqual(["history", "note", "note-pending"]);
  });
});

describe("notes and incidents live", () => {
  it("adds a note once, and only to its own incident", () => {
    const once = addNote(detail, note("n3", "2025-01-01T00:03:00Z"));
    expect(once.notes.map((n) => n.id)).toContain("n3");
    expect(addNote(once, note("n3", "2025-01-01T00:03:00Z"))).toBe(once);
    expect(addNote(detail, { ...note("n4", "2025-01-01T00:03:00Z"), incident: "other" })).toBe(detail);
  });
  it("updates the list and the open detail from an incident change", () => {
    const list = [incident("a", "2025-01-01T00:00:00Z"), incident("b", "2025-01-01T00:01:00Z")];
    expect(upsertIncident(list, { ...incident("a", "2025-01-01T00:09:00Z"), status: "closed" }).map((i) => [i.id, i.status])).toEqual([
      ["a", "closed"],
      ["b", "open"],
    ]);
    const next = updateDetail(detail, { ...incident("i1", "2025-01-01T00:09:00Z"), assignee: "sam" });
    expect(next.assignee).toBe("sam");
    expect(next.notes).toBe(detail.notes);
    expect(updateDetail(detail, incident("zz", "x"))).toBe(detail);
  });
  it("describes history with the fields that changed", () => {
    expect(historyText(record(3, "", "incident.update", "i1", { status: "closed", priority: null, assignee: null }))).toBe("u1: update (status → closed)");
    expect(historyText({ ...record(1, "", "incident.create"), user: null })).toBe("the hub: create");
  });
});
