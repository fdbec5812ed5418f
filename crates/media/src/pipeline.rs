//! One connection attempt's pipeline: `rtspsrc → depayloader → parser → decoder → appsink`,
//! built explicitly once the camera says which codec it sends. Frames go into the stream's
//! [`FrameSlot`]; counters are bumped without locks.

use crate::decoder::{self, Codec};
use crate::health::Counters;
use crate::slot::{Frame, FrameSlot};
use crate::stamp_tracker::StampTracker;
use crate::{MediaError, StreamSettings, Transport};
use gst::prelude::*;
use gst_video::prelude::*;
use parking_lot::Mutex;
use stamp::StampGeometry;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// What the running pipeline found out about its stream.
#[derive(Debug, Clone, Default)]
pub(crate) struct Described {
    pub codec: Option<Codec>,
    pub decoder: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

/// Everything a pipeline shares with its stream.
#[derive(Debug)]
pub(crate) struct Shared {
    pub slot: Arc<FrameSlot>,
    pub counters: Arc<Counters>,
    pub described: Mutex<Described>,
    /// Frame sequence numbers continue across reconnects.
    pub sequence: std::sync::atomic::AtomicU64,
    /// The stream's start, for monotonic "last frame" times.
    pub epoch: Instant,
    /// What the previous frames' stamps said, for latency and gap counting.
    pub stamps: Mutex<StampTracker>,
    /// Replayed video: the capture times its packets carry.
    pub captures: Mutex<Captures>,
    /// Set while the pipeline is being torn down: a frame waiting for its playback clock
    /// stops waiting (the streaming thread must return for the pipeline to stop).
    pub closing: std::sync::atomic::AtomicBool,
}

/// Frames remembered by presentation time until they reach the screen. Not just the few a
/// decoder holds: a replay paced by a clock reads as fast as the recorder sends while a frame
/// waits for the clock, so every queue between the depayloader and that frame fills (seconds
/// of frames on a busy machine). A frame whose capture time was forgotten would pass the clock
/// ungated, and the wall would race ahead of it.
const CAPTURES_KEPT: usize = 4096;

/// What the ONVIF replay header extension says of a replay's recent frames.
#[derive(Debug, Default)]
pub(crate) struct Captures {
    /// (presentation time, capture time in Unix µs) of the latest frames, oldest first.
    recent: std::collections::VecDeque<(gst::ClockTime, i64)>,
    /// The instant to show first: the frame at or before it is the first shown; those before
    /// it (from the key frame before) are decoded, not shown. `None` once it shows.
    show_from_us: Option<i64>,
    /// The capture time of the frame decoded last, to tell the frame interval.
    decoded_us: Option<i64>,
    /// The last frame shown: a reconnect goes on after it.
    last_shown_us: Option<i64>,
    /// The replay's first frame (the one at its instant), by sequence, until it is taken.
    first_sequence: Option<u64>,
}

/// How long a replay's second frame waits for its first to be taken: the first frame of a
/// replay is the one the operator asked for, and must reach the screen.
const FIRST_FRAME_WAIT: std::time::Duration = std::time::Duration::from_millis(250);

impl Captures {
    fn note(&mut self, pts: gst::ClockTime, capture_us: i64) {
        if self.recent.back().is_some_and(|(p, _)| *p == pts) {
            return; // Another packet of the same frame.
        }
        if self.recent.len() == CAPTURES_KEPT {
            self.recent.pop_front();
        }
        self.recent.push_back((pts, capture_us));
    }

    /// Whether the frame captured at `capture_us` (in decode order) is shown: from the frame
    /// at or before the instant asked for on. A frame before the instant is that frame when
    /// the next one (a frame interval later, as the last two were apart; for the first frame
    /// decoded, the stream's nominal interval) is past the instant.
    fn shows(&mut self, capture_us: i64, nominal_interval_us: i64) -> bool {
        let interval_us = self
            .decoded_us
            .map(|previous| capture_us - previous)
            .filter(|i| *i > 0)
            .unwrap_or(nominal_interval_us.max(0));
        self.decoded_us = Some(capture_us);
        match self.show_from_us {
            Some(from) if capture_us + interval_us <= from => false,
            _ => {
                self.show_from_us = None;
                true
            }
        }
    }

