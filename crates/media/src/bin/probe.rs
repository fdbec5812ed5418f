//! `watchfloor-probe`: opens camera streams and prints their health once a second.

use anyhow::{Context, Result, bail};
use clap::Parser;
use media::{Credentials, DecoderChoice, EngineSettings, MediaEngine, StreamSettings, Transport};
use std::time::{Duration, Instant};

/// Open RTSP streams, decode them, and print each one's health once a second.
#[derive(Debug, Parser)]
#[command(name = "watchfloor-probe", version)]
struct Args {
    /// Streams to open (rtsp://host:port/path). Credentials inside a URL are moved out of it.
    #[arg(required = true)]
    urls: Vec<String>,
    /// One JSON object per stream per line instead of a table.
    #[arg(long)]
    json: bool,
    /// Stop after this many seconds (default: run until interrupted).
    #[arg(long)]
    seconds: Option<f64>,
    /// RTSP user name.
    #[arg(long)]
    user: Option<String>,
    /// Name of the environment variable that holds the RTSP password.
    #[arg(long, value_name = "VAR", requires = "user")]
    password_env: Option<String>,
    /// RTP transport: tcp or udp.
    #[arg(long, default_value = "tcp")]
    transport: Transport,
    /// Decoder element to use instead of the best one present.
    #[arg(long)]
    decoder: Option<String>,
}

fn main() -> Result<()> {
    logging::init("warn");
    let args = Args::parse();
    let password = match &args.password_env {
        Some(var) => Some(std::env::var(var).with_context(|| format!("${var} is not set"))?),
        None => None,
    };
    let engine = MediaEngine::new(EngineSettings::default())?;
    let mut streams = Vec::new();
    for url in &args.urls {
        check_url(url)?;
        // Credentials inside the URL move into the settings; --user overrides them.
        let mut settings = StreamSettings::new(url.clone());
        settings.transport = args.transport;
        if let Some(user) = &args.user {
            settings.credentials = Some(Credentials {
                user: user.clone(),
                password: password.clone().unwrap_or_default(),
            });
        }
        if let Some(decoder) = &args.decoder {
            settings.decoder = DecoderChoice::Named(decoder.clone());
        }
        let stream = engine.open(settings)?;
        // Nobody shows these frames: take each as it comes, so none counts as dropped.
        let slot = std::sync::Arc::downgrade(stream.slot());
        stream.slot().set_waker(Some(std::sync::Arc::new(move || {
            if let Some(slot) = slot.upgrade() {
                slot.take();
            }
        })));
        streams.push(stream);
    }
    let started = Instant::now();
    let limit = args
        .seconds
        .map(Duration::try_from_secs_f64)
        .transpose()
        .context("--seconds takes a number of seconds")?;
    loop {
        std::thread::sleep(Duration::from_secs(1));
        for stream in &streams {
            let health = stream.health();
            if args.json {
                println!("{}", serde_json::to_string(&health)?);
            } else {
                println!(
                    "{:<40} {:<12} {:>5.1} fps {:>7.0} kb/s frames {:>6} dropped {:>4} errors {:>4} reconnects {:>3} latency {}",
                    health.url,
                    health.state.name(),
                    health.fps,
                    health.bitrate_kbps,
                    health.frames,
                    health.dropped,
                    health.decode_errors,
                    health.reconnects,
                    health
                        .latency_ms
                        .map(|l| format!("{l} ms"))
                        .unwrap_or_else(|| "-".into()),
                );
            }
        }
        if limit.is_some_and(|limit| started.elapsed() >= limit) {
            break;
        }
    }
    Ok(())
}

/// Checks `url` is an RTSP URL, without ever printing its credentials.
fn check_url(url: &str) -> Result<()> {
    let parsed = url::Url::parse(url)
        .with_context(|| format!("not a URL: {}", media::redact::redact_url(url)))?;
    if parsed.scheme() != "rtsp" && parsed.scheme() != "rtsps" {
        bail!("not an RTSP URL: {}", media::redact::redact_url(url));
    }
    Ok(())
}
