//! The one error the console sees: a code from a closed set to act on and a message to show.
//! The UI matches codes, never messages; messages never carry a password or a token.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What went wrong, for the console to act on. `hub_*` codes the hub gave (one per
/// [`contract::ErrorCode`]) or met on the way to it; the rest are the app's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(rename = "AppErrorCode")]
pub enum ErrorCode {
    HubBadRequest,
    HubUnauthenticated,
    HubForbidden,
    HubNotFound,
    HubMethodNotAllowed,
    HubConflict,
    HubPayloadTooLarge,
    HubUnsupportedMediaType,
    HubRateLimited,
    HubUpstream,
    HubDatabase,
    HubInternal,
    /// The hub cannot be reached (refused, no route, name unknown).
    HubUnreachable,
    /// Sent, perhaps received, no answer in time: the outcome is unknown.
    HubTimeout,
    /// The hub's certificate is not trusted here.
    HubCertificate,
    /// The hub answered something this app cannot read.
    HubAnswer,
    /// Something between the app and the hub (a proxy) refused the request for good.
    HubRefused,
    /// No HTTP client could be made.
    HubClient,
    /// A door command while the hub is away: never queued.
    Offline,
    /// A door command whose outcome is unknown (it timed out).
    OutcomeUnknown,
    NotSignedIn,
    /// Another sign-in or a sign-out happened while this one ran.
    Superseded,
    /// No password given and none remembered.
    NoPassword,
    BadInput,
    /// The profile or the outbox could not be read or written.
    Storage,
    KeychainUnavailable,
    KeychainLocked,
    KeychainNoAnswer,
    KeychainFailed,
    Wall,
    Window,
    Demo,
    NoDemo,
    AlreadyRunning,
    /// A replay asked of a camera no recorder records.
    NotRecorded,
}

impl ErrorCode {
    /// The code for the hub's own refusal.
    pub fn from_hub(code: contract::ErrorCode) -> Self {
        use contract::ErrorCode as Hub;
        match code {
            Hub::BadRequest => Self::HubBadRequest,
            Hub::Unauthenticated => Self::HubUnauthenticated,
            Hub::Forbidden => Self::HubForbidden,
            Hub::NotFound => Self::HubNotFound,
            Hub::MethodNotAllowed => Self::HubMethodNotAllowed,
            Hub::Conflict => Self::HubConflict,
            Hub::PayloadTooLarge => Self::HubPayloadTooLarge,
            Hub::UnsupportedMediaType => Self::HubUnsupportedMediaType,
            Hub::RateLimited => Self::HubRateLimited,
            Hub::Upstream => Self::HubUpstream,
            Hub::Database => Self::HubDatabase,
            Hub::Internal => Self::HubInternal,
        }
    }

    /// Whether trying the same request later may succeed (the hub away, busy or failing, the
    /// session to be renewed), as opposed to a refusal that a repeat cannot change.
    pub fn is_transient(self) -> bool {
        use contract::ErrorCode as Hub;
        let hub = Hub::ALL.into_iter().find(|c| Self::from_hub(*c) == self);
        match hub {
            Some(hub) => hub.is_transient(),
            None => matches!(
                self,
                Self::HubUnreachable | Self::HubTimeout | Self::HubAnswer | Self::NotSignedIn
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadInput, message)
    }

    pub fn not_signed_in() -> Self {
        Self::new(ErrorCode::NotSignedIn, "sign in to a hub first")
    }

    pub fn storage(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Storage, message)
    }
}

impl From<crate::keychain::KeychainError> for AppError {
    fn from(error: crate::keychain::KeychainError) -> Self {
        use crate::keychain::KeychainError as K;
        let code = match &error {
            K::Unavailable(_) => ErrorCode::KeychainUnavailable,
            K::Locked(_) => ErrorCode::KeychainLocked,
            K::NoAnswer(_) => ErrorCode::KeychainNoAnswer,
            K::Failed(_) => ErrorCode::KeychainFailed,
        };
        Self::new(code, error.to_string())
    }
}

impl From<wall::SendError> for AppError {
    fn from(error: wall::SendError) -> Self {
        Self::new(ErrorCode::Wall, error.to_string())
    }
}

pub type Result<T> = std::result::Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hub_code_has_its_own_app_code_named_after_it() {
        for code in contract::ErrorCode::ALL {
            let hub = serde_json::to_value(code).expect("json");
            let app = serde_json::to_value(ErrorCode::from_hub(code)).expect("json");
            assert_eq!(
                app.as_str().map(str::to_owned),
                hub.as_str().map(|h| format!("hub_{h}"))
            );
        }
    }

    #[test]
    fn a_keychain_that_does_not_answer_has_its_own_code() {
        let error = AppError::from(crate::keychain::KeychainError::NoAnswer(
            std::time::Duration::from_secs(5),
        ));
        assert_eq!(error.code, ErrorCode::KeychainNoAnswer);
        assert!(
            error.message.contains("did not answer"),
            "{}",
            error.message
        );
    }

    #[test]
    fn what_a_retry_may_cure() {
        assert!(ErrorCode::HubUnreachable.is_transient());
        assert!(ErrorCode::HubUnauthenticated.is_transient());
        assert!(ErrorCode::HubDatabase.is_transient());
        assert!(!ErrorCode::HubForbidden.is_transient());
        assert!(!ErrorCode::HubBadRequest.is_transient());
        assert!(!ErrorCode::HubRefused.is_transient());
        assert!(!ErrorCode::Offline.is_transient());
    }
}
