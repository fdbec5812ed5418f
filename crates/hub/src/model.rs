//! The shared picture's types as the API speaks them, and who may do what.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A user's role on a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Guard,
    Supervisor,
    Manager,
    ItAdmin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Guard => "guard",
            Role::Supervisor => "supervisor",
            Role::Manager => "manager",
            Role::ItAdmin => "it-admin",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Role::Guard, Role::Supervisor, Role::Manager, Role::ItAdmin]
            .into_iter()
            .find(|r| r.as_str() == text)
    }

    /// The rights matrix: the one place that says what each role may do.
    pub fn allows(self, right: Right) -> bool {
        use Right::*;
        use Role::*;
        match right {
            View | ReportView | ShareLayout => true,
            AcknowledgeAlarm | ForwardAlarm | WriteIncident => {
                matches!(self, Guard | Supervisor | Manager)
            }
            DoorUnlock => matches!(self, Guard | Supervisor),
            Lockdown => matches!(self, Supervisor),
            CloseAlarm | ManageIncident => matches!(self, Supervisor | Manager),
            DeleteIncident => matches!(self, Manager),
            ReadAudit => matches!(self, Supervisor | Manager | ItAdmin),
            Configure | ManageUsers | ItSettings => matches!(self, ItAdmin),
        }
    }
}

/// What a request wants to do, checked against the caller's role on the object's site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Right {
    /// See the site: plans, cameras, doors, events, alarms, incidents.
    View,
    /// Report that a camera was viewed (audit).
    ReportView,
    ShareLayout,
    AcknowledgeAlarm,
    ForwardAlarm,
    CloseAlarm,
    /// Create incidents and add notes.
    WriteIncident,
    /// Assign, change status and priority, close.
    ManageIncident,
    DeleteIncident,
    DoorUnlock,
    Lockdown,
    ReadAudit,
    /// Sites, cameras, doors, rules, event sources.
    Configure,
    ManageUsers,
    /// Hub-wide settings (session lifetime and the like).
    ItSettings,
}

