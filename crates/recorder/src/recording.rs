//! Recording one camera stream: `rtspsrc → depayloader → parser → splitmuxsink(mp4mux)`, no
//! decoding and no transcoding. Segments are cut at the first key frame after the configured
//! length, as MP4 files (browsers and GStreamer both play them).
//!
//! The order of writing is moonfire-nvr's: a segment's file is finished, synced to disk (file
//! and folder), and only then named in the index. A crash loses at most the segment being
//! written; its file, never indexed, is deleted at the next start ([`crate::Index::reconcile`]).
//!
//! Times: each segment's start and end are Unix times of its first frame and of the frame
//! after its last. They come from the camera's own clock where it sends RTCP sender reports
//! (the NTP time of an RTP timestamp: when the camera captured the frame), otherwise from the
//! recorder's clock when the first frame arrived; the index records which ([`Clock`]).
//!
//! A stream that fails (refused, ended, silent for `stall_timeout`) keeps what it recorded,
//! opens an outage in the index, and is connected again with backoff until it is stopped.

use crate::config::{CameraConfig, StreamKind, Transport};
use crate::credentials::{CredentialStore, Credentials};
use crate::index::{Clock, Index, NewSegment};
use crate::restream::LiveFeed;
use gst::prelude::*;
use media::{Backoff, Codec};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The Unix time now, in microseconds.
pub fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// What a recorded stream is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Connecting, or connected and waiting for the first key frame.
    Connecting,
    Recording,
    /// Not recording since `since_us`, for `reason`; trying again.
    Offline {
        since_us: i64,
        reason: String,
    },
    /// No space left for video, and none could be freed (everything left is locked).
    DiskFull {
        since_us: i64,
    },
    Stopped,
}

/// What a stream reports, for `status` and the hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamStatus {
    pub camera: String,
    pub kind: StreamKind,
    pub state: State,
    pub codec: Option<String>,
    /// Segments indexed since the recorder started.
    pub segments: u64,
    /// Compressed bytes received since the recorder started.
    pub bytes: u64,
    /// The clock of the last indexed segment.
    pub clock: Option<Clock>,
    /// The end of the last indexed segment.
    pub recorded_until_us: Option<i64>,
}

/// A change worth telling the hub about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    Offline {
        camera: String,
        kind: StreamKind,
        at_us: i64,
        reason: String,
    },
    Online {
        camera: String,
        kind: StreamKind,
        at_us: i64,
    },
    DiskFull {
        camera: String,
        kind: StreamKind,
        at_us: i64,
    },
}

/// What every stream of a recorder shares.
#[derive(Debug)]
pub struct Shared {
    pub index: Arc<Index>,
    pub credentials: CredentialStore,
    pub video_dir: PathBuf,
    pub segment: Duration,
    pub stall_timeout: Duration,
    pub backoff: Backoff,
    /// Events for the hub; a full queue drops the newest (never blocks recording).
    pub events: std::sync::mpsc::SyncSender<StreamEvent>,
    /// Asks retention to free space now (a write failed for lack of it).
    pub space_wanted: Arc<AtomicBool>,
}