    fn capture_of(&self, pts: gst::ClockTime) -> Option<i64> {
        self.recent
            .iter()
            .rev()
            .find(|(p, _)| *p == pts)
            .map(|(_, c)| *c)
    }
}

/// The capture time (Unix µs) in an RTP packet's ONVIF replay header extension (profile
/// 0xABAC: an NTP timestamp, then flags), if it carries one.
pub(crate) fn onvif_capture_us(packet: &[u8]) -> Option<i64> {
    if packet.len() < 12 || packet[0] & 0x10 == 0 {
        return None;
    }
    let at = 12 + 4 * usize::from(packet[0] & 0x0f);
    let header = packet.get(at..at + 4)?;
    if u16::from_be_bytes([header[0], header[1]]) != 0xABAC {
        return None;
    }
    let ntp = u64::from_be_bytes(packet.get(at + 4..at + 12)?.try_into().ok()?);
    // 32 bits of seconds since 1900, 32 of fraction.
    let seconds = i64::try_from(ntp >> 32).ok()? - NTP_UNIX_OFFSET_S;
    let micros = i64::try_from(((ntp & 0xffff_ffff) * 1_000_000) >> 32).ok()?;
    Some(seconds * 1_000_000 + micros)
}

/// Seconds from 1900 (NTP) to 1970 (Unix).
const NTP_UNIX_OFFSET_S: i64 = 2_208_988_800;

/// The name of the application message that reports a pipeline-building failure.
pub(crate) const FAILED_MESSAGE: &str = "watchfloor-media-failed";

/// Planar YUV formats we accept from decoders: exactly what they produce, no conversion, and
/// exactly what the wall draws (`wall::frame::from_mapped`, its tests keep the two lists equal).
pub const RAW_CAPS: &str =
    "video/x-raw, format=(string){ I420, NV12, YV12, Y42B, Y444, I420_10LE, P010_10LE }";

/// Every pipeline ever built, weakly: what [`live_pipelines`] counts.
static PIPELINES: Mutex<Vec<gst::glib::WeakRef<gst::Pipeline>>> = Mutex::new(Vec::new());

/// How many pipelines built by this crate still exist (not yet finalized by GStreamer).
/// Zero once every stream is closed; tests use it to prove teardown leaves nothing behind.
pub fn live_pipelines() -> usize {
    alive().len()
}

/// The pipelines built by this crate that still exist; forgets the rest.
fn alive() -> Vec<gst::Pipeline> {
    let mut pipelines = PIPELINES.lock();
    pipelines.retain(|p| p.upgrade().is_some());
    pipelines.iter().filter_map(|p| p.upgrade()).collect()
}

/// The factory names of every element in this crate's pipelines that still exist, children
/// of bins included: what the engine really made, for diagnostics and for the `elements`
/// crate's guard.
pub fn live_elements() -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    for pipeline in alive() {
        names.extend(pipeline.factory().map(|f| f.name().to_string()));
        for element in pipeline.iterate_recurse().into_iter().flatten() {
            names.extend(element.factory().map(|f| f.name().to_string()));
        }
    }
    names
}

