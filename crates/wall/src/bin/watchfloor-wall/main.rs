//! `watchfloor-wall`: the video wall from the command line.
//!
//! `watchfloor-wall snapshot --layout 4x4 --out wall.png [--size WxH] URL...` renders offscreen
//! once every tile has a frame (or the timeout passes) and writes a PNG.
//! `watchfloor-wall show --layout 4x4 URL...` opens a window; drawing runs on its own thread.

mod show;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use media::{
    AdaptivePolicy, AdaptiveStream, Credentials, EngineSettings, MediaEngine, StreamSettings,
};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use wall::{Gpu, LiveTile, LiveWall, OffscreenTarget, Preset, WallLayout, WallRenderer};

#[derive(Debug, Parser)]
#[command(name = "watchfloor-wall", version, about = "The Watchfloor video wall")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Render the wall offscreen once every tile has a frame, and write a PNG.
    Snapshot {
        #[command(flatten)]
        wall: WallArgs,
        /// Where to write the PNG.
        #[arg(long)]
        out: PathBuf,
        /// Image size, WIDTHxHEIGHT.
        #[arg(long, default_value = "1920x1080")]
        size: String,
        /// Give up waiting for frames after this many seconds and draw what there is.
        #[arg(long, default_value_t = 15.0)]
        timeout: f64,
    },
    /// Print every layout preset and its tiles as JSON (what the console shows).
    Presets,
    /// Open a window showing the wall. Keys: arrows or 1-9 select a tile, Enter maximises and
    /// restores it, H shows stream health, F toggles full screen, Esc or Q closes.
    Show {
        #[command(flatten)]
        wall: WallArgs,
        /// Close after this many seconds (for scripted runs).
        #[arg(long)]
        seconds: Option<f64>,
    },
}

#[derive(Debug, clap::Args)]
struct WallArgs {
    /// Layout: 1, 2x2, 3x3, 4x4, 5x5, 6x6, 8x8, 1+5, 1+7, 2+8, 1+12, or a custom layout JSON file.
    #[arg(long, default_value = "4x4")]
    layout: String,
    /// RTSP user name.
    #[arg(long)]
    user: Option<String>,
    /// Name of the environment variable that holds the RTSP password.
    #[arg(long, value_name = "VAR", requires = "user")]
    password_env: Option<String>,
    /// Show each tile's fps, bitrate and latency.
    #[arg(long)]
    health: bool,
    /// A simulator's control API (http://HOST:PORT): its cameras fill the tiles, by name, each
    /// on its sub-stream while small and its main stream when big.
    #[arg(long, value_name = "URL", conflicts_with = "urls")]
    sim: Option<String>,
    /// Streams, one per tile in order.
    #[arg(required_unless_present = "sim")]
    urls: Vec<String>,
}

/// One camera as the simulator lists it: name, main and sub-stream URLs, sub-stream height.
struct ListedCamera {
    name: String,
    main: String,
    sub: String,
    sub_height: u32,
}

