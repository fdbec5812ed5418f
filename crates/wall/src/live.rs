//! A live wall: one media stream per tile, turned into a [`Scene`] whenever asked. Takes the
//! newest frame from each tile's slot (never waits), maps it, and hands the renderer plain
//! data; the badge tells the truth about each stream.

use crate::WallError;
use crate::frame::{self, YuvFrame};
use crate::layout::WallLayout;
use crate::renderer::{Badge, Fit, FrameUpdate, Scene, TileOverlay, TileScene, WallRenderer, Zoom};
use media::{Stream, StreamState};
use std::time::SystemTime;

/// What one tile shows.
#[derive(Debug)]
pub struct LiveTile {
    pub name: String,
    pub stream: Stream,
    /// When the last frame arrived (wall-clock), for "signal lost since".
    last_frame: Option<SystemTime>,
    pub fit: Fit,
    pub zoom: Zoom,
    pub alarm: bool,
    pub show_health: bool,
}

impl LiveTile {
    pub fn new(name: impl Into<String>, stream: Stream) -> Self {
        Self {
            name: name.into(),
            stream,
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
        match self.stream.state() {
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
}

impl LiveWall {
    pub fn new(layout: WallLayout) -> Self {
        let count = layout.tiles.len();
        Self {
            layout,
            tiles: (0..count).map(|_| None).collect(),
            selected: None,
            gap: 2,
        }
    }

    /// Takes each tile's newest frame (if any) and renders the wall into `target`.
    /// Returns how many tiles got a new frame.
    pub fn render(
        &mut self,
        renderer: &mut WallRenderer,
        target: &wgpu::TextureView,
        width: u32,
        height: u32,
    ) -> Result<usize, WallError> {
        let now = SystemTime::now();
        let rects = self.layout.pixel_rects(width, height, self.gap);
        // Hold the frames and their mappings for as long as the scene borrows them.
        let frames: Vec<(usize, media::Frame)> = rects
            .iter()
            .filter_map(|(index, _)| {
                let tile = self.tiles.get_mut(*index)?.as_mut()?;
                let frame = tile.stream.slot().take()?;
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
        for (index, frame, map) in &mapped {
            match map.as_ref().map(|m| frame::from_mapped(frame, m)) {
                Some(Ok(yuv)) => updates.push((*index, yuv)),
                Some(Err(error)) => tracing::warn!(tile = index, %error, "frame not shown"),
                None => tracing::warn!(tile = index, "frame could not be mapped"),
            }
        }
        let mut scene = Scene::default();
        for (index, rect) in &rects {
            let Some(tile) = self.tiles.get(*index).and_then(Option::as_ref) else {
                continue;
            };
            let frame = updates
                .iter()
                .find(|(i, _)| i == index)
                .map(|(_, yuv)| FrameUpdate::New(*yuv))
                .unwrap_or(FrameUpdate::Keep);
            let health = tile.show_health.then(|| {
                let h = tile.stream.health();
                format!(
                    "{:.0}fps {:.0}kb/s{}",
                    h.fps,
                    h.bitrate_kbps,
                    h.latency_ms.map(|l| format!(" {l}ms")).unwrap_or_default()
                )
            });
            scene.tiles.push(TileScene {
                slot: *index,
                rect: *rect,
                frame,
                fit: tile.fit,
                zoom: tile.zoom,
                overlay: TileOverlay {
                    name: tile.name.clone(),
                    time: tile.last_frame.map(clock),
                    badge: Some(tile.badge()),
                    health,
                    alarm: tile.alarm,
                    selected: self.selected == Some(*index),
                },
            });
        }
        renderer.render(&scene, target, width, height)?;
        Ok(updates.len())
    }
}
