//! Benchmark: what the recorder costs, printed side by side from one run.
//!
//! - CPU per recorded stream, recording the 16 main and 16 sub-streams of the simulator,
//!   beside a bare `gst-launch-1.0 rtspsrc ! depay ! parse ! splitmuxsink` of the same streams
//!   (goal: at most 1.2×);
//! - CPU the recorder adds per live viewer of its restream (viewers are `gst-launch-1.0`
//!   processes of their own, receiving without decoding);
//! - the time from a playback request to the first decoded frame (p50, p99; goal p50 ≤ 300 ms),
//!   through the ONVIF replay as a client sees it: opening a session, and a `PLAY` to an
//!   instant.
//!
//! The simulator runs as its own process (its encoders are charged to no side). Run with
//! `cargo xtask bench`, which builds the simulator first.

#[path = "../../media/benches/support/mod.rs"]
mod support;

use contract::{StreamMode, StreamName, TicketClaims};
use gst::prelude::*;
use recorder::{Config, Recorder, StreamKind};
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
    let ticket = |camera: &str, mode: StreamMode| {
        let claims = TicketClaims {
            id: format!("bench-{camera}"),
            user: "bench".into(),
            site: "sim".into(),
            recorder: "bench".into(),
            camera: camera.into(),
            stream: StreamName::Main,
            mode,
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
                .arg(format!("user-pw={}", ticket(&camera, StreamMode::Live)))
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

    // Playback through the ONVIF replay, as a client asks for it: a new session (DESCRIBE,
    // SETUP, PLAY) to its first decoded frame, then `PLAY` with `Range: clock=` to an instant
    // across what was recorded, to the first decoded frame of it.
    let index = recorder.index().clone();
    let (mut opens, mut seeks) = (Vec::new(), Vec::new());
    for n in 0..40 {
        let camera = format!("cam{:02}", n % 16 + 1);
        let segments = index
            .segments(&camera, StreamKind::Main, i64::MIN, i64::MAX)
            .expect("segments");
        let (Some(first), Some(last)) = (segments.first(), segments.last()) else {
            continue;
        };
        let at = first.start_us + (last.end_us - first.start_us) * (n as i64 % 7 + 1) / 9;
        let ticket = ticket(&camera, StreamMode::Replay);
        if let Some((open, seek)) = replay_timings(port, &camera, &ticket, at) {
            opens.push(open);
            seeks.push(seek);
        }
    }
    for (what, mut times) in [
        ("open (DESCRIBE, SETUP, PLAY)", opens),
        ("PLAY Range: clock=<instant>", seeks),
    ] {
        if times.is_empty() {
            println!("replay over RTSP, {what}: no frame at all");
            continue;
        }
        times.sort();
        let pick = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
        println!(
            "replay over RTSP, {what} to first decoded frame ({} requests, 720p main): p50 {} ms, p99 {} ms",
            times.len(),
            pick(0.5).as_millis(),
            pick(0.99).as_millis()
        );
    }
    drop(recorder);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A replay client (GStreamer's ONVIF client, decoding): how long its first frame took from
/// opening, and from a `PLAY` to `at` once playing; `None` when either never came.
fn replay_timings(port: u16, camera: &str, ticket: &str, at: i64) -> Option<(Duration, Duration)> {
    let pipeline = gst::parse::launch(&format!(
        "rtspsrc onvif-mode=true latency=0 location=rtsp://127.0.0.1:{port}/{camera}/main/replay \
           user-id=ticket user-pw={ticket} \
         ! rtph264depay ! h264parse ! avdec_h264 ! appsink name=sink sync=false max-buffers=4"
    ))
    .ok()?
    .downcast::<gst::Pipeline>()
    .ok()?;
    let sink = pipeline
        .by_name("sink")?
        .downcast::<gst_app::AppSink>()
        .ok()?;
    let timeout = gst::ClockTime::from_seconds(10);
    let opened = Instant::now();
    let timings = (|| {
        pipeline.set_state(gst::State::Playing).ok()?;
        sink.try_pull_sample(timeout)?;
        let open = opened.elapsed();
        // Playing for a moment first: `rtspsrc` sends no seek before its first PLAY's answer.
        let _ = pipeline.state(timeout);
        for _ in 0..3 {
            sink.try_pull_sample(timeout)?;
        }
        let asked = Instant::now();
        pipeline
            .seek(
                1.0,
                gst::SeekFlags::FLUSH,
                gst::SeekType::Set,
                gst::ClockTime::from_nseconds(recorder::replay::ntp_ns_of_unix_us(at)),
                gst::SeekType::None,
                gst::ClockTime::NONE,
            )
            .ok()?;
        sink.try_pull_sample(timeout)?;
        Some((open, asked.elapsed()))
    })();
    let _ = pipeline.set_state(gst::State::Null);
    timings
}
