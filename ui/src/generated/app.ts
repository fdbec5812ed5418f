// Generated from the Rust types by `cargo xtask codegen`; do not edit.

import type { Caller, Change } from "./hub";

/**
 * What went wrong, for the console to act on. `hub_*` codes the hub gave (one per
 * [`contract::ErrorCode`]) or met on the way to it; the rest are the app's own.
 */
export type AppErrorCode = "hub_bad_request" | "hub_unauthenticated" | "hub_forbidden" | "hub_not_found" | "hub_method_not_allowed" | "hub_conflict" | "hub_payload_too_large" | "hub_unsupported_media_type" | "hub_rate_limited" | "hub_upstream" | "hub_database" | "hub_internal" | "hub_unreachable" | "hub_timeout" | "hub_certificate" | "hub_answer" | "hub_refused" | "hub_client" | "offline" | "outcome_unknown" | "not_signed_in" | "superseded" | "no_password" | "bad_input" | "storage" | "keychain_unavailable" | "keychain_locked" | "keychain_no_answer" | "keychain_failed" | "wall" | "window" | "demo" | "no_demo" | "already_running" | "not_recorded";

export type AppError = { code: AppErrorCode, message: string, };

export type Link = "signed-out" | "connecting" | "online" | "reconnecting";

/**
 * What the console shows in its status bar.
 */
export type ConnectionState = { link: Link, 
/**
 * The hub's address, when signed in.
 */
hub: string | null, username: string | null, 
/**
 * Milliseconds since the Unix epoch when `link` last changed.
 */
since_ms: number, 
/**
 * Failed attempts since the link was last online.
 */
attempt: number, 
/**
 * Why the link is not online, in words.
 */
detail: string | null, };

/**
 * The last sign-in, to fill the form (and sign in again when the password is remembered).
 */
export type LastSignIn = { hub: string, username: string, 
/**
 * A PEM file of certificates to trust for this hub beside the system's.
 */
ca_file: string | null, remember: boolean, };

/**
 * What the console needs when it (re)loads.
 */
export type Startup = { last_sign_in: LastSignIn | null, operator: Caller | null, connection: ConnectionState, 
/**
 * Whether "remember me" can work here, and if not, why.
 */
keychain: string | null, 
/**
 * Problems found while starting (an unreadable profile, no media engine).
 */
problems: Array<string>, 
/**
 * Whether this installation can run the embedded demo (hub and simulated site).
 */
demo_available: boolean, 
/**
 * How far back instant replay goes, in seconds.
 */
instant_replay_s: number, };

/**
 * A sign-in request from the form. The password is `None` to use the remembered one.
 */
export type SignIn = { hub: string, username: string, password?: string, remember: boolean, ca_file?: string, };

/**
 * A camera as the app needs it: what to call it, where it is, and how to reach its streams.
 */
export type KnownCamera = { id: string, floor: string, name: string, main_url: string, sub_url: string, 
/**
 * The keychain entry holding the camera's password, if it has one.
 */
credential_ref: string | null, 
/**
 * The site it belongs to (for its stream tickets).
 */
site: string, 
/**
 * Its recorder's restream (`rtsp://host:port`), when a recorder serves it: the wall then
 * opens `<recorder>/<camera>/<main|sub>` with a ticket from the hub, never the camera.
 */
recorder_url: string | null, 
/**
 * Doors this camera watches.
 */
doors: Array<string>, };

/**
 * A floor of a site with its cameras, for the camera tree.
 */
export type FloorTree = { id: string, name: string, cameras: Array<KnownCamera>, };

export type SiteTree = { id: string, name: string, floors: Array<FloorTree>, };

/**
 * A rectangle in normalised wall coordinates.
 */
export type NormRect = { x: number, y: number, w: number, h: number, };

/**
 * A rectangle of whole pixels on the target.
 */
export type PixelRect = { x: number, y: number, w: number, h: number, };

/**
 * A wall layout: its tiles, and which one (if any) is maximised.
 */
export type WallLayout = { name: string, tiles: Array<NormRect>, maximized?: number | null, };

/**
 * A camera sequence on one tile: each camera in turn for `dwell_s` seconds. The app's own
 * (walls remember it in the profile); layouts on the hub carry it as [`contract::Tour`].
 */
export type TileTour = { cameras: Array<string>, dwell_s: number, };

/**
 * A tile an alarm took over, and what it showed before (kept in the profile, so a restart
 * can still give the tile back when the alarm closes).
 */
export type AlarmHold = { alarm: string, before: string | null, before_tour: TileTour | null, 
/**
 * Until the alarm is acknowledged.
 */
flashing: boolean, };

/**
 * What one wall shows; saved in the profile and in saved layouts.
 */
export type WallState = { layout: WallLayout, 
/**
 * One entry per tile: the camera it shows.
 */
cameras: Array<string | null>, 
/**
 * One entry per tile: its tour.
 */
tours: Array<TileTour | null>, selected: number, 
/**
 * The tiles an alarm takes over with its cameras (the last tile unless chosen).
 */
alarm_tiles: Array<number>, 
/**
 * The tiles alarms hold now, by tile.
 */
alarm_holds?: { [key in number]: AlarmHold }, };

/**
 * A tile showing recorded video (never saved: a restart shows live again).
 */
export type TileReplayView = { tile: number, 
/**
 * The instant the replay started from, Unix ms.
 */
from_ms: number, 
/**
 * Following the wall's playback clock.
 */
paced: boolean, };

