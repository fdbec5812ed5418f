//! What a stranger on the network can make the hub hold: a sign-in body announced as 16 MiB,
//! a webhook body for a source that does not exist, a request head sent a line at a time. Each
//! is refused or closed without the hub waiting for the stranger.

use crate::support::{Backend, TestHub};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Sends `head` and the first KiB of a body said to be 16 MiB; answers the status line the
/// hub sends within 5 s (empty when it sends none).
fn answer_to_a_huge_body(hub: &TestHub, head: &str) -> String {
    let mut stream = TcpStream::connect(hub.running.addr).expect("connect");
    stream
        .write_all(format!("{head}Content-Length: {}\r\n\r\n", 16 << 20).as_bytes())
        .expect("head");
    stream.write_all(&[b'{'; 1024]).expect("a first KiB");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut answer = [0u8; 64];
    let n = stream.read(&mut answer).unwrap_or(0);
    String::from_utf8_lossy(&answer[..n])
        .lines()
        .next()
        .unwrap_or("")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sign_in_announced_as_16_mib_is_refused_before_it_arrives() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let answer = tokio::task::block_in_place(|| {
        answer_to_a_huge_body(
            &hub,
            "POST /api/v1/auth/login HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n",
        )
    });
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer:?}");
    hub.running.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_webhook_body_is_not_read_for_an_unknown_source_or_a_stale_signature() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let answer = tokio::task::block_in_place(|| {
        answer_to_a_huge_body(
            &hub,
            "POST /api/v1/ingest/nobody HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n",
        )
    });
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer:?}");
    // A real source's name with a stale timestamp: refused before the body too.
    hub.source("door-ctl").await;
    let answer = tokio::task::block_in_place(|| {
        answer_to_a_huge_body(
            &hub,
            "POST /api/v1/ingest/door-ctl HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n\
             X-Watchfloor-Timestamp: 1000\r\nX-Watchfloor-Signature: sha256=00\r\n",
        )
    });
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer:?}");
    hub.running.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_head_sent_slowly_is_cut_off() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let addr = hub.running.addr;
    let held = tokio::task::block_in_place(|| {
        let mut stream = TcpStream::connect(addr).expect("connect");
        let started = Instant::now();
        stream
            .set_read_timeout(Some(Duration::from_millis(500)))
            .expect("timeout");
        let mut lines = ["GET /api/v1/health HTTP/1.1\r\n", "Host: hub\r\n"]
            .into_iter()
            .chain(std::iter::repeat("X-Slow: 1\r\n"));
        // A header line every 2 s, never the end of the head, until the hub hangs up.
        loop {
            if started.elapsed() > hub::serve::HEADER_READ_TIMEOUT + Duration::from_secs(10) {
                return None;
            }
            if stream
                .write_all(lines.next().unwrap_or("").as_bytes())
                .is_err()
            {
                return Some(started.elapsed());
            }
            let mut byte = [0u8; 1];
            match stream.read(&mut byte) {
                Ok(0) => return Some(started.elapsed()),
                Ok(_) => return Some(started.elapsed()), // an error answer, then the close
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => return Some(started.elapsed()),
            }
            std::thread::sleep(Duration::from_millis(1500));
        }
    });
    let held = held.expect("the hub hung up on the slow head");
    assert!(
        held <= hub::serve::HEADER_READ_TIMEOUT + Duration::from_secs(3),
        "held for {held:?}"
    );
    hub.running.stop().await;
}

/// Whether the hub answers a health check on `stream` within 5 s.
fn healthy(stream: &mut TcpStream) -> bool {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    if stream
        .write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: hub\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = [0u8; 64];
    let n = stream.read(&mut answer).unwrap_or(0);
    answer[..n].starts_with(b"HTTP/1.1 200")
}

/// A stranger opening connections and sending nothing cannot take all the hub has: one over
/// the cap is closed at once, and once one closes, the next is served. Before the cap, every
/// connection was held open.
#[tokio::test(flavor = "multi_thread")]
async fn connections_over_the_cap_are_closed_at_once() {
    let hub = TestHub::start_with_edge(hub::edge::Edge {
        max_connections: 3,
        ..Default::default()
    })
    .await;
    let addr = hub.running.addr;
    tokio::task::block_in_place(|| {
        let mut held: Vec<TcpStream> = (0..3)
            .map(|_| TcpStream::connect(addr).expect("connect"))
            .collect();
        assert!(
            healthy(&mut held[0]),
            "a connection under the cap is served"
        );
        let mut over = TcpStream::connect(addr).expect("the kernel accepts");
        let started = Instant::now();
        assert!(!healthy(&mut over), "the fourth is not served");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "it is closed at once, not left to time out: {:?}",
            started.elapsed()
        );
        drop(held.pop());
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let mut next = TcpStream::connect(addr).expect("connect");
            if healthy(&mut next) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "a place freed by a closed connection is taken again"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    hub.running.stop().await;
}

/// One client cannot take every place: its connections over its own cap are closed at once
/// while the hub still has places for others.
#[tokio::test(flavor = "multi_thread")]
async fn one_client_cannot_take_every_place() {
    let hub = TestHub::start_with_edge(hub::edge::Edge {
        max_connections: 100,
        max_connections_per_client: 2,
        ..Default::default()
    })
    .await;
    let addr = hub.running.addr;
    tokio::task::block_in_place(|| {
        let mut held: Vec<TcpStream> = (0..2)
            .map(|_| TcpStream::connect(addr).expect("connect"))
            .collect();
        assert!(healthy(&mut held[1]), "under the client's cap");
        let mut third = TcpStream::connect(addr).expect("the kernel accepts");
        assert!(!healthy(&mut third), "over the client's cap");
    });
    hub.running.stop().await;
}
