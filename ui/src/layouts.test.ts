import { describe, expect, it } from "vitest";
import { PRESETS, neighbour, placement, preset } from "./layouts";

describe("presets", () => {
  it("are the wall's eleven presets with their tile counts", () => {
    const counts = Object.fromEntries(PRESETS.map((p) => [p.name, p.tiles.length]));
    expect(counts).toEqual({
      "1": 1,
      "2x2": 4,
      "3x3": 9,
      "4x4": 16,
      "5x5": 25,
      "6x6": 36,
      "8x8": 64,
      "1+5": 6,
      "1+7": 8,
      "2+8": 10,
      "1+12": 13,
    });
  });

  it("cover the wall exactly", () => {
    for (const p of PRESETS) {
      const area = p.tiles.reduce((sum, t) => sum + t.w * t.h, 0);
      expect(area).toBeCloseTo(1, 4);
    }
  });
});

describe("keyboard movement", () => {
  const grid = preset("3x3")!.tiles;

  it("moves to the next tile in each direction", () => {
    expect(neighbour(grid, 4, "left")).toBe(3);
    expect(neighbour(grid, 4, "right")).toBe(5);
    expect(neighbour(grid, 4, "up")).toBe(1);
    expect(neighbour(grid, 4, "down")).toBe(7);
  });

  it("stays put at the edge", () => {
    expect(neighbour(grid, 0, "left")).toBe(0);
    expect(neighbour(grid, 8, "down")).toBe(8);
  });

  it("moves off the big tile of 1+5 into the column or row beside it", () => {
    const tiles = preset("1+5")!.tiles;
    const right = tiles[neighbour(tiles, 0, "right")]!;
    expect(right.x).toBeCloseTo(2 / 3, 4);
    expect(right.y).toBeLessThan(2 / 3);
    const down = tiles[neighbour(tiles, 0, "down")]!;
    expect(down.y).toBeCloseTo(2 / 3, 4);
    expect(down.x).toBeLessThan(2 / 3);
  });
});

describe("placement", () => {
  it("turns normalised tiles into CSS percentages", () => {
    expect(placement({ x: 0.25, y: 0.5, w: 0.5, h: 0.25 })).toEqual({
      left: "25.000%",
      top: "50.000%",
      width: "50.000%",
      height: "25.000%",
    });
  });
});
