//! What the benchmarks share: the simulator as a process of its own (so its encoders are not
//! charged to the side measured), CPU time read from /proc, the media engine decoding a set of
//! streams, and `gst-launch-1.0` measured from outside. The wall's benchmark includes this file
//! too (`#[path]`), so both measure the same way.

#![allow(dead_code)] // Each benchmark uses its own part of this.

use media::{MediaEngine, Stream, StreamSettings, StreamState};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub const WARM_UP: Duration = Duration::from_secs(3);
pub const MEASURE: Duration = Duration::from_secs(10);
pub const SUB_FPS: f64 = 15.0;

/// CPU seconds (user + system) a process has used, from /proc (`"self"` for this one).
pub fn cpu_seconds(pid: &str) -> f64 {
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

/// `watchfloor-sim` with 16 cameras, running until dropped, and the listing it printed.
pub struct Simulator(Child, serde_json::Value);

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Simulator {
    /// Starts the simulator built beside this benchmark (`cargo xtask bench` builds it).
    pub fn start() -> Self {
        let exe = std::env::current_exe().expect("bench path");
        // target/<profile>/deps/<bench>-HASH → target/<profile>/watchfloor-sim
        let sim = exe
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

    /// The main-stream URLs of the first `n` cameras.
    pub fn main_urls(&self, n: usize) -> Vec<String> {
        self.1["cameras"]
            .as_array()
            .expect("cameras")
            .iter()
            .take(n)
            .map(|c| c["streams"][0]["url"].as_str().expect("url").to_owned())
            .collect()
    }

    /// The sub-stream URLs of the first `n` cameras.
    pub fn sub_urls(&self, n: usize) -> Vec<String> {
        self.1["cameras"]
            .as_array()
            .expect("cameras")
            .iter()
            .take(n)
            .map(|c| c["streams"][1]["url"].as_str().expect("url").to_owned())
            .collect()
    }
}

/// Waits until every stream is live.
pub fn wait_live(streams: &[&Stream]) {
    let start = Instant::now();
    while !streams.iter().all(|s| s.state() == StreamState::Live) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "streams did not go live"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The media engine decoding `urls`, every frame taken as it comes: CPU seconds of this
/// process over the measuring window, and frames decoded in it.
pub fn decode(engine: &MediaEngine, urls: &[String]) -> (f64, u64) {
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
    wait_live(&streams.iter().collect::<Vec<_>>());
    std::thread::sleep(WARM_UP);
    let (cpu0, f0) = (cpu_seconds("self"), frames.load(Ordering::Relaxed));
    std::thread::sleep(MEASURE);
    let (cpu1, f1) = (cpu_seconds("self"), frames.load(Ordering::Relaxed));
    (cpu1 - cpu0, f1 - f0)
}

/// `gst-launch-1.0 -q LINE`: its CPU seconds over the measuring window, which starts `settle`
/// after the warm-up. Fails if the pipeline stopped before the end.
pub fn gst_launch_cpu(line: &str, settle: Duration) -> f64 {
    let mut child = Command::new("gst-launch-1.0")
        .arg("-q")
        .args(line.split_whitespace())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("gst-launch-1.0 (install gstreamer1.0-tools)");
    let pid = child.id().to_string();
    std::thread::sleep(WARM_UP + settle);
    let cpu0 = cpu_seconds(&pid);
    std::thread::sleep(MEASURE);
    let cpu1 = cpu_seconds(&pid);
    let alive = child.try_wait().ok().flatten().is_none();
    let _ = child.kill();
    let _ = child.wait();
    assert!(alive, "the gst-launch-1.0 pipeline failed to run: {line}");
    cpu1 - cpu0
}

/// The bare decode chain the engine builds, for one stream, as a launch-line fragment that ends
/// in `sink`.
pub fn bare_chain(url: &str, sink: &str) -> String {
    format!(
        "rtspsrc location={url} protocols=tcp latency=50 ! rtph264depay ! h264parse \
         ! avdec_h264 max-threads=1 ! {sink}"
    )
}
