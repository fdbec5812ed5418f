//! The walls: what each shows (layout, the camera on each tile, tile tours), kept here so it
//! survives a console reload, is saved in the profile, and is sent to each wall's
//! [`RenderThread`] as commands. The render threads themselves are started by the shell,
//! which owns the windows; a wall without a window keeps its state and shows it when one
//! attaches.

use crate::cameras::KnownCamera;
use crate::error::{AppError, ErrorCode, Result};
use contract::{StreamMode, StreamName};
use media::{
    AdaptivePolicy, AdaptiveStream, Credentials, MediaEngine, PlaybackClock, StreamHealth,
    StreamSettings,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use ts_rs::TS;
use wall::{LiveTile, LiveWall, RenderThread, WallCommand, WallLayout};

/// A camera sequence on one tile: each camera in turn for `dwell_s` seconds. The app's own
/// (walls remember it in the profile); layouts on the hub carry it as [`contract::Tour`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TileTour {
    pub cameras: Vec<String>,
    pub dwell_s: u32,
}

impl From<contract::Tour> for TileTour {
    fn from(tour: contract::Tour) -> Self {
        Self {
            cameras: tour.cameras,
            dwell_s: tour.dwell_s,
        }
    }
}

impl From<TileTour> for contract::Tour {
    fn from(tour: TileTour) -> Self {
        Self {
            cameras: tour.cameras,
            dwell_s: tour.dwell_s,
        }
    }
}

impl TileTour {
    pub fn check(&self) -> Result<()> {
        if self.cameras.is_empty() || self.cameras.len() > 256 {
            return Err(AppError::bad_input("a tour has 1 to 256 cameras"));
        }
        if !(1..=3600).contains(&self.dwell_s) {
            return Err(AppError::bad_input(
                "a tour's dwell time is 1 to 3600 seconds",
            ));
        }
        Ok(())
    }
}

/// What one wall shows; saved in the profile and in saved layouts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct WallState {
    pub layout: WallLayout,
    /// One entry per tile: the camera it shows.
    pub cameras: Vec<Option<String>>,
    /// One entry per tile: its tour.
    #[serde(default)]
    pub tours: Vec<Option<TileTour>>,
    #[serde(default)]
    pub selected: usize,
    /// The tiles an alarm takes over with its cameras (the last tile unless chosen).
    #[serde(default)]
    pub alarm_tiles: Vec<usize>,
    /// The tiles alarms hold now, by tile.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub alarm_holds: BTreeMap<usize, AlarmHold>,
}

impl WallState {
    pub fn new(layout: WallLayout) -> Self {
        let count = layout.tiles.len();
        Self {
            layout,
            cameras: vec![None; count],
            tours: vec![None; count],
            selected: 0,
            alarm_tiles: Vec::new(),
            alarm_holds: BTreeMap::new(),
        }
        .normalised()
    }

    /// Makes the per-tile lists match the layout (a saved state may be short or long).
    pub fn normalised(mut self) -> Self {
        let count = self.layout.tiles.len();
        self.cameras.resize(count, None);
        self.tours.resize(count, None);
        self.selected = self.selected.min(count.saturating_sub(1));
        if self.layout.maximized.is_some_and(|m| m >= count) {
            self.layout.maximized = None;
        }
        self.alarm_tiles.retain(|t| *t < count);
        self.alarm_holds.retain(|t, _| *t < count);
        self.alarm_tiles.sort_unstable();
        self.alarm_tiles.dedup();
        if self.alarm_tiles.is_empty() && count > 0 {
            self.alarm_tiles.push(count - 1);
        }
        self
    }
}

/// A wall as the console sees it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct WallView {
    pub id: String,
    #[serde(flatten)]
    pub state: WallState,
    /// Whether a window shows this wall now.
    pub on_screen: bool,
    /// Tiles flashing for an alarm nobody has acknowledged yet.
    pub flashing: Vec<usize>,
    /// Tiles showing recorded video, and from when.
    pub replaying: Vec<TileReplayView>,
    /// The whole wall in synchronised playback: where its clock stands.
    pub playback: Option<PlaybackView>,
}

/// Where a wall's playback clock stands: every replaying tile shows this instant.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, TS)]
pub struct PlaybackView {
    /// The recorded instant shown now, Unix ms.
    #[ts(type = "number")]
    pub at_ms: i64,
    /// Times real time (1/4 to 16).
    pub rate: f64,
    /// Paused by the operator.
    pub paused: bool,
    /// Still waiting for the tiles to show the instant it starts at.
    pub starting: bool,
}

impl From<&PlaybackClock> for PlaybackView {
    fn from(clock: &PlaybackClock) -> Self {
        let reading = clock.read();
        Self {
            at_ms: reading.at_us.div_euclid(1000),
            rate: reading.rate,
            paused: reading.paused,
            starting: reading.held,
        }
    }
}

