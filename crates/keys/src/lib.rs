//! The keys a Watchfloor server (the hub, a recorder) keeps on disk, each in a file that only
//! the server's user can read, made on first start:
//!
//! - [`SealingKey`] seals secrets the server must read back (a webhook's HMAC key on the hub,
//!   a camera's password on a recorder) before they reach a database or a file;
//! - [`SigningKey`] signs what others must verify without asking the server (stream tickets,
//!   evidence manifests), and [`verify`] checks such a signature with the public key alone.
//!
//! Nothing here logs, and no `Debug` shows key material.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use std::path::Path;

/// What went wrong with a key or a sealed secret. Never carries the secret itself.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("cannot write {path}: {reason}")]
    Write { path: String, reason: String },
    #[error("{path} does not hold a key of this kind ({reason})")]
    Malformed { path: String, reason: String },
    #[error("sealed secret is not readable: {0}")]
    Sealed(&'static str),
    #[error("sealed secret does not open with this key")]
    WrongKey,
}

/// Reads a key file, or makes one with `make` (mode 0600) when there is none.
fn load_or_create(
    path: &Path,
    make: impl FnOnce() -> Result<Vec<u8>, KeyError>,
) -> Result<Vec<u8>, KeyError> {
    match std::fs::read_to_string(path) {
        Ok(text) => hex::decode(text.trim()).map_err(|_| KeyError::Malformed {
            path: path.display().to_string(),
            reason: "not hex".into(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let bytes = make()?;
            write_private(path, hex::encode(&bytes).as_bytes())?;
            Ok(bytes)
        }
        Err(e) => Err(KeyError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        }),
    }
}

/// A ChaCha20-Poly1305 key that seals secrets at rest.
#[derive(Clone)]
pub struct SealingKey(Key);

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(..)")
    }
}

impl SealingKey {
    /// Reads the key file, or makes one (mode 0600) when there is none.
    pub fn load_or_create(path: &Path) -> Result<Self, KeyError> {
        let bytes = load_or_create(path, || {
            Ok(ChaCha20Poly1305::generate_key(&mut OsRng).to_vec())
        })?;
        if bytes.len() != 32 {
            return Err(KeyError::Malformed {
                path: path.display().to_string(),
                reason: "not 32 bytes".into(),
            });
        }
        Ok(Self(*Key::from_slice(&bytes)))
    }

    /// A key that lives only in memory (tests, throwaway servers).
    pub fn ephemeral() -> Self {
        Self(ChaCha20Poly1305::generate_key(&mut OsRng))
    }

    /// `plaintext` sealed with a fresh nonce, as base64 text.
    pub fn seal(&self, plaintext: &[u8]) -> Result<String, KeyError> {
        let cipher = ChaCha20Poly1305::new(&self.0);
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let mut sealed = nonce.to_vec();
        sealed.extend(
            cipher
                .encrypt(&nonce, plaintext)
                .map_err(|_| KeyError::Sealed("cannot seal"))?,
        );
        Ok(STANDARD.encode(sealed))
    }

    /// What [`SealingKey::seal`] sealed; refuses anything altered or sealed with another key.
    pub fn open(&self, sealed: &str) -> Result<Vec<u8>, KeyError> {
        let bytes = STANDARD
            .decode(sealed.trim())
            .map_err(|_| KeyError::Sealed("not base64"))?;
        if bytes.len() < 12 {
            return Err(KeyError::Sealed("too short"));
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        ChaCha20Poly1305::new(&self.0)
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| KeyError::WrongKey)
    }
}

/// An Ed25519 key pair whose public half others use to check what it signed.
pub struct SigningKey(Ed25519KeyPair);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey(public {})", self.public_hex())
    }
}

impl SigningKey {
    /// Reads the key file (PKCS#8, hex), or makes one (mode 0600) when there is none.
    pub fn load_or_create(path: &Path) -> Result<Self, KeyError> {
        let bytes = load_or_create(path, || {
            Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
                .map(|doc| doc.as_ref().to_vec())
                .map_err(|_| KeyError::Write {
                    path: path.display().to_string(),
                    reason: "no randomness for a new key".into(),
                })
        })?;
        Ed25519KeyPair::from_pkcs8(&bytes)
            .map(Self)
            .map_err(|e| KeyError::Malformed {
                path: path.display().to_string(),
                reason: e.to_string(),
            })
    }

    /// A key pair that lives only in memory (tests, throwaway servers).
    pub fn ephemeral() -> Self {
        let rng = ring::rand::SystemRandom::new();
        // Generating from the system's randomness fails only without one; a server without
        // randomness cannot run at all.
        let doc = Ed25519KeyPair::generate_pkcs8(&rng).expect("system randomness");
        Self(Ed25519KeyPair::from_pkcs8(doc.as_ref()).expect("a key just made parses"))
    }

    /// The public key, as 64 hex digits.
    pub fn public_hex(&self) -> String {
        hex::encode(self.0.public_key().as_ref())
    }

    /// The signature of `message`, as 128 hex digits.
    pub fn sign_hex(&self, message: &[u8]) -> String {
        hex::encode(self.sign(message))
    }

    /// The signature of `message`: 64 bytes, as `openssl pkeyutl -verify -rawin` reads it.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.0.sign(message).as_ref().to_vec()
    }
}

