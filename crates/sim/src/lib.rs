//! A simulated site on loopback, speaking real protocols: RTSP cameras served by
//! gst-rtsp-server ([`cameras`]), door controllers emitting ONVIF Profile C events ([`doors`]),
//! and a small HTTP control API to inject faults and send door commands ([`control`]).
//!
//! The simulator is a test and demo fixture, but a real one: clients talk to it exactly as they
//! would to cameras and controllers. It knows nothing of the hub, the wall or the app.

pub mod cameras;
pub mod control;
pub mod doors;
pub mod outputs;

pub use cameras::{CameraListing, CameraServer, Credentials, Fault, StreamKind};
pub use doors::{DoorCommand, DoorControllers, DoorEvent, DoorSettings, DoorStatus};
pub use outputs::{EventOutput, JsonLines, Mqtt, Webhook, WebhookSettings};

use parking_lot::Mutex;
use serde::Serialize;
use site::Site;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Why the simulator refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("GStreamer: {0}")]
    Gstreamer(String),
    #[error(transparent)]
    MissingElements(#[from] elements::MissingElements),
    #[error("cannot listen on {0}")]
    Bind(String),
    #[error("no camera `{0}`")]
    UnknownCamera(String),
    #[error("no door `{0}`")]
    UnknownDoor(String),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("refused: {0}")]
    Refused(String),
    #[error("not from the hub: {0}")]
    Unsigned(String),
    #[error("cannot write events: {0}")]
    Events(String),
}

impl SimError {
    /// A stable machine-readable code for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            SimError::Gstreamer(_) => "gstreamer",
            SimError::MissingElements(_) => "missing_element",
            SimError::Bind(_) => "bind",
            SimError::UnknownCamera(_) => "unknown_camera",
            SimError::UnknownDoor(_) => "unknown_door",
            SimError::BadRequest(_) => "bad_request",
            SimError::Refused(_) => "refused",
            SimError::Unsigned(_) => "unsigned",
            SimError::Events(_) => "events",
        }
    }
}

/// How to run the simulator.
#[derive(Debug)]
pub struct SimConfig {
    pub site: Site,
    /// Address the RTSP server listens on (loopback by default).
    pub host: String,
    /// RTSP port; 0 picks a free one.
    pub rtsp_port: u16,
    pub credentials: Option<Credentials>,
    pub doors: DoorSettings,
    /// The key of the hub's door commands ([`events::command_key`] of the event source's
    /// secret): with it, the control API takes only commands the hub signed, each once.
    /// Without it (a simulator on a bench, not paired with a hub) it takes any command.
    pub command_key: Option<events::CommandKey>,
}

impl SimConfig {
    /// `site` on loopback, on a free RTSP port, without credentials, and with doors that
    /// change only when told to (no random swipes or forced doors): for tests and demos that
    /// drive the doors themselves.
    pub fn quiet(site: Site) -> Self {
        Self {
            site,
            host: "127.0.0.1".into(),
            rtsp_port: 0,
            credentials: None,
            doors: DoorSettings {
                swipes_per_minute: 0.0,
                forced_per_hour: 0.0,
                ..Default::default()
            },
            command_key: None,
        }
    }
}

/// How many commands' nonces a paired simulator remembers (those of the last 10 minutes).
const COMMANDS_REMEMBERED: usize = 100_000;

/// How many recent door events the simulator keeps for `GET /api/v1/events`.
const RECENT_EVENTS: usize = 1000;

/// A running simulated site. Dropping it stops everything.
#[derive(Debug)]
pub struct Sim {
    site: Site,
    cameras: CameraServer,
    doors: Arc<Mutex<DoorState>>,
    commands: Option<Mutex<events::CommandGuard>>,
    stop: Arc<AtomicBool>,
    ticker: Option<std::thread::JoinHandle<()>>,
}

struct DoorState {
    controllers: DoorControllers,
    recent: VecDeque<DoorEvent>,
    outputs: Vec<Box<dyn EventOutput>>,
}

impl std::fmt::Debug for DoorState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DoorState")
            .field("controllers", &self.controllers)
            .field("recent", &self.recent.len())
            .finish_non_exhaustive()
    }
}

impl DoorState {
    fn record(&mut self, events: Vec<DoorEvent>) {
        for event in events {
            // Outputs never block (see `outputs`); a failing one is disabled, loudly, and the
            // simulation goes on with the events still available through the API.
            self.outputs.retain_mut(|output| match output.deliver(&event) {
                Ok(()) => true,
                Err(error) => {
                    tracing::error!(output = %output.name(), %error, "door event output disabled");
                    false
                }
            });
            if self.recent.len() == RECENT_EVENTS {
                self.recent.pop_front();
            }
            self.recent.push_back(event);
        }
    }
}

