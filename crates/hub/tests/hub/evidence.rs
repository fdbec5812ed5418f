//! Evidence locks and recorder syncs: a guard locks a camera's range as evidence and a manager
//! releases it, each an audit line; a recorder's sync, signed with its own key, brings its
//! health in and takes the site's locks out; a sync signed with any other key, replayed, or
//! out of time is refused; the tickets a recorder refused become audit lines. Then a real
//! recorder keeps a lock made on the hub, gives it up when it is released, and reports its
//! health.

use crate::on_both;
use crate::support::{Backend, SITE, TestHub};
use contract::{RecorderReport, StorageReport};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Registers recorder `id` with `key`'s public half and gives it camera `cam01`.
pub(crate) async fn register(hub: &TestHub, admin: &str, id: &str, key: &keys::SigningKey) {
    let (status, saved) = hub
        .register_recorder(admin, id, &key.public_hex(), None)
        .await;
    assert_eq!(status, 200, "{saved}");
}

/// Posts a sync of `report` as recorder `id`, signed with `key` at `timestamp_ms`.
pub(crate) async fn sync(
    hub: &TestHub,
    id: &str,
    key: &keys::SigningKey,
    timestamp_ms: i64,
    report: &RecorderReport,
) -> (u16, Value) {
    let body = serde_json::to_vec(report).expect("report");
    let timestamp = timestamp_ms.to_string();
    let signature = key.sign_hex(&contract::recorder_signed_message(id, &timestamp, &body));
    let response = reqwest::Client::new()
        .post(hub.url(&format!("/api/v1/recorders/{id}/sync")))
        .header("content-type", "application/json")
        .header(contract::RECORDER_TIMESTAMP_HEADER, &timestamp)
        .header(contract::RECORDER_SIGNATURE_HEADER, signature)
        .body(body)
        .send()
        .await
        .expect("sync");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub(crate) fn empty_report() -> RecorderReport {
    RecorderReport {
        at: "2026-11-28T00:00:00.000Z".into(),
        storage: StorageReport {
            used_bytes: 1,
            free_bytes: 2,
            locked_bytes: 0,
        },
        streams: Vec::new(),
        refused: Vec::new(),
    }
}

on_both!(locks_are_made_released_and_synced_and_forged_syncs_are_refused);
async fn locks_are_made_released_and_synced_and_forged_syncs_are_refused(backend: Backend) {
    let hub = TestHub::start(backend).await;
    let admin = hub.login("it-admin").await;
    let guard = hub.login("guard").await;
    let manager = hub.login("manager").await;
    let stranger = hub.login("other-guard").await;
    let key = keys::SigningKey::ephemeral();
    register(&hub, &admin, "rec-1", &key).await;
    let locks = format!("/api/v1/sites/{SITE}/locks");
    let lock = json!({"camera": "cam01", "from": "2026-11-27T21:00:00Z",
                      "to": "2026-11-27T21:05:00Z", "reason": "incident 7: forced door"});

    // A guard locks; a guard of another site cannot see the site at all.
    let (status, _) = hub
        .call(Method::POST, &locks, &stranger, Some(lock.clone()))
        .await;
    assert_eq!(status, 404);
    for bad in [
        json!({"camera": "cam01", "from": "2026-11-27T21:05:00Z", "to": "2026-11-27T21:00:00Z", "reason": "r"}),
        json!({"camera": "cam01", "from": "2026-10-01T00:00:00Z", "to": "2026-11-27T21:00:00Z", "reason": "r"}),
        json!({"camera": "cam01", "from": "yesterday", "to": "2026-11-27T21:00:00Z", "reason": "r"}),
        json!({"camera": "cam01", "from": "2026-11-27T21:00:00Z", "to": "2026-11-27T21:05:00Z", "reason": " "}),
        json!({"camera": "cam01", "from": "2036-11-27T21:00:00Z", "to": "2036-11-27T21:05:00Z", "reason": "the future"}),
    ] {
        let (status, answer) = hub.call(Method::POST, &locks, &guard, Some(bad)).await;
        assert_eq!(status, 400, "{answer}");
    }
    let (status, _) = hub
        .call(
            Method::POST,
            &locks,
            &guard,
            Some(
                json!({"camera": "no-such-camera", "from": "2026-11-27T21:00:00Z",
                        "to": "2026-11-27T21:05:00Z", "reason": "r"}),
            ),
        )
        .await;
    assert_eq!(status, 404);
    let (status, made) = hub.call(Method::POST, &locks, &guard, Some(lock)).await;
    assert_eq!(status, 200, "{made}");
    assert_eq!(made["created_by"], "u-guard");
    assert_eq!(made["from"], "2026-11-27T21:00:00.000Z");
    let id = made["id"].as_str().expect("id").to_owned();

    // The recorder's sync brings its health and takes the lock.
    let now = chrono::Utc::now().timestamp_millis();
    let mut report = empty_report();
    report.refused.push(contract::RefusedTicket {
        at: "2026-11-28T00:00:01.000Z".into(),
        camera: Some("cam01".into()),
        stream: contract::StreamName::Main,
        mode: contract::StreamMode::Replay,
        user: Some("u-guard".into()),
        reason: "the ticket expired 80 s ago".into(),
    });
    let (status, answer) = sync(&hub, "rec-1", &key, now, &report).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["locks"][0]["id"], id.as_str(), "{answer}");
    assert_eq!(answer["locks"][0]["camera"], "cam01");
    let (status, health) = hub
        .call(
            Method::GET,
            &format!("/api/v1/sites/{SITE}/recorders/health"),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, 200, "{health}");
    assert_eq!(health[0]["recorder"], "rec-1");
    assert_eq!(health[0]["report"]["storage"]["free_bytes"], 2);
    let refused = hub.audit(&admin, "camera.ticket.refused").await;
    assert!(
        refused.iter().any(|r| r["detail"]["by"] == "recorder"
            && r["detail"]["recorder"] == "rec-1"
            && r["detail"]["mode"] == "replay"
            && r["detail"]["ticket_user"] == "u-guard"
            && r["user"].is_null()
            && r["target"] == "cam01"),
        "{refused:?}"
    );

    // Hostile syncs: the same one again (a replay), an older one, one signed by another key,
    // one out of time, one for a recorder the hub does not know, one unsigned.
    let (status, _) = sync(&hub, "rec-1", &key, now, &report).await;
    assert_eq!(status, 403, "a replay");
    let (status, _) = sync(&hub, "rec-1", &key, now - 1, &empty_report()).await;
    assert_eq!(status, 403, "older than the last");
    let forger = keys::SigningKey::ephemeral();
    let (status, answer) = sync(&hub, "rec-1", &forger, now + 1, &empty_report()).await;
    assert_eq!(status, 403, "{answer}");
    assert_eq!(answer["code"], "forbidden");
    let (status, _) = sync(&hub, "rec-1", &key, now + 10 * 60_000, &empty_report()).await;
    assert_eq!(status, 403, "ten minutes ahead");
    let (status, _) = sync(&hub, "rec-9", &key, now + 2, &empty_report()).await;
    assert_eq!(status, 403, "unknown recorder");
    let unsigned = reqwest::Client::new()
        .post(hub.url("/api/v1/recorders/rec-1/sync"))
        .json(&empty_report())
        .send()
        .await
        .expect("send");
    assert_eq!(unsigned.status(), 403);
    let (status, answer) = hub
        .call(Method::GET, &format!("{locks}?camera=cam01"), &guard, None)
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer.as_array().map(Vec::len), Some(1), "{answer}");

    // Releasing is a manager's; once released, the next sync no longer names it.
    let release = format!("{locks}/{id}/release");
    let (status, _) = hub.call(Method::POST, &release, &guard, None).await;
    assert_eq!(status, 403);
    let (status, released) = hub.call(Method::POST, &release, &manager, None).await;
    assert_eq!(status, 200, "{released}");
    assert_eq!(released["released_by"], "u-manager");
    let (status, _) = hub.call(Method::POST, &release, &manager, None).await;
    assert_eq!(status, 409, "released once");
    let (status, answer) = sync(&hub, "rec-1", &key, now + 3, &empty_report()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["locks"], json!([]));
    assert_eq!(
        answer["released"],
        json!([id]),
        "named released, not just missing"
    );
    let made = hub.audit(&admin, "evidence.lock").await;
    assert_eq!(made.len(), 1, "{made:?}");
    assert_eq!(made[0]["user"], "u-guard");
    assert_eq!(made[0]["detail"]["reason"], "incident 7: forced door");
    let gone = hub.audit(&admin, "evidence.release").await;
    assert_eq!(gone.len(), 1, "{gone:?}");
    assert_eq!(gone[0]["user"], "u-manager");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_recorder_keeps_a_locked_range_until_it_is_released_and_reports_its_health() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let admin = hub.login("it-admin").await;
    let guard = hub.login("guard").await;
    let manager = hub.login("manager").await;
    let beside = hub.recorder_beside("syncing-recorder").await;
    // The key the recorder signs with, registered before it starts.
    let key = keys::SigningKey::load_or_create(&beside.data.join("signing.key")).expect("key");
    register(&hub, &admin, "rec-1", &key).await;
    let config = beside.config(
        &format!(
            "segment = \"1s\"\nrecord = \"sub\"\n\
             [restream]\nlisten = \"127.0.0.1:0\"\nhub_key = \"{}\"",
            hub.running.hub.ticket_key()
        ),
        "sync_interval = \"300ms\"",
        "",
    );
    let recorder = recorder::Recorder::start(config).expect("the recorder starts");
    let index = recorder.index().clone();
    let wait =
        |what: &str, limit: u64| (what.to_owned(), Instant::now() + Duration::from_secs(limit));

    // Health: recording, with a bitrate, and the storage.
    let (what, deadline) = wait("a health report with a bitrate", 30);
    loop {
        let (status, health) = hub
            .call(
                Method::GET,
                &format!("/api/v1/sites/{SITE}/recorders/health"),
                &admin,
                None,
            )
            .await;
        assert_eq!(status, 200, "{health}");
        let stream = &health[0]["report"]["streams"][0];
        if stream["state"] == "recording" && stream["bitrate_bps"].as_u64().unwrap_or(0) > 10_000 {
            assert_eq!(stream["camera"], "cam01");
            assert_eq!(stream["stream"], "sub");
            assert!(health[0]["report"]["storage"]["used_bytes"].as_u64() > Some(0));
            assert!(health[0]["report"]["storage"]["free_bytes"].as_u64() > Some(0));
            break;
        }
        assert!(Instant::now() < deadline, "{what}: {health}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // A lock over what was recorded reaches the recorder's index, and retention keeps it.
    let first = index
        .segments("cam01", recorder::StreamKind::Sub, i64::MIN, i64::MAX)
        .expect("segments")[0]
        .clone();
    let rfc = |us: i64| {
        chrono::DateTime::from_timestamp_micros(us)
            .expect("time")
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    let (status, made) = hub
        .call(
            Method::POST,
            &format!("/api/v1/sites/{SITE}/locks"),
            &guard,
            Some(
                json!({"camera": "cam01", "from": rfc(first.start_us), "to": rfc(first.end_us),
                        "reason": "incident 9"}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{made}");
    let id = made["id"].as_str().expect("id").to_owned();
    let held = |index: &recorder::Index| {
        index
            .locks("cam01", i64::MIN, i64::MAX)
            .expect("locks")
            .iter()
            .any(|l| l.id == id)
    };
    let (what, deadline) = wait("the lock on the recorder", 10);
    while !held(&index) {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        index
            .oldest_unlocked(Some("cam01"), 100)
            .expect("unlocked")
            .iter()
            .all(|s| s.id != first.id),
        "retention may not take the locked segment"
    );

    // A stranger's request to the restream with a made-up ticket: refused there, and an
    // audit line on the hub at the next sync.
    let port = recorder.restream().expect("restream").port();
    use std::io::{Read, Write};
    let mut rtsp = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let basic = base64_basic("ticket", "made-up");
    write!(
        rtsp,
        "DESCRIBE rtsp://127.0.0.1:{port}/cam01/sub/replay RTSP/1.0\r\nCSeq: 1\r\n\
         Authorization: Basic {basic}\r\n\r\n"
    )
    .expect("request");
    let mut answer = [0u8; 64];
    let n = rtsp.read(&mut answer).expect("answer");
    assert!(
        String::from_utf8_lossy(&answer[..n]).starts_with("RTSP/1.0 401"),
        "{}",
        String::from_utf8_lossy(&answer[..n])
    );
    let (what, deadline) = wait("the refusal in the hub's audit trail", 10);
    loop {
        let refused = hub.audit(&admin, "camera.ticket.refused").await;
        if refused
            .iter()
            .any(|r| r["detail"]["by"] == "recorder" && r["target"] == "cam01")
        {
            break;
        }
        assert!(Instant::now() < deadline, "{what}: {refused:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Released on the hub: gone from the recorder at its next sync.
    let (status, _) = hub
        .call(
            Method::POST,
            &format!("/api/v1/sites/{SITE}/locks/{id}/release"),
            &manager,
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (what, deadline) = wait("the lock released on the recorder", 10);
    while held(&index) {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(recorder);
}

/// An RTSP Basic `Authorization` value.
fn base64_basic(user: &str, password: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_camera_recorded_around_events_keeps_only_the_video_near_an_event() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let admin = hub.login("it-admin").await;
    let beside = hub.recorder_beside("events-recorder").await;
    let secret = &beside.secret;
    let key = keys::SigningKey::load_or_create(&beside.data.join("signing.key")).expect("key");
    register(&hub, &admin, "rec-1", &key).await;
    let config = beside.config(
        "segment = \"1s\"\nrecord = \"sub\"\n[retention]\ninterval = \"1s\"\nunmarked = \"13s\"",
        "sync_interval = \"300ms\"",
        "mode = \"events\"\npre_roll = \"2s\"\npost_roll = \"2s\"",
    );
    let recorder = recorder::Recorder::start(config).expect("the recorder starts");
    let index = recorder.index().clone();
    let segments = || {
        index
            .segments("cam01", recorder::StreamKind::Sub, i64::MIN, i64::MAX)
            .expect("segments")
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while segments().len() < 5 {
        assert!(
            Instant::now() < deadline,
            "recording: {:?}",
            recorder.status()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let first = segments()[0].clone();

    // Something happens on camera 1, seen by a source of the hub.
    // (The hub keeps event times in milliseconds.)
    let at_us = (chrono::Utc::now().timestamp_micros() - 1_500_000) / 1000 * 1000;
    let event = json!([{"id": "motion-1", "time": chrono::DateTime::from_timestamp_micros(at_us)
                            .expect("time").to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                        "site": SITE, "camera": "cam01", "type": "Motion", "state": "Active"}]);
    let body = serde_json::to_vec(&event).expect("json");
    let timestamp = chrono::Utc::now().timestamp().to_string();
    let posted = reqwest::Client::new()
        .post(hub.url("/api/v1/ingest/rec-1-events"))
        .header("content-type", "application/json")
        .header(events::TIMESTAMP_HEADER, &timestamp)
        .header(
            events::SIGNATURE_HEADER,
            events::sign(secret, &timestamp, &body),
        )
        .body(body)
        .send()
        .await
        .expect("ingest");
    assert_eq!(posted.status(), 200, "{:?}", posted.text().await);

    // The recorder hears of it at its next sync and keeps 2 s before to 2 s after.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mark = loop {
        if let Some(mark) = index.marks("cam01").expect("marks").first().copied() {
            break mark;
        }
        assert!(Instant::now() < deadline, "no mark around the event");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(mark, (at_us - 2_000_000, at_us + 2_000_000));
    // Video away from it goes once 10 s old; the video near it stays, every segment of it.
    let near = |s: &recorder::index::Segment| s.start_us < mark.1 && s.end_us > mark.0;
    while chrono::Utc::now().timestamp_micros() < mark.1 + 1_500_000 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let kept: Vec<i64> = segments()
        .iter()
        .filter(|s| near(s))
        .map(|s| s.id)
        .collect();
    assert!(kept.len() >= 2, "{} segments near the event", kept.len());
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let now_us = chrono::Utc::now().timestamp_micros();
        let old: Vec<_> = segments()
            .into_iter()
            .filter(|s| s.end_us < now_us - 12_000_000)
            .collect();
        let first_gone = segments().iter().all(|s| s.id != first.id) || near(&first);
        if first_gone && !old.is_empty() && old.iter().all(near) && now_us > mark.1 + 12_000_000 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "old video kept away from the event: {:?}",
            old.iter()
                .filter(|s| !near(s))
                .map(|s| (s.start_us, s.end_us))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let left: Vec<i64> = segments().iter().map(|s| s.id).collect();
    assert!(
        kept.iter().all(|id| left.contains(id)),
        "a segment near the event was deleted"
    );
    drop(recorder);
}
