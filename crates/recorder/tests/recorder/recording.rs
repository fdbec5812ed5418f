//! Recording is exact: what plays back from an instant is the frame captured at that instant,
//! and frames run on without a gap across segments.

use crate::support::*;
use recorder::config::StreamKind;
use recorder::{Index, playback};

#[test]
fn playback_from_an_instant_shows_the_frame_captured_then_and_frames_run_across_segments() {
    let sim = site(1);
    let config = config(&sim, "exact", "", "main");
    let recorder = record_until(&config, StreamKind::Main, 4);
    drop(recorder);
    let segments = segments(&config, "cam01", StreamKind::Main);
    assert!(
        segments[2..]
            .iter()
            .all(|s| s.clock == recorder::index::Clock::Camera),
        "timed by the camera's sender reports after the first seconds: {segments:?}"
    );
    let index = Index::open(&config.index_path()).expect("index");
    let frame_us = 40_000; // 25 fps
    for (n, segment) in segments.iter().enumerate().skip(2).take(2) {
        for offset in [0, 333_333, 1_250_000] {
            let at = segment.start_us + offset;
            let replay =
                playback::replay_from(&index, &config.video_dir(), "cam01", StreamKind::Main, at)
                    .expect("replay");
            let shown = play(&replay, 1);
            let stamp = shown[0].stamp.expect("a stamp on the first frame");
            let error_us = -stamp.latency_ms((at / 1000) as u64) * 1000;
            assert!(
                error_us.abs() <= frame_us,
                "segment {n} +{offset} µs: first frame {} is off by {error_us} µs",
                stamp.frame
            );
        }
    }
    // From the first segment's start through the end: frame numbers without a gap.
    let replay = playback::replay_from(
        &index,
        &config.video_dir(),
        "cam01",
        StreamKind::Main,
        segments[0].start_us,
    )
    .expect("replay");
    let shown = play(&replay, 150);
    assert!(shown.len() >= 150, "{} frames", shown.len());
    let frames: Vec<u32> = shown
        .iter()
        .map(|s| s.stamp.expect("stamp").frame)
        .collect();
    for pair in frames.windows(2) {
        assert_eq!(pair[1], pair[0] + 1, "frames {frames:?}");
    }
}
