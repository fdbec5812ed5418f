//! The scene: what the wall draws in one frame, as plain data (tiles, their pictures, fit,
//! zoom and overlays), and where a tile's picture lands. Pure, no GPU.

use crate::frame::YuvFrame;
use crate::layout::PixelRect;

/// How a frame fills its tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fit {
    /// The whole frame, with bars where the aspect ratios differ.
    #[default]
    Contain,
    /// The whole tile, cropping the frame.
    Cover,
}

/// Digital zoom: the part of the frame shown, by its centre (0..1) and magnification (>= 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Zoom {
    pub center: (f32, f32),
    pub factor: f32,
}

impl Default for Zoom {
    fn default() -> Self {
        Self {
            center: (0.5, 0.5),
            factor: 1.0,
        }
    }
}

/// The state badge of a tile: the truth about what the guard is looking at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Badge {
    Connecting,
    Live,
    Stalled,
    /// "SIGNAL LOST SINCE hh:mm:ss".
    SignalLost {
        since: String,
    },
    /// Never had a picture, and the camera does not answer.
    NoSignal,
    AuthFailed,
    Failed,
    /// Recorded video: "REPLAY -mm:ss", how far behind live the picture is.
    Replay {
        behind: String,
    },
    /// Waiting for the tile's next stream (live or replay) to show its first frame.
    Switching,
}

impl Badge {
    pub(super) fn text(&self) -> String {
        match self {
            Badge::Connecting => "CONNECTING".into(),
            Badge::Live => "LIVE".into(),
            Badge::Stalled => "STALLED".into(),
            Badge::SignalLost { since } => format!("SIGNAL LOST SINCE {since}"),
            Badge::NoSignal => "NO SIGNAL".into(),
            Badge::AuthFailed => "AUTH FAILED".into(),
            Badge::Failed => "FAILED".into(),
            Badge::Replay { behind } => format!("REPLAY -{behind}"),
            Badge::Switching => "SWITCHING".into(),
        }
    }

    /// Background colour; the text always says the state too, never colour alone.
    pub(super) fn colour(&self) -> [f32; 4] {
        match self {
            Badge::Live => [0.10, 0.55, 0.25, 0.9],
            Badge::Connecting | Badge::Switching => [0.35, 0.38, 0.42, 0.9],
            Badge::Replay { .. } => REPLAY_COLOUR,
            Badge::Stalled => [0.80, 0.55, 0.05, 0.9],
            Badge::SignalLost { .. } | Badge::NoSignal | Badge::AuthFailed | Badge::Failed => {
                [0.75, 0.12, 0.12, 0.92]
            }
        }
    }
}

/// Replayed video's badge and border: a colour no live state uses.
pub(super) const REPLAY_COLOUR: [f32; 4] = [0.52, 0.22, 0.78, 0.95];

/// What the wall draws over a tile.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TileOverlay {
    pub name: String,
    /// The frame's time, already formatted (hh:mm:ss).
    pub time: Option<String>,
    pub badge: Option<Badge>,
    /// fps, bitrate, latency; shown when the operator asks for it.
    pub health: Option<String>,
    /// Draw the alarm border now (the caller flashes it by toggling).
    pub alarm: bool,
    pub selected: bool,
    /// Recorded video: a border of its own, always.
    pub replay: bool,
}

/// What happens to a tile's picture this frame.
#[derive(Debug, Clone, Copy)]
pub enum FrameUpdate<'a> {
    /// Show the last frame uploaded.
    Keep,
    /// Upload and show this one.
    New(YuvFrame<'a>),
    /// Show no picture.
    Clear,
}

/// One tile of the scene.
#[derive(Debug, Clone)]
pub struct TileScene<'a> {
    /// Stable identity across frames: the tile's index in its layout.
    pub slot: usize,
    pub rect: PixelRect,
    pub frame: FrameUpdate<'a>,
    pub fit: Fit,
    pub zoom: Zoom,
    pub overlay: TileOverlay,
    /// Draw this tile now. Tiles not marked keep what the target already shows, unless the
    /// scene asks for a full redraw.
    pub changed: bool,
}

/// Everything drawn in one frame.
#[derive(Debug, Clone, Default)]
pub struct Scene<'a> {
    pub tiles: Vec<TileScene<'a>>,
    /// Clear the target and draw every tile (first frame, new layout, resized target). Otherwise
    /// only tiles marked `changed` are drawn, each within its own rectangle, over what the
    /// target kept from the last frame.
    pub full: bool,
}

