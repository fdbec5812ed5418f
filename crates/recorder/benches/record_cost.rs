//! Benchmark: what the recorder costs, printed side by side from one run.
//!
//! - CPU per recorded stream, recording the 16 main and 16 sub-streams of the simulator,
//!   beside a bare `gst-launch-1.0 rtspsrc ! depay ! parse ! splitmuxsink` of the same streams
//!   (goal: at most 1.2×);
//! - CPU the recorder adds per live viewer of its restream (viewers are `gst-launch-1.0`
//!   processes of their own, receiving without decoding);
//! - the time from a playback request to the first decoded frame (p50, p99; goal p50 ≤ 300 ms).
//!
//! The simulator runs as its own process (its encoders are charged to no side). Run with
//! `cargo xtask bench`, which builds the simulator first.

#[path = "../../media/benches/support/mod.rs"]
mod support;

use contract::{StreamName, TicketClaims};
use gst::prelude::*;
use recorder::{Config, Recorder, StreamKind, playback};
use std::time::{Duration, Instant};
use support::{MEASURE, Simulator, WARM_UP, cpu_seconds, gst_launch_cpu};

fn main() {
    let sim = Simulator::start();
    let (mains, subs) = (sim.main_urls(16), sim.sub_urls(16));
    let dir = std::env::temp_dir().join(format!("watchfloor-record-cost-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch");
    let hub = keys::SigningKey::ephemeral();
    let mut text = format!(
        "id = \"bench\"\ndata_dir = \"{}\"\nsegment = \"4s\"\nrecord = \"both\"\n\
         [retention]\nmin_free = \"0\"\n[restream]\nlisten = \"127.0.0.1:0\"\nhub_key = \"{}\"\n",
        dir.join("recorder").display(),
        hub.public_hex()
    );
    for (n, (main, sub)) in mains.iter().zip(&subs).enumerate() {
        text.push_str(&format!(
            "[[cameras]]\nid = \"cam{:02}\"\nmain = \"{main}\"\nsub = \"{sub}\"\n",
            n + 1
        ));
    }
    let recorder = Recorder::start(Config::parse(&text).expect("config")).expect("recorder");
    std::thread::sleep(WARM_UP + Duration::from_secs(2));
    let cpu0 = cpu_seconds("self");
    std::thread::sleep(MEASURE);
    let ours = cpu_seconds("self") - cpu0;

    // The same 32 streams, bare.
    let bare_dir = dir.join("bare");
    let line: Vec<String> = mains
        .iter()
        .chain(&subs)
        .enumerate()
        .map(|(n, url)| {
            let folder = bare_dir.join(n.to_string());
            std::fs::create_dir_all(&folder).expect("bare folder");
            format!(
                "rtspsrc location={url} protocols=tcp latency=200 ! rtph264depay ! h264parse \
                 ! splitmuxsink max-size-time=4000000000 location={}/%05d.mp4",
                folder.display()
            )
        })
        .collect();
    let bare = gst_launch_cpu(&line.join(" "), Duration::from_secs(2));
    let per = |cpu: f64| cpu / MEASURE.as_secs_f64() / 32.0 * 100.0;
    println!(
        "recording 16 main (1280x720 25 fps) + 16 sub (640x360 15 fps) H.264 streams, {} s",
        MEASURE.as_secs()
    );
    println!(
        "{:>28} {:>18} {:>8}",
        "recorder % core/stream", "gst-launch % core/stream", "ratio"
    );
    println!(
        "{:>28.2} {:>18.2} {:>8.2}",
        per(ours),
        per(bare),
        ours / bare
    );

    // Live viewers of the restream: what each adds to the recorder.
    let port = recorder.restream().expect("restream").port();
    let now = recorder::recording::now_us() / 1000;
    let ticket = |camera: &str| {
        let claims = TicketClaims {
            id: format!("bench-{camera}"),
            user: "bench".into(),
            site: "sim".into(),
            recorder: "bench".into(),
            camera: camera.into(),
            stream: StreamName::Main,
            issued_ms: now,
            expires_ms: now + 600_000,
        };
        keys::sign_token(&hub, &serde_json::to_vec(&claims).expect("claims"))
    };
    let viewers = 8;
    let mut children: Vec<std::process::Child> = (0..viewers)
        .map(|n| {
            let camera = format!("cam{:02}", n % 4 + 1);
            std::process::Command::new("gst-launch-1.0")
                .args(["-q", "rtspsrc"])
                .arg(format!("location=rtsp://127.0.0.1:{port}/{camera}/main"))
                .args(["protocols=tcp", "user-id=ticket"])
                .arg(format!("user-pw={}", ticket(&camera)))
                .args(["!", "fakesink", "sync=false"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("gst-launch-1.0")
        })
        .collect();
    std::thread::sleep(WARM_UP);
    let cpu0 = cpu_seconds("self");
    std::thread::sleep(MEASURE);
    let with_viewers = cpu_seconds("self") - cpu0;
    for child in &mut children {
        let _ = child.kill();
        let _ = child.wait();
    }
    let added = (with_viewers - ours) / MEASURE.as_secs_f64() / viewers as f64 * 100.0;
    println!(
        "{viewers} viewers of 720p main streams through the restream: +{added:.2} % core per viewer"
    );

    // Playback: request to first decoded frame, at instants across what was recorded.
    let index = recorder.index().clone();
    let video = recorder.config().video_dir();
    for window in [None, Some(2)] {
        let mut times = Vec::new();
        for n in 0..40 {
            let camera = format!("cam{:02}", n % 16 + 1);
            let segments = index
                .segments(&camera, StreamKind::Main, i64::MIN, i64::MAX)
                .expect("segments");
            let (Some(first), Some(last)) = (segments.first(), segments.last()) else {
                continue;
            };
            let at = first.start_us + (last.end_us - first.start_us) * (n as i64 % 7 + 1) / 9;
            let asked = Instant::now();
            if first_frame(&index, &video, &camera, at, window) {
                times.push(asked.elapsed());
            }
        }
        times.sort();
        let pick = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
        println!(
            "playback request to first decoded frame ({} requests, 720p main, {}): p50 {} ms, p99 {} ms",
            times.len(),
            window.map_or("the whole run".to_owned(), |n| format!(
                "a window of {n} segments"
            )),
            pick(0.5).as_millis(),
            pick(0.99).as_millis()
        );
    }
    drop(recorder);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Opens the recording at `at` and decodes until the first frame shows; whether one did.
fn first_frame(
    index: &recorder::Index,
    video: &std::path::Path,
    camera: &str,
    at: i64,
    window: Option<usize>,
) -> bool {
    let Ok(replay) = playback::replay_from(index, video, camera, StreamKind::Main, at) else {
        return false;
    };
    let replay = match window {
        Some(n) => replay.window(n),
        None => replay,
    };
    let pipeline = gst::Pipeline::new();
    let Ok(source) = replay.source() else {
        return false;
    };
    let parse = gst::ElementFactory::make("h264parse")
        .build()
        .expect("h264parse");
    let decode = gst::ElementFactory::make("avdec_h264")
        .build()
        .expect("avdec_h264");
    let sink = gst_app::AppSink::builder()
        .sync(false)
        .max_buffers(1)
        .build();
    pipeline
        .add_many([&source, &parse, &decode, sink.upcast_ref()])
        .expect("add");
    gst::Element::link_many([&parse, &decode, sink.upcast_ref()]).expect("link");
    let parse_sink = parse.static_pad("sink").expect("pad");
    source.connect_pad_added(move |_, pad| {
        if !parse_sink.is_linked() {
            let _ = pad.link(&parse_sink);
        }
    });
    let bus = pipeline.bus().expect("bus");
    let _ = pipeline.set_state(gst::State::Paused);
    let ready = bus.timed_pop_filtered(
        gst::ClockTime::from_seconds(10),
        &[gst::MessageType::AsyncDone, gst::MessageType::Error],
    );
    let shown = matches!(
        ready.as_ref().map(|m| m.view()),
        Some(gst::MessageView::AsyncDone(_))
    ) && replay.seek(&pipeline).is_ok()
        && {
            let _ = pipeline.set_state(gst::State::Playing);
            sink.try_pull_sample(gst::ClockTime::from_seconds(10))
                .is_some()
        };
    let _ = pipeline.set_state(gst::State::Null);
    shown
}