/// A tile showing recorded video (never saved: a restart shows live again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub struct TileReplayView {
    pub tile: usize,
    /// The instant the replay started from, Unix ms.
    #[ts(type = "number")]
    pub from_ms: i64,
    /// Following the wall's playback clock.
    pub paced: bool,
}

/// A monitor a wall window can go on (physical pixels on the desktop).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Monitor {
    pub index: usize,
    pub name: String,
    pub x: i32,
    pub y: i32,
    pub width: u32,
    pub height: u32,
}

/// Health of the stream on one tile.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct TileHealth {
    pub wall: String,
    pub tile: usize,
    pub camera: Option<String>,
    pub health: StreamHealth,
    /// What a tile showing recorded video shows.
    pub replay: Option<ReplayShown>,
}

/// What a replaying tile shows: the first frame it showed and the one it shows now, each as
/// its capture time and (simulated cameras) its pixel stamp's time, Unix ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub struct ReplayShown {
    #[ts(type = "number")]
    pub from_ms: i64,
    #[ts(type = "number | null")]
    pub first_capture_ms: Option<i64>,
    /// The pixel stamp's capture time (modulo 2^32 ms, as the stamp holds it).
    pub first_stamp_ms: Option<u32>,
    #[ts(type = "number | null")]
    pub now_capture_ms: Option<i64>,
    pub now_stamp_ms: Option<u32>,
}

impl From<wall::TileReplay> for ReplayShown {
    fn from(replay: wall::TileReplay) -> Self {
        let capture = |f: Option<wall::ShownFrame>| f?.capture_us.map(|us| us.div_euclid(1000));
        let stamp = |f: Option<wall::ShownFrame>| f?.stamp.map(|s| s.capture_ms);
        Self {
            from_ms: replay.from_us.div_euclid(1000),
            first_capture_ms: capture(replay.first),
            first_stamp_ms: stamp(replay.first),
            now_capture_ms: capture(replay.now),
            now_stamp_ms: stamp(replay.now),
        }
    }
}

/// Where a tour stands.
#[derive(Debug, Clone, Copy)]
struct TourPosition {
    index: usize,
    next: Instant,
}

/// A tile an alarm took over, and what it showed before (kept in the profile, so a restart
/// can still give the tile back when the alarm closes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AlarmHold {
    pub alarm: String,
    pub before: Option<String>,
    pub before_tour: Option<TileTour>,
    /// Until the alarm is acknowledged.
    pub flashing: bool,
}

/// An alarm's cameras to show on a wall's alarm tiles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmPop {
    pub alarm: String,
    pub cameras: Vec<String>,
}

#[derive(Debug)]
struct Wall {
    state: WallState,
    renderer: Option<RenderThread>,
    tours: Vec<Option<TourPosition>>,
    /// Tiles showing recorded video.
    replaying: BTreeMap<usize, Replaying>,
    /// The clock of the wall's synchronised playback (its replaying tiles follow it).
    playback: Option<PlaybackClock>,
}

impl Wall {
    fn playback(&self) -> Option<PlaybackClock> {
        self.playback
            .clone()
            .filter(|_| self.replaying.values().any(|r| r.paced))
    }
}

/// A tile showing recorded video.
#[derive(Debug, Clone, Copy)]
struct Replaying {
    /// From when, Unix µs.
    from_us: i64,
    /// Following the wall's playback clock (not a replay of its own).
    paced: bool,
}

/// Tours start (again) at their first camera: after a restart, a layout change or a layout
/// opened, every tile's tour runs from `now`.
fn positions(tours: &[Option<TileTour>], now: Instant) -> Vec<Option<TourPosition>> {
    tours
        .iter()
        .map(|tour| {
            tour.as_ref()
                .filter(|t| t.check().is_ok())
                .map(|t| TourPosition {
                    index: 0,
                    next: now + Duration::from_secs(u64::from(t.dwell_s)),
                })
        })
        .collect()
}

/// Every wall of this workstation.
#[derive(Debug, Default)]
pub struct Walls {
    walls: BTreeMap<String, Wall>,
}

/// A tile of a wall, checked.
fn tile_index(state: &WallState, tile: usize) -> Result<usize> {
    if tile < state.layout.tiles.len() {
        Ok(tile)
    } else {
        Err(AppError::bad_input(format!(
            "the wall has {} tiles; there is no tile {}",
            state.layout.tiles.len(),
            tile + 1
        )))
    }
}

/// Asks the hub for a ticket to one stream of a camera (site, camera, stream, live or
/// recorded), blocking: it runs on the stream's own thread before each connection.
pub type TicketFetcher = Arc<
    dyn Fn(&str, &str, StreamName, StreamMode) -> std::result::Result<Credentials, String>
        + Send
        + Sync,
>;

