//! Recorded video over RTSP with ONVIF Profile G replay semantics: a client opens
//! `/<camera>/<main|sub>/replay` with a replay ticket and plays from any instant with `PLAY` and
//! `Range: clock=<UTC>-[<UTC>]`, forward at any `Scale`, key frames only with `Frames: intra`,
//! paced by the server or as fast as it reads (`Rate-Control: no`). The server side of
//! `Require: onvif-replay` is gst-rtsp-server's ONVIF server and media factory.
//!
//! Each viewer gets a media of its own: `appsrc → parser → payloader → rtponviftimestamp`.
//! gst-rtsp-server turns a clock range into a seek in nanoseconds since 1900 (the NTP epoch);
//! the `appsrc` is seekable, and a seek restarts the viewer's feeder on the recording holding
//! the instant, from the key frame at or before it (a decoder needs it). Every RTP packet
//! carries the ONVIF replay header extension with its frame's capture time (a
//! `timestamp/x-unix` reference timestamp on the buffer), its key-frame bit, and the
//! discontinuity bit on the first packet after a seek or a gap; the client shows from the
//! instant on. Pacing is on the media's own timeline: the frames before the instant are sent
//! at once, and a gap between two recording runs takes no time. At the end of what is
//! recorded the feeder waits for the next segment, so a replay catches up with the recording.
//!
//! Reverse playback is refused (the seek fails and the client is answered with an error).
//!
//! A client may also name the first instant in the URL it describes,
//! `/<camera>/<stream>/replay?from=<Unix µs>`: GStreamer's `rtspsrc` sends no `Range` with its
//! first `PLAY`, and a seek before that `PLAY` is answered is lost, so a wall tile asking for
//! "the last 30 seconds" would otherwise start at the oldest recording and seek after.

use crate::config::StreamKind;
use crate::index::{Index, Segment};
use contract::StreamMode;
use gst::glib;
use gst::prelude::*;
use media::Codec;
use parking_lot::{Condvar, Mutex};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Seconds from 1900 (NTP) to 1970 (Unix).
const NTP_UNIX_OFFSET_S: u64 = 2_208_988_800;
/// Segments a reader opens at once: `splitmuxsrc` reads every part it is given before it plays.
const WINDOW: usize = 3;
/// How often a feeder at the end of the recording looks for a new segment.
const FOLLOW_INTERVAL: Duration = Duration::from_millis(500);
/// How long after a `PLAY` the first frame is sent (when the server paces): a client that
/// sets itself playing only once it has the answer (GStreamer's `rtspsrc`) drops the packets
/// that come before.
const START_DELAY_NS: i128 = 60_000_000;
/// One tick of a 90 kHz RTP clock (rounded up): frames sent at once still get RTP times of
/// their own, in order.
const RTP_TICK_NS: i128 = 11_112;
/// How long a skipped gap lasts on the media's timeline: about a frame interval.
const GAP_STEP_NS: i128 = 40_000_000;
/// Bytes queued in a viewer's `appsrc` before the feeder waits.
const QUEUED_BYTES: u64 = 4 << 20;

/// One recorded stream, as the replay serves it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub index: Arc<Index>,
    pub video_dir: PathBuf,
    pub camera: String,
    pub kind: StreamKind,
}

/// An NTP time (nanoseconds since 1900) as Unix microseconds.
pub fn unix_us_of_ntp_ns(ntp_ns: u64) -> i64 {
    (ntp_ns as i128 / 1000 - i128::from(NTP_UNIX_OFFSET_S) * 1_000_000) as i64
}

/// Unix microseconds as an NTP time (nanoseconds since 1900); 0 before 1900.
pub fn ntp_ns_of_unix_us(unix_us: i64) -> u64 {
    u64::try_from((i128::from(unix_us) + i128::from(NTP_UNIX_OFFSET_S) * 1_000_000) * 1000)
        .unwrap_or(0)
}

/// What a viewer asked for last: where to play from and how.
#[derive(Debug, Clone)]
struct Request {
    /// Bumped by every seek: the feeder drops what it was doing.
    generation: u64,
    /// Where the media's timeline starts (the seek's start, NTP ns; 0 before any seek).
    origin_ns: u64,
    /// The instant to show first, Unix µs (`None`: the oldest recording).
    from_us: Option<i64>,
    /// Where to stop, Unix µs.
    to_us: Option<i64>,
    key_frames_only: bool,
    /// Key frames closer together than this are skipped (`Frames: intra/<ms>`).
    key_frame_interval: Option<gst::ClockTime>,
    /// The viewer's media is gone.
    closed: bool,
}

