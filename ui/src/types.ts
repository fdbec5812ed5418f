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
  | { type: "hub-change"; change: { seq: number; kind: string; site: string | null; data: unknown } }
  | { type: "problem"; message: string };