/**
 * Where a wall's playback clock stands: every replaying tile shows this instant.
 */
export type PlaybackView = { 
/**
 * The recorded instant shown now, Unix ms.
 */
at_ms: number, 
/**
 * Times real time (1/4 to 16).
 */
rate: number, 
/**
 * Paused by the operator.
 */
paused: boolean, 
/**
 * Still waiting for the tiles to show the instant it starts at.
 */
starting: boolean, };

/**
 * A wall as the console sees it.
 */
export type WallView = { id: string, 
/**
 * Whether a window shows this wall now.
 */
on_screen: boolean, 
/**
 * Tiles flashing for an alarm nobody has acknowledged yet.
 */
flashing: Array<number>, 
/**
 * Tiles showing recorded video, and from when.
 */
replaying: Array<TileReplayView>, 
/**
 * The whole wall in synchronised playback: where its clock stands.
 */
playback: PlaybackView | null, layout: WallLayout, 
/**
 * One entry per tile: the camera it shows.
 */
cameras: Array<string | null>, 
/**
 * One entry per tile: its tour.
 */
tours: Array<TileTour | null>, selected: number, 
/**
 * The tiles an alarm takes over with its cameras (the last tile unless chosen).
 */
alarm_tiles: Array<number>, 
/**
 * The tiles alarms hold now, by tile.
 */
alarm_holds?: { [key in number]: AlarmHold }, };

/**
 * A monitor a wall window can go on (physical pixels on the desktop).
 */
export type Monitor = { index: number, name: string, x: number, y: number, width: number, height: number, };

/**
 * What an operator does to a wall's playback.
 */
export type PlaybackControl = { "kind": "play" } | { "kind": "pause" } | { "kind": "rate", rate: number, } | { "kind": "step" };

/**
 * Where a stream is in its life.
 */
export type StreamState = { "state": "connecting" } | { "state": "live" } | { "state": "stalled" } | { "state": "reconnecting", attempt: number, reason: string, } | { "state": "auth_failed" } | { "state": "failed", reason: string, } | { "state": "stopped" };

/**
 * A snapshot of one stream's health.
 */
export type StreamHealth = { 
/**
 * The stream's URL without credentials.
 */
url: string, label: string, 
/**
 * The decoder element in use.
 */
decoder: string | null, codec: string | null, width: number | null, height: number | null, 
/**
 * Decoded frames per second over the last measuring window.
 */
fps: number, bitrate_kbps: number, 
/**
 * Frames decoded since the stream was opened.
 */
frames: number, 
/**
 * Frames handed over to the consumer.
 */
frames_out: number, 
/**
 * Frames replaced in the slot before the consumer took them.
 */
dropped: number, decode_errors: number, reconnects: number, 
/**
 * Connection attempts, the first included.
 */
attempts: number, 
/**
 * Frames the source stamped that never arrived (simulator sources only).
 */
source_gaps: number, since_last_frame_ms: number | null, 
/**
 * Capture-to-decode latency from the pixel stamp, when the source writes one.
 */
latency_ms: number | null, } & ({ "state": "connecting" } | { "state": "live" } | { "state": "stalled" } | { "state": "reconnecting", attempt: number, reason: string, } | { "state": "auth_failed" } | { "state": "failed", reason: string, } | { "state": "stopped" });

/**
 * What a replaying tile shows: the first frame it showed and the one it shows now, each as
 * its capture time and (simulated cameras) its pixel stamp's time, Unix ms.
 */
export type ReplayShown = { from_ms: number, first_capture_ms: number | null, 
/**
 * The pixel stamp's capture time (modulo 2^32 ms, as the stamp holds it).
 */
first_stamp_ms: number | null, now_capture_ms: number | null, now_stamp_ms: number | null, };

/**
 * Health of the stream on one tile.
 */
export type TileHealth = { wall: string, tile: number, camera: string | null, health: StreamHealth, 
/**
 * What a tile showing recorded video shows.
 */
replay: ReplayShown | null, };

/**
 * A wall picture written to disk, with where its tiles are.
 */
export type Snapshot = { path: string, width: number, height: number, 
/**
 * Visible tiles: index and pixel rectangle.
 */
tiles: Array<[number, PixelRect]>, };

/**
 * What became of a write the console asked for.
 */
export type WriteOutcome = { "status": "delivered", value: unknown, } | { "status": "delivered-without-answer" } | { "status": "queued", outbox_id: string, };

/**
 * One write waiting for the hub.
 */
export type OutboxItem = { id: string, 
/**
 * Which hub and operator wrote it: it is sent only on their session.
 */
hub: string, username: string, method: string, 
/**
 * Below `/api/v1`.
 */
path: string, 
/**
 * What it is, for people ("Note on incident …").
 */
summary: string, created_ms: number, attempts: number, last_error: string | null, 
/**
 * The hub refused it for good (it stays until the operator discards it).
 */
failed: boolean, };

/**
 * What the console shows of the outbox.
 */
export type OutboxView = { items: Array<OutboxItem>, };

/**
 * What the core tells the console, as it happens.
 */
export type AppEvent = { "type": "connection", state: ConnectionState, } | { "type": "walls", walls: Array<WallView>, } | { "type": "cameras" } | { "type": "layouts" } | { "type": "hub-change", change: Change, } | { "type": "problem", message: string, } | { "type": "outbox", outbox: OutboxView, };
