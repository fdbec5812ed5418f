//! Media engine against the simulator's real RTSP server: decoding, faults, teardown.
//!
//! Every test starts its own simulated site on a free port. The tests hold one lock while they
//! run, so that timing checks never compete with another test's sixteen encoders on two cores.

use media::{
    AdaptivePolicy, AdaptiveStream, Credentials, EngineSettings, MediaEngine, Quality, Stream,
    StreamSettings, StreamState, StreamSwitch,
};
use parking_lot::Mutex;
use sim::{Fault, Sim, SimConfig, StreamKind};
use site::{Codec, Site};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

static SERIAL: Mutex<()> = Mutex::new(());
static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct LogCapture;

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn init() -> MediaEngine {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("debug")
            .with_writer(|| LogCapture)
            .with_ansi(false)
            .try_init();
    });
    MediaEngine::new(EngineSettings::default()).expect("gstreamer")
}

fn start_sim(site: Site, credentials: Option<sim::Credentials>) -> Sim {
    Sim::start(
        SimConfig {
            credentials,
            ..SimConfig::quiet(site)
        },
        Vec::new(),
    )
    .expect("simulator starts")
}

fn open(engine: &MediaEngine, sim: &Sim, camera: &str, kind: StreamKind) -> Stream {
    let mut settings = StreamSettings::new(sim.cameras().url(camera, kind));
    settings.label = format!("{camera}/{}", kind.as_str());
    engine.open(settings).expect("open")
}