/// One recorded stream, on a thread of its own until dropped.
#[derive(Debug)]
pub struct StreamRecorder {
    status: Arc<Mutex<StreamStatus>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl StreamRecorder {
    /// Starts recording `kind` of `camera`.
    /// Connects to `kind` of `camera`; records it when `record`, and feeds `live` (the
    /// restream) when given.
    pub fn start(
        shared: Arc<Shared>,
        camera: &CameraConfig,
        kind: StreamKind,
        record: bool,
        live: Option<Arc<LiveFeed>>,
    ) -> std::io::Result<Self> {
        let url = camera.url(kind).unwrap_or_default().to_owned();
        let status = Arc::new(Mutex::new(StreamStatus {
            camera: camera.id.clone(),
            kind,
            state: State::Connecting,
            codec: None,
            segments: 0,
            bytes: 0,
            clock: None,
            recorded_until_us: None,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let target = Target {
            camera: camera.id.clone(),
            kind,
            url,
            transport: camera.transport,
            record,
            live,
        };
        let thread = {
            let (status, stop) = (status.clone(), stop.clone());
            std::thread::Builder::new()
                .name(format!("rec-{}-{}", camera.id, kind.as_str()))
                .spawn(move || supervise(&shared, &target, &status, &stop))?
        };
        Ok(Self {
            status,
            stop,
            thread: Some(thread),
        })
    }

    pub fn status(&self) -> StreamStatus {
        self.status.lock().clone()
    }

    /// Its status as it changes, for a thread of its own (the sync with the hub).
    pub fn status_handle(&self) -> Arc<Mutex<StreamStatus>> {
        self.status.clone()
    }

    /// Asks it to stop, without waiting: a recorder asks all its streams first, so that they
    /// finish their segments together, not one after another.
    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

impl Drop for StreamRecorder {
    /// Stops recording; the segment being written is finished and indexed first.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[derive(Debug, Clone)]
struct Target {
    camera: String,
    kind: StreamKind,
    url: String,
    transport: Transport,
    record: bool,
    live: Option<Arc<LiveFeed>>,
}

impl Target {
    fn label(&self) -> String {
        format!("{}/{}", self.camera, self.kind.as_str())
    }
}

/// Connects, records, and on failure waits and connects again, until `stop`.
fn supervise(
    shared: &Arc<Shared>,
    target: &Target,
    status: &Arc<Mutex<StreamStatus>>,
    stop: &AtomicBool,
) {
    let mut attempt = 0u32;
    while !stop.load(Ordering::SeqCst) {
        let credentials = match shared.credentials.get(&target.camera) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(stream = %target.label(), "cannot read the camera's credentials: {e}");
                None
            }
        };
        let run = match shared.index.next_run() {
            Ok(run) => run,
            Err(e) => {
                tracing::error!(stream = %target.label(), "{e}");
                wait(stop, shared.backoff.delay(attempt.max(1), rand::random()));
                continue;
            }
        };
        let outcome = record_once(shared, target, credentials.as_ref(), run, status, stop);
        let now = now_us();
        let (reason, full) = match outcome.ended {
            Ended::Stopped => break,
            Ended::Failed(reason) | Ended::DiskFull(reason) if stop.load(Ordering::SeqCst) => {
                tracing::debug!(stream = %target.label(), "ended while stopping: {reason}");
                break;
            }
            Ended::Failed(reason) => (reason, false),
            Ended::DiskFull(reason) => (reason, true),
        };
        let (was_offline, was_full, since_us) = {
            let status = status.lock();
            (
                matches!(status.state, State::Offline { .. }),
                matches!(status.state, State::DiskFull { .. }),
                status.recorded_until_us.unwrap_or(now),
            )
        };
        // The event goes out before the state changes: whoever sees the new state finds the
        // event already queued.
        if full {
            tracing::error!(stream = %target.label(), "no space left for video: {reason}");
            shared.space_wanted.store(true, Ordering::SeqCst);
            if !was_full && target.record {
                let _ = shared.events.try_send(StreamEvent::DiskFull {
                    camera: target.camera.clone(),
                    kind: target.kind,
                    at_us: now,
                });
            }
        } else {
            tracing::warn!(stream = %target.label(), "not recording: {reason}");
            // Only recorded streams report: one watched on demand has no outage to end.
            if !was_offline && !was_full && target.record {
                let _ = shared.events.try_send(StreamEvent::Offline {
                    camera: target.camera.clone(),
                    kind: target.kind,
                    at_us: now,
                    reason: reason.clone(),
                });
            }
        }
        if target.record && !was_offline && !was_full {
            let _ = shared
                .index
                .open_outage(&target.camera, target.kind, since_us, &reason);
        }
        status.lock().state = if full {
            State::DiskFull { since_us }
        } else {
            State::Offline { since_us, reason }
        };
        attempt = if outcome.recorded { 1 } else { attempt + 1 };
        wait(stop, shared.backoff.delay(attempt, rand::random()));
    }
    status.lock().state = State::Stopped;
}

/// Sleeps `delay`, waking early when `stop` is set.
fn wait(stop: &AtomicBool, delay: Duration) {
    let until = Instant::now() + delay;
    while !stop.load(Ordering::SeqCst) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

enum Ended {
    Stopped,
    Failed(String),
    DiskFull(String),
}

struct Outcome {
    ended: Ended,
    /// Whether any segment was indexed.
    recorded: bool,
}

/// Maps buffer times (running time, ns) to Unix times (µs).
#[derive(Debug, Default)]
struct Timing {
    /// Unix µs minus running-time µs, from the camera's sender reports.
    camera: Option<i64>,
    /// The same from the recorder's clock at the first buffer.
    local: Option<i64>,
    /// A report was too far off: the camera's clock is not used.
    distrusted: bool,
}

/// How far a camera's clock may be from the recorder's before it is not believed: a camera
/// whose clock was reset to 2000 must not date its video 26 years back (and have it deleted
/// by age at once).
const CAMERA_CLOCK_TRUSTED_US: i64 = 2_000_000;

impl Timing {
    /// A sender report's offset: kept if it agrees with the recorder's clock, else the stream
    /// is timed by the recorder's clock (said once).
    fn camera_report(&mut self, offset: i64) {
        let Some(local) = self.local else {
            return;
        };
        if !self.distrusted && (offset - local).abs() <= CAMERA_CLOCK_TRUSTED_US {
            self.camera = Some(offset);
        } else if !self.distrusted {
            self.distrusted = true;
            self.camera = None;
            tracing::warn!(
                "the camera's clock is {:.1} s away from the recorder's: its video is dated by \
                 the recorder's clock",
                (offset - local) as f64 / 1e6
            );
        }
    }

    fn unix_us(&self, running_ns: u64) -> (i64, Clock) {
        let running_us = (running_ns / 1000) as i64;
        match (self.camera, self.local) {
            (Some(offset), _) => (running_us + offset, Clock::Camera),
            (None, Some(offset)) => (running_us + offset, Clock::Local),
            (None, None) => (now_us(), Clock::Local),
        }
    }
}

/// A segment being written: the running time of its first frame. Its Unix times are worked
/// out when it is closed, with the best timing known by then (a camera's first sender report
/// often arrives during the first segment).
#[derive(Debug, Clone)]
struct Open {
    start_ns: u64,
    /// The file, relative to the video folder (as the index names it).
    file: String,
    /// Its place in the run.
    seq: i64,
}

/// What the pipeline's threads share with the loop that watches it.
#[derive(Debug, Default)]
struct Live {
    timing: Mutex<Timing>,
    /// The RTP time and the presentation time (ns) of the last RTP packet that reached the
    /// depayloader: where the jitter buffer's output places the camera's RTP clock now.
    rtp_seen: Mutex<Option<Seen>>,
    open: Mutex<HashMap<String, Open>>,
    codec: Mutex<Option<Codec>>,
    /// Milliseconds since `epoch` of the last buffer (0: none yet).
    last_buffer_ms: AtomicU64,
    bytes: AtomicU64,
    /// The end (running time, ns) of the last buffer, for the final segment's end.
    last_end_ns: AtomicU64,
    /// The next segment's place in the run.
    next_seq: std::sync::atomic::AtomicI64,
    failure: Mutex<Option<String>>,
}

/// One connection: builds the pipeline, indexes each finished segment, returns when it fails
/// or `stop` is set.
fn record_once(
    shared: &Arc<Shared>,
    target: &Target,
    credentials: Option<&Credentials>,
    run: i64,
    status: &Arc<Mutex<StreamStatus>>,
    stop: &AtomicBool,
) -> Outcome {
    let epoch = Instant::now();
    let live = Arc::new(Live::default());
    if let Some(feed) = &target.live {
        feed.reset();
    }
    let mut outcome = Outcome {
        ended: Ended::Stopped,
        recorded: false,
    };
    let pipeline = match build(shared, target, credentials, &live, epoch) {
        Ok(p) => p,
        Err(reason) => {
            outcome.ended = Ended::Failed(reason);
            return outcome;
        }
    };
    let Some(bus) = pipeline.bus() else {
        outcome.ended = Ended::Failed("pipeline without a bus".into());
        return outcome;
    };
    if let Err(e) = pipeline.set_state(gst::State::Playing) {
        outcome.ended = Ended::Failed(format!("cannot start: {e}"));
        let _ = pipeline.set_state(gst::State::Null);
        return outcome;
    }
    let connect_timeout = shared.stall_timeout.max(Duration::from_secs(10));
    let mut on_segment = |segment: NewSegment| {
        let first = !outcome.recorded;
        outcome.recorded = true;
        let mut status = status.lock();
        if first && matches!(status.state, State::Offline { .. } | State::DiskFull { .. }) {
            // Back: the outage ends where this connection's video begins.
            let _ = shared
                .index
                .close_outage(&target.camera, target.kind, segment.start_us);
            let _ = shared.events.try_send(StreamEvent::Online {
                camera: target.camera.clone(),
                kind: target.kind,
                at_us: segment.start_us,
            });
        }
        status.segments += 1;
        status.clock = Some(segment.clock);
        status.recorded_until_us = Some(segment.end_us);
        status.state = State::Recording;
    };
    let ended = loop {
        if stop.load(Ordering::SeqCst) {
            break Ended::Stopped;
        }
        if let Some(reason) = live.failure.lock().take() {
            break Ended::Failed(reason);
        }
        let last = live.last_buffer_ms.load(Ordering::Relaxed);
        let since = epoch.elapsed().as_millis() as u64;
        if last == 0 && since > connect_timeout.as_millis() as u64 {
            break Ended::Failed(format!(
                "no video within {} s of connecting",
                connect_timeout.as_secs()
            ));
        }
        if last != 0 && since.saturating_sub(last) > shared.stall_timeout.as_millis() as u64 {
            break Ended::Failed(format!(
                "the camera sent nothing for {} s",
                shared.stall_timeout.as_secs()
            ));
        }
        {
            let mut s = status.lock();
            s.bytes = s.bytes.max(live.bytes.load(Ordering::Relaxed));
            if last != 0 && s.state == State::Connecting {
                s.codec = live.codec.lock().map(|c| c.name().to_owned());
            }
        }
        let Some(message) = bus.timed_pop(gst::ClockTime::from_mseconds(200)) else {
            continue;
        };
        match message.view() {
            gst::MessageView::Element(element) => {
                if let Some(segment) =
                    element_message(shared, target, run, &live, element.structure())
                {
                    on_segment(segment);
                }
            }
            gst::MessageView::Error(error) => {
                // GStreamer's own words, for whoever reads the log: the reason given to
                // people is the short one.
                tracing::debug!(
                    stream = %target.label(),
                    element = ?error.src().map(|s| s.path_string()),
                    detail = error.debug().as_deref().unwrap_or(""),
                    "{}",
                    error.error()
                );
                break classify(&error.error(), error.debug().as_deref());
            }
            gst::MessageView::Eos(_) => break Ended::Failed("the camera ended the stream".into()),
            _ => {}
        }
    };
    // Finish the segment being written, whatever ended the connection: what arrived is kept.
    finish(shared, target, run, &pipeline, &bus, &live, &mut on_segment);
    let _ = pipeline.set_state(gst::State::Null);
    // A segment that could not be finished stays unindexed: delete its file now.
    for (location, open) in live.open.lock().drain() {
        let _ = std::fs::remove_file(location);
        let _ = shared.index.abandon_file(&open.file);
    }
    let total = live.bytes.load(Ordering::Relaxed);
    let mut s = status.lock();
    s.bytes = s.bytes.max(total);
    outcome.ended = ended;
    outcome
}

/// Sends end-of-stream into the segmenter and indexes the last segment, waiting at most two
/// seconds. The event goes from a thread of its own: sending it takes the pad's stream lock,
/// which a streaming thread stuck on its way down (a camera's stream being torn down as it
/// times out) can hold for good, and this thread must go on to stop the pipeline (which frees
/// that lock, and the sender with it). Seen: a recorder's stop hung for good on an H.265 stream.
fn finish(
    shared: &Arc<Shared>,
    target: &Target,
    run: i64,
    pipeline: &gst::Pipeline,
    bus: &gst::Bus,
    live: &Arc<Live>,
    on_segment: &mut impl FnMut(NewSegment),
) {
    if live.open.lock().is_empty() {
        return;
    }
    let Some(pad) = pipeline.by_name("segments").and_then(|s| {
        s.static_pad("video")
            .or_else(|| s.sink_pads().first().cloned())
    }) else {
        return;
    };
    let sent = std::thread::Builder::new()
        .name("segment-eos".into())
        .spawn(move || {
            pad.send_event(gst::event::Eos::new());
        });
    if let Err(error) = sent {
        tracing::warn!(stream = %target.label(), %error, "the last segment cannot be finished");
        return;
    }
    let until = Instant::now() + Duration::from_secs(2);
    while !live.open.lock().is_empty() {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let Some(message) = bus.timed_pop(gst::ClockTime::from_mseconds(
            left.as_millis().min(200) as u64
        )) else {
            continue;
        };
        if let gst::MessageView::Element(element) = message.view()
            && let Some(segment) = element_message(shared, target, run, live, element.structure())
        {
            on_segment(segment);
        }
    }
}

/// A write that failed for lack of space is not the camera's fault.
fn classify(error: &gst::glib::Error, debug: Option<&str>) -> Ended {
    let text = format!("{error} {}", debug.unwrap_or_default());
    if error.matches(gst::ResourceError::NoSpaceLeft) || text.contains("No space left") {
        return Ended::DiskFull(error.to_string());
    }
    let reason = if error.matches(gst::ResourceError::NotAuthorized)
        || text.contains("Unauthorized")
    {
        "the camera refused the credentials (check `watchfloor-recorder credentials`)".to_owned()
    } else if error.matches(gst::ResourceError::OpenRead)
        || error.matches(gst::ResourceError::OpenReadWrite)
    {
        format!("cannot connect: {error}")
    } else {
        error.to_string()
    };
    Ended::Failed(reason)
}

/// Handles splitmuxsink's messages: a closed fragment is synced and indexed.
fn element_message(
    shared: &Arc<Shared>,
    target: &Target,
    run: i64,
    live: &Arc<Live>,
    structure: Option<&gst::StructureRef>,
) -> Option<NewSegment> {
    let structure = structure?;
    if structure.name() != "splitmuxsink-fragment-closed" {
        return None;
    }
    let location = structure.get::<String>("location").ok()?;
    let end_ns = structure
        .get::<u64>("running-time")
        .ok()
        .unwrap_or_else(|| live.last_end_ns.load(Ordering::Relaxed));
    let open = live.open.lock().remove(&location)?;
    match index_segment(shared, target, run, live, &location, &open, end_ns) {
        Ok(segment) => segment,
        Err(e) => {
            // The file stays, named as pending: the next start deletes it. This connection
            // ends, so that the failure shows (an event, the stream's state) and is retried.
            *live.failure.lock() = Some(format!("cannot index {}: {e}", open.file));
            None
        }
    }
}

/// Syncs a finished segment (file, then folder) and only then names it in the index.
fn index_segment(
    shared: &Arc<Shared>,
    target: &Target,
    run: i64,
    live: &Arc<Live>,
    location: &str,
    open: &Open,
    end_ns: u64,
) -> Result<Option<NewSegment>, String> {
    let path = Path::new(location);
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    file.sync_all().map_err(|e| e.to_string())?;
    let bytes = file.metadata().map_err(|e| e.to_string())?.len();
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| e.to_string())?;
    }
    let duration_us = (end_ns.saturating_sub(open.start_ns) / 1000) as i64;
    if bytes == 0 || duration_us <= 0 {
        let _ = std::fs::remove_file(path);
        shared
            .index
            .abandon_file(&open.file)
            .map_err(|e| e.to_string())?;
        return Ok(None);
    }
    // Each segment keeps the start its own first frame maps to, even where that overlaps the
    // previous one by a few milliseconds (the clock changed from the recorder's to the
    // camera's between them): playback seeks within a file by that start.
    let (start_us, clock) = live.timing.lock().unix_us(open.start_ns);
    let end_us = start_us + duration_us;
    let segment = NewSegment {
        camera: target.camera.clone(),
        kind: target.kind,
        file: open.file.clone(),
        start_us,
        end_us,
        bytes,
        clock,
        codec: live
            .codec
            .lock()
            .map(|c| c.name().to_owned())
            .unwrap_or_default(),
        run,
        seq: open.seq,
    };
    shared
        .index
        .add_segment(&segment)
        .map_err(|e| e.to_string())?;
    Ok(Some(segment))
}

/// The pipeline up to `rtspsrc`; the rest is linked when the camera says what it sends.
fn build(
    shared: &Arc<Shared>,
    target: &Target,
    credentials: Option<&Credentials>,
    live: &Arc<Live>,
    epoch: Instant,
) -> Result<gst::Pipeline, String> {
    let pipeline = gst::Pipeline::with_name(&format!(
        "record-{}-{}",
        target.camera,
        target.kind.as_str()
    ));
    let mut src = gst::ElementFactory::make("rtspsrc")
        .name("src")
        .property("location", &target.url)
        .property("latency", 200u32)
        .property("do-retransmission", false)
        .property("tcp-timeout", 10_000_000u64)
        .property("teardown-timeout", 100_000_000u64);
    if let Some(credentials) = credentials {
        // Properties, never the URL: a URL ends up in logs and in GStreamer's own messages.
        src = src
            .property("user-id", &credentials.user)
            .property("user-pw", &credentials.password);
    }
    let src = src
        .build()
        .map_err(|_| elements::MissingElements::one("rtspsrc").to_string())?;
    src.set_property_from_str(
        "protocols",
        match target.transport {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        },
    );
    pipeline.add(&src).map_err(|e| e.to_string())?;
    watch_sender_reports(&src, live);

    let weak = pipeline.downgrade();
    let (shared, target, live) = (shared.clone(), target.clone(), live.clone());
    src.connect_pad_added(move |_, pad| {
        let Some(pipeline) = weak.upgrade() else {
            return;
        };
        if let Err(reason) = link(&pipeline, pad, &shared, &target, &live, epoch) {
            *live.failure.lock() = Some(reason);
        }
    });
    Ok(pipeline)
}

/// Reads the camera's clock from its RTCP sender reports: each maps an RTP time to the NTP
/// time it was captured; the last packet the depayloader saw says which presentation time an
/// RTP time has now.
fn watch_sender_reports(src: &gst::Element, live: &Arc<Live>) {
    let live = live.clone();
    src.connect("new-manager", false, move |values| {
        let manager = values.get(1)?.get::<gst::Element>().ok()?;
        let live = live.clone();
        manager.connect("new-jitterbuffer", false, move |values| {
            let jitterbuffer = values.get(1)?.get::<gst::Element>().ok()?;
            let live = live.clone();
            jitterbuffer.connect("handle-sync", false, move |values| {
                let seen = *live.rtp_seen.lock();
                if let Some(offset) = values
                    .get(1)
                    .and_then(|v| v.get::<gst::Structure>().ok())
                    .and_then(|s| camera_offset_us(&s, seen))
                {
                    live.timing.lock().camera_report(offset);
                }
                None
            });
            None
        });
        None
    });
}

/// Unix µs minus running-time µs, from a jitter buffer's `handle-sync` structure and `seen`,
/// the RTP and presentation times of a packet the jitter buffer let out. The presentation times
/// the segments get are the ones to match: the jitter buffer's own base (the running time of
/// the first packet) is not, since it corrects its output for the skew it measures later (a
/// first packet read late on a busy start put the video 1.6 s off).
fn camera_offset_us(sync: &gst::StructureRef, seen: Option<Seen>) -> Option<i64> {
    let clock_rate = i64::from(sync.get::<u32>("clock-rate").ok()?);
    let sr_rtptime = sync.get::<u64>("sr-ext-rtptime").ok()?;
    let buffer = sync.get::<gst::Buffer>("sr-buffer").ok()?;
    // u64::MAX is GStreamer's "unknown": the jitter buffer reports a sender report whose RTP
    // time it could not place (one came before the stream's first packets) with it.
    if clock_rate == 0 || sr_rtptime == u64::MAX {
        return None;
    }
    let seen = seen?;
    let map = buffer.map_readable().ok()?;
    let (ssrc, ntp) = sender_report(&map)?;
    // Only the video's own reports: an audio or metadata stream's RTP clock has its own rate
    // and origin (RTP times mean something per sender only).
    if ssrc != seen.ssrc {
        return None;
    }
    let (rtp, pts_ns) = (seen.rtp, seen.pts_ns);
    let report_us = ntp_to_unix_us(ntp)?;
    // The packet's capture time: the report's, moved by the RTP time between them (RTP times
    // wrap; the two are close).
    let ticks = i64::from(rtp.wrapping_sub(sr_rtptime as u32) as i32);
    let captured_us = report_us + ticks * 1_000_000 / clock_rate;
    Some(captured_us - (pts_ns / 1000) as i64)
}

/// A video packet as the depayloader saw it: its sender, RTP time and presentation time (ns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    ssrc: u32,
    rtp: u32,
    pts_ns: u64,
}

/// The sender (SSRC) and RTP time of an RTP packet.
fn rtp_header(packet: &[u8]) -> Option<(u32, u32)> {
    if packet.len() < 12 || packet[0] >> 6 != 2 {
        return None;
    }
    let word = |at: usize| {
        u32::from_be_bytes([packet[at], packet[at + 1], packet[at + 2], packet[at + 3]])
    };
    Some((word(8), word(4)))
}

/// The sender's SSRC and the NTP time of the first sender report in a compound RTCP packet.
fn sender_report(packet: &[u8]) -> Option<(u32, u64)> {
    let mut at = 0;
    while at + 4 <= packet.len() {
        let kind = packet[at + 1];
        let words = u16::from_be_bytes([packet[at + 2], packet[at + 3]]) as usize;
        if kind == 200 && at + 16 <= packet.len() {
            let ssrc: [u8; 4] = packet[at + 4..at + 8].try_into().ok()?;
            let ntp: [u8; 8] = packet[at + 8..at + 16].try_into().ok()?;
            return Some((u32::from_be_bytes(ssrc), u64::from_be_bytes(ntp)));
        }
        at += (words + 1) * 4;
    }
    None
}

/// NTP (seconds since 1900 in the high 32 bits, fraction in the low) to Unix microseconds.
fn ntp_to_unix_us(ntp: u64) -> Option<i64> {
    const UNIX_MINUS_NTP_S: i64 = 2_208_988_800;
    let seconds = (ntp >> 32) as i64 - UNIX_MINUS_NTP_S;
    let fraction_us = ((ntp & 0xffff_ffff) * 1_000_000) >> 32;
    (seconds > 0).then_some(seconds * 1_000_000 + fraction_us as i64)
}

/// Links depayloader, parser and segmenter for a new video pad.
fn link(
    pipeline: &gst::Pipeline,
    pad: &gst::Pad,
    shared: &Arc<Shared>,
    target: &Target,
    live: &Arc<Live>,
    epoch: Instant,
) -> Result<(), String> {
    let caps = pad.current_caps().ok_or("RTP pad without caps")?;
    let Some(structure) = caps.structure(0) else {
        return Ok(());
    };
    if structure.get::<&str>("media").ok() != Some("video") {
        return Ok(());
    }
    if pipeline.by_name("segments").is_some() {
        return Ok(()); // A second video track: the first one is recorded.
    }
    let encoding = structure.get::<&str>("encoding-name").unwrap_or("unknown");
    let codec = Codec::from_encoding_name(encoding)
        .ok_or_else(|| format!("the camera sends {encoding}, which cannot be recorded"))?;
    *live.codec.lock() = Some(codec);
    let make = |factory: &str| {
        gst::ElementFactory::make(factory)
            .build()
            .map_err(|_| elements::MissingElements::one(factory).to_string())
    };
    let depay = make(codec.depayloader())?;
    if let Some(sink) = depay.static_pad("sink") {
        let live = live.clone();
        sink.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            if let Some(gst::PadProbeData::Buffer(buffer)) = &info.data
                && let Some(pts) = buffer.pts()
                && let Some((ssrc, rtp)) = buffer.map_readable().ok().and_then(|m| rtp_header(&m))
            {
                *live.rtp_seen.lock() = Some(Seen {
                    ssrc,
                    rtp,
                    pts_ns: pts.nseconds(),
                });
            }
            gst::PadProbeReturn::Ok
        });
    }
    let parse = codec.parser().map(make).transpose()?;
    let tee = make("tee")?;
    let mut chain: Vec<gst::Element> = vec![depay];
    chain.extend(parse);
    let last = chain.last().cloned().ok_or("empty chain")?;
    chain.push(tee.clone());
    pipeline.add_many(&chain).map_err(|e| e.to_string())?;
    gst::Element::link_many(&chain).map_err(|e| e.to_string())?;
    // Before the segments' muxer and the live viewers' (the HTTP playback's mp4mux).
    drop_unstamped(&last, target.label());
    // Each branch behind a queue of its own: a slow disk never holds the viewers back, nor
    // viewers the disk.
    let mut branches: Vec<gst::Element> = Vec::new();
    if target.record {
        let queue = make("queue")?;
        let segments = segmenter(shared, target, live)?;
        pipeline
            .add_many([&queue, &segments])
            .map_err(|e| e.to_string())?;
        tee.link(&queue).map_err(|e| e.to_string())?;
        let video = segments
            .request_pad_simple("video")
            .ok_or("splitmuxsink has no video pad")?;
        queue
            .static_pad("src")
            .ok_or("queue without source pad")?
            .link(&video)
            .map_err(|e| format!("cannot link the segmenter: {e:?}"))?;
        branches.extend([queue, segments]);
    }
    if let Some(feed) = &target.live {
        let queue = gst::ElementFactory::make("queue")
            .property_from_str("leaky", "downstream")
            .property("max-size-buffers", 200u32)
            .property("max-size-time", 0u64)
            .property("max-size-bytes", 0u32)
            .build()
            .map_err(|_| elements::MissingElements::one("queue").to_string())?;
        let sink = gst_app::AppSink::builder().sync(false).build();
        let feed = feed.clone();
        sink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |sink| {
                    let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                    if let (Some(buffer), Some(caps)) = (sample.buffer_owned(), sample.caps()) {
                        feed.push(codec, caps, buffer);
                    }
                    Ok(gst::FlowSuccess::Ok)
                })
                .build(),
        );
        pipeline
            .add_many([&queue, sink.upcast_ref()])
            .map_err(|e| e.to_string())?;
        gst::Element::link_many([&tee, &queue, sink.upcast_ref()]).map_err(|e| e.to_string())?;
        branches.extend([queue, sink.upcast()]);
    }
    if let Some(src) = last.static_pad("src") {
        let live = live.clone();
        src.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            if let Some(gst::PadProbeData::Buffer(buffer)) = &info.data {
                live.bytes
                    .fetch_add(buffer.size() as u64, Ordering::Relaxed);
                live.last_buffer_ms
                    .store(epoch.elapsed().as_millis().max(1) as u64, Ordering::Relaxed);
                if let Some(pts) = buffer.pts() {
                    let end = pts + buffer.duration().unwrap_or(gst::ClockTime::ZERO);
                    live.last_end_ns.store(end.nseconds(), Ordering::Relaxed);
                    let mut timing = live.timing.lock();
                    if timing.local.is_none() {
                        timing.local = Some(now_us() - (pts.nseconds() / 1000) as i64);
                    }
                }
            }
            gst::PadProbeReturn::Ok
        });
    }
    for element in branches.iter().chain(&chain) {
        element
            .sync_state_with_parent()
            .map_err(|e| e.to_string())?;
    }
    let sink = chain[0]
        .static_pad("sink")
        .ok_or("depayloader without sink pad")?;
    pad.link(&sink)
        .map_err(|e| format!("cannot link the camera's stream: {e:?}"))?;
    Ok(())
}