/// The seek on its way to the `appsrc`: what its `seek-data` signal does not say.
#[derive(Debug, Clone, Copy, Default)]
struct SeekTerms {
    rate: f64,
    stop_ns: Option<u64>,
    key_frames_only: bool,
    key_frame_interval: Option<gst::ClockTime>,
}

#[derive(Debug)]
struct Viewer {
    recorded: Recorded,
    codec: Codec,
    /// The first instant the URL names (`?from=`), Unix µs.
    url_from_us: Option<i64>,
    request: Mutex<Request>,
    changed: Condvar,
    terms: Mutex<SeekTerms>,
}

impl Viewer {
    fn close(&self) {
        self.request.lock().closed = true;
        self.changed.notify_all();
    }
}

/// The media of one viewer's replay: `appsrc` through the payloader to `rtponviftimestamp`,
/// the latter two in the bin `pay0` that gst-rtsp-server takes as the stream.
fn media_element(viewer: &Arc<Viewer>) -> Result<gst::Element, String> {
    let (parse, pay) = match viewer.codec {
        Codec::H264 => (Some("h264parse"), "rtph264pay"),
        Codec::H265 => (Some("h265parse"), "rtph265pay"),
        Codec::Jpeg => (None, "rtpjpegpay"),
    };
    let make = |name: &str| {
        gst::ElementFactory::make(name)
            .build()
            .map_err(|_| format!("the GStreamer element `{name}` is missing"))
    };
    let bin = gst::Bin::new();
    let src = gst_app::AppSrc::builder()
        .name("src")
        .format(gst::Format::Time)
        .is_live(false)
        .stream_type(gst_app::AppStreamType::Seekable)
        .block(true)
        .max_bytes(QUEUED_BYTES)
        .build();
    let pay0 = gst::Bin::with_name("pay0");
    let payloader = make(pay)?;
    payloader.set_property(
        "pt",
        if viewer.codec == Codec::Jpeg {
            26u32
        } else {
            96
        },
    );
    if viewer.codec != Codec::Jpeg {
        payloader.set_property_from_str("config-interval", "-1");
    }
    stamp_generated_packets(&payloader);
    let onvif = make("rtponviftimestamp")?;
    onvif.set_property("use-reference-timestamps", true);
    onvif.set_property("set-t-bit", true);
    pay0.add_many([&payloader, &onvif])
        .map_err(|e| e.to_string())?;
    payloader.link(&onvif).map_err(|e| e.to_string())?;
    let ghost = |pad: Option<gst::Pad>, name: &str| -> Result<gst::GhostPad, String> {
        let pad = pad.ok_or("no pad")?;
        gst::GhostPad::builder_with_target(&pad)
            .map_err(|e| e.to_string())
            .map(|b| b.name(name).build())
    };
    pay0.add_pad(&ghost(payloader.static_pad("sink"), "sink")?)
        .map_err(|e| e.to_string())?;
    pay0.add_pad(&ghost(onvif.static_pad("src"), "src")?)
        .map_err(|e| e.to_string())?;
    bin.add(&src).map_err(|e| e.to_string())?;
    bin.add(&pay0).map_err(|e| e.to_string())?;
    match parse {
        Some(parse) => {
            let parse = make(parse)?;
            bin.add(&parse).map_err(|e| e.to_string())?;
            gst::Element::link_many([src.upcast_ref(), &parse, pay0.upcast_ref()])
                .map_err(|e| e.to_string())?;
        }
        None => src.link(&pay0).map_err(|e| e.to_string())?,
    }
    watch_seeks(viewer, &src);
    // Detached: it ends when the `appsrc` is gone or the viewer is closed.
    {
        let viewer = viewer.clone();
        let src = src.downgrade();
        std::thread::Builder::new()
            .name(format!("replay-{}", viewer.recorded.camera))
            .spawn(move || feed(&viewer, &src))
            .map_err(|e| format!("cannot start a thread: {e}"))?;
    }
    Ok(bin.upcast())
}

