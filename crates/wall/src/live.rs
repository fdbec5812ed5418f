//! A live wall: one media stream per tile, turned into a [`Scene`] whenever asked. Takes the
//! newest frame from each tile's slot (never waits), maps it, and hands the renderer plain
//! data; the badge tells the truth about each stream.

use crate::WallError;
use crate::frame::{self, YuvFrame};
use crate::layout::{PixelRect, WallLayout};
use crate::renderer::{Badge, Fit, FrameUpdate, Scene, TileOverlay, TileScene, WallRenderer, Zoom};
use media::{AdaptiveStream, StreamState};
use parking_lot::{Condvar, Mutex};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// Wakes the render thread when any tile has a new frame: drawing is driven by change.
#[derive(Debug, Default)]
pub struct RedrawSignal {
    dirty: Mutex<bool>,
    changed: Condvar,
}

impl RedrawSignal {
    pub fn notify(&self) {
        *self.dirty.lock() = true;
        self.changed.notify_one();
    }

    /// Waits until something changed or `timeout` passes; true if something changed.
    pub fn wait(&self, timeout: Duration) -> bool {
        let mut dirty = self.dirty.lock();
        if !*dirty {
            self.changed.wait_for(&mut dirty, timeout);
        }
        std::mem::take(&mut *dirty)
    }
}

/// What one call to [`LiveWall::render`] drew.
#[derive(Debug, Default, Clone)]
pub struct Drawn {
    /// Tiles drawn (new frame, or overlay changed).
    pub tiles: usize,
    /// When each newly shown frame came out of its decoder.
    pub decoded_at: Vec<Instant>,
}

/// A frame a tile showed: its pixel stamp (simulated cameras) and capture time (replays).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShownFrame {
    pub stamp: Option<stamp::Stamp>,
    /// Unix µs.
    pub capture_us: Option<i64>,
}

/// Recorded video on a tile: from which instant, and what it showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileReplay {
    /// The instant asked for, Unix µs.
    pub from_us: i64,
    /// The first frame the tile showed.
    pub first: Option<ShownFrame>,
    /// The frame it shows now.
    pub now: Option<ShownFrame>,
}

impl TileReplay {
    pub fn from(from_us: i64) -> Self {
        Self {
            from_us,
            first: None,
            now: None,
        }
    }
}

/// One tile's stream and what it shows, as [`WallCommand::Health`](crate::WallCommand) tells.
#[derive(Debug, Clone)]
pub struct TileReport {
    pub tile: usize,
    pub health: media::StreamHealth,
    pub replay: Option<TileReplay>,
}

/// What one tile shows.
#[derive(Debug)]
pub struct LiveTile {
    pub name: String,
    /// The camera: sub- or main stream by the tile's size, nothing while hidden.
    pub camera: AdaptiveStream,
    /// When the last frame arrived (wall-clock), for "signal lost since".
    last_frame: Option<SystemTime>,
    pub fit: Fit,
    pub zoom: Zoom,
    pub alarm: bool,
    pub show_health: bool,
    /// Recorded video, not live: its own badge, border and clock.
    pub replay: Option<TileReplay>,
}

impl LiveTile {
    pub fn new(name: impl Into<String>, camera: AdaptiveStream) -> Self {
        Self {
            name: name.into(),
            camera,
            last_frame: None,
            fit: Fit::Contain,
            zoom: Zoom::default(),
            alarm: false,
            show_health: false,
            replay: None,
        }
    }

    /// The same tile showing recorded video from `from_us` (Unix µs).
    pub fn replaying(mut self, from_us: i64) -> Self {
        self.replay = Some(TileReplay::from(from_us));
        self
    }

    /// A frame is shown: what a replay remembers of it.
    fn shown(&mut self, frame: &media::Frame) {
        if let Some(replay) = self.replay.as_mut() {
            let shown = ShownFrame {
                stamp: frame.stamp,
                capture_us: frame.capture_us,
            };
            replay.first.get_or_insert(shown);
            replay.now = Some(shown);
        }
    }

    /// The time shown on the tile: when a live frame arrived, when a replayed one was captured.
    fn clock(&self) -> Option<String> {
        match self.replay.and_then(|r| r.now?.capture_us) {
            Some(capture_us) => Some(clock(unix_time(capture_us))),
            None => self.last_frame.map(clock),
        }
    }

    /// Whether a frame has ever been shown.
    pub fn has_shown(&self) -> bool {
        self.last_frame.is_some()
    }

