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
            StreamState::Live => Badge::Live,
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
            drawn_rects: None,
            signal: Arc::default(),
        }
    }

    /// Puts `tile` at `index`; its new frames will wake [`LiveWall::signal`].
    pub fn set_tile(&mut self, index: usize, tile: LiveTile) {
        let signal = Arc::downgrade(&self.signal);
        let mut tile = tile;
        tile.camera.set_waker(Some(Arc::new(move || {
            if let Some(signal) = signal.upgrade() {
                signal.notify();
            }
        })));
        // The previous camera's last picture must not show under the new name.
        if let Some(place) = self.tiles.get_mut(index)
            && place.replace(tile).is_some()
        {
            self.replaced.push(index);
        }
    }

    /// Changes the layout, keeping the cameras on the tiles that remain; the others close.
    pub fn set_layout(&mut self, layout: WallLayout) {
        let count = layout.tiles.len();
        self.tiles.truncate(count);
        self.tiles.resize_with(count, || None);
        self.drawn = (0..count).map(|_| None).collect();
        self.replaced.retain(|i| *i < count);
        self.selected = self.selected.filter(|s| *s < count);
        self.layout = layout;
        self.invalidate();
    }

    /// Takes the camera off tile `index`; the tile is drawn empty.
    pub fn remove_tile(&mut self, index: usize) -> Option<LiveTile> {
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
                let frame = tile.camera.take_frame()?;
                tile.last_frame = Some(now);
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
            let overlay = TileOverlay {
                name: tile.name.clone(),
                time: tile.last_frame.map(clock),
                badge: Some(tile.badge()),
                health,
                alarm: tile.alarm && flash_on(now),
                selected: self.selected == Some(*index),
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