/// A tile's stream for `camera`: the sub-stream while the tile is small, the main stream
/// when it is big. A camera served by a recorder is opened through the recorder's restream,
/// with a ticket `tickets` fetches before each connection; never the camera itself.
pub fn live_tile(
    engine: &MediaEngine,
    camera: &KnownCamera,
    credentials: Option<Credentials>,
    tickets: Option<&TicketFetcher>,
) -> LiveTile {
    let settings = |url: &str, stream: StreamName| {
        let mut settings = StreamSettings::new(url);
        settings.label = camera.name.clone();
        if credentials.is_some() {
            settings.credentials = credentials.clone();
        }
        if let (Some(_), Some(fetch)) = (&camera.recorder_url, tickets) {
            let (fetch, site, id) = (fetch.clone(), camera.site.clone(), camera.id.clone());
            settings.credential_source = Some(media::CredentialSource(Arc::new(move || {
                fetch(&site, &id, stream, StreamMode::Live)
            })));
        }
        settings
    };
    // The recorder restreams the sub-stream only of a camera that has one.
    let has_sub = !camera.sub_url.is_empty() && camera.sub_url != camera.main_url;
    let (main_url, sub_url) = match &camera.recorder_url {
        Some(recorder) => (
            format!("{recorder}/{}/main", camera.id),
            if has_sub {
                format!("{recorder}/{}/sub", camera.id)
            } else {
                String::new()
            },
        ),
        None => (camera.main_url.clone(), camera.sub_url.clone()),
    };
    let sub =
        (!sub_url.is_empty() && sub_url != main_url).then(|| settings(&sub_url, StreamName::Sub));
    let stream = AdaptiveStream::new(
        engine,
        settings(&main_url, StreamName::Main),
        sub,
        AdaptivePolicy::for_sub_height(360),
    );
    LiveTile::new(camera.name.clone(), stream)
}

/// A tile showing `camera`'s recording from `from_us` (Unix µs) on, through its recorder's
/// ONVIF replay with a replay ticket; `None` when no recorder serves the camera. One stream,
/// never switched by the tile's size (a switch would start the other stream's replay from the
/// beginning again): the main stream where the recorder records it, else the sub-stream.
/// `recorded` is what the recorder says it records of the camera (empty: not known, then the
/// sub-stream where the camera has one, as the recorder's light configuration records).
pub fn replay_tile(
    engine: &MediaEngine,
    camera: &KnownCamera,
    tickets: Option<&TicketFetcher>,
    from_us: i64,
    recorded: &[StreamName],
    clock: Option<&PlaybackClock>,
) -> Option<LiveTile> {
    let recorder = camera.recorder_url.as_ref()?;
    let has_sub = !camera.sub_url.is_empty() && camera.sub_url != camera.main_url;
    let stream = if recorded.contains(&StreamName::Main) || (!has_sub && recorded.is_empty()) {
        StreamName::Main
    } else if has_sub && (recorded.is_empty() || recorded.contains(&StreamName::Sub)) {
        StreamName::Sub
    } else {
        return None;
    };
    let mut settings = StreamSettings::new(format!(
        "{recorder}/{}/{}/replay",
        camera.id,
        stream.as_str()
    ))
    .replay_from(from_us);
    if let Some(clock) = clock {
        settings = settings.paced_by(clock.clone());
    }
    settings.label = camera.name.clone();
    if let Some(fetch) = tickets {
        let (fetch, site, id) = (fetch.clone(), camera.site.clone(), camera.id.clone());
        settings.credential_source = Some(media::CredentialSource(Arc::new(move || {
            fetch(&site, &id, stream, StreamMode::Replay)
        })));
    }
    let fixed = AdaptiveStream::new(engine, settings, None, AdaptivePolicy::for_sub_height(360));
    Some(LiveTile::new(camera.name.clone(), fixed).replaying(from_us))
}

/// How a tile gets its stream: the media engine, the cameras, and their passwords.
pub trait TileSource {
    fn tile(&self, camera: &str) -> Option<LiveTile>;
    /// The camera's recording from `from_us` (Unix µs), of a stream in `recorded` (empty: not
    /// known), paced by `clock` when given; `None` when it is not recorded.
    fn replay_tile(
        &self,
        camera: &str,
        from_us: i64,
        recorded: &[StreamName],
        clock: Option<&PlaybackClock>,
    ) -> Option<LiveTile>;
}

impl Walls {
    /// Restores walls from the profile (or one 4x4 wall on a first start).
    pub fn restore(saved: &BTreeMap<String, WallState>) -> Self {
        let mut walls = Self::default();
        for (id, state) in saved {
            walls.insert(id, state.clone().normalised());
        }
        if walls.walls.is_empty() {
            walls.insert(
                "wall-1",
                WallState::new(WallLayout::preset(wall::Preset::Grid(4))),
            );
        }
        walls
    }

    fn insert(&mut self, id: &str, state: WallState) {
        let tours = positions(&state.tours, Instant::now());
        self.walls.insert(
            id.to_owned(),
            Wall {
                state,
                renderer: None,
                tours,
                replaying: BTreeMap::new(),
                playback: None,
            },
        );
    }