pub(crate) fn build(
    settings: &StreamSettings,
    shared: &Arc<Shared>,
) -> Result<gst::Pipeline, MediaError> {
    let pipeline = gst::Pipeline::with_name(&format!("stream-{}", sanitize(&settings.label)));
    {
        let mut pipelines = PIPELINES.lock();
        pipelines.retain(|p| p.upgrade().is_some());
        pipelines.push(pipeline.downgrade());
    }
    let location = match &settings.replay {
        None => settings.url.clone(),
        Some(replay) => {
            let mut captures = shared.captures.lock();
            let mut from_us = match captures.last_shown_us {
                Some(last) => replay.from_us.max(last + 1),
                None => replay.from_us,
            };
            // A replay paced by a clock (re)joins where the clock stands, not behind it.
            if let Some(clock) = &replay.clock {
                from_us = from_us.max(clock.now_us());
            }
            tracing::debug!(
                stream = %settings.label,
                asked_us = replay.from_us,
                from_us,
                "a replay (re)joins"
            );
            captures.show_from_us = Some(from_us);
            captures.decoded_us = None;
            captures.first_sequence = None;
            captures.recent.clear();
            let join = if settings.url.contains('?') { '&' } else { '?' };
            format!("{}{join}from={from_us}", settings.url)
        }
    };
    let mut src = gst::ElementFactory::make("rtspsrc")
        .name("src")
        .property("location", &location)
        // An ONVIF replay client: `Require: onvif-replay`, clock ranges.
        .property("onvif-mode", settings.replay.is_some())
        // A replay paced by a clock reads as fast as the clock lets it.
        .property(
            "onvif-rate-control",
            settings.replay.as_ref().is_none_or(|r| r.clock.is_none()),
        )
        .property(
            "latency",
            settings.latency.as_millis().min(u128::from(u32::MAX)) as u32,
        )
        // Over TCP nothing is lost or reordered on the way; a packet late behind a busy moment
        // (sixteen decoders starting on two cores) dropped here would smear the picture until
        // the next key frame. Only over UDP is a late packet better dropped than waited for.
        .property("drop-on-latency", settings.transport == Transport::Udp)
        .property("do-retransmission", false)
        .property(
            "tcp-timeout",
            settings
                .connect_timeout
                .as_micros()
                .min(u128::from(u64::MAX)) as u64,
        )
        .property(
            "timeout",
            settings.stall_timeout.as_micros().min(u128::from(u64::MAX)) as u64,
        )
        .property("teardown-timeout", 100_000_000u64);
    if let Some(credentials) = &settings.credentials {
        src = src
            .property("user-id", &credentials.user)
            .property("user-pw", &credentials.password);
    }
    let src = src
        .build()
        .map_err(|_| elements::MissingElements::one("rtspsrc"))?;
    if settings.replay.as_ref().is_some_and(|r| r.clock.is_some()) {
        // Sent as fast as read, packets arrive in bursts: their times come from their RTP
        // times alone (not from when they arrived), one per frame, as the capture times are
        // matched to decoded frames by them.
        src.set_property_from_str("buffer-mode", "none");
        let shared = shared.clone();
        bound_jitterbuffers(
            &src,
            QUEUED_PACKETS,
            Arc::new(move || shared.closing.load(Ordering::Relaxed)),
        );
    }
    // A paced replay holds the recorder back through the connection: over TCP only (over UDP
    // the recorder, sending as fast as it can, would lose packets in the kernel instead).
    let paced = settings.replay.as_ref().is_some_and(|r| r.clock.is_some());
    src.set_property_from_str(
        "protocols",
        match settings.transport {
            _ if paced => "tcp",
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        },
    );
    pipeline
        .add(&src)
        .map_err(|e| MediaError::Pipeline(e.to_string()))?;

    let weak = pipeline.downgrade();
    let shared_for_pads = shared.clone();
    let settings_for_pads = settings.clone();
    src.connect_pad_added(move |_, pad| {
        let Some(pipeline) = weak.upgrade() else {
            return;
        };
        if let Err(error) = link_video(&pipeline, pad, &settings_for_pads, &shared_for_pads) {
            let message = gst::message::Application::builder(
                gst::Structure::builder(FAILED_MESSAGE)
                    .field("reason", error.to_string())
                    .field("fatal", error.is_fatal())
                    .build(),
            )
            .build();
            let _ = pipeline.post_message(message);
        }
    });
    Ok(pipeline)
}

/// Packets a paced replay's jitter buffer may hold before the connection's reading waits: a
/// few seconds of a main stream. The jitter buffer takes whatever it is given; a replay the
/// recorder sends as fast as it is read would otherwise pile the recording up in memory while
/// the playback clock holds the frames (paused, or slower than the recorder sends).
const QUEUED_PACKETS: i64 = 4096;

/// Makes the jitter buffers `src` makes hold at most `limit` packets: the thread that reads
/// the connection waits while one is full (until `give_up`), so the recorder waits on the TCP
/// connection.
fn bound_jitterbuffers(src: &gst::Element, limit: i64, give_up: GiveUp) {
    src.connect("new-manager", false, move |values| {
        let manager = values.get(1)?.get::<gst::Element>().ok()?;
        let give_up = give_up.clone();
        manager.connect("new-jitterbuffer", false, move |values| {
            if let Some(jitterbuffer) = values.get(1).and_then(|v| v.get::<gst::Element>().ok()) {
                bound_queue(&jitterbuffer, limit, give_up.clone());
            }
            None
        });
        None
    });
}