/// The segmenter: MP4 files cut on key frames, named by [`open_segment`].
fn segmenter(
    shared: &Arc<Shared>,
    target: &Target,
    live: &Arc<Live>,
) -> Result<gst::Element, String> {
    // A plain MP4 per segment, its index (moov) written when it closes. Fragmented MP4 was
    // tried: GStreamer 1.22's splitmuxsrc then misreads the parts' durations and accurate
    // seeks show frames from before the instant asked for.
    let muxer = gst::ElementFactory::make("mp4mux")
        .build()
        .map_err(|_| elements::MissingElements::one("mp4mux").to_string())?;
    let segments = gst::ElementFactory::make("splitmuxsink")
        .name("segments")
        .property("max-size-time", shared.segment.as_nanos() as u64)
        .property("muxer", &muxer)
        .property("send-keyframe-requests", false)
        .build()
        .map_err(|_| elements::MissingElements::one("splitmuxsink").to_string())?;
    {
        let (shared, target, live) = (shared.clone(), target.clone(), live.clone());
        segments.connect("format-location-full", false, move |values| {
            let sample = values.get(2)?.get::<gst::Sample>().ok()?;
            let pts = sample.buffer().and_then(|b| b.pts()).map(|t| t.nseconds());
            // A `None` here would abort the process inside GStreamer: a failure is a null
            // location (splitmuxsink then fails the pipeline) and `live.failure` says why.
            let location = open_segment(&shared, &target, &live, pts);
            Some(location.to_value())
        });
    }
    Ok(segments)
}