/// Whether `signature_hex` is `public_hex`'s signature of `message`. Any malformed part is a
/// failed check, never an error.
pub fn verify(public_hex: &str, message: &[u8], signature_hex: &str) -> bool {
    let (Ok(public), Ok(signature)) = (hex::decode(public_hex), hex::decode(signature_hex)) else {
        return false;
    };
    UnparsedPublicKey::new(&ED25519, public)
        .verify(message, &signature)
        .is_ok()
}

/// A signed token: `payload` and the signer's signature of it, as
/// `base64url(payload).base64url(signature)` (no padding), safe in a header or a password.
pub fn sign_token(signer: &SigningKey, payload: &[u8]) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(payload),
        URL_SAFE_NO_PAD.encode(signer.sign(payload))
    )
}

/// The payload of a [`sign_token`] token, if `public_hex`'s key signed it; `None` for anything
/// malformed, altered or signed by another key.
pub fn open_token(public_hex: &str, token: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (payload, signature) = token.split_once('.')?;
    let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    verify(public_hex, &payload, &hex::encode(signature)).then_some(payload)
}

/// Writes a file only its owner can read (created that way, not narrowed afterwards), and
/// syncs it to disk.
pub fn write_private(path: &Path, contents: &[u8]) -> Result<(), KeyError> {
    use std::io::Write;
    let error = |e: std::io::Error| KeyError::Write {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(error)?;
    }
    options
        .open(path)
        .and_then(|mut f| f.write_all(contents).and_then(|()| f.sync_all()))
        .map_err(error)
}

/// An Ed25519 public key (hex) as PEM (SubjectPublicKeyInfo, RFC 8410), as `openssl` reads it;
/// empty key bytes when the hex is not hex.
pub fn public_key_pem(public_hex: &str) -> String {
    use base64::Engine;
    // The SubjectPublicKeyInfo prefix for Ed25519, followed by the 32-byte key.
    let mut der = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    der.extend(hex::decode(public_hex).unwrap_or_default());
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(der)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("keys-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn sealed_secrets_open_with_the_same_key_only() {
        let key = SealingKey::ephemeral();
        let sealed = key.seal(b"hmac secret").expect("seal");
        assert!(!sealed.contains("hmac"));
        assert_eq!(key.open(&sealed).expect("open"), b"hmac secret");
        assert!(matches!(
            SealingKey::ephemeral().open(&sealed),
            Err(KeyError::WrongKey)
        ));
        assert!(key.open("!!").is_err());
        assert!(key.open("AAAA").is_err());
    }

    #[test]
    fn key_files_are_made_once_and_private() {
        let dir = scratch("files");
        let path = dir.join("server.key");
        let first = SealingKey::load_or_create(&path).expect("create");
        let again = SealingKey::load_or_create(&path).expect("load");
        let sealed = first.seal(b"x").expect("seal");
        assert_eq!(again.open(&sealed).expect("open"), b"x");
        let signing_path = dir.join("signing.key");
        let signer = SigningKey::load_or_create(&signing_path).expect("create");
        let same = SigningKey::load_or_create(&signing_path).expect("load");
        assert_eq!(signer.public_hex(), same.public_hex());
        #[cfg(unix)]
        for file in [&path, &signing_path] {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(file).expect("meta").permissions().mode();
            assert_eq!(mode & 0o077, 0, "{}", file.display());
        }
        // A sealing key file is not a signing key file.
        assert!(matches!(
            SigningKey::load_or_create(&path),
            Err(KeyError::Malformed { .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_token_opens_only_unaltered_and_with_its_signer_key() {
        let signer = SigningKey::ephemeral();
        let token = sign_token(&signer, b"{\"camera\":\"cam01\"}");
        assert_eq!(
            open_token(&signer.public_hex(), &token).as_deref(),
            Some(&b"{\"camera\":\"cam01\"}"[..])
        );
        assert!(open_token(&SigningKey::ephemeral().public_hex(), &token).is_none());
        let (payload, signature) = token.split_once('.').expect("two parts");
        let forged = sign_token(&signer, b"{\"camera\":\"cam02\"}");
        let (other_payload, _) = forged.split_once('.').expect("two parts");
        assert!(
            open_token(
                &signer.public_hex(),
                &format!("{other_payload}.{signature}")
            )
            .is_none()
        );
        assert!(open_token(&signer.public_hex(), payload).is_none());
        assert!(open_token(&signer.public_hex(), "!.!").is_none());
    }

    #[test]
    fn a_signature_verifies_only_for_its_message_and_key() {
        let signer = SigningKey::ephemeral();
        let signature = signer.sign_hex(b"manifest");
        assert!(verify(&signer.public_hex(), b"manifest", &signature));
        assert!(!verify(&signer.public_hex(), b"manifesT", &signature));
        assert!(!verify(
            &SigningKey::ephemeral().public_hex(),
            b"manifest",
            &signature
        ));
        let mut flipped = signature.clone().into_bytes();
        flipped[0] = if flipped[0] == b'0' { b'1' } else { b'0' };
        assert!(!verify(
            &signer.public_hex(),
            b"manifest",
            std::str::from_utf8(&flipped).expect("hex")
        ));
        assert!(!verify("zz", b"manifest", &signature));
        assert!(!verify(&signer.public_hex(), b"manifest", "zz"));
    }
}