/// The whole rights matrix, for the API and the docs.
pub fn rights_matrix() -> Vec<(Role, Vec<Right>)> {
    use Right::*;
    let all = [
        View,
        ReportView,
        ShareLayout,
        AcknowledgeAlarm,
        ForwardAlarm,
        CloseAlarm,
        WriteIncident,
        ManageIncident,
        DeleteIncident,
        DoorUnlock,
        Lockdown,
        ReadAudit,
        Configure,
        ManageUsers,
        ItSettings,
    ];
    [Role::Guard, Role::Supervisor, Role::Manager, Role::ItAdmin]
        .into_iter()
        .map(|role| (role, all.into_iter().filter(|r| role.allows(*r)).collect()))
        .collect()
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Grant {
    /// A site id, or `*` for every site.
    pub site: String,
    pub role: Role,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub grants: Vec<Grant>,
    pub disabled: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SiteSummary {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Floor {
    pub id: String,
    pub name: String,
    pub width: f64,
    pub height: f64,
    /// Where to fetch the plan image.
    pub plan_url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Zone {
    pub id: String,
    pub floor: String,
    pub name: String,
    pub outline: Vec<[f64; 2]>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Camera {
    pub id: String,
    pub floor: String,
    pub name: String,
    pub main_url: String,
    pub sub_url: String,
    /// The name under which the client's keychain holds the camera's password, if any.
    pub credential_ref: Option<String>,
    pub position: [f64; 2],
    pub direction_deg: f64,
    pub fov_deg: f64,
    /// Doors this camera watches.
    pub doors: Vec<String>,
}

/// A door and its live state (ONVIF Profile C vocabulary; `null` until first reported).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SiteDetail {
    pub id: String,
    pub name: String,
    pub floors: Vec<Floor>,
    pub zones: Vec<Zone>,
    pub cameras: Vec<Camera>,
    pub doors: Vec<Door>,
}

/// A camera's streams as the site's recorder or simulator serves them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CameraStreams {
    pub main_url: String,
    pub sub_url: String,
    #[serde(default)]
    pub credential_ref: Option<String>,
}

/// A whole site to create or replace: the site file (see `crates/site`), its floor plans, the
/// cameras' stream URLs and where door commands go.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SiteImport {
    #[schema(value_type = Object)]
    pub site: serde_json::Value,
    /// Floor id → plan image (SVG text).
    #[serde(default)]
    pub plans: std::collections::BTreeMap<String, String>,
    /// Camera id → stream URLs.
    #[serde(default)]
    pub streams: std::collections::BTreeMap<String, CameraStreams>,
    /// The controller's base URL; door commands are posted to `{url}/api/v1/doors/commands`.
    #[serde(default)]
    pub controller_url: Option<String>,
}

impl SiteImport {
    /// A site file and its floor plans (read from beside it), without streams or controller.
    pub fn from_site_file(path: &std::path::Path) -> crate::Result<Self> {
        let site =
            site::Site::load(path).map_err(|e| crate::HubError::BadRequest(e.to_string()))?;
        let mut plans = std::collections::BTreeMap::new();
        for floor in &site.floors {
            let svg = std::fs::read_to_string(&floor.plan).map_err(|e| {
                crate::HubError::BadRequest(format!(
                    "cannot read plan {}: {e}",
                    floor.plan.display()
                ))
            })?;
            plans.insert(floor.id.clone(), svg);
        }
        let mut value =
            serde_json::to_value(&site).map_err(|e| crate::HubError::Internal(e.to_string()))?;
        // Plans travel as content; the paths are only this machine's business.
        for floor in value["floors"].as_array_mut().into_iter().flatten() {
            let name = format!("{}.svg", floor["id"].as_str().unwrap_or("plan"));
            floor["plan"] = serde_json::Value::String(name);
        }
        Ok(Self {
            site: value,
            plans,
            streams: Default::default(),
            controller_url: None,
        })
    }
}

/// Event kinds, for filters.
pub const EVENT_KINDS: &[&str] = &[
    "access-granted",
    "access-denied",
    "door-state",
    "door-alarm",
    "sensor",
    "system",
];

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Event {
    pub id: String,
    pub site: String,
    pub kind: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub topic: Option<String>,
    pub door: Option<String>,
    pub camera: Option<String>,
    pub time: String,
    pub received: String,
    /// The event as the source sent it.
    #[schema(value_type = Object)]
    pub body: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AlarmState {
    New,
    Acknowledged,
    Closed,
}

impl AlarmState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmState::New => "new",
            AlarmState::Acknowledged => "acknowledged",
            AlarmState::Closed => "closed",
        }
    }
    pub fn parse(text: &str) -> Option<Self> {
        [Self::New, Self::Acknowledged, Self::Closed]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Alarm {
    pub id: String,
    pub site: String,
    pub rule: String,
    pub event: String,
    pub door: Option<String>,
    pub title: String,
    /// 1 is the most urgent.
    pub priority: i64,
    pub procedure: String,
    pub cameras: Vec<String>,
    pub state: AlarmState,
    pub raised: String,
    pub acknowledged_by: Option<String>,
    pub acknowledged: Option<String>,
    pub acknowledge_comment: Option<String>,
    pub forwarded_to: Option<String>,
    pub closed_by: Option<String>,
    pub closed: Option<String>,
    pub close_comment: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AlarmRule {
    pub id: String,
    pub name: String,
    /// The event `type` that raises it, e.g. `DoorAlarm`.
    pub event_type: String,
    /// The event's `state` that must match, e.g. `DoorForcedOpen`.
    pub state: Option<String>,
    pub priority: i64,
    pub procedure: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum IncidentStatus {
    Open,
    InProgress,
    Closed,
}

impl IncidentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Open => "open",
            IncidentStatus::InProgress => "in-progress",
            IncidentStatus::Closed => "closed",
        }
    }
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Open, Self::InProgress, Self::Closed]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IncidentLink {
    /// `alarm`, `event` or `camera`.
    pub kind: String,
    pub id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AttachmentRef {
    pub name: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IncidentNote {
    pub id: String,
    pub incident: String,
    pub author: String,
    pub time: String,
    pub text: String,
    pub attachments: Vec<AttachmentRef>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Incident {
    pub id: String,
    pub site: String,
    pub title: String,
    pub status: IncidentStatus,
    pub priority: i64,
    pub assignee: Option<String>,
    pub created_by: String,
    pub created: String,
    pub updated: String,
    pub links: Vec<IncidentLink>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IncidentDetail {
    #[serde(flatten)]
    pub incident: Incident,
    pub notes: Vec<IncidentNote>,
    /// The audit trail of this incident, oldest first.
    pub history: Vec<AuditRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditRecord {
    pub seq: i64,
    pub time: String,
    pub user: Option<String>,
    pub action: String,
    pub site: Option<String>,
    pub target: Option<String>,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_rights_differ() {
        for (role, rights) in rights_matrix() {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert!(rights.contains(&Right::View));
        }
        assert!(!Role::Guard.allows(Right::ManageUsers));
        assert!(!Role::Guard.allows(Right::DeleteIncident));
        assert!(!Role::Manager.allows(Right::ItSettings));
        assert!(Role::ItAdmin.allows(Right::ItSettings));
        assert!(!Role::ItAdmin.allows(Right::DoorUnlock));
    }
}

/// A camera sequence on one tile: each camera in turn for `dwell_s` seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Tour {
    pub cameras: Vec<String>,
    pub dwell_s: u32,
}

/// A wall layout as an operator saves it: where the tiles are, what each shows, which tiles
/// run tours. `shared_site` makes it visible to that site's operators.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LayoutBody {
    pub name: String,
    #[serde(default)]
    pub shared_site: Option<String>,
    /// The tiles: `{"name":..,"tiles":[{"x":..,"y":..,"w":..,"h":..}],"maximized":..}`.
    #[schema(value_type = Object)]
    pub wall: serde_json::Value,
    /// One entry per tile: the camera it shows, if any.
    pub cameras: Vec<Option<String>>,
    /// One entry per tile: its tour, if any.
    #[serde(default)]
    pub tours: Vec<Option<Tour>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SavedLayout {
    pub id: String,
    /// The owner's user name.
    pub owner: String,
    pub owner_id: String,
    pub updated_at: String,
    #[serde(flatten)]
    pub body: LayoutBody,
}

/// Stream URLs by camera id from a simulator's (or recorder's) listing, `GET /api/v1/site`:
/// `{"cameras":[{"id":..,"streams":[{"kind":"main","url":..},{"kind":"sub","url":..}]}]}`.
/// Cameras without both streams are left out.
pub fn streams_from_listing(
    listing: &serde_json::Value,
) -> std::collections::BTreeMap<String, CameraStreams> {
    let mut streams = std::collections::BTreeMap::new();
    for camera in listing["cameras"].as_array().into_iter().flatten() {
        let url = |kind: &str| {
            camera["streams"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|s| s["kind"].as_str() == Some(kind))
                .and_then(|s| s["url"].as_str())
                .map(str::to_owned)
        };
        if let (Some(id), Some(main_url), Some(sub_url)) =
            (camera["id"].as_str(), url("main"), url("sub"))
        {
            streams.insert(
                id.to_owned(),
                CameraStreams {
                    main_url,
                    sub_url,
                    credential_ref: None,
                },
            );
        }
    }
    streams
}
