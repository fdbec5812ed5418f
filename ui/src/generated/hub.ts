// Generated from the Rust types by `cargo xtask codegen`; do not edit.

/**
 * Why the hub refused or failed a request. Each code has one HTTP status.
 */
export type ErrorCode = "bad_request" | "unauthenticated" | "forbidden" | "not_found" | "method_not_allowed" | "conflict" | "payload_too_large" | "unsupported_media_type" | "rate_limited" | "upstream" | "database" | "internal";

/**
 * An error as it travels: the hub's answers, the live feed's `error` message.
 */
export type ErrorBody = { code: ErrorCode, message: string, };

/**
 * A user's role on a site.
 */
export type Role = "guard" | "supervisor" | "manager" | "it-admin";

/**
 * What a request wants to do, checked against the caller's role on the object's site.
 */
export type Right = "view" | "report-view" | "share-layout" | "acknowledge-alarm" | "forward-alarm" | "close-alarm" | "write-incident" | "manage-incident" | "delete-incident" | "door-unlock" | "lockdown" | "read-audit" | "configure" | "manage-users" | "it-settings";

/**
 * One role and what it may do (`GET /api/v1/rights`).
 */
export type RightsRow = { role: Role, rights: Array<Right>, };

/**
 * A role on a site.
 */
export type Grant = { 
/**
 * A site id, or `*` for every site.
 */
site: string, role: Role, };

/**
 * A signed-in user as their session says: who is asking, and with which grants.
 */
export type Caller = { user_id: string, username: string, display_name: string, grants: Array<Grant>, };

/**
 * `GET /api/v1/health`.
 */
export type Health = { status: string, version: string, database: string, 
/**
 * The newest change's sequence number.
 */
seq: number, };

/**
 * A user name and password. Never logged; `Debug` hides the password.
 */
export type Login = { username: string, password: string, };

/**
 * A session made by signing in.
 */
export type Session = { 
/**
 * The bearer token: send it as `Authorization: Bearer <token>`. Shown once.
 */
token: string, expires: string, user: Caller, };

/**
 * A browser console's sign-in: the session goes into an HttpOnly cookie, never into the body.
 */
export type BrowserSession = { expires: string, user: Caller, };

export type User = { id: string, username: string, display_name: string, grants: Array<Grant>, disabled: boolean, };

export type NewUser = { 
/**
 * Client-made id; a replay with the same id changes nothing.
 */
id: string, username: string, display_name: string, password: string, grants: Array<Grant>, };

/**
 * `PUT /api/v1/users/{id}/grants`.
 */
export type GrantsBody = { grants: Array<Grant>, };

/**
 * An event source (a door controller, a gateway) to create.
 */
export type NewSource = { id: string, site: string, name: string, };

/**
 * `PUT /api/v1/users/{id}/password`: an IT admin sets a new password (every session of the
 * user ends).
 */
export type PasswordReset = { password: string, };

/**
 * `PUT /api/v1/me/password`: a user changes their own password (their other sessions end).
 */
export type PasswordChange = { current: string, password: string, };

/**
 * A user's session, as `GET /api/v1/users/{id}/sessions` lists it.
 */
export type SessionInfo = { 
/**
 * The session's handle, to end it with `DELETE /api/v1/users/{id}/sessions/{session}`.
 */
id: string, 
/**
 * RFC 3339.
 */
created: string, expires: string, 
/**
 * The address it signed in from (as the log-in limit counts it); empty for sessions made
 * before hubs kept it.
 */
client: string, 
/**
 * Whether it is the session of the request that lists it.
 */
current: boolean, };

/**
 * A new source's key, shown once.
 */
export type SourceSecret = { id: string, site: string, 
/**
 * The HMAC key for `X-Watchfloor-Signature`. Shown once; the hub keeps it sealed.
 */
secret: string, };

/**
 * Hub-wide settings (IT).
 */
export type Settings = { 
/**
 * How long a session lasts, in minutes.
 */
session_minutes: number, };

/**
 * That a camera was viewed, for the audit trail.
 */
