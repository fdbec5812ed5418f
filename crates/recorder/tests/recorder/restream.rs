//! The live restream: the app's media engine watches cameras through the recorder with a
//! hub-signed ticket; the camera sees one connection per stream however many watch; expired,
//! forged, wrong-camera and missing tickets are refused and reported.

use crate::support::*;
use contract::{StreamName, TICKET_USER, TicketClaims};
use keys::SigningKey;
use media::{EngineSettings, MediaEngine, StreamSettings, StreamState};
use recorder::config::StreamKind;
use recorder::recording::now_us;
use recorder::tickets::Refusal;
use std::time::Duration;

fn ticket(hub: &SigningKey, camera: &str, stream: StreamName, expires_in_ms: i64) -> String {
    let now = now_us() / 1000;
    let claims = TicketClaims {
        id: format!("t-{camera}-{expires_in_ms}"),
        user: "u-guard".into(),
        site: "sim".into(),
        camera: camera.into(),
        stream,
        issued_ms: now,
        expires_ms: now + expires_in_ms,
    };
    keys::sign_token(hub, &serde_json::to_vec(&claims).expect("claims"))
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
    let config = config(
        &sim,
        "restream",
        &format!(
            "[restream]\nlisten = \"127.0.0.1:0\"\nhub_key = \"{}\"",
            hub.public_hex()
        ),
        "main",
    );
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
    // The camera sees the recorder only: one connection per stream (main and sub).
    let cam01 = sim
        .cameras()
        .listing()
        .into_iter()
        .find(|c| c.id == "cam01")
        .expect("cam01");
    assert_eq!(cam01.clients, 2, "one connection per stream: {cam01:?}");

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
    drop(bad);
    drop(viewers);
}
