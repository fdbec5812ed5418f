//! The video wall: composites decoded camera frames on the GPU with wgpu.
//!
//! - [`layout`]: presets and custom layouts, maximise and restore, tiles in pixels.
//! - [`colour`]: the YUV to RGB matrices (BT.601 / BT.709 / BT.2020, limited / full range).
//! - [`frame`]: the planar YUV the renderer draws from, and the adapter from media frames.
//! - [`renderer`]: pipelines made once, per-tile plane textures fed through a reused staging
//!   belt, overlays (name, time, state badge, health line, alarm and selection borders).
//! - [`target`]: the offscreen target with readback.
//! - [`window`]: the window target (a surface from raw window and display handles).
//! - [`render_thread`]: a wall in a window, drawn on its own thread and driven by commands.
//!
//! The wall knows nothing of Tauri, HTTP or the hub: what to show arrives as a [`Scene`].

pub mod colour;
pub mod frame;
pub mod layout;
pub mod live;
pub mod render_thread;
pub mod renderer;
pub mod target;
mod text;
pub mod window;

pub use colour::{ColourSpace, Matrix, Range};
pub use frame::{FrameError, OwnedI420, Plane, PlaneLayout, SampleDepth, YuvFrame};
pub use layout::{NormRect, PixelRect, Preset, WallLayout};
pub use live::{Drawn, LiveTile, LiveWall, RedrawSignal, ShownFrame, TileReplay, TileReport};
pub use render_thread::{RenderThread, SendError, WallCommand};
pub use renderer::{
    Badge, Fit, FrameUpdate, Gpu, Scene, TileOverlay, TileScene, WallRenderer, Zoom,
};
pub use target::{Image, OffscreenTarget};
pub use window::WindowTarget;

/// What went wrong in the wall.
#[derive(Debug, thiserror::Error)]
pub enum WallError {
    #[error("no usable GPU adapter (install Mesa's lavapipe for software rendering): {0}")]
    NoAdapter(String),
    #[error("cannot load the overlay font: {0}")]
    Font(String),
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error("cannot upload a frame: {0}")]
    Upload(String),
    #[error("cannot read the wall back: {0}")]
    Readback(String),
    #[error("the window's surface: {0}")]
    Surface(String),
    #[error("cannot write the PNG: {0}")]
    Png(String),
}
