//! `watchfloor-hub`: serve the hub, and the few things IT does from a shell (first user, site
//! import, event sources, the OpenAPI document).

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use hub::config::{HubConfig, MqttConfig};
use hub::model::{Grant, NewSource, NewUser, Role, SiteImport};
use hub::serve::{ServeConfig, Tls};
use hub::store::Actor;

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Parser)]
#[command(name = "watchfloor-hub", version, about = "The Watchfloor hub server")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Args)]
struct DbArgs {
    /// The configuration file (deploy/hub/hub.toml documents it); the options below win over it.
    #[arg(long, env = "WATCHFLOOR_HUB_CONFIG")]
    config: Option<PathBuf>,
    /// `sqlite://PATH` (created when missing) or `postgres://USER@HOST:PORT/DB`.
    #[arg(long, env = "WATCHFLOOR_HUB_DB")]
    db: Option<String>,
    /// Where the hub keeps its key, TLS files and backups (default `watchfloor-hub-data`).
    #[arg(long, env = "WATCHFLOOR_HUB_DATA")]
    data_dir: Option<PathBuf>,
}

/// The database and data folder, from the options and the configuration file.
#[derive(Debug)]
struct Resolved {
    config: Option<HubConfig>,
    db: String,
    data_dir: PathBuf,
}

