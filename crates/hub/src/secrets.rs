//! Secrets the hub must read back (webhook sources' HMAC keys) are sealed with the hub's own
//! key (ChaCha20-Poly1305, the `keys` crate) before they reach the database; the key lives in
//! a file readable by the hub's user only, beside the TLS key, never in the database or the
//! configuration file.

use crate::{HubError, Result};
use std::path::Path;

/// The hub's sealing key.
pub use keys::SealingKey as HubKey;

impl From<keys::KeyError> for HubError {
    fn from(error: keys::KeyError) -> Self {
        HubError::Internal(error.to_string())
    }
}

/// Writes a file only its owner can read (created that way, not narrowed afterwards).
pub fn write_private(path: &Path, contents: &[u8]) -> Result<()> {
    Ok(keys::write_private(path, contents)?)
}
