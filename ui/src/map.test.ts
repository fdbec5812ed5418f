import { describe, expect, it } from "vitest";
import { applyDoorChange, applyDoorEvent, conePath, doorLook, pins, reportedState } from "./map";
import type { Door, Event as HubEvent, SiteDetail } from "./generated/hub";

const door = (id: string, more: Partial<Door> = {}): Door => ({
  id,
  site: "hq",
  floor: "ground",
  zone: "lobby",
  name: id.toUpperCase(),
  position: [100, 200],
  cameras: [],
  door_state: null,
  lock_state: null,
  alarm: null,
  mode: null,
  state_time: null,
  ...more,
});

const site: SiteDetail = {
  id: "hq",
  name: "HQ",
  floors: [
    { id: "ground", name: "Ground", width: 1000, height: 600, plan_url: "" },
    { id: "first", name: "First", width: 1000, height: 600, plan_url: "" },
  ],
  zones: [],
  cameras: [
    { id: "cam1", floor: "ground", name: "Lobby", main_url: "rtsp://sim/cam", sub_url: "", credential_ref: null, recorder: null, position: [50, 50], direction_deg: 90, fov_deg: 90, doors: [] },
    { id: "cam2", floor: "first", name: "Office", main_url: "rtsp://sim/cam", sub_url: "", credential_ref: null, recorder: null, position: [10, 10], direction_deg: 0, fov_deg: 60, doors: [] },
  ],
  doors: [door("d1"), door("d2", { floor: "first" })],
};

const event = (type: string, body: unknown, more: Partial<HubEvent> = {}): HubEvent => ({
  id: "e1",
  site: "hq",
  source: "webhook:ctl",
  kind: "door-state",
  type,
  topic: null,
  door: "d1",
  camera: null,
  time: "2025-01-01T00:00:00Z",
  received: "2025-01-01T00:00:00Z",
  body,
  ...more,
});

describe("door look", () => {
  it("gives every state its own shape, symbol and words", () => {
    const looks = [
      doorLook(door("a", { alarm: "DoorForcedOpen", door_state: "Open" })),
      doorLook(door("a", { alarm: "DoorOpenTooLong", door_state: "Open" })),
      doorLook(door("a", { door_state: "Open", lock_state: "Unlocked" })),
      doorLook(door("a", { door_state: "Closed", lock_state: "Locked" })),
      doorLook(door("a", { door_state: "Closed", lock_state: "Unlocked" })),
      doorLook(door("a", { door_state: "Closed" })),
      doorLook(door("a")),
    ];
    expect(looks.map((l) => l.state)).toEqual(["forced-open", "held-open", "open", "locked", "unlocked", "closed", "unknown"]);
    expect(looks.map((l) => l.label)).toEqual(["forced open", "held open", "open", "locked", "unlocked", "closed", "unknown"]);
    expect(new Set(looks.map((l) => l.shape)).size).toBe(7);
    expect(new Set(looks.map((l) => l.symbol)).size).toBe(7);
    expect(looks.filter((l) => l.urgent).map((l) => l.state)).toEqual(["forced-open", "held-open"]);
  });
  it("reads states in any case, and a door mode when the lock is silent", () => {
    expect(doorLook(door("a", { alarm: "doorforcedopen" })).state).toBe("forced-open");
    expect(doorLook(door("a", { mode: "LockedDown" })).state).toBe("locked");
    expect(doorLook(door("a", { alarm: "Normal", door_state: "Fault" })).state).toBe("unknown");
  });
});

describe("pins", () => {
  it("places one floor's cameras and doors in floor coordinates", () => {
    const p = pins(site, "ground");
    expect(p.cameras.map((c) => [c.id, c.x, c.y])).toEqual([["cam1", 50, 50]]);
    expect(p.doors.map((d) => [d.id, d.x, d.y, d.look.state])).toEqual([["d1", 100, 200, "unknown"]]);
    expect(pins(site, "first").doors.map((d) => d.id)).toEqual(["d2"]);
    expect(pins(site, "nowhere")).toEqual({ cameras: [], doors: [] });
  });
  it("draws the cone clockwise from up", () => {
    // Facing right (90°), 90° wide, 100 long: from up-right (45°) to down-right (135°).
    expect(conePath(0, 0, 90, 90, 100)).toBe("M 0 0 L 70.7 -70.7 A 100 100 0 0 1 70.7 70.7 Z");
    // Facing up, 60° wide.
    expect(conePath(10, 10, 0, 60, 100)).toBe("M 10 10 L -40 -76.6 A 100 100 0 0 1 60 -76.6 Z");
    expect(conePath(0, 0, 0, 270, 10)).toContain(" 0 1 1 ");
  });
});

describe("live door state", () => {
  it("takes the new state from body.state", () => {
    const next = applyDoorEvent(site, event("DoorAlarm", { state: "DoorForcedOpen" }));
    expect(next.doors[0]?.alarm).toBe("DoorForcedOpen");
    expect(doorLook(next.doors[0]!).state).toBe("forced-open");
    expect(next.doors[0]?.state_time).toBe("2025-01-01T00:00:00Z");
    expect(applyDoorEvent(site, event("LockPhysicalState", { state: "Locked" })).doors[0]?.lock_state).toBe("Locked");
    expect(applyDoorEvent(site, event("DoorPhysicalState", { state: "Open" })).doors[0]?.door_state).toBe("Open");
    expect(applyDoorEvent(site, event("DoorMode", { state: "LockedDown" })).doors[0]?.mode).toBe("LockedDown");
  });
  it("falls back gracefully: other shapes, no state, other doors, older news", () => {
    expect(reportedState({ data: { state: "Open" } })).toBe("Open");
    expect(reportedState({ State: "Closed" })).toBe("Closed");
    expect(reportedState(null)).toBeNull();
    expect(applyDoorEvent(site, event("DoorAlarm", {}))).toBe(site);
    expect(applyDoorEvent(site, event("AccessGranted", { state: "Open" }))).toBe(site);
    expect(applyDoorEvent(site, event("DoorAlarm", { state: "x" }, { door: "nope" }))).toBe(site);
    expect(applyDoorEvent(site, event("DoorAlarm", { state: "x" }, { site: "other" }))).toBe(site);
    const newer = { ...site, doors: [door("d1", { state_time: "2025-01-02T00:00:00Z" })] };
    expect(applyDoorEvent(newer, event("DoorAlarm", { state: "DoorForcedOpen" }))).toBe(newer);
  });
  it("takes the hub's door change whole", () => {
    const next = applyDoorChange(site, door("d1", { lock_state: "Unlocked" }));
    expect(doorLook(next.doors[0]!).state).toBe("unlocked");
    expect(applyDoorChange(site, door("zz"))).toBe(site);
  });
});
