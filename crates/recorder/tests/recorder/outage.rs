//! A camera that stops shows as a gap of the time it was away, with its reason, and as an
//! offline and then an online event.

use crate::support::*;
use recorder::config::StreamKind;
use recorder::playback;
use recorder::recording::StreamEvent;
use std::time::{Duration, Instant};

#[test]
fn a_camera_stopped_for_20_s_leaves_a_20_s_gap_and_offline_and_online_events() {
    let sim = site(1);
    let config = config(&sim, "outage", "reconnect_max = \"500ms\"", "sub");
    let recorder = record_until(&config, StreamKind::Sub, 2);
    sim.cameras()
        .apply("cam01", sim::Fault::Stop)
        .expect("stop");
    let stopped = Instant::now();
    std::thread::sleep(Duration::from_secs(20));
    sim.cameras()
        .apply("cam01", sim::Fault::Start)
        .expect("start");
    let back = stopped.elapsed();
    let before = segments(&config, "cam01", StreamKind::Sub).len();
    assert!(
        wait_for(Duration::from_secs(20), || segments(
            &config,
            "cam01",
            StreamKind::Sub
        )
        .len()
            >= before + 2),
        "recording again: {:?}",
        recorder.status()
    );
    let events = recorder.events();
    drop(recorder);

    let index = recorder::Index::open(&config.index_path()).expect("index");
    let timeline =
        playback::timeline(&index, "cam01", StreamKind::Sub, 0, i64::MAX / 2).expect("timeline");
    let gap = timeline
        .gaps
        .iter()
        .find(|g| g.end_us < i64::MAX / 4 && g.start_us > 0)
        .expect("a gap between two spans");
    let seconds = (gap.end_us - gap.start_us) as f64 / 1e6;
    assert!(
        (seconds - back.as_secs_f64()).abs() <= 1.0,
        "the camera was away {back:?}, the gap is {seconds} s: {timeline:?}"
    );
    assert!(gap.reason.is_some(), "the gap says why: {gap:?}");
    assert_eq!(timeline.spans.len(), 2, "{timeline:?}");
    let offline = events
        .iter()
        .position(|e| matches!(e, StreamEvent::Offline { camera, .. } if camera == "cam01"))
        .expect("an offline event");
    let online = events
        .iter()
        .position(|e| matches!(e, StreamEvent::Online { camera, .. } if camera == "cam01"))
        .expect("an online event");
    assert!(offline < online, "{events:?}");
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, StreamEvent::Offline { .. }))
            .count(),
        1,
        "one offline event however many attempts failed: {events:?}"
    );
}