/// The simulator's description of itself: what `--json` prints and `GET /api/v1/site` returns.
#[derive(Debug, Clone, Serialize)]
pub struct SiteListing {
    pub site: String,
    pub name: String,
    pub rtsp_port: u16,
    pub cameras: Vec<CameraListing>,
    pub doors: Vec<DoorListing>,
}

/// A door as the simulator lists it.
#[derive(Debug, Clone, Serialize)]
pub struct DoorListing {
    pub id: String,
    pub name: String,
    pub zone: String,
    pub cameras: Vec<String>,
}

fn unix_ms(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Sim {
    /// Starts the cameras and door controllers; door events also go to each of `outputs`.
    pub fn start(config: SimConfig, outputs: Vec<Box<dyn EventOutput>>) -> Result<Self, SimError> {
        let cameras = CameraServer::start(
            &config.site.cameras,
            &config.host,
            config.rtsp_port,
            config.credentials.as_ref(),
        )?;
        let door_ids: Vec<String> = config.site.doors.iter().map(|d| d.id.clone()).collect();
        let boot = unix_ms(SystemTime::now());
        let doors = Arc::new(Mutex::new(DoorState {
            controllers: DoorControllers::new(&config.site.id, &door_ids, config.doors, boot, boot),
            recent: VecDeque::with_capacity(RECENT_EVENTS),
            outputs,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let ticker = {
            let (doors, stop) = (doors.clone(), stop.clone());
            std::thread::Builder::new()
                .name("sim-doors".into())
                .spawn(move || {
                    while !stop.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(100));
                        let mut state = doors.lock();
                        let events = state.controllers.tick(SystemTime::now());
                        state.record(events);
                    }
                })
                .map_err(|e| SimError::Events(format!("cannot start door thread: {e}")))?
        };
        Ok(Self {
            site: config.site,
            cameras,
            doors,
            commands: config
                .command_key
                .map(|key| Mutex::new(events::CommandGuard::new(key, COMMANDS_REMEMBERED))),
            stop,
            ticker: Some(ticker),
        })
    }

    pub fn cameras(&self) -> &CameraServer {
        &self.cameras
    }

    pub fn site(&self) -> &Site {
        &self.site
    }

    /// The whole simulated site: cameras with their stream URLs, and doors.
    pub fn listing(&self) -> SiteListing {
        SiteListing {
            site: self.site.id.clone(),
            name: self.site.name.clone(),
            rtsp_port: self.cameras.port(),
            cameras: self.cameras.listing(),
            doors: self
                .site
                .doors
                .iter()
                .map(|d| DoorListing {
                    id: d.id.clone(),
                    name: d.name.clone(),
                    zone: d.zone.clone(),
                    cameras: d.cameras.clone(),
                })
                .collect(),
        }
    }

    /// Every door's live state.
    pub fn door_status(&self) -> Vec<DoorStatus> {
        self.doors.lock().controllers.status().to_vec()
    }

    /// Carries out a door command now, returning the events it caused.
    pub fn door_command(&self, command: &DoorCommand) -> Result<Vec<DoorEvent>, SimError> {
        let mut state = self.doors.lock();
        let events = state.controllers.command(command, SystemTime::now())?;
        state.record(events.clone());
        Ok(events)
    }

    /// A door command as the network delivers it: the JSON `body` and the values of the
    /// signature's headers (`None` where missing). A simulator paired with a hub takes it
    /// only signed by the hub and only once ([`events::commands`]).
    pub fn door_command_from_network(
        &self,
        signed: [Option<&str>; 3],
        body: &[u8],
    ) -> Result<Vec<DoorEvent>, SimError> {
        if let Some(guard) = &self.commands {
            let [timestamp, nonce, signature] = signed;
            let now = unix_ms(SystemTime::now()) as i64 / 1000;
            guard
                .lock()
                .check(timestamp, nonce, signature, body, now)
                .map_err(|why| SimError::Unsigned(why.into()))?;
        }
        let command: DoorCommand = serde_json::from_slice(body)
            .map_err(|e| SimError::BadRequest(format!("not a door command: {e}")))?;
        self.door_command(&command)
    }

    /// Whether door commands from the network must be signed by the hub.
    pub fn paired(&self) -> bool {
        self.commands.is_some()
    }

    /// The most recent door events, oldest first, at most `limit`.
    pub fn recent_events(&self, limit: usize) -> Vec<DoorEvent> {
        let state = self.doors.lock();
        let skip = state.recent.len().saturating_sub(limit);
        state.recent.iter().skip(skip).cloned().collect()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
    }
}
