//! The app's core: the operator's session on a hub, the cameras it offers, the walls and what
//! they show, saved layouts, and what the app remembers. The Tauri shell calls these methods
//! from its commands and forwards [`AppEvent`]s to the console; nothing here knows Tauri, and
//! no frame ever leaves through here (video goes straight from decoder to wall).

use crate::cameras::{Cameras, SiteTree, index};
use crate::connection::{ConnectionState, Feed, FeedListener, Link, now_ms};
pub use crate::delivery::WriteOutcome;
use crate::delivery::{BoxFuture, Delivery, HubWriter};
use crate::error::{AppError, ErrorCode, Result};
use crate::hub_client::{HubClient, Session};
use crate::hub_requests::{WriteRoute, check_read, classify};
use crate::keychain::{Account, Keychain, KeychainError};
use crate::outbox::{Outbox, OutboxItem, OutboxView};
use crate::profile::{LastSignIn, Profile, ProfileState, WindowPlace};
use crate::walls::TileTour;
use crate::walls::{
    AlarmPop, TicketFetcher, TileHealth, TileSource, WallState, WallView, Walls, live_tile,
    replay_tile,
};
use contract::{Alarm, AlarmState, Caller, Change, ChangeBody, LayoutBody, SavedLayout};
use media::MediaEngine;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::Instant;
use ts_rs::TS;
use wall::{LiveTile, LiveWall, RenderThread, WallLayout};

mod alarms;
mod cameras;
mod replay;
mod session;
mod shared;
mod walls;

pub use replay::PlaybackControl;
pub use walls::layout_state;

/// What the core tells the console, as it happens.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum AppEvent {
    Connection {
        state: ConnectionState,
    },
    Walls {
        walls: Vec<WallView>,
    },
    Cameras,
    Layouts,
    /// Any other change on the hub (events, alarms, doors, incidents), for the console.
    HubChange {
        change: Box<Change>,
    },
    /// Something the operator or IT must fix (no GPU adapter, missing GStreamer plugins).
    Problem {
        message: String,
    },
    /// What waits in the outbox for the hub.
    Outbox {
        outbox: OutboxView,
    },
}

/// The signed-in session as the outbox's way to the hub.
struct SessionWriter {
    client: HubClient,
    token: crate::hub_client::Token,
}

impl HubWriter for SessionWriter {
    fn write<'a>(
        &'a self,
        method: &'a str,
        path: &'a str,
        body: &'a serde_json::Value,
    ) -> BoxFuture<'a, Result<serde_json::Value>> {
        Box::pin(self.client.write_value(&self.token, method, path, body))
    }
}

/// Alarms this urgent (1 is the most) put their cameras on the wall's alarm tiles.
pub const POP_PRIORITY: i64 = 1;

/// Where events go (the shell emits them to the webview; tests collect them).
pub trait Events: Send + Sync + 'static {
    fn emit(&self, event: AppEvent);
}

/// What the console needs when it (re)loads.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Startup {
    pub last_sign_in: Option<LastSignIn>,
    pub operator: Option<Caller>,
    pub connection: ConnectionState,
    /// Whether "remember me" can work here, and if not, why.
    pub keychain: Option<String>,
    /// Problems found while starting (an unreadable profile, no media engine).
    pub problems: Vec<String>,
    /// Whether this installation can run the embedded demo (hub and simulated site).
    pub demo_available: bool,
    /// How far back instant replay goes, in seconds.
    pub instant_replay_s: u32,
}

/// A sign-in request from the form. The password is `None` to use the remembered one.
#[derive(Clone, Deserialize, TS)]
pub struct SignIn {
    pub hub: String,
    pub username: String,
    #[serde(default)]
    #[ts(optional)]
    pub password: Option<String>,
    #[serde(default)]
    pub remember: bool,
    #[serde(default)]
    #[ts(optional)]
    pub ca_file: Option<PathBuf>,
}

/// The password never shows.
impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn")
            .field("hub", &self.hub)
            .field("username", &self.username)
            .field("remember", &self.remember)
            .field("ca_file", &self.ca_file)
            .finish_non_exhaustive()
    }
}

/// A wall picture written to disk, with where its tiles are.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Snapshot {
    pub path: PathBuf,
    pub width: u32,
    pub height: u32,
    /// Visible tiles: index and pixel rectangle.
    pub tiles: Vec<(usize, wall::PixelRect)>,
}

struct SignedIn {
    /// Which sign-in this is: work that awaited applies its result only if it still matches.
    generation: u64,
    client: HubClient,
    session: Session,
    /// The runtime the session lives on: media threads ask the hub for stream tickets on it.
    runtime: tokio::runtime::Handle,
    _feed: Option<Feed>,
}

struct State {
    saved: ProfileState,
    session: Option<SignedIn>,
    connection: ConnectionState,
    cameras: Cameras,
    sites: Vec<SiteTree>,
    problems: Vec<String>,
    /// Counts sign-ins.
    generation: u64,
}

