//! Bookmarks: an operator marks an instant (or a range) of a camera's video with a note, from
//! the wall with one key; every workstation sees it at once, and it can be linked to an
//! incident.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::{IntoParams, ToSchema};

/// `POST /api/v1/sites/{site}/bookmarks`. `id` is made by the client: the same request sent
/// again (a retry, the outbox after a crash) is answered with the bookmark it made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct NewBookmark {
    pub id: String,
    pub camera: String,
    /// RFC 3339: the instant marked, or the start of the range.
    pub at: String,
    /// RFC 3339: the end of the range, for a range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub to: Option<String>,
    pub note: String,
    /// The incident it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub incident: Option<String>,
}

/// A bookmark on the hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct Bookmark {
    pub id: String,
    pub site: String,
    pub camera: String,
    /// RFC 3339.
    pub at: String,
    pub to: Option<String>,
    pub note: String,
    pub incident: Option<String>,
    /// Who made it (user name) and when (RFC 3339).
    pub created_by: String,
    pub created: String,
}

/// `PATCH /api/v1/sites/{site}/bookmarks/{id}`: links the bookmark to an incident of its
/// site, or unlinks it (`null`). The field is required: a body without it changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, TS)]
pub struct BookmarkLink {
    pub incident: Option<String>,
}

impl<'de> Deserialize<'de> for BookmarkLink {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// The body as sent: `incident` present, a string or `null`.
        #[derive(Deserialize)]
        struct Sent {
            #[serde(deserialize_with = "Option::deserialize")]
            incident: Option<String>,
        }
        Sent::deserialize(deserializer).map(|sent| Self {
            incident: sent.incident,
        })
    }
}

/// `GET /api/v1/sites/{site}/bookmarks`: newest instant first.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, IntoParams, TS)]
#[into_params(parameter_in = Query)]
pub struct BookmarkFilter {
    /// One camera's only.
    pub camera: Option<String>,
    /// RFC 3339: marked at or after.
    pub from: Option<String>,
    /// RFC 3339: marked before.
    pub to: Option<String>,
    /// Words that must all be in the note (any case).
    pub q: Option<String>,
    /// One incident's only.
    pub incident: Option<String>,
    /// At most this many (500 at most; 100 when left out).
    pub limit: Option<u32>,
}
