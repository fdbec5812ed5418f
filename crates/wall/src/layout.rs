//! Wall layouts: where each tile sits, as rectangles in normalised coordinates (0..1, origin
//! top-left), and how they land on a target of a given size in whole pixels.
//!
//! Presets: 1, 2x2 .. 8x8 grids, 1+5, 1+7, 2+8, 1+12; custom layouts are any list of
//! rectangles, saved as JSON. Pure data; nothing here knows about the GPU.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A rectangle in normalised wall coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
pub struct NormRect {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

impl NormRect {
    pub const FULL: NormRect = NormRect {
        x: 0.0,
        y: 0.0,
        w: 1.0,
        h: 1.0,
    };

    fn cell(column: u32, row: u32, span_x: u32, span_y: u32, columns: u32, rows: u32) -> Self {
        let (cw, ch) = (1.0 / columns as f32, 1.0 / rows as f32);
        Self {
            x: column as f32 * cw,
            y: row as f32 * ch,
            w: span_x as f32 * cw,
            h: span_y as f32 * ch,
        }
    }

    fn is_valid(&self) -> bool {
        let finite = [self.x, self.y, self.w, self.h]
            .iter()
            .all(|v| v.is_finite());
        finite
            && self.x >= 0.0
            && self.y >= 0.0
            && self.w > 0.0
            && self.h > 0.0
            && self.x + self.w <= 1.0 + 1e-4
            && self.y + self.h <= 1.0 + 1e-4
    }
}

/// A rectangle of whole pixels on the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PixelRect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

impl PixelRect {
    pub fn contains(&self, x: u32, y: u32) -> bool {
        x >= self.x && y >= self.y && x < self.x + self.w && y < self.y + self.h
    }

    pub fn center(&self) -> (u32, u32) {
        (self.x + self.w / 2, self.y + self.h / 2)
    }
}

/// A named preset layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Preset {
    /// An n x n grid (1 to 8).
    Grid(u32),
    /// One big tile (2x2 of a 3x3 grid) and five small.
    OnePlus5,
    /// One big tile (3x3 of a 4x4 grid) and seven small.
    OnePlus7,
    /// Two big tiles across the top half of a 4x4 grid and eight small below.
    TwoPlus8,
    /// One big tile in the middle (2x2 of a 4x4 grid) and twelve around it.
    OnePlus12,
}

impl Preset {
    /// Every preset the product offers, in menu order.
    pub const ALL: [Preset; 11] = [
        Preset::Grid(1),
        Preset::Grid(2),
        Preset::Grid(3),
        Preset::Grid(4),
        Preset::Grid(5),
        Preset::Grid(6),
        Preset::Grid(8),
        Preset::OnePlus5,
        Preset::OnePlus7,
        Preset::TwoPlus8,
        Preset::OnePlus12,
    ];

    pub fn name(&self) -> String {
        match self {
            Preset::Grid(1) => "1".into(),
            Preset::Grid(n) => format!("{n}x{n}"),
            Preset::OnePlus5 => "1+5".into(),
            Preset::OnePlus7 => "1+7".into(),
            Preset::TwoPlus8 => "2+8".into(),
            Preset::OnePlus12 => "1+12".into(),
        }
    }

    /// The preset's tiles, big ones first, then left to right and top to bottom.
    pub fn tiles(&self) -> Vec<NormRect> {
        match *self {
            Preset::Grid(n) => {
                let n = n.clamp(1, 8);
                (0..n * n)
                    .map(|i| NormRect::cell(i % n, i / n, 1, 1, n, n))
                    .collect()
            }
            Preset::OnePlus5 => big_and_border(3, 2),
            Preset::OnePlus7 => big_and_border(4, 3),
            Preset::TwoPlus8 => {
                let mut tiles = vec![
                    NormRect::cell(0, 0, 2, 2, 4, 4),
                    NormRect::cell(2, 0, 2, 2, 4, 4),
                ];
                tiles.extend((0..8).map(|i| NormRect::cell(i % 4, 2 + i / 4, 1, 1, 4, 4)));
                tiles
            }
            Preset::OnePlus12 => {
                let mut tiles = vec![NormRect::cell(1, 1, 2, 2, 4, 4)];
                for row in 0..4 {
                    for column in 0..4 {
                        if !(1..=2).contains(&row) || !(1..=2).contains(&column) {
                            tiles.push(NormRect::cell(column, row, 1, 1, 4, 4));
                        }
                    }
                }
                tiles
            }
        }
    }
}