pub struct Core {
    profile: Profile,
    keychain: std::result::Result<Keychain, KeychainError>,
    events: Arc<dyn Events>,
    engine: Option<MediaEngine>,
    state: Mutex<State>,
    walls: Mutex<Walls>,
    /// The outbox and its delivery.
    delivery: Delivery,
    /// Alarms already put on the wall (a forwarded alarm stays `new` and must not pop again).
    popped_alarms: Mutex<std::collections::HashSet<String>>,
    /// Stream tickets fetched lately, reused for a minute (a ticket opens its stream for two):
    /// a wall of sixteen reconnecting tiles asks the hub sixteen times, not again and again.
    tickets: Mutex<std::collections::HashMap<TicketKey, (u64, Instant, media::Credentials)>>,
    /// Where the embedded demo's parts are, when this installation has them.
    demo_places: Mutex<Option<demo::DemoPlaces>>,
    /// The embedded demo, while it runs (it stops when the core goes).
    demo: Mutex<Option<demo::DemoStack>>,
    me: Weak<Core>,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

/// A stream ticket's site, camera, stream and mode.
type TicketKey = (String, String, contract::StreamName, contract::StreamMode);

/// The gap between tiles, in pixels (the wall's own default).
const TILE_GAP: u32 = 2;

struct Source<'a> {
    engine: Option<&'a MediaEngine>,
    cameras: &'a Cameras,
    tickets: &'a TicketFetcher,
}

impl TileSource for Source<'_> {
    fn tile(&self, camera: &str) -> Option<LiveTile> {
        let camera = self.cameras.get(camera)?;
        Some(live_tile(self.engine?, camera, None, Some(self.tickets)))
    }

    fn replay_tile(
        &self,
        camera: &str,
        from_us: i64,
        recorded: &[contract::StreamName],
        clock: Option<&media::PlaybackClock>,
    ) -> Option<LiveTile> {
        let camera = self.cameras.get(camera)?;
        replay_tile(
            self.engine?,
            camera,
            Some(self.tickets),
            from_us,
            recorded,
            clock,
        )
    }
}

impl Core {
    /// Opens the profile and restores the walls and cameras it remembers.
    pub fn new(
        profile: Profile,
        keychain: std::result::Result<Keychain, KeychainError>,
        events: Arc<dyn Events>,
    ) -> Arc<Self> {
        let (saved, problem) = profile.load();
        let mut problems: Vec<String> = problem.into_iter().collect();
        let engine = match MediaEngine::new(Default::default()) {
            Ok(engine) => {
                // Cameras send H.264 above all: say at once when nothing can decode it.
                // The error names the package that brings the software decoder.
                if let Err(e) = engine.decoder_for(media::Codec::H264) {
                    problems.push(format!("H.264 cameras cannot play: {e}"));
                }
                Some(engine)
            }
            // A missing element names the package to install itself.
            Err(e @ media::MediaError::MissingElements(_)) => {
                problems.push(format!("video cannot play: {e}"));
                None
            }
            Err(e) => {
                problems.push(format!(
                    "video cannot play: {e}; install GStreamer 1.22 or newer (see the README)"
                ));
                None
            }
        };
        let walls = Walls::restore(&saved.walls);
        let outbox = match Outbox::open(&profile.dir().join("outbox.sqlite")) {
            Ok(outbox) => Some(outbox),
            Err(error) => {
                problems.push(format!(
                    "{}; acknowledgements and notes cannot wait for the hub while it is away",
                    error.message
                ));
                None
            }
        };
        let sites = saved.sites.clone();
        let cameras = index(&sites);
        Arc::new_cyclic(|me| Self {
            profile,
            keychain,
            events,
            engine,
            state: Mutex::new(State {
                saved,
                session: None,
                connection: ConnectionState::signed_out(now_ms(), None),
                cameras,
                sites,
                problems,
                generation: 0,
            }),
            walls: Mutex::new(walls),
            delivery: Delivery::new(outbox),
            popped_alarms: Mutex::new(Default::default()),
            tickets: Mutex::default(),
            demo_places: Mutex::new(None),
            demo: Mutex::new(None),
            me: me.clone(),
        })
    }

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    pub fn startup(&self) -> Startup {
        let state = self.state.lock();
        Startup {
            last_sign_in: state.saved.sign_in.clone(),
            operator: state.session.as_ref().map(|s| s.session.operator.clone()),
            connection: state.connection.clone(),
            keychain: self.keychain.as_ref().err().map(ToString::to_string),
            problems: state.problems.clone(),
            demo_available: self.demo_places.lock().is_some(),
            instant_replay_s: state.saved.instant_replay_s,
        }
    }

    fn save(&self) {
        let mut state = self.state.lock();
        state.saved.walls = self.walls.lock().states();
        if let Err(error) = self.profile.save(&state.saved) {
            tracing::warn!(%error, "the profile was not saved");
            if !state.problems.contains(&error.message) {
                state.problems.push(error.message);
            }
        }
    }

    /// Records a problem the console must show (and shows it now).
    pub fn report_problem(&self, message: String) {
        tracing::error!(%message, "problem");
        let mut state = self.state.lock();
        if !state.problems.contains(&message) {
            state.problems.push(message.clone());
        }
        drop(state);
        self.events.emit(AppEvent::Problem { message });
    }

    fn emit_walls(&self) {
        let walls = self.walls.lock().views();
        self.events.emit(AppEvent::Walls { walls });
    }
}

/// A hub answer read as the contract type it must be.
fn read_hub<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T> {
    serde_json::from_value(value).map_err(|e| {
        AppError::new(
            ErrorCode::HubAnswer,
            format!("the hub's answer is not what this app expects: {e}"),
        )
    })
}

fn hex_id() -> String {
    let bytes: [u8; 12] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn new_id() -> String {
    format!("layout-{}", hex_id())
}
