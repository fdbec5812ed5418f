//! The media engine: opens camera streams and delivers decoded frames, for dozens of cameras in
//! one process, without one stream ever stalling another.
//!
//! Per stream: an explicit GStreamer pipeline (`rtspsrc → depayloader → parser → chosen
//! decoder → appsink`, planar YUV as the decoder gives it), a latest-frame [`FrameSlot`], a
//! supervisor thread that watches health, detects stalls, and reconnects with backoff, and a
//! [`StreamHealth`] snapshot on demand. A [`StreamSwitch`] changes a tile between main and
//! sub-stream without a gap.
//!
//! This crate knows nothing of the wall, the app or the hub. Credentials never appear in its
//! logs, errors or printed URLs.

mod adaptive;
mod decode_errors;
mod decoder;
mod health;
mod pipeline;
mod playback;
pub mod redact;
mod settings;
mod slot;
mod stamp_tracker;
mod stream;
mod switch;

pub use adaptive::{AdaptivePolicy, AdaptiveStream, Quality};
pub use decoder::{Codec, created_elements};
pub use health::{StreamHealth, StreamState};
pub use pipeline::{RAW_CAPS, live_elements, live_pipelines};
pub use playback::{ClockReading, PlaybackClock, RATES, TimeSource};
pub use settings::{
    Backoff, CredentialSource, Credentials, DecoderChoice, REPLAY_STALL, Replay, StreamSettings,
    Transport,
};
pub use slot::{Colorimetry, Frame, FrameSlot};
pub use stream::Stream;
pub use switch::StreamSwitch;

use std::sync::Arc;

/// What went wrong, with enough context to act on and never a credential.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("GStreamer cannot start: {0}")]
    Init(String),
    #[error("not an RTSP URL: {0}")]
    BadUrl(String),
    #[error(transparent)]
    MissingElements(#[from] elements::MissingElements),
    #[error("no decoder for {codec}: {detail}")]
    NoDecoder { codec: &'static str, detail: String },
    #[error("the camera sends `{0}`, which is not a supported video codec (H.264, H.265, MJPEG)")]
    UnsupportedCodec(String),
    #[error("pipeline: {0}")]
    Pipeline(String),
    #[error("cannot map a frame for reading")]
    Map,
}

impl MediaError {
    /// True when retrying cannot help (the setup, not the camera, is at fault).
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            MediaError::MissingElements(_)
                | MediaError::NoDecoder { .. }
                | MediaError::UnsupportedCodec(_)
                | MediaError::BadUrl(_)
                | MediaError::Init(_)
        )
    }
}

/// Engine-wide settings.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// How many streams may be connecting at the same moment.
    pub max_concurrent_connects: usize,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            max_concurrent_connects: 8,
        }
    }
}

/// Opens streams that share one connect limiter.
#[derive(Debug, Clone)]
pub struct MediaEngine {
    limiter: Arc<stream::ConnectLimiter>,
}

impl MediaEngine {
    pub fn new(settings: EngineSettings) -> Result<Self, MediaError> {
        gst::init().map_err(|e| MediaError::Init(e.to_string()))?;
        // Fail at start naming the package to install, not at the first camera, for what every
        // stream needs. A codec's depayloader, parser and decoder are checked when a stream of
        // that codec arrives (with the same hint), so one missing codec stops no other.
        elements::require(["rtspsrc", "appsink"])?;
        decode_errors::install();
        Ok(Self {
            limiter: stream::ConnectLimiter::new(settings.max_concurrent_connects),
        })
    }

    /// Opens a stream; it connects in the background and reconnects until dropped.
    pub fn open(&self, settings: StreamSettings) -> Result<Stream, MediaError> {
        Stream::open(settings, self.limiter.clone())
    }

    /// Whether a decoder for `codec` is installed, and which one `Auto` would pick.
    pub fn decoder_for(&self, codec: Codec) -> Result<String, MediaError> {
        decoder::choose(codec, &DecoderChoice::Auto)
    }
}
