//! Choosing the decoder explicitly, never through `decodebin`'s ranks: hardware first where
//! present, software otherwise, or exactly what the user named.

use crate::{DecoderChoice, MediaError};

/// A codec as it arrives in RTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    H264,
    H265,
    Jpeg,
}

impl Codec {
    pub const ALL: [Codec; 3] = [Codec::H264, Codec::H265, Codec::Jpeg];

    /// From the RTP caps' `encoding-name`.
    pub fn from_encoding_name(name: &str) -> Option<Self> {
        match name.to_ascii_uppercase().as_str() {
            "H264" => Some(Codec::H264),
            "H265" => Some(Codec::H265),
            "JPEG" => Some(Codec::Jpeg),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Codec::H264 => "h264",
            Codec::H265 => "h265",
            Codec::Jpeg => "mjpeg",
        }
    }

    pub fn depayloader(self) -> &'static str {
        match self {
            Codec::H264 => "rtph264depay",
            Codec::H265 => "rtph265depay",
            Codec::Jpeg => "rtpjpegdepay",
        }
    }

    pub fn parser(self) -> Option<&'static str> {
        match self {
            Codec::H264 => Some("h264parse"),
            Codec::H265 => Some("h265parse"),
            Codec::Jpeg => None,
        }
    }

    /// Decoders in order of preference: NVIDIA, VA-API, VideoToolbox, Direct3D 11, software.
    pub fn decoders(self) -> &'static [&'static str] {
        match self {
            Codec::H264 => &[
                "nvh264dec",
                "vah264dec",
                "vtdec_hw",
                "d3d11h264dec",
                "avdec_h264",
            ],
            Codec::H265 => &[
                "nvh265dec",
                "vah265dec",
                "vtdec_hw",
                "d3d11h265dec",
                "avdec_h265",
            ],
            Codec::Jpeg => &["nvjpegdec", "vajpegdec", "jpegdec", "avdec_mjpeg"],
        }
    }
}

/// Every element this crate may create by name: the RTSP source, the frame sink, and each
/// codec's depayloader, parser and every decoder it may choose. The `elements` crate's guard
/// checks that the set-up and the packages bring them.
pub fn created_elements() -> Vec<&'static str> {
    let per_codec = Codec::ALL.into_iter().flat_map(|codec| {
        std::iter::once(codec.depayloader())
            .chain(codec.parser())
            .chain(codec.decoders().iter().copied())
    });
    ["rtspsrc", "appsink"]
        .into_iter()
        .chain(per_codec)
        .collect()
}

/// What to install for `codec`'s software decoder: the first decoder every installation
/// should have (`jpegdec` for MJPEG, libav's for H.264 and H.265).
fn software_hint(codec: Codec) -> String {
    codec
        .decoders()
        .iter()
        .find(|name| elements::lookup(name).is_some_and(|e| e.need == elements::Need::Always))
        .map(|name| format!("`{name}` ({})", elements::install_hint(name)))
        .unwrap_or_default()
}

/// The decoder factory to use for `codec` under `choice`.
pub fn choose(codec: Codec, choice: &DecoderChoice) -> Result<String, MediaError> {
    match choice {
        DecoderChoice::Named(name) => match gst::ElementFactory::find(name) {
            Some(_) => Ok(name.clone()),
            None => Err(MediaError::NoDecoder {
                codec: codec.name(),
                detail: format!("the decoder `{name}` that was asked for is not installed"),
            }),
        },
        DecoderChoice::Auto => codec
            .decoders()
            .iter()
            .find(|name| gst::ElementFactory::find(name).is_some())
            .map(|name| (*name).to_owned())
            .ok_or_else(|| MediaError::NoDecoder {
                codec: codec.name(),
                detail: format!(
                    "none of {} is installed; for the software one, {}",
                    codec.decoders().join(", "),
                    software_hint(codec)
                ),
            }),
    }
}
