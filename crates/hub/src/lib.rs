//! The hub: the facts that guards, managers and IT share (sites, floors, cameras, doors, events,
//! alarms, incidents, users and the audit trail), kept in SQL and pushed live to every client.
//!
//! - [`db`] owns the database: one portable schema for SQLite and PostgreSQL, migrations, and the
//!   single ordered write path that numbers every change for the live feed.
//! - [`store`] is the domain on top of it: every read and write the API offers, with rights
//!   checked and the audit trail written in the same transaction as the change it records.
//! - [`ingest`] turns access-control events (webhook, MQTT) into events, door states and alarms.
//! - [`api`] is the HTTP and WebSocket edge (axum, OpenAPI); [`serve`] runs it with TLS;
//!   [`console`] serves the web console's files to browsers.
//!
//! Nothing here knows the media engine, the wall or the app.

pub mod api;
pub mod auth;
pub mod config;
pub mod console;
pub mod controller;
pub mod db;
pub mod edge;
pub mod feed;
pub mod ingest;
pub mod model;
pub mod secrets;
pub mod serve;
pub mod store;

use std::sync::Arc;

/// What went wrong, with an HTTP-independent kind; the API maps kinds onto status codes.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("{0}")]
    BadRequest(String),
    #[error("not logged in or session expired")]
    Unauthenticated,
    #[error("not allowed: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("this route does not take that method")]
    MethodNotAllowed,
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("too many attempts; retry in {retry_after_s} s")]
    RateLimited { retry_after_s: u64 },
    #[error("upstream failed: {0}")]
    Upstream(String),
    #[error("database: {0}")]
    Database(String),
    #[error("{0}")]
    Internal(String),
}

impl HubError {
    /// The stable code clients match on (they never match messages); it decides the status.
    pub fn code(&self) -> contract::ErrorCode {
        use contract::ErrorCode;
        match self {
            HubError::BadRequest(_) => ErrorCode::BadRequest,
            HubError::Unauthenticated => ErrorCode::Unauthenticated,
            HubError::Forbidden(_) => ErrorCode::Forbidden,
            HubError::NotFound(_) => ErrorCode::NotFound,
            HubError::Conflict(_) => ErrorCode::Conflict,
            HubError::MethodNotAllowed => ErrorCode::MethodNotAllowed,
            HubError::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            HubError::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            HubError::RateLimited { .. } => ErrorCode::RateLimited,
            HubError::Upstream(_) => ErrorCode::Upstream,
            HubError::Database(_) => ErrorCode::Database,
            HubError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl From<sqlx::Error> for HubError {
    fn from(error: sqlx::Error) -> Self {
        HubError::Database(error.to_string())
    }
}

pub type Result<T, E = HubError> = std::result::Result<T, E>;

/// Wall-clock time in milliseconds since the Unix epoch, injected so that logic (session
/// expiry, rate limits) is testable without sleeping.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now_ms(&self) -> i64;
}

/// The system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        chrono::Utc::now().timestamp_millis()
    }
}

pub type SharedClock = Arc<dyn Clock>;

/// RFC 3339 with milliseconds, UTC: how times leave the hub.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Parses RFC 3339 into milliseconds since the epoch.
pub fn parse_time(text: &str) -> Result<i64> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_millis())
        .map_err(|e| HubError::BadRequest(format!("bad time `{}`: {e}", clip(text))))
}

/// At most 64 characters of untrusted text, for error messages.
pub fn clip(text: &str) -> String {
    let mut out: String = text.chars().take(64).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out.escape_debug().to_string()
}

/// Identifiers made by clients and sources: letters, digits, `.`, `_`, `-`, `:`, 1 to 128.
pub fn check_id(what: &str, id: &str) -> Result<()> {
    events::is_id(id).then_some(()).ok_or_else(|| {
        HubError::BadRequest(format!(
            "{what} `{}` must be 1 to 128 letters, digits, `.`, `_`, `-` or `:`",
            clip(id)
        ))
    })
}

/// Free text from clients: bounded, and without NUL (which PostgreSQL cannot store).
pub fn check_text(what: &str, text: &str, max: usize) -> Result<()> {
    if text.len() > max {
        return Err(HubError::BadRequest(format!(
            "{what} is {} bytes; at most {max}",
            text.len()
        )));
    }
    if text.contains('\0') {
        return Err(HubError::BadRequest(format!(
            "{what} contains a NUL character"
        )));
    }
    Ok(())
}

/// A random identifier for records the hub makes itself.
pub fn new_id(prefix: &str) -> String {
    use rand::Rng;
    let bytes: [u8; 12] = rand::rng().random();
    format!("{prefix}-{}", hex::encode(bytes))
}