/// Whether a waiting thread should stop waiting (the pipeline is being torn down).
type GiveUp = Arc<dyn Fn() -> bool + Send + Sync>;

/// Makes the packets that went into `element` (a jitter buffer) and have not come out of it at
/// most `limit`: what brings more waits (until `give_up`). Packets it drops (late or
/// duplicated, by its `stats`) and what a flush or a new stream clears are not counted.
fn bound_queue(element: &gst::Element, limit: i64, give_up: GiveUp) {
    let (Some(sink), Some(src)) = (element.static_pad("sink"), element.static_pad("src")) else {
        return;
    };
    let counts = Arc::new(Held::default());
    let packets = |info: &gst::PadProbeInfo| match &info.data {
        Some(gst::PadProbeData::Buffer(_)) => 1,
        Some(gst::PadProbeData::BufferList(list)) => list.len() as i64,
        _ => 0,
    };
    let weak = element.downgrade();
    let dropped = move || {
        weak.upgrade().map_or(0, |element| {
            let stats = element.property::<gst::Structure>("stats");
            let count = |field: &str| stats.get::<u64>(field).unwrap_or(0) as i64;
            count("num-late") + count("num-duplicates")
        })
    };
    let out = counts.clone();
    src.add_probe(
        gst::PadProbeType::BUFFER | gst::PadProbeType::BUFFER_LIST,
        move |_, info| {
            out.left.fetch_add(packets(info), Ordering::Relaxed);
            gst::PadProbeReturn::Ok
        },
    );
    let cleared = counts.clone();
    let dropped_then = dropped.clone();
    sink.add_probe(gst::PadProbeType::EVENT_DOWNSTREAM, move |_, info| {
        if let Some(gst::PadProbeData::Event(event)) = &info.data
            && matches!(
                event.type_(),
                gst::EventType::FlushStop | gst::EventType::StreamStart
            )
        {
            cleared.clear(dropped_then());
        }
        gst::PadProbeReturn::Ok
    });
    sink.add_probe(
        gst::PadProbeType::BUFFER | gst::PadProbeType::BUFFER_LIST,
        move |_, info| {
            counts.entered.fetch_add(packets(info), Ordering::Relaxed);
            while counts.inside(0) > limit && counts.inside(dropped()) > limit && !give_up() {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            gst::PadProbeReturn::Ok
        },
    );
}

/// Packets into and out of a jitter buffer.
#[derive(Debug, Default)]
struct Held {
    entered: std::sync::atomic::AtomicI64,
    left: std::sync::atomic::AtomicI64,
    /// Dropped by the jitter buffer before the last clear (its `stats` count from its start).
    dropped_before: std::sync::atomic::AtomicI64,
}

impl Held {
    /// Inside now, `dropped` having been dropped since the jitter buffer started.
    fn inside(&self, dropped: i64) -> i64 {
        let since = (dropped - self.dropped_before.load(Ordering::Relaxed)).max(0);
        self.entered.load(Ordering::Relaxed) - self.left.load(Ordering::Relaxed) - since
    }

    /// Nothing inside (a flush, a new stream), `dropped` dropped so far.
    fn clear(&self, dropped: i64) {
        self.entered
            .store(self.left.load(Ordering::Relaxed), Ordering::Relaxed);
        self.dropped_before.store(dropped, Ordering::Relaxed);
    }
}

fn sanitize(label: &str) -> String {
    label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// Builds and links the decode chain for a new `rtspsrc` pad, if it carries video.
fn link_video(
    pipeline: &gst::Pipeline,
    pad: &gst::Pad,
    settings: &StreamSettings,
    shared: &Arc<Shared>,
) -> Result<(), MediaError> {
    let caps = pad
        .current_caps()
        .ok_or_else(|| MediaError::Pipeline("RTP pad without caps".into()))?;
    let Some(structure) = caps.structure(0) else {
        return Ok(());
    };
    if structure.get::<&str>("media").ok() != Some("video") {
        return Ok(()); // Audio or metadata: not ours to show.
    }
    let encoding = structure.get::<&str>("encoding-name").unwrap_or("unknown");
    let codec = Codec::from_encoding_name(encoding)
        .ok_or_else(|| MediaError::UnsupportedCodec(encoding.to_owned()))?;
    let decoder_name = decoder::choose(codec, &settings.decoder)?;
    {
        let mut described = shared.described.lock();
        described.codec = Some(codec);
        described.decoder = Some(decoder_name.clone());
    }

    let make = |factory: &str| {
        gst::ElementFactory::make(factory)
            .build()
            .map_err(|_| MediaError::from(elements::MissingElements::one(factory)))
    };
    let depay = make(codec.depayloader())?;
    let parse = codec.parser().map(make).transpose()?;
    let decoder = make(&decoder_name)?;
    crate::decode_errors::raise_thresholds();
    // Never let a burst of corrupt data turn into a pipeline error: count it instead.
    if decoder.find_property("max-errors").is_some() {
        decoder.set_property("max-errors", -1i32);
    }
    // Joining mid-GOP, libav would output grey smears until the first key frame: show nothing
    // until the picture is whole.
    if decoder.find_property("output-corrupt").is_some() {
        decoder.set_property("output-corrupt", false);
    }
    if decoder.find_property("max-threads").is_some() {
        decoder.set_property("max-threads", settings.decoder_threads as i32);
    }
    let sink = gst_app::AppSink::builder()
        .caps(
            &RAW_CAPS
                .parse::<gst::Caps>()
                .map_err(|e| MediaError::Pipeline(e.to_string()))?,
        )
        .max_buffers(1)
        .drop(true)
        .sync(false)
        .enable_last_sample(false)
        .build();
    sink.set_callbacks(frame_callbacks(
        shared.clone(),
        settings.replay.as_ref().and_then(|r| r.clock.clone()),
    ));

    // Tell the error counter which stream this decoder thread works for.
    if let Some(decoder_sink) = decoder.static_pad("sink") {
        let counters = shared.counters.clone();
        decoder_sink.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
            crate::decode_errors::decoding_for(&counters);
            gst::PadProbeReturn::Ok
        });
    }

    // Count the compressed bytes for the bitrate.
    if let Some(depay_src) = depay.static_pad("src") {
        let counters = shared.counters.clone();
        depay_src.add_probe(
            gst::PadProbeType::BUFFER | gst::PadProbeType::BUFFER_LIST,
            move |_, info| {
                let bytes = match &info.data {
                    Some(gst::PadProbeData::Buffer(b)) => b.size(),
                    Some(gst::PadProbeData::BufferList(l)) => l.calculate_size(),
                    _ => 0,
                };
                counters.bytes_in.fetch_add(bytes as u64, Ordering::Relaxed);
                gst::PadProbeReturn::Ok
            },
        );
    }

    // Replayed video: each frame's capture time, from its packets.
    if settings.replay.is_some()
        && let Some(depay_sink) = depay.static_pad("sink")
    {
        let shared = shared.clone();
        depay_sink.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            if let Some(gst::PadProbeData::Buffer(buffer)) = &info.data
                && let Some(pts) = buffer.pts()
                && let Some(capture_us) = buffer
                    .map_readable()
                    .ok()
                    .and_then(|m| onvif_capture_us(&m))
            {
                shared.captures.lock().note(pts, capture_us);
            }
            gst::PadProbeReturn::Ok
        });
    }

    let mut chain: Vec<gst::Element> = vec![depay];
    chain.extend(parse);
    chain.push(decoder);
    chain.push(sink.upcast());
    pipeline
        .add_many(&chain)
        .map_err(|e| MediaError::Pipeline(e.to_string()))?;
    gst::Element::link_many(&chain)
        .map_err(|e| MediaError::Pipeline(format!("cannot link the {decoder_name} chain: {e}")))?;
    for element in &chain {
        element
            .sync_state_with_parent()
            .map_err(|e| MediaError::Pipeline(e.to_string()))?;
    }
    let sink_pad = chain[0]
        .static_pad("sink")
        .ok_or_else(|| MediaError::Pipeline("depayloader without sink pad".into()))?;
    pad.link(&sink_pad)
        .map_err(|e| MediaError::Pipeline(format!("cannot link rtspsrc: {e:?}")))?;
    Ok(())
}

