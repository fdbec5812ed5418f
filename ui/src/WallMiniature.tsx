import { useState, type KeyboardEvent } from "react";
import { PRESETS, neighbour, placement, preset, type Direction } from "./layouts";

const KEYS: Record<string, Direction> = {
  ArrowLeft: "left",
  ArrowRight: "right",
  ArrowUp: "up",
  ArrowDown: "down",
};

/**
 * A miniature of the wall: pick a preset, select a tile by mouse or arrow keys, Enter to
 * maximise and restore it, as on the wall itself.
 */
export function WallMiniature() {
  const [layout, setLayout] = useState("4x4");
  const [selected, setSelected] = useState(0);
  const [maximized, setMaximized] = useState<number | null>(null);
  const tiles = preset(layout)?.tiles ?? [];

  const choose = (name: string) => {
    setLayout(name);
    setSelected(0);
    setMaximized(null);
  };

  const onKey = (event: KeyboardEvent) => {
    const direction = KEYS[event.key];
    if (direction && maximized === null) {
      setSelected(neighbour(tiles, selected, direction));
      event.preventDefault();
    } else if (event.key === "Enter") {
      setMaximized(maximized === null ? selected : null);
      event.preventDefault();
    }
  };

  const shown = maximized === null ? tiles.map((t, i) => [i, t] as const) : [[maximized, { x: 0, y: 0, w: 1, h: 1 }] as const];

  return (
    <section className="panel" aria-labelledby="wall-layout-title">
      <h2 id="wall-layout-title">Wall layout</h2>
      <div className="presets" role="toolbar" aria-label="Layout presets">
        {PRESETS.map((p) => (
          <button key={p.name} type="button" aria-pressed={p.name === layout} onClick={() => choose(p.name)}>
            {p.name}
          </button>
        ))}
      </div>
      <div className="miniature" role="grid" aria-label={`Wall, layout ${layout}`} tabIndex={0} onKeyDown={onKey}>
        {shown.map(([index, tile]) => (
          <button
            key={index}
            type="button"
            role="gridcell"
            className="tile"
            style={placement(tile)}
            aria-selected={index === selected}
            onClick={() => setSelected(index)}
          >
            {index + 1}
          </button>
        ))}
      </div>
      <p className="hint">
        Tile {selected + 1} of {tiles.length}
        {maximized !== null ? " (maximised)" : ""} · arrows move · Enter maximises and restores
      </p>
    </section>
  );
}