/// The caps naming a reference timestamp in Unix time, as `rtponviftimestamp` reads it.
fn unix_reference() -> gst::Caps {
    gst::Caps::new_empty_simple("timestamp/x-unix")
}

/// The capture time a buffer carries, if any.
fn capture_time(buffer: &gst::BufferRef, reference: &gst::Caps) -> Option<gst::ClockTime> {
    buffer
        .iter_meta::<gst::ReferenceTimestampMeta>()
        .find(|meta| meta.reference() == reference.as_ref())
        .map(|meta| meta.timestamp())
}

/// Gives the packets a payloader makes on its own (parameter sets sent before a key frame)
/// the capture time of the frame it is payloading: `rtponviftimestamp` refuses a packet
/// without one.
fn stamp_generated_packets(payloader: &gst::Element) {
    let current: Arc<Mutex<Option<gst::ClockTime>>> = Arc::default();
    if let Some(pad) = payloader.static_pad("sink") {
        let (current, reference) = (current.clone(), unix_reference());
        pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            if let Some(gst::PadProbeData::Buffer(buffer)) = &info.data {
                *current.lock() = capture_time(buffer, &reference);
            }
            gst::PadProbeReturn::Ok
        });
    }
    if let Some(pad) = payloader.static_pad("src") {
        let reference = unix_reference();
        let stamp = move |buffer: &mut gst::Buffer, at: gst::ClockTime| {
            if capture_time(buffer, &reference).is_none() {
                gst::ReferenceTimestampMeta::add(
                    buffer.make_mut(),
                    &reference,
                    at,
                    gst::ClockTime::NONE,
                );
            }
        };
        pad.add_probe(
            gst::PadProbeType::BUFFER | gst::PadProbeType::BUFFER_LIST,
            move |_, info| {
                let Some(at) = *current.lock() else {
                    return gst::PadProbeReturn::Ok;
                };
                match &mut info.data {
                    Some(gst::PadProbeData::Buffer(buffer)) => stamp(buffer, at),
                    Some(gst::PadProbeData::BufferList(list)) => {
                        list.make_mut().foreach_mut(|mut buffer, _| {
                            stamp(&mut buffer, at);
                            std::ops::ControlFlow::Continue(Some(buffer))
                        });
                    }
                    _ => {}
                }
                gst::PadProbeReturn::Ok
            },
        );
    }
}

/// Hears the seeks that reach the `appsrc`: their rate, stop and trick mode first (from the
/// event on its way up), then their start (`seek-data`), which restarts the feeder.
fn watch_seeks(viewer: &Arc<Viewer>, src: &gst_app::AppSrc) {
    if let Some(pad) = src.static_pad("src") {
        let weak = Arc::downgrade(viewer);
        pad.add_probe(gst::PadProbeType::EVENT_UPSTREAM, move |_, info| {
            let (Some(viewer), Some(gst::PadProbeData::Event(event))) =
                (weak.upgrade(), &info.data)
            else {
                return gst::PadProbeReturn::Ok;
            };
            if let gst::EventView::Seek(seek) = event.view() {
                let (rate, flags, _, _, stop_type, stop) = seek.get();
                let stop_ns = match (stop_type, stop) {
                    (gst::SeekType::Set, gst::GenericFormattedValue::Time(Some(t))) => {
                        Some(t.nseconds())
                    }
                    _ => None,
                };
                *viewer.terms.lock() = SeekTerms {
                    rate,
                    stop_ns,
                    key_frames_only: flags.contains(gst::SeekFlags::TRICKMODE_KEY_UNITS),
                    key_frame_interval: seek.trickmode_interval(),
                };
            }
            gst::PadProbeReturn::Ok
        });
    }
    let weak = Arc::downgrade(viewer);
    src.set_callbacks(
        gst_app::AppSrcCallbacks::builder()
            .seek_data(move |_, offset| {
                let Some(viewer) = weak.upgrade() else {
                    return false;
                };
                let terms = *viewer.terms.lock();
                if terms.rate < 0.0 {
                    tracing::info!(
                        camera = viewer.recorded.camera,
                        "replay: reverse playback (Scale {}) is not supported",
                        terms.rate
                    );
                    return false;
                }
                let mut request = viewer.request.lock();
                // `rtspsrc` asks for about the start of time (`clock=19000101T000000.06Z-`,
                // its position) with its `PLAY`s until told otherwise: where the URL names an
                // instant, time starts there.
                let asked_us = unix_us_of_ntp_ns(offset);
                request.generation += 1;
                request.origin_ns = offset;
                request.from_us = match viewer.url_from_us {
                    Some(url_from_us) if asked_us < 0 => Some(url_from_us),
                    _ => Some(asked_us),
                };
                request.to_us = terms.stop_ns.map(unix_us_of_ntp_ns);
                request.key_frames_only = terms.key_frames_only;
                request.key_frame_interval = terms.key_frame_interval.filter(|i| !i.is_zero());
                drop(request);
                viewer.changed.notify_all();
                true
            })
            .build(),
    );
}

