// What the app core sends and takes (crates/app: core.rs, walls.rs, connection.rs,
// hub_client.rs; media's StreamHealth). Field names follow the Rust serde names.

import type { Tile } from "./layouts";

export interface AppError {
  code: string;
  message: string;
}

export interface Grant {
  site: string;
  role: string;
}

export interface Operator {
  user_id: string;
  username: string;
  display_name: string;
  grants: Grant[];
}

export type Link = "signed-out" | "connecting" | "online" | "reconnecting";

export interface ConnectionState {
  link: Link;
  hub: string | null;
  username: string | null;
  since_ms: number;
  attempt: number;
  detail: string | null;
}

export interface LastSignIn {
  hub: string;
  username: string;
  ca_file: string | null;
  remember: boolean;
}

export interface Startup {
  last_sign_in: LastSignIn | null;
  operator: Operator | null;
  connection: ConnectionState;
  keychain: string | null;
  problems: string[];
  /** Whether this installation can run the embedded demo (hub and simulated site). */
  demo_available: boolean;
}

export interface Camera {
  id: string;
  floor: string;
  name: string;
  main_url: string;
  sub_url: string;
  credential_ref: string | null;
  doors: string[];
}

export interface FloorTree {
  id: string;
  name: string;
  cameras: Camera[];
}

export interface SiteTree {
  id: string;
  name: string;
  floors: FloorTree[];
}

export interface WallLayout {
  name: string;
  tiles: Tile[];
  maximized?: number | null;
}

export interface Tour {
  cameras: string[];
  dwell_s: number;
}

export interface WallView {
  id: string;
  layout: WallLayout;
  cameras: (string | null)[];
  tours: (Tour | null)[];
  selected: number;
  on_screen: boolean;
  /** Tiles that alarms take over (their cameras replace what the tile shows). */
  alarm_tiles?: number[];
  /** Alarm tiles now flashing for an alarm nobody has acknowledged. */
  flashing?: number[];
}

export interface SavedLayout {
  id: string;
  owner: string;
  updated_at: string;
  name: string;
  shared_site: string | null;
  wall: WallLayout;
  cameras: (string | null)[];
  tours: (Tour | null)[];
}

export interface StreamHealth {
  url: string;
  label: string;
  state: string;
  decoder: string | null;
  codec: string | null;
  width: number | null;
  height: number | null;
  fps: number;
  bitrate_kbps: number;
  frames: number;
  dropped: number;
  decode_errors: number;
  reconnects: number;
  latency_ms: number | null;
  since_last_frame_ms: number | null;
  [more: string]: unknown;
}

export interface TileHealth {
  wall: string;
  tile: number;
  camera: string | null;
  health: StreamHealth;
}

export interface Monitor {
  index: number;
  name: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

export type AppEvent =
  | { type: "connection"; state: ConnectionState }
  | { type: "walls"; walls: WallView[] }
  | { type: "cameras" }
  | { type: "layouts" }
  | { type: "hub-change"; change: HubChange }
  | { type: "outbox"; outbox: OutboxView }
  | { type: "problem"; message: string };

/** One change on the hub's live feed (`kind`: event, alarm, door, incident, note, site, layout…). */
export interface HubChange {
  seq: number;
  at: string;
  kind: string;
  site: string | null;
  data: unknown;
}

// ---- The hub's own shapes (crates/hub/src/model.rs), as `hub_get` answers them. ----

export interface HubEvent {
  id: string;
  site: string;
  /** access-granted, access-denied, door-state, door-alarm, sensor, system */
  kind: string;
  /** The source's type (DoorPhysicalState, DoorAlarm…); serde renames it `type`. */
  type: string;
  topic: string | null;
  door: string | null;
  camera: string | null;
  time: string;
  received: string;
  body: unknown;
}

export type AlarmState = "new" | "acknowledged" | "closed";

export interface Alarm {
  id: string;
  site: string;
  rule: string;
  event: string;
  door: string | null;
  title: string;
  /** 1 is the most urgent. */
  priority: number;
  procedure: string;
  cameras: string[];
  state: AlarmState;
  raised: string;
  acknowledged_by: string | null;
  acknowledged: string | null;
  acknowledge_comment: string | null;
  forwarded_to: string | null;
  closed_by: string | null;
  closed: string | null;
  close_comment: string | null;
}

export interface Floor {
  id: string;
  name: string;
  width: number;
  height: number;
  plan_url: string;
}

export interface SiteCamera {
  id: string;
  floor: string;
  name: string;
  position: [number, number];
  direction_deg: number;
  fov_deg: number;
  doors: string[];
}

export interface Door {
  id: string;
  site: string;
  floor: string;
  zone: string;
  name: string;
  position: [number, number];
  cameras: string[];
  door_state: string | null;
  lock_state: string | null;
  alarm: string | null;
  mode: string | null;
  state_time: string | null;
}

export interface SiteDetail {
  id: string;
  name: string;
  floors: Floor[];
  zones: unknown[];
  cameras: SiteCamera[];
  doors: Door[];
}

export type IncidentStatus = "open" | "in-progress" | "closed";

export interface IncidentLink {
  kind: string;
  id: string;
}

export interface Incident {
  id: string;
  site: string;
  title: string;
  status: IncidentStatus;
  priority: number;
  assignee: string | null;
  created_by: string;
  created: string;
  updated: string;
  links: IncidentLink[];
}

export interface AttachmentRef {
  name: string;
  media_type: string;
  size: number;
  sha256?: string;
}

export interface IncidentNote {
  id: string;
  incident: string;
  author: string;
  time: string;
  text: string;
  attachments: AttachmentRef[];
}

export interface AuditRecord {
  seq: number;
  time: string;
  user: string | null;
  action: string;
  site: string | null;
  target: string | null;
  detail: unknown;
}

/** GET /incidents/{id}: the incident's fields flattened, with its notes and history. */
export interface IncidentDetail extends Incident {
  notes: IncidentNote[];
  history: AuditRecord[];
}

/** What `hub_write` answers: delivered now, or queued durably in the app's outbox. */
export type WriteResult<T = unknown> = { delivered: true; value: T } | { delivered: false; outbox_id: string };

export interface OutboxItem {
  id: string;
  created_ms: number;
  method: string;
  path: string;
  summary: string;
  attempts: number;
  last_error: string | null;
  failed: boolean;
}

export interface OutboxView {
  items: OutboxItem[];
}
