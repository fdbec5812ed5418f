//! Crisp overlay text: glyphs rasterised at the exact pixel size they are drawn at (never
//! scaled), cached in one R8 atlas texture. The font ships with the crate.

use std::collections::HashMap;

const FONT: &[u8] = include_bytes!("../fonts/DejaVuSansMono-Bold.ttf");
pub(crate) const ATLAS_SIZE: u32 = 1024;

/// A glyph's place in the atlas and how to set it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Glyph {
    /// Atlas coordinates, normalised: u0, v0, u1, v1.
    pub uv: [f32; 4],
    pub width: u32,
    pub height: u32,
    /// Left of the bitmap from the pen, in pixels.
    pub left: f32,
    /// Top of the bitmap above the baseline, in pixels.
    pub top: f32,
    pub advance: f32,
}

/// A glyph placed on a line: offsets from the line's top-left.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Placed {
    pub x: f32,
    pub y: f32,
    pub glyph: Glyph,
}

/// A laid-out line of text.
#[derive(Debug, Clone, Default)]
pub(crate) struct Line {
    pub glyphs: Vec<Placed>,
    pub width: f32,
    pub height: f32,
}

pub(crate) struct GlyphAtlas {
    font: fontdue::Font,
    glyphs: HashMap<(char, u32), Glyph>,
    cursor: (u32, u32),
    shelf_height: u32,
    /// Rasterised glyphs waiting to be copied into the texture: (x, y, w, h, coverage).
    pub pending: Vec<(u32, u32, u32, u32, Vec<u8>)>,
}

impl std::fmt::Debug for GlyphAtlas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GlyphAtlas")
            .field("glyphs", &self.glyphs.len())
            .finish_non_exhaustive()
    }
}

impl GlyphAtlas {
    pub fn new() -> Result<Self, String> {
        let font = fontdue::Font::from_bytes(FONT, fontdue::FontSettings::default())?;
        Ok(Self {
            font,
            glyphs: HashMap::new(),
            cursor: (1, 1),
            shelf_height: 0,
            pending: Vec::new(),
        })
    }

    /// Called before a frame's text is laid out: an atlas three quarters full starts again
    /// now, between frames, so that glyphs placed during a frame are never overwritten before
    /// they are drawn. Tiles not redrawn keep their pixels; they need no atlas.
    pub fn begin_frame(&mut self) {
        if self.cursor.1 + self.shelf_height > ATLAS_SIZE * 3 / 4 {
            self.glyphs.clear();
            self.cursor = (1, 1);
            self.shelf_height = 0;
        }
    }

    fn glyph(&mut self, c: char, px: u32) -> Option<Glyph> {
        if let Some(glyph) = self.glyphs.get(&(c, px)) {
            return Some(*glyph);
        }
        let (metrics, coverage) = self.font.rasterize(c, px as f32);
        let (w, h) = (metrics.width as u32, metrics.height as u32);
        if w + 2 > ATLAS_SIZE || h + 2 > ATLAS_SIZE {
            return None;
        }
        if self.cursor.0 + w + 1 > ATLAS_SIZE {
            self.cursor = (1, self.cursor.1 + self.shelf_height + 1);
            self.shelf_height = 0;
        }
        if self.cursor.1 + h + 1 > ATLAS_SIZE {
            // A single frame needs more than the quarter left after `begin_frame`: leave this
            // glyph out rather than overwrite glyphs already placed this frame.
            return None;
        }
        let (x, y) = self.cursor;
        self.cursor.0 += w + 1;
        self.shelf_height = self.shelf_height.max(h);
        if w > 0 && h > 0 {
            self.pending.push((x, y, w, h, coverage));
        }
        let size = ATLAS_SIZE as f32;
        let glyph = Glyph {
            uv: [
                x as f32 / size,
                y as f32 / size,
                (x + w) as f32 / size,
                (y + h) as f32 / size,
            ],
            width: w,
            height: h,
            left: metrics.xmin as f32,
            top: metrics.ymin as f32 + h as f32,
            advance: metrics.advance_width,
        };
        self.glyphs.insert((c, px), glyph);
        Some(glyph)
    }

    /// Lays out `text` at `px` pixels, cut with an ellipsis to fit `max_width`.
    pub fn layout(&mut self, text: &str, px: u32, max_width: f32) -> Line {
        let metrics = self.font.horizontal_line_metrics(px as f32);
        let (ascent, height) = metrics
            .map(|m| (m.ascent, m.ascent - m.descent))
            .unwrap_or((px as f32 * 0.8, px as f32));
        let ellipsis = self.glyph('…', px).map(|g| g.advance).unwrap_or(0.0);
        let mut line = Line {
            glyphs: Vec::new(),
            width: 0.0,
            height: height.ceil(),
        };
        let chars: Vec<char> = text.chars().collect();
        let mut pen = 0.0f32;
        for (i, &c) in chars.iter().enumerate() {
            let Some(glyph) = self.glyph(c, px) else {
                continue;
            };
            let last = i + 1 == chars.len();
            let room = if last {
                max_width
            } else {
                max_width - ellipsis
            };
            if pen + glyph.advance > room {
                if let Some(dots) = self.glyph('…', px) {
                    line.glyphs.push(Placed {
                        x: (pen + dots.left).round(),
                        y: (ascent - dots.top).round(),
                        glyph: dots,
                    });
                    pen += dots.advance;
                }
                break;
            }
            line.glyphs.push(Placed {
                x: (pen + glyph.left).round(),
                y: (ascent - glyph.top).round(),
                glyph,
            });
            pen += glyph.advance;
        }
        line.width = pen.ceil();
        line
    }
}
