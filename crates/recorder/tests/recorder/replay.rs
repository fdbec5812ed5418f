//! Recorded video over RTSP with ONVIF Profile G replay semantics, played by GStreamer's own
//! ONVIF client (`rtspsrc onvif-mode`): `Range: clock=` starts at the key frame before the
//! instant, every packet carries the frame's capture time, and frames run on across segments.

use crate::support::*;
use contract::{StreamMode, StreamName};
use gst::prelude::*;
use keys::SigningKey;
use parking_lot::Mutex;
use recorder::config::StreamKind;
use recorder::replay::{ntp_ns_of_unix_us, unix_us_of_ntp_ns};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// What the ONVIF replay header extension of one RTP packet says.
#[derive(Debug, Clone, Copy)]
struct Replayed {
    rtp_time: u32,
    ntp_ns: u64,
    clean_point: bool,
    discontinuity: bool,
}

/// Reads the ONVIF replay extension (profile 0xABAC) of an RTP packet, by hand: the client's
/// view of what the server sent, independent of the server's code.
fn replay_extension(packet: &[u8]) -> Option<Replayed> {
    if packet.len() < 12 || packet[0] & 0x10 == 0 {
        return None;
    }
    let csrcs = usize::from(packet[0] & 0x0f);
    let at = 12 + 4 * csrcs;
    let header = packet.get(at..at + 4)?;
    if u16::from_be_bytes([header[0], header[1]]) != 0xABAC {
        return None;
    }
    let data = packet.get(at + 4..at + 4 + 12)?;
    let ntp = u64::from_be_bytes(data[0..8].try_into().ok()?);
    // NTP: 32 bits of seconds, 32 of fraction.
    let ntp_ns = (ntp >> 32) * 1_000_000_000 + (((ntp & 0xffff_ffff) * 1_000_000_000) >> 32);
    Some(Replayed {
        rtp_time: u32::from_be_bytes(packet[4..8].try_into().ok()?),
        ntp_ns,
        clean_point: data[8] & 0x80 != 0,
        discontinuity: data[8] & 0x20 != 0,
    })
}

struct Client {
    pipeline: gst::Pipeline,
    sink: gst_app::AppSink,
    packets: Arc<Mutex<Vec<Replayed>>>,
    /// Set before a seek: the next section's first packet clears the log.
    armed: Arc<AtomicBool>,
}

/// GStreamer's ONVIF client on `path`, decoding; with `from_us`, it then plays from there.
fn onvif_client(port: u16, path: &str, ticket: &str, from_us: Option<i64>) -> Client {
    let (pipeline, sink) = launch_to_sink(&format!(
        "rtspsrc name=src onvif-mode=true latency=0 \
           location=rtsp://127.0.0.1:{port}{path} user-id=ticket user-pw={ticket} \
         ! rtph264depay name=depay ! h264parse ! avdec_h264 ! video/x-raw,format=I420 \
         ! appsink name=sink sync=false max-buffers=1000"
    ));
    let packets = Arc::new(Mutex::new(Vec::new()));
    let armed = Arc::new(AtomicBool::new(false));
    let (seen, arming) = (packets.clone(), armed.clone());
    pipeline
        .by_name("depay")
        .expect("depay")
        .static_pad("sink")
        .expect("pad")
        .add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            let packet = match &info.data {
                Some(gst::PadProbeData::Buffer(buffer)) => buffer
                    .map_readable()
                    .ok()
                    .and_then(|m| replay_extension(&m)),
                _ => None,
            };
            if let Some(packet) = packet {
                let mut seen = seen.lock();
                if packet.discontinuity && arming.swap(false, Ordering::SeqCst) {
                    seen.clear();
                }
                seen.push(packet);
            }
            gst::PadProbeReturn::Ok
        });
    pipeline.set_state(gst::State::Playing).expect("play");
    let client = Client {
        pipeline,
        sink,
        packets,
        armed,
    };
    if let Some(from_us) = from_us {
        // Playing (from the oldest recording, paced) for a moment, then a seek: a seek while
        // `rtspsrc` still waits for its first `PLAY`'s answer is not sent.
        let _ = client.pipeline.state(gst::ClockTime::from_seconds(10));
        assert_eq!(client.frames(5).len(), 5, "the replay plays");
        client.seek(from_us, 1.0, gst::SeekFlags::empty());
    }
    client
}

