//! The pixel stamp: a frame's capture time and frame number, written into the picture itself.
//!
//! Simulated cameras write a stamp into every frame before encoding; any receiver can read it
//! back from decoded pixels alone (a decoded plane, or a screenshot of the video wall) to
//! measure glass-to-glass latency and to spot dropped or repeated frames. Nothing here does
//! IO or reads the clock: callers pass times in.
//!
//! Layout: 96 cells in three rows of 32, in the top-right half-width strip of the picture.
//! A cell is `width / 64` pixels square, so the stamp scales with the picture and survives
//! downscaling onto a wall tile. Each cell is one bit: white (luma 235) for 1, black (16) for 0.
//! Bits, most significant first: 16-bit source (which camera), 24-bit frame number, 32-bit
//! capture time in milliseconds (Unix time modulo 2^32), 8 zero bits, and a CRC-16 over the
//! first 80 bits.

/// Cells per row of the stamp.
const CELLS_PER_ROW: u32 = 32;
/// Rows of cells.
const ROWS: u32 = 3;
/// Total bits.
const BITS: u32 = CELLS_PER_ROW * ROWS;
/// The picture width is divided into this many cell widths.
const CELL_DIVISOR: f64 = 64.0;
/// Frame numbers wrap at 2^24.
pub const FRAME_MODULUS: u32 = 1 << 24;

/// Luma written for a one bit.
pub const LUMA_ONE: u8 = 235;
/// Luma written for a zero bit.
pub const LUMA_ZERO: u8 = 16;

/// What a stamp says about its frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Which source (camera) made the frame.
    pub source: u16,
    /// Frame number, modulo [`FRAME_MODULUS`].
    pub frame: u32,
    /// Capture time in milliseconds since the Unix epoch, modulo 2^32.
    pub capture_ms: u32,
}

impl Stamp {
    /// A stamp for frame `frame` of `source`, captured at `unix_ms` milliseconds since the epoch.
    pub fn new(source: u16, frame: u64, unix_ms: u64) -> Self {
        Self {
            source,
            frame: (frame % u64::from(FRAME_MODULUS)) as u32,
            capture_ms: (unix_ms % (1 << 32)) as u32,
        }
    }

    /// Milliseconds from capture to `now_unix_ms`, correct across the 2^32 wrap as long as the
    /// true latency is under 24 days. Negative if the clocks disagree.
    pub fn latency_ms(&self, now_unix_ms: u64) -> i64 {
        let now = (now_unix_ms % (1 << 32)) as u32;
        i64::from(now.wrapping_sub(self.capture_ms) as i32)
    }

    /// How many frames lie between `earlier` and `self` (1 for consecutive frames, 0 for a
    /// repeat), across the frame-number wrap.
    pub fn frames_since(&self, earlier: &Stamp) -> u32 {
        self.frame.wrapping_sub(earlier.frame) % FRAME_MODULUS
    }

    fn bits(&self) -> u128 {
        let payload = (u128::from(self.source) << 64)
            | (u128::from(self.frame) << 40)
            | (u128::from(self.capture_ms) << 8);
        (payload << 16) | u128::from(crc16(payload))
    }

    fn from_bits(bits: u128) -> Option<Self> {
        let payload = bits >> 16;
        if crc16(payload) != (bits & 0xffff) as u16 || payload & 0xff != 0 {
            return None;
        }
        Some(Self {
            source: (payload >> 64) as u16,
            frame: (payload >> 40) as u32 & (FRAME_MODULUS - 1),
            capture_ms: (payload >> 8) as u32,
        })
    }
}

/// CRC-16/CCITT-FALSE over the low 80 bits, most significant byte first.
fn crc16(payload: u128) -> u16 {
    let mut crc = 0xffffu16;
    for i in (0..10).rev() {
        crc ^= u16::from((payload >> (i * 8)) as u8) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// A rectangle of whole pixels, `[x0, x1) x [y0, y1)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PixelRect {
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
}

/// Where the stamp lies in a picture of a given size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StampGeometry {
    width: u32,
    height: u32,
    cell: f64,
}