/// A big `span` x `span` tile top-left of an `n` x `n` grid, and the cells right of and below it.
fn big_and_border(n: u32, span: u32) -> Vec<NormRect> {
    let mut tiles = vec![NormRect::cell(0, 0, span, span, n, n)];
    for row in 0..n {
        for column in 0..n {
            if row >= span || column >= span {
                tiles.push(NormRect::cell(column, row, 1, 1, n, n));
            }
        }
    }
    tiles
}

impl std::str::FromStr for Preset {
    type Err = LayoutError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let preset = match s {
            "1" | "1x1" => Preset::Grid(1),
            "1+5" => Preset::OnePlus5,
            "1+7" => Preset::OnePlus7,
            "2+8" => Preset::TwoPlus8,
            "1+12" => Preset::OnePlus12,
            grid => {
                let (a, b) = grid
                    .split_once('x')
                    .ok_or_else(|| LayoutError::UnknownPreset(s.to_owned()))?;
                match (a.parse::<u32>(), b.parse::<u32>()) {
                    (Ok(a), Ok(b)) if a == b && [2, 3, 4, 5, 6, 8].contains(&a) => Preset::Grid(a),
                    _ => return Err(LayoutError::UnknownPreset(s.to_owned())),
                }
            }
        };
        Ok(preset)
    }
}

/// Why a layout was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LayoutError {
    #[error("unknown layout `{0}` (1, 2x2, 3x3, 4x4, 5x5, 6x6, 8x8, 1+5, 1+7, 2+8, 1+12)")]
    UnknownPreset(String),
    #[error("a layout needs 1 to 64 tiles, not {0}")]
    TileCount(usize),
    #[error("tile {0} is not inside the wall (x, y >= 0, w, h > 0, x + w <= 1, y + h <= 1)")]
    BadTile(usize),
    #[error("not a valid layout: {0}")]
    Json(String),
}

/// A wall layout: its tiles, and which one (if any) is maximised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct WallLayout {
    pub name: String,
    pub tiles: Vec<NormRect>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximized: Option<usize>,
}

impl WallLayout {
    pub fn preset(preset: Preset) -> Self {
        Self {
            name: preset.name(),
            tiles: preset.tiles(),
            maximized: None,
        }
    }

    /// A custom layout, checked.
    pub fn custom(name: impl Into<String>, tiles: Vec<NormRect>) -> Result<Self, LayoutError> {
        let layout = Self {
            name: name.into(),
            tiles,
            maximized: None,
        };
        layout.validate()?;
        Ok(layout)
    }

