//! Incidents with their links, notes and attachments, and the audit trail.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "kebab-case")]
pub enum IncidentStatus {
    Open,
    InProgress,
    Closed,
}

impl IncidentStatus {
    pub const ALL: [IncidentStatus; 3] = [Self::Open, Self::InProgress, Self::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Open => "open",
            IncidentStatus::InProgress => "in-progress",
            IncidentStatus::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
pub struct IncidentLink {
    /// `alarm`, `event` or `camera`.
    pub kind: String,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
pub struct AttachmentRef {
    pub name: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
pub struct IncidentNote {
    pub id: String,
    pub incident: String,
    pub author: String,
    pub time: String,
    pub text: String,
    pub attachments: Vec<AttachmentRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
pub struct IncidentDetail {
    #[serde(flatten)]
    pub incident: Incident,
    pub notes: Vec<IncidentNote>,
    /// The audit trail of this incident, oldest first.
    pub history: Vec<AuditRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
pub struct AuditRecord {
    pub seq: i64,
    pub time: String,
    pub user: Option<String>,
    pub action: String,
    pub site: Option<String>,
    pub target: Option<String>,
    /// What the action was about; its shape depends on the action (an object, or a list for
    /// rules).
    #[schema(value_type = Value)]
    #[ts(type = "unknown")]
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, TS)]
pub struct NewIncident {
    /// Client-made id: the incident's id.
    pub id: String,
    pub site: String,
    pub title: String,
    #[serde(default = "default_priority")]
    pub priority: i64,
    #[serde(default)]
    #[ts(optional)]
    pub assignee: Option<String>,
    /// Alarms, events and cameras to link; an alarm brings its event and cameras along.
    #[serde(default)]
    pub links: Vec<IncidentLink>,
}

fn default_priority() -> i64 {
    3
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, TS)]
pub struct IncidentPatch {
    /// Client-made id of this change; a replay answers the first answer.
    pub request_id: String,
    #[serde(default)]
    #[ts(optional)]
    pub title: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub status: Option<IncidentStatus>,
    #[serde(default)]
    #[ts(optional)]
    pub priority: Option<i64>,
    /// A user name; an empty string unassigns.
    #[serde(default)]
    #[ts(optional)]
    pub assignee: Option<String>,
    #[serde(default)]
    pub links: Vec<IncidentLink>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, TS)]
pub struct NewAttachment {
    pub name: String,
    pub media_type: String,
    /// The content, base64.
    pub data: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, TS)]
pub struct NewNote {
    /// Client-made id: the note's id.
    pub id: String,
    pub text: String,
    #[serde(default)]
    pub attachments: Vec<NewAttachment>,
}

/// `GET /api/v1/incidents`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, IntoParams, TS)]
#[into_params(parameter_in = Query)]
pub struct IncidentFilter {
    pub site: Option<String>,
    pub status: Option<String>,
    pub limit: Option<i64>,
}

/// `GET /api/v1/audit`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, IntoParams, TS)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    pub site: Option<String>,
    pub user: Option<String>,
    pub action: Option<String>,
    /// Records after this sequence number.
    pub after: Option<i64>,
    pub limit: Option<i64>,
}