    fn badge(&self) -> Badge {
        let since = || self.last_frame.map(clock).unwrap_or_default();
        let Some(stream) = self.camera.current() else {
            return Badge::Connecting;
        };
        match stream.state() {
            StreamState::Live => match self.replay.and_then(|r| r.now?.capture_us) {
                Some(capture_us) => Badge::Replay {
                    behind: behind(SystemTime::now(), unix_time(capture_us)),
                },
                None if self.replay.is_some() => Badge::Replay {
                    behind: "--:--".into(),
                },
                None => Badge::Live,
            },
            StreamState::Connecting => Badge::Connecting,
            StreamState::Stalled => Badge::Stalled,
            StreamState::Reconnecting { .. } | StreamState::Stopped
                if self.last_frame.is_some() =>
            {
                Badge::SignalLost { since: since() }
            }
            StreamState::Reconnecting { .. } => Badge::NoSignal,
            StreamState::Stopped => Badge::Connecting,
            StreamState::AuthFailed => Badge::AuthFailed,
            StreamState::Failed { .. } => Badge::Failed,
        }
    }
}

/// One on-off cycle of an alarm border.
const ALARM_FLASH: Duration = Duration::from_millis(1000);

/// Whether a flashing alarm border shows at `at` (on for the first half of each cycle).
fn flash_on(at: SystemTime) -> bool {
    let ms = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    ms % ALARM_FLASH.as_millis() < ALARM_FLASH.as_millis() / 2
}

/// A Unix time in µs as a `SystemTime`.
fn unix_time(unix_us: i64) -> SystemTime {
    match u64::try_from(unix_us) {
        Ok(us) => SystemTime::UNIX_EPOCH + Duration::from_micros(us),
        Err(_) => SystemTime::UNIX_EPOCH,
    }
}

/// How far `then` is behind `now`, as mm:ss (h:mm:ss past an hour).
fn behind(now: SystemTime, then: SystemTime) -> String {
    let s = now.duration_since(then).map(|d| d.as_secs()).unwrap_or(0);
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{:02}:{:02}", s / 60, s % 60)
    }
}

/// Local wall-clock time as hh:mm:ss.
pub fn clock(at: SystemTime) -> String {
    chrono::DateTime::<chrono::Local>::from(at)
        .format("%H:%M:%S")
        .to_string()
}

/// A layout and the tiles on it.
#[derive(Debug)]
pub struct LiveWall {
    pub layout: WallLayout,
    pub tiles: Vec<Option<LiveTile>>,
    pub selected: Option<usize>,
    pub gap: u32,
    /// What each tile showed last time (overlay, fit, zoom), to draw only what changed.
    drawn: Vec<Option<(TileOverlay, Fit, Zoom)>>,
    /// Tiles whose camera was replaced: their old picture must go.
    replaced: Vec<usize>,
    /// Each tile's next stream, until it shows its first frame (the old one shows till then).
    incoming: Vec<Option<LiveTile>>,
    /// Where the tiles were last drawn; any change (size, layout, maximise) draws everything.
    drawn_rects: Option<Vec<(usize, PixelRect)>>,
    signal: Arc<RedrawSignal>,
}

impl LiveWall {
    pub fn new(layout: WallLayout) -> Self {
        let count = layout.tiles.len();
        Self {
            layout,
            tiles: (0..count).map(|_| None).collect(),
            selected: None,
            gap: 2,
            drawn: (0..count).map(|_| None).collect(),
            replaced: Vec::new(),
            incoming: (0..count).map(|_| None).collect(),
            drawn_rects: None,
            signal: Arc::default(),
        }
    }

    /// Makes `tile`'s new frames wake [`LiveWall::signal`].
    fn wake_on_frames(&self, tile: &mut LiveTile) {
        let signal = Arc::downgrade(&self.signal);
        tile.camera.set_waker(Some(Arc::new(move || {
            if let Some(signal) = signal.upgrade() {
                signal.notify();
            }
        })));
    }

    /// Puts `tile` at `index`; its new frames will wake [`LiveWall::signal`].
    pub fn set_tile(&mut self, index: usize, tile: LiveTile) {
        let mut tile = tile;
        self.wake_on_frames(&mut tile);
        if let Some(Some(mut abandoned)) = self.incoming.get_mut(index).map(Option::take) {
            abandoned.camera.hide();
        }
        // The previous camera's last picture must not show under the new name.
        if let Some(place) = self.tiles.get_mut(index)
            && place.replace(tile).is_some()
        {
            self.replaced.push(index);
        }
    }