/// A window of one run's segments, played by `splitmuxsrc` into an `appsink`.
pub(crate) struct Reader {
    pipeline: gst::Pipeline,
    sink: gst_app::AppSink,
    /// The window's segments, in order.
    pub(crate) segments: Vec<Segment>,
}

impl Reader {
    /// Opens the window from `first`: it and the segments that follow it in its run, at most
    /// [`WINDOW`], from `offset` into `first` (the key frame at or before it).
    pub(crate) fn window(
        recorded: &Recorded,
        first: Segment,
        offset: gst::ClockTime,
    ) -> Result<Self, String> {
        let rest = recorded
            .index
            .rest_of_run(&first, WINDOW - 1)
            .map_err(|e| e.to_string())?;
        let mut segments = vec![first];
        segments.extend(rest);
        Self::open(&recorded.video_dir, segments, offset)
    }

    /// Opens `segments` (one run's, in order) and, when `offset` is past the start, seeks to the
    /// key frame at or before it.
    fn open(
        video_dir: &std::path::Path,
        segments: Vec<Segment>,
        offset: gst::ClockTime,
    ) -> Result<Self, String> {
        let files: Vec<String> = segments
            .iter()
            .map(|s| video_dir.join(&s.file).to_string_lossy().into_owned())
            .collect();
        let source = gst::ElementFactory::make("splitmuxsrc")
            .build()
            .map_err(|_| "the GStreamer element `splitmuxsrc` is missing".to_owned())?;
        source.connect("format-location", false, move |_| {
            Some(glib::StrV::from(files.clone()).to_value())
        });
        let sink = gst_app::AppSink::builder()
            .sync(false)
            .max_buffers(8)
            .drop(false)
            .build();
        let pipeline = gst::Pipeline::new();
        pipeline
            .add_many([&source, sink.upcast_ref()])
            .map_err(|e| e.to_string())?;
        let sink_pad = sink.static_pad("sink").ok_or("no appsink pad")?;
        source.connect_pad_added(move |_, pad| {
            if !sink_pad.is_linked() {
                let _ = pad.link(&sink_pad);
            }
        });
        let reader = Self {
            pipeline,
            sink,
            segments,
        };
        reader.settle(gst::State::Paused)?;
        if !offset.is_zero() {
            reader
                .pipeline
                .seek_simple(
                    gst::SeekFlags::FLUSH | gst::SeekFlags::KEY_UNIT | gst::SeekFlags::SNAP_BEFORE,
                    offset,
                )
                .map_err(|e| format!("cannot seek in the recording: {e}"))?;
            reader.settle(gst::State::Paused)?;
        }
        reader
            .pipeline
            .set_state(gst::State::Playing)
            .map_err(|e| format!("cannot play the recording: {e}"))?;
        Ok(reader)
    }

    /// Brings the pipeline to `state` and waits for it (or for its error).
    fn settle(&self, state: gst::State) -> Result<(), String> {
        self.pipeline
            .set_state(state)
            .map_err(|e| format!("cannot read the recording: {e}"))?;
        let (result, _, _) = self.pipeline.state(gst::ClockTime::from_seconds(10));
        match result {
            Ok(_) => Ok(()),
            Err(_) => Err(self
                .error()
                .unwrap_or_else(|| "the recording could not be read".to_owned())),
        }
    }

    /// The pipeline's error, if it posted one.
    fn error(&self) -> Option<String> {
        let bus = self.pipeline.bus()?;
        while let Some(message) = bus.pop_filtered(&[gst::MessageType::Error]) {
            if let gst::MessageView::Error(e) = message.view() {
                return Some(e.error().to_string());
            }
        }
        None
    }

