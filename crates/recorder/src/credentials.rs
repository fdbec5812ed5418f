//! Camera credentials: the only place in Watchfloor that holds a camera's password. They are
//! kept in one file sealed with the recorder's key (`credentials.sealed`, beside
//! `recorder.key`, both readable by the recorder's user only), changed only through the admin
//! command, and handed to GStreamer as `rtspsrc` properties; never in a URL, a log line, a
//! response or a command line.

use keys::{KeyError, SealingKey};
pub use media::Credentials;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Credentials from `user` and a password that came from a file or standard input: one line,
/// the trailing newline not part of it.
pub fn from_text(user: &str, text: &str) -> Result<Credentials, String> {
    let password = text.strip_suffix('\n').unwrap_or(text);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        return Err("the password is empty".into());
    }
    if password.contains('\n') {
        return Err("the password must be one line".into());
    }
    if user.is_empty() {
        return Err("the user name is empty".into());
    }
    Ok(Credentials {
        user: user.to_owned(),
        password: password.to_owned(),
    })
}

/// How credentials are kept inside the sealed file.
#[derive(Serialize, Deserialize)]
struct Stored {
    user: String,
    password: String,
}

/// The sealed file of every camera's credentials.
#[derive(Debug, Clone)]
pub struct CredentialStore {
    path: PathBuf,
    key: SealingKey,
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("cannot read {0}: {1}")]
    Read(String, String),
    #[error("cannot write {0}: {1}")]
    Write(String, String),
    #[error("{0} opened but does not hold credentials")]
    Malformed(String),
}

impl CredentialStore {
    /// The store in `data_dir`, with the recorder's key (made on first use).
    pub fn open(data_dir: &Path) -> Result<Self, CredentialError> {
        let key = SealingKey::load_or_create(&data_dir.join("recorder.key"))?;
        Ok(Self {
            path: data_dir.join("credentials.sealed"),
            key,
        })
    }

    /// Every camera's credentials (none when the file does not exist yet).
    pub fn all(&self) -> Result<BTreeMap<String, Credentials>, CredentialError> {
        let sealed = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(e) => {
                return Err(CredentialError::Read(
                    self.path.display().to_string(),
                    e.to_string(),
                ));
            }
        };
        let plain = self.key.open(&sealed)?;
        let stored: BTreeMap<String, Stored> = serde_json::from_slice(&plain)
            .map_err(|_| CredentialError::Malformed(self.path.display().to_string()))?;
        Ok(stored
            .into_iter()
            .map(|(camera, s)| {
                (
                    camera,
                    Credentials {
                        user: s.user,
                        password: s.password,
                    },
                )
            })
            .collect())
    }

    /// `camera`'s credentials, if it has any.
    pub fn get(&self, camera: &str) -> Result<Option<Credentials>, CredentialError> {
        Ok(self.all()?.remove(camera))
    }

    /// Sets (`Some`) or removes (`None`) `camera`'s credentials. The new file replaces the old
    /// one whole (written beside it, synced, renamed), so a crash leaves one or the other.
    pub fn set(
        &self,
        camera: &str,
        credentials: Option<Credentials>,
    ) -> Result<(), CredentialError> {
        let mut all = self.all()?;
        match credentials {
            Some(c) => all.insert(camera.to_owned(), c),
            None => all.remove(camera),
        };
        let stored: BTreeMap<&String, Stored> = all
            .iter()
            .map(|(camera, c)| {
                (
                    camera,
                    Stored {
                        user: c.user.clone(),
                        password: c.password.clone(),
                    },
                )
            })
            .collect();
        let plain = serde_json::to_vec(&stored)
            .map_err(|e| CredentialError::Write(self.path.display().to_string(), e.to_string()))?;
        let sealed = self.key.seal(&plain)?;
        let next = self.path.with_extension("sealed.next");
        let _ = std::fs::remove_file(&next);
        keys::write_private(&next, sealed.as_bytes())?;
        std::fs::rename(&next, &self.path)
            .map_err(|e| CredentialError::Write(self.path.display().to_string(), e.to_string()))?;
        self.give_to_owner()
    }

    /// Run as root (`sudo watchfloor-recorder credentials set ...`), the files it made belong
    /// to root and the service could not read them: hand them to the data folder's owner.
    fn give_to_owner(&self) -> Result<(), CredentialError> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let Some(dir) = self.path.parent() else {
                return Ok(());
            };
            let owner = std::fs::metadata(dir)
                .map_err(|e| CredentialError::Write(dir.display().to_string(), e.to_string()))?;
            for file in [self.path.clone(), dir.join("recorder.key")] {
                let meta = match std::fs::metadata(&file) {
                    Ok(meta) => meta,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => {
                        return Err(CredentialError::Write(
                            file.display().to_string(),
                            e.to_string(),
                        ));
                    }
                };
                if meta.uid() != owner.uid() || meta.gid() != owner.gid() {
                    std::os::unix::fs::chown(&file, Some(owner.uid()), Some(owner.gid())).map_err(
                        |e| {
                            CredentialError::Write(
                                file.display().to_string(),
                                format!(
                                    "cannot give it to the data folder's owner ({e}); run the \
                                     command as that user"
                                ),
                            )
                        },
                    )?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_sealed_at_rest_and_read_back() {
        let dir = std::env::temp_dir().join(format!("rec-cred-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = CredentialStore::open(&dir).expect("open");
        assert!(store.get("cam-01").expect("empty").is_none());
        let secret = from_text("admin", "correct horse\n").expect("text");
        store.set("cam-01", Some(secret.clone())).expect("set");
        let on_disk = std::fs::read(dir.join("credentials.sealed")).expect("file");
        let text = String::from_utf8_lossy(&on_disk);
        assert!(!text.contains("correct horse") && !text.contains("admin"));
        let again = CredentialStore::open(&dir).expect("reopen");
        assert_eq!(again.get("cam-01").expect("get"), Some(secret.clone()));
        assert!(!format!("{secret:?}").contains("correct horse"));
        again.set("cam-01", None).expect("remove");
        assert!(store.get("cam-01").expect("get").is_none());
        // Another recorder's key cannot open it.
        std::fs::remove_file(dir.join("recorder.key")).expect("forget key");
        again.set("cam-02", Some(secret)).expect("set");
        let other = CredentialStore::open(&dir).expect("new key");
        assert!(matches!(
            other.all(),
            Err(CredentialError::Key(KeyError::WrongKey))
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn passwords_from_text_are_one_line() {
        assert!(from_text("u", "").is_err());
        assert!(from_text("u", "a\nb\n").is_err());
        assert!(from_text("", "p").is_err());
        assert_eq!(from_text("u", "p w\r\n").expect("ok").password, "p w");
    }
}
