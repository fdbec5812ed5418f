//! The live feed's messages (a WebSocket of JSON text messages; the protocol is described in
//! `crates/hub/src/feed.rs`): what a client sends to subscribe, and what the hub sends back,
//! above all each committed change as one enum of the kinds there are.

use crate::alarms::Alarm;
use crate::bookmarks::Bookmark;
use crate::error::ErrorBody;
use crate::events::Event;
use crate::incidents::{Incident, IncidentNote};
use crate::layouts::SavedLayout;
use crate::site::{Door, SiteSummary};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// What a client sends: first and only, `subscribe`.
#[derive(Clone, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ClientMessage {
    Subscribe {
        /// The bearer token; the browser console leaves it out and is known by its cookie.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        token: Option<String>,
        /// The last change seen: the hub sends every change after it. Left out: from now.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        since: Option<i64>,
    },
}

impl std::fmt::Debug for ClientMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientMessage::Subscribe { since, .. } => f
                .debug_struct("Subscribe")
                .field("since", since)
                .finish_non_exhaustive(),
        }
    }
}

/// What the hub sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum FeedMessage {
    /// The subscription holds; `seq` is the newest change now.
    Subscribed {
        seq: i64,
    },
    Change(Box<Change>),
    /// The feed ends: the session is gone (`unauthenticated`) or the hub failed.
    Error(ErrorBody),
}

/// One committed change, in commit order; `seq` has no gaps.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, TS)]
pub struct Change {
    pub seq: i64,
    /// When it was committed, in milliseconds since the Unix epoch.
    pub at: i64,
    /// The site it belongs to; only that site's users hear it.
    #[serde(default)]
    pub site: Option<String>,
    #[serde(flatten)]
    pub body: ChangeBody,
}

/// What changed: `kind` names it, `data` holds the new state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, TS)]
#[serde(tag = "kind", content = "data", rename_all = "kebab-case")]
pub enum ChangeBody {
    /// An event was filed.
    Event(Event),
    /// An alarm was raised or changed state.
    Alarm(Alarm),
    /// A door's state changed.
    Door(Door),
    /// An incident was created or changed.
    Incident(Incident),
    IncidentDeleted(Removed),
    /// A note was added to an incident.
    Note(IncidentNote),
    /// A site was created or replaced: its cameras may have changed.
    Site(SiteSummary),
    /// A shared layout was saved.
    Layout(SavedLayout),
    /// A layout stopped being shared with the site, or was deleted.
    #[serde(rename = "layout.removed")]
    LayoutRemoved(Removed),
    /// A bookmark was made, or linked to an incident (or unlinked).
    Bookmark(Bookmark),
    /// A bookmark was deleted.
    #[serde(rename = "bookmark.removed")]
    BookmarkRemoved(Removed),
    /// A kind this build does not know (a newer hub): skipped, its `seq` still counts.
    #[serde(skip)]
    #[ts(skip)]
    Unknown,
}

impl ChangeBody {
    /// The `kind` as it travels.
    pub fn kind(&self) -> &'static str {
        match self {
            ChangeBody::Event(_) => "event",
            ChangeBody::Alarm(_) => "alarm",
            ChangeBody::Door(_) => "door",
            ChangeBody::Incident(_) => "incident",
            ChangeBody::IncidentDeleted(_) => "incident-deleted",
            ChangeBody::Note(_) => "note",
            ChangeBody::Site(_) => "site",
            ChangeBody::Layout(_) => "layout",
            ChangeBody::LayoutRemoved(_) => "layout.removed",
            ChangeBody::Bookmark(_) => "bookmark",
            ChangeBody::BookmarkRemoved(_) => "bookmark.removed",
            ChangeBody::Unknown => "unknown",
        }
    }
}

impl ChangeBody {
    /// Every kind this build knows.
    pub const KINDS: [&'static str; 11] = [
        "event",
        "alarm",
        "door",
        "incident",
        "incident-deleted",
        "note",
        "site",
        "layout",
        "layout.removed",
        "bookmark",
        "bookmark.removed",
    ];
}