    /// Changes what tile `index` shows (live to replay, replay to live) without a black
    /// frame: the tile shows its old stream until the new one has a frame (or has failed).
    pub fn switch_tile(&mut self, index: usize, tile: LiveTile) {
        if self.tiles.get(index).is_none_or(Option::is_none) {
            self.set_tile(index, tile);
            return;
        }
        let mut tile = tile;
        self.wake_on_frames(&mut tile);
        if let Some(Some(current)) = self.tiles.get(index) {
            tile.alarm = current.alarm;
            tile.show_health = current.show_health;
        }
        if let Some(Some(mut abandoned)) = self.incoming.get_mut(index).map(|i| i.replace(tile)) {
            abandoned.camera.hide();
        }
    }

    /// Flashes (or stops flashing) tile `index`'s alarm border, on what it shows and on what
    /// it is switching to.
    pub fn set_alarm(&mut self, index: usize, on: bool) {
        for tile in [self.tiles.get_mut(index), self.incoming.get_mut(index)]
            .into_iter()
            .flatten()
            .flatten()
        {
            tile.alarm = on;
        }
    }

    /// Shows (or hides) every tile's stream health, streams being switched to included.
    pub fn toggle_health(&mut self) {
        for tile in self
            .tiles
            .iter_mut()
            .chain(self.incoming.iter_mut())
            .flatten()
        {
            tile.show_health = !tile.show_health;
        }
    }

    /// Changes the layout, keeping the cameras on the tiles that remain; the others close.
    pub fn set_layout(&mut self, layout: WallLayout) {
        let count = layout.tiles.len();
        self.tiles.truncate(count);
        self.tiles.resize_with(count, || None);
        for mut dropped in self
            .incoming
            .drain(count.min(self.incoming.len())..)
            .flatten()
        {
            dropped.camera.hide();
        }
        self.incoming.resize_with(count, || None);
        self.drawn = (0..count).map(|_| None).collect();
        self.replaced.retain(|i| *i < count);
        self.selected = self.selected.filter(|s| *s < count);
        self.layout = layout;
        self.invalidate();
    }

    /// Takes the camera off tile `index`; the tile is drawn empty.
    pub fn remove_tile(&mut self, index: usize) -> Option<LiveTile> {
        if let Some(Some(mut abandoned)) = self.incoming.get_mut(index).map(Option::take) {
            abandoned.camera.hide();
        }
        let removed = self.tiles.get_mut(index)?.take();
        // A full redraw clears the canvas where the tile was.
        self.invalidate();
        removed
    }

    /// How long the render thread may sleep with nothing new: clocks and badges change every
    /// second, an alarm border flashes twice a second.
    pub fn idle_wait(&self) -> Duration {
        if self.tiles.iter().flatten().any(|t| t.alarm) {
            ALARM_FLASH / 2
        } else {
            Duration::from_secs(1)
        }
    }

    /// The signal that says a tile has a new frame.
    pub fn signal(&self) -> Arc<RedrawSignal> {
        self.signal.clone()
    }

    /// Draw everything next time (after a lost surface). Layout, size and maximise changes are
    /// noticed without it.
    pub fn invalidate(&mut self) {
        self.drawn_rects = None;
    }

