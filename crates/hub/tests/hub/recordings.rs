//! Recorded video for browsers through the hub: a manager's browser, holding only its session
//! cookie, reads a camera's timeline and plays its video from an instant; the hub fetches both
//! from the camera's real recorder with a replay ticket it issues (and audits) itself. A
//! recorder without a playback address, a user of another site, and a malformed instant are
//! each refused. The same camera live, the same way. A user streams at most four answers at
//! once, recorded or live.

use crate::support::{Backend, SITE, TestHub};
use reqwest::Method;
use reqwest::header::COOKIE;
use serde_json::Value;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_plays_recorded_video_through_the_hub_with_its_session_alone() {
    let hub = TestHub::start(Backend::Sqlite).await;
    let admin = hub.login("it-admin").await;
    let recorder = hub.playback_recorder("playback-recorder").await;
    let key = recorder.key.clone();
    let (status, saved) = hub.register_recorder(&admin, "rec-1", &key, None).await;
    assert_eq!(status, 200, "{saved}");

    // The manager's browser: a session cookie, nothing else.
    let cookie = hub.browser_cookie("manager").await;
    let http = &hub.http;
    let get = |path: String| {
        let request = http.get(hub.url(&path)).header(COOKIE, &cookie);
        async move { request.send().await.expect("answer") }
    };
    let base = format!("/api/v1/sites/{SITE}/cameras/cam01/recording/sub");

    // Its recorder serves no video to browsers yet: said in words.
    let refused = get(format!("{base}/timeline")).await;
    assert_eq!(refused.status(), 409);
    let body: Value = refused.json().await.expect("json");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("desktop app")),
        "{body}"
    );
    let playback = recorder.playback.clone();
    let (status, saved) = hub
        .register_recorder(&admin, "rec-1", &key, Some(&playback))
        .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["playback_url"], playback);
    let (status, refused) = hub
        .register_recorder(&admin, "rec-1", &key, Some("http://user:pw@127.0.0.1:1"))
        .await;
    assert_eq!(status, 400, "no credentials in the address: {refused}");

    // A few seconds recorded, then the timeline and the video from an instant inside them.
    let (span_from, _) = hub.recorded_span(&cookie).await;
    let from = chrono::DateTime::parse_from_rfc3339(&span_from).expect("from")
        + chrono::TimeDelta::milliseconds(1500);
    let from_text = from.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let media = get(format!(
        "{base}/media?from={}",
        url::form_urlencoded::byte_serialize(from_text.as_bytes()).collect::<String>()
    ))
    .await;
    assert_eq!(media.status(), 200);
    assert_eq!(media.headers()["content-type"], "video/mp4");
    assert_eq!(media.headers()[contract::MEDIA_CODEC_HEADER], "h264");
    let start = media.headers()[contract::MEDIA_START_HEADER]
        .to_str()
        .expect("start")
        .to_owned();
    let start = chrono::DateTime::parse_from_rfc3339(&start).expect("an instant");
    assert!(
        start <= from && from - start < chrono::TimeDelta::seconds(3),
        "the first frame ({start}) is the key frame before {from}"
    );
    let bytes = media.bytes().await.expect("the video");
    let has = |kind: &[u8]| bytes.windows(4).any(|w| w == kind);
    assert!(
        has(b"ftyp") && has(b"moof") && has(b"mdat"),
        "fragmented MP4: {} bytes",
        bytes.len()
    );

    // The same camera live, from the recorder's connection: fragments as they come.
    let live_path = format!("/api/v1/sites/{SITE}/cameras/cam01/live/sub");
    let mut live = get(live_path.clone()).await;
    assert_eq!(live.status(), 200);
    assert_eq!(live.headers()["content-type"], "video/mp4");
    assert_eq!(live.headers()[contract::MEDIA_CODEC_HEADER], "h264");
    let mut live_bytes = Vec::new();
    let reading = Instant::now();
    while reading.elapsed() < Duration::from_secs(2) {
        let chunk = tokio::time::timeout(Duration::from_secs(5), live.chunk())
            .await
            .expect("live video keeps coming")
            .expect("the live body")
            .expect("the live answer goes on");
        live_bytes.extend_from_slice(&chunk);
    }
    drop(live);
    let has = |kind: &[u8]| live_bytes.windows(4).any(|w| w == kind);
    assert!(
        has(b"ftyp") && has(b"moof") && has(b"mdat"),
        "live, fragmented MP4: {} bytes",
        live_bytes.len()
    );

    // Not an instant: refused; a guard of another site sees nothing, recorded or live.
    let bad = get(format!("{base}/media?from=yesterday")).await;
    assert_eq!(bad.status(), 400);
    let outsider = hub.login("other-guard").await;
    let (status, _) = hub
        .call(Method::GET, &format!("{base}/timeline"), &outsider, None)
        .await;
    assert_eq!(status, 404, "another site's cameras are not even there");
    let (status, _) = hub.call(Method::GET, &live_path, &outsider, None).await;
    assert_eq!(status, 404, "nor live");
    // Each look is a ticket in the audit trail, in the manager's name: replay, then live.
    let tickets = hub.audit(&admin, "camera.ticket").await;
    for mode in ["replay", "live"] {
        assert!(
            tickets
                .iter()
                .any(|t| t["user"] == "u-manager" && t["detail"]["mode"] == mode),
            "{mode}: {tickets:?}"
        );
    }

    // The manager's sessions are ended (a leaver, a stolen laptop): the video playing in their
    // browser stops with them, not when it would have ended (an hour, for live video).
    let mut live = get(live_path.clone()).await;
    assert_eq!(live.status(), 200);
    tokio::time::timeout(Duration::from_secs(5), live.chunk())
        .await
        .expect("live video comes")
        .expect("the live body");
    let (status, _) = hub
        .call(
            Method::DELETE,
            "/api/v1/users/u-manager/sessions",
            &admin,
            None,
        )
        .await;
    assert_eq!(status, 200);
    let ended = Instant::now();
    // Broken off (an error), not ended as if whole.
    let ending = loop {
        match tokio::time::timeout(Duration::from_secs(15), live.chunk()).await {
            Ok(Ok(Some(_))) => assert!(
                ended.elapsed() < Duration::from_secs(5),
                "live video still sent 5 s after the session ended"
            ),
            Ok(ending) => break ending,
            Err(_) => panic!("live video neither sent nor ended after the session ended"),
        }
    };
    assert!(ending.is_err(), "broken off, not ended: {ending:?}");
    drop(recorder);
}

