//! What was recorded and how to play it: a stream's timeline (recorded spans, gaps with their
//! reasons, evidence locks) and its media from any instant.
//!
//! Media from an instant `T` follows ONVIF Profile G's replay semantics: it starts at the key
//! frame at or before `T` (a decoder needs it) and the frames before `T` are decoded but not
//! shown (an accurate seek: the segment starts at `T`). The segments of one recording run are
//! one continuous timeline (`splitmuxsrc`), so frames run on across segment boundaries.

use crate::config::StreamKind;
use crate::index::{Clock, Index, IndexError, Lock};
use gst::prelude::*;
use std::path::{Path, PathBuf};

/// A stretch recorded without a break.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub start_us: i64,
    pub end_us: i64,
    pub clock: Clock,
}

/// A stretch with no video, and why when the recorder knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    pub start_us: i64,
    pub end_us: i64,
    pub reason: Option<String>,
}

/// What one stream holds over a range.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Timeline {
    pub spans: Vec<Span>,
    pub gaps: Vec<Gap>,
    pub locks: Vec<Lock>,
}

/// Two segments closer than this are one span (a frame interval or so of rounding).
const JOIN_US: i64 = 100_000;

#[derive(Debug, thiserror::Error)]
pub enum PlaybackError {
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error("nothing recorded for {camera}/{kind} at or after that time")]
    NotRecorded { camera: String, kind: &'static str },
    #[error(transparent)]
    Elements(#[from] elements::MissingElements),
    #[error("playback: {0}")]
    Pipeline(String),
}

/// The timeline of one stream over `[from_us, to_us)`.
pub fn timeline(
    index: &Index,
    camera: &str,
    kind: StreamKind,
    from_us: i64,
    to_us: i64,
) -> Result<Timeline, IndexError> {
    let mut spans: Vec<(Span, (i64, i64))> = Vec::new();
    for segment in index.segments(camera, kind, from_us, to_us)? {
        match spans.last_mut() {
            // Consecutive segments of one run follow each other whatever their times say (the
            // clock may change from the recorder's to the camera's between two of them).
            Some((last, (run, seq)))
                if (*run == segment.run && segment.seq == *seq + 1)
                    || segment.start_us.saturating_sub(last.end_us) <= JOIN_US =>
            {
                (*run, *seq) = (segment.run, segment.seq);
                last.end_us = last.end_us.max(segment.end_us);
                // A span is only as well timed as its least well timed segment.
                if segment.clock == Clock::Local {
                    last.clock = Clock::Local;
                }
            }
            _ => spans.push((
                Span {
                    start_us: segment.start_us,
                    end_us: segment.end_us,
                    clock: segment.clock,
                },
                (segment.run, segment.seq),
            )),
        }
    }
    let spans: Vec<Span> = spans.into_iter().map(|(span, _)| span).collect();
    let outages = index.outages(camera, kind, from_us, to_us)?;
    let mut gaps = Vec::new();
    let mut cursor = from_us;
    for span in spans
        .iter()
        .map(|s| (s.start_us, s.end_us))
        .chain(std::iter::once((to_us, to_us)))
    {
        let (start, end) = (cursor, span.0.min(to_us));
        if end.saturating_sub(start) > JOIN_US {
            let reason = outages
                .iter()
                .find(|o| o.start_us < end && o.end_us.is_none_or(|e| e > start))
                .map(|o| o.reason.clone());
            gaps.push(Gap {
                start_us: start,
                end_us: end,
                reason,
            });
        }
        cursor = cursor.max(span.1);
    }
    Ok(Timeline {
        spans,
        gaps,
        locks: index.locks(camera, from_us, to_us)?,
    })
}

/// The recorded media of one stream from an instant, ready to be played.
#[derive(Debug, Clone)]
pub struct Replay {
    /// The run's segment files, in order, from the one holding the instant.
    pub files: Vec<PathBuf>,
    /// Where the first file starts, Unix µs.
    pub start_us: i64,
    /// The instant asked for (or the first recorded one after it), Unix µs.
    pub at_us: i64,
    pub codec: String,
}

/// Segments of one run that follow each other, from the one holding `at_us`.
pub fn replay_from(
    index: &Index,
    video_dir: &Path,
    camera: &str,
    kind: StreamKind,
    at_us: i64,
) -> Result<Replay, PlaybackError> {
    // The segment holding the instant (the later, better timed one where two hold it: they
    // overlap by a few milliseconds where the clock changed from the recorder's to the
    // camera's), else the first one after it.
    let Some(first) = index.segment_at(camera, kind, at_us)? else {
        return Err(PlaybackError::NotRecorded {
            camera: camera.to_owned(),
            kind: kind.as_str(),
        });
    };
    // The run goes on in the order it was recorded.
    let mut run = vec![first.clone()];
    run.extend(index.rest_of_run(&first, usize::MAX)?);
    Ok(Replay {
        files: run.iter().map(|s| video_dir.join(&s.file)).collect(),
        start_us: first.start_us,
        at_us: at_us.max(first.start_us),
        codec: first.codec.clone(),
    })
}

impl Replay {
    /// The position of the instant in the run's own timeline.
    pub fn offset(&self) -> gst::ClockTime {
        gst::ClockTime::from_useconds((self.at_us - self.start_us).max(0) as u64)
    }

    /// A `splitmuxsrc` that plays the run's files as one stream; its pads appear when it
    /// pauses. Seek it with [`Replay::seek`] once paused.
    pub fn source(&self) -> Result<gst::Element, PlaybackError> {
        let source = gst::ElementFactory::make("splitmuxsrc")
            .build()
            .map_err(|_| elements::MissingElements::one("splitmuxsrc"))?;
        let files: Vec<String> = self
            .files
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        source.connect("format-location", false, move |_| {
            Some(gst::glib::StrV::from(files.clone()).to_value())
        });
        Ok(source)
    }

    /// Seeks a paused pipeline holding [`Replay::source`] to the instant: from the key frame
    /// before it, showing nothing before it.
    pub fn seek(&self, pipeline: &gst::Pipeline) -> Result<(), PlaybackError> {
        pipeline
            .seek_simple(
                gst::SeekFlags::FLUSH | gst::SeekFlags::ACCURATE,
                self.offset(),
            )
            .map_err(|e| PlaybackError::Pipeline(format!("cannot seek: {e}")))
    }
}

/// Every element this module creates by name.
pub fn created_elements() -> Vec<&'static str> {
    vec!["splitmuxsrc"]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::NewSegment;

    #[test]
    fn segments_join_into_spans_and_gaps_carry_the_outage_reason() {
        let dir = std::env::temp_dir().join(format!("rec-timeline-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let index = Index::open(&dir.join("index.db")).expect("index");
        let s = 1_000_000;
        for (seq, (start, end, run)) in [(0, 10, 1), (10, 20, 1), (40, 50, 2), (50, 60, 2)]
            .into_iter()
            .enumerate()
        {
            index
                .add_segment(&NewSegment {
                    camera: "c".into(),
                    kind: StreamKind::Main,
                    file: format!("{start}.mp4"),
                    start_us: start * s,
                    end_us: end * s,
                    bytes: 1,
                    clock: Clock::Camera,
                    codec: "h264".into(),
                    run,
                    seq: seq as i64,
                })
                .expect("add");
        }
        index
            .open_outage(
                "c",
                StreamKind::Main,
                20 * s,
                "the camera sent nothing for 5 s",
            )
            .expect("outage");
        index
            .close_outage("c", StreamKind::Main, 40 * s)
            .expect("close");
        let timeline = timeline(&index, "c", StreamKind::Main, 5 * s, 70 * s).expect("timeline");
        assert_eq!(
            timeline
                .spans
                .iter()
                .map(|s| (s.start_us / 1_000_000, s.end_us / 1_000_000))
                .collect::<Vec<_>>(),
            [(0, 20), (40, 60)]
        );
        assert_eq!(
            timeline.gaps,
            [
                Gap {
                    start_us: 20 * s,
                    end_us: 40 * s,
                    reason: Some("the camera sent nothing for 5 s".into())
                },
                Gap {
                    start_us: 60 * s,
                    end_us: 70 * s,
                    reason: None
                }
            ]
        );
        let replay = replay_from(&index, &dir, "c", StreamKind::Main, 15 * s).expect("replay");
        assert_eq!(replay.files, [dir.join("10.mp4")]);
        assert_eq!(replay.offset(), gst::ClockTime::from_seconds(5));
        let later = replay_from(&index, &dir, "c", StreamKind::Main, 30 * s).expect("replay");
        assert_eq!(later.files, [dir.join("40.mp4"), dir.join("50.mp4")]);
        assert_eq!(later.at_us, 40 * s);
        assert!(matches!(
            replay_from(&index, &dir, "c", StreamKind::Main, 61 * s),
            Err(PlaybackError::NotRecorded { .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