    pub fn ids(&self) -> Vec<String> {
        self.walls.keys().cloned().collect()
    }

    /// Adds a wall (a new window) with a 2x2 layout; returns its id.
    pub fn add(&mut self) -> String {
        let id = (1..)
            .map(|n| format!("wall-{n}"))
            .find(|id| !self.walls.contains_key(id))
            .unwrap_or_else(|| "wall-x".into());
        self.insert(
            &id,
            WallState::new(WallLayout::preset(wall::Preset::Grid(2))),
        );
        id
    }

    /// Forgets a wall (its window was closed for good).
    pub fn remove(&mut self, id: &str) -> Result<()> {
        self.walls
            .remove(id)
            .map(drop)
            .ok_or_else(|| AppError::bad_input(format!("no wall `{id}`")))
    }

    pub fn states(&self) -> BTreeMap<String, WallState> {
        self.walls
            .iter()
            .map(|(id, w)| (id.clone(), w.state.clone()))
            .collect()
    }

    pub fn views(&self) -> Vec<WallView> {
        self.walls
            .iter()
            .map(|(id, w)| WallView {
                id: id.clone(),
                state: w.state.clone(),
                on_screen: w.renderer.is_some(),
                flashing: w
                    .state
                    .alarm_holds
                    .iter()
                    .filter(|(_, p)| p.flashing)
                    .map(|(t, _)| *t)
                    .collect(),
                replaying: w
                    .replaying
                    .iter()
                    .map(|(tile, replaying)| TileReplayView {
                        tile: *tile,
                        from_ms: replaying.from_us.div_euclid(1000),
                        paced: replaying.paced,
                    })
                    .collect(),
                playback: w.playback().as_ref().map(PlaybackView::from),
            })
            .collect()
    }

    pub fn view(&self, id: &str) -> Result<WallView> {
        self.views()
            .into_iter()
            .find(|v| v.id == id)
            .ok_or_else(|| AppError::bad_input(format!("no wall `{id}`")))
    }

    fn wall(&mut self, id: &str) -> Result<&mut Wall> {
        self.walls
            .get_mut(id)
            .ok_or_else(|| AppError::bad_input(format!("no wall `{id}`")))
    }

    /// A window now shows wall `id`: builds its live wall from the state and starts drawing.
    pub fn attach(
        &mut self,
        id: &str,
        start: impl FnOnce(LiveWall) -> std::result::Result<RenderThread, String>,
        source: &dyn TileSource,
    ) -> Result<()> {
        let wall = self.wall(id)?;
        // A window opened again shows live video.
        wall.replaying.clear();
        wall.playback = None;
        let mut live = LiveWall::new(wall.state.layout.clone());
        live.selected = Some(wall.state.selected);
        for (index, camera) in wall.state.cameras.iter().enumerate() {
            if let Some(mut tile) = camera.as_deref().and_then(|c| source.tile(c)) {
                tile.alarm = wall
                    .state
                    .alarm_holds
                    .get(&index)
                    .is_some_and(|p| p.flashing);
                live.set_tile(index, tile);
            }
        }
        wall.renderer = Some(start(live).map_err(|e| AppError::new(ErrorCode::Wall, e))?);
        Ok(())
    }

    /// The window went away; the state stays.
    pub fn detach(&mut self, id: &str) -> Option<RenderThread> {
        self.walls.get_mut(id).and_then(|w| w.renderer.take())
    }

    /// Sends `command` to the wall's renderer, if a window shows it. A renderer that has
    /// stopped (its window or surface went away) is let go: the wall's state still changes and
    /// shows when a window attaches again.
    fn send(wall: &mut Wall, command: WallCommand) -> Result<()> {
        let Some(renderer) = &wall.renderer else {
            return Ok(());
        };
        match renderer.send(command) {
            Ok(()) => Ok(()),
            Err(wall::SendError::Stopped) => {
                if let Some(stopped) = wall.renderer.take()
                    && let Err(error) = stopped.stop()
                {
                    tracing::warn!(%error, "a wall stopped drawing");
                }
                Ok(())
            }
            Err(busy) => Err(AppError::from(busy)),
        }
    }

    pub fn set_layout(
        &mut self,
        id: &str,
        layout: WallLayout,
        source: &dyn TileSource,
    ) -> Result<()> {
        let wall = self.wall(id)?;
        let mut state = WallState {
            layout,
            cameras: wall.state.cameras.clone(),
            tours: wall.state.tours.clone(),
            selected: wall.state.selected,
            alarm_tiles: wall.state.alarm_tiles.clone(),
            alarm_holds: BTreeMap::new(),
        }
        .normalised();
        // A layout change keeps what shows on the tiles that remain.
        state.layout.maximized = None;
        self.apply_state(id, state, source)
    }

