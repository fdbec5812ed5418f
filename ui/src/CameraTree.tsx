import { useMemo, useState, type KeyboardEvent } from "react";
import { cameraOrder, filterTree } from "./tree";
import type { SiteTree } from "./generated/app";

export const CAMERA_MIME = "application/x-watchfloor-camera";

/** Sites, floors and cameras with search. Drag a camera onto a tile, or pick one with the
 *  arrow keys and press Enter to put it on the selected tile. */
export function CameraTree(props: {
  sites: SiteTree[];
  onPut: (camera: string) => void;
  onShowAll: (cameras: string[]) => void;
  /** Whether cameras can go on a wall (not in the browser, which has none). */
  canPut?: boolean;
}) {
  const canPut = props.canPut ?? true;
  const [query, setQuery] = useState("");
  const [focused, setFocused] = useState<string | null>(null);
  const shown = useMemo(() => filterTree(props.sites, query), [props.sites, query]);
  const order = useMemo(() => cameraOrder(shown), [shown]);

  const onKey = (event: KeyboardEvent) => {
    const at = order.findIndex((c) => c.id === focused);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      const step = event.key === "ArrowDown" ? 1 : -1;
      const next = order[Math.min(order.length - 1, Math.max(0, at + step))];
      if (next) {
        setFocused(next.id);
        document.getElementById(`camera-${next.id}`)?.focus();
      }
      event.preventDefault();
    } else if (event.key === "Enter" && focused && canPut) {
      props.onPut(focused);
      event.preventDefault();
    }
  };

  return (
    <section className="panel cameras" aria-labelledby="cameras-title">
      <h2 id="cameras-title">Cameras</h2>
      <input
        type="search"
        aria-label="Search cameras"
        placeholder="Search cameras"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
      />
      <div role="tree" aria-label="Cameras by site and floor" onKeyDown={onKey}>
        {shown.map((site) => (
          <div role="treeitem" aria-expanded="true" aria-selected="false" key={site.id} className="site">
            <div className="site-name">
              {site.name}
              {canPut && (
              <button
                type="button"
                className="quiet"
                aria-label={`Show every camera of ${site.name} on the wall`}
                onClick={() => props.onShowAll(site.floors.flatMap((f) => f.cameras.map((c) => c.id)))}
              >
                Show all
              </button>
              )}
            </div>
            <div role="group">
              {site.floors.map((floor) => (
                <div role="treeitem" aria-expanded="true" aria-selected="false" key={floor.id} className="floor">
                  <div className="floor-name">{floor.name}</div>
                  <ul role="group">
                    {floor.cameras.map((camera) => (
                      <li
                        key={camera.id}
                        id={`camera-${camera.id}`}
                        role="treeitem"
                        aria-selected={focused === camera.id}
                        tabIndex={focused === camera.id || (focused === null && camera.id === order[0]?.id) ? 0 : -1}
                        className="camera"
                        data-camera={camera.id}
                        draggable={canPut}
                        onDragStart={(e) => {
                          e.dataTransfer.setData(CAMERA_MIME, camera.id);
                          e.dataTransfer.setData("text/plain", camera.id);
                          e.dataTransfer.effectAllowed = "copy";
                        }}
                        onFocus={() => setFocused(camera.id)}
                        onDoubleClick={() => canPut && props.onPut(camera.id)}
                      >
                        <span aria-hidden="true">▣</span> {camera.name}
                      </li>
                    ))}
                  </ul>
                </div>
              ))}
            </div>
          </div>
        ))}
        {order.length === 0 && <p className="note">{props.sites.length === 0 ? "No cameras yet." : "No camera matches."}</p>}
      </div>
    </section>
  );
}
