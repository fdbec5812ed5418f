//! Errors as they travel: `{code, message}`. Clients act on `code` (a closed set), people read
//! `message`.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// Why the hub refused or failed a request. Each code has one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed or breaks a rule (400).
    BadRequest,
    /// No session, or it expired or was revoked (401).
    Unauthenticated,
    /// The caller's role does not allow it (403).
    Forbidden,
    /// No such thing, or not on a site the caller may see (404).
    NotFound,
    /// The route exists but not with this method (405).
    MethodNotAllowed,
    /// It clashes with what is there (409).
    Conflict,
    /// The body is larger than the hub takes (413).
    PayloadTooLarge,
    /// The body is not JSON (415).
    UnsupportedMediaType,
    /// Too many attempts; `Retry-After` says when to try again (429).
    RateLimited,
    /// Something the hub depends on (a door controller) failed (502).
    Upstream,
    /// The hub's database is unavailable (503).
    Database,
    /// The hub failed; its log says why (500).
    Internal,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 12] = [
        ErrorCode::BadRequest,
        ErrorCode::Unauthenticated,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::Conflict,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::RateLimited,
        ErrorCode::Upstream,
        ErrorCode::Database,
        ErrorCode::Internal,
    ];

    /// The HTTP status the hub answers with.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::BadRequest => 400,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::Conflict => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::RateLimited => 429,
            ErrorCode::Upstream => 502,
            ErrorCode::Database => 503,
            ErrorCode::Internal => 500,
        }
    }

    /// The code for a status, for answers that are not the hub's own JSON.
    pub fn from_status(status: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.status() == status)
    }

    /// Whether the same request may succeed later unchanged (the hub busy or failing, the
    /// session to be renewed), as opposed to a refusal a repeat cannot change.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorCode::Unauthenticated
                | ErrorCode::RateLimited
                | ErrorCode::Upstream
                | ErrorCode::Database
                | ErrorCode::Internal
        )
    }
}

/// An error as it travels: the hub's answers, the live feed's `error` message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_distinct_statuses_and_snake_case_names() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_status(code.status()), Some(code));
            let name = serde_json::to_value(code).expect("serialises");
            let name = name.as_str().expect("a string");
            assert!(name.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        }
        assert_eq!(ErrorCode::from_status(418), None);
    }

    #[test]
    fn an_unknown_code_is_an_error_not_a_guess() {
        let body = r#"{"code":"teapot","message":"no"}"#;
        assert!(serde_json::from_str::<ErrorBody>(body).is_err());
    }
}