/// Where a tile's frame lands, in pixels (x0, y0, x1, y1), and which part of the frame shows
/// (u0, v0, u1, v1): digital zoom first, then fit or fill.
pub(super) fn placement(
    tile: &TileScene<'_>,
    frame_width: u32,
    frame_height: u32,
) -> ([f32; 4], [f32; 4]) {
    let r = tile.rect;
    let (tw, th) = (r.w as f32, r.h as f32);
    let frame_aspect = frame_width as f32 / frame_height.max(1) as f32;
    let tile_aspect = tw / th.max(1.0);
    let factor = tile.zoom.factor.max(1.0);
    let half = 0.5 / factor;
    let cx = tile.zoom.center.0.clamp(half, 1.0 - half);
    let cy = tile.zoom.center.1.clamp(half, 1.0 - half);
    let mut src = [cx - half, cy - half, cx + half, cy + half];
    let (mut x0, mut y0, mut x1, mut y1) = (
        r.x as f32,
        r.y as f32,
        (r.x + r.w) as f32,
        (r.y + r.h) as f32,
    );
    match tile.fit {
        Fit::Contain => {
            if frame_aspect > tile_aspect {
                let shown = tw / frame_aspect;
                y0 += ((th - shown) / 2.0).round();
                y1 = y0 + shown.round();
            } else {
                let shown = th * frame_aspect;
                x0 += ((tw - shown) / 2.0).round();
                x1 = x0 + shown.round();
            }
        }
        Fit::Cover => {
            let (sw, sh) = (src[2] - src[0], src[3] - src[1]);
            if frame_aspect > tile_aspect {
                let keep = sw * tile_aspect / frame_aspect;
                src[0] += (sw - keep) / 2.0;
                src[2] = src[0] + keep;
            } else {
                let keep = sh * frame_aspect / tile_aspect;
                src[1] += (sh - keep) / 2.0;
                src[3] = src[1] + keep;
            }
        }
    }
    ([x0, y0, x1, y1], src)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tile(w: u32, h: u32, fit: Fit, zoom: Zoom) -> TileScene<'static> {
        TileScene {
            slot: 0,
            rect: PixelRect {
                x: 100,
                y: 50,
                w,
                h,
            },
            frame: FrameUpdate::Keep,
            fit,
            zoom,
            overlay: TileOverlay::default(),
            changed: true,
        }
    }

    #[test]
    fn a_wider_frame_is_shown_whole_with_bars_above_and_below() {
        // 16:9 into a 400x400 tile: 400x225, centred.
        let (dst, src) = placement(&tile(400, 400, Fit::Contain, Zoom::default()), 1920, 1080);
        assert_eq!(dst, [100.0, 138.0, 500.0, 363.0]);
        assert_eq!(src, [0.0, 0.0, 1.0, 1.0]);
    }

    #[test]
    fn a_taller_frame_is_shown_whole_with_bars_beside() {
        let (dst, _) = placement(&tile(400, 225, Fit::Contain, Zoom::default()), 1080, 1920);
        let shown = dst[2] - dst[0];
        assert!((shown - 127.0).abs() <= 1.0, "{dst:?}");
        assert!(
            (dst[0] - 100.0 - (400.0 - shown) / 2.0).abs() <= 1.0,
            "centred: {dst:?}"
        );
        assert_eq!((dst[1], dst[3]), (50.0, 275.0));
    }

    #[test]
    fn cover_fills_the_tile_and_crops_the_frame() {
        let (dst, src) = placement(&tile(400, 400, Fit::Cover, Zoom::default()), 1920, 1080);
        assert_eq!(dst, [100.0, 50.0, 500.0, 450.0]);
        let kept = src[2] - src[0];
        assert!((kept - 1080.0 / 1920.0).abs() < 1e-4, "{src:?}");
        assert!(
            (src[0] - (1.0 - kept) / 2.0).abs() < 1e-4,
            "centred crop: {src:?}"
        );
        assert_eq!((src[1], src[3]), (0.0, 1.0));
    }

    #[test]
    fn zoom_shows_a_part_and_never_leaves_the_frame() {
        let centre = Zoom {
            center: (0.5, 0.5),
            factor: 2.0,
        };
        let (_, src) = placement(&tile(400, 225, Fit::Contain, centre), 1920, 1080);
        assert_eq!(src, [0.25, 0.25, 0.75, 0.75]);
        let corner = Zoom {
            center: (0.0, 1.0),
            factor: 4.0,
        };
        let (_, src) = placement(&tile(400, 225, Fit::Contain, corner), 1920, 1080);
        assert_eq!(src, [0.0, 0.75, 0.25, 1.0]);
        let below_one = Zoom {
            center: (0.5, 0.5),
            factor: 0.5,
        };
        let (_, src) = placement(&tile(400, 225, Fit::Contain, below_one), 1920, 1080);
        assert_eq!(src, [0.0, 0.0, 1.0, 1.0], "no zooming out past the frame");
    }
}
