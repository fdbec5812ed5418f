//! Benchmark: CPU time per decoded frame, this crate against a bare `gst-launch-1.0` decoding
//! the same simulator sub-streams to `fakesink`, for 1, 4 and 16 streams, printed side by side
//! from one run. Run with `cargo xtask bench` (it builds the simulator first).
//!
//! The simulator runs as its own process so that its encoders are not charged to either side.

mod support;

use media::{EngineSettings, MediaEngine};
use std::time::Duration;
use support::{MEASURE, SUB_FPS, Simulator, bare_chain, decode, gst_launch_cpu};

fn main() {
    let sim = Simulator::start();
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
        let urls = sim.sub_urls(n);
        let (cpu, decoded) = decode(&engine, &urls);
        let ours_ms = cpu * 1000.0 / decoded.max(1) as f64;
        let line: Vec<String> = urls
            .iter()
            .map(|url| bare_chain(url, "fakesink sync=false"))
            .collect();
        let nominal = SUB_FPS * MEASURE.as_secs_f64() * urls.len() as f64;
        let bare_ms = gst_launch_cpu(&line.join(" "), Duration::from_secs(1)) * 1000.0 / nominal;
        println!(
            "{n:>8} {ours_ms:>16.3} {decoded:>14} {bare_ms:>18.3} {:>8.2}",
            ours_ms / bare_ms
        );
    }
}
