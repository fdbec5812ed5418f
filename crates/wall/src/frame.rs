//! What the wall draws from: a frame's planes exactly as the decoder laid them out. Plain data,
//! borrowed; the renderer uploads it and keeps nothing of it.

use crate::colour::{ColourSpace, Matrix, Range};

/// How a frame's chroma is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlaneLayout {
    /// Y, then U, then V, chroma at half width and height (I420; YV12 arrives reordered).
    I420,
    /// Y, then U, then V, chroma at half width and full height (Y42B: MJPEG cameras' 4:2:2).
    I422,
    /// Y, then U, then V, all at full size (Y444).
    I444,
    /// Y, then interleaved UV at half width and height.
    Nv12,
}

/// How wide each sample is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SampleDepth {
    /// One byte a sample.
    #[default]
    Eight,
    /// Ten bits in the low bits of a little-endian u16 (I420_10LE).
    TenLow,
    /// Ten bits in the high bits of a little-endian u16 (P010).
    TenHigh,
}

impl SampleDepth {
    /// Bytes a sample takes in memory.
    pub fn bytes(self) -> usize {
        match self {
            SampleDepth::Eight => 1,
            SampleDepth::TenLow | SampleDepth::TenHigh => 2,
        }
    }

    /// The 8-bit value of the little-endian sample `[low, high]`: the wall shows 8 bits.
    pub fn to_8bit(self, low: u8, high: u8) -> u8 {
        let v = u16::from_le_bytes([low, high]);
        match self {
            SampleDepth::Eight => low,
            SampleDepth::TenLow => (v >> 2).min(255) as u8,
            SampleDepth::TenHigh => (v >> 8) as u8,
        }
    }
}

/// One plane: its bytes and the distance between rows.
#[derive(Debug, Clone, Copy)]
pub struct Plane<'a> {
    pub data: &'a [u8],
    pub stride: usize,
}

/// A decoded 8-bit planar YUV frame.
#[derive(Debug, Clone, Copy)]
pub struct YuvFrame<'a> {
    pub layout: PlaneLayout,
    pub width: u32,
    pub height: u32,
    pub colour: ColourSpace,
    pub depth: SampleDepth,
    /// Y and U (or UV), and V for I420.
    pub planes: [Option<Plane<'a>>; 3],
}

impl YuvFrame<'_> {
    /// Width and height of the chroma planes.
    pub fn chroma_size(&self) -> (u32, u32) {
        match self.layout {
            PlaneLayout::I420 | PlaneLayout::Nv12 => {
                (self.width.div_ceil(2), self.height.div_ceil(2))
            }
            PlaneLayout::I422 => (self.width.div_ceil(2), self.height),
            PlaneLayout::I444 => (self.width, self.height),
        }
    }
}

/// Why a decoded frame cannot be shown.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameError {
    #[error("the wall shows I420, YV12, NV12, Y42B, Y444, I420_10LE and P010 frames, not {0}")]
    UnsupportedFormat(String),
    #[error("a frame without pixels")]
    Empty,
    #[error("frame {width}x{height}: plane {plane} is too small")]
    ShortPlane {
        width: u32,
        height: u32,
        plane: usize,
    },
}

impl YuvFrame<'_> {
    /// Checks every plane holds its rows, so the upload cannot read out of bounds.
    pub fn validate(&self) -> Result<(), FrameError> {
        if self.width == 0 || self.height == 0 {
            return Err(FrameError::Empty);
        }
        let (cw, ch) = self.chroma_size();
        let needs: [(u32, u32, u32); 3] = match self.layout {
            PlaneLayout::I420 | PlaneLayout::I422 | PlaneLayout::I444 => {
                [(self.width, self.height, 1), (cw, ch, 1), (cw, ch, 1)]
            }
            PlaneLayout::Nv12 => [(self.width, self.height, 1), (cw, ch, 2), (0, 0, 0)],
        };
        for (index, (w, h, bytes)) in needs.iter().enumerate() {
            if *w == 0 {
                continue;
            }
            let row = (*w * *bytes) as usize * self.depth.bytes();
            let short = match self.planes[index] {
                Some(p) => p.stride < row || p.data.len() < p.stride * (*h as usize - 1) + row,
                None => true,
            };
            if short {
                return Err(FrameError::ShortPlane {
                    width: self.width,
                    height: self.height,
                    plane: index,
                });
            }
        }
        Ok(())
    }
}

/// The colour space a media frame declares, or the usual guess when it declares none.
pub fn colour_of(frame: &media::Frame) -> ColourSpace {
    use gst_video::{VideoColorMatrix as M, VideoColorRange as R};
    let c = frame.colorimetry();
    let guess = ColourSpace::guess(frame.height());
    ColourSpace {
        matrix: match c.matrix {
            M::Bt601 => Matrix::Bt601,
            M::Bt709 => Matrix::Bt709,
            M::Bt2020 => Matrix::Bt2020,
            _ => guess.matrix,
        },
        range: match c.range {
            R::Range0_255 => Range::Full,
            R::Range16_235 => Range::Limited,
            _ => guess.range,
        },
    }
}

