//! Recorders and stream tickets.
//!
//! A recorder (`crates/recorder`) is the one connection to its cameras and the only holder of
//! their passwords; clients watch a camera through its recorder's restream. The hub knows its
//! recorders (registered by an IT admin, with their public keys) and which recorder serves which
//! camera. A client that may view a camera asks the hub for a **stream ticket**: a short-lived
//! claim, signed with the hub's Ed25519 ticket key, that the recorder checks with the hub's
//! public key alone (no database lookup per viewer).

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::{IntoParams, ToSchema};

/// A recorder the hub knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct Recorder {
    pub id: String,
    pub name: String,
    /// Where clients reach its restream: `rtsp://host:port`; a camera's streams are at
    /// `/<camera>/main` and `/<camera>/sub` below it.
    pub rtsp_url: String,
    /// Its Ed25519 public key (64 hex digits): it signs the recorder's exports.
    pub public_key: String,
    /// Where the hub reaches its recorded video over HTTP (`http://host:port`, the
    /// recorder's `[restream] http_listen`): browsers watch through the hub, never from the
    /// recorder. `None`: recorded video plays in the desktop app only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub playback_url: Option<String>,
}

/// `PUT /api/v1/sites/{site}/cameras/{camera}/recorder`: which recorder serves a camera
/// (`null`: none, clients open the camera's own URL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct CameraRecorder {
    pub recorder: Option<String>,
}

/// One of a camera's two streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "lowercase")]
pub enum StreamName {
    Main,
    Sub,
}

impl StreamName {
    pub fn as_str(self) -> &'static str {
        match self {
            StreamName::Main => "main",
            StreamName::Sub => "sub",
        }
    }
}

/// What a ticket opens: the stream as it happens, or its recording.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, TS,
)]
#[serde(rename_all = "lowercase")]
pub enum StreamMode {
    /// The restream: `<recorder>/<camera>/<stream>`.
    #[default]
    Live,
    /// Recorded video, with ONVIF Profile G replay semantics (`Range: clock=`, `Scale`):
    /// `<recorder>/<camera>/<stream>/replay`.
    Replay,
    /// A signed export of recorded video (the recorder's HTTP playback,
    /// `…/v1/<camera>/<stream>/export`): issued by the hub to itself alone, for an incident's
    /// export, once the caller may write incidents; never handed to a client.
    Export,
}

impl StreamMode {
    pub fn as_str(self) -> &'static str {
        match self {
            StreamMode::Live => "live",
            StreamMode::Replay => "replay",
            StreamMode::Export => "export",
        }
    }
}

/// `POST /api/v1/sites/{site}/cameras/{camera}/ticket`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct TicketRequest {
    pub stream: StreamName,
    /// Live when left out.
    #[serde(default)]
    #[ts(optional)]
    pub mode: Option<StreamMode>,
}

/// A ticket to open one stream of one camera through its recorder: give `user` and `ticket`
/// as the RTSP Basic credentials of `url`. It opens the stream only before `expires`; a stream
/// already playing goes on.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct StreamTicket {
    pub url: String,
    pub user: String,
    pub ticket: String,
    /// RFC 3339.
    pub expires: String,
}

impl std::fmt::Debug for StreamTicket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamTicket")
            .field("url", &self.url)
            .field("user", &self.user)
            .field("ticket", &"<redacted>")
            .field("expires", &self.expires)
            .finish()
    }
}

/// The RTSP user name that goes with a ticket (the ticket is the password).
pub const TICKET_USER: &str = "ticket";

/// What a ticket claims, as the hub signs it (`keys::sign_token` over this JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketClaims {
    /// A random id, for the audit trail.
    pub id: String,
    /// The user it was issued to (the hub's user id).
    pub user: String,
    pub site: String,
    /// The recorder it is for: every recorder trusts the same hub key, and camera ids are
    /// unique only within a site.
    pub recorder: String,
    pub camera: String,
    pub stream: StreamName,
    /// Live or recorded: a ticket for one never opens the other.
    #[serde(default)]
    pub mode: StreamMode,
    /// Unix milliseconds.
    pub issued_ms: i64,
    /// Unix milliseconds; a recorder refuses the ticket from then on.
    pub expires_ms: i64,
}

/// An evidence lock: a camera's recorded range that its recorder keeps, whatever retention
/// says, until someone releases it. Made and released through the hub (each an audit line);
/// the camera's recorder learns of it at its next sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct EvidenceLock {
    pub id: String,
    pub site: String,
    pub camera: String,
    /// RFC 3339.
    pub from: String,
    /// RFC 3339.
    pub to: String,
    pub reason: String,
    /// The user who made it.
    pub created_by: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339; `None` while it holds.
    #[ts(optional)]
    pub released_at: Option<String>,
    #[ts(optional)]
    pub released_by: Option<String>,
}

/// `GET /api/v1/sites/{site}/locks`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, IntoParams, TS)]
#[into_params(parameter_in = Query)]
pub struct LockFilter {
    /// One camera's only.
    pub camera: Option<String>,
}

/// `GET /api/v1/sites/{site}/cameras/{camera}/recording/{stream}/timeline` and `…/media`:
/// the stretch of recorded video asked for.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, IntoParams, TS)]
#[into_params(parameter_in = Query)]
pub struct RecordingRange {
    /// RFC 3339. The timeline's start (an hour before `to` when left out); the media's first
    /// instant (required: it starts at the key frame at or before it).
    pub from: Option<String>,
    /// RFC 3339. The timeline's end (now when left out); the media's end (ten minutes after
    /// `from` when left out, at most an hour, and at the end of that recording run).
    pub to: Option<String>,
}

