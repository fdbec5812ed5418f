//! Posts events to the hub's webhook (`POST /api/v1/ingest/<source>`, signed as the `events`
//! crate says) from a thread of its own: in batches, retried with backoff until the hub has
//! them (the hub drops duplicates by event id), refused ones logged. The caller hands events
//! over through a bounded queue and never waits: the simulator's doors and the recorder's
//! cameras both report this way.

use serde::Serialize;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Events waiting for a slow or absent hub, at most.
const QUEUE: usize = 10_000;

/// Where the webhook posts and how it proves who it is.
#[derive(Clone)]
pub struct WebhookSettings {
    /// The hub's base URL (`https://host:port`).
    pub hub: String,
    pub source: String,
    pub secret: Vec<u8>,
    /// A PEM certificate to trust besides none (the hub's self-signed one in development).
    pub ca_pem: Option<Vec<u8>>,
}

/// The secret never shows.
impl std::fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSettings")
            .field("hub", &self.hub)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// Why an event was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotTaken {
    /// The queue is full (the hub has been away long): the event is dropped.
    Full,
    /// The posting thread is gone.
    Stopped,
}

/// The authorities to trust for the hub: the system's (a hub with a public certificate) and
/// the one given (its self-signed one). Installs the TLS crypto provider first.
pub fn hub_roots(ca_pem: Option<&[u8]>) -> Result<Vec<reqwest::Certificate>, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut roots: Vec<reqwest::Certificate> = rustls_native_certs::load_native_certs()
        .certs
        .iter()
        .filter_map(|c| reqwest::Certificate::from_der(c.as_ref()).ok())
        .collect();
    if let Some(pem) = ca_pem {
        roots.push(
            reqwest::Certificate::from_pem(pem).map_err(|e| format!("hub CA certificate: {e}"))?,
        );
    }
    Ok(roots)
}

/// A running webhook poster for events of type `T`.
#[derive(Debug)]
pub struct Webhook<T> {
    url: String,
    queue: SyncSender<T>,
}

impl<T: Serialize + Send + 'static> Webhook<T> {
    /// Starts the posting thread, named `name`.
    pub fn start(settings: WebhookSettings, name: &str) -> Result<Self, String> {
        let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(10));
        for certificate in hub_roots(settings.ca_pem.as_deref())? {
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
            .name(name.to_owned())
            .spawn(move || post_loop(client, thread_url, settings.secret, events))
            .map_err(|e| format!("cannot start the webhook thread: {e}"))?;
        Ok(Self { url, queue })
    }

    /// Where it posts.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Hands `event` over without waiting.
    pub fn post(&self, event: T) -> Result<(), NotTaken> {
        self.queue.try_send(event).map_err(|e| match e {
            TrySendError::Full(_) => NotTaken::Full,
            TrySendError::Disconnected(_) => NotTaken::Stopped,
        })
    }
}

fn post_loop<T: Serialize>(
    client: reqwest::Client,
    url: String,
    secret: Vec<u8>,
    events: Receiver<T>,
) {
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
                                tracing::warn!(id = %result["id"], reason = %result["reason"], "hub rejected an event");
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
                    tracing::error!(%status, %text, events = batch.len(), "hub refused events");
                    break;
                }
                Ok(response) => {
                    tracing::warn!(status = %response.status(), "hub busy; retrying events");
                }
                Err(error) => {
                    tracing::warn!(%error, "hub unreachable; retrying events");
                }
            }
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(Duration::from_secs(10));
        }
    }
}
