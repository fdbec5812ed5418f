// Incidents as the console shows them: the timeline of notes and history, notes that arrive
// twice (the write's answer and the live feed), notes still waiting in the outbox, and list
// updates from the feed.

import type { AuditRecord, Incident, IncidentDetail, IncidentNote, IncidentStatus } from "./generated/hub";

export const STATUSES: readonly IncidentStatus[] = ["open", "in-progress", "closed"];

export function statusText(status: IncidentStatus): { symbol: string; text: string } {
  switch (status) {
    case "open":
      return { symbol: "○", text: "Open" };
    case "in-progress":
      return { symbol: "◐", text: "In progress" };
    case "closed":
      return { symbol: "●", text: "Closed" };
  }
}

/** A note written here but not yet on the hub (queued in the app's outbox). */
export interface PendingNote {
  id: string;
  text: string;
  /** When it was written, RFC 3339. */
  time: string;
  author: string;
}

export type TimelineEntry =
  | { kind: "note"; time: string; note: IncidentNote; pending: false }
  | { kind: "note"; time: string; note: IncidentNote; pending: true }
  | { kind: "history"; time: string; record: AuditRecord };

const at = (time: string) => {
  const t = Date.parse(time);
  return Number.isNaN(t) ? 0 : t;
};

/**
 * Notes and history in time order (oldest first; ties keep notes after the record that made
 * them). Notes are unique by id; pending notes drop out once the hub has them; the history's
 * `incident.note` records are left out for notes that are shown (the note says it already).
 */
export function timeline(detail: Pick<IncidentDetail, "id" | "notes" | "history">, pending: readonly PendingNote[] = []): TimelineEntry[] {
  const notes = dedupeNotes(detail.notes);
  const ids = new Set(notes.map((n) => n.id));
  const entries: TimelineEntry[] = [
    ...detail.history
      .filter((r) => !(r.action === "incident.note" && r.target !== null && ids.has(r.target)))
      .map((record) => ({ kind: "history" as const, time: record.time, record })),
    ...notes.map((note) => ({ kind: "note" as const, time: note.time, note, pending: false as const })),
    ...pending
      .filter((p) => !ids.has(p.id))
      .map((p) => ({
        kind: "note" as const,
        time: p.time,
        note: { id: p.id, incident: detail.id, author: p.author, time: p.time, text: p.text, attachments: [] },
        pending: true as const,
      })),
  ];
  const rank = (e: TimelineEntry) => (e.kind === "history" ? 0 : e.pending ? 2 : 1);
  return entries
    .map((e, i) => ({ e, i }))
    .sort((a, b) => at(a.e.time) - at(b.e.time) || rank(a.e) - rank(b.e) || a.i - b.i)
    .map(({ e }) => e);
}

/** Notes unique by id, the first of each kept. */
export function dedupeNotes(notes: readonly IncidentNote[]): IncidentNote[] {
  const seen = new Set<string>();
  return notes.filter((n) => (seen.has(n.id) ? false : (seen.add(n.id), true)));
}

/** The detail with `note` added, if it is for this incident and not already there. */
export function addNote<T extends Pick<IncidentDetail, "id" | "notes">>(detail: T, note: IncidentNote): T {
  if (note.incident !== detail.id || detail.notes.some((n) => n.id === note.id)) return detail;
  return { ...detail, notes: [...detail.notes, note] };
}

/** The list with `incident` added or replaced by id, newest updated first. */
export function upsertIncident(list: readonly Incident[], incident: Incident): Incident[] {
  const rest = list.filter((i) => i.id !== incident.id);
  return [incident, ...rest].sort((a, b) => at(b.updated) - at(a.updated));
}

/** An incident's fields merged into its open detail (from a feed `incident` change). */
export function updateDetail(detail: IncidentDetail, incident: Incident): IncidentDetail {
  return incident.id === detail.id ? { ...detail, ...incident, notes: detail.notes, history: detail.history } : detail;
}

/** One line for an audit record: who did what. */
export function historyText(record: AuditRecord): string {
  const who = record.user ?? "the hub";
  const detail = record.detail && typeof record.detail === "object" ? (record.detail as Record<string, unknown>) : {};
  const changed = Object.entries(detail)
    // A patch records every field; those it left alone are null.
    .filter(([k, v]) => ["status", "priority", "assignee", "title"].includes(k) && v !== null && v !== undefined)
    .map(([k, v]) => `${k} → ${String(v)}`);
  const action = record.action.replace(/^incident\./, "");
  return `${who}: ${action}${changed.length > 0 ? ` (${changed.join(", ")})` : ""}`;
}

/** Bytes in words: "512 B", "3.4 kB", "1.2 MB". */
export function sizeText(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}
