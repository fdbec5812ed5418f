//! Where door events go: JSON lines to a file, a signed webhook, or an MQTT broker.
//!
//! Outputs are called under the doors' lock, so none of them may block: the webhook and MQTT
//! outputs hand events to their own thread through a bounded queue. When a queue is full (the
//! receiver has been down for a long time) events are dropped, counted and logged, never
//! silently, and the simulation goes on.

use crate::DoorEvent;
use std::io::Write;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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

/// Posts events to the hub's webhook, signed with the source's secret, in batches, retrying
/// with backoff until the hub has them (the hub drops duplicates by event id).
#[derive(Debug)]
pub struct Webhook {
    url: String,
    queue: SyncSender<DoorEvent>,
    dropped: Dropped,
}

/// Where the webhook posts and how it proves who it is.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// The hub's base URL (`https://host:port`).
    pub hub: String,
    pub source: String,
    pub secret: Vec<u8>,
    /// A PEM certificate to trust besides none (the hub's self-signed one in development).
    pub ca_pem: Option<Vec<u8>>,
}

impl Webhook {
    pub fn start(settings: WebhookSettings) -> Result<Self, String> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(10));
        if let Some(pem) = &settings.ca_pem {
            let certificate = reqwest::Certificate::from_pem(pem)
                .map_err(|e| format!("hub CA certificate: {e}"))?;
            builder = builder.add_root_certificate(certificate);
        }
        let client = builder.build().map_err(|e| format!("HTTP client: {e}"))?;
        let url = format!(
            "{}/api/v1/ingest/{}",
            settings.hub.trim_end_matches('/'),
            settings.source
        );
        let (queue, events) = sync_channel(QUEUE);
        let thread_url = url.clone();
        std::thread::Builder::new()
            .name("sim-webhook".into())
            .spawn(move || post_loop(client, thread_url, settings.secret, events))
            .map_err(|e| format!("cannot start webhook thread: {e}"))?;
        Ok(Self {
            url,
            queue,
            dropped: Dropped::default(),
        })
    }
}

impl EventOutput for Webhook {
    fn name(&self) -> String {
        format!("webhook {}", self.url)
    }
    fn deliver(&mut self, event: &DoorEvent) -> Result<(), String> {
        match self.queue.try_send(event.clone()) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => {
                self.dropped.one("webhook");
                Ok(())
            }
            Err(TrySendError::Disconnected(_)) => Err("webhook thread stopped".into()),
        }
    }
}

fn post_loop(client: reqwest::Client, url: String, secret: Vec<u8>, events: Receiver<DoorEvent>) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "webhook: cannot start a runtime");
            return;
        }
    };
    while let Ok(first) = events.recv() {
        let mut batch = vec![first];
        while batch.len() < 200 {
            match events.try_recv() {
                Ok(event) => batch.push(event),
                Err(_) => break,
            }
        }
        let body = match serde_json::to_vec(&batch) {
            Ok(body) => body,
            Err(error) => {
                tracing::error!(%error, "webhook: cannot encode events");
                continue;
            }
        };
        let mut backoff = Duration::from_millis(200);
        loop {
            let timestamp = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
                .to_string();
            let signature = events::sign(&secret, &timestamp, &body);
            let sent = runtime.block_on(async {
                client
                    .post(&url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .header(events::TIMESTAMP_HEADER, &timestamp)
                    .header(events::SIGNATURE_HEADER, signature)
                    .body(body.clone())
                    .send()
                    .await
            });
            match sent {
                Ok(response) if response.status().is_success() => {
                    if let Ok(answer) =
                        runtime.block_on(async { response.json::<serde_json::Value>().await })
                    {
                        for result in answer["results"].as_array().into_iter().flatten() {
                            if result["status"] == "rejected" {
                                tracing::warn!(id = %result["id"], reason = %result["reason"], "hub rejected a door event");
                            }
                        }
                    }
                    break;
                }
                Ok(response) if response.status().is_client_error() => {
                    // Retrying would be refused the same way: say so and move on.
                    let status = response.status();
                    let text = runtime
                        .block_on(async { response.text().await })
                        .unwrap_or_default();
                    tracing::error!(%status, %text, events = batch.len(), "hub refused door events");
                    break;
                }
                Ok(response) => {
                    tracing::warn!(status = %response.status(), "hub busy; retrying door events");
                }
                Err(error) => {
                    tracing::warn!(%error, "hub unreachable; retrying door events");
                }
            }
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(Duration::from_secs(10));
        }
    }
}

/// Publishes events to an MQTT broker, QoS 1, on the site's events topic.
pub struct Mqtt {
    client: rumqttc::Client,
    topic: String,
    dropped: Dropped,
}

impl Mqtt {
    /// Connects to `url` (`mqtt://host:port`) in the background; reconnects when it drops.
    pub fn start(url: &str, site: &str) -> Result<Self, String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("MQTT URL: {e}"))?;
        if parsed.scheme() != "mqtt" {
            return Err("MQTT URL must be mqtt://host:port".into());
        }
        let host = parsed.host_str().ok_or("MQTT URL has no host")?.to_owned();
        let mut options = rumqttc::MqttOptions::new(
            format!("watchfloor-sim-{site}-{}", std::process::id()),
            host,
            parsed.port().unwrap_or(1883),
        );
        options.set_keep_alive(Duration::from_secs(15));
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
        let payload = serde_json::to_vec(event).map_err(|e| e.to_string())?;
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
