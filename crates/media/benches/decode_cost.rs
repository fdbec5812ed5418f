//! Benchmark: CPU time per decoded frame, this crate against a bare `gst-launch-1.0` decoding
//! the same simulator sub-streams to `fakesink`, for 1, 4 and 16 streams, printed side by side
//! from one run. Run with `cargo xtask bench` (it builds the simulator first).
//!
//! The simulator runs as its own process so that its encoders are not charged to either side.

use media::{EngineSettings, MediaEngine, StreamSettings, StreamState};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const WARM_UP: Duration = Duration::from_secs(3);
const MEASURE: Duration = Duration::from_secs(10);
const SUB_FPS: f64 = 15.0;

/// CPU seconds (user + system) a process has used, from /proc.
fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name.
    (ticks(11) + ticks(12)) / clock_ticks()
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

struct Simulator(Child, serde_json::Value);

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn simulator() -> Simulator {
    let exe = std::env::current_exe().expect("bench path");
    // target/<profile>/deps/decode_cost-HASH → target/<profile>/watchfloor-sim
    let sim: PathBuf = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(|dir| dir.join("watchfloor-sim"))
        .expect("target folder");
    let mut child = Command::new(&sim)
        .args([
            "--cameras",
            "16",
            "--json",
            "--rtsp-port",
            "0",
            "--control-port",
            "0",
        ])
        .args(["--swipes-per-minute", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start {} (run `cargo xtask bench`): {e}",
                sim.display()
            )
        });
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("listing");
    Simulator(child, serde_json::from_str(&line).expect("listing JSON"))
}

fn sub_urls(sim: &Simulator, n: usize) -> Vec<String> {
    sim.1["cameras"]
        .as_array()
        .expect("cameras")
        .iter()
        .take(n)
        .map(|c| c["streams"][1]["url"].as_str().expect("url").to_owned())
        .collect()
}

/// Our engine: returns (CPU ms per decoded frame, frames decoded).
fn ours(engine: &MediaEngine, urls: &[String]) -> (f64, u64) {
    let frames = Arc::new(AtomicU64::new(0));
    let streams: Vec<_> = urls
        .iter()
        .map(|url| {
            let stream = engine.open(StreamSettings::new(url.clone())).expect("open");
            let slot = Arc::downgrade(stream.slot());
            let frames = frames.clone();
            stream.slot().set_waker(Some(Arc::new(move || {
                if slot.upgrade().and_then(|s| s.take()).is_some() {
                    frames.fetch_add(1, Ordering::Relaxed);
                }
            })));
            stream
        })
        .collect();
    let start = Instant::now();
    while !streams.iter().all(|s| s.state() == StreamState::Live) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "streams did not go live"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(WARM_UP);
    let (cpu0, frames0) = (cpu_seconds("self"), frames.load(Ordering::Relaxed));
    std::thread::sleep(MEASURE);
    let (cpu1, frames1) = (cpu_seconds("self"), frames.load(Ordering::Relaxed));
    drop(streams);
    let decoded = frames1 - frames0;
    ((cpu1 - cpu0) * 1000.0 / decoded.max(1) as f64, decoded)
}

/// Bare gst-launch-1.0 with the same elements: CPU ms per frame at the streams' nominal rate.
fn bare(urls: &[String]) -> f64 {
    let mut args = vec!["-q".to_owned()];
    for url in urls {
        args.extend(
            format!(
                "rtspsrc location={url} protocols=tcp latency=50 ! rtph264depay ! h264parse \
                 ! avdec_h264 max-threads=1 ! fakesink sync=false"
            )
            .split_whitespace()
            .map(str::to_owned),
        );
    }
    let mut child = Command::new("gst-launch-1.0")
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("gst-launch-1.0 (install gstreamer1.0-tools)");
    let pid = child.id().to_string();
    std::thread::sleep(WARM_UP + Duration::from_secs(1));
    let cpu0 = cpu_seconds(&pid);
    std::thread::sleep(MEASURE);
    let cpu1 = cpu_seconds(&pid);
    let _ = child.kill();
    let _ = child.wait();
    let frames = SUB_FPS * MEASURE.as_secs_f64() * urls.len() as f64;
    (cpu1 - cpu0) * 1000.0 / frames
}

fn main() {
    let sim = simulator();
    let engine = MediaEngine::new(EngineSettings::default()).expect("gstreamer");
    println!(
        "decode cost per frame, 640x360 H.264 sub-streams at 15 fps, {} s each",
        MEASURE.as_secs()
    );
    println!(
        "{:>8} {:>16} {:>14} {:>18} {:>8}",
        "streams", "watchfloor ms", "frames", "gst-launch ms", "ratio"
    );
    for n in [1usize, 4, 16] {
        let urls = sub_urls(&sim, n);
        let (ours_ms, decoded) = ours(&engine, &urls);
        let bare_ms = bare(&urls);
        println!(
            "{n:>8} {ours_ms:>16.3} {decoded:>14} {bare_ms:>18.3} {:>8.2}",
            ours_ms / bare_ms
        );
    }
}