/// A user streams four recorded-video answers at once (a 2x2 grid) and a fifth is refused until
/// one ends. The recorder here is a stand-in whose answers never end: a real recorder's answer
/// for a few recorded seconds is sent whole into the sockets' buffers at once, so it would end
/// (and free its place) before the fifth request, and the count could not be seen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_streams_at_most_four_recordings_at_once() {
    let endless = axum::Router::new().route(
        "/v1/{camera}/{stream}/media",
        axum::routing::get(|| async {
            let first = futures_util::stream::once(async {
                Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b"ftyp"))
            });
            let body = futures_util::StreamExt::chain(first, futures_util::stream::pending());
            axum::body::Body::from_stream(body)
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let playback = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, endless).await });

    let hub = TestHub::start(Backend::Sqlite).await;
    let admin = hub.login("it-admin").await;
    let key = keys::SigningKey::ephemeral().public_hex();
    let (status, saved) = hub
        .register_recorder(&admin, "rec-1", &key, Some(&playback))
        .await;
    assert_eq!(status, 200, "{saved}");
    let cookie = hub.browser_cookie("manager").await;
    let media = hub.url(&format!(
        "/api/v1/sites/{SITE}/cameras/cam01/recording/sub/media?from=2026-01-01T00:00:00Z"
    ));
    let get = || {
        let request = hub.http.get(media.clone()).header(COOKIE, &cookie);
        async move { request.send().await.expect("answer") }
    };

    let mut open = Vec::new();
    for _ in 0..4 {
        let answer = get().await;
        assert_eq!(answer.status(), 200);
        open.push(answer);
    }
    let fifth = get().await;
    assert_eq!(fifth.status(), 429, "a fifth stream at once");
    let live = hub
        .http
        .get(hub.url(&format!("/api/v1/sites/{SITE}/cameras/cam02/live/sub")));
    assert_eq!(
        live.header(COOKIE, &cookie)
            .send()
            .await
            .expect("answer")
            .status(),
        429,
        "nor a live one"
    );
    let body: Value = fifth.json().await.expect("json");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("retry")),
        "said in words: {body}"
    );
    // Another user is not held back by the manager's four.
    let other = hub.browser_cookie("guard").await;
    let theirs = hub.http.get(media.clone()).header(COOKIE, &other);
    assert_eq!(theirs.send().await.expect("answer").status(), 200);

    drop(open.pop());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let again = get().await;
        if again.status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "a stream ended frees its place");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
