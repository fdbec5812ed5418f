//! `watchfloor-sim`: serves a simulated site on loopback until stopped.

use anyhow::{Context, Result, bail};
use clap::Parser;
use sim::{Credentials, DoorSettings, Sim, SimConfig};
use site::{Codec, Site};
use std::path::PathBuf;
use std::sync::Arc;

/// A simulated site: RTSP cameras (main and sub-stream each) and door controllers, with a
/// control API for faults and door commands.
#[derive(Debug, Parser)]
#[command(name = "watchfloor-sim", version)]
struct Args {
    /// Site description file (cameras, doors, zones, floors). Without it, N plain cameras.
    #[arg(long)]
    site: Option<PathBuf>,
    /// Number of cameras: all of the site's by default, or this many (the first N).
    #[arg(long)]
    cameras: Option<usize>,
    /// Address to serve on. Keep it on loopback unless you mean to expose test cameras.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// RTSP port (0 picks a free one).
    #[arg(long, default_value_t = 8554)]
    rtsp_port: u16,
    /// Control API port (0 picks a free one).
    #[arg(long, default_value_t = 8555)]
    control_port: u16,
    /// Require RTSP digest authentication on every camera, as USER:PASS (shows in `ps`:
    /// prefer --auth-file).
    #[arg(long, value_name = "USER:PASS", conflicts_with = "auth_file")]
    auth: Option<String>,
    /// Like --auth, read from a file holding USER:PASS (one line).
    #[arg(long, value_name = "FILE")]
    auth_file: Option<std::path::PathBuf>,
    /// Serve every stream with this codec (h264, h265, mjpeg) instead of the site's.
    #[arg(long)]
    codec: Option<Codec>,
    /// Print one JSON document listing cameras, streams and doors instead of a table.
    #[arg(long)]
    json: bool,
    /// Write door events as JSON lines to this file (`-` for stdout).
    #[arg(long, value_name = "FILE")]
    events: Option<PathBuf>,
    /// Post door events to this hub (`https://host:port`) as source `--hub-source`.
    #[arg(long, requires_all = ["hub_source", "hub_secret_file"])]
    hub: Option<String>,
    /// The event source id registered on the hub (`watchfloor-hub source-add`).
    #[arg(long)]
    hub_source: Option<String>,
    /// A file holding the source's secret.
    #[arg(long)]
    hub_secret_file: Option<PathBuf>,
    /// A PEM certificate to trust for the hub (its self-signed one in development).
    #[arg(long)]
    hub_ca: Option<PathBuf>,
    /// Publish door events to this MQTT broker (`mqtts://host:8883`, or `mqtt://` on loopback),
    /// signed as --hub-source with --hub-secret-file.
    #[arg(long, requires_all = ["hub_source", "hub_secret_file"])]
    mqtt: Option<String>,
    /// PEM certificates to trust for the broker, beside the system's.
    #[arg(long)]
    mqtt_ca: Option<PathBuf>,
    /// The user name at the broker (with --mqtt-password-file).
    #[arg(long, requires = "mqtt_password_file")]
    mqtt_username: Option<String>,
    /// A file holding the password at the broker.
    #[arg(long, requires = "mqtt_username")]
    mqtt_password_file: Option<PathBuf>,
    /// Badge swipes per minute across the site.
    #[arg(long, default_value_t = 12.0)]
    swipes_per_minute: f64,
    /// Forced-open door incidents per hour across the site.
    #[arg(long, default_value_t = 2.0)]
    forced_per_hour: f64,
}