impl Client {
    /// `PLAY` with `Range: clock=<from>-`, `Scale: <rate>` (and `Frames: intra` for a key-unit
    /// trick mode). The packet log and the frames decoded before start again at the first
    /// packet of the new section (the D bit).
    fn seek(&self, from_us: i64, rate: f64, flags: gst::SeekFlags) {
        self.seek_range(from_us, None, rate, flags);
    }

    /// The same, to `to_us` when given (`Range: clock=<from>-<to>`).
    fn seek_range(&self, from_us: i64, to_us: Option<i64>, rate: f64, flags: gst::SeekFlags) {
        self.armed.store(true, Ordering::SeqCst);
        let (stop_type, stop) = match to_us {
            Some(to) => (
                gst::SeekType::Set,
                gst::ClockTime::from_nseconds(ntp_ns_of_unix_us(to)).into(),
            ),
            None => (gst::SeekType::None, gst::ClockTime::NONE),
        };
        self.pipeline
            .seek(
                rate,
                gst::SeekFlags::FLUSH | flags,
                gst::SeekType::Set,
                gst::ClockTime::from_nseconds(ntp_ns_of_unix_us(from_us)),
                stop_type,
                stop,
            )
            .expect("seek");
    }

    /// The section's packets and its decoded frames, at least `count` of them, from the first
    /// frame decoded after the section's first packet came whose capture time is within a
    /// group of pictures of `target_us` (frames still on their way from before the seek are
    /// dropped).
    fn section(&self, target_us: i64, count: usize) -> (Vec<Replayed>, Vec<stamp::Stamp>) {
        let mut frames: Vec<stamp::Stamp> = Vec::new();
        let mut started = false;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while frames.len() < count && std::time::Instant::now() < deadline {
            let Some(frame) = self.frames(1).pop() else {
                break;
            };
            if !started {
                started = !self.armed.load(Ordering::SeqCst)
                    && frame.latency_ms((target_us / 1000) as u64).abs() <= 2_500;
            }
            if started {
                frames.push(frame);
            }
        }
        (self.packets.lock().clone(), frames)
    }

    /// The stamps of the next `count` decoded frames.
    fn frames(&self, count: usize) -> Vec<stamp::Stamp> {
        let mut stamps = Vec::new();
        while stamps.len() < count {
            let Some(sample) = self.sink.try_pull_sample(gst::ClockTime::from_seconds(15)) else {
                break;
            };
            stamps.extend(stamp_of(&sample));
        }
        stamps
    }