    /// The next frame of the window, unless `wanted` says the viewer no longer wants it.
    pub(crate) fn next(&self, wanted: &dyn Fn() -> bool) -> Result<Next, String> {
        loop {
            if !wanted() {
                return Ok(Next::Abandoned);
            }
            if let Some(sample) = self
                .sink
                .try_pull_sample(gst::ClockTime::from_mseconds(200))
            {
                return Ok(Next::Frame(sample));
            }
            if self.sink.is_eos() {
                return Ok(Next::End);
            }
            if let Some(error) = self.error() {
                return Err(error);
            }
        }
    }
}

/// A frame's capture time (Unix ns): where its window starts plus its place in the window, its
/// stream time (`splitmuxsrc` runs its parts on a timeline of its own and says how in the
/// segment).
pub(crate) fn capture_ns(window_start_us: i64, sample: &gst::Sample) -> Option<i128> {
    let buffer = sample.buffer()?;
    let position = buffer.pts().or(buffer.dts()).and_then(|t| {
        match sample.segment().map(|s| s.downcast_ref::<gst::ClockTime>()) {
            Some(Some(segment)) => segment.to_stream_time(t),
            _ => Some(t),
        }
    })?;
    Some(i128::from(window_start_us) * 1000 + i128::from(position.nseconds()))
}

/// What a reader gives next.
pub(crate) enum Next {
    Frame(gst::Sample),
    /// The end of its window.
    End,
    /// The viewer went, or asked for something else.
    Abandoned,
}

impl Drop for Reader {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

/// Where the feeder is in the recording and on the media's timeline.
struct Cursor {
    reader: Reader,
    /// Unix µs of the window's first segment: frame times are its start plus their position.
    window_start_us: i64,
    /// Media time (ns) = frame time (Unix ns) - `shift_ns`: the instant asked for is the
    /// media's origin (the frames before it are sent at once) and gaps take no time.
    shift_ns: i128,
    last_media_ns: u64,
    last_key_frame_ns: Option<i128>,
    /// The next frame starts a new section: seek or gap (the D bit).
    discont: bool,
    /// The next frame is the first since a seek: see [`feed`].
    lead_in: bool,
}

/// Where the feeder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Playing,
    /// At the end of what is recorded (or before anything is): looks again every
    /// `FOLLOW_INTERVAL`.
    Waiting,
    /// Finished (the end time reached, an error, the media flushed): until the next seek.
    Done,
}

