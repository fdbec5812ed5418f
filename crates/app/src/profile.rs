//! What the app remembers between runs, in its profile folder: the last hub and user, window
//! places, and what each wall showed. Never a password (that is the keychain's) nor a token.
//!
//! Written whole to a temporary file and renamed over the old one, so a crash or a full disk
//! leaves the previous state, never half a file; an unreadable file is set aside and reported,
//! not fatal.

use crate::cameras::SiteTree;
use crate::error::{AppError, Result};
use crate::walls::WallState;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use ts_rs::TS;

/// A window's place on the desktop (physical pixels) and whether it filled its monitor.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WindowPlace {
    pub x: i32,
    pub y: i32,
    pub width: u32,
    pub height: u32,
    #[serde(default)]
    pub fullscreen: bool,
}

/// The last sign-in, to fill the form (and sign in again when the password is remembered).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
pub struct LastSignIn {
    pub hub: String,
    pub username: String,
    /// A PEM file of certificates to trust for this hub beside the system's.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    pub remember: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileState {
    #[serde(default)]
    pub sign_in: Option<LastSignIn>,
    /// By window label (`console`, `wall-1`, ...).
    #[serde(default)]
    pub windows: BTreeMap<String, WindowPlace>,
    /// By wall id.
    #[serde(default)]
    pub walls: BTreeMap<String, WallState>,
    /// The cameras the hub listed last, so walls play while the hub is unreachable. Stream
    /// URLs carry no passwords (the hub refuses such URLs).
    #[serde(default)]
    pub sites: Vec<SiteTree>,
    /// How far back instant replay goes, in seconds.
    #[serde(default = "default_instant_replay_s")]
    pub instant_replay_s: u32,
}

/// Instant replay's reach unless the operator chose another.
pub const INSTANT_REPLAY_S: u32 = 30;

fn default_instant_replay_s() -> u32 {
    INSTANT_REPLAY_S
}

impl Default for ProfileState {
    fn default() -> Self {
        Self {
            sign_in: None,
            windows: BTreeMap::new(),
            walls: BTreeMap::new(),
            sites: Vec::new(),
            instant_replay_s: INSTANT_REPLAY_S,
        }
    }
}

/// The profile folder and its state file.
#[derive(Debug, Clone)]
pub struct Profile {
    dir: PathBuf,
}

const STATE_FILE: &str = "state.json";

impl Profile {
    /// The profile in `dir`, created (readable by this user only) when missing.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)
            .map_err(|e| AppError::storage(format!("cannot create {}: {e}", dir.display())))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).map_err(
                |e| AppError::storage(format!("cannot restrict {}: {e}", dir.display())),
            )?;
        }
        Ok(Self { dir })
    }

    /// The default profile: `$XDG_CONFIG_HOME/watchfloor` (or the platform's equivalent).
    pub fn default_dir() -> Option<PathBuf> {
        let base = if cfg!(windows) {
            std::env::var_os("APPDATA").map(PathBuf::from)
        } else if cfg!(target_os = "macos") {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join("Library/Application Support"))
        } else {
            std::env::var_os("XDG_CONFIG_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        };
        base.map(|b| b.join("watchfloor"))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The saved state; a missing file is a first start, an unreadable one is moved aside
    /// (`state.json.unreadable`) and reported in the second value.
    pub fn load(&self) -> (ProfileState, Option<String>) {
        let path = self.dir.join(STATE_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return (ProfileState::default(), None);
            }
            Err(e) => {
                return (
                    ProfileState::default(),
                    Some(format!("{}: {e}", path.display())),
                );
            }
        };
        match serde_json::from_str(&text) {
            Ok(state) => (state, None),
            Err(e) => {
                let aside = self.dir.join(format!("{STATE_FILE}.unreadable"));
                let _ = std::fs::rename(&path, &aside);
                let problem = format!(
                    "{} was unreadable ({e}); started afresh and kept it as {}",
                    path.display(),
                    aside.display()
                );
                (ProfileState::default(), Some(problem))
            }
        }
    }

    /// Writes `state` atomically.
    pub fn save(&self, state: &ProfileState) -> Result<()> {
        let text = serde_json::to_string_pretty(state)
            .map_err(|e| AppError::storage(format!("cannot encode the profile: {e}")))?;
        let path = self.dir.join(STATE_FILE);
        let temporary = self.dir.join(format!("{STATE_FILE}.tmp"));
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            let mut file = std::fs::File::create(&temporary)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&temporary, &path)
        };
        write().map_err(|e| AppError::storage(format!("cannot write {}: {e}", path.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        testkit::scratch(&format!("profile-{name}"))
    }

    #[test]
    fn round_trip_and_first_start() {
        let profile = Profile::open(scratch("round")).expect("open");
        assert_eq!(profile.load(), (ProfileState::default(), None));
        let mut state = ProfileState::default();
        state.windows.insert(
            "wall-1".into(),
            WindowPlace {
                x: 1920,
                y: 0,
                width: 1920,
                height: 1080,
                fullscreen: true,
            },
        );
        profile.save(&state).expect("save");
        assert_eq!(profile.load(), (state, None));
    }

    #[test]
    fn an_unreadable_file_is_set_aside_not_fatal() {
        let profile = Profile::open(scratch("bad")).expect("open");
        std::fs::write(profile.dir().join(STATE_FILE), "{ not json").expect("write");
        let (state, problem) = profile.load();
        assert_eq!(state, ProfileState::default());
        assert!(problem.expect("reported").contains("unreadable"));
        assert!(profile.dir().join("state.json.unreadable").exists());
        assert_eq!(profile.load(), (ProfileState::default(), None));
    }
}
