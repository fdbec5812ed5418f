//! Where door events go: JSON lines to a file, a signed webhook, or an MQTT broker.
//!
//! Outputs are called under the doors' lock, so none of them may block: the webhook and MQTT
//! outputs hand events to their own thread through a bounded queue. When a queue is full (the
//! receiver has been down for a long time) events are dropped, counted and logged, never
//! silently, and the simulation goes on.

use crate::DoorEvent;
use std::io::Write;
use std::time::Duration;

/// One destination for door events.
pub trait EventOutput: Send {
    /// What to call it in logs.
    fn name(&self) -> String;
    /// Takes one event without blocking; an error disables this output.
    fn deliver(&mut self, event: &DoorEvent) -> Result<(), String>;
}

/// JSON lines to a writer (a file or standard output).
#[derive(Debug)]
pub struct JsonLines<W: Write + Send>(pub W);

impl<W: Write + Send> EventOutput for JsonLines<W> {
    fn name(&self) -> String {
        "JSON lines".into()
    }
    fn deliver(&mut self, event: &DoorEvent) -> Result<(), String> {
        serde_json::to_writer(&mut self.0, event)
            .map_err(|e| e.to_string())
            .and_then(|()| self.0.write_all(b"\n").map_err(|e| e.to_string()))
            .and_then(|()| self.0.flush().map_err(|e| e.to_string()))
    }
}

/// Events waiting for a slow or absent receiver, at most.
const QUEUE: usize = 10_000;

/// Counts and logs events a full queue could not take.
#[derive(Debug, Default)]
struct Dropped(u64);

impl Dropped {
    fn one(&mut self, output: &str) {
        self.0 += 1;
        if self.0.is_power_of_two() {
            tracing::error!(
                output,
                dropped = self.0,
                "event queue full; door events dropped"
            );
        }
    }
}

/// Posts events to the hub's webhook, signed with the source's secret (the `webhook` crate:
/// batched, retried until the hub has them).
#[derive(Debug)]
pub struct Webhook {
    poster: webhook::Webhook<DoorEvent>,
    dropped: Dropped,
}

pub use webhook::WebhookSettings;

impl Webhook {
    pub fn start(settings: WebhookSettings) -> Result<Self, String> {
        Ok(Self {
            poster: webhook::Webhook::start(settings, "sim-webhook")?,
            dropped: Dropped::default(),
        })
    }
}

impl EventOutput for Webhook {
    fn name(&self) -> String {
        format!("webhook {}", self.poster.url())
    }
    fn deliver(&mut self, event: &DoorEvent) -> Result<(), String> {
        match self.poster.post(event.clone()) {
            Ok(()) => Ok(()),
            Err(webhook::NotTaken::Full) => {
                self.dropped.one("webhook");
                Ok(())
            }
            Err(webhook::NotTaken::Stopped) => Err("webhook thread stopped".into()),
        }
    }
}

/// Publishes events to an MQTT broker, QoS 1, on the site's events topic, each signed as the
/// event source (`events::MqttMessage`).
pub struct Mqtt {
    client: rumqttc::Client,
    topic: String,
    source: String,
    secret: Vec<u8>,
    dropped: Dropped,
}

impl Mqtt {
    /// Connects as `broker` says (TLS, credentials, a persistent session) in the background
    /// and reconnects when it drops; events are signed as `source` with its `secret`.
    pub fn start(
        broker: &mqtt::Settings,
        site: &str,
        source: &str,
        secret: Vec<u8>,
    ) -> Result<Self, String> {
        let options = broker.options()?;
        let (client, mut connection) = rumqttc::Client::new(options, QUEUE);
        std::thread::Builder::new()
            .name("sim-mqtt".into())
            .spawn(move || {
                for notification in connection.iter() {
                    if let Err(error) = notification {
                        tracing::warn!(%error, "MQTT connection lost; reconnecting");
                        std::thread::sleep(Duration::from_secs(1));
                    }
                }
            })
            .map_err(|e| format!("cannot start MQTT thread: {e}"))?;
        Ok(Self {
            client,
            topic: events::mqtt_topic(site),
            source: source.to_owned(),
            secret,
            dropped: Dropped::default(),
        })
    }
}

impl std::fmt::Debug for Mqtt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mqtt")
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

impl EventOutput for Mqtt {
    fn name(&self) -> String {
        format!("MQTT {}", self.topic)
    }
    fn deliver(&mut self, event: &DoorEvent) -> Result<(), String> {
        let body = serde_json::to_string(event).map_err(|e| e.to_string())?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let payload =
            events::MqttMessage::signed(&self.source, &self.secret, &self.topic, now, body)
                .to_payload();
        match self
            .client
            .try_publish(&self.topic, rumqttc::QoS::AtLeastOnce, false, payload)
        {
            Ok(()) => Ok(()),
            Err(rumqttc::ClientError::TryRequest(_)) => {
                self.dropped.one("mqtt");
                Ok(())
            }
            Err(error) => Err(error.to_string()),
        }
    }
}