export type CameraViewed = { site: string, camera: string, };

export type SiteSummary = { id: string, name: string, };

export type Floor = { id: string, name: string, width: number, height: number, 
/**
 * Where to fetch the plan image.
 */
plan_url: string, };

export type Zone = { id: string, floor: string, name: string, outline: Array<[number, number]>, };

export type Camera = { id: string, floor: string, name: string, main_url: string, sub_url: string, 
/**
 * The name under which the client's keychain holds the camera's password, if any.
 */
credential_ref: string | null, 
/**
 * The recorder that serves it (`GET /api/v1/sites/{site}/recorders`): clients watch it
 * through the recorder with a stream ticket. `null`: they open `main_url`/`sub_url`.
 */
recorder: string | null, position: [number, number], direction_deg: number, fov_deg: number, 
/**
 * Doors this camera watches.
 */
doors: Array<string>, };

/**
 * A door and its live state (ONVIF Profile C vocabulary; `null` until first reported).
 */
export type Door = { id: string, site: string, floor: string, zone: string, name: string, position: [number, number], cameras: Array<string>, door_state: string | null, lock_state: string | null, alarm: string | null, mode: string | null, state_time: string | null, };

export type SiteDetail = { id: string, name: string, floors: Array<Floor>, zones: Array<Zone>, cameras: Array<Camera>, doors: Array<Door>, };

/**
 * A camera's streams as the site's recorder or simulator serves them.
 */
export type CameraStreams = { main_url: string, sub_url: string, credential_ref?: string, 
/**
 * The registered recorder that serves the camera. When absent, a camera keeps the recorder
 * it had.
 */
recorder?: string, };

/**
 * A whole site to create or replace: the site file (see `crates/site`), its floor plans, the
 * cameras' stream URLs and where door commands go.
 */
export type SiteImport = { site: unknown, 
/**
 * Floor id → plan image (SVG text).
 */
plans: { [key in string]: string }, 
/**
 * Camera id → stream URLs.
 */
streams: { [key in string]: CameraStreams }, 
/**
 * The controller's base URL; door commands are posted to `{url}/api/v1/doors/commands`.
 */
controller_url?: string, 
/**
 * The event source the controller sends as (registered on the hub for this site): every
 * door command is signed with a key from its secret, and a controller paired this way
 * refuses unsigned and replayed commands. Without it the hub sends no door commands; an
 * import that leaves it out keeps the site's pairing.
 */
controller_source?: string, };

/**
 * A door command from an operator.
 */
export type DoorCommandRequest = { 
/**
 * Client-made id of this command; a replay is not sent twice.
 */
request_id: string, 
/**
 * `momentary-unlock`.
 */
command: string, };

/**
 * A site's lockdown, on or off.
 */
export type LockdownRequest = { request_id: string, on: boolean, };

/**
 * An event as the hub filed it.
 */
export type Event = { 
/**
 * The source's own id: unique per site and source.
 */
id: string, site: string, 
/**
 * Who sent it: `webhook:<source>` or `mqtt:<source>`, the event source (a door controller,
 * sensor gateway or recorder registered on the hub) and how it sent. Empty in changes
 * stored before hubs kept ids per source.
 */
source: string, 
/**
 * One of [`EVENT_KINDS`].
 */
kind: string, 
/**
 * The source's type (`DoorPhysicalState`, `DoorAlarm`, ...).
 */
type: string, topic: string | null, door: string | null, camera: string | null, time: string, received: string, 
/**
 * The event as the source sent it.
 */
body: unknown, };

/**
 * `GET /api/v1/events`.
 */
export type EventFilter = { site: string | null, 
/**
 * One of the event kinds (`access-granted`, `access-denied`, `door-state`, `door-alarm`,
 * `sensor`, `system`).
 */
kind: string | null, door: string | null, 
/**
 * RFC 3339; events at or after.
 */
from: string | null, 
/**
 * RFC 3339; events before.
 */
to: string | null, 
/**
 * At most this many, newest first (default 200, at most 1000).
 */
limit: number | null, };

