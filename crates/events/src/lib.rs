//! The wire between access controllers and the hub, for both ends: events travel to the hub,
//! door commands ([`commands`]) from it.
//!
//! - **Webhook**: `POST /api/v1/ingest/<source>` with a JSON body (one event or an array), the
//!   header [`TIMESTAMP_HEADER`] (Unix seconds) and [`SIGNATURE_HEADER`]
//!   (`sha256=<hex HMAC-SHA256 over "<timestamp>.<body>" with the source's secret>`). The hub
//!   refuses timestamps more than [`MAX_SKEW_S`] seconds away from its clock.
//! - **MQTT**: events for site `S` are published, QoS 1, on [`mqtt_topic`]`(S)`, each message an
//!   [`MqttMessage`]: the events' JSON (one event or an array) as `body`, the source's id, and
//!   an HMAC-SHA256 with the source's secret over a label, the topic, the timestamp and the
//!   body: never the webhook's bytes, so neither can be replayed as the other.
//!
//! An event is a JSON object with at least `id` (unique per site and source: the idempotency
//! key), `time`
//! (RFC 3339), `site` and `type` (`AccessGranted`, `AccessDenied`, `DoorPhysicalState`,
//! `LockPhysicalState`, `DoorAlarm`, `DoorMode`, `Sensor…`, or anything else), and optionally
//! `door`, `camera`, `topic` (ONVIF) and `state`.

pub mod commands;

pub use commands::{CommandGuard, CommandKey, NONCE_HEADER, SignedCommand, command_key};

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

pub const TIMESTAMP_HEADER: &str = "x-watchfloor-timestamp";
pub const SIGNATURE_HEADER: &str = "x-watchfloor-signature";
pub const MAX_SKEW_S: i64 = 300;

/// Whether `text` is an identifier the hub takes (event, site, camera and door ids): 1 to 128
/// letters, digits, `.`, `_`, `-` or `:`.
pub fn is_id(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 128
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':'))
}

/// The MQTT topic filter that matches every site's events.
pub const MQTT_ALL_SITES: &str = "watchfloor/v1/sites/+/events";

/// The MQTT topic for one site's events.
pub fn mqtt_topic(site: &str) -> String {
    format!("watchfloor/v1/sites/{site}/events")
}

/// The site a topic is for, if it is an events topic.
pub fn site_of_topic(topic: &str) -> Option<&str> {
    topic
        .strip_prefix("watchfloor/v1/sites/")?
        .strip_suffix("/events")
        .filter(|s| !s.is_empty() && !s.contains('/'))
}

/// An event source's MQTT message: the events' JSON text as `body`, signed by the source with
/// its secret: HMAC-SHA256 over `watchfloor/v1 mqtt\n<topic>\n<timestamp>.<body>`. The label
/// keeps a message from verifying as a webhook request (whose signed bytes start with the
/// timestamp's digits) and the other way round, and the topic keeps it on its site's topic.
/// The body travels as text, so the bytes signed are the bytes checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttMessage {
    /// The event source's id, as registered on the hub for the topic's site.
    pub source: String,
    /// Unix seconds when it was signed.
    pub timestamp: String,
    /// `sha256=<hex>`.
    pub signature: String,
    /// One event or an array of them, as JSON.
    pub body: String,
}

impl MqttMessage {
    /// `body` from `source` on `topic`, signed with its `secret` at `now_s`.
    pub fn signed(source: &str, secret: &[u8], topic: &str, now_s: i64, body: String) -> Self {
        let timestamp = now_s.to_string();
        let signature = format!(
            "sha256={}",
            hex::encode(
                mqtt_mac(secret, topic, &timestamp, body.as_bytes())
                    .finalize()
                    .into_bytes()
            )
        );
        Self {
            source: source.to_owned(),
            timestamp,
            signature,
            body,
        }
    }

    /// The message as it is published.
    pub fn to_payload(&self) -> String {
        // Four strings: serde_json cannot fail on them.
        serde_json::json!({
            "source": self.source,
            "timestamp": self.timestamp,
            "signature": self.signature,
            "body": self.body,
        })
        .to_string()
    }

    /// A message as it arrived, or why it is not one (an unsigned array of events, say).
    pub fn parse(payload: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(payload).map_err(|e| {
            format!("not a signed message ({{source, timestamp, signature, body}}): {e}")
        })
    }

    /// Whether the source's `secret` signed it for `topic`. Its time is not checked: a message
    /// may have waited at the broker for hours for a hub that was away (a persistent session),
    /// and one sent again changes nothing, since each event's id is its source's own.
    pub fn verify(&self, secret: &[u8], topic: &str) -> Result<(), &'static str> {
        let expected = decode_signature(&self.signature)?;
        mqtt_mac(secret, topic, &self.timestamp, self.body.as_bytes())
            .verify_slice(&expected)
            .map_err(|_| "signature does not match")
    }
}

