import { useEffect, useMemo, useState, type Dispatch, type SetStateAction } from "react";
import { ErrorNote } from "./ErrorNote";
import { applyBookmarkChange, applyIncidentBookmarkChange, filterBookmarks, linkableIncidents, readWithChanges } from "./bookmarks";
import { when } from "./time";
import type { Transport } from "./transport";
import type { AppError, WriteOutcome } from "./generated/app";
import type { Bookmark, Caller, Change, Incident } from "./generated/hub";
import { can } from "./rights";
import { useSiteChoice } from "./useSiteIds";

/** The bookmarks `path` lists (none while it is `null`), kept live with `apply`; a change heard
 *  before the read's answer came is applied on top of it. */
function useLiveBookmarks(
  transport: Transport,
  path: string | null,
  apply: (list: Bookmark[], change: Change) => Bookmark[],
  setError: (error: AppError) => void,
): [Bookmark[], Dispatch<SetStateAction<Bookmark[]>>] {
  const [list, setList] = useState<Bookmark[]>([]);
  useEffect(() => {
    if (!path) return;
    let live = true;
    let heard: Change[] | null = [];
    const stop = transport.listen((event) => {
      if (event.type !== "hub-change") return;
      if (heard) heard.push(event.change);
      else setList((now) => apply(now, event.change));
    });
    transport
      .call<Bookmark[]>("hub_get", { path })
      .then((read) => live && setList(readWithChanges(read, heard ?? [], apply)))
      .catch((e: AppError) => live && setError(e))
      // Read or not, what is heard from now on applies at once.
      .finally(() => (heard = null));
    return () => {
      live = false;
      void stop.then((f) => f());
    };
    // `apply` is the caller's for this path.
  }, [transport, path]);
  return [list, setList];
}

/** A site's bookmarks, newest instant first, live: search the notes, filter by camera, link
 *  one to an incident of the site (whoever writes incidents), delete your own (supervisors and
 *  managers any). */