/**
 * One event as sources send it. Fields beyond these are kept as received.
 */
export type IngestEvent = { 
/**
 * The source's id for the event, unique per site and source: the idempotency key.
 */
id: string, 
/**
 * When it happened, RFC 3339.
 */
time: string, site: string, door?: string, camera?: string, 
/**
 * The ONVIF topic, e.g. `tns1:Door/State/DoorAlarm`.
 */
topic?: string, 
/**
 * `AccessGranted`, `AccessDenied`, `DoorPhysicalState`, `LockPhysicalState`, `DoorAlarm`,
 * `DoorMode`, `Sensor...` or any other type (filed as `system`).
 */
type: string, 
/**
 * The new state, for state and alarm events (`Open`, `DoorForcedOpen`, ...).
 */
state?: string, };

/**
 * What became of one ingested event.
 */
export type IngestStatus = "accepted" | "duplicate" | "rejected";

/**
 * What happened to one event.
 */
export type Outcome = { id: string, status: IngestStatus, reason?: string, };

/**
 * The answer to a batch of events, one outcome each, in order.
 */
export type IngestResult = { results: Array<Outcome>, };

export type AlarmState = "new" | "acknowledged" | "closed";

export type Alarm = { id: string, site: string, rule: string, event: string, door: string | null, title: string, 
/**
 * 1 is the most urgent.
 */
priority: number, procedure: string, cameras: Array<string>, state: AlarmState, raised: string, 
/**
 * How many more times its rule fired for the same door, from the same source, while it
 * was new (counted here instead of raising another alarm). 0 in changes stored before
 * hubs counted repeats.
 */
repeats: number, 
/**
 * When it last fired again, if it did.
 */
last_repeat: string | null, acknowledged_by: string | null, acknowledged: string | null, acknowledge_comment: string | null, forwarded_to: string | null, closed_by: string | null, closed: string | null, close_comment: string | null, };

export type AlarmRule = { id: string, name: string, 
/**
 * The event `type` that raises it, e.g. `DoorAlarm`.
 */
event_type: string, 
/**
 * The event's `state` that must match, e.g. `DoorForcedOpen`.
 */
state: string | null, priority: number, procedure: string, };

/**
 * `GET /api/v1/alarms`.
 */
export type AlarmFilter = { site: string | null, 
/**
 * `new`, `acknowledged` or `closed`.
 */
state: string | null, 
/**
 * Raised at or after this instant (RFC 3339).
 */
from: string | null, 
/**
 * Raised before this instant (RFC 3339).
 */
to: string | null, 
/**
 * At most this many, most urgent and newest first (default 200, at most 1000).
 */
limit: number | null, };

/**
 * An operator's action on an alarm.
 */
export type AlarmAction = { 
/**
 * Client-made id of this action; a replay answers the first answer.
 */
request_id: string, comment: string, 
/**
 * For forwarding: the user name of the operator to forward to.
 */
to?: string, };

export type IncidentStatus = "open" | "in-progress" | "closed";

export type IncidentLink = { 
/**
 * `alarm`, `event` or `camera`.
 */
kind: string, id: string, };

export type AttachmentRef = { name: string, media_type: string, size: number, sha256: string, };

export type IncidentNote = { id: string, incident: string, author: string, time: string, text: string, attachments: Array<AttachmentRef>, };

export type Incident = { id: string, site: string, title: string, status: IncidentStatus, priority: number, assignee: string | null, created_by: string, created: string, updated: string, links: Array<IncidentLink>, };

export type IncidentDetail = { notes: Array<IncidentNote>, 
/**
 * The audit trail of this incident, oldest first.
 */
history: Array<AuditRecord>, id: string, site: string, title: string, status: IncidentStatus, priority: number, assignee: string | null, created_by: string, created: string, updated: string, links: Array<IncidentLink>, };

export type AuditRecord = { seq: number, time: string, user: string | null, action: string, site: string | null, target: string | null, 
/**
 * What the action was about; its shape depends on the action (an object, or a list for
 * rules).
 */
detail: unknown, };

