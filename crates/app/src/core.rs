//! The app's core: the operator's session on a hub, the cameras it offers, the walls and what
//! they show, saved layouts, and what the app remembers. The Tauri shell calls these methods
//! from its commands and forwards [`AppEvent`]s to the console; nothing here knows Tauri, and
//! no frame ever leaves through here (video goes straight from decoder to wall).

use crate::cameras::{Cameras, SiteTree, index};
use crate::connection::{ConnectionState, Feed, FeedListener, Link, now_ms};
use crate::error::{AppError, ErrorCode, Result};
use crate::hub_client::{HubClient, Session, is_transient};
use crate::hub_requests::{WriteRoute, check_read, classify};
use crate::keychain::{Account, Keychain, KeychainError};
use crate::outbox::{Outbox, OutboxItem, OutboxView};
use crate::profile::{LastSignIn, Profile, ProfileState, WindowPlace};
use crate::walls::TileTour;
use crate::walls::{AlarmPop, TileHealth, TileSource, WallState, WallView, Walls, live_tile};
use contract::{Alarm, AlarmState, Caller, Change, ChangeBody, LayoutBody, SavedLayout};
use media::MediaEngine;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::Instant;
use ts_rs::TS;
use wall::{LiveTile, LiveWall, RenderThread, WallLayout};

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

/// What became of a write the console asked for.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum WriteOutcome {
    /// The hub has it; `value` is its answer.
    Delivered {
        #[ts(type = "unknown")]
        value: serde_json::Value,
    },
    /// The hub has it, taken by a delivery pass whose answer is no longer kept: the live feed
    /// brings the change.
    DeliveredWithoutAnswer,
    /// It waits in the outbox as `outbox_id` and is delivered exactly once when the hub is
    /// back.
    Queued { outbox_id: String },
}

/// Alarms this urgent (1 is the most) put their cameras on the wall's alarm tiles.
pub const POP_PRIORITY: i64 = 1;

/// Where events go (the shell emits them to the webview; tests collect them).
pub trait Events: Send + Sync + 'static {
    fn emit(&self, event: AppEvent);
}

/// The wall state a saved layout describes, checked like any layout file.
pub fn layout_state(saved: &SavedLayout) -> Result<WallState> {
    let layout = WallLayout::from_json(&saved.body.wall.to_string()).map_err(|e| {
        AppError::bad_input(format!(
            "the saved layout `{}` is not usable: {e}",
            saved.body.name
        ))
    })?;
    Ok(WallState {
        layout,
        cameras: saved.body.cameras.clone(),
        tours: (saved.body.tours.iter().cloned())
            .map(|t| t.map(TileTour::from))
            .collect(),
        selected: 0,
        alarm_tiles: Vec::new(),
        alarm_holds: Default::default(),
    }
    .normalised())
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
}

/// A sign-in request from the form. The password is `None` to use the remembered one.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct SignIn {
    pub hub: String,
    pub username: String,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub remember: bool,
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
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
    outbox: Option<Outbox>,
    /// Outcomes of deliveries, by outbox id, until the write's caller collects them.
    results:
        Mutex<std::collections::BTreeMap<String, std::result::Result<serde_json::Value, AppError>>>,
    /// Alarms already put on the wall (a forwarded alarm stays `new` and must not pop again).
    popped_alarms: Mutex<std::collections::HashSet<String>>,
    /// Where the embedded demo's parts are, when this installation has them.
    demo_places: Mutex<Option<demo::DemoPlaces>>,
    /// The embedded demo, while it runs (it stops when the core goes).
    demo: Mutex<Option<demo::DemoStack>>,
    /// One delivery pass at a time keeps the outbox's order.
    delivering: tokio::sync::Mutex<()>,
    me: Weak<Core>,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

/// The gap between tiles, in pixels (the wall's own default).
const TILE_GAP: u32 = 2;

struct Source<'a> {
    engine: Option<&'a MediaEngine>,
    cameras: &'a Cameras,
}