impl StampGeometry {
    /// The stamp's geometry in a `width` x `height` picture, or `None` if the picture is too
    /// small to hold a readable stamp (cells under 2 pixels).
    pub fn new(width: u32, height: u32) -> Option<Self> {
        let cell = f64::from(width) / CELL_DIVISOR;
        if cell < 2.0 || cell * f64::from(ROWS) > f64::from(height) {
            return None;
        }
        Some(Self {
            width,
            height,
            cell,
        })
    }

    /// The whole stamp area, in pixels.
    pub fn area(&self) -> PixelRect {
        PixelRect {
            x0: self.x(0),
            y0: 0,
            x1: self.width,
            y1: self.y(ROWS).min(self.height),
        }
    }

    fn x(&self, column: u32) -> u32 {
        let left = f64::from(self.width) - self.cell * f64::from(CELLS_PER_ROW);
        (left + self.cell * f64::from(column)).round() as u32
    }

    fn y(&self, row: u32) -> u32 {
        (self.cell * f64::from(row)).round() as u32
    }

    /// The pixels of bit `index` (0 is the most significant).
    fn cell_rect(&self, index: u32) -> PixelRect {
        let (row, column) = (index / CELLS_PER_ROW, index % CELLS_PER_ROW);
        PixelRect {
            x0: self.x(column),
            y0: self.y(row),
            x1: self.x(column + 1).min(self.width),
            y1: self.y(row + 1).min(self.height),
        }
    }