/// `POST /api/v1/sites/{site}/locks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct NewEvidenceLock {
    pub camera: String,
    /// RFC 3339.
    pub from: String,
    /// RFC 3339.
    pub to: String,
    pub reason: String,
}

/// The header naming the recorder that signs a sync.
pub const RECORDER_HEADER: &str = "x-watchfloor-recorder";
/// The header carrying the recorder's Ed25519 signature (hex) of `<recorder>.<timestamp>.<body>`
/// (the timestamp in Unix milliseconds, in [`RECORDER_TIMESTAMP_HEADER`]).
pub const RECORDER_SIGNATURE_HEADER: &str = "x-watchfloor-recorder-signature";
pub const RECORDER_TIMESTAMP_HEADER: &str = "x-watchfloor-timestamp";

/// What a recorder signs for a sync.
pub fn recorder_signed_message(recorder: &str, timestamp_ms: &str, body: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(recorder.len() + timestamp_ms.len() + body.len() + 2);
    message.extend_from_slice(recorder.as_bytes());
    message.push(b'.');
    message.extend_from_slice(timestamp_ms.as_bytes());
    message.push(b'.');
    message.extend_from_slice(body);
    message
}

/// How one recorded stream is doing, as its recorder reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum RecordingState {
    Connecting,
    Recording,
    Offline,
    /// No space left, everything left is locked as evidence.
    DiskFull,
}

/// One stream in a recorder's health report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct StreamHealthReport {
    pub camera: String,
    pub stream: StreamName,
    pub state: RecordingState,
    /// Why it is offline, in words.
    #[ts(optional)]
    pub reason: Option<String>,
    /// Bits per second recorded over the last minutes (0 when nothing was).
    pub bitrate_bps: u64,
    /// RFC 3339: the end of the last recorded segment.
    #[ts(optional)]
    pub recorded_until: Option<String>,
    /// Outages over the last 24 hours, and their seconds.
    pub gaps_24h: u32,
    pub gap_seconds_24h: u64,
}

/// A recorder's storage in its health report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct StorageReport {
    /// Bytes of video kept (locked or not).
    pub used_bytes: u64,
    /// Bytes free on the video's disk.
    pub free_bytes: u64,
    /// Bytes of video under evidence locks.
    pub locked_bytes: u64,
}

/// A stream ticket the recorder refused, for the hub's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct RefusedTicket {
    /// RFC 3339.
    pub at: String,
    /// The camera the request named, when it named one the hub would take.
    #[ts(optional)]
    pub camera: Option<String>,
    pub stream: StreamName,
    pub mode: StreamMode,
    /// The user the ticket names, when it could be read.
    #[ts(optional)]
    pub user: Option<String>,
    pub reason: String,
}

/// `POST /api/v1/recorders/{recorder}/sync`, signed by the recorder: how it is doing and what
/// it refused since the last sync. The answer is [`RecorderSync`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct RecorderReport {
    /// RFC 3339.
    pub at: String,
    pub storage: StorageReport,
    pub streams: Vec<StreamHealthReport>,
    #[serde(default)]
    pub refused: Vec<RefusedTicket>,
}

/// The hub's answer to a sync: the evidence locks that hold on the recorder's site (camera ids
/// are the site's), the ids of those released over the last 90 days, and the recent events
/// that name the recorder's cameras. A recorder releases a
/// lock only when it is named released, never because it is missing: a hub restored from an
/// old backup cannot release evidence by forgetting it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct RecorderSync {
    pub locks: Vec<EvidenceLock>,
    pub released: Vec<String>,
    /// The events (received over the last ten minutes) and alarms that name a camera this
    /// recorder serves, newest first: a camera recorded "around events" keeps its video near
    /// them.
    #[serde(default)]
    pub events: Vec<CameraEvent>,
}

/// An event (or an alarm) that names a camera, as a recorder hears of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct CameraEvent {
    /// The alarm's id, or the event's as `<source>/<id>` (an event id is its source's own).
    pub id: String,
    pub camera: String,
    /// RFC 3339.
    pub at: String,
}

/// A recorder and its last health report, as IT sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct RecorderHealth {
    pub recorder: String,
    /// RFC 3339: when the hub last heard from it.
    pub seen_at: String,
    pub report: RecorderReport,
}

/// `GET <recorder>/v1/{camera}/{stream}/timeline?from=&to=` (RFC 3339; a replay ticket as
/// `Authorization: Bearer`): what one stream holds over a range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct RecordingTimeline {
    pub spans: Vec<RecordedSpan>,
    pub gaps: Vec<RecordingGap>,
    pub locks: Vec<RecordingLock>,
}

/// A stretch recorded without a break.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct RecordedSpan {
    /// RFC 3339.
    pub from: String,
    pub to: String,
    /// Timed by the camera's own clock (its RTCP sender reports) throughout, rather than by
    /// the recorder's when the frames arrived.
    pub camera_clock: bool,
}

/// A stretch with no video, and why when the recorder knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct RecordingGap {
    pub from: String,
    pub to: String,
    #[ts(optional)]
    pub reason: Option<String>,
}

/// An evidence lock over part of the range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct RecordingLock {
    pub id: String,
    pub from: String,
    pub to: String,
    pub reason: String,
}

/// The header of a recorder's media answer: the capture time (RFC 3339) of its first frame,
/// the key frame at or before the instant asked for.
pub const MEDIA_START_HEADER: &str = "x-watchfloor-start";

/// The header of a recorded-media answer naming its video codec (`h264`, `h265`, `jpeg`).
pub const MEDIA_CODEC_HEADER: &str = "x-watchfloor-codec";
