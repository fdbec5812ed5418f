import { useState, type FormEvent } from "react";
import type { Caller, SavedLayout } from "./generated/hub";
import type { AppError, WallLayout } from "./generated/app";

/** Saved layouts on the hub: open one on the wall, save the wall as one (private or shared
 *  with a site), delete your own. */
export function Layouts(props: {
  layouts: SavedLayout[];
  operator: Caller;
  onOpen: (id: string) => void;
  onSave: (name: string, sharedSite: string | null) => Promise<void>;
  onDelete: (id: string) => void;
}) {
  const [name, setName] = useState("");
  const sites = props.operator.grants.map((g) => g.site).filter((s) => s !== "*");
  const [share, setShare] = useState("");
  const [error, setError] = useState<AppError | null>(null);

  const save = async (event: FormEvent) => {
    event.preventDefault();
    try {
      setError(null);
      await props.onSave(name, share === "" ? null : share);
      setName("");
    } catch (e) {
      setError(e as AppError);
    }
  };

  return (
    <section className="panel" aria-labelledby="layouts-title">
      <h2 id="layouts-title">Saved layouts</h2>
      <ul className="layouts" aria-label="Saved layouts">
        {props.layouts.map((layout) => (
          <li key={layout.id} data-layout={layout.name}>
            <button type="button" onClick={() => props.onOpen(layout.id)} aria-label={`Open layout ${layout.name}`}>
              {layout.name}
            </button>
            <span className="note">
              {(layout.wall as WallLayout).name} · {layout.shared_site ? `shared with ${layout.shared_site}` : "private"} · {layout.owner}
            </span>
            {layout.owner === props.operator.username && (
              <button type="button" className="quiet" onClick={() => props.onDelete(layout.id)} aria-label={`Delete layout ${layout.name}`}>
                Delete
              </button>
            )}
          </li>
        ))}
        {props.layouts.length === 0 && <li className="note">None saved yet.</li>}
      </ul>
      <form onSubmit={save} className="row">
        <input aria-label="Layout name" placeholder="Name" value={name} onChange={(e) => setName(e.target.value)} required />
        <select aria-label="Share with" value={share} onChange={(e) => setShare(e.target.value)}>
          <option value="">Private</option>
          {(sites.length > 0 ? sites : ["demo-hq"]).map((s) => (
            <option key={s} value={s}>
              Shared with {s}
            </option>
          ))}
        </select>
        <button type="submit" data-action="save-layout">
          Save wall as layout
        </button>
      </form>
      {error && (
        <p className="error" role="alert">
          {error.message}
        </p>
      )}
    </section>
  );
}
