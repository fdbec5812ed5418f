//! Benchmark: what a 4x4 wall of simulator sub-streams costs, from one run, side by side:
//! - bare decoding of the 16 streams (the media engine, frames taken and dropped);
//! - the wall: the same streams composited offscreen at 1920x1080, drawing driven by change
//!   (only tiles with a new frame), at most 60 times a second;
//! - `gst-launch-1.0` decoding the same streams into GStreamer's `compositor` at 1920x1080.
//!
//! Prints CPU per camera frame for each and the ratios, and the wall's decode-to-composite
//! latency (p50, p99) with the adapter it ran on. The simulator runs as its own process.
//! Run with `cargo xtask bench`.

#[path = "../../media/benches/support/mod.rs"]
mod support;

use media::{AdaptiveStream, EngineSettings, MediaEngine, StreamSettings};
use std::time::{Duration, Instant};
use support::{
    MEASURE, SUB_FPS, Simulator, WARM_UP, bare_chain, cpu_seconds, decode, gst_launch_cpu,
};
use wall::{Gpu, LiveTile, LiveWall, OffscreenTarget, Preset, WallLayout, WallRenderer};

const STREAMS: usize = 16;
const SIZE: (u32, u32) = (1920, 1080);

/// The wall: CPU seconds over the window, frames composited, latencies in ms, adapter.
fn wall(engine: &MediaEngine, urls: &[String]) -> (f64, u64, Vec<f64>, String) {
    let gpu = Gpu::headless().expect("adapter");
    let adapter = format!("{} ({:?})", gpu.adapter.name, gpu.adapter.backend);
    let mut renderer = WallRenderer::new(&gpu, wall::renderer::TARGET_FORMAT).expect("renderer");
    let target = OffscreenTarget::new(&gpu, SIZE.0, SIZE.1);
    let mut live = LiveWall::new(WallLayout::preset(Preset::Grid(4)));
    for (index, url) in urls.iter().enumerate() {
        let stream = engine.open(StreamSettings::new(url.clone())).expect("open");
        live.set_tile(
            index,
            LiveTile::new(
                format!("cam{:02}", index + 1),
                AdaptiveStream::fixed(engine, stream),
            ),
        );
    }
    let signal = live.signal();
    let frame_interval = Duration::from_secs_f64(1.0 / 60.0);
    let start = Instant::now();
    let mut measuring: Option<(f64, Instant)> = None;
    let (mut frames, mut latencies) = (0u64, Vec::new());
    let mut last_draw = Instant::now() - frame_interval;
    loop {
        if measuring.is_none() && start.elapsed() > WARM_UP + Duration::from_secs(2) {
            measuring = Some((cpu_seconds("self"), Instant::now()));
        }
        if let Some((cpu0, since)) = measuring
            && since.elapsed() >= MEASURE
        {
            return (cpu_seconds("self") - cpu0, frames, latencies, adapter);
        }
        if !signal.wait(Duration::from_millis(100)) {
            continue;
        }
        // Cap the redraw rate at the display's (60 Hz): gather what arrives meanwhile.
        let since = last_draw.elapsed();
        if since < frame_interval {
            std::thread::sleep(frame_interval - since);
        }
        last_draw = Instant::now();
        let drawn = live
            .render(&mut renderer, target.view(), SIZE.0, SIZE.1)
            .expect("render");
        gpu.device
            .poll(wgpu::PollType::Wait {
                submission_index: None,
                timeout: None,
            })
            .expect("gpu");
        if measuring.is_some() {
            let done = Instant::now();
            frames += drawn.decoded_at.len() as u64;
            latencies.extend(
                drawn
                    .decoded_at
                    .iter()
                    .map(|d| (done - *d).as_secs_f64() * 1000.0),
            );
        }
    }
}

/// GStreamer's compositor producing the same grid: CPU seconds over the window.
fn compositor(urls: &[String]) -> f64 {
    let (tw, th) = (SIZE.0 / 4, SIZE.1 / 4);
    let pads: Vec<String> = (0..urls.len() as u32)
        .map(|i| {
            let (x, y) = ((i % 4) * tw, (i / 4) * th);
            format!(
                "sink_{i}::xpos={x} sink_{i}::ypos={y} sink_{i}::width={tw} sink_{i}::height={th}"
            )
        })
        .collect();
    let mut line = format!(
        "compositor name=mix background=black {} ! video/x-raw,width={},height={},framerate=15/1 ! fakesink sync=false",
        pads.join(" "),
        SIZE.0,
        SIZE.1
    );
    for (i, url) in urls.iter().enumerate() {
        line.push(' ');
        line.push_str(&bare_chain(url, &format!("mix.sink_{i}")));
    }
    gst_launch_cpu(&line, Duration::from_secs(2))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let sim = Simulator::start();
    let urls = sim.sub_urls(STREAMS);
    let engine = MediaEngine::new(EngineSettings::default()).expect("gstreamer");
    let nominal = SUB_FPS * MEASURE.as_secs_f64() * STREAMS as f64;
    let (bare_cpu, bare_frames) = decode(&engine, &urls);
    let (wall_cpu, wall_frames, mut latencies, adapter) = wall(&engine, &urls);
    let comp_cpu = compositor(&urls);
    let per = |cpu: f64, frames: f64| cpu * 1000.0 / frames;
    let bare_ms = per(bare_cpu, bare_frames as f64);
    let wall_ms = per(wall_cpu, wall_frames.max(1) as f64);
    let comp_ms = per(comp_cpu, nominal);
    println!(
        "4x4 wall of 640x360 H.264 sub-streams at 15 fps, {}x{}, {} s each, rendering on {adapter}",
        SIZE.0,
        SIZE.1,
        MEASURE.as_secs()
    );
    println!(
        "{:<34} {:>10} {:>14} {:>10} {:>12}",
        "", "CPU s/s", "camera frames", "ms/frame", "vs bare"
    );
    println!(
        "{:<34} {:>10.2} {:>14} {:>10.3} {:>12.2}",
        "bare decode (media engine)",
        bare_cpu / MEASURE.as_secs_f64(),
        bare_frames,
        bare_ms,
        1.0
    );
    println!(
        "{:<34} {:>10.2} {:>14} {:>10.3} {:>12.2}",
        "wall (decode + composite)",
        wall_cpu / MEASURE.as_secs_f64(),
        wall_frames,
        wall_ms,
        wall_ms / bare_ms
    );
    println!(
        "{:<34} {:>10.2} {:>14} {:>10.3} {:>12.2}",
        "gst-launch-1.0 compositor",
        comp_cpu / MEASURE.as_secs_f64(),
        format!("~{nominal:.0}"),
        comp_ms,
        comp_ms / bare_ms
    );
    println!("wall / compositor: {:.2}", wall_ms / comp_ms);
    latencies.sort_by(f64::total_cmp);
    if !latencies.is_empty() {
        println!(
            "decode-to-composite latency over {} frames: p50 {:.1} ms, p99 {:.1} ms",
            latencies.len(),
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99)
        );
    }
}