/// Polls `check` every 20 ms until it holds or `limit` passes; returns the time it took.
fn wait_for(limit: Duration, mut check: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check() {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

fn is_live(stream: &Stream) -> bool {
    stream.state() == StreamState::Live
}

/// Takes every frame as it arrives, checking the stamps only go up.
#[derive(Default)]
struct StampWatch {
    frames: AtomicU64,
    first: Mutex<Option<u32>>,
    last: Mutex<Option<u32>>,
    not_increasing: AtomicU64,
    unstamped: AtomicU64,
}

fn watch_stamps(stream: &Stream) -> Arc<StampWatch> {
    let watch = Arc::new(StampWatch::default());
    let slot = Arc::downgrade(stream.slot());
    let w = watch.clone();
    stream.slot().set_waker(Some(Arc::new(move || {
        let Some(frame) = slot.upgrade().and_then(|s| s.take()) else {
            return;
        };
        w.frames.fetch_add(1, Ordering::Relaxed);
        match frame.stamp {
            Some(stamp) => {
                let mut last = w.last.lock();
                if last.is_some_and(|l| stamp.frame <= l) {
                    w.not_increasing.fetch_add(1, Ordering::Relaxed);
                }
                *last = Some(stamp.frame);
                w.first.lock().get_or_insert(stamp.frame);
            }
            None => {
                w.unstamped.fetch_add(1, Ordering::Relaxed);
            }
        }
    })));
    watch
}

#[test]
fn sixteen_sub_streams_decode_concurrently_with_stamps_and_latency() {
    let _serial = SERIAL.lock();
    let engine = init();
    let sim = start_sim(Site::with_cameras(16), None);
    let streams: Vec<Stream> = (1..=16)
        .map(|n| open(&engine, &sim, &format!("cam{n:02}"), StreamKind::Sub))
        .collect();
    assert!(
        wait_for(Duration::from_secs(15), || streams.iter().all(is_live)).is_some(),
        "all 16 live: {:?}",
        streams.iter().map(|s| s.state()).collect::<Vec<_>>()
    );
    // Measure over ten seconds from here.
    let watches: Vec<Arc<StampWatch>> = streams.iter().map(watch_stamps).collect();
    std::thread::sleep(Duration::from_secs(10));
    for (n, (stream, watch)) in streams.iter().zip(&watches).enumerate() {
        stream.slot().set_waker(None);
        let health = stream.health();
        let frames = watch.frames.load(Ordering::Relaxed);
        let first = watch.first.lock().expect("stamped frames");
        let last = watch.last.lock().expect("stamped frames");
        let sent = u64::from(last - first + 1);
        let share = frames as f64 / sent as f64;
        // Enough to tell a decode problem from a stamp problem when an assertion below fails.
        println!(
            "cam{:02}: {frames}/{sent} frames ({:.1} %), {} unstamped, {} decode errors, {} \
             stalls, latency {:?} ms, {:.1} fps",
            n + 1,
            share * 100.0,
            watch.unstamped.load(Ordering::Relaxed),
            health.decode_errors,
            stream.stalls(),
            health.latency_ms,
            health.fps
        );
        assert!(
            share >= 0.98,
            "cam{:02} delivered {frames} of {sent}",
            n + 1
        );
        assert!(
            sent >= 140,
            "cam{:02} sent only {sent} frames in 10 s at 15 fps",
            n + 1
        );
        assert_eq!(
            watch.not_increasing.load(Ordering::Relaxed),
            0,
            "stamps increase"
        );
        assert_eq!(
            watch.unstamped.load(Ordering::Relaxed),
            0,
            "every frame is stamped"
        );
        let latency = health.latency_ms.expect("latency measured");
        assert!((0..1000).contains(&latency), "latency {latency} ms");
        assert_eq!(health.decode_errors, 0);
        assert_eq!(health.reconnects, 0);
        assert_eq!(health.codec.as_deref(), Some("h264"));
    }
}

#[test]
fn h264_h265_and_mjpeg_streams_all_decode() {
    let _serial = SERIAL.lock();
    let engine = init();
    let sim = start_sim(Site::with_one_camera_per_codec(), None);
    for (id, codec) in [("cam01", "h264"), ("cam02", "h265"), ("cam03", "mjpeg")] {
        let stream = open(&engine, &sim, id, StreamKind::Sub);
        let watch = watch_stamps(&stream);
        assert!(
            wait_for(Duration::from_secs(10), || watch
                .frames
                .load(Ordering::Relaxed)
                >= 10)
            .is_some(),
            "{codec}: {:?}",
            stream.health()
        );
        let health = stream.health();
        assert_eq!(health.codec.as_deref(), Some(codec));
        assert_eq!((health.width, health.height), (Some(640), Some(360)));
        assert!(health.decoder.is_some());
        assert_eq!(
            watch.unstamped.load(Ordering::Relaxed),
            0,
            "{codec} frames carry stamps"
        );
        println!("{codec}: decoded by {:?}", health.decoder);
    }
}

#[test]
fn a_wrong_password_is_auth_failed_without_a_retry_storm_and_never_logged() {
    let _serial = SERIAL.lock();
    let engine = init();
    let sim = start_sim(
        Site::with_cameras(1),
        Some(sim::Credentials {
            user: "operator".into(),
            password: "correct-horse".into(),
        }),
    );
    let url = sim.cameras().url("cam01", StreamKind::Sub);
    let mut wrong = StreamSettings::new(url.clone());
    wrong.credentials = Some(Credentials {
        user: "operator".into(),
        password: "Tr0ub4dor-wrong".into(),
    });
    let stream = engine.open(wrong).expect("open");
    assert!(
        wait_for(Duration::from_secs(5), || stream.state()
            == StreamState::AuthFailed)
        .is_some(),
        "{:?}",
        stream.state()
    );
    std::thread::sleep(Duration::from_secs(3));
    let health = stream.health();
    assert_eq!(health.state, StreamState::AuthFailed);
    assert_eq!(health.attempts, 1, "no retry storm: {health:?}");

    let mut right = StreamSettings::new(url);
    right.credentials = Some(Credentials {
        user: "operator".into(),
        password: "correct-horse".into(),
    });
    let good = engine.open(right).expect("open");
    assert!(
        wait_for(Duration::from_secs(8), || is_live(&good)).is_some(),
        "{:?}",
        good.state()
    );

    let printed = format!(
        "{:?} {:?} {}",
        stream.health(),
        good.settings(),
        serde_json::to_string(&good.health()).expect("json")
    );
    drop(stream);
    drop(good);
    let logs = String::from_utf8_lossy(&LOGS.lock()).into_owned();
    assert!(logs.contains("auth_failed"), "the logs were captured");
    for secret in ["Tr0ub4dor-wrong", "correct-horse"] {
        assert!(!logs.contains(secret), "a password is in the logs");
        assert!(
            !printed.contains(secret),
            "a password is in printed health or settings"
        );
    }
}

#[test]
fn a_stopped_camera_reconnects_and_comes_back_live() {
    let _serial = SERIAL.lock();
    let engine = init();
    let sim = start_sim(Site::with_cameras(1), None);
    let stream = open(&engine, &sim, "cam01", StreamKind::Sub);
    assert!(wait_for(Duration::from_secs(8), || is_live(&stream)).is_some());

    sim.cameras().apply("cam01", Fault::Stop).expect("stop");
    let noticed = wait_for(Duration::from_secs(2), || {
        matches!(stream.state(), StreamState::Reconnecting { .. })
    });
    assert!(
        noticed.is_some(),
        "reconnecting within 2 s: {:?}",
        stream.state()
    );
    std::thread::sleep(Duration::from_secs(3));
    assert!(!is_live(&stream), "a stopped camera is not live");

    sim.cameras().apply("cam01", Fault::Start).expect("start");
    let back = wait_for(Duration::from_secs(3), || is_live(&stream));
    assert!(
        back.is_some(),
        "live within 3 s of restart: {:?}",
        stream.health()
    );
    println!("noticed after {noticed:?}, live again after {back:?}");
    assert!(stream.health().reconnects >= 1);
}

#[test]
fn a_stalled_camera_is_caught_by_the_watchdog_and_a_cut_one_reconnects() {
    let _serial = SERIAL.lock();
    let engine = init();
    let sim = start_sim(Site::with_cameras(1), None);
    let stream = open(&engine, &sim, "cam01", StreamKind::Sub);
    assert!(wait_for(Duration::from_secs(8), || is_live(&stream)).is_some());
    let watchdog = stream.settings().stall_timeout;

    sim.cameras().apply("cam01", Fault::Stall).expect("stall");
    let caught = wait_for(watchdog + Duration::from_millis(500), || {
        stream.stalls() >= 1
    });
    assert!(
        caught.is_some(),
        "stall caught within the watchdog period: {:?}",
        stream.health()
    );
    sim.cameras().apply("cam01", Fault::Resume).expect("resume");
    assert!(
        wait_for(Duration::from_secs(6), || is_live(&stream)).is_some(),
        "{:?}",
        stream.state()
    );

    let before = stream.health().reconnects;
    sim.cameras().apply("cam01", Fault::Cut).expect("cut");
    assert!(
        wait_for(Duration::from_secs(3), || stream.health().reconnects
            > before)
        .is_some()
    );
    assert!(
        wait_for(Duration::from_secs(4), || is_live(&stream)).is_some(),
        "{:?}",
        stream.state()
    );
}

#[test]
fn corrupted_packets_are_counted_as_decode_errors_and_nothing_crashes() {
    let _serial = SERIAL.lock();
    let engine = init();
    let mut site = Site::with_cameras(2);
    site.cameras[1].sub.codec = Codec::Mjpeg;
    let sim = start_sim(site, None);
    for id in ["cam01", "cam02"] {
        let stream = open(&engine, &sim, id, StreamKind::Sub);
        assert!(wait_for(Duration::from_secs(8), || is_live(&stream)).is_some());
        sim.cameras()
            .apply(id, Fault::Corrupt { per_mille: 400 })
            .expect("corrupt");
        let counted = wait_for(Duration::from_secs(6), || {
            stream.health().decode_errors >= 3
        });
        assert!(counted.is_some(), "{id}: {:?}", stream.health());
        sim.cameras()
            .apply(id, Fault::Corrupt { per_mille: 0 })
            .expect("clean");
        let frames = stream.health().frames;
        assert!(
            wait_for(Duration::from_secs(8), || is_live(&stream)
                && stream.health().frames > frames + 15)
            .is_some(),
            "{id} decodes again: {:?}",
            stream.health()
        );
        println!("{id}: {:?}", stream.health());
    }
}

#[test]
fn switching_streams_keeps_the_old_one_showing_until_the_new_one_delivers() {
    let _serial = SERIAL.lock();
    let engine = init();
    let sim = start_sim(Site::with_cameras(1), None);
    let mut tile = StreamSwitch::new(open(&engine, &sim, "cam01", StreamKind::Sub));
    assert!(wait_for(Duration::from_secs(8), || is_live(tile.active())).is_some());
    tile.switch_to(open(&engine, &sim, "cam01", StreamKind::Main));
    let mut widths = Vec::new();
    let mut longest_gap = Duration::ZERO;
    let mut last_frame = Instant::now();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(8) {
        if let Some(frame) = tile.take_frame() {
            longest_gap = longest_gap.max(last_frame.elapsed());
            last_frame = Instant::now();
            widths.push(frame.width());
            if frame.width() == 1280 && widths.iter().filter(|w| **w == 1280).count() > 10 {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let first_main = widths
        .iter()
        .position(|w| *w == 1280)
        .expect("main stream arrived");
    assert!(
        first_main > 0,
        "the sub-stream showed while the main one connected"
    );
    assert!(
        widths[first_main..].iter().all(|w| *w == 1280),
        "no way back once switched"
    );
    assert!(tile.pending().is_none());
    // The sub-stream is 15 fps: a gap longer than a few frames would be visible.
    assert!(
        longest_gap < Duration::from_millis(400),
        "longest gap {longest_gap:?}"
    );
}

#[test]
fn tearing_down_sixteen_streams_leaves_no_pipelines_or_threads() {
    let _serial = SERIAL.lock();
    let engine = init();
    let sim = start_sim(Site::with_cameras(16), None);
    // Warm up GStreamer's process-wide threads once, so they are not counted as leaks.
    {
        let warm = open(&engine, &sim, "cam01", StreamKind::Sub);
        assert!(wait_for(Duration::from_secs(8), || is_live(&warm)).is_some());
    }
    let threads = || {
        std::fs::read_dir("/proc/self/task")
            .map(|d| d.count())
            .unwrap_or(0)
    };
    assert!(wait_for(Duration::from_secs(5), || media::live_pipelines() == 0).is_some());
    std::thread::sleep(Duration::from_millis(500));
    let baseline = threads();

    let streams: Vec<Stream> = (1..=16)
        .map(|n| open(&engine, &sim, &format!("cam{n:02}"), StreamKind::Sub))
        .collect();
    assert!(wait_for(Duration::from_secs(15), || streams.iter().all(is_live)).is_some());
    let running = threads();
    assert!(media::live_pipelines() >= 16);
    drop(streams);
    assert_eq!(
        media::live_pipelines(),
        0,
        "every pipeline is finalized on drop"
    );
    let settled = wait_for(Duration::from_secs(5), || threads() <= baseline);
    println!(
        "threads: {baseline} idle, {running} with 16 streams, {} after teardown",
        threads()
    );
    assert!(
        settled.is_some(),
        "threads back to {baseline}, still {}",
        threads()
    );
}

#[test]
fn an_adaptive_stream_follows_the_tile_size_with_hysteresis_and_stops_when_hidden() {
    let _serial = SERIAL.lock();
    let engine = init();
    let sim = start_sim(Site::with_cameras(1), None);
    let main = StreamSettings::new(sim.cameras().url("cam01", StreamKind::Main));
    let sub = StreamSettings::new(sim.cameras().url("cam01", StreamKind::Sub));
    let mut camera = AdaptiveStream::new(
        &engine,
        main,
        Some(sub),
        AdaptivePolicy::for_sub_height(360),
    );
    assert!(
        !camera.is_decoding(),
        "nothing is decoded before a tile shows the camera"
    );
    let width_at = |camera: &mut AdaptiveStream, height: u32| -> u32 {
        camera.show_at(height).expect("open");
        let start = Instant::now();
        let mut last = 0;
        // Take frames for a while: the switch completes once the new stream delivers.
        while start.elapsed() < Duration::from_secs(6) {
            if let Some(frame) = camera.take_frame() {
                last = frame.width();
            }
            if last > 0 && start.elapsed() > Duration::from_secs(2) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        last
    };
    assert_eq!(
        width_at(&mut camera, 270),
        640,
        "a small tile shows the sub-stream"
    );
    assert_eq!(camera.quality(), Quality::Sub);
    assert_eq!(
        width_at(&mut camera, 720),
        1280,
        "a big tile shows the main stream"
    );
    assert_eq!(
        width_at(&mut camera, 500),
        1280,
        "hysteresis: still main just under the switch-up size"
    );
    assert_eq!(
        width_at(&mut camera, 300),
        640,
        "back to the sub-stream when small"
    );
    let before = media::live_pipelines();
    let started = Instant::now();
    camera.hide();
    assert!(
        started.elapsed() < Duration::from_millis(100),
        "hiding does not wait for teardown"
    );
    assert!(!camera.is_decoding());
    assert!(
        wait_for(Duration::from_secs(3), || media::live_pipelines() < before).is_some(),
        "hiding stops decoding"
    );
}

#[test]
fn udp_transport_decodes_too() {
    let _serial = SERIAL.lock();
    let engine = init();
    let sim = start_sim(Site::with_cameras(1), None);
    let mut settings = StreamSettings::new(sim.cameras().url("cam01", StreamKind::Sub));
    settings.transport = media::Transport::Udp;
    let stream = engine.open(settings).expect("open");
    let watch = watch_stamps(&stream);
    assert!(
        wait_for(Duration::from_secs(10), || watch
            .frames
            .load(Ordering::Relaxed)
            >= 15)
        .is_some(),
        "{:?}",
        stream.health()
    );
    assert_eq!(watch.not_increasing.load(Ordering::Relaxed), 0);
    assert!(stream.health().latency_ms.is_some());
}

#[test]
fn a_missing_decoder_fails_the_stream_for_good_without_a_panic() {
    let _serial = SERIAL.lock();
    let engine = init();
    let sim = start_sim(Site::with_cameras(1), None);
    let mut settings = StreamSettings::new(sim.cameras().url("cam01", StreamKind::Sub));
    settings.decoder = media::DecoderChoice::Named("no_such_decoder".into());
    let stream = engine.open(settings).expect("open");
    let failed = wait_for(
        Duration::from_secs(8),
        || matches!(stream.state(), StreamState::Failed { ref reason } if reason.contains("no_such_decoder")),
    );
    assert!(failed.is_some(), "{:?}", stream.state());
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        stream.health().attempts,
        1,
        "a failure retrying cannot fix is not retried"
    );
    let started = Instant::now();
    drop(stream);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "closing a failed stream is quick"
    );
    let logs = String::from_utf8_lossy(&LOGS.lock()).into_owned();
    assert!(
        !logs.contains("supervisor panicked"),
        "the supervisor survived its failure"
    );
}