export type NewIncident = { 
/**
 * Client-made id: the incident's id.
 */
id: string, site: string, title: string, priority: number, assignee?: string, 
/**
 * Alarms, events and cameras to link; an alarm brings its event and cameras along.
 */
links: Array<IncidentLink>, };

export type IncidentPatch = { 
/**
 * Client-made id of this change; a replay answers the first answer.
 */
request_id: string, title?: string, status?: IncidentStatus, priority?: number, 
/**
 * A user name; an empty string unassigns.
 */
assignee?: string, links: Array<IncidentLink>, };

export type NewAttachment = { name: string, media_type: string, 
/**
 * The content, base64.
 */
data: string, };

export type NewNote = { 
/**
 * Client-made id: the note's id.
 */
id: string, text: string, attachments: Array<NewAttachment>, };

/**
 * `GET /api/v1/incidents`.
 */
export type IncidentFilter = { site: string | null, status: string | null, limit: number | null, };

/**
 * `GET /api/v1/audit`.
 */
export type AuditFilter = { site: string | null, user: string | null, action: string | null, 
/**
 * Records after this sequence number.
 */
after: number | null, limit: number | null, };

/**
 * A camera sequence on one tile: each camera in turn for `dwell_s` seconds.
 */
export type Tour = { cameras: Array<string>, dwell_s: number, };

/**
 * A wall layout as an operator saves it: where the tiles are, what each shows, which tiles
 * run tours. `shared_site` makes it visible to that site's operators.
 */
export type LayoutBody = { name: string, shared_site?: string, 
/**
 * The tiles: `{"name":..,"tiles":[{"x":..,"y":..,"w":..,"h":..}],"maximized":..}`, as
 * the wall's layout files say.
 */
wall: unknown, 
/**
 * One entry per tile: the camera it shows, if any.
 */
cameras: Array<string | null>, 
/**
 * One entry per tile: its tour, if any.
 */
tours: Array<Tour | null>, };

export type SavedLayout = { id: string, 
/**
 * The owner's user name.
 */
owner: string, owner_id: string, updated_at: string, name: string, shared_site?: string, 
/**
 * The tiles: `{"name":..,"tiles":[{"x":..,"y":..,"w":..,"h":..}],"maximized":..}`, as
 * the wall's layout files say.
 */
wall: unknown, 
/**
 * One entry per tile: the camera it shows, if any.
 */
cameras: Array<string | null>, 
/**
 * One entry per tile: its tour, if any.
 */
tours: Array<Tour | null>, };

/**
 * `POST /api/v1/sites/{site}/bookmarks`. `id` is made by the client: the same request sent
 * again (a retry, the outbox after a crash) is answered with the bookmark it made.
 */
export type NewBookmark = { id: string, camera: string, 
/**
 * RFC 3339: the instant marked, or the start of the range.
 */
at: string, 
/**
 * RFC 3339: the end of the range, for a range.
 */
to?: string, note: string, 
/**
 * The incident it belongs to.
 */
incident?: string, };

/**
 * A bookmark on the hub.
 */
export type Bookmark = { id: string, site: string, camera: string, 
/**
 * RFC 3339.
 */
at: string, to: string | null, note: string, incident: string | null, 
/**
 * Who made it (user name) and when (RFC 3339).
 */
created_by: string, created: string, };

/**
 * `PATCH /api/v1/sites/{site}/bookmarks/{id}`: links the bookmark to an incident of its
 * site, or unlinks it (`null`). The field is required: a body without it changes nothing.
 */
export type BookmarkLink = { incident: string | null, };

/**
 * `GET /api/v1/sites/{site}/bookmarks`: newest instant first.
 */
export type BookmarkFilter = { 
/**
 * One camera's only.
 */
camera: string | null, 
/**
 * RFC 3339: marked at or after.
 */
from: string | null, 
/**
 * RFC 3339: marked before.
 */
to: string | null, 
/**
 * Words that must all be in the note (any case).
 */
q: string | null, 
/**
 * One incident's only.
 */
incident: string | null, 
/**
 * At most this many (500 at most; 100 when left out).
 */
limit: number | null, };

