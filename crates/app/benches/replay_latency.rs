//! Benchmark: how long an operator waits for a picture, from one run, side by side:
//! - **live**: a camera put on an empty tile, to its first frame on the wall;
//! - **replay**: instant replay asked of a live tile (the last 30 s), to the first recorded
//!   frame on the wall (the live picture stays until then);
//! - **back to live**: a replaying tile back to live, to its first live frame.
//!
//! The real path, on loopback: a real hub issues each stream ticket over HTTPS, a real recorder
//! restreams and replays the simulator's cameras (ONVIF replay over RTSP), the media engine
//! decodes, and the wall composites offscreen (lavapipe without a GPU). What is left out is
//! the console's IPC call (a millisecond). Prints p50 and p99 of each, and the ratios.
//! Run with `cargo bench --profile dev -p app --bench replay_latency`.

use app::cameras::KnownCamera;
use app::walls::{TicketFetcher, live_tile, replay_tile};
use contract::Role;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use wall::{Gpu, LiveWall, OffscreenTarget, Preset, WallLayout, WallRenderer};

const PASSWORD: &str = "bench-guard-password";
const ROUNDS: usize = 20;
const SIZE: (u32, u32) = (640, 360);

fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

fn percentile(samples: &[f64], p: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(at).copied().unwrap_or(f64::NAN)
}

/// Draws the wall until `done` says the tile shows what was asked; the time it took, in ms.
fn until_shown(
    live: &mut LiveWall,
    renderer: &mut WallRenderer,
    target: &OffscreenTarget,
    asked: Instant,
    done: impl Fn(&LiveWall) -> bool,
) -> f64 {
    let signal = live.signal();
    loop {
        live.render(renderer, target.view(), SIZE.0, SIZE.1)
            .expect("render");
        if done(live) {
            return asked.elapsed().as_secs_f64() * 1000.0;
        }
        assert!(
            asked.elapsed() < Duration::from_secs(20),
            "no picture within 20 s"
        );
        signal.wait(Duration::from_millis(5));
    }
}

fn main() {
    hub::serve::install_crypto();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let data = testkit::scratch("replay-latency");
    let site = runtime.block_on(
        testsite::DemoHub::builder(testsite::tls_config(
            &data,
            "127.0.0.1:0".parse().expect("addr"),
        ))
        .user("guard", PASSWORD, testsite::SITE, Role::Guard)
        .recorder()
        .start(),
    );
    let recorder_port = site
        .recorder
        .as_ref()
        .and_then(|r| r.restream())
        .expect("the recorder's restream")
        .port();
    let client =
        app::hub_client::HubClient::new(&site.running.url, site.running.certificate.as_deref())
            .expect("client");
    let session = runtime
        .block_on(client.sign_in("guard", PASSWORD))
        .expect("sign in");
    let handle = runtime.handle().clone();
    let tickets: TicketFetcher = Arc::new(move |site, camera, stream, mode| {
        handle
            .block_on(client.stream_ticket(&session.token, site, camera, stream, mode))
            .map(|t| media::Credentials {
                user: t.user,
                password: t.ticket,
            })
            .map_err(|e| e.to_string())
    });
    let sim = site.sim.as_ref().expect("the simulator");
    let listing = sim.listing();
    let cam = listing
        .cameras
        .iter()
        .find(|c| c.id == "cam01")
        .expect("cam01");
    let url = |kind: sim::StreamKind| {
        cam.streams
            .iter()
            .find(|s| s.kind == kind)
            .map(|s| s.url.clone())
            .unwrap_or_default()
    };
    let camera = KnownCamera {
        id: "cam01".into(),
        floor: "f1".into(),
        name: "cam01".into(),
        main_url: url(sim::StreamKind::Main),
        sub_url: url(sim::StreamKind::Sub),
        credential_ref: None,
        site: testsite::SITE.into(),
        recorder_url: Some(format!("rtsp://127.0.0.1:{recorder_port}")),
        doors: vec![],
    };
    let engine = media::MediaEngine::new(Default::default()).expect("engine");
    let gpu = Gpu::headless().expect("adapter");
    let adapter = format!("{} ({:?})", gpu.adapter.name, gpu.adapter.backend);
    let mut renderer = WallRenderer::new(&gpu, wall::renderer::TARGET_FORMAT).expect("renderer");
    let target = OffscreenTarget::new(&gpu, SIZE.0, SIZE.1);
    let mut live = LiveWall::new(WallLayout::preset(Preset::Grid(1)));
    // 35 s recorded before the first replay of the last 30 s.
    std::thread::sleep(Duration::from_secs(35));

    let (mut opened, mut replayed, mut back) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        // A camera onto an empty tile.
        live.remove_tile(0);
        live.render(&mut renderer, target.view(), SIZE.0, SIZE.1)
            .expect("render");
        let asked = Instant::now();
        live.set_tile(0, live_tile(&engine, &camera, None, Some(&tickets)));
        opened.push(until_shown(&mut live, &mut renderer, &target, asked, |w| {
            w.tiles[0].as_ref().is_some_and(|t| t.has_shown())
        }));
        // Let the live picture run a moment, then instant replay.
        std::thread::sleep(Duration::from_millis(500));
        let asked = Instant::now();
        let tile = replay_tile(
            &engine,
            &camera,
            Some(&tickets),
            now_us() - 30_000_000,
            &[contract::StreamName::Sub],
            None,
        )
        .expect("a recorded camera");
        live.switch_tile(0, tile);
        replayed.push(until_shown(&mut live, &mut renderer, &target, asked, |w| {
            w.tiles[0]
                .as_ref()
                .and_then(|t| t.replay)
                .is_some_and(|r| r.first.is_some())
        }));
        std::thread::sleep(Duration::from_millis(500));
        let asked = Instant::now();
        live.switch_tile(0, live_tile(&engine, &camera, None, Some(&tickets)));
        back.push(until_shown(&mut live, &mut renderer, &target, asked, |w| {
            w.tiles[0]
                .as_ref()
                .is_some_and(|t| t.replay.is_none() && t.has_shown())
        }));
        eprintln!(
            "round {round}: live {:.0} ms, replay {:.0} ms, back to live {:.0} ms",
            opened[round], replayed[round], back[round]
        );
    }
    let row = |name: &str, samples: &[f64]| {
        println!(
            "{name:<34} p50 {:>6.0} ms   p99 {:>6.0} ms",
            percentile(samples, 0.5),
            percentile(samples, 0.99)
        );
    };
    println!("\nreplay_latency: {ROUNDS} rounds on loopback, wall on {adapter}");
    row("camera onto a tile -> first frame", &opened);
    row("replay key -> first recorded frame", &replayed);
    row("live key -> first live frame", &back);
    println!(
        "replay / live (p50): {:.2}   back to live / live (p50): {:.2}   (goal: replay p50 <= 300 ms)",
        percentile(&replayed, 0.5) / percentile(&opened, 0.5),
        percentile(&back, 0.5) / percentile(&opened, 0.5)
    );
}
