//! The live connection to the hub: the feed's WebSocket, kept open for as long as the
//! operator is signed in. Its state is always known and always shown: connecting, online,
//! reconnecting (with the attempt and the reason), or signed out when the session ended. A
//! reconnect resumes from the last change seen, so nothing is missed.

use crate::hub_client::{HubClient, Token};
use contract::{Change, ChangeBody, ClientMessage, FeedMessage};
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum Link {
    SignedOut,
    Connecting,
    Online,
    Reconnecting,
}

/// What the console shows in its status bar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ConnectionState {
    pub link: Link,
    /// The hub's address, when signed in.
    pub hub: Option<String>,
    pub username: Option<String>,
    /// Milliseconds since the Unix epoch when `link` last changed.
    pub since_ms: i64,
    /// Failed attempts since the link was last online.
    pub attempt: u32,
    /// Why the link is not online, in words.
    pub detail: Option<String>,
}

impl ConnectionState {
    pub fn signed_out(now_ms: i64, detail: Option<String>) -> Self {
        Self {
            link: Link::SignedOut,
            hub: None,
            username: None,
            since_ms: now_ms,
            attempt: 0,
            detail,
        }
    }
}

/// What the feed reports, to whoever owns it.
pub trait FeedListener: Send + Sync + 'static {
    fn state(&self, state: ConnectionState);
    fn change(&self, change: Change);
    /// The hub refused the session (expired or revoked); the feed has stopped.
    fn session_ended(&self, reason: String);
}

/// Delays between attempts: 0.5 s doubling to 30 s, each with up to 25 % jitter.
pub fn backoff(attempt: u32, jitter: f64) -> Duration {
    let base = 0.5 * 2f64.powi(attempt.min(16) as i32);
    Duration::from_secs_f64(base.min(30.0) * (1.0 + 0.25 * jitter.clamp(0.0, 1.0)))
}

/// A running feed; dropping it closes the connection.
#[derive(Debug)]
pub struct Feed {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Feed {
    /// Connects (and keeps reconnecting) in the background; needs a tokio runtime.
    pub fn start(
        client: HubClient,
        token: Token,
        username: String,
        listener: Arc<dyn FeedListener>,
    ) -> Self {
        let task = tokio::spawn(run(client, token, username, listener));
        Self { task }
    }
}

enum Ended {
    /// The connection dropped; try again.
    Dropped(String),
    /// The hub refused the session; stop.
    Refused(String),
}

async fn run(client: HubClient, token: Token, username: String, listener: Arc<dyn FeedListener>) {
    let mut last_seq: Option<i64> = None;
    let mut attempt = 0u32;
    let state = |link: Link, attempt: u32, detail: Option<String>| ConnectionState {
        link,
        hub: Some(client.address()),
        username: Some(username.clone()),
        since_ms: now_ms(),
        attempt,
        detail,
    };
    listener.state(state(Link::Connecting, 0, None));
    loop {
        let outcome = session(
            &client,
            &token,
            &mut last_seq,
            &*listener,
            &mut attempt,
            &state,
        )
        .await;
        match outcome {
            Ended::Refused(reason) => {
                listener.session_ended(reason);
                return;
            }
            Ended::Dropped(reason) => {
                attempt += 1;
                listener.state(state(Link::Reconnecting, attempt, Some(reason)));
                tokio::time::sleep(backoff(attempt - 1, rand::random::<f64>())).await;
            }
        }
    }
}

async fn session(
    client: &HubClient,
    token: &Token,
    last_seq: &mut Option<i64>,
    listener: &dyn FeedListener,
    attempt: &mut u32,
    state: &(dyn Fn(Link, u32, Option<String>) -> ConnectionState + Send + Sync),
) -> Ended {
    let url = client.feed_url();
    let connector = tokio_tungstenite::Connector::Rustls(client.tls());
    let connect =
        tokio_tungstenite::connect_async_tls_with_config(url, None, false, Some(connector));
    let socket = match tokio::time::timeout(Duration::from_secs(10), connect).await {
        Ok(Ok((socket, _))) => socket,
        Ok(Err(e)) => return Ended::Dropped(format!("cannot reach the hub: {e}")),
        Err(_) => return Ended::Dropped("the hub did not answer within 10 s".into()),
    };
    let (mut sink, mut stream) = socket.split();
    let hello = ClientMessage::Subscribe {
        token: Some(token.expose().to_owned()),
        since: *last_seq,
    };
    let hello = match serde_json::to_string(&hello) {
        Ok(text) => text,
        Err(e) => return Ended::Dropped(format!("cannot write the subscription: {e}")),
    };
    if let Err(e) = sink.send(Message::Text(hello.into())).await {
        return Ended::Dropped(format!("the hub closed the feed: {e}"));
    }
    // The hub pings every 20 s; silence for three times that means the link is dead.
    loop {
        let next = match tokio::time::timeout(Duration::from_secs(60), stream.next()).await {
            Ok(Some(Ok(message))) => message,
            Ok(Some(Err(e))) => return Ended::Dropped(format!("the feed broke: {e}")),
            Ok(None) => return Ended::Dropped("the hub closed the feed".into()),
            Err(_) => return Ended::Dropped("no word from the hub for 60 s".into()),
        };
        let text = match next {
            Message::Text(text) => text,
            Message::Close(_) => return Ended::Dropped("the hub closed the feed".into()),
            _ => continue,
        };
        let message = match serde_json::from_str::<FeedMessage>(&text) {
            Ok(message) => message,
            Err(e) => {
                tracing::warn!(error = %e, "a feed message this app cannot read; skipped");
                continue;
            }
        };
        match message {
            FeedMessage::Subscribed { seq } => {
                if last_seq.is_none() {
                    *last_seq = Some(seq);
                }
                *attempt = 0;
                listener.state(state(Link::Online, 0, None));
            }
            FeedMessage::Change(change) => {
                *last_seq = Some(change.seq);
                if change.body == ChangeBody::Unknown {
                    tracing::debug!(
                        seq = change.seq,
                        "a change of a kind this app does not know"
                    );
                    continue;
                }
                listener.change(*change);
            }
            FeedMessage::Error(error) => {
                return if error.code == contract::ErrorCode::Unauthenticated {
                    Ended::Refused(error.message)
                } else {
                    Ended::Dropped(error.message)
                };
            }
        }
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_thirty_seconds_with_bounded_jitter() {
        assert_eq!(backoff(0, 0.0), Duration::from_millis(500));
        assert_eq!(backoff(1, 0.0), Duration::from_secs(1));
        assert_eq!(backoff(6, 0.0), Duration::from_secs(30));
        assert_eq!(backoff(1000, 0.0), Duration::from_secs(30));
        assert_eq!(backoff(1000, 1.0), Duration::from_secs_f64(37.5));
        assert_eq!(backoff(0, 7.0), Duration::from_secs_f64(0.625));
    }
}
