//! Signing in, sessions, users, event sources and the hub's own settings.

use crate::rights::{Caller, Grant};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// `GET /api/v1/health`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, TS)]
pub struct Health {
    pub status: String,
    pub version: String,
    pub database: String,
    /// The newest change's sequence number.
    pub seq: i64,
}

/// A user name and password. Never logged; `Debug` hides the password.
#[derive(Clone, Serialize, Deserialize, ToSchema, TS)]
pub struct Login {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A session made by signing in.
#[derive(Clone, Serialize, Deserialize, ToSchema, TS)]
pub struct Session {
    /// The bearer token: send it as `Authorization: Bearer <token>`. Shown once.
    pub token: String,
    pub expires: String,
    pub user: Caller,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("token", &"<redacted>")
            .field("expires", &self.expires)
            .field("user", &self.user)
            .finish()
    }
}

/// A browser console's sign-in: the session goes into an HttpOnly cookie, never into the body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, TS)]
pub struct BrowserSession {
    pub expires: String,
    pub user: Caller,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, TS)]
pub struct User {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub grants: Vec<Grant>,
    pub disabled: bool,
}

#[derive(Clone, Serialize, Deserialize, ToSchema, TS)]
pub struct NewUser {
    /// Client-made id; a replay with the same id changes nothing.
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub grants: Vec<Grant>,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("grants", &self.grants)
            .finish_non_exhaustive()
    }
}

/// `PUT /api/v1/users/{id}/grants`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, TS)]
pub struct GrantsBody {
    pub grants: Vec<Grant>,
}

/// `PUT /api/v1/users/{id}/password`: an IT admin sets a new password (every session of the
/// user ends).
#[derive(Clone, Serialize, Deserialize, ToSchema, TS)]
pub struct PasswordReset {
    pub password: String,
}

impl std::fmt::Debug for PasswordReset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordReset { .. }")
    }
}

/// `PUT /api/v1/me/password`: a user changes their own password (their other sessions end).
#[derive(Clone, Serialize, Deserialize, ToSchema, TS)]
pub struct PasswordChange {
    pub current: String,
    pub password: String,
}

impl std::fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordChange { .. }")
    }
}

/// A user's session, as `GET /api/v1/users/{id}/sessions` lists it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, TS)]
pub struct SessionInfo {
    /// The session's handle, to end it with `DELETE /api/v1/users/{id}/sessions/{session}`.
    pub id: String,
    /// RFC 3339.
    pub created: String,
    pub expires: String,
    /// The address it signed in from (as the log-in limit counts it); empty for sessions made
    /// before hubs kept it.
    pub client: String,
    /// Whether it is the session of the request that lists it.
    pub current: bool,
}

/// An event source (a door controller, a gateway) to create.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, TS)]
pub struct NewSource {
    pub id: String,
    pub site: String,
    pub name: String,
}

/// A new source's key, shown once.
#[derive(Clone, Serialize, Deserialize, ToSchema, TS)]
pub struct SourceSecret {
    pub id: String,
    pub site: String,
    /// The HMAC key for `X-Watchfloor-Signature`. Shown once; the hub keeps it sealed.
    pub secret: String,
}

impl std::fmt::Debug for SourceSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceSecret")
            .field("id", &self.id)
            .field("site", &self.site)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Hub-wide settings (IT).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, TS)]
pub struct Settings {
    /// How long a session lasts, in minutes.
    pub session_minutes: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            session_minutes: 12 * 60,
        }
    }
}

/// That a camera was viewed, for the audit trail.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, TS)]
pub struct CameraViewed {
    pub site: String,
    pub camera: String,
}
