//! Overlay layout: each tile's background bars, name, time, health, state badge and borders as
//! instanced quads over the glyph atlas. Pure (no GPU): the renderer uploads what it builds.

use super::scene::{Scene, placement};
use crate::text::GlyphAtlas;

pub(super) const BACKGROUND_RGBA: [f32; 4] = [0.03, 0.035, 0.04, 1.0];

#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub(super) struct OverlayInstance {
    pub(super) dst: [f32; 4],
    pub(super) uv: [f32; 4],
    pub(super) colour: [f32; 4],
    pub(super) kind: [f32; 4],
}

/// A tile's overlay instances: its background bars, then its overlays.
#[derive(Debug, Clone)]
pub(super) struct TileDraws {
    pub(super) backgrounds: std::ops::Range<u32>,
    pub(super) overlays: std::ops::Range<u32>,
}

/// Builds every tile's overlay quads into `out` (cleared first); returns each tile's ranges of
/// instances. `picture` says the size of the frame a tile shows, if it has one; text is laid
/// out in `atlas`, which notes the glyphs it must upload.
pub(super) fn build_overlays(
    scene: &Scene<'_>,
    picture: impl Fn(usize) -> Option<(u32, u32)>,
    atlas: &mut GlyphAtlas,
    width: u32,
    height: u32,
    out: &mut Vec<OverlayInstance>,
) -> Vec<TileDraws> {
    let mut ranges = Vec::with_capacity(scene.tiles.len());
    out.clear();
    let (fw, fh) = (width as f32, height as f32);
    let clip = |x0: f32, y0: f32, x1: f32, y1: f32| {
        [
            x0 / fw * 2.0 - 1.0,
            1.0 - y0 / fh * 2.0,
            x1 / fw * 2.0 - 1.0,
            1.0 - y1 / fh * 2.0,
        ]
    };
    let solid =
        |out: &mut Vec<OverlayInstance>, x0: f32, y0: f32, x1: f32, y1: f32, colour: [f32; 4]| {
            out.push(OverlayInstance {
                dst: clip(x0, y0, x1, y1),
                uv: [0.0; 4],
                colour,
                kind: [0.0; 4],
            });
        };
    for tile in &scene.tiles {
        let first = out.len() as u32;
        let r = tile.rect;
        let (bx0, by0, bx1, by1) = (
            r.x as f32,
            r.y as f32,
            (r.x + r.w) as f32,
            (r.y + r.h) as f32,
        );
        // Background only where the picture does not cover the tile (its bars): on a
        // software rasteriser every covered pixel costs.
        let shown = picture(tile.slot).map(|(w, h)| placement(tile, w, h).0);
        match shown {
            Some([px0, py0, px1, py1]) => {
                for [x0, y0, x1, y1] in [
                    [bx0, by0, bx1, py0],
                    [bx0, py1, bx1, by1],
                    [bx0, py0, px0, py1],
                    [px1, py0, bx1, py1],
                ] {
                    if x1 > x0 && y1 > y0 {
                        solid(out, x0, y0, x1, y1, BACKGROUND_RGBA);
                    }
                }
            }
            None => solid(out, bx0, by0, bx1, by1, BACKGROUND_RGBA),
        }
        let backgrounds = out.len() as u32 - first;
        let (x, y, w, h) = (r.x as f32, r.y as f32, r.w as f32, r.h as f32);
        let o = &tile.overlay;
        let px = (h / 16.0).round().clamp(10.0, 22.0) as u32;
        let pad = (px as f32 / 3.0).round().max(2.0);
        let mut text = |out: &mut Vec<OverlayInstance>,
                        s: &str,
                        left: f32,
                        top: f32,
                        max_w: f32,
                        back: [f32; 4],
                        fore: [f32; 4],
                        anchor_right: bool|
         -> f32 {
            let line = atlas.layout(s, px, (max_w - 2.0 * pad).max(0.0));
            let box_w = line.width + 2.0 * pad;
            let box_h = line.height + pad;
            let x0 = if anchor_right { left - box_w } else { left };
            solid(out, x0, top, x0 + box_w, top + box_h, back);
            for g in &line.glyphs {
                let gx = x0 + pad + g.x;
                let gy = top + pad / 2.0 + g.y;
                out.push(OverlayInstance {
                    dst: clip(
                        gx,
                        gy,
                        gx + g.glyph.width as f32,
                        gy + g.glyph.height as f32,
                    ),
                    uv: g.glyph.uv,
                    colour: fore,
                    kind: [1.0, 0.0, 0.0, 0.0],
                });
            }
            box_h
        };
        let shade = [0.0, 0.0, 0.0, 0.6];
        let white = [0.95, 0.96, 0.97, 1.0];
        let mut top = y;
        if !o.name.is_empty() {
            // At most 45 % of the width: the simulator's stamp lives in the right half.
            top += text(out, &o.name, x, y, w * 0.45, shade, white, false);
        }
        if let Some(health) = &o.health {
            text(
                out,
                health,
                x,
                top,
                w * 0.48,
                shade,
                [0.8, 0.85, 0.9, 1.0],
                false,
            );
        }
        let line_h = px as f32 * 1.2 + pad;
        if let Some(time) = &o.time {
            text(out, time, x, y + h - line_h, w * 0.4, shade, white, false);
        }
        if let Some(badge) = &o.badge {
            text(
                out,
                &badge.text(),
                x + w,
                y + h - line_h,
                w * 0.6,
                badge.colour(),
                white,
                true,
            );
        }
        let border = |out: &mut Vec<OverlayInstance>, t: f32, colour: [f32; 4]| {
            solid(out, x, y, x + w, y + t, colour);
            solid(out, x, y + h - t, x + w, y + h, colour);
            solid(out, x, y + t, x + t, y + h - t, colour);
            solid(out, x + w - t, y + t, x + w, y + h - t, colour);
        };
        if o.replay {
            border(
                out,
                (h / 80.0).round().clamp(2.0, 5.0),
                super::scene::REPLAY_COLOUR,
            );
        }
        if o.alarm {
            border(
                out,
                (h / 60.0).round().clamp(3.0, 6.0),
                [0.9, 0.1, 0.1, 1.0],
            );
        }
        if o.selected {
            border(out, 2.0, [0.2, 0.65, 1.0, 1.0]);
        }
        ranges.push(TileDraws {
            backgrounds: first..first + backgrounds,
            overlays: first + backgrounds..out.len() as u32,
        });
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::PixelRect;
    use crate::renderer::scene::{Badge, Fit, FrameUpdate, TileOverlay, TileScene, Zoom};

    fn scene(overlay: TileOverlay) -> Scene<'static> {
        Scene {
            tiles: vec![TileScene {
                slot: 3,
                rect: PixelRect {
                    x: 0,
                    y: 0,
                    w: 640,
                    h: 360,
                },
                frame: FrameUpdate::Keep,
                fit: Fit::Contain,
                zoom: Zoom::default(),
                overlay,
                changed: true,
            }],
            full: true,
        }
    }

    fn build(
        scene: &Scene<'_>,
        picture: Option<(u32, u32)>,
    ) -> (Vec<OverlayInstance>, Vec<TileDraws>) {
        let mut atlas = GlyphAtlas::new().expect("the built-in font");
        let mut out = Vec::new();
        let ranges = build_overlays(scene, |_| picture, &mut atlas, 640, 360, &mut out);
        (out, ranges)
    }

    fn glyphs(out: &[OverlayInstance], range: &std::ops::Range<u32>) -> usize {
        out[range.start as usize..range.end as usize]
            .iter()
            .filter(|i| i.kind[0] == 1.0)
            .count()
    }

    #[test]
    fn a_tile_without_a_picture_is_all_background_and_with_one_only_its_bars() {
        let empty = scene(TileOverlay::default());
        let (_, ranges) = build(&empty, None);
        assert_eq!(ranges[0].backgrounds.len(), 1, "the whole tile");
        assert!(ranges[0].overlays.is_empty());
        // A 4:3 picture in a 16:9 tile: bars left and right only.
        let (out, ranges) = build(&empty, Some((640, 480)));
        assert_eq!(ranges[0].backgrounds.len(), 2);
        for bar in &out[..2] {
            assert_eq!(bar.colour, BACKGROUND_RGBA);
            assert_eq!((bar.dst[1], bar.dst[3]), (1.0, -1.0), "full height");
        }
        // A picture of the tile's shape covers it: nothing to clear.
        let (_, ranges) = build(&empty, Some((1280, 720)));
        assert!(ranges[0].backgrounds.is_empty());
    }

    #[test]
    fn the_name_time_and_badge_are_written_and_the_badge_sits_bottom_right() {
        let overlay = TileOverlay {
            name: "Lobby".into(),
            time: Some("12:34:56".into()),
            badge: Some(Badge::Live),
            ..TileOverlay::default()
        };
        let (out, ranges) = build(&scene(overlay), Some((1280, 720)));
        let drawn = &ranges[0].overlays;
        // Glyphs of "Lobby", "12:34:56" and "LIVE" (spaces draw nothing).
        assert_eq!(glyphs(&out, drawn), 5 + 8 + 4);
        let badge = out[drawn.start as usize..drawn.end as usize]
            .iter()
            .find(|i| i.colour == Badge::Live.colour())
            .expect("the badge's box");
        assert!(
            (badge.dst[2] - 1.0).abs() < 1e-6,
            "right edge: {:?}",
            badge.dst
        );
        assert!(badge.dst[3] < -0.8, "at the bottom: {:?}", badge.dst);
    }

    #[test]
    fn alarm_and_selection_draw_borders_of_their_own_colours() {
        let plain = build(&scene(TileOverlay::default()), Some((1280, 720))).1;
        assert!(plain[0].overlays.is_empty());
        let marked = TileOverlay {
            alarm: true,
            selected: true,
            ..TileOverlay::default()
        };
        let (out, ranges) = build(&scene(marked), Some((1280, 720)));
        let quads = &out[ranges[0].overlays.start as usize..ranges[0].overlays.end as usize];
        assert_eq!(quads.len(), 8, "four sides each");
        assert!(quads[..4].iter().all(|q| q.colour == [0.9, 0.1, 0.1, 1.0]));
        assert!(quads[4..].iter().all(|q| q.colour == [0.2, 0.65, 1.0, 1.0]));
        // Replayed video has its border, in a colour of its own, under an alarm's.
        let replayed = TileOverlay {
            replay: true,
            alarm: true,
            ..TileOverlay::default()
        };
        let (out, ranges) = build(&scene(replayed), Some((1280, 720)));
        let quads = &out[ranges[0].overlays.start as usize..ranges[0].overlays.end as usize];
        assert_eq!(quads.len(), 8, "four sides each");
        assert!(
            quads[..4]
                .iter()
                .all(|q| q.colour == crate::renderer::scene::REPLAY_COLOUR)
        );
        assert!(quads[4..].iter().all(|q| q.colour == [0.9, 0.1, 0.1, 1.0]));
    }
}