    pub fn from_json(json: &str) -> Result<Self, LayoutError> {
        let layout: WallLayout =
            serde_json::from_str(json).map_err(|e| LayoutError::Json(e.to_string()))?;
        layout.validate()?;
        Ok(layout)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    fn validate(&self) -> Result<(), LayoutError> {
        if self.tiles.is_empty() || self.tiles.len() > 64 {
            return Err(LayoutError::TileCount(self.tiles.len()));
        }
        if let Some(bad) = self.tiles.iter().position(|t| !t.is_valid()) {
            return Err(LayoutError::BadTile(bad));
        }
        if self.maximized.is_some_and(|m| m >= self.tiles.len()) {
            return Err(LayoutError::BadTile(self.maximized.unwrap_or_default()));
        }
        Ok(())
    }

    /// Maximises tile `index` over the whole wall, or restores when it already is.
    pub fn toggle_maximized(&mut self, index: usize) {
        if index < self.tiles.len() {
            self.maximized = if self.maximized == Some(index) {
                None
            } else {
                Some(index)
            };
        }
    }

    /// The tile an arrow key moves to from `from` (direction `dx`, `dy`): the nearest tile
    /// centre that way, where distance across the direction counts four times so movement
    /// stays in its row or column; `from` itself at the edge of the wall.
    pub fn neighbour(&self, from: usize, dx: i32, dy: i32) -> usize {
        let Some(here) = self.tiles.get(from) else {
            return 0;
        };
        let centre = |t: &NormRect| (t.x + t.w / 2.0, t.y + t.h / 2.0);
        let (cx, cy) = centre(here);
        let distance = |t: &NormRect| {
            let (x, y) = centre(t);
            let ahead = (dx != 0 && (x - cx) * dx as f32 > 0.01)
                || (dy != 0 && (y - cy) * dy as f32 > 0.01);
            let (along, across) = if dx != 0 {
                (x - cx, y - cy)
            } else {
                (y - cy, x - cx)
            };
            ahead.then_some(along.powi(2) + 4.0 * across.powi(2))
        };
        self.tiles
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != from)
            .filter_map(|(i, t)| Some((i, distance(t)?)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map_or(from, |(i, _)| i)
    }

    /// The tiles as they show now: all of them, or only the maximised one over the whole wall.
    /// Each entry is (tile index, where it shows).
    pub fn visible(&self) -> Vec<(usize, NormRect)> {
        match self.maximized {
            Some(index) => vec![(index, NormRect::FULL)],
            None => self.tiles.iter().copied().enumerate().collect(),
        }
    }

    /// The visible tiles in pixels on a `width` x `height` target, with `gap` pixels between
    /// neighbours. Edges are rounded from the normalised coordinates, so neighbours share them
    /// exactly and the wall is covered without seams.
    pub fn pixel_rects(&self, width: u32, height: u32, gap: u32) -> Vec<(usize, PixelRect)> {
        let edge = |v: f32, size: u32| ((v * size as f32).round() as u32).min(size);
        self.visible()
            .into_iter()
            .map(|(index, r)| {
                let (x0, x1) = (edge(r.x, width), edge(r.x + r.w, width));
                let (y0, y1) = (edge(r.y, height), edge(r.y + r.h, height));
                // Half the gap on each inner edge; none on the wall's border.
                let inset = |at: u32, size: u32, leading: bool| match (at, leading) {
                    (0, true) => 0,
                    (a, false) if a == size => 0,
                    _ => gap / 2,
                };
                let left = x0 + inset(x0, width, true);
                let top = y0 + inset(y0, height, true);
                let right = x1.saturating_sub(inset(x1, width, false)).max(left + 1);
                let bottom = y1.saturating_sub(inset(y1, height, false)).max(top + 1);
                (
                    index,
                    PixelRect {
                        x: left,
                        y: top,
                        w: right - left,
                        h: bottom - top,
                    },
                )
            })
            .collect()
    }
}

/// Every preset and its tiles as JSON: what the console's layout picker shows, generated into
/// `ui/src/generated/presets.json` by `cargo xtask codegen` so the UI never re-types them.
pub fn presets_json() -> String {
    #[derive(Serialize)]
    struct Named {
        name: String,
        tiles: Vec<NormRect>,
    }
    #[derive(Serialize)]
    struct All {
        presets: Vec<Named>,
    }
    let all = All {
        presets: Preset::ALL
            .iter()
            .map(|p| Named {
                name: p.name(),
                tiles: p.tiles(),
            })
            .collect(),
    };
    serde_json::to_string_pretty(&all).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area(tiles: &[NormRect]) -> f32 {
        tiles.iter().map(|t| t.w * t.h).sum()
    }

    #[test]
    fn presets_cover_the_wall_exactly_with_the_right_tile_counts() {
        let counts = [1, 4, 9, 16, 25, 36, 64, 6, 8, 10, 13];
        for (preset, count) in Preset::ALL.iter().zip(counts) {
            let tiles = preset.tiles();
            assert_eq!(tiles.len(), count, "{}", preset.name());
            assert!(
                (area(&tiles) - 1.0).abs() < 1e-4,
                "{} covers the wall",
                preset.name()
            );
            assert!(tiles.iter().all(NormRect::is_valid));
            assert_eq!(preset.name().parse::<Preset>(), Ok(*preset));
        }
        assert!("7x7".parse::<Preset>().is_err());
        assert!("3x4".parse::<Preset>().is_err());
    }

    #[test]
    fn big_tiles_come_first() {
        assert_eq!(
            Preset::OnePlus5.tiles()[0],
            NormRect {
                x: 0.0,
                y: 0.0,
                w: 2.0 / 3.0,
                h: 2.0 / 3.0
            }
        );
        assert_eq!(
            Preset::OnePlus12.tiles()[0],
            NormRect {
                x: 0.25,
                y: 0.25,
                w: 0.5,
                h: 0.5
            }
        );
        let two = Preset::TwoPlus8.tiles();
        assert_eq!((two[0].w, two[1].x), (0.5, 0.5));
    }

    #[test]
    fn pixel_rects_tile_1920x1080_without_overlap_or_seams() {
        let layout = WallLayout::preset(Preset::Grid(3));
        let rects = layout.pixel_rects(1920, 1080, 0);
        let total: u32 = rects.iter().map(|(_, r)| r.w * r.h).sum();
        assert_eq!(total, 1920 * 1080);
        assert_eq!(
            rects[4].1,
            PixelRect {
                x: 640,
                y: 360,
                w: 640,
                h: 360
            }
        );
        let gapped = layout.pixel_rects(1920, 1080, 4);
        assert_eq!(
            gapped[0].1,
            PixelRect {
                x: 0,
                y: 0,
                w: 638,
                h: 358
            }
        );
        assert_eq!(
            gapped[4].1,
            PixelRect {
                x: 642,
                y: 362,
                w: 636,
                h: 356
            }
        );
    }

    #[test]
    fn maximise_and_restore() {
        let mut layout = WallLayout::preset(Preset::Grid(4));
        layout.toggle_maximized(5);
        assert_eq!(layout.visible(), vec![(5, NormRect::FULL)]);
        assert_eq!(
            layout.pixel_rects(800, 600, 2)[0].1,
            PixelRect {
                x: 0,
                y: 0,
                w: 800,
                h: 600
            }
        );
        layout.toggle_maximized(5);
        assert_eq!(layout.visible().len(), 16);
        layout.toggle_maximized(99);
        assert_eq!(layout.maximized, None);
    }

    #[test]
    fn custom_layouts_round_trip_as_json_and_bad_ones_are_refused() {
        let layout = WallLayout::custom(
            "door watch",
            vec![
                NormRect {
                    x: 0.0,
                    y: 0.0,
                    w: 0.7,
                    h: 1.0,
                },
                NormRect {
                    x: 0.7,
                    y: 0.0,
                    w: 0.3,
                    h: 0.5,
                },
            ],
        )
        .expect("valid");
        assert_eq!(WallLayout::from_json(&layout.to_json()), Ok(layout));
        assert_eq!(
            WallLayout::custom(
                "bad",
                vec![NormRect {
                    x: 0.5,
                    y: 0.0,
                    w: 0.6,
                    h: 1.0
                }]
            ),
            Err(LayoutError::BadTile(0))
        );
        assert_eq!(
            WallLayout::custom("none", vec![]),
            Err(LayoutError::TileCount(0))
        );
        assert!(matches!(
            WallLayout::from_json("{\"name\":1}"),
            Err(LayoutError::Json(_))
        ));
        let nan = r#"{"name":"n","tiles":[{"x":0,"y":0,"w":1,"h":1}],"maximized":3}"#;
        assert_eq!(WallLayout::from_json(nan), Err(LayoutError::BadTile(3)));
    }
}