/**
 * `POST /api/v1/incidents/{incident}/exports`.
 */
export type NewExport = { 
/**
 * Client-made id: the export's id (the same request again answers the same export).
 */
id: string, 
/**
 * Cameras of the incident's site, each exported by the recorder that records it.
 */
cameras: Array<string>, 
/**
 * RFC 3339.
 */
from: string, 
/**
 * RFC 3339; at most [`MAX_EXPORT_S`] after `from`.
 */
to: string, 
/**
 * Why: written into the signed manifest and onto the evidence lock.
 */
reason: string, };

export type ExportState = "running" | "done" | "failed";

/**
 * An export and how far it has come.
 */
export type EvidenceExport = { id: string, incident: string, site: string, cameras: Array<string>, 
/**
 * RFC 3339.
 */
from: string, to: string, reason: string, state: ExportState, 
/**
 * Cameras exported so far, of `cameras.len()`.
 */
done: number, 
/**
 * The notes holding each camera's files, in the order they came.
 */
notes: Array<string>, 
/**
 * What went wrong, when it failed.
 */
error?: string, created_by: string, 
/**
 * RFC 3339.
 */
created: string, };

/**
 * `GET /api/v1/exports/{export}/check`: the files kept on the hub checked again against
 * the manifests their recorders signed.
 */
export type ExportCheck = { export: string, 
/**
 * Every manifest's signature holds and every file it names is there, unchanged.
 */
verified: boolean, manifests: Array<ManifestCheck>, };

/**
 * One camera's signed manifest, as checked.
 */
export type ManifestCheck = { note: string, 
/**
 * The recorder that signed it, and its key (hex) as the hub knows it.
 */
recorder: string, recorder_key: string, signature_valid: boolean, requested_by: string, reason: string, 
/**
 * RFC 3339.
 */
from: string, to: string, files: Array<FileCheck>, };

/**
 * One file a manifest names.
 */
export type FileCheck = { name: string, camera: string, bytes: number, 
/**
 * What the manifest says.
 */
sha256: string, 
/**
 * The file is on the hub and hashes to it.
 */
intact: boolean, };

/**
 * A recorder the hub knows.
 */
export type Recorder = { id: string, name: string, 
/**
 * Where clients reach its restream: `rtsp://host:port`; a camera's streams are at
 * `/<camera>/main` and `/<camera>/sub` below it.
 */
rtsp_url: string, 
/**
 * Its Ed25519 public key (64 hex digits): it signs the recorder's exports.
 */
public_key: string, 
/**
 * Where the hub reaches its recorded video over HTTP (`http://host:port`, the
 * recorder's `[restream] http_listen`): browsers watch through the hub, never from the
 * recorder. `None`: recorded video plays in the desktop app only.
 */
playback_url?: string, };

/**
 * `PUT /api/v1/sites/{site}/cameras/{camera}/recorder`: which recorder serves a camera
 * (`null`: none, clients open the camera's own URL).
 */
export type CameraRecorder = { recorder: string | null, };

/**
 * One of a camera's two streams.
 */
export type StreamName = "main" | "sub";

/**
 * What a ticket opens: the stream as it happens, or its recording.
 */
export type StreamMode = "live" | "replay" | "export";

/**
 * `POST /api/v1/sites/{site}/cameras/{camera}/ticket`.
 */
export type TicketRequest = { stream: StreamName, 
/**
 * Live when left out.
 */
mode?: StreamMode, };

/**
 * A ticket to open one stream of one camera through its recorder: give `user` and `ticket`
 * as the RTSP Basic credentials of `url`. It opens the stream only before `expires`; a stream
 * already playing goes on.
 */
export type StreamTicket = { url: string, user: string, ticket: string, 
/**
 * RFC 3339.
 */
expires: string, };

