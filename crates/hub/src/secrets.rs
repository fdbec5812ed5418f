//! Secrets the hub must read back (webhook sources' HMAC keys) are sealed with the hub's own
//! key (ChaCha20-Poly1305) before they reach the database; the key lives in a file readable by
//! the hub's user only, beside the TLS key, never in the database or the configuration file.

use crate::{HubError, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use std::path::Path;

/// The hub's sealing key.
#[derive(Clone)]
pub struct HubKey(Key);

impl std::fmt::Debug for HubKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HubKey(..)")
    }
}

impl HubKey {
    /// Reads the key file, or makes one (mode 0600) when there is none.
    pub fn load_or_create(path: &Path) -> Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let bytes = hex::decode(text.trim()).map_err(|_| {
                    HubError::Internal(format!("{} is not a hex key", path.display()))
                })?;
                if bytes.len() != 32 {
                    return Err(HubError::Internal(format!(
                        "{} must hold 32 bytes",
                        path.display()
                    )));
                }
                Ok(Self(*Key::from_slice(&bytes)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = ChaCha20Poly1305::generate_key(&mut OsRng);
                write_private(path, hex::encode(key).as_bytes())?;
                Ok(Self(key))
            }
            Err(e) => Err(HubError::Internal(format!(
                "cannot read {}: {e}",
                path.display()
            ))),
        }
    }

    /// A key that lives only in memory (tests, throwaway hubs).
    pub fn ephemeral() -> Self {
        Self(ChaCha20Poly1305::generate_key(&mut OsRng))
    }

    pub fn seal(&self, plaintext: &[u8]) -> Result<String> {
        let cipher = ChaCha20Poly1305::new(&self.0);
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let mut sealed = nonce.to_vec();
        sealed.extend(
            cipher
                .encrypt(&nonce, plaintext)
                .map_err(|_| HubError::Internal("cannot seal secret".into()))?,
        );
        Ok(STANDARD.encode(sealed))
    }

    pub fn open(&self, sealed: &str) -> Result<Vec<u8>> {
        let bytes = STANDARD
            .decode(sealed)
            .map_err(|_| HubError::Internal("sealed secret is not base64".into()))?;
        if bytes.len() < 12 {
            return Err(HubError::Internal("sealed secret is too short".into()));
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        ChaCha20Poly1305::new(&self.0)
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| {
                HubError::Internal("sealed secret does not open with this hub's key".into())
            })
    }
}

/// Writes a file only its owner can read (created that way, not narrowed afterwards).
pub fn write_private(path: &Path, contents: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| HubError::Internal(format!("cannot create {}: {e}", dir.display())))?;
    }
    options
        .open(path)
        .and_then(|mut f| f.write_all(contents).and_then(|()| f.sync_all()))
        .map_err(|e| HubError::Internal(format!("cannot write {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_with_the_same_key_only() {
        let key = HubKey::ephemeral();
        let sealed = key.seal(b"hmac secret").expect("seal");
        assert!(!sealed.contains("hmac"));
        assert_eq!(key.open(&sealed).expect("open"), b"hmac secret");
        assert!(HubKey::ephemeral().open(&sealed).is_err());
        assert!(key.open("!!").is_err());
    }

    #[test]
    fn key_file_is_made_once_and_private() {
        let dir = std::env::temp_dir().join(format!("hubkey-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("hub.key");
        let first = HubKey::load_or_create(&path).expect("create");
        let again = HubKey::load_or_create(&path).expect("load");
        let sealed = first.seal(b"x").expect("seal");
        assert_eq!(again.open(&sealed).expect("open"), b"x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o077, 0);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