/// Reads the simulator's listing (`GET /api/v1/site`), waiting up to ten seconds for it to start.
fn sim_cameras(control: &str) -> Result<Vec<ListedCamera>> {
    use std::io::{Read, Write};
    let address = control
        .strip_prefix("http://")
        .context("--sim takes http://HOST:PORT (the simulator's control API)")?
        .trim_end_matches('/');
    let started = Instant::now();
    let body = loop {
        let attempt = (|| -> std::io::Result<String> {
            let mut stream = std::net::TcpStream::connect(address)?;
            stream.set_read_timeout(Some(Duration::from_secs(5)))?;
            write!(
                stream,
                "GET /api/v1/site HTTP/1.0\r\nHost: {address}\r\n\r\n"
            )?;
            let mut response = String::new();
            stream.read_to_string(&mut response)?;
            Ok(response)
        })();
        match attempt {
            Ok(response) => match response.split_once("\r\n\r\n") {
                Some((head, body))
                    if head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200") =>
                {
                    break body.to_owned();
                }
                _ => bail!(
                    "the simulator at {control} answered: {}",
                    response.lines().next().unwrap_or("")
                ),
            },
            Err(error) if started.elapsed() < Duration::from_secs(10) => {
                tracing::debug!(%error, "simulator not up yet");
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(error) => bail!("cannot reach the simulator at {control}: {error}"),
        }
    };
    let listing: serde_json::Value =
        serde_json::from_str(&body).context("the simulator's listing is not JSON")?;
    let cameras = listing["cameras"]
        .as_array()
        .context("the listing has no cameras")?;
    cameras
        .iter()
        .map(|camera| {
            let stream = |kind: &str| {
                camera["streams"]
                    .as_array()
                    .and_then(|s| s.iter().find(|s| s["kind"] == kind))
                    .context("a camera without its streams")
            };
            let (main, sub) = (stream("main")?, stream("sub")?);
            Ok(ListedCamera {
                name: camera["name"].as_str().unwrap_or_default().to_owned(),
                main: main["url"]
                    .as_str()
                    .context("a stream without a URL")?
                    .to_owned(),
                sub: sub["url"]
                    .as_str()
                    .context("a stream without a URL")?
                    .to_owned(),
                sub_height: sub["height"].as_u64().unwrap_or(360) as u32,
            })
        })
        .collect()
}

fn main() -> Result<()> {
    logging::init("warn");
    match Args::parse().command {
        Command::Snapshot {
            wall,
            out,
            size,
            timeout,
        } => snapshot(
            &wall,
            &out,
            &size,
            Duration::try_from_secs_f64(timeout).context("--timeout takes a number of seconds")?,
        ),
        Command::Presets => {
            print!("{}", wall::layout::presets_json());
            Ok(())
        }
        Command::Show { wall, seconds } => {
            let live = open_wall(&wall)?;
            let seconds = seconds
                .map(Duration::try_from_secs_f64)
                .transpose()
                .context("--seconds takes a number of seconds")?;
            show::run(live, seconds)
        }
    }
}

fn parse_size(size: &str) -> Result<(u32, u32)> {
    let (w, h) = size.split_once('x').context("--size takes WIDTHxHEIGHT")?;
    let (w, h): (u32, u32) = (w.parse()?, h.parse()?);
    if !(16..=8192).contains(&w) || !(16..=8192).contains(&h) {
        bail!("--size must be between 16x16 and 8192x8192");
    }
    Ok((w, h))
}

fn layout(spec: &str) -> Result<WallLayout> {
    match spec.parse::<Preset>() {
        Ok(preset) => Ok(WallLayout::preset(preset)),
        Err(preset_error) => {
            let path = std::path::Path::new(spec);
            if !path.exists() {
                return Err(preset_error.into());
            }
            let json =
                std::fs::read_to_string(path).with_context(|| format!("cannot read {spec}"))?;
            Ok(WallLayout::from_json(&json)?)
        }
    }
}

fn open_wall(args: &WallArgs) -> Result<LiveWall> {
    let layout = layout(&args.layout)?;
    if args.urls.len() > layout.tiles.len() {
        bail!(
            "{} streams for a layout of {} tiles",
            args.urls.len(),
            layout.tiles.len()
        );
    }
    let credentials = match (&args.user, &args.password_env) {
        (Some(user), Some(var)) => Some(Credentials {
            user: user.clone(),
            password: std::env::var(var).with_context(|| format!("${var} is not set"))?,
        }),
        (Some(user), None) => Some(Credentials {
            user: user.clone(),
            password: String::new(),
        }),
        _ => None,
    };
    let engine = MediaEngine::new(EngineSettings::default())?;
    let mut wall = LiveWall::new(layout);
    if let Some(control) = &args.sim {
        let count = wall.layout.tiles.len();
        for (index, camera) in sim_cameras(control)?.into_iter().take(count).enumerate() {
            let settings = |url: String| {
                let mut settings = StreamSettings::new(url);
                settings.credentials = credentials.clone();
                settings
            };
            let adaptive = AdaptiveStream::new(
                &engine,
                settings(camera.main),
                Some(settings(camera.sub)),
                AdaptivePolicy::for_sub_height(camera.sub_height),
            );
            let mut tile = LiveTile::new(camera.name, adaptive);
            tile.show_health = args.health;
            wall.set_tile(index, tile);
        }
        return Ok(wall);
    }
    for (index, url) in args.urls.iter().enumerate() {
        let mut settings = StreamSettings::new(url.clone());
        settings.credentials = credentials.clone();
        let name = url::Url::parse(url)
            .map(|u| u.path().trim_start_matches('/').to_owned())
            .unwrap_or_else(|_| format!("tile {}", index + 1));
        let mut tile = LiveTile::new(name, AdaptiveStream::fixed(&engine, engine.open(settings)?));
        tile.show_health = args.health;
        wall.set_tile(index, tile);
    }
    Ok(wall)
}

/// How long a snapshot waits after every tile has its first frame.
const SETTLE: Duration = Duration::from_secs(1);

fn snapshot(args: &WallArgs, out: &std::path::Path, size: &str, timeout: Duration) -> Result<()> {
    let (width, height) = parse_size(size)?;
    let gpu = Gpu::headless()?;
    eprintln!(
        "rendering on {} ({:?})",
        gpu.adapter.name, gpu.adapter.backend
    );
    let mut renderer = WallRenderer::new(&gpu, wall::renderer::TARGET_FORMAT)?;
    let target = OffscreenTarget::new(&gpu, width, height);
    let mut wall = open_wall(args)?;
    let started = Instant::now();
    let mut all_since: Option<Instant> = None;
    loop {
        wall.render(&mut renderer, target.view(), width, height)?;
        if wall.tiles.iter().flatten().all(LiveTile::has_shown) {
            // A camera's first picture after joining is a key frame squeezed into the
            // bitrate, often soft: let every stream settle before the picture is taken.
            if all_since.get_or_insert_with(Instant::now).elapsed() >= SETTLE {
                break;
            }
        } else if started.elapsed() > timeout {
            eprintln!(
                "timed out after {:.0} s; drawing the tiles that have frames",
                timeout.as_secs_f64()
            );
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // One more pass so every badge shows the final state.
    wall.render(&mut renderer, target.view(), width, height)?;
    let image = target.read(&gpu)?;
    image.save_png(out)?;
    for tile in wall.tiles.iter().flatten() {
        let Some(health) = tile.camera.current().map(|s| s.health()) else {
            continue;
        };
        eprintln!(
            "{:<24} {:<12} {} frames",
            tile.name,
            health.state.name(),
            health.frames
        );
    }
    eprintln!("wrote {} ({width}x{height})", out.display());
    Ok(())
}
