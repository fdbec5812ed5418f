//! Access-control events: as sources send them, and as the hub files them.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::{IntoParams, ToSchema};

/// Event kinds, for filters.
pub const EVENT_KINDS: &[&str] = &[
    "access-granted",
    "access-denied",
    "door-state",
    "door-alarm",
    "sensor",
    "system",
];

/// An event as the hub filed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
pub struct Event {
    /// The source's own id: unique per site and source.
    pub id: String,
    pub site: String,
    /// Who sent it: `webhook:<source>` or `mqtt:<source>`, the event source (a door controller,
    /// sensor gateway or recorder registered on the hub) and how it sent. Empty in changes
    /// stored before hubs kept ids per source.
    #[serde(default)]
    pub source: String,
    /// One of [`EVENT_KINDS`].
    pub kind: String,
    /// The source's type (`DoorPhysicalState`, `DoorAlarm`, ...).
    #[serde(rename = "type")]
    pub event_type: String,
    pub topic: Option<String>,
    pub door: Option<String>,
    pub camera: Option<String>,
    pub time: String,
    pub received: String,
    /// The event as the source sent it.
    #[schema(value_type = Object)]
    #[ts(type = "unknown")]
    pub body: serde_json::Value,
}

/// `GET /api/v1/events`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, IntoParams, TS)]
#[into_params(parameter_in = Query)]
pub struct EventFilter {
    pub site: Option<String>,
    /// One of the event kinds (`access-granted`, `access-denied`, `door-state`, `door-alarm`,
    /// `sensor`, `system`).
    pub kind: Option<String>,
    pub door: Option<String>,
    /// RFC 3339; events at or after.
    pub from: Option<String>,
    /// RFC 3339; events before.
    pub to: Option<String>,
    /// At most this many, newest first (default 200, at most 1000).
    pub limit: Option<i64>,
}

/// One event as sources send it. Fields beyond these are kept as received.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, TS)]
pub struct IngestEvent {
    /// The source's id for the event, unique per site and source: the idempotency key.
    pub id: String,
    /// When it happened, RFC 3339.
    pub time: String,
    pub site: String,
    #[serde(default)]
    #[ts(optional)]
    pub door: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub camera: Option<String>,
    /// The ONVIF topic, e.g. `tns1:Door/State/DoorAlarm`.
    #[serde(default)]
    #[ts(optional)]
    pub topic: Option<String>,
    /// `AccessGranted`, `AccessDenied`, `DoorPhysicalState`, `LockPhysicalState`, `DoorAlarm`,
    /// `DoorMode`, `Sensor...` or any other type (filed as `system`).
    #[serde(rename = "type")]
    pub event_type: String,
    /// The new state, for state and alarm events (`Open`, `DoorForcedOpen`, ...).
    #[serde(default)]
    #[ts(optional)]
    pub state: Option<String>,
}

/// What became of one ingested event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "kebab-case")]
pub enum IngestStatus {
    Accepted,
    /// Already filed (same id on the same site): nothing changed.
    Duplicate,
    Rejected,
}

/// What happened to one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct Outcome {
    pub id: String,
    pub status: IngestStatus,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[ts(optional)]
    pub reason: Option<String>,
}

/// The answer to a batch of events, one outcome each, in order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, TS)]
pub struct IngestResult {
    pub results: Vec<Outcome>,
}