fn frame_callbacks(
    shared: Arc<Shared>,
    clock: Option<crate::PlaybackClock>,
) -> gst_app::AppSinkCallbacks {
    // The video layout is parsed once per caps change, not per frame.
    let mut layout: Option<(gst::Caps, gst_video::VideoInfo)> = None;
    gst_app::AppSinkCallbacks::builder()
        .new_sample(move |sink| {
            let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
            let (Some(buffer), Some(caps)) = (sample.buffer_owned(), sample.caps()) else {
                return Ok(gst::FlowSuccess::Ok);
            };
            if layout.as_ref().map(|(c, _)| c.as_ptr()) != Some(caps.as_ptr()) {
                match gst_video::VideoInfo::from_caps(caps) {
                    Ok(info) => {
                        let mut described = shared.described.lock();
                        described.width = Some(info.width());
                        described.height = Some(info.height());
                        layout = Some((caps.to_owned(), info));
                    }
                    Err(_) => return Ok(gst::FlowSuccess::Ok),
                }
            }
            // Let go of the sample now so appsink can reuse it for the next frame.
            drop(sample);
            let Some((_, info)) = layout.as_ref() else {
                return Ok(gst::FlowSuccess::Ok);
            };
            let counters = &shared.counters;
            if buffer.flags().contains(gst::BufferFlags::CORRUPTED) {
                counters.decode_errors.fetch_add(1, Ordering::Relaxed);
            }
            let now = Instant::now();
            let stamp = read_stamp(&buffer, info);
            if let Some(stamp) = stamp {
                let now_unix_ms = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_millis() as u64)
                    .unwrap_or(0);
                let reading = shared.stamps.lock().observe(stamp, now_unix_ms);
                counters
                    .latency_ms
                    .store(reading.latency_ms, Ordering::Relaxed);
                counters
                    .source_gaps
                    .fetch_add(reading.missing, Ordering::Relaxed);
                if reading.regression {
                    counters.stamp_regressions.fetch_add(1, Ordering::Relaxed);
                }
            }
            counters.frames_in.fetch_add(1, Ordering::Relaxed);
            counters.last_frame_ms.store(
                now.duration_since(shared.epoch).as_millis().max(1) as u64,
                Ordering::Relaxed,
            );
            // A replay shows from its instant on (and notes where it is).
            let capture_us = buffer.pts().and_then(|pts| {
                let mut captures = shared.captures.lock();
                let capture_us = captures.capture_of(pts)?;
                if !captures.shows(capture_us, nominal_interval_us(info)) {
                    return Some(Err(()));
                }
                captures.last_shown_us = Some(capture_us);
                Some(Ok(capture_us))
            });
            let capture_us = match capture_us {
                Some(Err(())) => return Ok(gst::FlowSuccess::Ok),
                Some(Ok(capture_us)) => Some(capture_us),
                None => None,
            };
            let sequence = shared.sequence.fetch_add(1, Ordering::Relaxed) + 1;
            if capture_us.is_some() {
                // The replay's first frame goes to the screen before the next replaces it
                // (the streaming thread waits a moment: the server paces anyway).
                let first = {
                    let mut captures = shared.captures.lock();
                    match captures.first_sequence {
                        None => {
                            tracing::debug!(
                                capture_us,
                                clock_us = clock.as_ref().map(|c| c.now_us()),
                                "a replay's first frame"
                            );
                            captures.first_sequence = Some(sequence);
                            None
                        }
                        Some(first) => Some(first),
                    }
                };
                if let Some(first) = first {
                    let deadline = Instant::now() + FIRST_FRAME_WAIT;
                    while shared.slot.holds(first) && Instant::now() < deadline {
                        std::thread::sleep(std::time::Duration::from_millis(2));
                    }
                }
            }
            // A replay paced by a clock: the frame waits for its instant. The wait holds
            // the decoder, and so the recorder (it sends as fast as this reads).
            if let (Some(capture_us), Some(clock)) = (capture_us, clock.as_ref()) {
                let held = clock.wait_for(
                    capture_us,
                    &|| shared.closing.load(Ordering::Relaxed),
                    // Held by the clock is not stalled.
                    &|| {
                        counters.last_frame_ms.store(
                            shared.epoch.elapsed().as_millis().max(1) as u64,
                            Ordering::Relaxed,
                        );
                    },
                );
                if !held {
                    return Err(gst::FlowError::Flushing);
                }
            }
            let mut frame = Frame::new(buffer, info.clone(), sequence, now, stamp);
            frame.capture_us = capture_us;
            shared.slot.put(frame);
            Ok(gst::FlowSuccess::Ok)
        })
        .build()
}