    /// Replaces everything a wall shows (a saved layout opened).
    pub fn apply_state(
        &mut self,
        id: &str,
        state: WallState,
        source: &dyn TileSource,
    ) -> Result<()> {
        let state = state.normalised();
        let wall = self.wall(id)?;
        Self::send(wall, WallCommand::Layout(state.layout.clone()))?;
        for (index, camera) in state.cameras.iter().enumerate() {
            let changed = wall.state.cameras.get(index) != Some(camera)
                || wall.state.layout.tiles.len() != state.layout.tiles.len();
            if changed {
                let tile = camera.as_deref().and_then(|c| source.tile(c)).map(Box::new);
                Self::send(wall, WallCommand::Tile(index, tile))?;
                wall.replaying.remove(&index);
            }
        }
        Self::send(wall, WallCommand::Maximize(state.layout.maximized))?;
        Self::send(wall, WallCommand::Select(state.selected))?;
        // A new layout replaces what alarms put up; the alarms stay in the alarm list.
        for tile in std::mem::take(&mut wall.state.alarm_holds).into_keys() {
            if tile < state.layout.tiles.len() {
                Self::send(wall, WallCommand::Alarm(tile, false))?;
            }
        }
        wall.tours = positions(&state.tours, Instant::now());
        wall.replaying
            .retain(|tile, _| *tile < state.layout.tiles.len());
        wall.state = state;
        Ok(())
    }

    /// Chooses which tiles alarms take over on wall `id`.
    pub fn set_alarm_tiles(&mut self, id: &str, tiles: &[usize]) -> Result<()> {
        let wall = self.wall(id)?;
        for tile in tiles {
            tile_index(&wall.state, *tile)?;
        }
        let mut state = wall.state.clone();
        state.alarm_tiles = tiles.to_vec();
        wall.state = state.normalised();
        Ok(())
    }

    /// Puts an alarm's cameras on the first wall's alarm tiles and flashes them. Tiles held by
    /// an alarm still flashing are taken last; a tile's own camera and tour come back when the
    /// alarm is closed. Returns the tiles used.
    pub fn pop_alarm(&mut self, pop: &AlarmPop, source: &dyn TileSource) -> Result<Vec<usize>> {
        let Some(id) = self.walls.keys().next().cloned() else {
            return Ok(Vec::new());
        };
        let wall = self.wall(&id)?;
        let cameras: Vec<&String> = pop
            .cameras
            .iter()
            .filter(|c| source.tile(c).is_some())
            .collect();
        // Free alarm tiles first, then those of acknowledged alarms, then flashing ones.
        let mut tiles = wall.state.alarm_tiles.clone();
        tiles.sort_by_key(|t| match wall.state.alarm_holds.get(t) {
            None => 0,
            Some(p) if p.alarm == pop.alarm => 0,
            Some(p) if !p.flashing => 1,
            Some(_) => 2,
        });
        let mut used = Vec::new();
        for (tile, camera) in tiles.into_iter().zip(cameras) {
            let live = source.tile(camera).map(|mut t| {
                t.alarm = true;
                Box::new(t)
            });
            Self::send(wall, WallCommand::Tile(tile, live))?;
            Self::send(wall, WallCommand::Alarm(tile, true))?;
            let earlier = wall.state.alarm_holds.remove(&tile);
            let (before, before_tour) = match earlier {
                Some(p) => (p.before, p.before_tour),
                None => (
                    wall.state.cameras[tile].clone(),
                    wall.state.tours[tile].take(),
                ),
            };
            wall.state.alarm_holds.insert(
                tile,
                AlarmHold {
                    alarm: pop.alarm.clone(),
                    before,
                    before_tour,
                    flashing: true,
                },
            );
            wall.state.cameras[tile] = Some(camera.clone());
            wall.tours[tile] = None;
            wall.replaying.remove(&tile);
            used.push(tile);
        }
        Ok(used)
    }

    /// Puts `cameras` on the first wall's alarm tiles like any camera (no hold, no flash):
    /// for a handled alarm whose cameras are looked at again, a bookmark played. Free alarm
    /// tiles first, then those of acknowledged alarms; never one whose alarm still flashes (an
    /// alarm nobody has acknowledged stays in sight), so some cameras may find no tile.
    pub fn show_on_alarm_tiles(
        &mut self,
        cameras: &[String],
        source: &dyn TileSource,
    ) -> Result<()> {
        let Some(id) = self.walls.keys().next().cloned() else {
            return Ok(());
        };
        let state = &self.wall(&id)?.state;
        let mut tiles: Vec<usize> = state
            .alarm_tiles
            .iter()
            .copied()
            .filter(|t| !state.alarm_holds.get(t).is_some_and(|hold| hold.flashing))
            .collect();
        tiles.sort_by_key(|t| state.alarm_holds.contains_key(t));
        for (tile, camera) in tiles.into_iter().zip(cameras) {
            self.assign(&id, tile, Some(camera), source)?;
        }
        Ok(())
    }

