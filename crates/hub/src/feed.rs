//! The live feed over a WebSocket: every committed change a client may see, in order.
//!
//! Protocol (JSON text messages):
//! 1. The client sends `{"type":"subscribe","token":"<bearer token>","since":<seq>}` within 10 s
//!    (`since` omitted: from now). The token travels in the message, never in the URL; the
//!    browser console leaves it out and is known by its session cookie.
//! 2. The hub answers `{"type":"subscribed","seq":<newest seq>}`, then sends every change after
//!    `since` as `{"type":"change","seq":..,"at":..,"site":..,"kind":..,"data":{..}}`.
//! 3. On a reconnect the client subscribes with the last `seq` it saw and misses nothing.
//!
//! A slow client never holds others back: live changes go through a broadcast ring; a client
//! that falls behind it catches up from the `changes` table at its own pace.

use crate::db::Change;
use crate::model::Caller;
use crate::model::{ChangeBody, ClientMessage, ErrorBody, FeedMessage};
use crate::store::Hub;
use crate::{HubError, Result};
use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
const PING_EVERY: Duration = Duration::from_secs(20);
/// How often a live connection re-checks that its session still holds.
const RECHECK_EVERY: Duration = Duration::from_secs(60);
const PAGE: i64 = 500;

/// Serves one subscriber until it leaves, its session ends, or it stops reading. `cookie` is the
/// browser console's session cookie from the upgrade request; a subscribe message without a
/// token uses it.
pub async fn serve(hub: Arc<Hub>, socket: WebSocket, cookie: Option<String>) {
    let (mut sink, mut stream) = socket.split();
    let hello = match tokio::time::timeout(HELLO_TIMEOUT, stream.next()).await {
        Ok(Some(Ok(Message::Text(text)))) => serde_json::from_str::<ClientMessage>(&text)
            .map_err(|e| HubError::BadRequest(format!("expected a subscribe message: {e}"))),
        Ok(_) => Err(HubError::BadRequest("expected a subscribe message".into())),
        Err(_) => Err(HubError::BadRequest(
            "no subscribe message within 10 s".into(),
        )),
    };
    let hello = hello.and_then(|ClientMessage::Subscribe { token, since }| {
        let token = token.or(cookie).ok_or(HubError::Unauthenticated)?;
        Ok((since, token))
    });
    let result = match hello {
        Ok((since, token)) => match hub.authenticate(&token).await {
            Ok(caller) => run(&hub, caller, &token, since, &mut sink, &mut stream).await,
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    if let Err(error) = result {
        let text = match &error {
            HubError::Database(_) | HubError::Internal(_) => {
                tracing::error!(%error, "live feed failed");
                "the hub could not serve the feed; see its log".to_owned()
            }
            other => other.to_string(),
        };
        let message = FeedMessage::Error(ErrorBody {
            code: error.code(),
            message: text,
        });
        let _ = send(&mut sink, &message).await;
    }
    let _ = sink.close().await;
}

type Sink = futures_util::stream::SplitSink<WebSocket, Message>;
type Stream = futures_util::stream::SplitStream<WebSocket>;

async fn send(sink: &mut Sink, message: &FeedMessage) -> Result<()> {
    let text = serde_json::to_string(message)
        .map_err(|e| HubError::Internal(format!("a feed message: {e}")))?;
    match tokio::time::timeout(
        SEND_TIMEOUT,
        sink.send(Message::Text(Utf8Bytes::from(text))),
    )
    .await
    {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(HubError::BadRequest(format!("client gone: {e}"))),
        Err(_) => Err(HubError::BadRequest("client stopped reading".into())),
    }
}

/// Whether `caller` hears `change`: a change of a site they may see (or of none), and one
/// this hub can read.
fn visible(caller: &Caller, change: &Change) -> bool {
    change.body != ChangeBody::Unknown
        && change
            .site
            .as_deref()
            .is_none_or(|site| caller.role_on(site).is_some())
}

/// Sends stored changes after `*last`, up to `upto` when given.
async fn catch_up(
    hub: &Hub,
    caller: &Caller,
    last: &mut i64,
    upto: Option<i64>,
    sink: &mut Sink,
) -> Result<()> {
    loop {
        let page = hub.db.changes_after(*last, PAGE).await?;
        let full = page.len() as i64 == PAGE;
        for change in page {
            if upto.is_some_and(|u| change.seq > u) {
                return Ok(());
            }
            *last = change.seq;
            if visible(caller, &change) {
                send(sink, &FeedMessage::Change(Box::new(change))).await?;
            }
        }
        if !full {
            return Ok(());
        }
    }
}

async fn run(
    hub: &Hub,
    mut caller: Caller,
    token: &str,
    since: Option<i64>,
    sink: &mut Sink,
    stream: &mut Stream,
) -> Result<()> {
    // Subscribe before reading the backlog, so nothing committed in between is missed.
    let mut live = hub.db.subscribe();
    let mut accounts = hub.account_changes();
    let mut stopping = hub.db.stopping();
    if *stopping.borrow_and_update() {
        return Ok(());
    }
    let newest = hub.db.last_change();
    let mut last = since.unwrap_or(newest).clamp(0, newest.max(0));
    send(sink, &FeedMessage::Subscribed { seq: newest }).await?;
    catch_up(hub, &caller, &mut last, None, sink).await?;
    let mut ping = tokio::time::interval(PING_EVERY);
    let mut recheck = tokio::time::interval(RECHECK_EVERY);
    recheck.tick().await;
    loop {
        tokio::select! {
            received = live.recv() => match received {
                Ok(change) => {
                    if change.seq <= last {
                        continue;
                    }
                    if change.seq > last + 1 {
                        catch_up(hub, &caller, &mut last, Some(change.seq - 1), sink).await?;
                    }
                    if visible(&caller, &change) {
                        send(sink, &FeedMessage::Change(Box::new(Change::clone(&change)))).await?;
                    }
                    last = change.seq;
                }
                Err(RecvError::Lagged(_)) => {
                    // Fell behind the ring: read what was missed from the table.
                    catch_up(hub, &caller, &mut last, None, sink).await?;
                }
                Err(RecvError::Closed) => return Ok(()),
            },
            incoming = stream.next() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Ok(()),
                Some(Ok(_)) => {}
            },
            // The hub stops: close cleanly, so clients reconnect to its successor.
            _ = stopping.changed() => return Ok(()),
            _ = ping.tick() => {
                tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::Ping(Default::default())))
                    .await
                    .map_err(|_| HubError::BadRequest("client stopped reading".into()))?
                    .map_err(|e| HubError::BadRequest(format!("client gone: {e}")))?;
            }
            // A user's sessions ended or grants changed: theirs stops or narrows at once.
            changed = accounts.recv() => match changed {
                Ok(user) if user != caller.user_id => {}
                Ok(_) | Err(RecvError::Lagged(_)) => {
                    caller = hub.authenticate(token).await?;
                }
                Err(RecvError::Closed) => return Ok(()),
            },
            _ = recheck.tick() => {
                // Expired sessions stop receiving.
                caller = hub.authenticate(token).await?;
            }
        }
    }
}
