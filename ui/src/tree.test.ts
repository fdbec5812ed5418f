import { describe, expect, it } from "vitest";
import { cameraCount, cameraOrder, filterTree } from "./tree";
import { connectionLabel, elapsed, healthRow } from "./status";
import { asAppError } from "./transport";
import type { SiteTree, StreamHealth } from "./generated/app";

const camera = (id: string, name: string, floor: string) => ({
  id,
  floor,
  name,
  main_url: "",
  sub_url: "",
  credential_ref: null,
  site: "hq",
  recorder_url: null,
  doors: [],
});

const sites: SiteTree[] = [
  {
    id: "hq",
    name: "Headquarters",
    floors: [
      { id: "g", name: "Ground", cameras: [camera("cam01", "Lobby entrance", "g"), camera("cam02", "Loading dock", "g")] },
      { id: "1", name: "First", cameras: [camera("cam03", "Server room", "1")] },
    ],
  },
];

describe("camera tree", () => {
  it("keeps everything for an empty query", () => {
    expect(cameraCount(filterTree(sites, "  "))).toBe(3);
  });
  it("matches every word, any case, on name, id, floor or site", () => {
    expect(cameraOrder(filterTree(sites, "LOBBY")).map((c) => c.id)).toEqual(["cam01"]);
    expect(cameraOrder(filterTree(sites, "ground dock")).map((c) => c.id)).toEqual(["cam02"]);
    expect(cameraOrder(filterTree(sites, "cam03")).map((c) => c.id)).toEqual(["cam03"]);
    expect(cameraOrder(filterTree(sites, "headquarters")).length).toBe(3);
  });
  it("drops floors and sites with nothing left", () => {
    const shown = filterTree(sites, "server");
    expect(shown[0]?.floors.map((f) => f.id)).toEqual(["1"]);
    expect(filterTree(sites, "nothing-like-this")).toEqual([]);
  });
});

describe("status words", () => {
  const base = { hub: "https://hub:8443", username: "guard", since_ms: 0, attempt: 0, detail: null };
  it("says how long the hub has been unreachable and why, not by colour alone", () => {
    const label = connectionLabel({ ...base, link: "reconnecting", attempt: 3, detail: "refused" }, 125_000);
    expect(label.symbol).toBe("▲");
    expect(label.text).toBe("Hub unreachable for 2 min · attempt 3 · refused");
    expect(connectionLabel({ ...base, link: "online" }, 0).text).toContain("Online");
  });
  it("formats elapsed time", () => {
    expect(elapsed(-5)).toBe("0 s");
    expect(elapsed(59_999)).toBe("59 s");
    expect(elapsed(3_900_000)).toBe("1 h 5 min");
  });
  it("marks streams that are not live", () => {
    const health = { state: "live", fps: 25, bitrate_kbps: 2500, latency_ms: 80 } as StreamHealth;
    expect(healthRow(health)).toMatchObject({ fps: "25.0", bitrate: "2.5 Mb/s", latency: "80 ms", problem: false });
    expect(healthRow({ ...health, state: "auth_failed", latency_ms: null })).toMatchObject({ state: "auth failed", latency: "–", problem: true });
  });
  it("turns any rejection into {code, message}", () => {
    expect(asAppError({ code: "hub_unreachable", message: "down" })).toEqual({ code: "hub_unreachable", message: "down" });
    expect(asAppError("boom")).toEqual({ code: "unexpected", message: "boom" });
  });
});