fn main() -> Result<()> {
    logging::init("info");
    let args = Args::parse();
    let mut site = match &args.site {
        Some(path) => Site::load(path)?,
        None => Site::with_cameras(args.cameras.unwrap_or(4)),
    };
    if let Some(count) = args.cameras {
        if count > site.cameras.len() {
            bail!(
                "the site has {} cameras; cannot serve {count}",
                site.cameras.len()
            );
        }
        site.cameras.truncate(count);
        site.doors.iter_mut().for_each(|d| {
            d.cameras
                .retain(|c| site.cameras.iter().any(|x| &x.id == c))
        });
    }
    if let Some(codec) = args.codec {
        for camera in &mut site.cameras {
            camera.main.codec = codec;
            camera.sub.codec = codec;
        }
    }
    let from_file = args
        .auth_file
        .as_ref()
        .map(|path| {
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))
                .map(|text| text.trim_end_matches(['\n', '\r']).to_owned())
        })
        .transpose()?;
    let credentials = match from_file.as_ref().or(args.auth.as_ref()) {
        Some(auth) => {
            let (user, password) = auth.split_once(':').context("--auth takes USER:PASS")?;
            Some(Credentials {
                user: user.to_owned(),
                password: password.to_owned(),
            })
        }
        None => None,
    };
    let mut outputs: Vec<Box<dyn sim::EventOutput>> = Vec::new();
    match &args.events {
        Some(path) if path.as_os_str() == "-" => {
            outputs.push(Box::new(sim::JsonLines(std::io::stdout())))
        }
        Some(path) => outputs.push(Box::new(sim::JsonLines(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("cannot open event file {}", path.display()))?,
        ))),
        None => {}
    }
    let read = |path: &PathBuf| {
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
    };
    // The event source's secret: it signs the events (webhook or MQTT), and a key from it the
    // hub's door commands (the simulator is then paired with the hub).
    let secret = args.hub_secret_file.as_ref().map(read).transpose()?;
    let secret = secret.map(|s| s.trim().as_bytes().to_vec());
    let command_key = secret.as_deref().map(events::command_key);
    if let (Some(hub), Some(source), Some(secret)) = (&args.hub, &args.hub_source, &secret) {
        let ca_pem = match &args.hub_ca {
            Some(path) => Some(
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
            ),
            None => None,
        };
        outputs.push(Box::new(
            sim::Webhook::start(sim::WebhookSettings {
                hub: hub.clone(),
                source: source.clone(),
                secret: secret.clone(),
                ca_pem,
            })
            .map_err(anyhow::Error::msg)?,
        ));
    }
    if let (Some(url), Some(source), Some(secret)) = (&args.mqtt, &args.hub_source, &secret) {
        let broker = mqtt::Settings {
            url: url.clone(),
            // Stable: the broker keeps what was not yet acknowledged for the next connection.
            // A source id is unique on its hub (and at most 128 characters).
            client_id: format!("watchfloor-sim-{source}"),
            ca_pem: args
                .mqtt_ca
                .as_ref()
                .map(read)
                .transpose()?
                .map(String::into_bytes),
            username: args.mqtt_username.clone(),
            password: args
                .mqtt_password_file
                .as_ref()
                .map(read)
                .transpose()?
                .map(|p| p.lines().next().unwrap_or("").to_owned()),
            client_identity: None,
        };
        outputs.push(Box::new(
            sim::Mqtt::start(&broker, &site.id, source, secret.clone())
                .map_err(anyhow::Error::msg)?,
        ));
    }
    let sim = Arc::new(Sim::start(
        SimConfig {
            site,
            host: args.host.clone(),
            rtsp_port: args.rtsp_port,
            credentials,
            doors: DoorSettings {
                swipes_per_minute: args.swipes_per_minute,
                forced_per_hour: args.forced_per_hour,
                ..DoorSettings::default()
            },
            command_key,
        },
        outputs,
    )?);
    if !sim.paired() {
        tracing::warn!(
            "door commands are taken unsigned: give --hub-secret-file to take only the hub's"
        );
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.control_port))
            .await
            .with_context(|| format!("cannot listen on 127.0.0.1:{}", args.control_port))?;
        let control = format!("http://{}", listener.local_addr()?);
        print_listing(&sim, &control, args.json)?;
        axum::serve(listener, sim::control::router(sim.clone()))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        tracing::info!("stopped");
        Ok(())
    })
}

fn print_listing(sim: &Sim, control: &str, json: bool) -> Result<()> {
    let listing = sim.listing();
    if json {
        let mut value = serde_json::to_value(&listing)?;
        value["control"] = control.into();
        println!("{}", serde_json::to_string(&value)?);
        return Ok(());
    }
    println!(
        "site {} ({}): {} cameras, {} doors",
        listing.name,
        listing.site,
        listing.cameras.len(),
        listing.doors.len()
    );
    for camera in &listing.cameras {
        for stream in &camera.streams {
            println!(
                "  {:<8} {:<4} {:>4}x{:<4} {:>2} fps {:<5}  {}",
                camera.id,
                stream.kind.as_str(),
                stream.width,
                stream.height,
                stream.fps,
                stream.codec.to_string(),
                stream.url
            );
        }
    }
    println!("control API: {control}/api/v1/site");
    Ok(())
}
