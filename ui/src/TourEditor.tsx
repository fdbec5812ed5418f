import { useState } from "react";
import type { SiteTree, TileTour } from "./generated/app";
import { cameraOrder } from "./tree";

/** A camera sequence on the selected tile: pick cameras and a dwell time. */
export function TourEditor(props: {
  tile: number;
  tour: TileTour | null;
  sites: SiteTree[];
  onSet: (tour: TileTour | null) => void;
}) {
  const cameras = cameraOrder(props.sites);
  const [chosen, setChosen] = useState<string[]>(props.tour?.cameras ?? []);
  const [dwell, setDwell] = useState(props.tour?.dwell_s ?? 10);
  const toggle = (id: string) => setChosen((c) => (c.includes(id) ? c.filter((x) => x !== id) : [...c, id]));
  return (
    <section className="panel" aria-labelledby="tour-title">
      <h2 id="tour-title">Tour on tile {props.tile + 1}</h2>
      <div className="tour-cameras" role="group" aria-label="Cameras in the tour">
        {cameras.map((c) => (
          <label key={c.id} className="check">
            <input type="checkbox" checked={chosen.includes(c.id)} onChange={() => toggle(c.id)} />
            {c.name}
          </label>
        ))}
      </div>
      <div className="row">
        <label>
          Dwell (s)
          <input type="number" min={1} max={3600} value={dwell} onChange={(e) => setDwell(Number(e.target.value))} />
        </label>
        <button type="button" disabled={chosen.length === 0} onClick={() => props.onSet({ cameras: chosen, dwell_s: dwell })}>
          Start tour
        </button>
        <button type="button" disabled={!props.tour} onClick={() => props.onSet(null)}>
          Stop tour
        </button>
      </div>
    </section>
  );
}