/**
 * An evidence lock: a camera's recorded range that its recorder keeps, whatever retention
 * says, until someone releases it. Made and released through the hub (each an audit line);
 * the camera's recorder learns of it at its next sync.
 */
export type EvidenceLock = { id: string, site: string, camera: string, 
/**
 * RFC 3339.
 */
from: string, 
/**
 * RFC 3339.
 */
to: string, reason: string, 
/**
 * The user who made it.
 */
created_by: string, 
/**
 * RFC 3339.
 */
created_at: string, 
/**
 * RFC 3339; `None` while it holds.
 */
released_at?: string, released_by?: string, };

/**
 * `POST /api/v1/sites/{site}/locks`.
 */
export type NewEvidenceLock = { camera: string, 
/**
 * RFC 3339.
 */
from: string, 
/**
 * RFC 3339.
 */
to: string, reason: string, };

/**
 * `GET /api/v1/sites/{site}/locks`.
 */
export type LockFilter = { 
/**
 * One camera's only.
 */
camera: string | null, };

/**
 * `GET /api/v1/sites/{site}/cameras/{camera}/recording/{stream}/timeline` and `…/media`:
 * the stretch of recorded video asked for.
 */
export type RecordingRange = { 
/**
 * RFC 3339. The timeline's start (an hour before `to` when left out); the media's first
 * instant (required: it starts at the key frame at or before it).
 */
from: string | null, 
/**
 * RFC 3339. The timeline's end (now when left out); the media's end (ten minutes after
 * `from` when left out, at most an hour, and at the end of that recording run).
 */
to: string | null, };

/**
 * How one recorded stream is doing, as its recorder reports it.
 */
export type RecordingState = "connecting" | "recording" | "offline" | "disk_full";

/**
 * One stream in a recorder's health report.
 */
export type StreamHealthReport = { camera: string, stream: StreamName, state: RecordingState, 
/**
 * Why it is offline, in words.
 */
reason?: string, 
/**
 * Bits per second recorded over the last minutes (0 when nothing was).
 */
bitrate_bps: number, 
/**
 * RFC 3339: the end of the last recorded segment.
 */
recorded_until?: string, 
/**
 * Outages over the last 24 hours, and their seconds.
 */
gaps_24h: number, gap_seconds_24h: number, };

/**
 * A recorder's storage in its health report.
 */
export type StorageReport = { 
/**
 * Bytes of video kept (locked or not).
 */
used_bytes: number, 
/**
 * Bytes free on the video's disk.
 */
free_bytes: number, 
/**
 * Bytes of video under evidence locks.
 */
locked_bytes: number, };

/**
 * A stream ticket the recorder refused, for the hub's audit trail.
 */
export type RefusedTicket = { 
/**
 * RFC 3339.
 */
at: string, 
/**
 * The camera the request named, when it named one the hub would take.
 */
camera?: string, stream: StreamName, mode: StreamMode, 
/**
 * The user the ticket names, when it could be read.
 */
user?: string, reason: string, };

/**
 * `POST /api/v1/recorders/{recorder}/sync`, signed by the recorder: how it is doing and what
 * it refused since the last sync. The answer is [`RecorderSync`].
 */
export type RecorderReport = { 
/**
 * RFC 3339.
 */
at: string, storage: StorageReport, streams: Array<StreamHealthReport>, refused: Array<RefusedTicket>, };

/**
 * The hub's answer to a sync: the evidence locks that hold on the recorder's site (camera ids
 * are the site's), the ids of those released over the last 90 days, and the recent events
 * that name the recorder's cameras. A recorder releases a
 * lock only when it is named released, never because it is missing: a hub restored from an
 * old backup cannot release evidence by forgetting it.
 */
export type RecorderSync = { locks: Array<EvidenceLock>, released: Array<string>, 
/**
 * The events (received over the last ten minutes) and alarms that name a camera this
 * recorder serves, newest first: a camera recorded "around events" keeps its video near
 * them.
 */
events: Array<CameraEvent>, };

/**
 * A recorder and its last health report, as IT sees it.
 */