impl ChangeBody {
    /// A change's body from its `kind` and `data` as they travel (and as the hub stores them):
    /// a known kind with the wrong data is an error; an unknown kind (a newer hub's) is
    /// [`ChangeBody::Unknown`].
    pub fn from_parts(kind: &str, data: serde_json::Value) -> serde_json::Result<Self> {
        if !Self::KINDS.contains(&kind) {
            return Ok(ChangeBody::Unknown);
        }
        ChangeBody::deserialize(serde_json::json!({ "kind": kind, "data": data }))
    }
}

/// A change as it travels, before its kind is looked at.
#[derive(Deserialize)]
struct RawChange {
    seq: i64,
    at: i64,
    #[serde(default)]
    site: Option<String>,
    kind: String,
    #[serde(default)]
    data: serde_json::Value,
}

/// A known kind with the wrong data is an error; an unknown kind (a newer hub's) is
/// [`ChangeBody::Unknown`], so a client still counts its `seq`.
impl<'de> Deserialize<'de> for Change {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawChange::deserialize(deserializer)?;
        let body = ChangeBody::from_parts(&raw.kind, raw.data).map_err(serde::de::Error::custom)?;
        Ok(Change {
            seq: raw.seq,
            at: raw.at,
            site: raw.site,
            body,
        })
    }
}

/// The id of something that went away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct Removed {
    pub id: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_change_travels_as_kind_and_data_beside_seq() {
        let change = Change {
            seq: 7,
            at: 1_700_000_000_000,
            site: Some("hq".into()),
            body: ChangeBody::LayoutRemoved(Removed { id: "l1".into() }),
        };
        let message =
            serde_json::to_value(FeedMessage::Change(Box::new(change.clone()))).expect("json");
        assert_eq!(
            message,
            json!({"type": "change", "seq": 7, "at": 1_700_000_000_000_i64, "site": "hq",
                   "kind": "layout.removed", "data": {"id": "l1"}})
        );
        let back: FeedMessage = serde_json::from_value(message).expect("reads back");
        assert_eq!(back, FeedMessage::Change(Box::new(change)));
    }

    #[test]
    fn a_kind_from_a_newer_hub_is_unknown_not_an_error() {
        let text =
            r#"{"type":"change","seq":9,"at":1,"site":null,"kind":"recording","data":{"x":1}}"#;
        let message: FeedMessage = serde_json::from_str(text).expect("reads");
        let FeedMessage::Change(change) = message else {
            panic!("a change: {message:?}");
        };
        assert_eq!(change.seq, 9);
        assert_eq!(change.body, ChangeBody::Unknown);
    }

    #[test]
    fn every_known_kind_is_listed() {
        let alarm = ChangeBody::Site(crate::SiteSummary {
            id: "hq".into(),
            name: "HQ".into(),
        });
        assert!(ChangeBody::KINDS.contains(&alarm.kind()));
        let removed = ChangeBody::LayoutRemoved(Removed { id: "x".into() });
        let value = serde_json::to_value(&removed).expect("json");
        assert_eq!(value["kind"], removed.kind());
    }

    #[test]
    fn a_known_kind_with_a_wrong_shape_is_an_error() {
        let text = r#"{"type":"change","seq":9,"at":1,"kind":"alarm","data":{"id":1}}"#;
        assert!(serde_json::from_str::<FeedMessage>(text).is_err());
    }

    #[test]
    fn errors_and_subscriptions_read_back() {
        let error = json!({"type": "error", "code": "unauthenticated", "message": "gone"});
        assert_eq!(
            serde_json::from_value::<FeedMessage>(error).expect("reads"),
            FeedMessage::Error(ErrorBody {
                code: crate::ErrorCode::Unauthenticated,
                message: "gone".into()
            })
        );
        let hello = json!({"type": "subscribe", "since": 4});
        let ClientMessage::Subscribe { token, since } =
            serde_json::from_value(hello).expect("reads");
        assert_eq!((token, since), (None, Some(4)));
    }
}
