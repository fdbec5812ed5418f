//! `watchfloor-recorder`: record a site's cameras, and what an IT admin does from a shell:
//! set a camera's credentials (from a file or standard input, never the command line), see
//! what is recorded, export a range and verify an export.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use recorder::config::{Config, StreamKind};
use recorder::credentials::{self, CredentialStore};
use recorder::export::{self, ExportRequest};
use recorder::{Index, Recorder, playback, recording, retention};
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, Parser)]
#[command(
    name = "watchfloor-recorder",
    version,
    about = "The Watchfloor recorder"
)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Record every configured camera until stopped (SIGTERM or Ctrl-C).
    Serve {
        /// The configuration file (docs/recorder.md documents each key).
        #[arg(long, env = "WATCHFLOOR_RECORDER_CONFIG")]
        config: PathBuf,
    },
    /// A camera's credentials, sealed with the recorder's key.
    Credentials {
        #[command(subcommand)]
        command: CredentialsCommand,
    },
    /// What is recorded: per stream, the recorded span, size, last gap; and the disk.
    Status {
        #[arg(long, env = "WATCHFLOOR_RECORDER_CONFIG")]
        config: PathBuf,
        /// One JSON document instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Export a time range of cameras as MP4 files with a signed manifest.
    Export {
        #[arg(long, env = "WATCHFLOOR_RECORDER_CONFIG")]
        config: PathBuf,
        /// `CAMERA` (its main stream) or `CAMERA:sub`; repeat for several.
        #[arg(long = "camera", required = true)]
        cameras: Vec<String>,
        /// Start, RFC 3339 (`2026-11-27T21:00:00Z`).
        #[arg(long)]
        from: String,
        /// End, RFC 3339.
        #[arg(long)]
        to: String,
        /// The folder to create.
        #[arg(long)]
        out: PathBuf,
        /// Who asks for it, as recorded in the manifest.
        #[arg(long)]
        by: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Print the recorder's public key (its signing key is made now when missing): what the
    /// hub registers for it (`watchfloor-hub recorder-put --public-key`).
    Key {
        #[arg(long, env = "WATCHFLOOR_RECORDER_CONFIG")]
        config: PathBuf,
    },
    /// Check an export folder offline: signature, then every file's size and SHA-256.
    Verify {
        dir: PathBuf,
        /// The recorder's public key (hex) as the hub lists it; without it, the key in the
        /// manifest is used, which proves integrity but not origin.
        #[arg(long)]
        key: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum CredentialsCommand {
    /// Set a camera's user and password. The password is read from `--password-file`, or
    /// from standard input (one line), never from the command line.
    Set {
        #[arg(long, env = "WATCHFLOOR_RECORDER_CONFIG")]
        config: PathBuf,
        /// The camera (or `--all`).
        #[arg(required_unless_present = "all")]
        camera: Option<String>,
        /// The same credentials for every configured camera.
        #[arg(long, conflicts_with = "camera")]
        all: bool,
        #[arg(long)]
        user: String,
        /// A file holding the password (`-` for standard input, the default).
        #[arg(long, default_value = "-")]
        password_file: PathBuf,
    },
    /// Forget a camera's credentials.
    Remove {
        #[arg(long, env = "WATCHFLOOR_RECORDER_CONFIG")]
        config: PathBuf,
        camera: String,
    },
    /// The cameras that have credentials, and their user names (never passwords).
    List {
        #[arg(long, env = "WATCHFLOOR_RECORDER_CONFIG")]
        config: PathBuf,
    },
}

fn main() {
    logging::init("info");
    if let Err(error) = run(Args::parse()) {
        eprintln!("watchfloor-recorder: {error:#}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<()> {
    match args.command {
        Command::Serve { config } => serve(&Config::load(&config)?),
        Command::Credentials { command } => manage_credentials(command),
        Command::Status { config, json } => status(&Config::load(&config)?, json),
        Command::Export {
            config,
            cameras,
            from,
            to,
            out,
            by,
            reason,
        } => {
            let config = Config::load(&config)?;
            let streams = cameras
                .iter()
                .map(|c| stream_of(&config, c))
                .collect::<Result<Vec<_>>>()?;
            let request = ExportRequest {
                streams,
                from_us: rfc3339_us(&from)?,
                to_us: rfc3339_us(&to)?,
                requested_by: by,
                reason,
            };
            let index = Index::open(&config.index_path())?;
            let signer = keys::SigningKey::load_or_create(&config.data_dir.join("signing.key"))?;
            let manifest = export::export(
                &index,
                &config.video_dir(),
                &config.id,
                &signer,
                &request,
                &out,
                recording::now_us(),
            )?;
            for file in &manifest.files {
                println!(
                    "{}  {} bytes  sha256 {}",
                    file.name, file.bytes, file.sha256
                );
            }
            println!(
                "signed by {} ({})",
                manifest.recorder, manifest.recorder_key
            );
            Ok(())
        }
        Command::Key { config } => {
            let config = Config::load(&config)?;
            let signer = keys::SigningKey::load_or_create(&config.data_dir.join("signing.key"))?;
            println!("{}", signer.public_hex());
            Ok(())
        }
        Command::Verify { dir, key } => {
            let manifest = export::verify(&dir, key.as_deref())
                .with_context(|| format!("{} does not verify", dir.display()))?;
            println!(
                "{}: intact: {} file(s) and the manifest as recorder `{}` signed them",
                dir.display(),
                manifest.files.len(),
                manifest.recorder,
            );
            if key.is_none() {
                println!(
                    "NOT authenticated: the signing key is the one the export itself carries \
                     ({}); give the key your hub lists for the recorder with --key to prove \
                     where it comes from",
                    manifest.recorder_key
                );
            } else {
                println!("authenticated: signed by the given key");
            }
            Ok(())
        }
    }
}

fn stream_of(config: &Config, text: &str) -> Result<(String, StreamKind)> {
    let (camera, kind) = match text.split_once(':') {
        Some((camera, kind)) => (
            camera,
            StreamKind::parse(kind).with_context(|| format!("`{kind}`: main or sub"))?,
        ),
        None => (text, StreamKind::Main),
    };
    if config.camera(camera).is_none() {
        bail!("camera `{camera}` is not in the configuration");
    }
    Ok((camera.to_owned(), kind))
}

fn rfc3339_us(text: &str) -> Result<i64> {
    let time = chrono::DateTime::parse_from_rfc3339(text)
        .with_context(|| format!("`{text}` is not an RFC 3339 time like 2026-11-27T21:00:00Z"))?;
    Ok(time.timestamp_micros())
}

fn rfc3339(us: i64) -> String {
    recorder::report::rfc3339(us).unwrap_or_else(|| us.to_string())
}

fn serve(config: &Config) -> Result<()> {
    let recorder = Recorder::start(config.clone())?;
    tracing::info!(
        "recorder `{}` recording {} stream(s) into {}",
        config.id,
        recorder.status().len(),
        config.video_dir().display()
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut ticker = tokio::time::interval(std::time::Duration::from_millis(500));
        #[cfg(unix)]
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        loop {
            #[cfg(unix)]
            let terminated = terminate.recv();
            #[cfg(not(unix))]
            let terminated = std::future::pending::<Option<()>>();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => break,
                _ = terminated => break,
                _ = ticker.tick() => {
                    for event in recorder.events() {
                        tracing::info!("{event:?}");
                    }
                }
            }
        }
        anyhow::Ok(())
    })?;
    tracing::info!("stopping: finishing the segments being written");
    drop(recorder);
    Ok(())
}

fn manage_credentials(command: CredentialsCommand) -> Result<()> {
    match command {
        CredentialsCommand::Set {
            config,
            camera,
            all,
            user,
            password_file,
        } => {
            let config = Config::load(&config)?;
            let cameras: Vec<String> = match camera {
                Some(camera) if !all => {
                    if config.camera(&camera).is_none() {
                        bail!("camera `{camera}` is not in the configuration");
                    }
                    vec![camera]
                }
                _ => config.cameras.iter().map(|c| c.id.clone()).collect(),
            };
            let text = read_secret(&password_file)?;
            let credentials = credentials::from_text(&user, &text).map_err(anyhow::Error::msg)?;
            let store = CredentialStore::open(&config.data_dir)?;
            for camera in &cameras {
                store.set(camera, Some(credentials.clone()))?;
            }
            println!(
                "credentials of {} camera(s) set; the recorder uses them at its next connection",
                cameras.len()
            );
            Ok(())
        }
        CredentialsCommand::Remove { config, camera } => {
            let config = Config::load(&config)?;
            CredentialStore::open(&config.data_dir)?.set(&camera, None)?;
            println!("credentials of `{camera}` removed");
            Ok(())
        }
        CredentialsCommand::List { config } => {
            let config = Config::load(&config)?;
            for (camera, credentials) in CredentialStore::open(&config.data_dir)?.all()? {
                println!("{camera}\t{}", credentials.user);
            }
            Ok(())
        }
    }
}

fn read_secret(path: &Path) -> Result<String> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the password from standard input")?;
        Ok(text)
    } else {
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
    }
}

fn status(config: &Config, json: bool) -> Result<()> {
    let index = Index::open(&config.index_path())?;
    let now = recording::now_us();
    let usage = index.usage()?;
    let mut rows = Vec::new();
    for camera in &config.cameras {
        for kind in camera.recorded() {
            let timeline = playback::timeline(&index, &camera.id, kind, 0, now)?;
            let first = timeline.spans.first().map(|s| s.start_us);
            let last = timeline.spans.last().map(|s| s.end_us);
            let outage = index
                .outages(&camera.id, kind, now - 1, now)?
                .into_iter()
                .find(|o| o.end_us.is_none());
            rows.push(serde_json::json!({
                "camera": camera.id,
                "stream": kind.as_str(),
                "from": first.map(rfc3339),
                "until": last.map(rfc3339),
                "spans": timeline.spans.len(),
                "bytes": usage.iter().find(|(c, _)| *c == camera.id).map_or(0, |(_, b)| *b),
                "offline_since": outage.as_ref().map(|o| rfc3339(o.start_us)),
                "offline_reason": outage.map(|o| o.reason),
            }));
        }
    }
    let free = retention::free_bytes(&config.video_dir());
    if json {
        println!(
            "{}",
            serde_json::json!({"recorder": config.id, "free_bytes": free, "streams": rows})
        );
        return Ok(());
    }
    println!(
        "recorder `{}`, {} free",
        config.id,
        free.map_or("?".into(), |b| format!("{} MiB", b >> 20))
    );
    for row in rows {
        println!(
            "{:<16} {:<4} {} .. {}  {} span(s)  {} bytes{}",
            row["camera"].as_str().unwrap_or_default(),
            row["stream"].as_str().unwrap_or_default(),
            row["from"].as_str().unwrap_or("-"),
            row["until"].as_str().unwrap_or("-"),
            row["spans"],
            row["bytes"],
            row["offline_since"]
                .as_str()
                .map(|s| format!(
                    "  offline since {s}: {}",
                    row["offline_reason"].as_str().unwrap_or_default()
                ))
                .unwrap_or_default()
        );
    }
    Ok(())
}
