//! The operator's hub password in the OS keychain ("remember me"): Secret Service on Linux,
//! the macOS Keychain, the Windows Credential Manager, through `keyring-core` so tests can use
//! its mock store.
//!
//! Keychains can hang: a locked Secret Service collection waits for an unlock prompt that a
//! headless or kiosk session never shows. Every call therefore runs on a thread of its own
//! (never a tokio worker) and is abandoned after a timeout with [`KeychainError::NoAnswer`],
//! which the UI turns into "enter your password" rather than a frozen log-in.

use keyring_core::{CredentialStore, Entry, Error as StoreError};
use std::sync::Arc;
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::Duration;

/// The keychain service name under which Watchfloor keeps its entries.
pub const SERVICE: &str = "watchfloor";

/// How long a keychain call may take before the app gives up on it.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the keychain could not help. Messages say what the operator can do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeychainError {
    #[error("no keychain is available ({0}); the password cannot be remembered")]
    Unavailable(String),
    #[error("the keychain is locked or refused access ({0}); unlock it or type the password")]
    Locked(String),
    #[error(
        "the keychain did not answer within {0:?} (it may be locked and waiting for an unlock \
         prompt); type the password"
    )]
    NoAnswer(Duration),
    #[error("the keychain failed: {0}")]
    Failed(String),
}

fn classify(error: StoreError) -> KeychainError {
    match error {
        StoreError::NoStorageAccess(e) => KeychainError::Locked(e.to_string()),
        StoreError::NoDefaultStore => KeychainError::Unavailable("no store".into()),
        StoreError::PlatformFailure(e) => KeychainError::Unavailable(e.to_string()),
        other => KeychainError::Failed(other.to_string()),
    }
}

/// Runs `work` on its own thread; gives up after `timeout`.
fn bounded<T: Send + 'static>(
    timeout: Duration,
    work: impl FnOnce() -> Result<T, KeychainError> + Send + 'static,
) -> Result<T, KeychainError> {
    let (tx, rx) = channel();
    std::thread::Builder::new()
        .name("keychain".into())
        .spawn(move || {
            let _ = tx.send(work());
        })
        .map_err(|e| KeychainError::Failed(format!("cannot start a thread: {e}")))?;
    match rx.recv_timeout(timeout) {
        Ok(result) => result,
        Err(RecvTimeoutError::Timeout) => {
            // The thread stays blocked in the keychain; it ends when the keychain answers.
            tracing::warn!(?timeout, "keychain call abandoned");
            Err(KeychainError::NoAnswer(timeout))
        }
        Err(RecvTimeoutError::Disconnected) => {
            Err(KeychainError::Failed("keychain call panicked".into()))
        }
    }
}

/// Whose password: a user on a hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub hub: String,
    pub username: String,
}

impl Account {
    fn key(&self) -> String {
        format!("{}@{}", self.username, self.hub)
    }
}

/// The keychain, bounded in time.
#[derive(Clone)]
pub struct Keychain {
    store: Arc<CredentialStore>,
    timeout: Duration,
}

impl std::fmt::Debug for Keychain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keychain")
            .field("store", &self.store.vendor())
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Keychain {
    /// This platform's keychain; an error (not a hang) when there is none.
    pub fn platform(timeout: Duration) -> Result<Self, KeychainError> {
        let store = bounded(timeout, platform_store)?;
        Ok(Self { store, timeout })
    }

    /// Any `keyring-core` store (the mock store in tests).
    pub fn with_store(store: Arc<CredentialStore>, timeout: Duration) -> Self {
        Self { store, timeout }
    }

    fn entry(&self, account: &Account) -> Result<Entry, KeychainError> {
        Entry::new_in_store(&self.store, SERVICE, &account.key()).map_err(classify)
    }

    /// Remembers the password.
    pub fn save(&self, account: &Account, password: &str) -> Result<(), KeychainError> {
        let entry = self.entry(account)?;
        let password = password.to_owned();
        bounded(self.timeout, move || {
            entry.set_password(&password).map_err(classify)
        })
    }

    /// The remembered password, if there is one.
    pub fn load(&self, account: &Account) -> Result<Option<String>, KeychainError> {
        let entry = self.entry(account)?;
        bounded(self.timeout, move || match entry.get_password() {
            Ok(password) => Ok(Some(password)),
            Err(StoreError::NoEntry) => Ok(None),
            Err(e) => Err(classify(e)),
        })
    }

    /// Forgets the password (nothing to forget is fine).
    pub fn forget(&self, account: &Account) -> Result<(), KeychainError> {
        let entry = self.entry(account)?;
        bounded(self.timeout, move || match entry.delete_credential() {
            Ok(()) | Err(StoreError::NoEntry) => Ok(()),
            Err(e) => Err(classify(e)),
        })
    }
}

#[cfg(target_os = "linux")]
fn platform_store() -> Result<Arc<CredentialStore>, KeychainError> {
    let store: Arc<CredentialStore> =
        zbus_secret_service_keyring_store::Store::new().map_err(classify)?;
    Ok(store)
}

#[cfg(target_os = "macos")]
fn platform_store() -> Result<Arc<CredentialStore>, KeychainError> {
    let store: Arc<CredentialStore> =
        apple_native_keyring_store::keychain::Store::new().map_err(classify)?;
    Ok(store)
}

#[cfg(target_os = "windows")]
fn platform_store() -> Result<Arc<CredentialStore>, KeychainError> {
    let store: Arc<CredentialStore> =
        windows_native_keyring_store::Store::new().map_err(classify)?;
    Ok(store)
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
fn platform_store() -> Result<Arc<CredentialStore>, KeychainError> {
    Err(KeychainError::Unavailable(
        "no keychain support on this platform".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyring_core::mock;

    fn account() -> Account {
        Account {
            hub: "https://hub.example:8443".into(),
            username: "guard".into(),
        }
    }

    fn mock_keychain() -> Keychain {
        let store: Arc<CredentialStore> = mock::Store::new().expect("mock store");
        Keychain::with_store(store, DEFAULT_TIMEOUT)
    }

    #[test]
    fn remembers_and_forgets_a_password() {
        let keychain = mock_keychain();
        assert_eq!(keychain.load(&account()), Ok(None));
        keychain.save(&account(), "hunter2 hunter2").expect("save");
        assert_eq!(
            keychain.load(&account()),
            Ok(Some("hunter2 hunter2".into()))
        );
        keychain.forget(&account()).expect("forget");
        assert_eq!(keychain.load(&account()), Ok(None));
        keychain
            .forget(&account())
            .expect("forgetting twice is fine");
    }

    #[test]
    fn store_errors_become_clear_errors() {
        assert!(matches!(
            classify(StoreError::NoStorageAccess(Box::new(
                std::io::Error::other("locked")
            ))),
            KeychainError::Locked(_)
        ));
        assert!(matches!(
            classify(StoreError::PlatformFailure(Box::new(
                std::io::Error::other("no bus")
            ))),
            KeychainError::Unavailable(_)
        ));
    }

    #[test]
    fn a_call_that_never_returns_is_abandoned() {
        let started = std::time::Instant::now();
        let result: Result<(), _> = bounded(Duration::from_millis(200), || {
            std::thread::sleep(Duration::from_secs(3));
            Ok(())
        });
        assert_eq!(
            result,
            Err(KeychainError::NoAnswer(Duration::from_millis(200)))
        );
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
