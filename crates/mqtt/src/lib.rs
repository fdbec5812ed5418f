//! Connections to an MQTT broker as Watchfloor makes them, for the hub (which subscribes) and
//! for event sources (which publish).
//!
//! - **TLS off loopback.** `mqtts://host[:8883]` is TLS through rustls, trusting the system's
//!   roots and the certificates in [`Settings::ca_pem`]. Plain `mqtt://` is refused unless the
//!   broker is on this machine's loopback: nobody else can read or inject on that path.
//! - **The broker knows who connects.** Off loopback, a user name and password or a client
//!   certificate is required, so the broker's ACLs can say who may publish on which site's
//!   topic.
//! - **At least once.** A persistent session (`clean_session = false`) under a stable client id
//!   ([`Settings::client_id`]): while a subscriber is away, the broker keeps its QoS 1
//!   messages, and a publisher's unacknowledged ones are sent again when it reconnects.

use rumqttc::{MqttOptions, TlsConfiguration, Transport};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::Arc;
use std::time::Duration;

/// How to reach the broker and prove who this client is.
#[derive(Clone, Default)]
pub struct Settings {
    /// `mqtts://host[:port]`, or `mqtt://` to a broker on loopback.
    pub url: String,
    /// Stable across restarts: the broker keeps the session (and what waits in it) by this id.
    pub client_id: String,
    /// PEM certificates to trust for the broker, beside the system's.
    pub ca_pem: Option<Vec<u8>>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// A PEM certificate chain and its PEM private key, to authenticate by certificate.
    pub client_identity: Option<(Vec<u8>, Vec<u8>)>,
}

/// The password and key never show.
impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("url", &self.url)
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("client_certificate", &self.client_identity.is_some())
            .finish_non_exhaustive()
    }
}

/// The largest message Watchfloor sends or accepts. A client still reads a larger one (up to
/// the protocol's limit, [`PROTOCOL_MAX`]) so that it can refuse and acknowledge it: a message
/// it could not read would end the connection, and with a persistent session the broker would
/// deliver it again on every reconnection, stopping everything behind it. Set the broker's
/// `message_size_limit` to this.
pub const MAX_PACKET: usize = 1 << 20;

/// The largest packet MQTT can carry (256 MiB less one byte).
pub const PROTOCOL_MAX: usize = 268_435_455;

fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        // `mqtt:` is not a special scheme to the URL standard: its IPv4 hosts come as names.
        url::Host::Domain(name) => {
            name.eq_ignore_ascii_case("localhost")
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

impl Settings {
    /// The client's options, or what is wrong with the settings, in words for an IT admin.
    /// Needs the process's rustls provider installed when the URL is `mqtts://`.
    pub fn options(&self) -> Result<MqttOptions, String> {
        let url =
            url::Url::parse(&self.url).map_err(|e| format!("MQTT URL `{}`: {e}", self.url))?;
        if !url.username().is_empty() || url.password().is_some() {
            // It would be logged with the URL; a password belongs in its file.
            return Err(
                "the MQTT URL must not hold a user name or password: give them apart".into(),
            );
        }
        if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
            return Err(format!("MQTT URL `{}`: only mqtts://host[:port]", self.url));
        }
        let host = url
            .host()
            .ok_or_else(|| format!("MQTT URL `{}` has no host", self.url))?;
        let loopback = is_loopback(&host);
        let tls = match url.scheme() {
            "mqtts" => true,
            "mqtt" if loopback => false,
            "mqtt" => {
                return Err(format!(
                    "MQTT to {host} must use TLS (mqtts://{host}:8883): on the network anyone \
                     could read or inject events on a plain connection"
                ));
            }
            other => {
                return Err(format!(
                    "MQTT URL scheme `{other}`: use mqtts:// (or mqtt:// on loopback)"
                ));
            }
        };
        let credentials = match (&self.username, &self.password) {
            (Some(user), Some(password)) => Some((user.clone(), password.clone())),
            (None, None) => None,
            _ => return Err("an MQTT user name and password go together".into()),
        };
        if !loopback && credentials.is_none() && self.client_identity.is_none() {
            return Err(format!(
                "the broker at {host} must know who connects: give a user name and password, \
                 or a client certificate and key"
            ));
        }
        if self.client_id.is_empty() || self.client_id.len() > 256 {
            return Err("an MQTT client id is 1 to 256 characters".into());
        }
        let port = url.port().unwrap_or(if tls { 8883 } else { 1883 });
        let host = match host {
            url::Host::Ipv6(ip) => ip.to_string(),
            other => other.to_string(),
        };
        let mut options = MqttOptions::new(self.client_id.clone(), host, port);
        options.set_keep_alive(Duration::from_secs(15));
        options.set_clean_session(false);
        options.set_max_packet_size(PROTOCOL_MAX, MAX_PACKET);
        if let Some((user, password)) = credentials {
            options.set_credentials(user, password);
        }
        if tls {
            options.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
                Arc::new(self.tls_config()?),
            )));
        }
        Ok(options)
    }

    fn tls_config(&self) -> Result<rustls::ClientConfig, String> {
        let mut roots = rustls::RootCertStore::empty();
        for certificate in rustls_native_certs::load_native_certs().certs {
            // One the system holds but rustls cannot parse is skipped, as browsers do.
            let _ = roots.add(certificate);
        }
        if let Some(pem) = &self.ca_pem {
            let mut added = 0;
            for certificate in CertificateDer::pem_slice_iter(pem) {
                let certificate = certificate.map_err(|e| format!("the broker's CA file: {e}"))?;
                roots
                    .add(certificate)
                    .map_err(|e| format!("the broker's CA file: {e}"))?;
                added += 1;
            }
            if added == 0 {
                return Err("the broker's CA file holds no PEM certificate".into());
            }
        }
        let builder = rustls::ClientConfig::builder().with_root_certificates(roots);
        match &self.client_identity {
            None => Ok(builder.with_no_client_auth()),
            Some((chain, key)) => {
                let chain = CertificateDer::pem_slice_iter(chain)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| format!("the MQTT client certificate: {e}"))?;
                if chain.is_empty() {
                    return Err("the MQTT client certificate file holds no certificate".into());
                }
                let key = PrivateKeyDer::from_pem_slice(key)
                    .map_err(|e| format!("the MQTT client key: {e}"))?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| format!("the MQTT client certificate and key: {e}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(url: &str) -> Settings {
        Settings {
            url: url.into(),
            client_id: "watchfloor-hub".into(),
            ..Settings::default()
        }
    }

    #[test]
    fn plain_mqtt_only_on_loopback_and_strangers_not_at_all() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        for url in [
            "mqtt://127.0.0.1:1883",
            "mqtt://localhost",
            "mqtt://[::1]:1883",
        ] {
            settings(url).options().expect(url);
        }
        let refused = settings("mqtt://10.0.0.5:1883")
            .options()
            .expect_err("plain");
        assert!(refused.contains("mqtts://10.0.0.5:8883"), "{refused}");
        let refused = settings("mqtts://broker.example")
            .options()
            .expect_err("anonymous");
        assert!(refused.contains("must know who connects"), "{refused}");
        let named = Settings {
            username: Some("hub".into()),
            password: Some("secret".into()),
            ..settings("mqtts://broker.example")
        };
        let options = named.options().expect("TLS with credentials");
        assert_eq!(options.broker_address(), ("broker.example".into(), 8883));
        assert!(!options.clean_session(), "a persistent session");
        let half = Settings {
            username: Some("hub".into()),
            ..settings("mqtts://broker.example")
        };
        assert!(half.options().is_err());
        assert!(settings("http://broker").options().is_err());
        let refused = settings("mqtts://hub:pw@broker.example")
            .options()
            .expect_err("a password in the URL");
        assert!(refused.contains("must not hold"), "{refused}");
        assert!(settings("mqtts://broker.example/x?y").options().is_err());
        assert!(
            Settings {
                client_id: String::new(),
                ..settings("mqtt://127.0.0.1")
            }
            .options()
            .is_err()
        );
    }

    #[test]
    fn a_bad_ca_or_client_key_is_named() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let bad_ca = Settings {
            ca_pem: Some(b"not a certificate".to_vec()),
            ..settings("mqtts://127.0.0.1")
        };
        assert!(bad_ca.options().expect_err("no PEM").contains("CA file"));
        let bad_key = Settings {
            client_identity: Some((b"x".to_vec(), b"y".to_vec())),
            ..settings("mqtts://127.0.0.1")
        };
        assert!(bad_key.options().expect_err("no PEM").contains("client"));
    }
}
