//! Running the hub: open the database, start the event writer and MQTT, and serve the API over
//! TLS (a certificate from files, or a self-signed one made on first run for development) or,
//! when asked explicitly, plain HTTP for loopback tests.

use crate::api::{AppState, Cors, app};
use crate::db::{Db, ServingLease};
use crate::ingest::{Ingest, run_mqtt};
use crate::secrets::{HubKey, write_private};
use crate::store::Hub;
use crate::{HubError, Result, SharedClock};
use axum_server::Handle;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How the hub speaks TLS.
#[derive(Debug, Clone)]
pub enum Tls {
    /// A certificate and key in PEM files.
    Files { cert: PathBuf, key: PathBuf },
    /// A self-signed certificate in `<data dir>/tls/`, made when missing (development).
    SelfSigned,
    /// Plain HTTP: only for loopback tests and behind a TLS-terminating proxy.
    Off,
}

/// Everything `watchfloor-hub serve` is told.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub database: String,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub tls: Tls,
    pub cors_origins: Vec<String>,
    /// The broker to ingest events from; its settings are checked before the hub serves.
    pub mqtt: Option<mqtt::Settings>,
    /// The web console's built files (`ui/dist`), served to browsers at `/`.
    pub console: Option<PathBuf>,
    /// The connection cap and the proxies whose client address header is believed.
    pub edge: crate::edge::Edge,
}

/// A running hub.
#[derive(Debug)]
pub struct RunningHub {
    pub hub: Arc<Hub>,
    pub addr: SocketAddr,
    /// `https://` or `http://` base URL.
    pub url: String,
    /// The certificate clients should trust, when self-signed.
    pub certificate: Option<PathBuf>,
    handle: Handle,
    server: tokio::task::JoinHandle<()>,
    mqtt: Option<tokio::task::JoinHandle<()>>,
    lease: ServingLease,
}

impl RunningHub {
    /// Stops accepting, lets requests in flight finish (up to 5 s), and closes the database.
    pub async fn stop(self) {
        self.handle.graceful_shutdown(Some(Duration::from_secs(5)));
        let _ = self.server.await;
        if let Some(mqtt) = self.mqtt {
            mqtt.abort();
        }
        self.hub.db.close().await;
        self.lease.release().await;
    }
}

/// How long a client may take to send a request's head: a stranger must not hold connections
/// open by sending a header a minute (hyper enforces no limit without a timer).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The most headers a request may have.
const MAX_HEADERS: usize = 64;

fn limit_connections(
    builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
) {
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_headers(MAX_HEADERS);
}

/// Installs rustls's `ring` provider for the process (idempotent).
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The self-signed certificate's files, made when missing.
pub fn self_signed(data_dir: &Path) -> Result<(PathBuf, PathBuf)> {
    let dir = data_dir.join("tls");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    if cert.exists() && key.exists() {
        return Ok((cert, key));
    }
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    if let Ok(host) = std::fs::read_to_string("/etc/hostname") {
        let host = host.trim();
        if !host.is_empty() {
            names.push(host.to_owned());
        }
    }
    let made = rcgen::generate_simple_self_signed(names)
        .map_err(|e| HubError::Internal(format!("cannot make a certificate: {e}")))?;
    let _ = std::fs::remove_file(&key);
    write_private(&key, made.key_pair.serialize_pem().as_bytes())?;
    std::fs::write(&cert, made.cert.pem())
        .map_err(|e| HubError::Internal(format!("cannot write {}: {e}", cert.display())))?;
    tracing::warn!(
        cert = %cert.display(),
        "made a self-signed certificate for development; configure a real one for production"
    );
    Ok((cert, key))
}

/// Opens the database and starts serving; returns once the port is bound.
pub async fn start(config: ServeConfig, clock: SharedClock) -> Result<RunningHub> {
    install_crypto();
    std::fs::create_dir_all(&config.data_dir).map_err(|e| {
        HubError::Internal(format!("cannot create {}: {e}", config.data_dir.display()))
    })?;
    // Before anything is opened or migrated: the database may be another hub's.
    let lease = ServingLease::take(&config.database).await?;
    let key = HubKey::load_or_create(&config.data_dir.join("hub.key"))?;
    let db = Db::open(&config.database, clock.as_ref()).await?;
    let doors = Arc::new(crate::controller::HttpDoorController::new()?);
    let tickets = keys::SigningKey::load_or_create(&config.data_dir.join("ticket.key"))?;
    let hub = Arc::new(Hub::new(db, clock, key, doors).with_ticket_key(tickets));
    start_leased(hub, config, lease).await
}