    /// The alarms holding tiles now, each once.
    pub fn held_alarms(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .walls
            .values()
            .flat_map(|w| w.state.alarm_holds.values().map(|h| h.alarm.clone()))
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// An alarm was acknowledged: its tiles stop flashing and keep its cameras. Returns whether
    /// anything changed.
    pub fn alarm_acknowledged(&mut self, alarm: &str) -> bool {
        let mut changed = false;
        for wall in self.walls.values_mut() {
            let tiles: Vec<usize> = wall
                .state
                .alarm_holds
                .iter_mut()
                .filter(|(_, p)| p.alarm == alarm && p.flashing)
                .map(|(t, p)| {
                    p.flashing = false;
                    *t
                })
                .collect();
            for tile in tiles {
                changed = true;
                if let Err(error) = Self::send(wall, WallCommand::Alarm(tile, false)) {
                    tracing::warn!(%error, tile, "alarm flash not stopped on the wall");
                }
            }
        }
        changed
    }

    /// An alarm was closed: its tiles show again what they showed before. Returns whether
    /// anything changed.
    pub fn alarm_closed(&mut self, alarm: &str, source: &dyn TileSource) -> bool {
        let mut changed = false;
        for wall in self.walls.values_mut() {
            let tiles: Vec<usize> = wall
                .state
                .alarm_holds
                .iter()
                .filter(|(_, p)| p.alarm == alarm)
                .map(|(t, _)| *t)
                .collect();
            for tile in tiles {
                let Some(popped) = wall.state.alarm_holds.remove(&tile) else {
                    continue;
                };
                changed = true;
                let live = popped
                    .before
                    .as_deref()
                    .and_then(|c| source.tile(c))
                    .map(Box::new);
                let sent = Self::send(wall, WallCommand::Alarm(tile, false))
                    .and_then(|()| Self::send(wall, WallCommand::Tile(tile, live)));
                if let Err(error) = sent {
                    tracing::warn!(%error, tile, "alarm tile not restored on the wall");
                }
                wall.state.cameras[tile] = popped.before;
                wall.replaying.remove(&tile);
                wall.tours[tile] = popped.before_tour.as_ref().map(|t| TourPosition {
                    index: 0,
                    next: Instant::now() + Duration::from_secs(u64::from(t.dwell_s)),
                });
                wall.state.tours[tile] = popped.before_tour;
            }
        }
        changed
    }

    /// Shows `cameras` in order on the smallest square grid that holds them (up to 8x8).
    pub fn fill(&mut self, id: &str, cameras: &[String], source: &dyn TileSource) -> Result<()> {
        if cameras.is_empty() {
            return Err(AppError::bad_input("no cameras to show"));
        }
        if let Some(unknown) = cameras.iter().find(|c| source.tile(c).is_none()) {
            return Err(AppError::bad_input(format!(
                "no camera `{unknown}` on this hub"
            )));
        }
        let side = (1..=8u32)
            .find(|n| (n * n) as usize >= cameras.len())
            .unwrap_or(8);
        let mut state = WallState::new(WallLayout::preset(wall::Preset::Grid(side)));
        for (place, camera) in state.cameras.iter_mut().zip(cameras) {
            *place = Some(camera.clone());
        }
        self.apply_state(id, state, source)
    }

    /// Puts `camera` on a tile (or empties it); a tour on that tile stops.
    pub fn assign(
        &mut self,
        id: &str,
        tile: usize,
        camera: Option<&str>,
        source: &dyn TileSource,
    ) -> Result<()> {
        let wall = self.wall(id)?;
        let tile = tile_index(&wall.state, tile)?;
        let live = match camera {
            Some(camera) => Some(Box::new(source.tile(camera).ok_or_else(|| {
                AppError::bad_input(format!("no camera `{camera}` on this hub"))
            })?)),
            None => None,
        };
        Self::send(wall, WallCommand::Tile(tile, live))?;
        if wall.state.alarm_holds.remove(&tile).is_some() {
            // The operator takes the tile back from the alarm.
            Self::send(wall, WallCommand::Alarm(tile, false))?;
        }
        wall.state.cameras[tile] = camera.map(str::to_owned);
        wall.state.tours[tile] = None;
        wall.tours[tile] = None;
        wall.replaying.remove(&tile);
        Ok(())
    }

    /// Tile `tile` of wall `id` shows its camera's recording from `from_us` (Unix µs), of a
    /// stream in `recorded` (empty: not known); the live picture stays until the first
    /// recorded frame. A tour on the tile waits.
    pub fn replay(
        &mut self,
        id: &str,
        tile: usize,
        from_us: i64,
        recorded: &[StreamName],
        source: &dyn TileSource,
    ) -> Result<()> {
        self.replay_paced(id, tile, from_us, recorded, None, source)
    }

    fn replay_paced(
        &mut self,
        id: &str,
        tile: usize,
        from_us: i64,
        recorded: &[StreamName],
        clock: Option<&PlaybackClock>,
        source: &dyn TileSource,
    ) -> Result<()> {
        let wall = self.wall(id)?;
        let tile = tile_index(&wall.state, tile)?;
        let camera = wall.state.cameras[tile]
            .clone()
            .ok_or_else(|| AppError::bad_input(format!("tile {} shows no camera", tile + 1)))?;
        let replay = source
            .replay_tile(&camera, from_us, recorded, clock)
            .ok_or_else(|| {
                AppError::new(
                    ErrorCode::NotRecorded,
                    format!("no recorder records `{camera}`: there is nothing to replay"),
                )
            })?;
        // The wall keeps the tile's alarm flash on whatever it switches to.
        Self::send(wall, WallCommand::Switch(tile, Box::new(replay)))?;
        wall.replaying.insert(
            tile,
            Replaying {
                from_us,
                paced: clock.is_some(),
            },
        );
        Ok(())
    }

    /// Every tile of wall `id` with a camera plays it from where `clock` stands, each of a
    /// stream its recorder records (`recorded` by camera; missing: not known), all at the
    /// instant the clock says (synchronised playback). Tiles whose camera no recorder records
    /// stay live. Returns the tiles replaying.
    pub fn replay_all(
        &mut self,
        id: &str,
        clock: &PlaybackClock,
        recorded: &BTreeMap<String, Vec<StreamName>>,
        source: &dyn TileSource,
    ) -> Result<Vec<usize>> {
        let from_us = clock.now_us();
        let wall = self.wall(id)?;
        let cameras = wall.state.cameras.clone();
        // The clock first: a tile switched before a later one fails still follows it.
        wall.playback = Some(clock.clone());
        let mut replaying = Vec::new();
        let mut problem = None;
        for (tile, camera) in cameras.iter().enumerate() {
            let Some(camera) = camera else {
                continue;
            };
            let streams = recorded.get(camera).map(Vec::as_slice).unwrap_or_default();
            match self.replay_paced(id, tile, from_us, streams, Some(clock), source) {
                Ok(()) => replaying.push(tile),
                Err(error) if error.code == ErrorCode::NotRecorded => {}
                Err(error) => {
                    tracing::warn!(%error, tile, "a tile stays as it was");
                    problem.get_or_insert(error);
                }
            }
        }
        match problem {
            Some(problem) if replaying.is_empty() => Err(problem),
            _ if replaying.is_empty() => Err(AppError::new(
                ErrorCode::NotRecorded,
                "no camera on this wall is recorded: there is nothing to replay",
            )),
            _ => Ok(replaying),
        }
    }

    /// The clock of wall `id`'s synchronised playback, while a tile still follows it.
    pub fn playback(&self, id: &str) -> Option<PlaybackClock> {
        self.walls.get(id)?.playback()
    }

    /// Every replaying tile of wall `id` goes back to live.
    pub fn live_all(&mut self, id: &str, source: &dyn TileSource) -> Result<()> {
        let wall = self.wall(id)?;
        wall.playback = None;
        let tiles: Vec<usize> = wall.replaying.keys().copied().collect();
        for tile in tiles {
            self.go_live(id, tile, source)?;
        }
        Ok(())
    }

    /// Tile `tile` of wall `id` shows its camera live again (the recorded picture stays until
    /// the first live frame); its tour goes on.
    pub fn go_live(&mut self, id: &str, tile: usize, source: &dyn TileSource) -> Result<()> {
        let wall = self.wall(id)?;
        let tile = tile_index(&wall.state, tile)?;
        if wall.replaying.remove(&tile).is_none() {
            return Ok(());
        }
        if let Some(camera) = wall.state.cameras[tile].clone()
            && let Some(live) = source.tile(&camera)
        {
            Self::send(wall, WallCommand::Switch(tile, Box::new(live)))?;
        }
        Ok(())
    }

    /// The camera on tile `tile` of wall `id`.
    pub fn camera_on(&self, id: &str, tile: usize) -> Option<String> {
        self.walls.get(id)?.state.cameras.get(tile)?.clone()
    }

    /// The tiles of every wall showing `camera`: (wall, tile).
    pub fn tiles_showing(&self, camera: &str) -> Vec<(String, usize)> {
        self.walls
            .iter()
            .flat_map(|(id, w)| {
                w.state
                    .cameras
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.as_deref() == Some(camera))
                    .map(|(tile, _)| (id.clone(), tile))
            })
            .collect()
    }

