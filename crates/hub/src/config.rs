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
    /// An MQTT broker to ingest events from: the `[mqtt]` table, or just its URL
    /// (`mqtt = "mqtts://broker:8883"`, as before the table).
    #[serde(default, deserialize_with = "mqtt_table_or_url")]
    pub mqtt: Option<MqttConfig>,
    /// The web console's files, served to browsers at the hub's address.
    #[serde(default)]
    pub console_dir: Option<PathBuf>,
    /// Connections open at once (the live feed's included); one more is closed at once.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Connections open at once from one client address.
    #[serde(default = "default_max_connections_per_client")]
    pub max_connections_per_client: usize,
    /// Reverse proxies (addresses or ranges, `10.0.0.2`, `10.0.0.0/24`) whose client address
    /// header the hub believes; none by default.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// The header those proxies name the client in.
    #[serde(default = "default_client_ip_header")]
    pub client_ip_header: String,
}

fn default_max_connections() -> usize {
    crate::edge::MAX_CONNECTIONS
}

fn default_max_connections_per_client() -> usize {
    crate::edge::MAX_CONNECTIONS_PER_CLIENT
}

fn default_client_ip_header() -> String {
    crate::edge::Edge::default().client_ip_header
}

/// The hub's edge from the settings' words: proxies as addresses or ranges.
pub fn edge(
    (max_connections, max_connections_per_client): (usize, usize),
    trusted_proxies: &[String],
    client_ip_header: &str,
) -> Result<crate::edge::Edge> {
    if max_connections == 0 || max_connections_per_client == 0 {
        return Err(HubError::BadRequest(
            "max_connections and max_connections_per_client must be at least 1".into(),
        ));
    }
    let trusted_proxies = trusted_proxies
        .iter()
        .map(|text| {
            text.parse::<ipnet::IpNet>()
                .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    HubError::BadRequest(format!(
                        "trusted proxy `{text}` is not an address or a range (10.0.0.0/24)"
                    ))
                })
        })
        .collect::<Result<_>>()?;
    axum::http::HeaderName::from_bytes(client_ip_header.as_bytes())
        .map_err(|_| HubError::BadRequest(format!("`{client_ip_header}` is not a header name")))?;
    Ok(crate::edge::Edge {
        max_connections,
        max_connections_per_client,
        trusted_proxies,
        client_ip_header: client_ip_header.to_ascii_lowercase(),
    })
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

/// The `[mqtt]` table: the broker, how the hub proves who it is, and its session.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttConfig {
    /// `mqtts://broker:8883` (plain `mqtt://` only to a broker on loopback).
    pub url: String,
    /// The hub's session at the broker: keep it stable, so events published while the hub is
    /// down wait there for it.
    #[serde(default = "default_mqtt_client_id")]
    pub client_id: String,
    /// PEM certificates to trust for the broker, beside the system's.
    #[serde(default)]
    pub ca: Option<PathBuf>,
    #[serde(default)]
    pub username: Option<String>,
    /// A file holding the password (one line).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// A client certificate chain and its key (PEM), to authenticate by certificate.
    #[serde(default)]
    pub client_cert: Option<PathBuf>,
    #[serde(default)]
    pub client_key: Option<PathBuf>,
}

fn mqtt_table_or_url<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Option<MqttConfig>, D::Error> {
    // Read as TOML first, so that a table's mistakes are named as the table's (an untagged
    // enum would only say that neither form matched).
    Ok(match Option::<toml::Value>::deserialize(deserializer)? {
        None => None,
        Some(toml::Value::String(url)) => Some(MqttConfig::url(url)),
        Some(table) => Some(table.try_into().map_err(serde::de::Error::custom)?),
    })
}

fn default_mqtt_client_id() -> String {
    "watchfloor-hub".into()
}

impl MqttConfig {
    /// Just a broker's URL, the rest by default.
    pub fn url(url: String) -> Self {
        Self {
            url,
            client_id: default_mqtt_client_id(),
            ca: None,
            username: None,
            password_file: None,
            client_cert: None,
            client_key: None,
        }
    }

    /// The connection's settings, with the files read; checked when the hub starts.
    pub fn settings(&self) -> Result<mqtt::Settings> {
        let read = |path: &PathBuf| {
            std::fs::read(path)
                .map_err(|e| HubError::BadRequest(format!("cannot read {}: {e}", path.display())))
        };
        let password = match &self.password_file {
            Some(path) => {
                let text = String::from_utf8(read(path)?)
                    .map_err(|_| HubError::BadRequest(format!("{} is not text", path.display())))?;
                Some(text.lines().next().unwrap_or("").to_owned())
            }
            None => None,
        };
        let client_identity = match (&self.client_cert, &self.client_key) {
            (Some(cert), Some(key)) => Some((read(cert)?, read(key)?)),
            (None, None) => None,
            _ => {
                return Err(HubError::BadRequest(
                    "mqtt.client_cert and mqtt.client_key go together".into(),
                ));
            }
        };
        Ok(mqtt::Settings {
            url: self.url.clone(),
            client_id: self.client_id.clone(),
            ca_pem: self.ca.as_ref().map(read).transpose()?,
            username: self.username.clone(),
            password,
            client_identity,
        })
    }
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
        let url = HubConfig::parse("database = \"sqlite://x\"\nmqtt = \"mqtts://broker\"")
            .expect("the broker as a URL, as before the [mqtt] table");
        assert_eq!(url.mqtt, Some(MqttConfig::url("mqtts://broker".into())));
        let error = HubConfig::parse(
            "database = \"sqlite://x\"\n[mqtt]\nurl = \"mqtts://b\"\nuser = \"x\"",
        )
        .expect_err("an unknown key");
        assert!(error.contains("unknown field `user`"), "{error}");
    }

    #[test]
    fn the_documented_mqtt_table_parses_and_reads_its_password() {
        // The commented `[mqtt]` example, uncommented, placed first: what an IT admin would do.
        let text = include_str!("../../../deploy/hub/hub.toml");
        let example: Vec<&str> = text
            .lines()
            .skip_while(|l| *l != "# [mqtt]")
            .take_while(|l| l.starts_with("# "))
            .map(|l| &l[2..])
            .collect();
        assert!(example.len() > 3, "hub.toml documents [mqtt]");
        let (top, rest) = text.split_at(text.find("\n[tls]").expect("a [tls] table"));
        let config = HubConfig::parse(&format!("{top}\n{}\n{rest}", example.join("\n")))
            .expect("the example parses");
        let mqtt = config.mqtt.expect("[mqtt]");
        assert!(mqtt.url.starts_with("mqtts://"));
        assert_eq!(mqtt.client_id, "watchfloor-hub");

        let dir = std::env::temp_dir().join(format!("hub-mqtt-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a folder");
        let password = dir.join("password");
        std::fs::write(&password, "s3cret\nignored\n").expect("the password file");
        let settings = MqttConfig {
            password_file: Some(password),
            client_cert: None,
            client_key: None,
            ca: None,
            ..mqtt
        }
        .settings()
        .expect("settings");
        assert_eq!(settings.password.as_deref(), Some("s3cret"));
        let half = MqttConfig {
            client_cert: Some(dir.join("cert.pem")),
            ..MqttConfig::url("mqtts://broker".into())
        };
        assert!(half.settings().is_err(), "a certificate without its key");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
