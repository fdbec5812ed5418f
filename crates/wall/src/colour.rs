//! YUV to RGB: the matrix (BT.601, BT.709, BT.2020) and range (limited, full) of each stream,
//! as the 3x4 matrix the shader applies to normalised (0..1) Y, Cb, Cr samples.

/// Which luma/chroma matrix a stream uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matrix {
    Bt601,
    Bt709,
    Bt2020,
}

/// Whether 8-bit values span 16..235 (limited, "TV") or 0..255 (full, "PC").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    Limited,
    Full,
}

/// A stream's colour description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColourSpace {
    pub matrix: Matrix,
    pub range: Range,
}

impl Default for ColourSpace {
    /// What cameras send when they say nothing: BT.709, limited range (BT.601 below 720p is
    /// handled by [`ColourSpace::guess`]).
    fn default() -> Self {
        Self {
            matrix: Matrix::Bt709,
            range: Range::Limited,
        }
    }
}

impl ColourSpace {
    /// The usual convention when a stream does not say: BT.601 for SD, BT.709 above.
    pub fn guess(height: u32) -> Self {
        Self {
            matrix: if height < 720 {
                Matrix::Bt601
            } else {
                Matrix::Bt709
            },
            range: Range::Limited,
        }
    }

    fn kr_kb(&self) -> (f32, f32) {
        match self.matrix {
            Matrix::Bt601 => (0.299, 0.114),
            Matrix::Bt709 => (0.2126, 0.0722),
            Matrix::Bt2020 => (0.2627, 0.0593),
        }
    }

    /// Rows of `rgb = M * (y, cb, cr, 1)` for samples normalised to 0..1.
    pub fn to_rgb_matrix(&self) -> [[f32; 4]; 3] {
        let (kr, kb) = self.kr_kb();
        let kg = 1.0 - kr - kb;
        let (ys, yo, cs, co) = match self.range {
            Range::Limited => (255.0 / 219.0, -16.0 / 219.0, 255.0 / 224.0, -128.0 / 224.0),
            Range::Full => (1.0, 0.0, 1.0, -128.0 / 255.0),
        };
        let a = 2.0 * (1.0 - kr);
        let b = 2.0 * kb * (1.0 - kb) / kg;
        let c = 2.0 * kr * (1.0 - kr) / kg;
        let d = 2.0 * (1.0 - kb);
        [
            [ys, 0.0, a * cs, yo + a * co],
            [ys, -b * cs, -c * cs, yo - (b + c) * co],
            [ys, d * cs, 0.0, yo + d * co],
        ]
    }

    /// The reference conversion of one 8-bit sample, as the shader should compute it.
    pub fn to_rgb(&self, y: u8, cb: u8, cr: u8) -> [u8; 3] {
        let m = self.to_rgb_matrix();
        let v = [
            f32::from(y) / 255.0,
            f32::from(cb) / 255.0,
            f32::from(cr) / 255.0,
            1.0,
        ];
        m.map(|row| {
            let x: f32 = row.iter().zip(v).map(|(m, v)| m * v).sum();
            (x.clamp(0.0, 1.0) * 255.0).round() as u8
        })
    }

    /// The 8-bit Y, Cb, Cr that encode `rgb` (for making test frames of known colours).
    pub fn from_rgb(&self, rgb: [u8; 3]) -> [u8; 3] {
        let (kr, kb) = self.kr_kb();
        let kg = 1.0 - kr - kb;
        let [r, g, b] = rgb.map(|c| f32::from(c) / 255.0);
        let y = kr * r + kg * g + kb * b;
        let cb = (b - y) / (2.0 * (1.0 - kb));
        let cr = (r - y) / (2.0 * (1.0 - kr));
        let (y, cb, cr) = match self.range {
            Range::Limited => (16.0 + 219.0 * y, 128.0 + 224.0 * cb, 128.0 + 224.0 * cr),
            Range::Full => (255.0 * y, 128.0 + 255.0 * cb, 128.0 + 255.0 * cr),
        };
        [y, cb, cr].map(|v| v.round().clamp(0.0, 255.0) as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn black_white_and_primaries_round_trip_in_every_space() {
        for matrix in [Matrix::Bt601, Matrix::Bt709, Matrix::Bt2020] {
            for range in [Range::Limited, Range::Full] {
                let space = ColourSpace { matrix, range };
                for rgb in [
                    [0, 0, 0],
                    [255, 255, 255],
                    [255, 0, 0],
                    [0, 255, 0],
                    [0, 0, 255],
                    [40, 120, 200],
                ] {
                    let [y, cb, cr] = space.from_rgb(rgb);
                    let back = space.to_rgb(y, cb, cr);
                    for (a, b) in back.iter().zip(rgb) {
                        assert!(a.abs_diff(b) <= 2, "{space:?} {rgb:?} -> {back:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn limited_range_black_and_white_are_16_and_235() {
        let space = ColourSpace {
            matrix: Matrix::Bt709,
            range: Range::Limited,
        };
        assert_eq!(space.to_rgb(16, 128, 128), [0, 0, 0]);
        assert_eq!(space.to_rgb(235, 128, 128), [255, 255, 255]);
        let full = ColourSpace {
            matrix: Matrix::Bt709,
            range: Range::Full,
        };
        assert_eq!(full.to_rgb(16, 128, 128), [16, 16, 16]);
    }

    #[test]
    fn the_matrices_differ_where_they_should() {
        let pure_red_601 = ColourSpace {
            matrix: Matrix::Bt601,
            range: Range::Limited,
        }
        .from_rgb([255, 0, 0]);
        let pure_red_709 = ColourSpace {
            matrix: Matrix::Bt709,
            range: Range::Limited,
        }
        .from_rgb([255, 0, 0]);
        assert_ne!(pure_red_601, pure_red_709);
        assert_eq!(pure_red_601, [81, 90, 240]);
        assert_eq!(pure_red_709, [63, 102, 240]);
    }
}