    pub fn select(&mut self, id: &str, tile: usize) -> Result<()> {
        let wall = self.wall(id)?;
        let tile = tile_index(&wall.state, tile)?;
        Self::send(wall, WallCommand::Select(tile))?;
        wall.state.selected = tile;
        Ok(())
    }

    pub fn maximize(&mut self, id: &str, tile: Option<usize>) -> Result<()> {
        let wall = self.wall(id)?;
        if let Some(tile) = tile {
            tile_index(&wall.state, tile)?;
        }
        Self::send(wall, WallCommand::Maximize(tile))?;
        wall.state.layout.maximized = tile;
        Ok(())
    }

    /// Starts (or stops, with `None`) a tour on a tile; its first camera shows at once.
    pub fn set_tour(
        &mut self,
        id: &str,
        tile: usize,
        tour: Option<TileTour>,
        now: Instant,
        source: &dyn TileSource,
    ) -> Result<()> {
        if let Some(tour) = &tour {
            tour.check()?;
            if let Some(unknown) = tour.cameras.iter().find(|c| source.tile(c).is_none()) {
                return Err(AppError::bad_input(format!(
                    "no camera `{unknown}` on this hub"
                )));
            }
        }
        let first = tour.as_ref().and_then(|t| t.cameras.first().cloned());
        let index = tile_index(&self.wall(id)?.state, tile)?;
        if let Some(first) = &first {
            self.assign(id, index, Some(first), source)?;
        }
        let wall = self.wall(id)?;
        wall.tours[index] = tour.as_ref().map(|t| TourPosition {
            index: 0,
            next: now + Duration::from_secs(u64::from(t.dwell_s)),
        });
        wall.state.tours[index] = tour;
        Ok(())
    }