/// A frame interval as the decoded stream's caps say (µs); 0 when they do not say.
fn nominal_interval_us(info: &gst_video::VideoInfo) -> i64 {
    let fps = info.fps();
    if fps.numer() > 0 && fps.denom() > 0 {
        1_000_000 * i64::from(fps.denom()) / i64::from(fps.numer())
    } else {
        0
    }
}

/// Reads the simulator's pixel stamp from the luma plane, if there is one.
fn read_stamp(buffer: &gst::Buffer, info: &gst_video::VideoInfo) -> Option<stamp::Stamp> {
    let geometry = StampGeometry::new(info.width(), info.height())?;
    let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(buffer.as_ref(), info).ok()?;
    let stride = usize::try_from(*frame.plane_stride().first()?).ok()?;
    let luma = frame.plane_data(0).ok()?;
    if info.format_info().depth()[0] > 8 {
        return None;
    }
    geometry.read_luma(luma, stride)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real jitter buffer whose output is held: with the bound, whoever feeds it (the thread
    /// reading the recorder's connection) waits once it holds `limit` packets, and goes on when
    /// the output moves again.
    #[test]
    fn a_bounded_jitter_buffer_makes_its_feeder_wait_while_its_output_is_held() {
        gst::init().expect("GStreamer");
        let pipeline = gst::parse::launch(
            "rtpjitterbuffer name=jb latency=0 mode=none ! appsink name=sink sync=false \
             max-buffers=1 drop=false emit-signals=false",
        )
        .expect("the pipeline")
        .downcast::<gst::Pipeline>()
        .expect("a pipeline");
        let jitterbuffer = pipeline.by_name("jb").expect("jitter buffer");
        let sink = pipeline
            .by_name("sink")
            .expect("sink")
            .downcast::<gst_app::AppSink>()
            .expect("appsink");
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        bound_queue(
            &jitterbuffer,
            50,
            Arc::new(move || stopped.load(Ordering::Relaxed)),
        );
        pipeline.set_state(gst::State::Playing).expect("playing");
        let input = jitterbuffer.static_pad("sink").expect("sink pad");
        assert!(input.send_event(gst::event::StreamStart::new("held")));
        let caps = gst::Caps::builder("application/x-rtp")
            .field("media", "video")
            .field("clock-rate", 90_000i32)
            .field("encoding-name", "H264")
            .field("payload", 96i32)
            .build();
        assert!(input.send_event(gst::event::Caps::new(&caps)));
        let segment = gst::FormattedSegment::<gst::ClockTime>::new();
        assert!(input.send_event(gst::event::Segment::new(&segment)));
        let fed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counting = fed.clone();
        let feeder = std::thread::spawn(move || {
            for n in 0u16..400 {
                let mut packet = vec![0x80, 96];
                packet.extend_from_slice(&n.to_be_bytes());
                packet.extend_from_slice(&(u32::from(n) * 3000).to_be_bytes());
                packet.extend_from_slice(&[0, 0, 0, 7, 0x41, 0x9a, 0, 0]);
                let mut buffer = gst::Buffer::from_mut_slice(packet);
                {
                    let buffer = buffer.get_mut().expect("writable");
                    let at = gst::ClockTime::from_mseconds(u64::from(n));
                    buffer.set_pts(at);
                    buffer.set_dts(at);
                }
                if input.chain(buffer).is_err() {
                    break;
                }
                counting.fetch_add(1, Ordering::Relaxed);
            }
        });
        // The feeder stops moving: the output holds a packet or two, the buffer `limit`.
        let settled = |fed: &std::sync::atomic::AtomicUsize| {
            let mut last = usize::MAX;
            loop {
                std::thread::sleep(std::time::Duration::from_millis(200));
                let now = fed.load(Ordering::Relaxed);
                if now == last {
                    return now;
                }
                last = now;
            }
        };
        while fed.load(Ordering::Relaxed) < 50 {
            std::thread::yield_now();
        }
        let held = settled(&fed);
        assert!((50..=53).contains(&held), "{held} packets fed while held");
        // The output moves again: everything goes through.
        let mut taken = 0;
        while taken < 400 {
            if sink
                .try_pull_sample(gst::ClockTime::from_seconds(5))
                .is_none()
            {
                break;
            }
            taken += 1;
        }
        assert_eq!(taken, 400, "every packet came out");
        feeder.join().expect("the feeder");
        assert_eq!(fed.load(Ordering::Relaxed), 400);
        stop.store(true, Ordering::Relaxed);
        pipeline.set_state(gst::State::Null).expect("stopped");
    }

    #[test]
    fn the_onvif_replay_extension_gives_the_capture_time() {
        // RTP header with the extension bit, then profile 0xABAC, 3 words: NTP, flags.
        let mut packet = vec![0x90, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xAB, 0xAC, 0, 3];
        let unix_us: i64 = 1_795_839_261_121_715;
        let seconds = (unix_us / 1_000_000 + NTP_UNIX_OFFSET_S) as u64;
        let fraction = (((unix_us % 1_000_000) as u64) << 32) / 1_000_000 + 1;
        packet.extend_from_slice(&((seconds << 32) | fraction).to_be_bytes());
        packet.extend_from_slice(&[0x80, 0, 0, 0]);
        assert_eq!(onvif_capture_us(&packet), Some(unix_us));
        // No extension, another profile, or cut short: nothing.
        let mut plain = packet.clone();
        plain[0] = 0x80;
        assert_eq!(onvif_capture_us(&plain), None);
        let mut other = packet.clone();
        other[12] = 0xBE;
        assert_eq!(onvif_capture_us(&other), None);
        assert_eq!(onvif_capture_us(&packet[..20]), None);
    }

    #[test]
    fn a_replay_shows_from_the_frame_at_or_before_its_instant() {
        // Frames 40 ms apart from a key frame at 0; the instant is 130 ms: the frame at 120
        // is the first shown, then every one after.
        let mut captures = Captures {
            show_from_us: Some(130_000),
            ..Captures::default()
        };
        let shown: Vec<i64> = (0..6)
            .map(|n| n * 40_000)
            .filter(|c| captures.shows(*c, 40_000))
            .collect();
        assert_eq!(shown, vec![120_000, 160_000, 200_000]);
        // An instant on a frame shows that frame first.
        let mut captures = Captures {
            show_from_us: Some(80_000),
            ..Captures::default()
        };
        let shown: Vec<i64> = (0..4)
            .map(|n| n * 40_000)
            .filter(|c| captures.shows(*c, 40_000))
            .collect();
        assert_eq!(shown, vec![80_000, 120_000]);
        // The instant just after the key frame: the key frame, decoded first, is the frame on
        // screen then (its interval is the stream's nominal one); not the frame after it.
        let mut captures = Captures {
            show_from_us: Some(10_000),
            ..Captures::default()
        };
        let shown: Vec<i64> = (0..3)
            .map(|n| n * 40_000)
            .filter(|c| captures.shows(*c, 40_000))
            .collect();
        assert_eq!(shown, vec![0, 40_000, 80_000]);
    }

    #[test]
    fn capture_times_are_found_by_presentation_time_and_bounded() {
        let mut captures = Captures::default();
        let frames = CAPTURES_KEPT as u64 + 36;
        for n in 0..frames {
            let pts = gst::ClockTime::from_mseconds(40 * n);
            captures.note(pts, 1_000 * n as i64);
            captures.note(pts, 1_000 * n as i64); // a second packet of the frame
        }
        assert_eq!(captures.recent.len(), CAPTURES_KEPT);
        assert_eq!(
            captures.capture_of(gst::ClockTime::from_mseconds(40 * (frames - 1))),
            Some(1_000 * (frames as i64 - 1))
        );
        assert_eq!(captures.capture_of(gst::ClockTime::ZERO), None);
    }
}
