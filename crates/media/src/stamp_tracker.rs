//! What the pixel stamps of successive frames say about a stream: how late each frame is, how
//! many frames the source made that never arrived, and frames that came back out of order.
//!
//! Pure: the caller passes each frame's stamp and the wall-clock time it was decoded, so the
//! rules are tested without a camera, a pipeline or a clock. It owns no counter; the pipeline
//! adds what [`StampTracker::observe`] returns to the stream's health.

use stamp::{FRAME_MODULUS, Stamp};

/// What one frame's stamp adds to the stream's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StampReading {
    /// Capture to decode, in milliseconds (negative when the clocks disagree).
    pub latency_ms: i64,
    /// Frames the source made between the previous frame and this one that never arrived.
    pub missing: u64,
    /// This frame repeats or precedes the previous one.
    pub regression: bool,
}

/// The previous frame's stamp, kept across reconnects so a gap over a reconnect is counted.
#[derive(Debug, Default)]
pub(crate) struct StampTracker {
    last: Option<Stamp>,
}

impl StampTracker {
    /// Reads `stamp`, decoded at `now_unix_ms` milliseconds since the Unix epoch. A stamp from
    /// another source (the stream switched cameras, or the picture is not stamped by ours)
    /// starts afresh rather than counting a gap.
    pub fn observe(&mut self, stamp: Stamp, now_unix_ms: u64) -> StampReading {
        let (missing, regression) = match self.last.filter(|last| last.source == stamp.source) {
            None => (0, false),
            Some(previous) => match stamp.frames_since(&previous) {
                0 => (0, true),
                n if n < FRAME_MODULUS / 2 => (u64::from(n - 1), false),
                // More than half the frame-number space ahead: the frame is behind us.
                _ => (0, true),
            },
        };
        self.last = Some(stamp);
        StampReading {
            latency_ms: stamp.latency_ms(now_unix_ms),
            missing,
            regression,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000_000;

    fn frame(source: u16, number: u64, captured: u64) -> Stamp {
        Stamp::new(source, number, captured)
    }

    #[test]
    fn consecutive_frames_miss_nothing_and_report_their_latency() {
        let mut tracker = StampTracker::default();
        let first = tracker.observe(frame(1, 10, NOW - 80), NOW);
        assert_eq!(
            first,
            StampReading {
                latency_ms: 80,
                missing: 0,
                regression: false
            }
        );
        let second = tracker.observe(frame(1, 11, NOW - 40), NOW + 5);
        assert_eq!((second.missing, second.regression), (0, false));
        assert_eq!(second.latency_ms, 45);
    }

    #[test]
    fn skipped_frame_numbers_are_counted_as_missing() {
        let mut tracker = StampTracker::default();
        tracker.observe(frame(1, 10, NOW), NOW);
        assert_eq!(tracker.observe(frame(1, 14, NOW), NOW).missing, 3);
    }

    #[test]
    fn a_repeat_or_an_older_frame_is_a_regression_and_misses_nothing() {
        let mut tracker = StampTracker::default();
        tracker.observe(frame(1, 10, NOW), NOW);
        let repeat = tracker.observe(frame(1, 10, NOW), NOW);
        assert_eq!((repeat.missing, repeat.regression), (0, true));
        let older = tracker.observe(frame(1, 7, NOW), NOW);
        assert_eq!((older.missing, older.regression), (0, true));
    }

    #[test]
    fn the_frame_number_wrap_is_no_gap() {
        let mut tracker = StampTracker::default();
        tracker.observe(frame(1, u64::from(FRAME_MODULUS) - 1, NOW), NOW);
        let wrapped = tracker.observe(frame(1, u64::from(FRAME_MODULUS), NOW), NOW);
        assert_eq!((wrapped.missing, wrapped.regression), (0, false));
    }

    #[test]
    fn another_source_starts_afresh() {
        let mut tracker = StampTracker::default();
        tracker.observe(frame(1, 10, NOW), NOW);
        let other = tracker.observe(frame(2, 500, NOW), NOW);
        assert_eq!((other.missing, other.regression), (0, false));
        assert_eq!(tracker.observe(frame(2, 502, NOW), NOW).missing, 1);
    }

    #[test]
    fn a_capture_time_ahead_of_the_decoder_clock_is_negative_latency() {
        let mut tracker = StampTracker::default();
        assert_eq!(tracker.observe(frame(1, 1, NOW + 30), NOW).latency_ms, -30);
    }
}
