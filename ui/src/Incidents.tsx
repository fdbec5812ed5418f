import { ErrorNote } from "./ErrorNote";
import { IncidentBookmarks } from "./Bookmarks";
import { Evidence } from "./Evidence";
import { when } from "./time";
import { useEffect, useState, type FormEvent } from "react";
import { priorityLook } from "./alarms";
import { newId } from "./ids";
import { STATUSES, addNote, dedupeNotes, historyText, sizeText, statusText, timeline, updateDetail, upsertIncident, type PendingNote } from "./incidents";
import { can, sitesWhere } from "./rights";
import { perSite, type Transport } from "./transport";
import { useSiteChoice, useSiteIds } from "./useSiteIds";
import type { Alarm, Bookmark, Caller, Incident, IncidentDetail, IncidentNote, IncidentStatus } from "./generated/hub";
import type { AppError, WriteOutcome } from "./generated/app";

/** An incident made here, before the hub has it (its create waits in the outbox). */
function localIncident(operator: Caller, fields: { id: string; site: string; title: string; priority: number; links: Incident["links"] }): IncidentDetail {
  const now = new Date().toISOString();
  return { ...fields, status: "open", assignee: null, created_by: operator.username, created: now, updated: now, notes: [], history: [] };
}

/**
 * Creates an incident from an alarm, linked to it; in the app, attaches a picture of the wall
 * as a note (a failure there is reported, not fatal). Answers the new incident's id.
 */
export async function createFromAlarm(
  transport: Transport,
  operator: Caller,
  alarm: Alarm,
  wall: string | null,
): Promise<{ id: string; detail: IncidentDetail; queued: boolean; snapshotError: AppError | null }> {
  const fields = { id: newId(), site: alarm.site, title: alarm.title, priority: alarm.priority, links: [{ kind: "alarm", id: alarm.id }] };
  const result = await transport.call<WriteOutcome>("hub_write", { method: "POST", path: "/incidents", body: fields });
  let snapshotError: AppError | null = null;
  if (transport.hasWalls && wall) {
    try {
      await transport.call("incident_snapshot", { incident: fields.id, wall });
    } catch (e) {
      snapshotError = e as AppError;
    }
  }
  return {
    id: fields.id,
    detail: result.status === "delivered" ? (result.value as IncidentDetail) : localIncident(operator, fields),
    queued: result.status === "queued",
    snapshotError,
  };
}