    /// Takes each tile's newest frame (if any) and draws the tiles that changed into `target`,
    /// which must keep its contents between calls. Returns how many tiles were drawn.
    pub fn render(
        &mut self,
        renderer: &mut WallRenderer,
        target: &wgpu::TextureView,
        width: u32,
        height: u32,
    ) -> Result<Drawn, WallError> {
        let now = SystemTime::now();
        let rects = self.layout.pixel_rects(width, height, self.gap);
        // A tile's next stream takes over once it has a frame to show (or has failed).
        let mut switched: Vec<(usize, media::Frame)> = Vec::new();
        for (index, place) in self.incoming.iter_mut().enumerate() {
            let Some(incoming) = place.as_mut() else {
                continue;
            };
            let Some((_, rect)) = rects.iter().find(|(i, _)| *i == index) else {
                // Hidden: nothing to wait for.
                if let (Some(next), Some(current)) = (place.take(), self.tiles.get_mut(index)) {
                    if let Some(mut old) = current.replace(next) {
                        old.camera.hide();
                    }
                    self.replaced.push(index);
                }
                continue;
            };
            if let Err(error) = incoming.camera.show_at(rect.h) {
                tracing::warn!(tile = index, %error, "cannot open the camera's stream");
            }
            let frame = incoming.camera.take_frame();
            // Refused or impossible (not a stream that will come with patience): its own badge
            // says why. A stream still connecting or reconnecting is waited for.
            let failed = incoming.camera.current().is_some_and(|s| {
                matches!(
                    s.state(),
                    StreamState::AuthFailed | StreamState::Failed { .. }
                )
            });
            if frame.is_none() && !failed {
                continue;
            }
            if let (Some(next), Some(current)) = (place.take(), self.tiles.get_mut(index)) {
                if let Some(mut old) = current.replace(next) {
                    old.camera.hide();
                }
                match frame {
                    Some(frame) => switched.push((index, frame)),
                    None => self.replaced.push(index),
                }
            }
        }
        // Decode what shows, at the quality its size needs; nothing for hidden tiles.
        for (index, tile) in self.tiles.iter_mut().enumerate() {
            let Some(tile) = tile.as_mut() else {
                continue;
            };
            match rects.iter().find(|(i, _)| *i == index) {
                Some((_, rect)) => {
                    if let Err(error) = tile.camera.show_at(rect.h) {
                        tracing::warn!(tile = index, %error, "cannot open the camera's stream");
                    }
                }
                None => tile.camera.hide(),
            }
        }
        // Hold the frames and their mappings for as long as the scene borrows them.
        let frames: Vec<(usize, media::Frame)> = rects
            .iter()
            .filter_map(|(index, _)| {
                let tile = self.tiles.get_mut(*index)?.as_mut()?;
                let frame = match switched.iter().position(|(i, _)| i == index) {
                    Some(at) => switched.swap_remove(at).1,
                    None => tile.camera.take_frame()?,
                };
                tile.last_frame = Some(now);
                tile.shown(&frame);
                Some((*index, frame))
            })
            .collect();
        let mapped: Vec<(
            usize,
            &media::Frame,
            Option<gst_video::VideoFrameRef<&gst_video::gst::BufferRef>>,
        )> = frames
            .iter()
            .map(|(index, frame)| (*index, frame, frame.map().ok()))
            .collect();
        let mut updates: Vec<(usize, YuvFrame<'_>)> = Vec::with_capacity(mapped.len());
        let mut decoded_at = Vec::with_capacity(mapped.len());
        for (index, frame, map) in &mapped {
            match map.as_ref().map(|m| frame::from_mapped(frame, m)) {
                Some(Ok(yuv)) => {
                    updates.push((*index, yuv));
                    decoded_at.push(frame.decoded_at);
                }
                Some(Err(error)) => tracing::warn!(tile = index, %error, "frame not shown"),
                None => tracing::warn!(tile = index, "frame could not be mapped"),
            }
        }
        let full = self.drawn_rects.as_ref() != Some(&rects);
        if full {
            self.drawn = (0..self.layout.tiles.len()).map(|_| None).collect();
        }
        let mut scene = Scene {
            tiles: Vec::with_capacity(rects.len()),
            full,
        };
        let mut now_drawn = Vec::with_capacity(rects.len());
        for (index, rect) in &rects {
            let Some(tile) = self.tiles.get(*index).and_then(Option::as_ref) else {
                continue;
            };
            let frame = match updates.iter().find(|(i, _)| i == index) {
                Some((_, yuv)) => FrameUpdate::New(*yuv),
                None if self.replaced.contains(index) => FrameUpdate::Clear,
                None => FrameUpdate::Keep,
            };
            let health = tile
                .show_health
                .then(|| tile.camera.current())
                .flatten()
                .map(|stream| {
                    let h = stream.health();
                    format!(
                        "{:.0}fps {:.0}kb/s{}",
                        h.fps,
                        h.bitrate_kbps,
                        h.latency_ms.map(|l| format!(" {l}ms")).unwrap_or_default()
                    )
                });
            let switching = self.incoming.get(*index).is_some_and(Option::is_some);
            let overlay = TileOverlay {
                name: tile.name.clone(),
                time: tile.clock(),
                badge: Some(if switching {
                    Badge::Switching
                } else {
                    tile.badge()
                }),
                health,
                alarm: tile.alarm && flash_on(now),
                selected: self.selected == Some(*index),
                replay: tile.replay.is_some(),
            };
            let new_frame = !matches!(frame, FrameUpdate::Keep);
            let state = (overlay.clone(), tile.fit, tile.zoom);
            let changed =
                new_frame || self.drawn.get(*index).and_then(Option::as_ref) != Some(&state);
            now_drawn.push((*index, state));
            scene.tiles.push(TileScene {
                slot: *index,
                rect: *rect,
                frame,
                fit: tile.fit,
                zoom: tile.zoom,
                overlay,
                changed,
            });
        }
        let tiles = scene.tiles.iter().filter(|t| full || t.changed).count();
        renderer.render(&scene, target, width, height)?;
        // Only what reached the target counts as drawn.
        for (index, state) in now_drawn {
            if let Some(drawn) = self.drawn.get_mut(index) {
                *drawn = Some(state);
            }
        }
        self.replaced.clear();
        self.drawn_rects = Some(rects);
        Ok(Drawn { tiles, decoded_at })
    }
}