    /// Whether the client fails (the server refused it) before any frame.
    fn refused(&self) -> bool {
        let bus = self.pipeline.bus().expect("bus");
        let message = bus.timed_pop_filtered(
            gst::ClockTime::from_seconds(15),
            &[gst::MessageType::Error, gst::MessageType::Eos],
        );
        matches!(
            message.as_ref().map(|m| m.view()),
            Some(gst::MessageView::Error(_))
        ) && self.sink.try_pull_sample(gst::ClockTime::ZERO).is_none()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

/// Asserts that `frames`, shown one after another by a replay of cam01's main stream, are
/// frames its recording holds one after another: the replay lost nothing. A frame the camera
/// or the recording lost (a loaded machine) is not the replay's to show: it is reported, and
/// the recording's files, decoded directly, are the reference.
fn assert_none_lost(config: &recorder::Config, frames: &[stamp::Stamp], what: &str) {
    let gaps: Vec<usize> = (1..frames.len())
        .filter(|i| frames[*i].frames_since(&frames[i - 1]) != 1)
        .collect();
    if gaps.is_empty() {
        return;
    }
    let (first, last) = (frames[0], frames[frames.len() - 1]);
    let covered = |s: &recorder::index::Segment| {
        first.latency_ms((s.end_us / 1000) as u64) >= -3_000
            && last.latency_ms((s.start_us / 1000) as u64) <= 3_000
    };
    let segments = segments(config, "cam01", StreamKind::Main);
    let recorded: Vec<u32> = segments
        .iter()
        .filter(|s| covered(s))
        .flat_map(|s| decode_file(&config.video_dir().join(&s.file)))
        .map(|stamp| stamp.frame)
        .collect();
    let place = |frame: u32| recorded.iter().position(|f| *f == frame);
    for i in gaps {
        let (before, after) = (frames[i - 1], frames[i]);
        match (place(before.frame), place(after.frame)) {
            (Some(a), Some(b)) if b == a + 1 => eprintln!(
                "{what}: frames {} to {} are not in the recording (the camera or the \
                 recording lost them); the replay showed all it holds",
                before.frame.wrapping_add(1),
                after.frame.wrapping_sub(1)
            ),
            places => panic!(
                "{what}: the replay lost frames between {before:?} and {after:?} \
                 (at {places:?} of the {} frames recorded there)",
                recorded.len()
            ),
        }
    }
}

#[test]
fn a_clock_range_replays_from_the_key_frame_before_the_instant_with_capture_times() {
    let hub = SigningKey::ephemeral();
    let sim = site(1);
    let config = restreaming(&sim, "replay", &hub, "main");
    let recorder = record_until(&config, StreamKind::Main, 5);
    // The first seconds are timed by the recorder's clock, the rest by the camera's (its
    // sender reports), which is what the pixel stamps carry.
    let timed = 2;
    let port = recorder.restream().expect("restream").port();
    let segments = segments(&config, "cam01", StreamKind::Main);
    let replay_ticket = ticket_for(
        &hub,
        "rec-test",
        "cam01",
        StreamName::Main,
        StreamMode::Replay,
        60_000,
    );

    // From an instant inside a segment.
    let at_us = segments[timed].start_us + 700_000;
    // The replay's feeder threads, by name.
    let feeders = || {
        std::fs::read_dir("/proc/self/task")
            .map(|tasks| {
                tasks
                    .flatten()
                    .filter(|t| {
                        std::fs::read_to_string(t.path().join("comm"))
                            .is_ok_and(|name| name.trim() == "replay-cam01")
                    })
                    .count()
            })
            .unwrap_or(0)
    };
    let viewer = onvif_client(port, "/cam01/main/replay", &replay_ticket, Some(at_us));
    assert!(feeders() >= 1, "a feeder for the viewer");
    let (packets, frames) = viewer.section(at_us, 125);
    assert!(frames.len() >= 125, "{} frames", frames.len());
    let first = packets
        .first()
        .copied()
        .expect("replay extensions on the packets");
    assert!(first.clean_point, "starts on a key frame: {first:?}");
    assert!(first.discontinuity, "a new section: {first:?}");
    let first_us = unix_us_of_ntp_ns(first.ntp_ns);
    assert!(
        first_us <= at_us && at_us - first_us <= 2_100_000,
        "the key frame at or before the instant: {} µs before",
        at_us - first_us
    );
    // The packet's time is the capture time of the frame it carries.
    let frame_us = 40_000;
    let error_us = -frames[0].latency_ms((first_us / 1000) as u64) * 1000;
    assert!(
        error_us.abs() <= frame_us,
        "the first frame's stamp is its packet's time, off by {error_us} µs: {:?}",
        frames[0]
    );
    // What a client shows from the instant on is the frame captured then.
    let shown = frames
        .iter()
        .find(|f| f.latency_ms((at_us / 1000) as u64) <= 0)
        .expect("a frame at the instant");
    let error_us = -shown.latency_ms((at_us / 1000) as u64) * 1000;
    assert!(error_us <= frame_us, "off by {error_us} µs: {shown:?}");
    // Frames run on across segments (and the reader's windows of them): no frame lost.
    assert_none_lost(&config, &frames, "from the instant");
    // From the instant on (the frames before it are sent at once), every packet's time moves
    // with its RTP time (90 kHz): one timeline.
    let after: Vec<Replayed> = packets
        .iter()
        .copied()
        .filter(|p| unix_us_of_ntp_ns(p.ntp_ns) > at_us + 50_000)
        .collect();
    assert!(
        after.len() > 100,
        "{} packets after the instant",
        after.len()
    );
    for pair in after.windows(2) {
        let rtp_us = i64::from(pair[1].rtp_time.wrapping_sub(pair[0].rtp_time) as i32) * 1000 / 90;
        let ntp_us = unix_us_of_ntp_ns(pair[1].ntp_ns) - unix_us_of_ntp_ns(pair[0].ntp_ns);
        assert!((rtp_us - ntp_us).abs() <= 2_000, "{pair:?}");
    }

    // Four times as fast: the server's timeline (its RTP times, which its sinks pace by and a
    // client plays by) runs at a quarter of the capture times it carries, from the instant on
    // (the frames from the key frame at or before it are sent at once, a tick apart: counted
    // with the rest, they made 4x read as 8.08x once, in a fresh-clone run).
    // Read from the packets, not from a stopwatch: on a loaded machine the wall-clock time says
    // more about the load than about the server.
    let started = std::time::Instant::now();
    let target_us = segments[timed].start_us;
    viewer.seek(target_us, 4.0, gst::SeekFlags::empty());
    let (packets, fast) = viewer.section(target_us, 150);
    eprintln!(
        "4x: {} frames in {:?} (6 s of video)",
        fast.len(),
        started.elapsed()
    );
    assert!(fast.len() >= 150, "{} frames", fast.len());
    assert_none_lost(&config, &fast, "at 4x");
    let paced: Vec<Replayed> = packets
        .iter()
        .copied()
        .filter(|p| unix_us_of_ntp_ns(p.ntp_ns) > target_us + 50_000)
        .collect();
    let (first, last) = (paced[0], paced[paced.len() - 1]);
    let rtp_us = i64::from(last.rtp_time.wrapping_sub(first.rtp_time) as i32) * 1000 / 90;
    let ntp_us = unix_us_of_ntp_ns(last.ntp_ns) - unix_us_of_ntp_ns(first.ntp_ns);
    assert!(
        ntp_us >= 2_000_000,
        "{ntp_us} µs of video at 4x after the instant"
    );
    let scale = ntp_us as f64 / rtp_us as f64;
    eprintln!("4x: the server's timeline runs at {scale:.2}x the video's");
    // 1.00x when the seek asks 1x, which fails this.
    assert!(
        (3.8..=4.2).contains(&scale),
        "at 4x the server's timeline runs at {scale:.2}x the video's ({rtp_us} µs for {ntp_us} µs)"
    );
    // Key frames only (`Frames: intra`): one a group of pictures.
    viewer.seek(
        segments[timed].start_us,
        1.0,
        gst::SeekFlags::TRICKMODE | gst::SeekFlags::TRICKMODE_KEY_UNITS,
    );
    let (packets, keys) = viewer.section(segments[timed].start_us, 3);
    assert!(keys.len() >= 3, "{} key frames", keys.len());
    // Every packet belongs to a key frame (the first packet of each carries the C bit).
    let key_frames: std::collections::HashSet<u32> = packets
        .iter()
        .filter(|p| p.clean_point)
        .map(|p| p.rtp_time)
        .collect();
    assert!(
        packets.iter().all(|p| key_frames.contains(&p.rtp_time)),
        "key frames only"
    );
    for pair in keys.windows(2) {
        assert!(pair[1].frames_since(&pair[0]) > 10, "{pair:?}");
    }

    // It follows the recording: from the newest segment, frames keep coming past what was
    // recorded when the replay began, as the recording goes on.
    let newest = recorder
        .index()
        .newest_segment("cam01", StreamKind::Main)
        .expect("index")
        .expect("a segment");
    viewer.seek(newest.start_us, 1.0, gst::SeekFlags::empty());
    let (_, followed) = viewer.section(newest.start_us, 150);
    assert!(
        followed.len() >= 150,
        "{} frames from a segment of 2 s",
        followed.len()
    );
    assert_none_lost(&config, &followed, "following the recording");
    // An end time: the frames stop there (and the replay ends).
    let (from, to) = (
        segments[timed].start_us,
        segments[timed].start_us + 1_500_000,
    );
    viewer.seek_range(from, Some(to), 1.0, gst::SeekFlags::empty());
    let (_, ranged) = viewer.section(from, 1);
    assert_eq!(ranged.len(), 1, "the range plays");
    let mut last = ranged[0];
    while let Some(sample) = viewer.sink.try_pull_sample(gst::ClockTime::from_seconds(4)) {
        if let Some(stamp) = stamp_of(&sample) {
            last = stamp;
        }
    }
    let past_ms = -last.latency_ms((to / 1000) as u64);
    assert!(
        (-80..=40).contains(&past_ms),
        "the last frame is at the end time: {past_ms} ms past it"
    );

    drop(viewer);

    // The first instant named in the URL: the first frame is the key frame before it, with no
    // seek (and no detour through the oldest recording).
    let direct = onvif_client(
        port,
        &format!("/cam01/main/replay?from={at_us}"),
        &replay_ticket,
        None,
    );
    let first = direct.frames(1);
    let before_ms = first
        .first()
        .expect("the replay from the URL's instant plays")
        .latency_ms((at_us / 1000) as u64);
    assert!(
        (0..=2_100).contains(&before_ms),
        "the first frame is {before_ms} ms before the instant"
    );
    drop(direct);
    let bad = onvif_client(
        port,
        "/cam01/main/replay?from=yesterday",
        &replay_ticket,
        None,
    );
    assert!(bad.refused(), "an instant that is not one is refused");
    drop(bad);

    // A live ticket does not open the recording, nor a replay ticket the live stream.
    let live_ticket = ticket_for(
        &hub,
        "rec-test",
        "cam01",
        StreamName::Main,
        StreamMode::Live,
        60_000,
    );
    let refused = onvif_client(port, "/cam01/main/replay", &live_ticket, None);
    assert!(refused.refused(), "a live ticket replays nothing");
    drop(refused);
    let refused = onvif_client(port, "/cam01/main", &replay_ticket, None);
    assert!(refused.refused(), "a replay ticket shows nothing live");
    drop(refused);
    // Every viewer's feeder ended with its media.
    assert!(
        wait_for(std::time::Duration::from_secs(10), || feeders() == 0),
        "{} replay feeders outlived their viewers",
        feeders()
    );
    let refusals = recorder.restream().expect("restream").refusals();
    assert!(
        refusals
            .iter()
            .any(|r| r.mode == StreamMode::Replay && r.user.as_deref() == Some("u-guard")),
        "{refusals:?}"
    );
}

/// Replays that share one playback clock (the tiles of a wall in playback) show the same
/// recorded instant: each frame waits for the clock, the recorder sends as fast as it is read
/// (`Rate-Control: no`). Paused, each shows the frame at the instant and nothing after; playing
/// at 1x and at 4x, the two cameras' shown stamps stay within a frame interval of each other
/// and of the clock; a frame step shows the next frame.
#[test]
fn replays_paced_by_one_clock_show_the_same_instant_at_every_speed() {
    let hub = SigningKey::ephemeral();
    let sim = site(2);
    let config = restreaming(&sim, "synced", &hub, "sub");
    let recorder = record_until(&config, StreamKind::Sub, 8);
    let port = recorder.restream().expect("restream").port();
    // Past the first seconds, which the recorder times by its own clock.
    let at_us = segments(&config, "cam01", StreamKind::Sub)[2].start_us + 300_000;
    let clock = media::PlaybackClock::starting(at_us, 1.0, true);
    clock.release();
    let engine = media::MediaEngine::new(Default::default()).expect("the media engine");
    let streams: Vec<media::Stream> = ["cam01", "cam02"]
        .into_iter()
        .map(|camera| {
            let mut settings =
                media::StreamSettings::new(format!("rtsp://127.0.0.1:{port}/{camera}/sub/replay"))
                    .replay_from(at_us)
                    .paced_by(clock.clone());
            settings.credentials = Some(media::Credentials {
                user: "ticket".into(),
                password: ticket_for(
                    &hub,
                    "rec-test",
                    camera,
                    StreamName::Sub,
                    StreamMode::Replay,
                    60_000,
                ),
            });
            engine.open(settings).expect("the replay opens")
        })
        .collect();
    let mut shown: Vec<Option<stamp::Stamp>> = vec![None; streams.len()];
    let look = |shown: &mut Vec<Option<stamp::Stamp>>| {
        for (stamp, stream) in shown.iter_mut().zip(&streams) {
            if let Some(frame) = stream.slot().take() {
                *stamp = Some(frame.stamp.expect("a stamp on every frame"));
            }
        }
    };
    assert!(
        wait_for(Duration::from_secs(20), || {
            look(&mut shown);
            shown.iter().all(Option::is_some)
        }),
        "both replays show their first frame: {:?}",
        streams.iter().map(|s| s.health()).collect::<Vec<_>>()
    );
    let fps = sim.cameras().listing()[0]
        .streams
        .iter()
        .find(|s| s.kind == sim::StreamKind::Sub)
        .expect("a sub-stream")
        .fps;
    let interval_ms = 1000 / i64::from(fps);
    let lag = |stamp: &Option<stamp::Stamp>, clock_ms: i64| {
        stamp.expect("shown").latency_ms(clock_ms as u64)
    };
    // A frame shows from its capture time to the next's; the recorder's capture times and
    // the pixel stamps differ by some milliseconds (the camera's sender reports), and a
    // frame reaches its slot some milliseconds of real time after the clock lets it go.
    let slack_ms = |rate: f64| 20 + (10.0 * rate) as i64;
    let on_the_clock = |rate: f64| -interval_ms / 2..=interval_ms + slack_ms(rate);
    // Paused at the instant: the frame at or before it, and nothing after, however long.
    std::thread::sleep(Duration::from_millis(700));
    look(&mut shown);
    for stamp in &shown {
        let lag_ms = lag(stamp, at_us / 1000);
        assert!(
            on_the_clock(1.0).contains(&lag_ms),
            "paused, a frame {lag_ms} ms before the instant: {shown:?}"
        );
    }
    // A frame step goes to the next frame waiting: the camera whose frame comes first moves
    // on by one, the other by none or one (frames captured at nearly the same instant).
    for _ in 0..3 {
        let before = shown.clone();
        clock.step_frame(interval_ms * 1000);
        std::thread::sleep(Duration::from_millis(300));
        look(&mut shown);
        let moved: Vec<u32> = shown
            .iter()
            .zip(&before)
            .map(|(now, before)| now.expect("shown").frames_since(&before.expect("shown")))
            .collect();
        assert!(
            moved.iter().all(|m| *m <= 1) && moved.contains(&1),
            "a frame step: {moved:?}"
        );
    }

    for rate in [1.0, 4.0] {
        clock.set_rate(rate);
        clock.play();
        let first = shown[0].expect("shown");
        let started = std::time::Instant::now();
        let mut spreads = Vec::new();
        let mut lags = Vec::new();
        let until = std::time::Instant::now() + Duration::from_millis(1500);
        while std::time::Instant::now() < until {
            std::thread::sleep(Duration::from_millis(37));
            look(&mut shown);
            let clock_ms = clock.now_us() / 1000;
            let each: Vec<i64> = shown.iter().map(|s| lag(s, clock_ms)).collect();
            spreads.push(each.iter().max().unwrap_or(&0) - each.iter().min().unwrap_or(&0));
            lags.extend(each);
        }
        clock.pause();
        // The pictures moved on at the clock's speed.
        let moved_ms = i64::from(
            shown[0]
                .expect("shown")
                .capture_ms
                .wrapping_sub(first.capture_ms),
        );
        let expected_ms = started.elapsed().as_millis() as f64 * rate;
        assert!(
            (moved_ms as f64 - expected_ms).abs() <= expected_ms * 0.1 + interval_ms as f64 * 2.0,
            "{rate}x: the pictures moved {moved_ms} ms of recording, the clock {expected_ms} ms"
        );
        spreads.sort_unstable();
        lags.sort_unstable();
        println!(
            "{rate}x: spread between the cameras p50 {} ms, max {} ms; behind the clock p50 {} ms, \
             max {} ms (frame interval {interval_ms} ms)",
            spreads[spreads.len() / 2],
            spreads[spreads.len() - 1],
            lags[lags.len() / 2],
            lags[lags.len() - 1]
        );
        assert!(
            spreads
                .iter()
                .all(|s| *s <= interval_ms + slack_ms(1.0) / 2),
            "{rate}x: the cameras' stamps within a frame interval: {spreads:?}"
        );
        assert!(
            lags.iter().all(|l| on_the_clock(rate).contains(l)),
            "{rate}x: each frame shown while the clock is on it: {lags:?}"
        );
    }
    drop(streams);
    drop(recorder);
}

/// A viewer that stops reading (a paused wall whose bounded jitter buffer is full, a busy
/// laptop) holds the recorder back over TCP: the replay waits for it and loses nothing, even
/// read as fast as it goes (`Rate-Control: no`), which is what the app's paced replays rely on.
#[test]
fn a_viewer_that_stops_reading_holds_the_replay_back_and_loses_no_frame() {
    let hub = SigningKey::ephemeral();
    let sim = site(1);
    let config = restreaming(&sim, "held", &hub, "main");
    let recorder = record_until(&config, StreamKind::Main, 4);
    let port = recorder.restream().expect("restream").port();
    let ticket = ticket_for(
        &hub,
        "rec-test",
        "cam01",
        StreamName::Main,
        StreamMode::Replay,
        60_000,
    );
    let from_us = segments(&config, "cam01", StreamKind::Main)[1].start_us;
    // As fast as it is read, from an instant three segments behind the live edge.
    let (pipeline, sink) = launch_to_sink(&format!(
        "rtspsrc name=src onvif-mode=true onvif-rate-control=false latency=0 protocols=tcp \
           location=rtsp://127.0.0.1:{port}/cam01/main/replay?from={from_us} \
           user-id=ticket user-pw={ticket} \
         ! rtph264depay ! h264parse ! avdec_h264 ! video/x-raw,format=I420 \
         ! appsink name=sink sync=false max-buffers=1000"
    ));
    // The connection's reading thread is held before the first packet: the socket fills and
    // the server's send queue after it.
    let hold = Arc::new(AtomicBool::new(true));
    let held = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (holding, counted) = (hold.clone(), held.clone());
    pipeline
        .by_name("src")
        .expect("rtspsrc")
        .connect("new-manager", false, move |args| {
            let manager = args.get(1)?.get::<gst::Element>().ok()?;
            let (holding, counted) = (holding.clone(), counted.clone());
            manager.connect_pad_added(move |_, pad| {
                if !pad.name().starts_with("recv_rtp_sink") {
                    return;
                }
                let (holding, counted) = (holding.clone(), counted.clone());
                pad.add_probe(
                    gst::PadProbeType::BUFFER | gst::PadProbeType::BUFFER_LIST,
                    move |_, _| {
                        if holding.load(Ordering::SeqCst) {
                            counted.fetch_add(1, Ordering::SeqCst);
                        }
                        while holding.load(Ordering::SeqCst) {
                            std::thread::sleep(Duration::from_millis(10));
                        }
                        gst::PadProbeReturn::Ok
                    },
                );
            });
            None
        });
    pipeline.set_state(gst::State::Playing).expect("play");
    std::thread::sleep(Duration::from_secs(3));
    hold.store(false, Ordering::SeqCst);
    let mut frames = Vec::new();
    while frames.len() < 150 {
        let Some(sample) = sink.try_pull_sample(gst::ClockTime::from_seconds(15)) else {
            break;
        };
        frames.extend(stamp_of(&sample));
    }
    let _ = pipeline.set_state(gst::State::Null);
    assert!(frames.len() >= 150, "{} frames with stamps", frames.len());
    assert!(
        held.load(Ordering::SeqCst) > 0,
        "the connection's reading thread was held"
    );
    assert_none_lost(&config, &frames, "after the hold");
    drop(recorder);
}