/// Serves an already opened hub (refused when another hub serves its database).
pub async fn start_with(hub: Arc<Hub>, config: ServeConfig) -> Result<RunningHub> {
    let lease = ServingLease::take(&config.database).await?;
    start_leased(hub, config, lease).await
}

/// Serves an already opened hub with the lease on its database, taken before it was opened.
pub async fn start_leased(
    hub: Arc<Hub>,
    config: ServeConfig,
    lease: ServingLease,
) -> Result<RunningHub> {
    install_crypto();
    // An export's job does not outlive the hub that ran it: those left running failed.
    hub.interrupted_exports().await?;
    hub.warn_unpaired_controllers().await?;
    if matches!(config.tls, Tls::Off)
        && !config.listen.ip().is_loopback()
        && config.edge.trusted_proxies.is_empty()
    {
        tracing::warn!(
            "plain HTTP off loopback, as behind a TLS proxy, but no trusted_proxies: every client \
             behind the proxy counts as one for the log-in limit and max_connections_per_client"
        );
    }
    // A broker the hub may not use (plain off loopback, anonymous) stops it here, not later.
    let mqtt_options = config
        .mqtt
        .as_ref()
        .map(|settings| {
            settings
                .options()
                .map(|options| (settings.url.clone(), options))
        })
        .transpose()
        .map_err(HubError::BadRequest)?;
    let ingest = Ingest::start(hub.clone());
    let mqtt = mqtt_options.map(|(url, options)| {
        let (hub, ingest) = (hub.clone(), ingest.clone());
        tokio::spawn(async move {
            if let Err(error) = run_mqtt(hub, ingest, url, options).await {
                tracing::error!(%error, "MQTT ingest stopped");
            }
        })
    });
    let router = app(
        AppState {
            hub: hub.clone(),
            ingest,
            streaming: Default::default(),
            edge: Arc::new(config.edge.clone()),
        },
        Cors {
            origins: config.cors_origins.clone(),
        },
        config.console.clone(),
    );
    let listener = std::net::TcpListener::bind(config.listen)
        .map_err(|e| HubError::Internal(format!("cannot listen on {}: {e}", config.listen)))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| HubError::Internal(e.to_string()))?;
    let addr = listener
        .local_addr()
        .map_err(|e| HubError::Internal(e.to_string()))?;
    let handle = Handle::new();
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let cap = crate::edge::ConnectionCap::new(&config.edge);
    let (scheme, certificate, server) = match &config.tls {
        Tls::Off => {
            let mut server = axum_server::from_tcp(listener)
                .acceptor(cap)
                .handle(handle.clone());
            limit_connections(server.http_builder());
            (
                "http",
                None,
                tokio::spawn(async move {
                    if let Err(error) = server.serve(service).await {
                        tracing::error!(%error, "server stopped");
                    }
                }),
            )
        }
        tls => {
            let (cert, key, self_made) = match tls {
                Tls::Files { cert, key } => (cert.clone(), key.clone(), false),
                _ => {
                    let (cert, key) = self_signed(&config.data_dir)?;
                    (cert, key, true)
                }
            };
            let rustls = axum_server::tls_rustls::RustlsConfig::from_pem_file(&cert, &key)
                .await
                .map_err(|e| {
                    HubError::BadRequest(format!(
                        "cannot load TLS certificate {} / key {}: {e}",
                        cert.display(),
                        key.display()
                    ))
                })?;
            let tls = axum_server::tls_rustls::RustlsAcceptor::new(rustls);
            let mut server = axum_server::from_tcp(listener)
                .acceptor(cap.before(tls))
                .handle(handle.clone());
            limit_connections(server.http_builder());
            (
                "https",
                self_made.then_some(cert),
                tokio::spawn(async move {
                    if let Err(error) = server.serve(service).await {
                        tracing::error!(%error, "server stopped");
                    }
                }),
            )
        }
    };
    let shown = if addr.ip().is_unspecified() {
        SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), addr.port())
    } else {
        addr
    };
    Ok(RunningHub {
        hub,
        addr,
        url: format!("{scheme}://{shown}"),
        certificate,
        handle,
        server,
        mqtt,
        lease,
    })
}