impl DbArgs {
    fn resolve(&self) -> Result<Resolved> {
        let config = self.config.as_deref().map(HubConfig::load).transpose()?;
        let db = self
            .db
            .clone()
            .or_else(|| config.as_ref().map(|c| c.database.clone()))
            .context("no database: give --db, WATCHFLOOR_HUB_DB or --config")?;
        let data_dir = self
            .data_dir
            .clone()
            .or_else(|| config.as_ref().map(|c| c.data_dir.clone()))
            .unwrap_or_else(|| PathBuf::from("watchfloor-hub-data"));
        Ok(Resolved {
            config,
            db,
            data_dir,
        })
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API and the live feed.
    Serve {
        #[command(flatten)]
        db: DbArgs,
        /// Default 127.0.0.1:8443, or `listen` in the configuration file.
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// TLS certificate chain (PEM). Without it, a self-signed certificate is made in the
        /// data folder for development.
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// TLS private key (PEM).
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Serve plain HTTP (loopback tests, or behind a TLS proxy). Refused on other addresses
        /// unless `--allow-insecure-remote`.
        #[arg(long, conflicts_with = "tls_cert")]
        insecure_http: bool,
        #[arg(long, requires = "insecure_http")]
        allow_insecure_remote: bool,
        /// A web origin allowed to call the API from a browser (repeatable).
        #[arg(long)]
        cors_origin: Vec<String>,
        /// A reverse proxy (address or range) whose `X-Forwarded-For` the hub believes
        /// (repeatable; or `trusted_proxies` in the configuration file).
        #[arg(long)]
        trusted_proxy: Vec<String>,
        /// Connections open at once (default 4096, or `max_connections` in the file).
        #[arg(long)]
        max_connections: Option<usize>,
        /// Ingest events from this MQTT broker (`mqtts://host:8883`; plain `mqtt://` only on
        /// loopback), instead of `[mqtt]` in the configuration file (its credentials are not used).
        #[arg(long)]
        mqtt: Option<String>,
        /// PEM certificates to trust for the broker, beside the system's.
        #[arg(long)]
        mqtt_ca: Option<PathBuf>,
        /// The hub's user name at the broker (with --mqtt-password-file).
        #[arg(long, requires = "mqtt_password_file")]
        mqtt_username: Option<String>,
        /// A file holding the hub's password at the broker.
        #[arg(long, requires = "mqtt_username")]
        mqtt_password_file: Option<PathBuf>,
        /// The hub's session at the broker (default `watchfloor-hub`): events published while
        /// the hub is down wait in it.
        #[arg(long)]
        mqtt_client_id: Option<String>,
        /// Serve the web console's built files (`ui/dist`) to browsers at the hub's address.
        #[arg(long)]
        console: Option<PathBuf>,
    },
    /// Add a user. The password is read from a file or standard input, never the command line.
    UserAdd {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: Option<String>,
        /// guard, supervisor, manager or it-admin.
        #[arg(long)]
        role: String,
        /// A site id, or `*` for every site.
        #[arg(long, default_value = "*")]
        site: String,
        /// A file holding the password (first line); `-` reads standard input.
        #[arg(long)]
        password_file: PathBuf,
    },
    /// Enable a disabled user again (for a hub whose IT admins cannot sign in).
    UserEnable {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        username: String,
    },
    /// Set a user's password (every session of theirs ends). Read from a file or standard
    /// input, never the command line.
    UserPassword {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        username: String,
        /// A file holding the password (first line); `-` reads standard input.
        #[arg(long)]
        password_file: PathBuf,
    },
    /// Create or replace a site from a site file (see crates/site), with its floor plans.
    SiteImport {
        #[command(flatten)]
        db: DbArgs,
        /// The site file.
        #[arg(long)]
        site: PathBuf,
        /// Take camera stream URLs from a running simulator's control API (`http://host:port`).
        #[arg(long)]
        streams_from: Option<String>,
        /// Where door commands go (the controller's base URL).
        #[arg(long)]
        controller_url: Option<String>,
        /// The event source the controller sends as (`source-add`): door commands are signed
        /// with a key from its secret, and none are sent without it.
        #[arg(long)]
        controller_source: Option<String>,
    },
    /// Register a webhook event source for a site; prints its secret once.
    SourceAdd {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        id: String,
        #[arg(long)]
        site: String,
        #[arg(long)]
        name: Option<String>,
        /// Write the secret to this file (mode 0600) instead of standard output.
        #[arg(long)]
        secret_file: Option<PathBuf>,
    },
    /// Print the hub's stream-ticket key (made now when missing): the `hub_key` of every
    /// recorder's `[restream]` table.
    TicketKey {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Register (or update) a site's recorder: where viewers reach its restream, and its public
    /// key (`watchfloor-recorder key` prints it).
    RecorderPut {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        site: String,
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: Option<String>,
        /// `rtsp://host:port` of its restream.
        #[arg(long)]
        rtsp_url: String,
        /// Its Ed25519 public key, 64 hex digits.
        #[arg(long)]
        public_key: String,
        /// `http://host:port` of its HTTP playback (its `http_listen`): browsers then play its
        /// recorded video through the hub.
        #[arg(long)]
        playback_url: Option<String>,
    },
    /// Say which recorder serves a camera, or every camera of the site with `--all`
    /// (`--none`: clients open the camera itself).
    CameraRecorder {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        site: String,
        #[arg(long, required_unless_present = "all")]
        camera: Option<String>,
        #[arg(long, conflicts_with = "camera")]
        all: bool,
        #[arg(long, required_unless_present = "none")]
        recorder: Option<String>,
        #[arg(long, conflicts_with = "recorder")]
        none: bool,
    },
    /// Print the `[[cameras]]` tables of a recorder's configuration file: the cameras the hub
    /// says it serves, with their stream URLs (their passwords stay with the recorder).
    RecorderConfig {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        site: String,
        #[arg(long)]
        recorder: String,
    },
    /// Make the development self-signed certificate now (serve makes it when missing), and
    /// print where it is, for clients to trust.
    TlsSelfSigned {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Print the OpenAPI document.
    Openapi,
}

fn main() -> Result<()> {
    logging::init("info");
    let args = Args::parse();
    hub::serve::install_crypto();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(args.command))
}

async fn open(db: &Resolved) -> Result<Arc<hub::store::Hub>> {
    std::fs::create_dir_all(&db.data_dir)
        .with_context(|| format!("cannot create {}", db.data_dir.display()))?;
    let key = hub::secrets::HubKey::load_or_create(&db.data_dir.join("hub.key"))?;
    let database = hub::db::Db::open(&db.db, &hub::SystemClock).await?;
    let doors = Arc::new(hub::controller::HttpDoorController::new()?);
    // The key the recorders trust: the same one for every command and for `serve`.
    let tickets = keys::SigningKey::load_or_create(&db.data_dir.join("ticket.key"))?;
    Ok(Arc::new(
        hub::store::Hub::new(database, Arc::new(hub::SystemClock), key, doors)
            .with_ticket_key(tickets),
    ))
}

async fn run(command: Command) -> Result<()> {
    match command {
        Command::Serve {
            db,
            listen,
            tls_cert,
            tls_key,
            insecure_http,
            allow_insecure_remote,
            cors_origin,
            trusted_proxy,
            max_connections,
            mqtt,
            mqtt_ca,
            mqtt_username,
            mqtt_password_file,
            mqtt_client_id,
            console,
        } => {
            let db = db.resolve()?;
            let file = db.config.clone();
            let listen = listen
                .or(file.as_ref().map(|c| c.listen))
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8443)));
            // TLS from the command line when it says anything about it, else from the file.
            let cli_tls = tls_cert.is_some() || insecure_http;
            let file_tls = file.as_ref().map(|c| c.tls.clone()).unwrap_or_default();
            let (tls_cert, tls_key, insecure_http, allow_insecure_remote) = if cli_tls {
                (tls_cert, tls_key, insecure_http, allow_insecure_remote)
            } else {
                (
                    file_tls.cert,
                    file_tls.key,
                    file_tls.insecure_http,
                    file_tls.allow_insecure_remote,
                )
            };
            let cors_origin = if cors_origin.is_empty() {
                file.as_ref()
                    .map(|c| c.cors_origins.clone())
                    .unwrap_or_default()
            } else {
                cors_origin
            };
            // The broker from the file; one named on the command line replaces it, so that
            // the file's password never goes to another broker. The hub's session (its client
            // id) stays: what waits for it at the broker is found again.
            let mut broker = file.as_ref().and_then(|c| c.mqtt.clone());
            if let Some(url) = mqtt {
                let client_id = broker.as_ref().map(|c| c.client_id.clone());
                let mut config = MqttConfig::url(url);
                config.client_id = client_id.unwrap_or(config.client_id);
                broker = Some(config);
            }
            let flags = mqtt_ca.is_some() || mqtt_username.is_some() || mqtt_client_id.is_some();
            match &mut broker {
                Some(config) => {
                    config.ca = mqtt_ca.or(config.ca.take());
                    if mqtt_username.is_some() {
                        config.username = mqtt_username;
                        config.password_file = mqtt_password_file;
                    }
                    if let Some(id) = mqtt_client_id {
                        config.client_id = id;
                    }
                }
                None if flags => bail!(
                    "--mqtt-ca, --mqtt-username and --mqtt-client-id need a broker: --mqtt or [mqtt] in the configuration file"
                ),
                None => {}
            }
            let mqtt = broker.map(|c| c.settings()).transpose()?;
            let console = console.or_else(|| file.as_ref().and_then(|c| c.console_dir.clone()));
            let edge = hub::config::edge(
                (
                    max_connections
                        .or(file.as_ref().map(|c| c.max_connections))
                        .unwrap_or(hub::edge::MAX_CONNECTIONS),
                    file.as_ref()
                        .map(|c| c.max_connections_per_client)
                        .unwrap_or(hub::edge::MAX_CONNECTIONS_PER_CLIENT),
                ),
                if trusted_proxy.is_empty() {
                    file.as_ref()
                        .map(|c| c.trusted_proxies.as_slice())
                        .unwrap_or_default()
                } else {
                    &trusted_proxy
                },
                &file
                    .as_ref()
                    .map(|c| c.client_ip_header.clone())
                    .unwrap_or_else(|| hub::edge::Edge::default().client_ip_header),
            )?;
            if let Some(dir) = &console
                && !dir.join("index.html").is_file()
            {
                bail!(
                    "the console folder {} has no index.html; build it with `npm run build` in ui/",
                    dir.display()
                );
            }
            if insecure_http && !listen.ip().is_loopback() && !allow_insecure_remote {
                bail!(
                    "--insecure-http on {listen} would expose passwords; add --allow-insecure-remote if a TLS proxy sits in front"
                );
            }
            let tls = match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => Tls::Files { cert, key },
                _ if insecure_http => Tls::Off,
                _ => Tls::SelfSigned,
            };
            // Before the database is opened (and perhaps migrated): it may be another hub's.
            let lease = hub::db::ServingLease::take(&db.db).await?;
            let hub = open(&db).await?;
            let running = hub::serve::start_leased(
                hub,
                ServeConfig {
                    database: db.db.clone(),
                    listen,
                    data_dir: db.data_dir.clone(),
                    tls,
                    cors_origins: cors_origin,
                    mqtt,
                    console,
                    edge,
                },
                lease,
            )
            .await?;
            // One line on stdout, for scripts and tests: where the hub listens.
            println!("{}", running.url);
            if let Some(cert) = &running.certificate {
                tracing::info!(cert = %cert.display(), "clients must trust this certificate");
            }
            tracing::info!(url = %running.url, database = ?running.hub.db.backend(), "serving");
            shutdown_signal().await;
            tracing::info!("stopping");
            running.stop().await;
            Ok(())
        }
        Command::UserAdd {
            db,
            username,
            display_name,
            role,
            site,
            password_file,
        } => {
            let role = Role::parse(&role).with_context(|| {
                format!("role must be guard, supervisor, manager or it-admin, not `{role}`")
            })?;
            let password = read_secret(&password_file)?;
            let hub = open(&db.resolve()?).await?;
            let user = hub
                .create_user(
                    Actor::LocalAdmin,
                    NewUser {
                        id: format!("user-{username}"),
                        display_name: display_name.unwrap_or_else(|| username.clone()),
                        username,
                        password,
                        grants: vec![Grant { site, role }],
                    },
                )
                .await?;
            println!("{}", serde_json::to_string(&user)?);
            Ok(())
        }
        Command::UserEnable { db, username } => {
            let hub = open(&db.resolve()?).await?;
            let user = hub.user_named(&username).await?;
            let user = hub.set_disabled(Actor::LocalAdmin, &user.id, false).await?;
            println!("{}", serde_json::to_string(&user)?);
            Ok(())
        }
        Command::UserPassword {
            db,
            username,
            password_file,
        } => {
            let password = read_secret(&password_file)?;
            let hub = open(&db.resolve()?).await?;
            let user = hub.user_named(&username).await?;
            hub.reset_password(Actor::LocalAdmin, &user.id, &password)
                .await?;
            println!("password set for {username}; their sessions ended");
            Ok(())
        }
        Command::SiteImport {
            db,
            site,
            streams_from,
            controller_url,
            controller_source,
        } => {
            let mut import = site_import(&site, streams_from.as_deref(), controller_url).await?;
            import.controller_source = controller_source;
            let hub = open(&db.resolve()?).await?;
            let detail = hub.import_site(Actor::LocalAdmin, import).await?;
            println!(
                "imported site {} ({} floors, {} cameras, {} doors)",
                detail.id,
                detail.floors.len(),
                detail.cameras.len(),
                detail.doors.len()
            );
            Ok(())
        }
        Command::TicketKey { db } => {
            let resolved = db.resolve()?;
            let key = keys::SigningKey::load_or_create(&resolved.data_dir.join("ticket.key"))?;
            println!("{}", key.public_hex());
            Ok(())
        }
        Command::RecorderPut {
            db,
            site,
            id,
            name,
            rtsp_url,
            public_key,
            playback_url,
        } => {
            let hub = open(&db.resolve()?).await?;
            let recorder = hub
                .put_recorder(
                    Actor::LocalAdmin,
                    &site,
                    hub::model::Recorder {
                        name: name.unwrap_or_else(|| id.clone()),
                        id,
                        rtsp_url,
                        public_key,
                        playback_url,
                    },
                )
                .await?;
            println!(
                "recorder {} of site {site} registered at {}",
                recorder.id, recorder.rtsp_url
            );
            Ok(())
        }
        Command::CameraRecorder {
            db,
            site,
            camera,
            all,
            recorder,
            none,
        } => {
            let hub = open(&db.resolve()?).await?;
            let recorder = if none { None } else { recorder };
            let cameras = match camera {
                Some(camera) if !all => vec![camera],
                _ => hub.site_camera_ids(Actor::LocalAdmin, &site).await?,
            };
            for camera in &cameras {
                hub.set_camera_recorder(
                    Actor::LocalAdmin,
                    &site,
                    camera,
                    hub::model::CameraRecorder {
                        recorder: recorder.clone(),
                    },
                )
                .await?;
            }
            match recorder {
                Some(r) => println!("{} camera(s) served by recorder {r}", cameras.len()),
                None => println!("{} camera(s) opened directly", cameras.len()),
            }
            Ok(())
        }
        Command::RecorderConfig { db, site, recorder } => {
            let hub = open(&db.resolve()?).await?;
            let cameras = hub
                .recorder_cameras(Actor::LocalAdmin, &site, &recorder)
                .await?;
            println!("# The cameras recorder `{recorder}` serves, as the hub lists them.");
            for (id, main, sub) in cameras {
                println!("\n[[cameras]]\nid = {id:?}\nmain = {main:?}");
                if !sub.is_empty() && sub != main {
                    println!("sub = {sub:?}");
                }
            }
            Ok(())
        }
        Command::SourceAdd {
            db,
            id,
            site,
            name,
            secret_file,
        } => {
            let hub = open(&db.resolve()?).await?;
            let source = hub
                .create_source(
                    Actor::LocalAdmin,
                    NewSource {
                        name: name.unwrap_or_else(|| id.clone()),
                        id,
                        site,
                    },
                )
                .await?;
            match secret_file {
                Some(path) => {
                    let _ = std::fs::remove_file(&path);
                    hub::secrets::write_private(&path, source.secret.as_bytes())?;
                    println!(
                        "source {} registered; secret in {}",
                        source.id,
                        path.display()
                    );
                }
                None => println!("{}", source.secret),
            }
            Ok(())
        }
        Command::TlsSelfSigned { db } => {
            let (cert, _key) = hub::serve::self_signed(&db.resolve()?.data_dir)?;
            println!("{}", cert.display());
            Ok(())
        }
        Command::Openapi => {
            println!("{}", hub::api::openapi_json());
            Ok(())
        }
    }
}

fn read_secret(path: &Path) -> Result<String> {
    let mut text = String::new();
    if path.as_os_str() == "-" {
        std::io::stdin().read_to_string(&mut text)?;
    } else {
        text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
    }
    Ok(text.lines().next().unwrap_or("").to_owned())
}

/// A site file with its plans, and stream URLs from a simulator when asked.
async fn site_import(
    path: &Path,
    streams_from: Option<&str>,
    controller_url: Option<String>,
) -> Result<SiteImport> {
    let mut import = hub::model::site_import(path)?;
    if let Some(control) = streams_from {
        let listing: serde_json::Value = reqwest::get(format!("{control}/api/v1/site"))
            .await
            .and_then(|r| r.error_for_status())
            .with_context(|| format!("cannot reach the simulator at {control}"))?
            .json()
            .await?;
        import.streams = hub::model::streams_from_listing(&listing);
    }
    import.controller_url = controller_url.or_else(|| streams_from.map(str::to_owned));
    Ok(import)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