impl TileSource for Source<'_> {
    fn tile(&self, camera: &str) -> Option<LiveTile> {
        let camera = self.cameras.get(camera)?;
        Some(live_tile(self.engine?, camera, None))
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
            outbox,
            results: Mutex::new(Default::default()),
            popped_alarms: Mutex::new(Default::default()),
            demo_places: Mutex::new(None),
            demo: Mutex::new(None),
            delivering: tokio::sync::Mutex::new(()),
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
        }
    }

    /// Tells the core where the embedded demo's parts are (the shell finds them).
    pub fn offer_demo(&self, places: demo::DemoPlaces) {
        *self.demo_places.lock() = Some(places);
    }

    /// Starts the embedded demo (a hub and a simulated site as child processes, on free
    /// ports, its data in the profile's `demo/`), signs in as its guard and puts the site's
    /// cameras on an empty wall. The demo runs until the app ends.
    pub async fn start_demo(&self) -> Result<Caller> {
        let places = self.demo_places.lock().clone().ok_or_else(|| {
            AppError::new(
                ErrorCode::NoDemo,
                "this installation has no demo (watchfloor-hub, watchfloor-sim and the demo site)",
            )
        })?;
        let stopped = self.demo.lock().take();
        if let Some(mut old) = stopped {
            tokio::task::spawn_blocking(move || old.stop())
                .await
                .map_err(|e| AppError::new(ErrorCode::Demo, e.to_string()))?;
        }
        // Starting waits for processes and ports: off the async workers.
        let stack = tokio::task::spawn_blocking(move || {
            let ports = demo::DemoPorts::free()?;
            demo::DemoStack::start(&places, ports, &|step| tracing::info!("{step}"))
        })
        .await
        .map_err(|e| AppError::new(ErrorCode::Demo, e.to_string()))?
        .map_err(|e| AppError::new(ErrorCode::Demo, e.to_string()))?;
        let password = std::fs::read_to_string(&stack.password_file)
            .map_err(|e| AppError::storage(format!("the demo password: {e}")))?;
        let request = SignIn {
            hub: stack.hub_url.clone(),
            username: "guard".into(),
            password: Some(password.trim().to_owned()),
            remember: false,
            ca_file: Some(stack.certificate.clone()),
        };
        let site = stack.site_id.clone();
        *self.demo.lock() = Some(stack);
        let operator = self.sign_in(request).await?;
        self.show_site_if_empty(&site);
        Ok(operator)
    }

    /// Puts a site's cameras on the first wall when it shows nothing yet.
    pub fn show_site_if_empty(&self, site: &str) {
        let Some(wall) = self.walls().into_iter().next() else {
            return;
        };
        if wall.state.cameras.iter().any(Option::is_some) {
            return;
        }
        let cameras = self.site_cameras(site);
        if let Err(error) = self.fill_wall(&wall.id, &cameras) {
            tracing::error!(%error, %site, "the site's cameras are not on the wall");
        }
    }

    /// Stops the embedded demo, if it runs (at exit).
    pub fn stop_demo(&self) {
        if let Some(mut stack) = self.demo.lock().take() {
            stack.stop();
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

    // ---- session ------------------------------------------------------------------------

    /// Signs in; with no password given, uses the one the keychain remembers.
    pub async fn sign_in(&self, request: SignIn) -> Result<Caller> {
        let client = HubClient::new(&request.hub, request.ca_file.as_deref())?;
        let username = request.username.trim().to_owned();
        if username.is_empty() {
            return Err(AppError::bad_input("type a user name"));
        }
        let account = Account {
            hub: client.address(),
            username: username.clone(),
        };
        let (password, typed) = match request.password.filter(|p| !p.is_empty()) {
            Some(password) => (password, true),
            None => {
                let keychain = self
                    .keychain
                    .as_ref()
                    .map_err(|e| AppError::from(e.clone()))?;
                let remembered = keychain.load(&account)?;
                (
                    remembered.ok_or_else(|| {
                        AppError::new(ErrorCode::NoPassword, "no password is remembered; type it")
                    })?,
                    false,
                )
            }
        };
        let session = client.sign_in(&username, &password).await?;
        let mut problem = None;
        if let Ok(keychain) = &self.keychain {
            let outcome = if request.remember && typed {
                keychain.save(&account, &password)
            } else if !request.remember {
                keychain.forget(&account)
            } else {
                Ok(())
            };
            if let Err(error) = outcome {
                problem = Some(format!("the password was not remembered: {error}"));
            }
        } else if request.remember {
            problem = self.keychain.as_ref().err().map(|e| e.to_string());
        }
        let operator = session.operator.clone();
        let generation = {
            let mut state = self.state.lock();
            state.saved.sign_in = Some(LastSignIn {
                hub: client.address(),
                username: username.clone(),
                ca_file: request.ca_file.clone(),
                remember: request.remember && problem.is_none(),
            });
            if let Some(problem) = problem {
                state.problems.push(problem);
            }
            state.generation += 1;
            state.session = Some(SignedIn {
                generation: state.generation,
                client: client.clone(),
                session: session.clone(),
                _feed: None,
            });
            state.generation
        };
        self.save();
        if let Err(error) = self.refresh_cameras().await {
            // Signed in but not usable: undo, unless another sign-in came meanwhile.
            let mut state = self.state.lock();
            if state.session.as_ref().map(|s| s.generation) == Some(generation) {
                state.session = None;
            }
            return Err(error);
        }
        // The live link starts last: its first state arrives once the cameras are known.
        let mut state = self.state.lock();
        match state.session.as_mut() {
            Some(signed) if signed.generation == generation => {
                let listener: Arc<dyn FeedListener> =
                    Arc::new(Listener(self.me.clone(), generation));
                signed._feed = Some(Feed::start(
                    client,
                    session.token.clone(),
                    username,
                    listener,
                ));
                drop(state);
                // Urgent alarms nobody has acknowledged yet go up on the wall at sign-in too,
                // not only those raised while the app runs.
                if let Some(core) = self.me.upgrade() {
                    tokio::spawn(async move { core.pop_open_alarms().await });
                }
                Ok(operator)
            }
            _ => Err(AppError::new(
                ErrorCode::Superseded,
                "another sign-in or a sign-out happened meanwhile",
            )),
        }
    }

    /// Signs out (and forgets the remembered password when asked). The walls keep showing
    /// their cameras.
    pub async fn sign_out(&self, forget_password: bool) -> Result<()> {
        let signed = self.state.lock().session.take();
        let Some(signed) = signed else {
            return Ok(());
        };
        self.set_connection(ConnectionState::signed_out(now_ms(), None));
        if let Err(error) = signed.client.sign_out(&signed.session.token).await {
            tracing::warn!(%error, "the hub did not hear the sign-out; the session expires by itself");
        }
        if forget_password && let Ok(keychain) = &self.keychain {
            keychain.forget(&Account {
                hub: signed.client.address(),
                username: signed.session.operator.username.clone(),
            })?;
            if let Some(last) = self.state.lock().saved.sign_in.as_mut() {
                last.remember = false;
            }
            self.save();
        }
        Ok(())
    }

    fn set_connection(&self, connection: ConnectionState) {
        self.state.lock().connection = connection.clone();
        self.events.emit(AppEvent::Connection { state: connection });
    }

    pub fn connection(&self) -> ConnectionState {
        self.state.lock().connection.clone()
    }

    fn signed(&self) -> Result<(HubClient, crate::hub_client::Token)> {
        let state = self.state.lock();
        let signed = state.session.as_ref().ok_or_else(AppError::not_signed_in)?;
        Ok((signed.client.clone(), signed.session.token.clone()))
    }

    // ---- cameras ------------------------------------------------------------------------

    /// Reads every site the operator may see, with its floors and cameras.
    pub async fn refresh_cameras(&self) -> Result<Vec<SiteTree>> {
        let (client, token) = self.signed()?;
        let generation = self.state.lock().generation;
        let mut sites = Vec::new();
        for summary in client.sites(&token).await? {
            let detail = client.site(&token, &summary.id).await?;
            sites.push(SiteTree::from_hub(&detail));
        }
        {
            let mut state = self.state.lock();
            if state.generation != generation {
                return Err(AppError::new(
                    ErrorCode::Superseded,
                    "the session changed meanwhile",
                ));
            }
            state.cameras = index(&sites);
            state.sites = sites.clone();
            state.saved.sites = sites.clone();
        }
        self.save();
        self.events.emit(AppEvent::Cameras);
        Ok(sites)
    }

    /// The camera tree (what the hub said last, also while it is unreachable).
    pub fn cameras(&self) -> Vec<SiteTree> {
        self.state.lock().sites.clone()
    }

    // ---- walls --------------------------------------------------------------------------

    /// Runs `change` on the walls with the cameras at hand, then saves and tells the console.
    fn change_walls<T>(
        &self,
        change: impl FnOnce(&mut Walls, &Source<'_>) -> Result<T>,
    ) -> Result<T> {
        let out = self.with_source(change)?;
        self.save();
        self.emit_walls();
        Ok(out)
    }

    /// Runs `work` on the walls with the cameras at hand (copied first: the state's lock is
    /// not held while streams are made).
    fn with_source<T>(&self, work: impl FnOnce(&mut Walls, &Source<'_>) -> T) -> T {
        let cameras = self.state.lock().cameras.clone();
        let source = Source {
            engine: self.engine.as_ref(),
            cameras: &cameras,
        };
        work(&mut self.walls.lock(), &source)
    }

    pub fn walls(&self) -> Vec<WallView> {
        self.walls.lock().views()
    }

    pub fn wall_ids(&self) -> Vec<String> {
        self.walls.lock().ids()
    }

    /// A window now shows wall `id`; `start` begins drawing the live wall in it.
    pub fn attach_wall(
        &self,
        id: &str,
        start: impl FnOnce(LiveWall) -> std::result::Result<RenderThread, String>,
    ) -> Result<()> {
        self.change_walls(|walls, source| walls.attach(id, start, source))
    }

    /// The wall's window closed; returns its render thread to stop.
    pub fn detach_wall(&self, id: &str) -> Option<RenderThread> {
        let renderer = self.walls.lock().detach(id);
        self.emit_walls();
        renderer
    }

    /// The wall's window was resized (physical pixels).
    pub fn resize_wall(&self, id: &str, width: u32, height: u32) -> Result<()> {
        self.walls.lock().resize(id, width, height)
    }

    pub fn add_wall(&self) -> Result<String> {
        self.change_walls(|walls, _| Ok(walls.add()))
    }

    pub fn remove_wall(&self, id: &str) -> Result<()> {
        self.change_walls(|walls, _| walls.remove(id))
    }

    pub fn set_preset(&self, wall: &str, preset: &str) -> Result<()> {
        let preset: wall::Preset = preset
            .parse()
            .map_err(|e| AppError::bad_input(format!("{e}")))?;
        self.change_walls(|walls, source| {
            walls.set_layout(wall, WallLayout::preset(preset), source)
        })
    }

    pub fn assign(&self, wall: &str, tile: usize, camera: Option<&str>) -> Result<()> {
        self.change_walls(|walls, source| walls.assign(wall, tile, camera, source))
    }

    /// Shows these cameras, in order, on a grid that holds them all.
    pub fn fill_wall(&self, wall: &str, cameras: &[String]) -> Result<()> {
        self.change_walls(|walls, source| walls.fill(wall, cameras, source))
    }

    /// Every camera of a site, in the tree's order.
    pub fn site_cameras(&self, site: &str) -> Vec<String> {
        self.state
            .lock()
            .sites
            .iter()
            .filter(|s| s.id == site)
            .flat_map(|s| {
                s.floors
                    .iter()
                    .flat_map(|f| f.cameras.iter().map(|c| c.id.clone()))
            })
            .collect()
    }

    pub fn select(&self, wall: &str, tile: usize) -> Result<()> {
        self.change_walls(|walls, _| walls.select(wall, tile))
    }

    pub fn maximize(&self, wall: &str, tile: Option<usize>) -> Result<()> {
        self.change_walls(|walls, _| walls.maximize(wall, tile))
    }

    pub fn set_tour(&self, wall: &str, tile: usize, tour: Option<TileTour>) -> Result<()> {
        self.change_walls(|walls, source| walls.set_tour(wall, tile, tour, Instant::now(), source))
    }

    /// Moves tours on; call about once a second.
    pub fn tick(&self, now: Instant) {
        // Called twice a second: nothing is copied unless a tour is due.
        if !self.walls.lock().tour_due(now) {
            return;
        }
        if self.with_source(|walls, source| walls.tick(now, source)) {
            self.save();
            self.emit_walls();
        }
    }

    /// Writes a PNG of what wall `id` shows to the profile's `snapshots` folder.
    pub fn snapshot(&self, id: &str) -> Result<Snapshot> {
        let (answer, layout) = {
            let walls = self.walls.lock();
            (walls.request_snapshot(id)?, walls.view(id)?.state.layout)
        };
        // Waited for without the walls' lock: the render thread may take a while.
        let image = answer
            .recv_timeout(std::time::Duration::from_secs(10))
            .map_err(|_| {
                AppError::new(
                    ErrorCode::Wall,
                    format!("wall `{id}` gave no picture in 10 s"),
                )
            })?
            .map_err(|e| AppError::new(ErrorCode::Wall, e.to_string()))?;
        let folder = self.profile.dir().join("snapshots");
        std::fs::create_dir_all(&folder)
            .map_err(|e| AppError::storage(format!("cannot create {}: {e}", folder.display())))?;
        let path = folder.join(format!("{id}-{}.png", now_ms()));
        image
            .save_png(&path)
            .map_err(|e| AppError::storage(e.to_string()))?;
        Ok(Snapshot {
            tiles: layout.pixel_rects(image.width, image.height, TILE_GAP),
            width: image.width,
            height: image.height,
            path,
        })
    }

    pub fn stream_health(&self) -> Vec<TileHealth> {
        let requests = self.walls.lock().request_health();
        requests
            .into_iter()
            .flat_map(|r| r.wait(std::time::Duration::from_secs(2)))
            .collect()
    }

    // ---- windows ------------------------------------------------------------------------

    pub fn window_place(&self, label: &str) -> Option<WindowPlace> {
        self.state.lock().saved.windows.get(label).copied()
    }

    /// Remembers where a window is (saved on the next save, and at exit).
    pub fn remember_window(&self, label: &str, place: WindowPlace) {
        self.state
            .lock()
            .saved
            .windows
            .insert(label.to_owned(), place);
    }

    /// Saves everything now (at exit).
    pub fn flush(&self) {
        self.save();
    }

    // ---- saved layouts ------------------------------------------------------------------

    pub async fn layouts(&self) -> Result<Vec<SavedLayout>> {
        let (client, token) = self.signed()?;
        client.layouts(&token).await
    }

    /// Saves what wall `wall` shows as a layout on the hub (a new one unless `id` is given),
    /// private or shared with a site.
    pub async fn save_layout(
        &self,
        wall: &str,
        name: &str,
        shared_site: Option<&str>,
        id: Option<&str>,
    ) -> Result<SavedLayout> {
        let (client, token) = self.signed()?;
        let state = self.walls.lock().view(wall)?.state;
        let id = id.map(str::to_owned).unwrap_or_else(new_id);
        let mut layout = state.layout.clone();
        layout.maximized = None;
        let wall = serde_json::to_value(&layout)
            .map_err(|e| AppError::bad_input(format!("cannot encode the layout: {e}")))?;
        let body = LayoutBody {
            name: name.trim().to_owned(),
            shared_site: shared_site.map(str::to_owned),
            wall,
            cameras: state.cameras.clone(),
            tours: (state.tours.iter().cloned())
                .map(|t| t.map(contract::Tour::from))
                .collect(),
        };
        let saved = client.put_layout(&token, &id, &body).await?;
        self.events.emit(AppEvent::Layouts);
        Ok(saved)
    }

    /// Shows a saved layout on wall `wall`.
    pub async fn open_layout(&self, wall: &str, id: &str) -> Result<()> {
        let layouts = self.layouts().await?;
        let layout = layouts
            .iter()
            .find(|l| l.id == id)
            .ok_or_else(|| AppError::bad_input(format!("no saved layout `{id}`")))?;
        let state = layout_state(layout)?;
        // Its tours start now, from their first cameras.
        self.change_walls(|walls, source| walls.apply_state(wall, state, source))
    }

    pub async fn delete_layout(&self, id: &str) -> Result<()> {
        let (client, token) = self.signed()?;
        client.delete_layout(&token, id).await?;
        self.events.emit(AppEvent::Layouts);
        Ok(())
    }

    // ---- the shared picture: events, alarms, maps, incidents ----------------------------

    /// Reads `/api/v1` + `path` from the hub (only the paths the console may read).
    pub async fn hub_get(&self, path: &str) -> Result<serde_json::Value> {
        check_read(path)?;
        let (client, token) = self.signed()?;
        client.get_value(&token, path).await
    }

    /// A floor plan as a `data:` URL for the console's `<img>` (the webview holds no token).
    pub async fn floor_plan(&self, site: &str, floor: &str) -> Result<String> {
        use base64::Engine as _;
        let path = format!(
            "/sites/{}/floors/{}/plan",
            crate::hub_client::encode(site),
            crate::hub_client::encode(floor)
        );
        let (client, token) = self.signed()?;
        let (media_type, bytes) = client.get_bytes(&token, &path).await?;
        if !media_type.starts_with("image/") {
            return Err(AppError::new(
                ErrorCode::HubAnswer,
                format!("the floor plan is {media_type}, not an image"),
            ));
        }
        Ok(format!(
            "data:{media_type};base64,{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        ))
    }

    /// A write from the console. Operator writes (alarm actions, incidents, notes) go through
    /// the outbox: stored first, then sent, so a lost hub or a killed app loses nothing. Door
    /// commands go now or not at all.
    pub async fn hub_write(
        &self,
        method: &str,
        path: &str,
        body: serde_json::Value,
    ) -> Result<WriteOutcome> {
        match classify(method, path, &body)? {
            WriteRoute::Direct => {
                let (client, token) = self.signed()?;
                match client.write_value(&token, method, path, &body).await {
                    Ok(value) => Ok(WriteOutcome::Delivered { value }),
                    Err(error) if error.code == ErrorCode::HubUnreachable => Err(AppError::new(
                        ErrorCode::Offline,
                        format!(
                            "{}; door commands are never queued, try again when the hub is back",
                            error.message
                        ),
                    )),
                    Err(error) if error.code == ErrorCode::HubTimeout => Err(AppError::new(
                        ErrorCode::OutcomeUnknown,
                        format!(
                            "{}; the command may have been carried out: check the door's state \
                             on the map before trying again",
                            error.message
                        ),
                    )),
                    Err(error) => Err(error),
                }
            }
            WriteRoute::Queued { summary } => {
                let outbox = self.outbox.as_ref().ok_or_else(|| {
                    AppError::storage("the outbox is not available; see the problems shown")
                })?;
                let (hub, username) = {
                    let state = self.state.lock();
                    let signed = state.session.as_ref().ok_or_else(AppError::not_signed_in)?;
                    (
                        signed.client.address(),
                        signed.session.operator.username.clone(),
                    )
                };
                let item = OutboxItem {
                    id: format!("out-{}", hex_id()),
                    hub,
                    username,
                    method: method.to_owned(),
                    path: path.to_owned(),
                    body,
                    summary,
                    created_ms: now_ms(),
                    attempts: 0,
                    last_error: None,
                    failed: false,
                };
                outbox.push(&item)?;
                self.emit_outbox();
                // Away from the hub, a try would only wait out the timeouts: queue at once.
                if self.connection().link != Link::Online {
                    return Ok(WriteOutcome::Queued { outbox_id: item.id });
                }
                self.deliver_outbox().await;
                // This pass, or one that ran meanwhile, may have sent it.
                let result = self.results.lock().remove(&item.id);
                let waiting = outbox
                    .view()
                    .map(|v| v.items.iter().any(|i| i.id == item.id && !i.failed))
                    .unwrap_or(true);
                Ok(match result {
                    Some(Ok(value)) => WriteOutcome::Delivered { value },
                    Some(Err(refusal)) => {
                        // Refused at once: the operator hears it here, so it need not wait
                        // in the outbox as a failure too.
                        if let Err(error) = outbox.discard(&item.id) {
                            tracing::warn!(%error, "a refused write stays in the outbox");
                        }
                        self.emit_outbox();
                        return Err(refusal);
                    }
                    // Delivered, its answer no longer kept: the live feed brings the change.
                    None if !waiting => WriteOutcome::DeliveredWithoutAnswer,
                    None => WriteOutcome::Queued { outbox_id: item.id },
                })
            }
        }
    }

    /// Sends what waits in the outbox for this session, oldest first, and stops at the first
    /// write the hub could not take now (order is kept). A write the hub refuses for good is
    /// marked failed and shown; the rest go on. Each outcome waits in `results` for the call
    /// that queued the write. Returns the outbox ids the hub took in this pass.
    pub async fn deliver_outbox(&self) -> Vec<String> {
        let mut delivered = Vec::new();
        let Some(outbox) = &self.outbox else {
            return delivered;
        };
        let _one_pass = self.delivering.lock().await;
        let signed = {
            let state = self.state.lock();
            state.session.as_ref().map(|s| {
                (
                    s.client.clone(),
                    s.session.token.clone(),
                    s.session.operator.username.clone(),
                )
            })
        };
        let Some((client, token, username)) = signed else {
            return delivered;
        };
        let pending = match outbox.pending(&client.address(), &username) {
            // Nothing waits: nothing to send, and nothing new to tell the console.
            Ok(pending) if pending.is_empty() => return delivered,
            Ok(pending) => pending,
            Err(error) => {
                self.report_problem(error.message);
                return delivered;
            }
        };
        for item in pending {
            let sent = client
                .write_value(&token, &item.method, &item.path, &item.body)
                .await;
            let recorded = match sent {
                Ok(value) => {
                    self.keep_result(&item.id, Ok(value));
                    delivered.push(item.id.clone());
                    outbox.delivered(&item.id)
                }
                Err(error) if is_transient(&error) => {
                    let _ = outbox.attempt_failed(&item.id, &error.message, false);
                    tracing::info!(item = %item.summary, %error, "outbox waits for the hub");
                    break;
                }
                Err(error) => {
                    tracing::warn!(item = %item.summary, %error, "the hub refused a queued write");
                    let recorded = outbox.attempt_failed(&item.id, &error.message, true);
                    self.keep_result(&item.id, Err(error));
                    recorded
                }
            };
            if let Err(error) = recorded {
                self.report_problem(error.message);
                break;
            }
        }
        self.emit_outbox();
        delivered
    }

    /// Keeps a delivery's outcome for the `hub_write` call that queued it (a few hundred at
    /// most: a call collects its own at once).
    fn keep_result(&self, id: &str, result: std::result::Result<serde_json::Value, AppError>) {
        let mut results = self.results.lock();
        if results.len() >= 256 {
            results.pop_first();
        }
        results.insert(id.to_owned(), result);
    }

    /// Retries the outbox while the hub is reachable (call now and then; a pass with nothing
    /// waiting does nothing).
    pub async fn retry_outbox(&self) {
        if self.connection().link == Link::Online {
            self.deliver_outbox().await;
        }
    }

    pub fn outbox(&self) -> Result<OutboxView> {
        match &self.outbox {
            Some(outbox) => outbox.view(),
            None => Ok(OutboxView { items: Vec::new() }),
        }
    }

    /// Drops a write the hub refused for good.
    pub fn outbox_discard(&self, id: &str) -> Result<()> {
        self.outbox
            .as_ref()
            .ok_or_else(|| AppError::storage("the outbox is not available"))?
            .discard(id)?;
        self.emit_outbox();
        Ok(())
    }

    fn emit_outbox(&self) {
        match self.outbox() {
            Ok(outbox) => self.events.emit(AppEvent::Outbox { outbox }),
            Err(error) => tracing::warn!(%error, "outbox unreadable"),
        }
    }

    /// Attaches a picture of wall `wall` to incident `incident` as a note (through the outbox).
    pub async fn incident_snapshot(&self, incident: &str, wall: &str) -> Result<WriteOutcome> {
        use base64::Engine as _;
        // Reading the wall back waits for its render thread: not on an async worker.
        let core = self
            .me
            .upgrade()
            .ok_or_else(|| AppError::new(ErrorCode::Wall, "the app is closing"))?;
        let wall_id = wall.to_owned();
        let snapshot = tokio::task::spawn_blocking(move || core.snapshot(&wall_id))
            .await
            .map_err(|e| AppError::new(ErrorCode::Wall, e.to_string()))??;
        let bytes = std::fs::read(&snapshot.path).map_err(|e| {
            AppError::storage(format!("cannot read {}: {e}", snapshot.path.display()))
        })?;
        let now = chrono::Utc::now();
        let name = format!("{wall}-{}.png", now.format("%Y%m%dT%H%M%SZ"));
        let body = serde_json::json!({
            "id": format!("note-{}", hex_id()),
            "text": format!("Picture of {wall} at {} UTC", now.format("%H:%M:%S")),
            "attachments": [{
                "name": name,
                "media_type": "image/png",
                "data": base64::engine::general_purpose::STANDARD.encode(bytes),
            }],
        });
        let path = format!("/incidents/{}/notes", crate::hub_client::encode(incident));
        self.hub_write("POST", &path, body).await
    }

    /// Puts the cameras of every open, unacknowledged urgent alarm on the alarm tiles (oldest
    /// first, so the newest ends up on top when tiles run out).
    async fn pop_open_alarms(&self) {
        // Tiles still held from before (the app was closed or killed meanwhile): alarms handled
        // since then let go of them.
        let held = self.walls.lock().held_alarms();
        for id in held {
            let path = format!("/alarms/{}", crate::hub_client::encode(&id));
            let state = match self.hub_get(&path).await.and_then(read_hub::<Alarm>) {
                Ok(alarm) => alarm.state,
                Err(error) if error.code == ErrorCode::HubNotFound => AlarmState::Closed,
                Err(error) => {
                    tracing::warn!(%error, alarm = %id, "held alarm not checked");
                    continue;
                }
            };
            if state != AlarmState::New {
                self.alarm_changed(&id, state, POP_PRIORITY, &[]);
            }
        }
        let sites: Vec<String> = self
            .state
            .lock()
            .sites
            .iter()
            .map(|s| s.id.clone())
            .collect();
        let mut open: Vec<Alarm> = Vec::new();
        for site in sites {
            let path = format!(
                "/alarms?site={}&state=new&limit=50",
                crate::hub_client::encode(&site)
            );
            let read = self.hub_get(&path).await.and_then(read_hub::<Vec<Alarm>>);
            match read {
                Ok(alarms) => open.extend(alarms),
                Err(error) => tracing::warn!(%error, %site, "open alarms not read"),
            }
        }
        open.retain(|a| a.priority <= POP_PRIORITY);
        open.sort_by(|a, b| a.raised.cmp(&b.raised));
        for alarm in &open {
            self.alarm_changed(&alarm.id, alarm.state, alarm.priority, &alarm.cameras);
        }
    }

    /// Whether this is the first time alarm `id` asks for the wall (the set is bounded: an alarm
    /// that old is long handled).
    fn first_pop(&self, id: &str) -> bool {
        let mut popped = self.popped_alarms.lock();
        if popped.len() >= 4096 {
            popped.clear();
        }
        popped.insert(id.to_owned())
    }

    /// Chooses the tiles alarms take over on wall `wall`.
    pub fn set_alarm_tiles(&self, wall: &str, tiles: &[usize]) -> Result<()> {
        self.change_walls(|walls, _| walls.set_alarm_tiles(wall, tiles))
    }

    /// The wall's side of an alarm: a new urgent one puts its cameras on the alarm tiles and
    /// flashes them; acknowledged stops the flashing; closed gives the tiles back.
    fn alarm_changed(&self, id: &str, state: AlarmState, priority: i64, cameras: &[String]) {
        let changed = match state {
            AlarmState::New
                if priority <= POP_PRIORITY && !cameras.is_empty() && self.first_pop(id) =>
            {
                let pop = AlarmPop {
                    alarm: id.to_owned(),
                    cameras: cameras.to_vec(),
                };
                match self.with_source(|walls, source| walls.pop_alarm(&pop, source)) {
                    Ok(tiles) => !tiles.is_empty(),
                    Err(error) => {
                        tracing::warn!(%error, alarm = %id, "alarm cameras not shown");
                        false
                    }
                }
            }
            AlarmState::New => false,
            AlarmState::Acknowledged => self.walls.lock().alarm_acknowledged(id),
            AlarmState::Closed => self.with_source(|walls, source| walls.alarm_closed(id, source)),
        };
        if changed {
            self.save();
            self.emit_walls();
        }
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

/// The feed reports to the core, which may be gone (no cycle keeps it alive), about the
/// sign-in it was started for; reports about an older sign-in are dropped.
struct Listener(Weak<Core>, u64);

impl Listener {
    fn core(&self) -> Option<Arc<Core>> {
        let core = self.0.upgrade()?;
        let current = core.state.lock().session.as_ref().map(|s| s.generation);
        (current == Some(self.1)).then_some(core)
    }
}

impl FeedListener for Listener {
    fn state(&self, state: ConnectionState) {
        if let Some(core) = self.core() {
            let was = core.state.lock().connection.link;
            core.set_connection(state.clone());
            if state.link == Link::Online {
                // Back online after a gap: the cameras may have changed meanwhile, and what
                // was written offline goes out now.
                let refresh = was == Link::Reconnecting;
                tokio::spawn(async move {
                    if refresh && let Err(error) = core.refresh_cameras().await {
                        tracing::warn!(%error, "cameras not refreshed");
                    }
                    core.deliver_outbox().await;
                });
            }
        }
    }

    fn change(&self, change: Change) {
        let Some(core) = self.core() else {
            return;
        };
        match &change.body {
            ChangeBody::Alarm(alarm) => {
                core.alarm_changed(&alarm.id, alarm.state, alarm.priority, &alarm.cameras)
            }
            ChangeBody::Layout(_) | ChangeBody::LayoutRemoved(_) => {
                core.events.emit(AppEvent::Layouts)
            }
            ChangeBody::Site(_) => {
                tokio::spawn(async move {
                    if let Err(error) = core.refresh_cameras().await {
                        tracing::warn!(%error, "cameras not refreshed");
                    }
                });
                return;
            }
            _ => {}
        }
        core.events.emit(AppEvent::HubChange {
            change: Box::new(change),
        });
    }

    fn session_ended(&self, reason: String) {
        if let Some(core) = self.core() {
            core.state.lock().session = None;
            core.set_connection(ConnectionState::signed_out(
                now_ms(),
                Some(format!("the hub ended the session: {reason}")),
            ));
        }
    }
}