fn mqtt_mac(secret: &[u8], topic: &str, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = keyed(secret);
    for part in [
        b"watchfloor/v1 mqtt\n".as_slice(),
        topic.as_bytes(),
        b"\n",
        timestamp.as_bytes(),
        b".",
        body,
    ] {
        mac.update(part);
    }
    mac
}

fn keyed(secret: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts any key length"),
    }
}

fn mac(secret: &[u8], timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = keyed(secret);
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The signature header's value for `body` sent at `timestamp`.
pub fn sign(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
    )
}

/// Checks a webhook's signature and freshness; the error says what was wrong.
pub fn verify(
    secret: &[u8],
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now_s: i64,
) -> Result<(), &'static str> {
    let expected = check_headers(timestamp, signature, now_s)?;
    verify_body(secret, timestamp, &expected, body)
}

/// The rest of [`verify`], once [`check_headers`] has answered the `expected` signature: that
/// it is `body`'s at `timestamp` with `secret`.
pub fn verify_body(
    secret: &[u8],
    timestamp: &str,
    expected: &[u8],
    body: &[u8],
) -> Result<(), &'static str> {
    mac(secret, timestamp, body)
        .verify_slice(expected)
        .map_err(|_| "signature does not match")
}

/// What [`verify`] checks before it needs the body: a timestamp within [`MAX_SKEW_S`] of
/// `now_s` and a well-formed signature, which it answers as bytes. A receiver checks this
/// before reading a body, so a stranger's stale or malformed request costs it no read.
pub fn check_headers(
    timestamp: &str,
    signature: &str,
    now_s: i64,
) -> Result<Vec<u8>, &'static str> {
    let ts: i64 = timestamp.parse().map_err(|_| "bad timestamp")?;
    if now_s.abs_diff(ts) > MAX_SKEW_S as u64 {
        return Err("timestamp is more than 5 minutes off");
    }
    decode_signature(signature)
}

/// A `sha256=<hex>` signature's bytes.
fn decode_signature(signature: &str) -> Result<Vec<u8>, &'static str> {
    let hex_sig = signature
        .strip_prefix("sha256=")
        .ok_or("expected sha256=<hex>")?;
    hex::decode(hex_sig).map_err(|_| "signature is not hex")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_only_with_the_right_key_body_and_time() {
        let body = br#"{"id":"1"}"#;
        let sig = sign(b"key", "1000", body);
        verify(b"key", "1000", &sig, body, 1000).expect("valid");
        assert!(verify(b"other", "1000", &sig, body, 1000).is_err());
        assert!(verify(b"key", "1000", &sig, b"{}", 1000).is_err());
        assert!(verify(b"key", "1000", &sig, body, 2000).is_err());
        assert!(verify(b"key", "x", &sig, body, 1000).is_err());
        assert!(verify(b"key", "1000", "md5=00", body, 1000).is_err());
        assert!(verify(b"key", &i64::MIN.to_string(), &sig, body, 1000).is_err());
    }

    #[test]
    fn mqtt_messages_verify_only_as_signed() {
        let topic = mqtt_topic("hq");
        let message = MqttMessage::signed("doors", b"key", &topic, 1000, r#"{"id":"1"}"#.into());
        let parsed = MqttMessage::parse(message.to_payload().as_bytes()).expect("parses");
        assert_eq!(parsed, message);
        parsed.verify(b"key", &topic).expect("signed with the key");
        assert!(parsed.verify(b"other", &topic).is_err());
        assert!(
            parsed.verify(b"key", &mqtt_topic("branch")).is_err(),
            "another site's topic"
        );
        let altered = MqttMessage {
            body: r#"{"id":"2"}"#.into(),
            ..parsed.clone()
        };
        assert!(altered.verify(b"key", &topic).is_err());
        // Neither a webhook's signature nor an MQTT message's verifies as the other.
        assert!(
            verify(
                b"key",
                "1000",
                &message.signature,
                message.body.as_bytes(),
                1000
            )
            .is_err()
        );
        let webhook = MqttMessage {
            signature: sign(b"key", "1000", message.body.as_bytes()),
            ..message.clone()
        };
        assert!(webhook.verify(b"key", &topic).is_err());
        let unsigned = br#"[{"id":"1","time":"2026-11-28T10:00:00Z","site":"s","type":"X"}]"#;
        assert!(MqttMessage::parse(unsigned).is_err());
    }

    #[test]
    fn topics_name_their_site() {
        assert_eq!(site_of_topic(&mqtt_topic("hq")), Some("hq"));
        assert_eq!(site_of_topic("watchfloor/v1/sites//events"), None);
        assert_eq!(site_of_topic("watchfloor/v1/sites/a/b/events"), None);
        assert_eq!(site_of_topic("other"), None);
    }
}