/// Names a new segment's file from its start time, and remembers when it starts.
fn open_segment(
    shared: &Arc<Shared>,
    target: &Target,
    live: &Arc<Live>,
    pts_ns: Option<u64>,
) -> Option<String> {
    let start_us = match pts_ns {
        Some(pts) => live.timing.lock().unix_us(pts).0,
        None => now_us(),
    };
    let day = start_us.div_euclid(86_400_000_000);
    let stream_dir = shared
        .video_dir
        .join(&target.camera)
        .join(target.kind.as_str());
    let dir = stream_dir.join(format!("{day}"));
    if !dir.exists() {
        // A new folder is durable only once its parent is synced too.
        let made = std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::File::open(&stream_dir)?.sync_all());
        if let Err(e) = made {
            *live.failure.lock() = Some(format!("cannot create {}: {e}", dir.display()));
            return None;
        }
    }
    let mut name = dir.join(format!("{start_us}.mp4"));
    let mut n = 1;
    while name.exists() {
        name = dir.join(format!("{start_us}-{n}.mp4"));
        n += 1;
    }
    let location = name.to_string_lossy().into_owned();
    let file = name
        .strip_prefix(&shared.video_dir)
        .map(|r| r.to_string_lossy().replace('\\', "/"))
        .unwrap_or_default();
    // Named as pending before a byte is written: after a crash, start-up deletes exactly
    // these files and nothing else.
    if let Err(e) = shared.index.begin_file(&file) {
        *live.failure.lock() = Some(e.to_string());
        return None;
    }
    live.open.lock().insert(
        location.clone(),
        Open {
            start_ns: pts_ns.unwrap_or(0),
            file,
            seq: live.next_seq.fetch_add(1, Ordering::SeqCst),
        },
    );
    Some(location)
}

