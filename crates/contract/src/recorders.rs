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
use utoipa::ToSchema;

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

/// `POST /api/v1/sites/{site}/cameras/{camera}/ticket`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct TicketRequest {
    pub stream: StreamName,
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
    /// Unix milliseconds.
    pub issued_ms: i64,
    /// Unix milliseconds; a recorder refuses the ticket from then on.
    pub expires_ms: i64,
}
