//! The hub's configuration file (TOML), for running it as a service: where it listens, its
//! database, its data folder, TLS, CORS and MQTT. `deploy/hub/hub.toml` documents every key.
//! Command-line options given beside `--config` win over the file.

use crate::{HubError, Result};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubConfig {
    /// `sqlite:///var/lib/watchfloor-hub/hub.db` or `postgres://...`.
    pub database: String,
    /// The hub's key, self-signed TLS files and database backups.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    #[serde(default)]
    pub tls: TlsConfig,
    /// Browser origins allowed to call the API (the console served elsewhere).
    #[serde(default)]
    pub cors_origins: Vec<String>,
    /// An MQTT broker to ingest events from (`mqtt://host:port`).
    #[serde(default)]
    pub mqtt: Option<String>,
    /// The web console's files, served to browsers at the hub's address.
    #[serde(default)]
    pub console_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain and private key; both or neither.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// Plain HTTP: only on loopback, or behind a TLS proxy with `allow_insecure_remote`.
    #[serde(default)]
    pub insecure_http: bool,
    #[serde(default)]
    pub allow_insecure_remote: bool,
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("/var/lib/watchfloor-hub")
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8443))
}

impl HubConfig {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| HubError::BadRequest(format!("cannot read {}: {e}", path.display())))?;
        Self::parse(&text).map_err(|e| HubError::BadRequest(format!("{}: {e}", path.display())))
    }

    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let config: Self = toml::from_str(text).map_err(|e| e.to_string())?;
        match (&config.tls.cert, &config.tls.key) {
            (Some(_), None) | (None, Some(_)) => {
                return Err("tls.cert and tls.key go together".into());
            }
            (Some(_), Some(_)) if config.tls.insecure_http => {
                return Err("tls.insecure_http and a certificate exclude each other".into());
            }
            _ => {}
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_file_parses() {
        let text = include_str!("../../../deploy/hub/hub.toml");
        let config = HubConfig::parse(text).expect("deploy/hub/hub.toml");
        assert!(config.database.starts_with("sqlite://"));
        assert_eq!(config.data_dir, PathBuf::from("/var/lib/watchfloor-hub"));
        assert!(config.tls.cert.is_some() && config.tls.key.is_some());
    }

    #[test]
    fn mistakes_are_named() {
        let bad = [
            ("database = 1", "invalid type"),
            ("database = \"sqlite://x\"\nlisten = \"nowhere\"", "listen"),
            ("database = \"sqlite://x\"\nport = 8443", "unknown field"),
            (
                "database = \"sqlite://x\"\n[tls]\ncert = \"a.pem\"",
                "go together",
            ),
        ];
        for (text, says) in bad {
            let error = HubConfig::parse(text).expect_err(text);
            assert!(error.contains(says), "{text}: {error}");
        }
        let minimal = HubConfig::parse("database = \"sqlite:///tmp/hub.db\"").expect("minimal");
        assert_eq!(minimal.listen, default_listen());
    }
}
