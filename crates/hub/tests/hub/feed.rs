//! The live feed: many subscribers get every change in order; one that drops mid-burst resumes
//! from the last number it saw and misses nothing.

use crate::on_both;
use crate::support::{Backend, TestHub, door_event, first_door, post_signed};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects and subscribes; returns the socket and the hub's newest sequence number.
pub async fn subscribe(hub: &TestHub, token: &str, since: Option<i64>) -> (Socket, i64) {
    let (mut socket, _) = tokio_tungstenite::connect_async(hub.ws_url())
        .await
        .expect("websocket");
    let mut hello = json!({"type": "subscribe", "token": token});
    if let Some(since) = since {
        hello["since"] = json!(since);
    }
    socket
        .send(Message::Text(hello.to_string().into()))
        .await
        .expect("subscribe");
    let first = next_json(&mut socket).await.expect("an answer");
    assert_eq!(first["type"], "subscribed", "{first}");
    let seq = first["seq"].as_i64().expect("seq");
    (socket, seq)
}

/// The next JSON message, or None when the socket ends or 10 s pass.
pub async fn next_json(socket: &mut Socket) -> Option<Value> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => return serde_json::from_str(&text).ok(),
            Ok(Some(Ok(_))) => continue,
            _ => return None,
        }
    }
}

async fn twenty_clients_get_every_change_in_order(backend: Backend) {
    const CLIENTS: usize = 20;
    const EVENTS: usize = 300;
    let hub = TestHub::start(backend).await;
    let secret = hub.source("feed-src").await;
    let token = hub.login("guard").await;
    let mut sockets = Vec::new();
    let mut start = 0;
    for _ in 0..CLIENTS {
        let (socket, seq) = subscribe(&hub, &token, None).await;
        start = seq;
        sockets.push(socket);
    }
    let door = first_door();
    let burst = {
        let hub_url = hub.running.url.clone();
        let secret = secret.clone();
        let door = door.clone();
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            for batch in 0..EVENTS / 10 {
                let events: Vec<Value> = (0..10)
                    .map(|i| {
                        door_event(
                            &format!("burst-{batch}-{i}"),
                            &door,
                            "DoorPhysicalState",
                            if i % 2 == 0 { "Open" } else { "Closed" },
                        )
                    })
                    .collect();
                let (status, _) =
                    post_signed(&http, &hub_url, "feed-src", &secret, &Value::Array(events)).await;
                assert_eq!(status, 200);
            }
        })
    };
    // Client 0 leaves after 50 changes and comes back with the last number it saw.
    let mut dropped = sockets.remove(0);
    let mut seen_by_dropped = Vec::new();
    while seen_by_dropped.len() < 50 {
        let message = next_json(&mut dropped).await.expect("change");
        seen_by_dropped.push(message["seq"].as_i64().expect("seq"));
    }
    drop(dropped);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let last = *seen_by_dropped.last().expect("some");
    let (resumed, _) = subscribe(&hub, &token, Some(last)).await;
    sockets.push(resumed);
    burst.await.expect("burst");
    let end = hub.running.hub.db.last_change();
    assert!(
        end - start >= EVENTS as i64,
        "every event is a change (and door states more)"
    );
    for (n, socket) in sockets.iter_mut().enumerate() {
        // The resumed client went back in last.
        let resumed = n == CLIENTS - 1;
        let mut expected = if resumed { last + 1 } else { start + 1 };
        let mut events = 0;
        while expected <= end {
            let message = next_json(socket)
                .await
                .unwrap_or_else(|| panic!("client {n} stalled at {expected}"));
            assert_eq!(message["type"], "change");
            assert_eq!(
                message["seq"].as_i64(),
                Some(expected),
                "client {n}: in order, no gap"
            );
            if message["kind"] == "event" {
                events += 1;
            }
            expected += 1;
        }
        if !resumed {
            assert_eq!(events, EVENTS, "client {n} got every event");
        }
    }
    hub.running.stop().await;
}
on_both!(twenty_clients_get_every_change_in_order);

async fn feed_refuses_bad_tokens_and_hides_other_sites(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let (mut socket, _) = tokio_tungstenite::connect_async(hub.ws_url())
        .await
        .expect("ws");
    socket
        .send(Message::Text(
            json!({"type": "subscribe", "token": "forged"})
                .to_string()
                .into(),
        ))
        .await
        .expect("send");
    let answer = next_json(&mut socket).await.expect("error message");
    assert_eq!(
        (answer["type"].as_str(), answer["code"].as_str()),
        (Some("error"), Some("unauthenticated"))
    );

    let other = hub.login("other-guard").await;
    let guard = hub.login("guard").await;
    let (mut outsider, _) = subscribe(&hub, &other, Some(0)).await;
    let (mut insider, _) = subscribe(&hub, &guard, Some(0)).await;
    let secret = hub.source("feed-src").await;
    let (status, _) = hub
        .post_events(
            "feed-src",
            &secret,
            &door_event("x1", &first_door(), "DoorPhysicalState", "Open"),
        )
        .await;
    assert_eq!(status, 200);
    let seen = next_json(&mut insider)
        .await
        .expect("the guard of this site sees it");
    assert_eq!(seen["type"], "change");
    let hidden = tokio::time::timeout(Duration::from_millis(700), outsider.next()).await;
    assert!(
        !matches!(hidden, Ok(Some(Ok(Message::Text(_))))),
        "a guard of another site sees nothing: {hidden:?}"
    );
    hub.running.stop().await;
}
on_both!(feed_refuses_bad_tokens_and_hides_other_sites);

/// A stored change this hub cannot read (a newer hub's kind, or data of another shape) is
/// skipped, and a subscriber catching up gets every readable change after it: one bad row must
/// not stop every feed.
async fn an_unreadable_stored_change_is_skipped_not_fatal(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let secret = hub.source("feed-src").await;
    let door = first_door();
    for id in ["u1", "u2", "u3"] {
        let (status, _) = hub
            .post_events(
                "feed-src",
                &secret,
                &door_event(id, &door, "DoorPhysicalState", "Open"),
            )
            .await;
        assert_eq!(status, 200);
    }
    let pool = hub.running.hub.db.pool();
    let seqs: Vec<i64> = sqlx::query_scalar("SELECT seq FROM changes ORDER BY seq")
        .fetch_all(pool)
        .await
        .expect("changes");
    assert!(seqs.len() >= 4, "{seqs:?}");
    let (unknown, misshapen) = (seqs[seqs.len() - 3], seqs[seqs.len() - 2]);
    sqlx::query("UPDATE changes SET kind = 'recording' WHERE seq = $1")
        .bind(unknown)
        .execute(pool)
        .await
        .expect("a newer hub's kind");
    sqlx::query("UPDATE changes SET kind = 'alarm', body = '{\"id\": 7}' WHERE seq = $1")
        .bind(misshapen)
        .execute(pool)
        .await
        .expect("data of another shape");
    let token = hub.login("guard").await;
    let (mut socket, newest) = subscribe(&hub, &token, Some(0)).await;
    let mut heard = Vec::new();
    while heard.last().copied() != Some(newest) {
        let message = next_json(&mut socket).await.expect("the catch-up goes on");
        assert_eq!(message["type"], "change", "{message}");
        heard.push(message["seq"].as_i64().expect("seq"));
    }
    let expected: Vec<i64> = seqs
        .iter()
        .copied()
        .filter(|s| *s != unknown && *s != misshapen)
        .collect();
    assert_eq!(heard, expected);
    hub.running.stop().await;
}
on_both!(an_unreadable_stored_change_is_skipped_not_fatal);
