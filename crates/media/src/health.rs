//! Stream health: what state a stream is in and how well it is doing, as counters the decoder
//! thread bumps without locks and a snapshot anyone can read.

use serde::Serialize;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use ts_rs::TS;

/// Where a stream is in its life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum StreamState {
    /// Opening the connection, no frame yet.
    Connecting,
    /// Frames are arriving.
    Live,
    /// No frame for the stall timeout while live; about to reconnect.
    Stalled,
    /// Waiting to try again after a failure.
    Reconnecting { attempt: u32, reason: String },
    /// The camera refused the credentials; retried slowly.
    AuthFailed,
    /// Cannot work as configured (no decoder for the codec, bad URL); not retried.
    Failed { reason: String },
    /// Closed by its owner.
    Stopped,
}

impl StreamState {
    pub fn name(&self) -> &'static str {
        match self {
            StreamState::Connecting => "connecting",
            StreamState::Live => "live",
            StreamState::Stalled => "stalled",
            StreamState::Reconnecting { .. } => "reconnecting",
            StreamState::AuthFailed => "auth_failed",
            StreamState::Failed { .. } => "failed",
            StreamState::Stopped => "stopped",
        }
    }
}

/// Counters shared by a stream's threads.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub frames_in: AtomicU64,
    pub bytes_in: AtomicU64,
    pub decode_errors: AtomicU64,
    pub reconnects: AtomicU64,
    pub attempts: AtomicU64,
    /// Frames the source stamped but we never decoded (gaps in stamp numbers).
    pub source_gaps: AtomicU64,
    /// Times a stamp number went backwards or repeated.
    pub stamp_regressions: AtomicU64,
    /// Last measured stamp latency in ms, or i64::MIN when none.
    pub latency_ms: AtomicI64,
    /// Monotonic ms (since the stream started) of the last frame, or 0.
    pub last_frame_ms: AtomicU64,
}

impl Counters {
    pub fn new() -> Self {
        let counters = Self::default();
        counters.latency_ms.store(i64::MIN, Ordering::Relaxed);
        counters
    }
}

/// A snapshot of one stream's health.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct StreamHealth {
    /// The stream's URL without credentials.
    pub url: String,
    pub label: String,
    #[serde(flatten)]
    pub state: StreamState,
    /// The decoder element in use.
    pub decoder: Option<String>,
    pub codec: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Decoded frames per second over the last measuring window.
    pub fps: f64,
    pub bitrate_kbps: f64,
    /// Frames decoded since the stream was opened.
    pub frames: u64,
    /// Frames handed over to the consumer.
    pub frames_out: u64,
    /// Frames replaced in the slot before the consumer took them.
    pub dropped: u64,
    pub decode_errors: u64,
    pub reconnects: u64,
    /// Connection attempts, the first included.
    pub attempts: u64,
    /// Frames the source stamped that never arrived (simulator sources only).
    pub source_gaps: u64,
    pub since_last_frame_ms: Option<u64>,
    /// Capture-to-decode latency from the pixel stamp, when the source writes one.
    pub latency_ms: Option<i64>,
}
