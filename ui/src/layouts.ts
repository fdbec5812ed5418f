// Wall layouts as the console shows them: the wall's own presets (generated from the Rust
// `wall` crate, never re-typed here) and keyboard movement between tiles.

import generated from "./generated/presets.json";

/** A tile in normalised wall coordinates (0..1, origin top-left). */
export interface Tile {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Preset {
  name: string;
  tiles: Tile[];
}

export const PRESETS: readonly Preset[] = generated.presets;

export function preset(name: string): Preset | undefined {
  return PRESETS.find((p) => p.name === name);
}

export type Direction = "left" | "right" | "up" | "down";

const STEPS: Record<Direction, readonly [number, number]> = {
  left: [-1, 0],
  right: [1, 0],
  up: [0, -1],
  down: [0, 1],
};

function centre(t: Tile): [number, number] {
  return [t.x + t.w / 2, t.y + t.h / 2];
}

/**
 * The tile an arrow key moves to from `from`: the nearest tile whose centre lies that way
 * (distance across the direction counts four times, so movement stays in its row or column),
 * or `from` itself at the edge of the wall.
 */
export function neighbour(tiles: readonly Tile[], from: number, direction: Direction): number {
  const here = tiles[from];
  if (!here) return 0;
  const [cx, cy] = centre(here);
  const [dx, dy] = STEPS[direction];
  let best = from;
  let bestDistance = Infinity;
  tiles.forEach((tile, index) => {
    if (index === from) return;
    const [x, y] = centre(tile);
    const ahead = dx !== 0 ? (x - cx) * dx > 0.01 : (y - cy) * dy > 0.01;
    if (!ahead) return;
    const [along, across] = dx !== 0 ? [x - cx, y - cy] : [y - cy, x - cx];
    const distance = along ** 2 + 4 * across ** 2;
    if (distance < bestDistance) {
      best = index;
      bestDistance = distance;
    }
  });
  return best;
}

/** CSS percentages that place a tile on a miniature of the wall. */
export function placement(t: Tile): { left: string; top: string; width: string; height: string } {
  const pct = (v: number) => `${(v * 100).toFixed(3)}%`;
  return { left: pct(t.x), top: pct(t.y), width: pct(t.w), height: pct(t.h) };
}