    /// Whether any tour's dwell time is up.
    pub fn tour_due(&self, now: Instant) -> bool {
        self.walls
            .values()
            .flat_map(|w| w.tours.iter().flatten())
            .any(|p| now >= p.next)
    }

    /// Moves every tour whose dwell time is up to its next camera; returns whether anything
    /// changed. Time is passed in.
    pub fn tick(&mut self, now: Instant, source: &dyn TileSource) -> bool {
        let mut changed = false;
        for wall in self.walls.values_mut() {
            for (tile, position) in wall.tours.iter_mut().enumerate() {
                let (Some(position), Some(Some(tour))) =
                    (position.as_mut(), wall.state.tours.get(tile))
                else {
                    continue;
                };
                // A tour waits while its tile replays.
                if now < position.next || wall.replaying.contains_key(&tile) {
                    continue;
                }
                position.index = (position.index + 1) % tour.cameras.len();
                position.next = now + Duration::from_secs(u64::from(tour.dwell_s));
                let camera = tour.cameras[position.index].clone();
                let live = source.tile(&camera).map(Box::new);
                if let Some(renderer) = &wall.renderer
                    && let Err(error) = renderer.send(WallCommand::Tile(tile, live))
                {
                    // The next call that changes this wall lets a stopped renderer go.
                    tracing::warn!(%error, tile, "tour step not shown");
                }
                wall.state.cameras[tile] = Some(camera);
                changed = true;
            }
        }
        changed
    }

    /// The wall's window has a new size.
    pub fn resize(&mut self, id: &str, width: u32, height: u32) -> Result<()> {
        match self.walls.get_mut(id) {
            Some(wall) => Self::send(wall, WallCommand::Resize(width, height)),
            None => Err(AppError::bad_input(format!("no wall `{id}`"))),
        }
    }

    /// Asks wall `id` for a picture of what it shows; wait for the answer without the lock.
    pub fn request_snapshot(&self, id: &str) -> Result<SnapshotAnswer> {
        let wall = self
            .walls
            .get(id)
            .ok_or_else(|| AppError::bad_input(format!("no wall `{id}`")))?;
        let renderer = wall.renderer.as_ref().ok_or_else(|| {
            AppError::new(ErrorCode::Wall, format!("wall `{id}` is not on screen"))
        })?;
        renderer
            .request_snapshot()
            .map_err(|e| AppError::new(ErrorCode::Wall, e.to_string()))
    }

    /// Asks every wall on screen for its streams' health; wait for the answers without the lock.
    pub fn request_health(&self) -> Vec<HealthAnswer> {
        self.walls
            .iter()
            .filter_map(|(id, wall)| {
                let answer = wall.renderer.as_ref()?.request_health().ok()?;
                Some(HealthAnswer {
                    wall: id.clone(),
                    cameras: wall.state.cameras.clone(),
                    answer,
                })
            })
            .collect()
    }
}

/// A snapshot on its way from a render thread.
pub type SnapshotAnswer =
    std::sync::mpsc::Receiver<std::result::Result<wall::Image, wall::WallError>>;

/// One wall's stream health on its way from its render thread.
#[derive(Debug)]
pub struct HealthAnswer {
    wall: String,
    cameras: Vec<Option<String>>,
    answer: std::sync::mpsc::Receiver<Vec<wall::TileReport>>,
}

impl HealthAnswer {
    /// Waits for the answer (at most `timeout`); a wall that does not answer is left out.
    pub fn wait(self, timeout: Duration) -> Vec<TileHealth> {
        let tiles = self.answer.recv_timeout(timeout).unwrap_or_default();
        tiles
            .into_iter()
            .map(|report| TileHealth {
                wall: self.wall.clone(),
                tile: report.tile,
                camera: self.cameras.get(report.tile).cloned().flatten(),
                health: report.health,
                replay: report.replay.map(ReplayShown::from),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
