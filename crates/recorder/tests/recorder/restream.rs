//! The live restream: the app's media engine watches cameras through the recorder with a
//! hub-signed ticket; the camera sees one connection per stream however many watch; expired,
//! forged, wrong-camera and missing tickets are refused and reported.

use crate::support::*;
use contract::{StreamMode, StreamName, TICKET_USER};
use keys::SigningKey;
use media::{EngineSettings, MediaEngine, StreamSettings, StreamState};
use recorder::config::StreamKind;
use recorder::tickets::Refusal;
use std::time::Duration;

fn ticket(hub: &SigningKey, camera: &str, stream: StreamName, expires_in_ms: i64) -> String {
    ticket_for(
        hub,
        "rec-test",
        camera,
        stream,
        StreamMode::Live,
        expires_in_ms,
    )
}

fn watch(engine: &MediaEngine, port: u16, camera: &str, ticket: Option<String>) -> media::Stream {
    let mut settings = StreamSettings::new(format!("rtsp://127.0.0.1:{port}/{camera}/main"));
    settings.label = format!("viewer-{camera}");
    settings.credentials = ticket.map(|password| media::Credentials {
        user: TICKET_USER.into(),
        password,
    });
    engine.open(settings).expect("open")
}

#[test]
fn viewers_watch_through_the_recorder_with_tickets_and_bad_tickets_are_refused() {
    let hub = SigningKey::ephemeral();
    let sim = site(2);
    let config = restreaming(&sim, "restream", &hub, "main");
    let recorder = record_until(&config, StreamKind::Main, 1);
    let port = recorder.restream().expect("restream on").port();
    let engine = MediaEngine::new(EngineSettings::default()).expect("engine");

    // Three viewers of cam01 and one of cam02, each with its own valid ticket.
    let viewers: Vec<media::Stream> = [("cam01", 3), ("cam02", 1)]
        .into_iter()
        .flat_map(|(camera, n)| {
            (0..n)
                .map(|_| {
                    watch(
                        &engine,
                        port,
                        camera,
                        Some(ticket(&hub, camera, StreamName::Main, 60_000)),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        wait_for(Duration::from_secs(30), || viewers.iter().all(|v| v
            .health()
            .frames
            >= 25
            && v.health().latency_ms.is_some())),
        "every viewer decodes stamped frames: {:?}",
        viewers.iter().map(|v| v.health()).collect::<Vec<_>>()
    );
    for viewer in &viewers {
        let health = viewer.health();
        assert_eq!(health.state, StreamState::Live, "{health:?}");
        assert_eq!(
            health.source_gaps, 0,
            "no frame lost on the way: {health:?}"
        );
    }
    // The camera sees the recorder only: one connection for the main stream however many
    // watch it. The sub-stream, recorded by nobody, is let go once it has no viewer ...
    let clients = |camera: &str| {
        sim.cameras()
            .listing()
            .into_iter()
            .find(|c| c.id == camera)
            .expect("the camera")
            .clients
    };
    assert!(
        wait_for(Duration::from_secs(30), || recorder.connected_on_demand()
            == 0
            && clients("cam01") == 1),
        "the idle sub-streams let go: {} connected, cam01 has {} clients",
        recorder.connected_on_demand(),
        clients("cam01")
    );
    // ... and connected again for a viewer, who sees it at once.
    let mut sub = StreamSettings::new(format!("rtsp://127.0.0.1:{port}/cam01/sub"));
    sub.credentials = Some(media::Credentials {
        user: TICKET_USER.into(),
        password: ticket(&hub, "cam01", StreamName::Sub, 60_000),
    });
    let sub = engine.open(sub).expect("open");
    assert!(
        wait_for(Duration::from_secs(20), || sub.health().frames >= 10),
        "the sub-stream on demand: {:?}",
        sub.health()
    );
    // (The simulator counts a connection once its session is set up: a moment after frames.)
    wait_for(Duration::from_secs(5), || clients("cam01") == 2);
    assert_eq!(clients("cam01"), 2, "main and sub, one connection each");
    drop(sub);

    // Refused: expired, forged, for another camera, none at all.
    let bad = [
        watch(
            &engine,
            port,
            "cam01",
            Some(ticket(&hub, "cam01", StreamName::Main, -120_000)),
        ),
        watch(
            &engine,
            port,
            "cam01",
            Some(ticket(
                &SigningKey::ephemeral(),
                "cam01",
                StreamName::Main,
                60_000,
            )),
        ),
        watch(
            &engine,
            port,
            "cam01",
            Some(ticket(&hub, "cam02", StreamName::Main, 60_000)),
        ),
        watch(
            &engine,
            port,
            "cam01",
            Some(ticket(&hub, "cam01", StreamName::Sub, 60_000)),
        ),
        watch(&engine, port, "cam01", None),
        watch(
            &engine,
            port,
            "cam01",
            Some(ticket_for(
                &hub,
                "another-recorder",
                "cam01",
                StreamName::Main,
                StreamMode::Live,
                60_000,
            )),
        ),
    ];
    assert!(
        wait_for(Duration::from_secs(20), || bad
            .iter()
            .all(|v| v.health().state == StreamState::AuthFailed)),
        "refused as bad credentials: {:?}",
        bad.iter().map(|v| v.health()).collect::<Vec<_>>()
    );
    assert!(bad.iter().all(|v| v.health().frames == 0));
    let refusals = recorder.restream().expect("restream").refusals();
    let reasons: Vec<&Refusal> = refusals.iter().map(|r| &r.reason).collect();
    assert!(
        reasons.iter().any(|r| matches!(r, Refusal::Expired(_))),
        "{reasons:?}"
    );
    assert!(reasons.contains(&&Refusal::Forged), "{reasons:?}");
    assert!(
        reasons
            .iter()
            .filter(|r| matches!(r, Refusal::OtherStream { .. }))
            .count()
            >= 2,
        "{reasons:?}"
    );
    assert!(
        refusals
            .iter()
            .all(|r| r.camera == "cam01" && r.kind == StreamKind::Main)
    );
    assert!(
        reasons
            .iter()
            .any(|r| matches!(r, Refusal::OtherRecorder(_))),
        "{reasons:?}"
    );

    // By hand, as an attacker would: a good ticket for cam01 does not set up cam02, whether
    // the path says so plainly or hides it behind dot segments.
    let good = ticket(&hub, "cam01", StreamName::Main, 60_000);
    let base = format!("rtsp://127.0.0.1:{port}");
    assert_eq!(
        rtsp(port, "DESCRIBE", &format!("{base}/cam01/main"), &good),
        200
    );
    for url in [
        format!("{base}/cam02/main/stream=0"),
        format!("{base}/cam02/main/stream=0/../../../cam01/main/stream=0"),
        format!("{base}/cam01/main/stream=0/../../../cam02/main/stream=0"),
        format!("{base}/cam02/%6dain/stream=0"),
    ] {
        let status = rtsp(port, "SETUP", &url, &good);
        assert!(
            status == 401 || status == 404 || status == 403,
            "{url}: {status}"
        );
    }
    drop(bad);
    drop(viewers);
}

/// One RTSP request on a fresh connection with `ticket` as the Basic password; the status.
fn rtsp(port: u16, method: &str, url: &str, ticket: &str) -> u16 {
    use base64::Engine;
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{TICKET_USER}:{ticket}"));
    let mut request =
        format!("{method} {url} RTSP/1.0\r\nCSeq: 1\r\nAuthorization: Basic {basic}\r\n");
    if method == "SETUP" {
        request.push_str("Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n");
    } else {
        request.push_str("Accept: application/sdp\r\n");
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = [0u8; 512];
    let n = stream.read(&mut answer).expect("an answer");
    let text = String::from_utf8_lossy(&answer[..n]);
    text.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an RTSP answer: {text}"))
}