/// Every element this module creates by name, for the `elements` crate's guard.
pub fn created_elements() -> Vec<&'static str> {
    let mut names = vec!["rtspsrc", "mp4mux", "splitmuxsink"];
    for codec in Codec::ALL {
        names.push(codec.depayloader());
        names.extend(codec.parser());
    }
    names
}

/// Drops the buffers without a presentation time that leave `element` before they reach a
/// muxer: mp4mux refuses one ("Buffer has no PTS") by failing its whole stream, which stopped
/// recordings at a busy start and broke live and recorded answers to browsers. A frame less is
/// better than a stream stopped. Counted, and warned of at powers of two.
pub(crate) fn drop_unstamped(element: &gst::Element, stream: String) {
    let Some(pad) = element.static_pad("src") else {
        return;
    };
    let dropped = AtomicU64::new(0);
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        if info.buffer().is_some_and(|buffer| buffer.pts().is_none()) {
            let count = dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if count.is_power_of_two() {
                tracing::warn!(
                    %stream,
                    dropped = count,
                    "buffers without a presentation time dropped before the muxer"
                );
            }
            return gst::PadProbeReturn::Drop;
        }
        gst::PadProbeReturn::Ok
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntp_times_become_unix_times() {
        // 2026-01-01T00:00:00Z is 1_767_225_600 s after 1970, plus half a second.
        let ntp = ((1_767_225_600u64 + 2_208_988_800) << 32) | (1u64 << 31);
        assert_eq!(ntp_to_unix_us(ntp), Some(1_767_225_600_500_000));
        assert_eq!(ntp_to_unix_us(0), None);
    }

    fn sync_report(sr_rtptime: u64) -> gst::Structure {
        // Sender 2's report: NTP time 2026-01-01T00:00:10Z for RTP time `sr_rtptime`.
        let ntp = (1_767_225_610u64 + 2_208_988_800) << 32;
        let mut packet = vec![0x80, 200, 0, 6, 0, 0, 0, 2];
        packet.extend(ntp.to_be_bytes());
        packet.extend([0; 12]);
        gst::Structure::builder("application/x-rtp-sync")
            .field("clock-rate", 90_000u32)
            .field("sr-ext-rtptime", sr_rtptime)
            .field("sr-buffer", gst::Buffer::from_slice(packet))
            .build()
    }

    #[test]
    fn a_sender_report_dates_the_presentation_times_the_packets_have() {
        gst::init().expect("gstreamer");
        // A packet of sender 2 1 s of RTP time after its report's, presented at 5 s: captured
        // at 11 s.
        let seen = |ssrc, rtp| {
            Some(Seen {
                ssrc,
                rtp,
                pts_ns: 5_000_000_000,
            })
        };
        assert_eq!(
            camera_offset_us(&sync_report((1 << 32) + 1_800_000), seen(2, 1_890_000)),
            Some(1_767_225_611_000_000 - 5_000_000)
        );
        // Before the report's RTP time, and across the RTP clock's wrap.
        assert_eq!(
            camera_offset_us(&sync_report(0), seen(2, u32::MAX - 89_999)),
            Some(1_767_225_609_000_000 - 5_000_000)
        );
        // An RTP time the jitter buffer could not place, or no packet seen yet: no offset.
        assert_eq!(
            camera_offset_us(&sync_report(u64::MAX), seen(2, 1_890_000)),
            None
        );
        assert_eq!(camera_offset_us(&sync_report(1_800_000), None), None);
        // Another sender's report (the audio's): its RTP times are not the video's.
        assert_eq!(
            camera_offset_us(&sync_report(1_800_000), seen(3, 1_890_000)),
            None
        );
    }

    #[test]
    fn the_sender_and_rtp_time_are_read_from_an_rtp_packet_only() {
        let mut packet = vec![0x80, 96, 0, 1];
        packet.extend(0x0102_0304u32.to_be_bytes());
        packet.extend(7u32.to_be_bytes());
        assert_eq!(rtp_header(&packet), Some((7, 0x0102_0304)));
        assert_eq!(rtp_header(&packet[..10]), None);
        packet[0] = 0x40;
        assert_eq!(rtp_header(&packet), None);
    }

    #[test]
    fn the_sender_report_is_found_in_a_compound_packet() {
        // A receiver report (no blocks) followed by a sender report.
        let mut packet = vec![0x80, 201, 0, 1, 0, 0, 0, 1];
        packet.extend([0x80, 200, 0, 6, 0, 0, 0, 2]);
        packet.extend(0x0102_0304_0506_0708u64.to_be_bytes());
        packet.extend([0; 12]);
        assert_eq!(sender_report(&packet), Some((2, 0x0102_0304_0506_0708)));
        assert_eq!(sender_report(&packet[..10]), None);
        assert_eq!(sender_report(&[]), None);
    }

    #[test]
    fn times_come_from_the_camera_when_it_gives_them() {
        let mut timing = Timing {
            camera: None,
            local: Some(1_000_000),
            distrusted: false,
        };
        assert_eq!(timing.unix_us(2_000_000_000), (3_000_000, Clock::Local));
        timing.camera_report(1_500_000);
        assert_eq!(timing.unix_us(2_000_000_000), (3_500_000, Clock::Camera));
        // A camera whose clock is far off is not believed, ever again on this connection.
        timing.camera_report(-946_684_800_000_000);
        assert_eq!(timing.unix_us(2_000_000_000), (3_000_000, Clock::Local));
        timing.camera_report(1_500_000);
        assert_eq!(timing.unix_us(2_000_000_000), (3_000_000, Clock::Local));
    }
}