/** Incidents: the list, one by hand, and the open one with its timeline. */
export function Incidents(props: {
  transport: Transport;
  operator: Caller;
  sites: { id: string; name: string }[];
  openId: string | null;
  onOpen: (id: string | null) => void;
  /** An incident just made elsewhere (from an alarm), shown before the hub confirms it. */
  made?: { detail: IncidentDetail; queued: boolean; problem: string | null } | null;
  /** Plays one of its bookmarks' video. */
  onPlayBookmark: (bookmark: Bookmark) => void;
}) {
  const { transport, operator } = props;
  const siteIds = useSiteIds(props.sites);
  const [list, setList] = useState<Incident[]>([]);
  const [local, setLocal] = useState<Map<string, IncidentDetail>>(new Map());
  const [error, setError] = useState<AppError | null>(null);

  useEffect(() => {
    let live = true;
    let stop: (() => void) | undefined;
    void transport
      .listen((event) => {
        if (event.type === "hub-change" && event.change.kind === "incident" && event.change.data) {
          setList((l) => upsertIncident(l, event.change.data as Incident));
        }
      })
      .then((f) => (live ? (stop = f) : f()));
    perSite<Incident>(transport, siteIds, (site) => `/incidents?site=${site}&limit=200`)
      .then((l) => live && setList((now) => l.reduce(upsertIncident, now)))
      .catch((e: AppError) => live && setError(e));
    return () => {
      live = false;
      stop?.();
    };
  }, [transport, siteIds]);

  useEffect(() => {
    const made = props.made;
    if (!made) return;
    setList((l) => upsertIncident(l, made.detail));
    if (made.queued) setLocal((m) => new Map(m).set(made.detail.id, made.detail));
  }, [props.made]);

  const writable = sitesWhere(
    operator,
    props.sites.map((s) => s.id),
    "write-incident",
  );

  return (
    <div className="incidents-view">
      <section className="panel incidents" aria-labelledby="incidents-title">
        <h2 id="incidents-title">Incidents</h2>
        <ErrorNote error={error} />
        <ul className="incident-list" aria-label="Incidents, newest first">
          {list.map((i) => {
            const s = statusText(i.status);
            const p = priorityLook(i.priority);
            return (
              <li key={i.id} className="incident-row" data-incident-id={i.id} data-status={i.status}>
                <button type="button" aria-pressed={i.id === props.openId} onClick={() => props.onOpen(i.id)}>
                  <span className="incident-title">{i.title}</span>
                  <span className="note">
                    <span aria-hidden="true">{s.symbol}</span> {s.text} · <span aria-hidden="true">{p.symbol}</span> {p.text} · {i.site}
                    {i.assignee ? ` · ${i.assignee}` : ""}
                    {local.has(i.id) ? " · waiting for the hub" : ""}
                  </span>
                </button>
              </li>
            );
          })}
          {list.length === 0 && <li className="empty">No incidents.</li>}
        </ul>
        {writable.length > 0 && (
          <NewIncident
            transport={transport}
            sites={props.sites.filter((s) => writable.includes(s.id))}
            onMade={(detail, queued) => {
              setList((l) => upsertIncident(l, detail));
              if (queued) setLocal((m) => new Map(m).set(detail.id, detail));
              props.onOpen(detail.id);
            }}
            operator={operator}
          />
        )}
      </section>
      {props.openId && (
        <IncidentView
          key={props.openId}
          transport={transport}
          operator={operator}
          id={props.openId}
          local={local.get(props.openId) ?? (props.made?.detail.id === props.openId ? props.made.detail : null)}
          problem={props.made?.detail.id === props.openId ? props.made.problem : null}
          onChanged={(i) => setList((l) => upsertIncident(l, i))}
          onClose={() => props.onOpen(null)}
          onPlayBookmark={props.onPlayBookmark}
        />
      )}
    </div>
  );
}

