import { useEffect, useMemo, useState } from "react";
import { ErrorNote } from "./ErrorNote";
import { applyBookmarkChange, filterBookmarks } from "./bookmarks";
import { when } from "./time";
import type { Transport } from "./transport";
import type { AppError } from "./generated/app";
import type { Bookmark, Caller } from "./generated/hub";
import { can } from "./rights";

/** A site's bookmarks, newest instant first, live: search the notes, filter by camera,
 *  delete your own (supervisors and managers any). */
export function Bookmarks(props: { transport: Transport; operator: Caller; sites: { id: string; name: string }[]; names: Map<string, string> }) {
  const [site, setSite] = useState(props.sites[0]?.id ?? "");
  const [list, setList] = useState<Bookmark[]>([]);
  const [query, setQuery] = useState("");
  const [camera, setCamera] = useState("");
  const [error, setError] = useState<AppError | null>(null);

  useEffect(() => {
    if (!site) return;
    let live = true;
    const path = `/sites/${encodeURIComponent(site)}/bookmarks?limit=500`;
    props.transport
      .call<Bookmark[]>("hub_get", { path })
      .then((read) => live && setList(read))
      .catch((e: AppError) => live && setError(e));
    const stop = props.transport.listen((event) => {
      if (event.type === "hub-change") setList((now) => applyBookmarkChange(now, event.change, site));
    });
    return () => {
      live = false;
      void stop.then((f) => f());
    };
  }, [props.transport, site]);

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
            <span className="note">
              {b.created_by}
              {b.incident ? ` · incident ${b.incident}` : ""}
            </span>
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