export function Bookmarks(props: {
  transport: Transport;
  operator: Caller;
  sites: { id: string; name: string }[];
  names: Map<string, string>;
  /** Plays a bookmark's video from its instant. */
  onPlay: (bookmark: Bookmark) => void;
}) {
  const [site, setSite] = useSiteChoice(props.sites);
  const [query, setQuery] = useState("");
  const [camera, setCamera] = useState("");
  const [error, setError] = useState<AppError | null>(null);
  const [incidents, setIncidents] = useState<Incident[]>([]);
  const linking = can(props.operator, site, "write-incident");
  const [list, setList] = useLiveBookmarks(
    props.transport,
    site ? `/sites/${encodeURIComponent(site)}/bookmarks?limit=500` : null,
    (now, change) => applyBookmarkChange(now, change, site),
    setError,
  );

  useEffect(() => {
    if (!site || !linking) return;
    let live = true;
    // The incidents not closed (a closed one linked already shows by its id).
    Promise.all(
      ["open", "in-progress"].map((status) =>
        props.transport.call<Incident[]>("hub_get", { path: `/incidents?site=${encodeURIComponent(site)}&status=${status}&limit=500` }),
      ),
    )
      .then((read) => live && setIncidents(read.flat()))
      .catch((e: AppError) => live && setError(e));
    const stop = props.transport.listen((event) => {
      if (event.type !== "hub-change" || event.change.site !== site) return;
      const change = event.change;
      if (change.kind === "incident") setIncidents((now) => [change.data, ...now.filter((i) => i.id !== change.data.id)]);
      if (change.kind === "incident-deleted") setIncidents((now) => now.filter((i) => i.id !== change.data.id));
    });
    return () => {
      live = false;
      void stop.then((f) => f());
    };
  }, [props.transport, site, linking]);

  const link = async (bookmark: Bookmark, incident: string | null) => {
    try {
      setError(null);
      const result = await props.transport.call<WriteOutcome>("hub_write", {
        method: "PATCH",
        path: `/sites/${encodeURIComponent(bookmark.site)}/bookmarks/${encodeURIComponent(bookmark.id)}`,
        body: { incident },
      });
      // As the hub answered, before (or without) the feed saying so.
      if (result.status === "delivered" && result.value) {
        const linked = result.value as Bookmark;
        setList((now) => now.map((b) => (b.id === linked.id ? linked : b)));
      }
    } catch (e) {
      setError(e as AppError);
    }
  };

  const shown = useMemo(() => filterBookmarks(list, query, camera || null), [list, query, camera]);
  const cameras = useMemo(() => [...new Set(list.map((b) => b.camera))].sort(), [list]);

  const remove = async (bookmark: Bookmark) => {
    try {
      setError(null);
      await props.transport.call("hub_write", {
        method: "DELETE",
        path: `/sites/${encodeURIComponent(bookmark.site)}/bookmarks/${encodeURIComponent(bookmark.id)}`,
        body: {},
      });
    } catch (e) {
      setError(e as AppError);
    }
  };

  return (
    <section className="panel bookmarks" aria-labelledby="bookmarks-title">
      <h2 id="bookmarks-title">Bookmarks ({shown.length})</h2>
      <div className="row">
        {props.sites.length > 1 && (
          <select aria-label="Site" value={site} onChange={(e) => setSite(e.target.value)}>
            {props.sites.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        )}
        <select aria-label="Camera" name="bookmark-camera" value={camera} onChange={(e) => setCamera(e.target.value)}>
          <option value="">All cameras</option>
          {cameras.map((c) => (
            <option key={c} value={c}>
              {props.names.get(c) ?? c}
            </option>
          ))}
        </select>
        <input type="search" name="bookmark-search" aria-label="Search the notes" placeholder="Search the notes" value={query} onChange={(e) => setQuery(e.target.value)} />
      </div>
      <ErrorNote error={error} />
      <ul className="bookmark-list">
        {shown.map((b) => (
          <li key={b.id} data-bookmark-id={b.id}>
            <span className="bookmark-time">{when(b.at)}</span>
            <span className="bookmark-camera">{props.names.get(b.camera) ?? b.camera}</span>
            <span className="bookmark-note">{b.note || "(no note)"}</span>
            <span className="note">{b.created_by}</span>
            <PlayButton bookmark={b} onPlay={props.onPlay} />
            {linking ? (
              <select
                aria-label="Incident"
                name="bookmark-incident"
                data-action="link-bookmark"
                value={b.incident ?? ""}
                onChange={(e) => void link(b, e.target.value || null)}
              >
                <option value="">No incident</option>
                {linkableIncidents(incidents, b).map((i) => (
                  <option key={i.id} value={i.id}>
                    {i.title} ({when(i.created)})
                  </option>
                ))}
                {b.incident && !incidents.some((i) => i.id === b.incident) && <option value={b.incident}>incident {b.incident}</option>}
              </select>
            ) : (
              b.incident && <span className="note">incident {b.incident}</span>
            )}
            {(b.created_by === props.operator.username || can(props.operator, b.site, "manage-incident")) && (
              <button type="button" className="quiet" data-action="delete-bookmark" onClick={() => void remove(b)}>
                Delete
              </button>
            )}
          </li>
        ))}
        {shown.length === 0 && <li className="note">No bookmark{query || camera ? " matches" : " yet"}.</li>}
      </ul>
    </section>
  );
}

/** An incident's bookmarks, live: the marked moments of video that belong to it, each to unlink
 *  by whoever writes the site's incidents. */
export function IncidentBookmarks(props: { transport: Transport; site: string; incident: string; write: boolean; onPlay: (bookmark: Bookmark) => void }) {
  const { transport, site, incident } = props;
  const [error, setError] = useState<AppError | null>(null);
  const [list] = useLiveBookmarks(
    transport,
    `/sites/${encodeURIComponent(site)}/bookmarks?incident=${encodeURIComponent(incident)}&limit=500`,
    (now, change) => applyIncidentBookmarkChange(now, change, site, incident),
    setError,
  );

  const unlink = async (bookmark: Bookmark) => {
    try {
      setError(null);
      await transport.call("hub_write", {
        method: "PATCH",
        path: `/sites/${encodeURIComponent(site)}/bookmarks/${encodeURIComponent(bookmark.id)}`,
        body: { incident: null },
      });
    } catch (e) {
      setError(e as AppError);
    }
  };

  return (
    <section className="incident-bookmarks" aria-labelledby={`bookmarks-of-${incident}`}>
      <h3 id={`bookmarks-of-${incident}`}>Bookmarks ({list.length})</h3>
      <ul className="bookmark-list">
        {list.map((b) => (
          <li key={b.id} data-bookmark-id={b.id}>
            <span className="bookmark-time">
              {when(b.at)}
              {b.to ? ` – ${when(b.to)}` : ""}
            </span>
            <span className="bookmark-camera">{b.camera}</span>
            <span className="bookmark-note">{b.note || "(no note)"}</span>
            <span className="note">{b.created_by}</span>
            <PlayButton bookmark={b} onPlay={props.onPlay} />
            {props.write && (
              <button type="button" className="quiet" data-action="unlink-bookmark" onClick={() => void unlink(b)}>
                Unlink
              </button>
            )}
          </li>
        ))}
        {list.length === 0 && <li className="note">No bookmark linked yet: link one from the Bookmarks panel.</li>}
      </ul>
      <ErrorNote error={error} />
    </section>
  );
}

/** Plays a bookmark's video from its instant: on the walls in the app, in the Video tab in a
 *  browser. */
function PlayButton(props: { bookmark: Bookmark; onPlay: (bookmark: Bookmark) => void }) {
  return (
    <button type="button" className="quiet" data-action="play-bookmark" onClick={() => props.onPlay(props.bookmark)}>
      Play
    </button>
  );
}