/// How the wall draws a decoder's format: its plane layout, sample depth, and which of the
/// frame's planes are Y, U (or UV) and V. `None` for a format the wall cannot draw; the media
/// engine asks decoders for exactly the formats that have one (`media::RAW_CAPS`).
pub fn layout_of(
    format: gst_video::VideoFormat,
) -> Option<(PlaneLayout, SampleDepth, [Option<u32>; 3])> {
    use gst_video::VideoFormat;
    Some(match format {
        VideoFormat::I420 => (
            PlaneLayout::I420,
            SampleDepth::Eight,
            [Some(0), Some(1), Some(2)],
        ),
        // YV12 is I420 with V before U.
        VideoFormat::Yv12 => (
            PlaneLayout::I420,
            SampleDepth::Eight,
            [Some(0), Some(2), Some(1)],
        ),
        VideoFormat::Nv12 => (
            PlaneLayout::Nv12,
            SampleDepth::Eight,
            [Some(0), Some(1), None],
        ),
        VideoFormat::Y42b => (
            PlaneLayout::I422,
            SampleDepth::Eight,
            [Some(0), Some(1), Some(2)],
        ),
        VideoFormat::Y444 => (
            PlaneLayout::I444,
            SampleDepth::Eight,
            [Some(0), Some(1), Some(2)],
        ),
        VideoFormat::I42010le => (
            PlaneLayout::I420,
            SampleDepth::TenLow,
            [Some(0), Some(1), Some(2)],
        ),
        VideoFormat::P01010le => (
            PlaneLayout::Nv12,
            SampleDepth::TenHigh,
            [Some(0), Some(1), None],
        ),
        _ => return None,
    })
}

/// Borrows a mapped media frame as a [`YuvFrame`].
pub fn from_mapped<'a>(
    frame: &media::Frame,
    mapped: &'a gst_video::VideoFrameRef<&gst_video::gst::BufferRef>,
) -> Result<YuvFrame<'a>, FrameError> {
    use gst_video::prelude::*;
    let plane = |index: u32| -> Option<Plane<'a>> {
        let stride = usize::try_from(*mapped.plane_stride().get(index as usize)?).ok()?;
        Some(Plane {
            data: mapped.plane_data(index).ok()?,
            stride,
        })
    };
    let format = frame.format();
    let (layout, depth, indices) =
        layout_of(format).ok_or_else(|| FrameError::UnsupportedFormat(format!("{format:?}")))?;
    let planes = indices.map(|p| p.and_then(plane));
    let yuv = YuvFrame {
        layout,
        depth,
        width: frame.width(),
        height: frame.height(),
        colour: colour_of(frame),
        planes,
    };
    yuv.validate()?;
    Ok(yuv)
}

/// Solid-colour I420 planes for tests and placeholders: (Y, U, V) buffers and the frame over them.
#[derive(Debug, Clone)]
pub struct OwnedI420 {
    pub width: u32,
    pub height: u32,
    pub colour: ColourSpace,
    pub y: Vec<u8>,
    pub u: Vec<u8>,
    pub v: Vec<u8>,
}

impl OwnedI420 {
    /// A frame filled with the 8-bit YUV that encodes `rgb` in `colour`.
    pub fn solid(width: u32, height: u32, colour: ColourSpace, rgb: [u8; 3]) -> Self {
        let [y, u, v] = colour.from_rgb(rgb);
        let (cw, ch) = (width.div_ceil(2), height.div_ceil(2));
        Self {
            width,
            height,
            colour,
            y: vec![y; (width * height) as usize],
            u: vec![u; (cw * ch) as usize],
            v: vec![v; (cw * ch) as usize],
        }
    }

    pub fn as_frame(&self) -> YuvFrame<'_> {
        let cw = self.width.div_ceil(2) as usize;
        YuvFrame {
            layout: PlaneLayout::I420,
            depth: SampleDepth::Eight,
            width: self.width,
            height: self.height,
            colour: self.colour,
            planes: [
                Some(Plane {
                    data: &self.y,
                    stride: self.width as usize,
                }),
                Some(Plane {
                    data: &self.u,
                    stride: cw,
                }),
                Some(Plane {
                    data: &self.v,
                    stride: cw,
                }),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_planes_are_refused_not_read_past() {
        let owned = OwnedI420::solid(64, 32, ColourSpace::default(), [10, 20, 30]);
        assert_eq!(owned.as_frame().validate(), Ok(()));
        let mut frame = owned.as_frame();
        frame.planes[2] = Some(Plane {
            data: &owned.v[..10],
            stride: 32,
        });
        assert_eq!(
            frame.validate(),
            Err(FrameError::ShortPlane {
                width: 64,
                height: 32,
                plane: 2
            })
        );
        frame.planes[1] = None;
        assert!(frame.validate().is_err());
    }

    /// What the media engine asks decoders for is exactly what the wall draws: a format the
    /// wall cannot draw would otherwise be decoded and then refused on every frame.
    #[test]
    fn the_wall_draws_every_format_the_media_engine_accepts() {
        gst_video::gst::init().expect("GStreamer");
        let caps = media::RAW_CAPS;
        let list = caps
            .split_once('{')
            .and_then(|(_, rest)| rest.split_once('}'))
            .map(|(list, _)| list)
            .expect("a format list");
        let formats: Vec<&str> = list.split(',').map(str::trim).collect();
        assert!(formats.len() >= 7, "{formats:?}");
        for name in formats {
            let format = gst_video::VideoFormat::from_string(name);
            assert!(
                layout_of(format).is_some(),
                "media accepts {name}, the wall cannot draw it"
            );
        }
        assert!(layout_of(gst_video::VideoFormat::Rgba).is_none());
    }

    #[test]
    fn chroma_planes_follow_the_subsampling() {
        let frame = |layout| YuvFrame {
            layout,
            width: 65,
            height: 33,
            colour: ColourSpace::default(),
            depth: SampleDepth::Eight,
            planes: [None, None, None],
        };
        assert_eq!(frame(PlaneLayout::I420).chroma_size(), (33, 17));
        assert_eq!(frame(PlaneLayout::Nv12).chroma_size(), (33, 17));
        assert_eq!(frame(PlaneLayout::I422).chroma_size(), (33, 33));
        assert_eq!(frame(PlaneLayout::I444).chroma_size(), (65, 33));
    }
}