/// The viewer's feeder: reads the recording from where the viewer asked, frame by frame, into
/// its `appsrc`, until the media is gone.
fn feed(viewer: &Arc<Viewer>, src: &glib::WeakRef<gst_app::AppSrc>) {
    let recorded = &viewer.recorded;
    let reference = unix_reference();
    let mut generation = None;
    let mut cursor: Option<Cursor> = None;
    let mut phase = Phase::Playing;
    loop {
        let request = {
            let mut request = viewer.request.lock();
            if phase != Phase::Playing && generation == Some(request.generation) && !request.closed
            {
                viewer.changed.wait_for(&mut request, FOLLOW_INTERVAL);
            }
            request.clone()
        };
        if request.closed {
            return;
        }
        let Some(src) = src.upgrade() else {
            return;
        };
        if generation != Some(request.generation) {
            generation = Some(request.generation);
            cursor = None;
            phase = Phase::Playing;
        }
        match phase {
            Phase::Done => continue,
            // Another look at the end of the recording.
            Phase::Waiting => phase = Phase::Playing,
            Phase::Playing => {}
        }
        let finish = |why: String| {
            tracing::warn!(camera = recorded.camera, "replay: {why}");
            // The client hears the end rather than waiting for frames that will not come.
            let _ = src.end_of_stream();
            Phase::Done
        };
        // A cursor on the window to play now.
        let Some(current) = cursor.as_mut() else {
            match start(recorded, viewer.codec, &request) {
                Ok(Some(started)) => cursor = Some(started),
                Ok(None) => phase = Phase::Waiting, // nothing recorded there yet
                Err(e) => phase = finish(e),
            }
            continue;
        };
        // Still wanted: no new seek, and the media's source is active (a media being torn
        // down, or not yet prepared, has its pad flushing). A reader stuck on a file then lets
        // the thread go round, where it ends once the media is gone.
        let src_pad = src.static_pad("src");
        let wanted = || {
            let now = viewer.request.lock();
            now.generation == request.generation
                && !now.closed
                && src_pad.as_ref().is_some_and(|pad| {
                    pad.is_active() && !pad.pad_flags().contains(gst::PadFlags::FLUSHING)
                })
        };
        let sample = match current.reader.next(&wanted) {
            Ok(Next::Frame(sample)) => sample,
            Ok(Next::Abandoned) => {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            Ok(Next::End) => {
                match follow(recorded, viewer.codec, current) {
                    Ok(true) => {}
                    Ok(false) => phase = Phase::Waiting,
                    Err(e) => phase = finish(e),
                }
                continue;
            }
            Err(e) => {
                phase = finish(e);
                continue;
            }
        };
        let Some(buffer) = sample.buffer() else {
            continue;
        };
        let Some(frame_ns) = capture_ns(current.window_start_us, &sample) else {
            continue;
        };
        if request
            .to_us
            .is_some_and(|to_us| frame_ns >= i128::from(to_us) * 1000)
        {
            let _ = src.end_of_stream();
            phase = Phase::Done;
            continue;
        }
        let key_frame = !buffer.flags().contains(gst::BufferFlags::DELTA_UNIT);
        if request.key_frames_only {
            let too_close = match (current.last_key_frame_ns, request.key_frame_interval) {
                (Some(last), Some(interval)) => frame_ns - last < i128::from(interval.nseconds()),
                _ => false,
            };
            if !key_frame || too_close {
                continue;
            }
        }
        if key_frame {
            current.last_key_frame_ns = Some(frame_ns);
        }
        // Before the instant asked for: sent at once, a tick apart.
        let media_ns =
            (frame_ns - current.shift_ns).max(i128::from(current.last_media_ns) + RTP_TICK_NS);
        let media_ns = u64::try_from(media_ns).unwrap_or(u64::MAX);
        let frame_unix_ns = u64::try_from(frame_ns).unwrap_or(0);
        let caps = sample.caps_owned();
        let stamped = |at_ns: u64, discont: bool| {
            let mut out = buffer.copy();
            let out_mut = out.make_mut();
            out_mut.set_pts(gst::ClockTime::from_nseconds(at_ns));
            out_mut.set_dts(gst::ClockTime::from_nseconds(at_ns));
            // A demuxer marks the start of each window; only a seek or a gap is one here.
            if discont {
                out_mut.set_flags(gst::BufferFlags::DISCONT);
            } else {
                out_mut.unset_flags(gst::BufferFlags::DISCONT);
            }
            gst::ReferenceTimestampMeta::add(
                out_mut,
                &reference,
                gst::ClockTime::from_nseconds(frame_unix_ns),
                gst::ClockTime::NONE,
            );
            gst::Sample::builder()
                .buffer(&out)
                .caps_if_some(caps.as_ref())
                .build()
        };
        let mut samples = Vec::with_capacity(2);
        if current.lead_in {
            // GStreamer's `rtspsrc` drops the first frame it receives after a seek over TCP
            // (it has no arrival time for it): the key frame goes twice, a tick apart, and a
            // client that keeps both shows one picture twice.
            samples.push(stamped(media_ns.saturating_sub(RTP_TICK_NS as u64), true));
            current.lead_in = false;
        }
        samples.push(stamped(media_ns, current.discont));
        current.discont = false;
        current.last_media_ns = media_ns;
        // Pushed under the request's lock, and only if no seek came meanwhile: a frame of the
        // old timeline must not follow the flush. (A seek flushes first, which makes a push
        // blocked on a full queue return, so the seek's `seek-data` never waits long here.)
        let now = viewer.request.lock();
        if now.generation != request.generation || now.closed {
            continue;
        }
        for out in samples {
            match src.push_sample(&out) {
                Ok(_) => {}
                // Flushed (a seek is under way; a refused one leaves the media in error) or
                // ended: the next request says what to do.
                Err(gst::FlowError::Flushing) | Err(gst::FlowError::Eos) => {
                    phase = Phase::Done;
                    break;
                }
                Err(e) => {
                    tracing::warn!(
                        camera = recorded.camera,
                        "replay: the media refused a frame: {e}"
                    );
                    phase = Phase::Done;
                    break;
                }
            }
        }
        drop(now);
    }
}

/// A cursor at the instant `request` asks for: the window holding it, from its key frame
/// before; `None` when nothing is recorded there or after.
fn start(recorded: &Recorded, codec: Codec, request: &Request) -> Result<Option<Cursor>, String> {
    let index = &recorded.index;
    let at_us = request.from_us.unwrap_or(i64::MIN);
    let Some(first) = index
        .segment_at(&recorded.camera, recorded.kind, at_us)
        .map_err(|e| e.to_string())?
    else {
        return Ok(None);
    };
    if first.codec != codec.name() {
        return Err(format!(
            "the recording at that instant is {}, this replay is {}",
            first.codec,
            codec.name()
        ));
    }
    let show_from_us = at_us.max(first.start_us);
    let offset = gst::ClockTime::from_useconds((show_from_us - first.start_us).max(0) as u64);
    let window_start_us = first.start_us;
    let reader = Reader::window(recorded, first, offset)?;
    // The instant asked for is shown `START_DELAY` after the media's origin, and the frames
    // before it (from the key frame) are sent at once then.
    let first_ns = i128::from(request.origin_ns) + START_DELAY_NS;
    let shift_ns = i128::from(show_from_us) * 1000 - first_ns;
    Ok(Some(Cursor {
        reader,
        window_start_us,
        shift_ns,
        last_media_ns: u64::try_from(first_ns - RTP_TICK_NS).unwrap_or(0),
        last_key_frame_ns: None,
        discont: true,
        lead_in: true,
    }))
}

/// Moves `cursor` to the window after its own: the run's next segments, or the next run's
/// (its gap takes no time); `false` when nothing is recorded after it yet.
fn follow(recorded: &Recorded, codec: Codec, cursor: &mut Cursor) -> Result<bool, String> {
    let index = &recorded.index;
    let Some(last) = cursor.reader.segments.last().cloned() else {
        return Ok(false);
    };
    let Some(next) = index.next_segment(&last).map_err(|e| e.to_string())? else {
        return Ok(false);
    };
    if next.codec != codec.name() {
        return Err(format!(
            "the recording changes to {} at {} µs; this replay is {}",
            next.codec,
            next.start_us,
            codec.name()
        ));
    }
    let same_run = next.run == last.run && next.seq == last.seq + 1;
    let reader = Reader::window(recorded, next.clone(), gst::ClockTime::ZERO)?;
    if !same_run {
        // The gap is skipped: the new run starts a frame interval after the last frame.
        let next_ns = i128::from(next.start_us) * 1000;
        let wanted_media_ns = i128::from(cursor.last_media_ns) + GAP_STEP_NS;
        cursor.shift_ns = next_ns - wanted_media_ns;
        cursor.discont = true;
    }
    cursor.reader = reader;
    cursor.window_start_us = next.start_us;
    Ok(true)
}

mod imp {
    use super::{Recorded, Viewer, media_element};
    use gst::glib;
    use gst_rtsp_server::subclass::prelude::*;
    use std::sync::OnceLock;

    #[derive(Debug, Default)]
    pub struct ReplayFactory {
        pub(super) recorded: OnceLock<Recorded>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for ReplayFactory {
        const NAME: &'static str = "WatchfloorReplayFactory";
        type Type = super::ReplayFactory;
        type ParentType = gst_rtsp_server::RTSPOnvifMediaFactory;
    }

    impl ObjectImpl for ReplayFactory {}

    impl RTSPMediaFactoryImpl for ReplayFactory {
        fn create_element(&self, url: &gst_rtsp::RTSPUrl) -> Option<gst::Element> {
            let recorded = self.recorded.get()?;
            let from_us = match super::from_of(&url.request_uri()) {
                Ok(from_us) => from_us,
                Err(e) => {
                    tracing::info!(camera = recorded.camera, "replay: {e}");
                    return None;
                }
            };
            let viewer = match Viewer::new(recorded, from_us) {
                Ok(viewer) => viewer,
                Err(e) => {
                    tracing::info!(camera = recorded.camera, "replay: {e}");
                    return None;
                }
            };
            // The viewer's feeder ends when the media's `appsrc` is gone.
            match media_element(&viewer) {
                Ok(element) => Some(element),
                Err(e) => {
                    tracing::error!(camera = recorded.camera, "replay: {e}");
                    viewer.close();
                    None
                }
            }
        }
    }

    impl RTSPOnvifMediaFactoryImpl for ReplayFactory {}
}

glib::wrapper! {
    /// The media factory of one stream's recording: a media per viewer.
    pub struct ReplayFactory(ObjectSubclass<imp::ReplayFactory>)
        @extends gst_rtsp_server::RTSPOnvifMediaFactory, gst_rtsp_server::RTSPMediaFactory;
}

impl Viewer {
    /// A viewer of `recorded`, in the codec of its newest recording, from `from_us` (the
    /// oldest recording when `None`) until it seeks.
    fn new(recorded: &Recorded, from_us: Option<i64>) -> Result<Arc<Self>, String> {
        let newest = recorded
            .index
            .newest_segment(&recorded.camera, recorded.kind)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| {
                format!(
                    "nothing is recorded of {}/{}",
                    recorded.camera,
                    recorded.kind.as_str()
                )
            })?;
        let codec = Codec::ALL
            .into_iter()
            .find(|c| c.name() == newest.codec)
            .ok_or_else(|| format!("recorded in {}, which cannot be replayed", newest.codec))?;
        Ok(Arc::new(Self {
            recorded: recorded.clone(),
            codec,
            url_from_us: from_us,
            request: Mutex::new(Request {
                generation: 0,
                origin_ns: 0,
                from_us,
                to_us: None,
                key_frames_only: false,
                key_frame_interval: None,
                closed: false,
            }),
            changed: Condvar::new(),
            terms: Mutex::new(SeekTerms {
                rate: 1.0,
                ..SeekTerms::default()
            }),
        }))
    }
}

/// The first instant a replay URL names (`?from=<Unix µs>`), if it names one.
fn from_of(uri: &str) -> Result<Option<i64>, String> {
    let url = url::Url::parse(uri).map_err(|e| format!("the URL `{uri}` is not valid: {e}"))?;
    let Some((_, from)) = url.query_pairs().find(|(key, _)| key == "from") else {
        return Ok(None);
    };
    from.parse::<i64>()
        .map(Some)
        .map_err(|_| format!("`from={from}` is not an instant in Unix microseconds"))
}

impl ReplayFactory {
    /// The factory of `recorded`'s replay mount: ONVIF replay, a media per viewer, opened only
    /// by a replay ticket for this very stream.
    pub fn new(recorded: Recorded) -> Self {
        use gst_rtsp_server::prelude::*;
        let factory: Self = glib::Object::new();
        factory.add_role_from_structure(
            &gst::Structure::builder(crate::tickets::role_of(
                &recorded.camera,
                recorded.kind,
                StreamMode::Replay,
            ))
            .field("media.factory.access", true)
            .field("media.factory.construct", true)
            .build(),
        );
        let _ = gst_rtsp_server::subclass::prelude::ObjectSubclassIsExt::imp(&factory)
            .recorded
            .set(recorded);
        factory.set_shared(false);
        factory.set_replay_support(true);
        // The ONVIF factory makes ONVIF media only, and says nothing when told otherwise.
        factory.set_media_gtype(gst_rtsp_server::RTSPOnvifMedia::static_type());
        factory
    }
}

/// Every element the replay creates by name.
pub fn created_elements() -> Vec<&'static str> {
    vec![
        "appsrc",
        "appsink",
        "splitmuxsrc",
        "h264parse",
        "h265parse",
        "rtph264pay",
        "rtph265pay",
        "rtpjpegpay",
        "rtponviftimestamp",
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replay_url_names_its_first_instant_in_unix_microseconds() {
        assert_eq!(from_of("rtsp://h:1/cam01/main/replay"), Ok(None));
        assert_eq!(
            from_of("rtsp://h:1/cam01/main/replay?from=1700000000123456"),
            Ok(Some(1_700_000_000_123_456))
        );
        assert!(from_of("rtsp://h:1/cam01/main/replay?from=yesterday").is_err());
    }

    #[test]
    fn ntp_and_unix_times_convert_both_ways() {
        // 2026-11-28T00:00:00Z.
        let unix_us = 1_795_824_000_000_000;
        let ntp = ntp_ns_of_unix_us(unix_us);
        assert_eq!(ntp, (1_795_824_000 + NTP_UNIX_OFFSET_S) * 1_000_000_000);
        assert_eq!(unix_us_of_ntp_ns(ntp), unix_us);
        assert_eq!(ntp_ns_of_unix_us(i64::MIN), 0);
    }
}
