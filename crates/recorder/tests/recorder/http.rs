//! Recorded video over HTTP, for browsers: fragmented MP4 from the key frame before an instant
//! to an end, the first frame's capture time in a header, the timeline as JSON; only a replay
//! ticket for that very stream opens either.

use crate::support::*;
use contract::{RecordingTimeline, StreamMode, StreamName};
use keys::SigningKey;
use recorder::config::StreamKind;

fn rfc3339(us: i64) -> String {
    recorder::report::rfc3339(us).expect("a time")
}

#[test]
fn a_browser_gets_fragmented_mp4_from_an_instant_and_the_timeline_with_a_replay_ticket() {
    let hub = SigningKey::ephemeral();
    let sim = site(1);
    let config = config(
        &sim,
        "http",
        &format!(
            "[restream]\nlisten = \"127.0.0.1:0\"\nhub_key = \"{}\"\nhttp_listen = \"127.0.0.1:0\"",
            hub.public_hex()
        ),
        "main",
    );
    let recorder = record_until(&config, StreamKind::Main, 8);
    let port = recorder
        .restream()
        .and_then(|r| r.http_port())
        .expect("the HTTP playback");
    let segments = segments(&config, "cam01", StreamKind::Main);
    let ticket =
        |camera: &str, stream, mode| ticket_for(&hub, "rec-test", camera, stream, mode, 60_000);
    let replay = ticket("cam01", StreamName::Main, StreamMode::Replay);
    // reqwest's TLS wants a crypto provider even for plain HTTP; the hub's roots install it.
    webhook::hub_roots(None).expect("a TLS provider");
    let http = reqwest::blocking::Client::new();
    let base = format!("http://127.0.0.1:{port}/v1/cam01/main");
    let get = |path: &str, bearer: Option<&str>| {
        let mut request = http.get(format!("{base}{path}"));
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        request.send().expect("an answer")
    };

    // From an instant inside a camera-timed segment, across the reader's windows of three
    // segments.
    let from = segments[2].start_us + 700_000;
    let to = from + 6_500_000;
    let answer = get(
        &format!("/media?from={}&to={}", rfc3339(from), rfc3339(to)),
        Some(&replay),
    );
    assert_eq!(answer.status(), 200, "{:?}", answer.text());
    assert_eq!(answer.headers()["content-type"], "video/mp4");
    assert_eq!(answer.headers()[contract::MEDIA_CODEC_HEADER], "h264");
    let start = answer.headers()[contract::MEDIA_START_HEADER]
        .to_str()
        .expect("text")
        .to_owned();
    let start_us = chrono::DateTime::parse_from_rfc3339(&start)
        .expect("RFC 3339")
        .timestamp_micros();
    assert!(
        start_us <= from && from - start_us <= 2_100_000,
        "starts at the key frame at or before the instant: {} µs before",
        from - start_us
    );
    let body = answer.bytes().expect("the body");
    assert!(
        body.windows(4).any(|w| w == b"moof"),
        "fragmented, for Media Source Extensions"
    );
    let file = testkit::scratch("recorder-http-body").join("answer.mp4");
    std::fs::write(&file, &body).expect("write");
    let stamps = decode_file(&file);
    let first = stamps.first().expect("frames");
    let last = stamps.last().expect("frames");
    let frame_us = 40_000;
    let error_us = -first.latency_ms((start_us / 1000) as u64) * 1000;
    assert!(
        error_us.abs() <= frame_us,
        "the header's time is the first frame's capture time, off by {error_us} µs"
    );
    let past_ms = -last.latency_ms((to / 1000) as u64);
    // (Within a frame interval: a window's frames are dated from its first segment's indexed
    // start, which may be that far from its first frame's capture.)
    assert!(
        (-80..=40).contains(&past_ms),
        "ends at the end asked for: {past_ms} ms past it"
    );
    for pair in stamps.windows(2) {
        assert_eq!(pair[1].frames_since(&pair[0]), 1, "no frame lost");
    }

    // The timeline of what was recorded.
    let answer = get(
        &format!(
            "/timeline?from={}&to={}",
            rfc3339(segments[0].start_us - 10_000_000),
            rfc3339(segments[4].end_us)
        ),
        Some(&replay),
    );
    assert_eq!(answer.status(), 200);
    let timeline: RecordingTimeline = answer.json().expect("a timeline");
    assert_eq!(timeline.spans.len(), 1, "{timeline:?}");
    assert_eq!(
        timeline.spans[0].camera_clock,
        segments[..5]
            .iter()
            .all(|s| s.clock == recorder::index::Clock::Camera),
        "a span is camera-timed when all its segments are"
    );
    assert_eq!(
        timeline.gaps.len(),
        1,
        "before the recording began: {timeline:?}"
    );

    // Refused: no ticket, a live ticket, another stream's, and malformed or empty asks.
    let media = format!("/media?from={}", rfc3339(from));
    let answer = get(&media, None);
    assert_eq!(answer.status(), 401);
    assert!(answer.headers().contains_key("www-authenticate"));
    let other_camera = ticket("cam02", StreamName::Main, StreamMode::Replay);
    assert_eq!(get(&media, Some(&other_camera)).status(), 403);
    let expired = ticket_for(
        &hub,
        "rec-test",
        "cam01",
        StreamName::Main,
        StreamMode::Replay,
        -120_000,
    );
    assert_eq!(get(&media, Some(&expired)).status(), 403);
    let other_recorder = ticket_for(
        &hub,
        "rec-other",
        "cam01",
        StreamName::Main,
        StreamMode::Replay,
        60_000,
    );
    assert_eq!(get(&media, Some(&other_recorder)).status(), 403);
    let live = ticket("cam01", StreamName::Main, StreamMode::Live);
    assert_eq!(get(&media, Some(&live)).status(), 403);
    let sub = ticket("cam01", StreamName::Sub, StreamMode::Replay);
    assert_eq!(get(&media, Some(&sub)).status(), 403);
    assert_eq!(get(&media, Some("forged")).status(), 403);
    assert_eq!(get("/media?from=yesterday", Some(&replay)).status(), 400);
    let long = format!(
        "/media?from={}&to={}",
        rfc3339(from),
        rfc3339(from + 7_200_000_000)
    );
    assert_eq!(get(&long, Some(&replay)).status(), 400, "at most an hour");
    let later = recorder::recording::now_us() + 600_000_000;
    let nothing = format!(
        "/media?from={}&to={}",
        rfc3339(later),
        rfc3339(later + 1_000_000)
    );
    assert_eq!(get(&nothing, Some(&replay)).status(), 404);

    // A signed export only with an export ticket (the hub's own, for an incident): a replay
    // ticket, which any viewer of the site holds, makes none; an export ticket gets every file.
    let export = format!(
        "{base}/export?from={}&to={}&reason=Forced%20door",
        rfc3339(from),
        rfc3339(from + 2_000_000)
    );
    let post = |bearer: &str| {
        http.post(&export)
            .bearer_auth(bearer)
            .send()
            .expect("an answer")
    };
    assert_eq!(
        post(&replay).status(),
        403,
        "a replay ticket exports nothing"
    );
    let exporting = ticket("cam01", StreamName::Main, StreamMode::Export);
    let answer = post(&exporting);
    assert_eq!(answer.status(), 200);
    let files: Vec<contract::NewAttachment> = answer.json().expect("the export's files");
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    for name in [
        "manifest.json",
        "manifest.sig",
        "SHA256SUMS",
        "recorder-key.pem",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    assert!(
        files.iter().any(|f| f.media_type == "video/mp4"),
        "{names:?}"
    );
    let refusals = recorder.restream().expect("restream").refusals();
    assert!(
        refusals
            .iter()
            .filter(|r| r.mode == StreamMode::Replay && r.camera == "cam01")
            .count()
            >= 6,
        "kept for the hub: {refusals:?}"
    );
    assert!(
        refusals.iter().any(|r| r.user.as_deref() == Some("u-guard")
            && matches!(r.reason, recorder::tickets::Refusal::OtherStream { .. })),
        "{refusals:?}"
    );

    // A client that stops reading holds up neither the other answers nor the recorder's stop.
    let long = format!(
        "/media?from={}&to={}",
        rfc3339(segments[0].start_us),
        rfc3339(segments[0].start_us + 3_000_000_000)
    );
    let mut stalled = get(&long, Some(&replay));
    assert_eq!(stalled.status(), 200);
    let mut some = [0u8; 64];
    std::io::Read::read_exact(&mut stalled, &mut some).expect("a first chunk");
    assert_eq!(
        get(&media, Some(&replay)).status(),
        200,
        "another answer meanwhile"
    );
    let stopping = std::time::Instant::now();
    drop(recorder);
    assert!(
        stopping.elapsed() < std::time::Duration::from_secs(10),
        "the recorder stopped in {:?} with an answer in flight",
        stopping.elapsed()
    );
    drop(stalled);
}

/// The live stream over HTTP: fragmented MP4 from the last key frame on, every frame, the
/// newest within a second of now; only a live ticket opens it, and a client that goes is let
/// go by the feed.
#[test]
fn a_browser_gets_the_live_stream_as_fragmented_mp4_within_a_second_of_now() {
    use std::io::Read;
    use std::time::{Duration, Instant};
    let hub = SigningKey::ephemeral();
    let sim = site(1);
    let config = config(
        &sim,
        "http-live",
        &format!(
            "[restream]\nlisten = \"127.0.0.1:0\"\nhub_key = \"{}\"\nhttp_listen = \"127.0.0.1:0\"",
            hub.public_hex()
        ),
        "main",
    );
    let recorder = recorder::Recorder::start(config.clone()).expect("recorder starts");
    let restream = recorder.restream().expect("the restream");
    let port = restream.http_port().expect("the HTTP playback");
    let ticket =
        |camera: &str, stream, mode| ticket_for(&hub, "rec-test", camera, stream, mode, 60_000);
    let live = ticket("cam01", StreamName::Main, StreamMode::Live);
    webhook::hub_roots(None).expect("a TLS provider");
    let http = reqwest::blocking::Client::new();
    let url = format!("http://127.0.0.1:{port}/v1/cam01/main/live");
    let get = |bearer: Option<&str>| {
        let mut request = http.get(&url);
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        request.send().expect("an answer")
    };
    // Refused: no ticket, a replay ticket, another camera's.
    assert_eq!(get(None).status(), 401);
    let replay = ticket("cam01", StreamName::Main, StreamMode::Replay);
    assert_eq!(get(Some(&replay)).status(), 403, "a replay ticket");
    let other = ticket("cam02", StreamName::Main, StreamMode::Live);
    assert_eq!(get(Some(&other)).status(), 403, "another camera's ticket");
    // Until the camera has sent its first frames: unavailable, in words.
    let mut answer = None;
    assert!(
        wait_for(Duration::from_secs(30), || {
            let got = get(Some(&live));
            match got.status().as_u16() {
                200 => {
                    answer = Some(got);
                    true
                }
                503 => false,
                other => panic!("live answered {other}: {:?}", got.text()),
            }
        }),
        "the live stream answers once the camera sends"
    );
    let mut answer = answer.expect("an answer");
    assert_eq!(answer.headers()["content-type"], "video/mp4");
    assert_eq!(answer.headers()[contract::MEDIA_CODEC_HEADER], "h264");
    // Read for three seconds, noting when the last bytes came.
    let mut body = Vec::new();
    let mut last_at_ms = 0;
    let reading = Instant::now();
    let mut chunk = [0u8; 64 * 1024];
    while reading.elapsed() < Duration::from_secs(3) {
        let read = answer.read(&mut chunk).expect("the live body");
        assert!(
            read > 0,
            "the live answer ended after {:?}",
            reading.elapsed()
        );
        body.extend_from_slice(&chunk[..read]);
        last_at_ms = recorder::recording::now_us() / 1000;
    }
    let watching = restream
        .viewers()
        .into_iter()
        .find(|(camera, kind, _)| camera == "cam01" && *kind == StreamKind::Main)
        .map(|(_, _, viewers)| viewers);
    assert_eq!(watching, Some(1), "the answer is one viewer of the feed");
    assert!(body.windows(4).any(|w| w == b"moof"), "fragmented");
    let file = testkit::scratch("recorder-http-live").join("live.mp4");
    std::fs::write(&file, &body).expect("write");
    let stamps = decode_file(&file);
    assert!(stamps.len() > 50, "about 3 s of frames: {}", stamps.len());
    assert!(stamps.iter().all(|s| s.source == 1), "cam01's pictures");
    for pair in stamps.windows(2) {
        assert_eq!(pair[1].frames_since(&pair[0]), 1, "no frame lost");
    }
    let behind_ms = stamps.last().expect("frames").latency_ms(last_at_ms as u64);
    eprintln!("the newest frame received was captured {behind_ms} ms before it came");
    assert!(
        (0..1000).contains(&behind_ms),
        "live: the newest frame is {behind_ms} ms old when it comes"
    );
    // The client goes: so does its viewer.
    drop(answer);
    assert!(
        wait_for(Duration::from_secs(10), || restream
            .viewers()
            .iter()
            .all(|(_, _, viewers)| *viewers == 0)),
        "the viewer is let go: {:?}",
        restream.viewers()
    );
}