export type RecorderHealth = { recorder: string, 
/**
 * RFC 3339: when the hub last heard from it.
 */
seen_at: string, report: RecorderReport, };

/**
 * An event (or an alarm) that names a camera, as a recorder hears of it.
 */
export type CameraEvent = { 
/**
 * The alarm's id, or the event's as `<source>/<id>` (an event id is its source's own).
 */
id: string, camera: string, 
/**
 * RFC 3339.
 */
at: string, };

/**
 * `GET <recorder>/v1/{camera}/{stream}/timeline?from=&to=` (RFC 3339; a replay ticket as
 * `Authorization: Bearer`): what one stream holds over a range.
 */
export type RecordingTimeline = { spans: Array<RecordedSpan>, gaps: Array<RecordingGap>, locks: Array<RecordingLock>, };

/**
 * A stretch recorded without a break.
 */
export type RecordedSpan = { 
/**
 * RFC 3339.
 */
from: string, to: string, 
/**
 * Timed by the camera's own clock (its RTCP sender reports) throughout, rather than by
 * the recorder's when the frames arrived.
 */
camera_clock: boolean, };

/**
 * A stretch with no video, and why when the recorder knows.
 */
export type RecordingGap = { from: string, to: string, reason?: string, };

/**
 * An evidence lock over part of the range.
 */
export type RecordingLock = { id: string, from: string, to: string, reason: string, };

/**
 * What a client sends: first and only, `subscribe`.
 */
export type ClientMessage = { "type": "subscribe", 
/**
 * The bearer token; the browser console leaves it out and is known by its cookie.
 */
token?: string, 
/**
 * The last change seen: the hub sends every change after it. Left out: from now.
 */
since?: number, };

/**
 * What the hub sends.
 */
export type FeedMessage = { "type": "subscribed", seq: number, } | { "type": "change" } & Change | { "type": "error" } & ErrorBody;

/**
 * One committed change, in commit order; `seq` has no gaps.
 */
export type Change = { seq: number, 
/**
 * When it was committed, in milliseconds since the Unix epoch.
 */
at: number, 
/**
 * The site it belongs to; only that site's users hear it.
 */
site: string | null, } & ({ "kind": "event", "data": Event } | { "kind": "alarm", "data": Alarm } | { "kind": "door", "data": Door } | { "kind": "incident", "data": Incident } | { "kind": "incident-deleted", "data": Removed } | { "kind": "note", "data": IncidentNote } | { "kind": "site", "data": SiteSummary } | { "kind": "layout", "data": SavedLayout } | { "kind": "layout.removed", "data": Removed } | { "kind": "bookmark", "data": Bookmark } | { "kind": "bookmark.removed", "data": Removed });

/**
 * What changed: `kind` names it, `data` holds the new state.
 */
export type ChangeBody = { "kind": "event", "data": Event } | { "kind": "alarm", "data": Alarm } | { "kind": "door", "data": Door } | { "kind": "incident", "data": Incident } | { "kind": "incident-deleted", "data": Removed } | { "kind": "note", "data": IncidentNote } | { "kind": "site", "data": SiteSummary } | { "kind": "layout", "data": SavedLayout } | { "kind": "layout.removed", "data": Removed } | { "kind": "bookmark", "data": Bookmark } | { "kind": "bookmark.removed", "data": Removed };

/**
 * The id of something that went away.
 */
export type Removed = { id: string, };

/** What each role may do (`Role::allows`). */
export const RIGHTS: Record<Role, readonly Right[]> = {"guard":["view","report-view","share-layout","acknowledge-alarm","forward-alarm","write-incident","door-unlock"],"it-admin":["view","report-view","share-layout","read-audit","configure","manage-users","it-settings"],"manager":["view","report-view","share-layout","acknowledge-alarm","forward-alarm","close-alarm","write-incident","manage-incident","delete-incident","read-audit"],"supervisor":["view","report-view","share-layout","acknowledge-alarm","forward-alarm","close-alarm","write-incident","manage-incident","door-unlock","lockdown","read-audit"]};
