//! The one error the console sees: a stable code to act on and a message to show. The UI
//! matches codes, never messages; messages never carry a password or a token.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    pub code: String,
    pub message: String,
}

impl AppError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }

    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::new("bad_input", message)
    }

    pub fn not_signed_in() -> Self {
        Self::new("not_signed_in", "sign in to a hub first")
    }

    pub fn storage(message: impl Into<String>) -> Self {
        Self::new("storage", message)
    }
}

impl From<crate::keychain::KeychainError> for AppError {
    fn from(error: crate::keychain::KeychainError) -> Self {
        Self::new(error.code(), error.to_string())
    }
}

impl From<wall::SendError> for AppError {
    fn from(error: wall::SendError) -> Self {
        Self::new("wall", error.to_string())
    }
}

pub type Result<T> = std::result::Result<T, AppError>;
