//! Alarms: raised by rules on events, acknowledged, forwarded and closed by operators.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "kebab-case")]
pub enum AlarmState {
    New,
    Acknowledged,
    Closed,
}

impl AlarmState {
    pub const ALL: [AlarmState; 3] = [Self::New, Self::Acknowledged, Self::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            AlarmState::New => "new",
            AlarmState::Acknowledged => "acknowledged",
            AlarmState::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
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
    /// How many more times its rule fired for the same door, from the same source, while it
    /// was new (counted here instead of raising another alarm). 0 in changes stored before
    /// hubs counted repeats.
    #[serde(default)]
    pub repeats: i64,
    /// When it last fired again, if it did.
    pub last_repeat: Option<String>,
    pub acknowledged_by: Option<String>,
    pub acknowledged: Option<String>,
    pub acknowledge_comment: Option<String>,
    pub forwarded_to: Option<String>,
    pub closed_by: Option<String>,
    pub closed: Option<String>,
    pub close_comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
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

/// `GET /api/v1/alarms`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, IntoParams, TS)]
#[into_params(parameter_in = Query)]
pub struct AlarmFilter {
    pub site: Option<String>,
    /// `new`, `acknowledged` or `closed`.
    pub state: Option<String>,
    /// Raised at or after this instant (RFC 3339).
    #[serde(default)]
    pub from: Option<String>,
    /// Raised before this instant (RFC 3339).
    #[serde(default)]
    pub to: Option<String>,
    /// At most this many, most urgent and newest first (default 200, at most 1000).
    pub limit: Option<i64>,
}

/// An operator's action on an alarm.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, TS)]
pub struct AlarmAction {
    /// Client-made id of this action; a replay answers the first answer.
    pub request_id: String,
    #[serde(default)]
    pub comment: String,
    /// For forwarding: the user name of the operator to forward to.
    #[serde(default)]
    #[ts(optional)]
    pub to: Option<String>,
}
