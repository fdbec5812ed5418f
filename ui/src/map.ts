// The floor map's logic: where pins go, what a camera sees (its cone), how a door's live state
// looks (shape, symbol and words as well as colour), and how door events change it.

import type { Door, Event as HubEvent, SiteDetail } from "./generated/hub";

export type DoorLookState = "forced-open" | "held-open" | "open" | "locked" | "unlocked" | "closed" | "unknown";

export interface DoorLook {
  state: DoorLookState;
  /** Words for the state, shown beside the pin and read by screen readers. */
  label: string;
  /** A symbol drawn in the pin. */
  symbol: string;
  /** The pin's outline, different per state so colour is never the only cue. */
  shape: "octagon" | "triangle" | "circle" | "square" | "diamond" | "ring" | "dashed";
  /** Whether the state needs someone (drawn pulsing, listed first). */
  urgent: boolean;
}

const LOOKS: Record<DoorLookState, Omit<DoorLook, "state">> = {
  "forced-open": { label: "forced open", symbol: "!", shape: "octagon", urgent: true },
  "held-open": { label: "held open", symbol: "⧗", shape: "triangle", urgent: true },
  open: { label: "open", symbol: "◠", shape: "ring", urgent: false },
  locked: { label: "locked", symbol: "■", shape: "square", urgent: false },
  unlocked: { label: "unlocked", symbol: "◇", shape: "diamond", urgent: false },
  closed: { label: "closed", symbol: "●", shape: "circle", urgent: false },
  unknown: { label: "unknown", symbol: "?", shape: "dashed", urgent: false },
};

const is = (value: string | null, ...wanted: string[]) => value !== null && wanted.includes(value.toLowerCase());

/**
 * How a door looks, from its ONVIF states: an alarm (forced, held open) wins over the physical
 * state; an open door over its lock; then the lock (or door mode); then closed; else unknown.
 */
export function doorLook(door: Pick<Door, "door_state" | "lock_state" | "alarm" | "mode">): DoorLook {
  const state: DoorLookState = is(door.alarm, "doorforcedopen", "forcedopen")
    ? "forced-open"
    : is(door.alarm, "dooropentoolong", "doorheldopen", "heldopen")
      ? "held-open"
      : is(door.door_state, "open")
        ? "open"
        : is(door.lock_state, "locked") || is(door.mode, "locked", "lockeddown", "doublelocked")
          ? "locked"
          : is(door.lock_state, "unlocked") || is(door.mode, "unlocked", "lockedopen", "accessed")
            ? "unlocked"
            : is(door.door_state, "closed")
              ? "closed"
              : "unknown";
  return { state, ...LOOKS[state] };
}

export interface CameraPin {
  id: string;
  name: string;
  x: number;
  y: number;
  /** SVG path of the field of view, a wedge from the camera. */
  cone: string;
}

export interface DoorPin {
  id: string;
  name: string;
  x: number;
  y: number;
  look: DoorLook;
}

const round = (n: number) => Math.round(n * 10) / 10;

/** The wedge a camera sees: `direction_deg` clockwise from up, `fov_deg` wide, `reach` long. */
export function conePath(x: number, y: number, directionDeg: number, fovDeg: number, reach: number): string {
  const fov = Math.min(Math.max(fovDeg, 1), 359);
  const point = (deg: number) => {
    const rad = (deg * Math.PI) / 180;
    return [round(x + Math.sin(rad) * reach), round(y - Math.cos(rad) * reach)] as const;
  };
  const [ax, ay] = point(directionDeg - fov / 2);
  const [bx, by] = point(directionDeg + fov / 2);
  const large = fov > 180 ? 1 : 0;
  return `M ${round(x)} ${round(y)} L ${ax} ${ay} A ${round(reach)} ${round(reach)} 0 ${large} 1 ${bx} ${by} Z`;
}

/** Camera and door pins of one floor, in the floor's own coordinates (the plan's viewBox). */
export function pins(site: SiteDetail, floorId: string): { cameras: CameraPin[]; doors: DoorPin[] } {
  const floor = site.floors.find((f) => f.id === floorId);
  const reach = floor ? Math.min(floor.width, floor.height) * 0.12 : 60;
  return {
    cameras: site.cameras
      .filter((c) => c.floor === floorId)
      .map((c) => ({
        id: c.id,
        name: c.name,
        x: c.position[0],
        y: c.position[1],
        cone: conePath(c.position[0], c.position[1], c.direction_deg, c.fov_deg, reach),
      })),
    doors: site.doors
      .filter((d) => d.floor === floorId)
      .map((d) => ({ id: d.id, name: d.name, x: d.position[0], y: d.position[1], look: doorLook(d) })),
  };
}

const DOOR_FIELDS: Record<string, keyof Pick<Door, "door_state" | "lock_state" | "alarm" | "mode">> = {
  DoorPhysicalState: "door_state",
  LockPhysicalState: "lock_state",
  DoorAlarm: "alarm",
  DoorMode: "mode",
};

/** The new state an event reports: `body.state` (as the hub stores the source's event), else
 *  `body.State` or `body.data.state`; null when the event carries none. */
export function reportedState(body: unknown): string | null {
  if (!body || typeof body !== "object") return null;
  const b = body as Record<string, unknown>;
  const data = b.data && typeof b.data === "object" ? (b.data as Record<string, unknown>) : {};
  const value = b.state ?? b.State ?? data.state ?? data.State;
  return typeof value === "string" && value !== "" ? value : null;
}

/**
 * The site with `event` applied to its door, or the same site object when the event changes
 * no door (another site, no door, not a state event, no state, or older than the door's state).
 */
export function applyDoorEvent(site: SiteDetail, event: HubEvent): SiteDetail {
  const type = event.type ?? (event as Partial<{ event_type: string }>).event_type;
  const field = type ? DOOR_FIELDS[type] : undefined;
  const state = reportedState(event.body);
  if (!field || state === null || event.site !== site.id || !event.door) return site;
  const at = site.doors.findIndex((d) => d.id === event.door);
  const door = site.doors[at];
  if (!door) return site;
  if (door.state_time && Date.parse(door.state_time) > Date.parse(event.time)) return site;
  const doors = [...site.doors];
  doors[at] = { ...door, [field]: state, state_time: event.time };
  return { ...site, doors };
}

/** The site with a door replaced by the hub's `door` change (its whole state), if it is ours. */
export function applyDoorChange(site: SiteDetail, door: Door): SiteDetail {
  const at = site.doors.findIndex((d) => d.id === door.id);
  if (door.site !== site.id || at < 0) return site;
  const doors = [...site.doors];
  doors[at] = door;
  return { ...site, doors };
}