    /// Every cell of `stamp` with the luma it must be filled with. The writer fills each
    /// rectangle; chroma under the stamp should be set neutral so the cells stay grey.
    pub fn cells(&self, stamp: &Stamp) -> impl Iterator<Item = (PixelRect, u8)> + '_ {
        let bits = stamp.bits();
        (0..BITS).map(move |i| {
            let bit = (bits >> (BITS - 1 - i)) & 1;
            (
                self.cell_rect(i),
                if bit == 1 { LUMA_ONE } else { LUMA_ZERO },
            )
        })
    }

    /// Writes `stamp` into an 8-bit luma plane.
    pub fn write_luma(&self, plane: &mut [u8], stride: usize, stamp: &Stamp) {
        for (rect, luma) in self.cells(stamp) {
            for y in rect.y0..rect.y1 {
                let start = y as usize * stride + rect.x0 as usize;
                let end = y as usize * stride + rect.x1 as usize;
                if let Some(row) = plane.get_mut(start..end) {
                    row.fill(luma);
                }
            }
        }
    }

    /// Reads a stamp through `luma(x, y)`, which gives the brightness (0-255) of a pixel of
    /// this picture. Each bit is the mean of the middle half of its cell, against a threshold
    /// half way between the darkest and brightest cells. `None` if the CRC does not match.
    pub fn read(&self, mut luma: impl FnMut(u32, u32) -> u8) -> Option<Stamp> {
        let mut means = [0f64; BITS as usize];
        for (i, mean) in means.iter_mut().enumerate() {
            let r = self.cell_rect(i as u32);
            let (w, h) = (r.x1.saturating_sub(r.x0), r.y1.saturating_sub(r.y0));
            let (x0, x1) = (
                r.x0 + w / 4,
                (r.x0 + (w * 3).div_ceil(4)).max(r.x0 + w / 4 + 1),
            );
            let (y0, y1) = (
                r.y0 + h / 4,
                (r.y0 + (h * 3).div_ceil(4)).max(r.y0 + h / 4 + 1),
            );
            let (mut sum, mut count) = (0u64, 0u64);
            for y in y0..y1.min(self.height) {
                for x in x0..x1.min(self.width) {
                    sum += u64::from(luma(x, y));
                    count += 1;
                }
            }
            *mean = if count == 0 {
                0.0
            } else {
                sum as f64 / count as f64
            };
        }
        let lo = means.iter().copied().fold(f64::MAX, f64::min);
        let hi = means.iter().copied().fold(f64::MIN, f64::max);
        if hi - lo < 40.0 {
            return None;
        }
        let threshold = (lo + hi) / 2.0;
        let bits = means
            .iter()
            .fold(0u128, |acc, &m| (acc << 1) | u128::from(m > threshold));
        Stamp::from_bits(bits)
    }

    /// Reads a stamp from an 8-bit luma plane.
    pub fn read_luma(&self, plane: &[u8], stride: usize) -> Option<Stamp> {
        self.read(|x, y| {
            plane
                .get(y as usize * stride + x as usize)
                .copied()
                .unwrap_or(0)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plane(width: u32, height: u32, fill: u8) -> Vec<u8> {
        vec![fill; (width * height) as usize]
    }

    #[test]
    fn round_trips_through_a_luma_plane() {
        for (w, h) in [(640, 360), (1280, 720), (1920, 1080), (176, 144)] {
            let geometry = StampGeometry::new(w, h).expect("big enough");
            let stamp = Stamp::new(7, 123_456, 1_790_000_123_456);
            let mut luma = plane(w, h, 90);
            geometry.write_luma(&mut luma, w as usize, &stamp);
            assert_eq!(
                geometry.read_luma(&luma, w as usize),
                Some(stamp),
                "{w}x{h}"
            );
        }
    }

    #[test]
    fn survives_box_downscaling_onto_a_small_tile() {
        let (w, h) = (640u32, 360u32);
        let geometry = StampGeometry::new(w, h).expect("big enough");
        let stamp = Stamp::new(65_535, 77, 5_000);
        let mut luma = plane(w, h, 128);
        geometry.write_luma(&mut luma, w as usize, &stamp);
        // A 8x8 wall tile at 1920x1080 is 240x135: scale by 3/8 with a box filter.
        let (tw, th) = (240u32, 135u32);
        let small: Vec<u8> = (0..th)
            .flat_map(|ty| (0..tw).map(move |tx| (tx, ty)))
            .map(|(tx, ty)| {
                let (sx0, sy0) = (tx * w / tw, ty * h / th);
                let (sx1, sy1) = (
                    ((tx + 1) * w / tw).max(sx0 + 1),
                    ((ty + 1) * h / th).max(sy0 + 1),
                );
                let mut sum = 0u32;
                for y in sy0..sy1 {
                    for x in sx0..sx1 {
                        sum += u32::from(luma[(y * w + x) as usize]);
                    }
                }
                (sum / ((sx1 - sx0) * (sy1 - sy0))) as u8
            })
            .collect();
        let tile = StampGeometry::new(tw, th).expect("big enough");
        assert_eq!(tile.read_luma(&small, tw as usize), Some(stamp));
    }

    #[test]
    fn a_damaged_stamp_is_rejected() {
        let (w, h) = (640u32, 360u32);
        let geometry = StampGeometry::new(w, h).expect("big enough");
        let mut luma = plane(w, h, 90);
        geometry.write_luma(&mut luma, w as usize, &Stamp::new(3, 5, 6));
        // Invert one cell.
        let (rect, value) = geometry.cells(&Stamp::new(3, 5, 6)).nth(40).expect("cell");
        let flipped = if value == LUMA_ONE {
            LUMA_ZERO
        } else {
            LUMA_ONE
        };
        for y in rect.y0..rect.y1 {
            for x in rect.x0..rect.x1 {
                luma[(y * w + x) as usize] = flipped;
            }
        }
        assert_eq!(geometry.read_luma(&luma, w as usize), None);
        assert_eq!(geometry.read_luma(&plane(w, h, 90), w as usize), None);
    }

    #[test]
    fn latency_and_frame_gaps_wrap() {
        let stamp = Stamp::new(1, u64::from(FRAME_MODULUS) - 1, (1 << 32) - 10);
        assert_eq!(stamp.latency_ms((1 << 32) + 25), 35);
        let next = Stamp::new(1, u64::from(FRAME_MODULUS) + 1, 0);
        assert_eq!(next.frames_since(&stamp), 2);
        assert_eq!(stamp.frames_since(&stamp), 0);
    }

    #[test]
    fn too_small_pictures_have_no_stamp() {
        assert!(StampGeometry::new(64, 64).is_none());
        assert!(StampGeometry::new(128, 5).is_none());
    }
}