function NewIncident(props: { transport: Transport; operator: Caller; sites: { id: string; name: string }[]; onMade: (detail: IncidentDetail, queued: boolean) => void }) {
  const [title, setTitle] = useState("");
  const [site, setSite] = useSiteChoice(props.sites);
  const [priority, setPriority] = useState(3);
  const [error, setError] = useState<AppError | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const fields = { id: newId(), site: site || (props.sites[0]?.id ?? ""), title: title.trim(), priority, links: [] };
    setBusy(true);
    setError(null);
    try {
      const result = await props.transport.call<WriteOutcome>("hub_write", { method: "POST", path: "/incidents", body: fields });
      props.onMade(result.status === "delivered" ? (result.value as IncidentDetail) : localIncident(props.operator, fields), result.status === "queued");
      setTitle("");
    } catch (e) {
      setError(e as AppError);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="new-incident" onSubmit={submit} aria-label="New incident">
      <h3>New incident</h3>
      <div className="row">
        <input name="title" aria-label="Title" placeholder="Title" value={title} onChange={(e) => setTitle(e.target.value)} required />
        <select name="site" aria-label="Site" value={site} onChange={(e) => setSite(e.target.value)}>
          {props.sites.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </select>
        <select name="priority" aria-label="Priority" value={priority} onChange={(e) => setPriority(Number(e.target.value))}>
          {[1, 2, 3, 4, 5].map((p) => (
            <option key={p} value={p}>
              {priorityLook(p).text}
            </option>
          ))}
        </select>
        <button type="submit" data-action="create-incident" disabled={busy}>
          Create
        </button>
      </div>
      <ErrorNote error={error} />
    </form>
  );
}

function IncidentView(props: {
  transport: Transport;
  operator: Caller;
  id: string;
  local: IncidentDetail | null;
  problem: string | null;
  onChanged: (incident: Incident) => void;
  onClose: () => void;
  onPlayBookmark: (bookmark: Bookmark) => void;
}) {
  const { transport, operator, id } = props;
  const [detail, setDetail] = useState<IncidentDetail | null>(null);
  const [pendingNotes, setPendingNotes] = useState<PendingNote[]>([]);
  const [queuedPatch, setQueuedPatch] = useState(false);
  const [text, setText] = useState("");
  const [assignee, setAssignee] = useState("");
  const [error, setError] = useState<AppError | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    let stop: (() => void) | undefined;
    const early: IncidentNote[] = [];
    void transport
      .listen((event) => {
        if (event.type !== "hub-change" || !event.change.data) return;
        if (event.change.kind === "note") {
          const note = event.change.data as IncidentNote;
          // Before the incident has loaded, keep the note for the load to merge.
          if (note.incident === id) early.push(note);
          setDetail((d) => (d ? addNote(d, note) : d));
        }
        else if (event.change.kind === "incident") setDetail((d) => (d ? updateDetail(d, event.change.data as Incident) : d));
      })
      .then((f) => (live ? (stop = f) : f()));
    transport
      .call<IncidentDetail>("hub_get", { path: `/incidents/${encodeURIComponent(id)}` })
      .then((d) => {
        if (!live) return;
        // Notes heard on the feed while this loaded are kept.
        setDetail((now) => ({ ...d, notes: dedupeNotes([...d.notes, ...early, ...(now?.notes ?? [])]) }));
        setAssignee(d.assignee ?? "");
      })
      .catch((e: AppError) => {
        if (!live) return;
        if (props.local) setDetail((now) => now ?? props.local);
        else setError(e);
      });
    return () => {
      live = false;
      stop?.();
    };
    // `props.local` is read once: the hub's answer wins as soon as it comes.
  }, [transport, id]);

  if (!detail) {
    return (
      <section className="panel incident" data-incident-id={id} aria-busy={!error}>
        {error ? (
          <p className="error" role="alert" data-code={error.code}>
            {error.message}
          </p>
        ) : (
          <p className="note">Loading…</p>
        )}
      </section>
    );
  }

  const manage = can(operator, detail.site, "manage-incident");
  const write = can(operator, detail.site, "write-incident");

  const patch = async (fields: { status?: IncidentStatus; priority?: number; assignee?: string | null }) => {
    setBusy(true);
    setError(null);
    try {
      const result = await transport.call<WriteOutcome>("hub_write", {
        method: "PATCH",
        path: `/incidents/${encodeURIComponent(id)}`,
        body: { request_id: newId(), ...fields },
      });
      if (result.status === "delivered") {
        const answer = result.value as IncidentDetail;
        setDetail((d) => ({ ...answer, notes: dedupeNotes([...answer.notes, ...(d?.notes ?? [])]) }));
        props.onChanged(answer);
        setQueuedPatch(false);
      } else {
        // Queued, or delivered without the answer kept: shown as asked until the feed says.
        setDetail((d) => (d ? { ...d, ...fields } : d));
        setQueuedPatch(result.status === "queued");
      }
    } catch (e) {
      setError(e as AppError);
    } finally {
      setBusy(false);
    }
  };

  const addNoteNow = async (event: FormEvent) => {
    event.preventDefault();
    const note = { id: newId(), text: text.trim() };
    if (!note.text) return;
    setBusy(true);
    setError(null);
    try {
      const result = await transport.call<WriteOutcome>("hub_write", {
        method: "POST",
        path: `/incidents/${encodeURIComponent(id)}/notes`,
        body: note,
      });
      if (result.status === "delivered") setDetail((d) => (d ? addNote(d, result.value as IncidentNote) : d));
      else if (result.status === "queued") setPendingNotes((p) => [...p, { ...note, time: new Date().toISOString(), author: operator.username }]);
      setText("");
    } catch (e) {
      setError(e as AppError);
    } finally {
      setBusy(false);
    }
  };

  const s = statusText(detail.status);
  const p = priorityLook(detail.priority);
  const entries = timeline(detail, pendingNotes);
  return (
    <section className="panel incident" data-incident-id={detail.id} data-status={detail.status} aria-labelledby="incident-title">
      <h2 id="incident-title">
        {detail.title}
        <button type="button" className="quiet" aria-label="Close incident" onClick={props.onClose}>
          ✕
        </button>
      </h2>
      <p className="incident-facts">
        <span data-field="status">
          <span aria-hidden="true">{s.symbol}</span> {s.text}
        </span>{" "}
        ·{" "}
        <span data-field="priority">
          <span aria-hidden="true">{p.symbol}</span> {p.text}
        </span>{" "}
        · <span data-field="assignee">{detail.assignee ? `assigned to ${detail.assignee}` : "not assigned"}</span> · {detail.site} · opened by{" "}
        {detail.created_by} {when(detail.created)}
        {detail.links.length > 0 && ` · linked: ${detail.links.map((l) => `${l.kind} ${l.id}`).join(", ")}`}
      </p>
      {(props.local && detail === props.local) || queuedPatch ? <p className="pending-note">⧗ Changes waiting for the hub.</p> : null}
      {props.problem && (
        <p className="error" role="alert">
          {props.problem}
        </p>
      )}
      {manage && (
        <div className="row" role="group" aria-label="Change the incident">
          <label>
            Status{" "}
            <select name="status" value={detail.status} disabled={busy} onChange={(e) => void patch({ status: e.target.value as IncidentStatus })}>
              {STATUSES.map((st) => (
                <option key={st} value={st}>
                  {statusText(st).text}
                </option>
              ))}
            </select>
          </label>
          <label>
            Priority{" "}
            <select name="priority" value={detail.priority} disabled={busy} onChange={(e) => void patch({ priority: Number(e.target.value) })}>
              {[1, 2, 3, 4, 5].map((n) => (
                <option key={n} value={n}>
                  {priorityLook(n).text}
                </option>
              ))}
            </select>
          </label>
          <form
            className="row"
            onSubmit={(e) => {
              e.preventDefault();
              void patch({ assignee: assignee.trim() === "" ? null : assignee.trim() });
            }}
          >
            <input name="assignee" aria-label="Assignee (user name)" placeholder="Assignee" value={assignee} onChange={(e) => setAssignee(e.target.value)} />
            <button type="submit" data-action="assign" disabled={busy}>
              Assign
            </button>
          </form>
        </div>
      )}
      <h3>Timeline</h3>
      <ol className="timeline" aria-label="Notes and history, oldest first">
        {entries.map((entry) =>
          entry.kind === "history" ? (
            <li key={`h-${entry.record.seq}`} className="history" data-seq={entry.record.seq}>
              <span className="note">{when(entry.time)}</span> {historyText(entry.record)}
            </li>
          ) : (
            <li key={`n-${entry.note.id}`} className={`note-entry note${entry.pending ? " pending" : ""}`} data-note-id={entry.note.id} data-pending={entry.pending || undefined}>
              <div className="note-head">
                <strong>{entry.note.author}</strong> <span className="note-time">{when(entry.time)}</span>
                {entry.pending && <span className="pending-note"> ⧗ waiting for the hub</span>}
              </div>
              <p className="note-text">{entry.note.text}</p>
              {entry.note.attachments.length > 0 && (
                <ul className="attachments">
                  {entry.note.attachments.map((a) => (
                    <li key={`${a.name}-${a.sha256 ?? ""}`}>
                      {transport.browser && a.sha256 ? (
                        <a href={`/api/v1/attachments/${a.sha256}`} target="_blank" rel="noreferrer">
                          {a.name}
                        </a>
                      ) : (
                        <span>{a.name}</span>
                      )}{" "}
                      <span className="note">({sizeText(a.size)})</span>
                    </li>
                  ))}
                </ul>
              )}
            </li>
          ),
        )}
        {entries.length === 0 && <li className="empty">Nothing yet.</li>}
      </ol>
      <IncidentBookmarks transport={transport} site={detail.site} incident={detail.id} write={write} onPlay={props.onPlayBookmark} />
      <Evidence transport={transport} detail={detail} write={write} />
      {write && (
        <form className="add-note" onSubmit={addNoteNow}>
          <textarea name="note" aria-label="New note" rows={3} value={text} onChange={(e) => setText(e.target.value)} />
          <button type="submit" data-action="add-note" disabled={busy || text.trim() === ""}>
            Add note
          </button>
        </form>
      )}
      <ErrorNote error={error} />
    </section>
  );
}
