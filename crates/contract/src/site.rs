//! Sites as the hub serves them: floors with their plans, zones, cameras and doors.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use ts_rs::TS;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
pub struct SiteSummary {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
pub struct Floor {
    pub id: String,
    pub name: String,
    pub width: f64,
    pub height: f64,
    /// Where to fetch the plan image.
    pub plan_url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
pub struct Zone {
    pub id: String,
    pub floor: String,
    pub name: String,
    pub outline: Vec<[f64; 2]>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
pub struct Camera {
    pub id: String,
    pub floor: String,
    pub name: String,
    pub main_url: String,
    pub sub_url: String,
    /// The name under which the client's keychain holds the camera's password, if any.
    pub credential_ref: Option<String>,
    /// The recorder that serves it (`GET /api/v1/sites/{site}/recorders`): clients watch it
    /// through the recorder with a stream ticket. `null`: they open `main_url`/`sub_url`.
    #[serde(default)]
    pub recorder: Option<String>,
    pub position: [f64; 2],
    pub direction_deg: f64,
    pub fov_deg: f64,
    /// Doors this camera watches.
    pub doors: Vec<String>,
}

/// A door and its live state (ONVIF Profile C vocabulary; `null` until first reported).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
pub struct Door {
    pub id: String,
    pub site: String,
    pub floor: String,
    pub zone: String,
    pub name: String,
    pub position: [f64; 2],
    pub cameras: Vec<String>,
    pub door_state: Option<String>,
    pub lock_state: Option<String>,
    pub alarm: Option<String>,
    pub mode: Option<String>,
    pub state_time: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
pub struct SiteDetail {
    pub id: String,
    pub name: String,
    pub floors: Vec<Floor>,
    pub zones: Vec<Zone>,
    pub cameras: Vec<Camera>,
    pub doors: Vec<Door>,
}

/// A camera's streams as the site's recorder or simulator serves them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
pub struct CameraStreams {
    pub main_url: String,
    pub sub_url: String,
    #[serde(default)]
    #[ts(optional)]
    pub credential_ref: Option<String>,
    /// The registered recorder that serves the camera. When absent, a camera keeps the recorder
    /// it had.
    #[serde(default)]
    #[ts(optional)]
    pub recorder: Option<String>,
}

/// A whole site to create or replace: the site file (see `crates/site`), its floor plans, the
/// cameras' stream URLs and where door commands go.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, TS)]
pub struct SiteImport {
    #[schema(value_type = Object)]
    #[ts(type = "unknown")]
    pub site: serde_json::Value,
    /// Floor id → plan image (SVG text).
    #[serde(default)]
    pub plans: BTreeMap<String, String>,
    /// Camera id → stream URLs.
    #[serde(default)]
    pub streams: BTreeMap<String, CameraStreams>,
    /// The controller's base URL; door commands are posted to `{url}/api/v1/doors/commands`.
    #[serde(default)]
    #[ts(optional)]
    pub controller_url: Option<String>,
    /// The event source the controller sends as (registered on the hub for this site): every
    /// door command is signed with a key from its secret, and a controller paired this way
    /// refuses unsigned and replayed commands. Without it the hub sends no door commands; an
    /// import that leaves it out keeps the site's pairing.
    #[serde(default)]
    #[ts(optional)]
    pub controller_source: Option<String>,
}

/// A door command from an operator.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, TS)]
pub struct DoorCommandRequest {
    /// Client-made id of this command; a replay is not sent twice.
    pub request_id: String,
    /// `momentary-unlock`.
    pub command: String,
}

/// A site's lockdown, on or off.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, TS)]
pub struct LockdownRequest {
    pub request_id: String,
    pub on: bool,
}
