//! A stream's life: connect, watch, notice failure or stall, back off, reconnect; until closed.
//!
//! Each stream has one supervisor thread that owns its pipeline. Decoded frames never pass
//! through the supervisor: they go from the decoder's streaming thread into the slot. The
//! supervisor only reads the bus, the counters and the clock.

use crate::health::{Counters, StreamHealth, StreamState};
use crate::pipeline::{self, Described, Shared};
use crate::redact::{redact_text, redact_url};
use crate::slot::FrameSlot;
use crate::{MediaError, StreamSettings};
use gst::prelude::*;
use parking_lot::{Condvar, Mutex};
use rand::{Rng, SeedableRng};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often the supervisor looks at its pipeline.
const TICK: Duration = Duration::from_millis(50);
/// How long a stream must stay live before its reconnect backoff starts again from the bottom.
const STABLE: Duration = Duration::from_secs(5);
/// How long rates (fps, bitrate) are measured over.
const RATE_WINDOW: Duration = Duration::from_secs(1);

/// Caps how many streams may be connecting at once, so that a site coming back after an outage
/// does not open every connection in the same instant.
#[derive(Debug)]
pub(crate) struct ConnectLimiter {
    max: usize,
    busy: Mutex<usize>,
    freed: Condvar,
}

impl ConnectLimiter {
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            max: max.max(1),
            busy: Mutex::new(0),
            freed: Condvar::new(),
        })
    }

    /// Waits for a permit, or returns `None` once `stop` says so.
    fn acquire(self: &Arc<Self>, stop: &Stop) -> Option<ConnectPermit> {
        let mut busy = self.busy.lock();
        loop {
            if stop.is_set() {
                return None;
            }
            if *busy < self.max {
                *busy += 1;
                return Some(ConnectPermit(Some(self.clone())));
            }
            self.freed.wait_for(&mut busy, TICK);
        }
    }
}

struct ConnectPermit(Option<Arc<ConnectLimiter>>);

impl ConnectPermit {
    fn release(&mut self) {
        if let Some(limiter) = self.0.take() {
            *limiter.busy.lock() -= 1;
            limiter.freed.notify_one();
        }
    }
}

impl Drop for ConnectPermit {
    fn drop(&mut self) {
        self.release();
    }
}

/// A stop flag that interrupts sleeps.
#[derive(Debug, Default)]
struct Stop {
    set: Mutex<bool>,
    changed: Condvar,
}

impl Stop {
    fn is_set(&self) -> bool {
        *self.set.lock()
    }

    fn set(&self) {
        *self.set.lock() = true;
        self.changed.notify_all();
    }

    /// Sleeps up to `duration`; true if stopped meanwhile.
    fn sleep(&self, duration: Duration) -> bool {
        // A duration past what `Instant` can hold (a permanent failure) waits for stop alone.
        let deadline = Instant::now().checked_add(duration);
        let mut set = self.set.lock();
        while !*set {
            match deadline {
                Some(deadline) => {
                    if self.changed.wait_until(&mut set, deadline).timed_out() {
                        break;
                    }
                }
                None => self.changed.wait(&mut set),
            }
        }
        *set
    }
}

#[derive(Debug, Default)]
struct Rates {
    at: Option<Instant>,
    frames: u64,
    bytes: u64,
    fps: f64,
    bitrate_kbps: f64,
}

#[derive(Debug)]
struct Inner {
    settings: StreamSettings,
    shared: Arc<Shared>,
    state: Mutex<StreamState>,
    rates: Mutex<Rates>,
    stalls: AtomicU64,
    stop: Stop,
}

/// An open stream. Dropping it tears the pipeline down and joins its thread.
#[derive(Debug)]
pub struct Stream {
    inner: Arc<Inner>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// How one connection attempt ended.
#[derive(Debug)]
enum Outcome {
    Stopped,
    Retry(String),
    Stalled(Duration),
    AuthFailed,
    Fatal(String),
}

impl Stream {
    pub(crate) fn open(
        settings: StreamSettings,
        limiter: Arc<ConnectLimiter>,
    ) -> Result<Self, MediaError> {
        if !settings.url.starts_with("rtsp://") && !settings.url.starts_with("rtsps://") {
            return Err(MediaError::BadUrl(redact_url(&settings.url)));
        }
        let inner = Arc::new(Inner {
            shared: Arc::new(Shared {
                slot: FrameSlot::new(),
                counters: Arc::new(Counters::new()),
                described: Mutex::new(Described::default()),
                sequence: AtomicU64::new(0),
                epoch: Instant::now(),
                stamps: Mutex::new(Default::default()),
                captures: Mutex::new(crate::pipeline::Captures::default()),
                closing: std::sync::atomic::AtomicBool::new(false),
            }),
            settings,
            state: Mutex::new(StreamState::Connecting),
            rates: Mutex::new(Rates::default()),
            stalls: AtomicU64::new(0),
            stop: Stop::default(),
        });
        let thread = {
            let inner = inner.clone();
            std::thread::Builder::new()
                .name("media-stream".into())
                .spawn(move || supervise(&inner, &limiter))
                .map_err(|e| MediaError::Pipeline(format!("cannot start stream thread: {e}")))?
        };
        Ok(Self {
            inner,
            thread: Some(thread),
        })
    }

    /// Stops the stream without waiting for it: the pipeline is torn down on a short-lived
    /// thread of its own. For callers that must not block, such as a render thread hiding many
    /// tiles at once (each teardown sends TEARDOWN and joins GStreamer's threads).
    pub fn close_in_background(mut self) {
        self.inner.stop.set();
        if let Some(thread) = self.thread.take() {
            let label = self.inner.settings.label.clone();
            // Should the closing thread fail to start, the supervisor still stops on its own.
            let _ = std::thread::Builder::new()
                .name("media-close".into())
                .spawn(move || join_supervisor(thread, &label));
        }
    }

    /// The stream's latest-frame slot.
    pub fn slot(&self) -> &Arc<FrameSlot> {
        &self.inner.shared.slot
    }

    pub fn settings(&self) -> &StreamSettings {
        &self.inner.settings
    }

    pub fn state(&self) -> StreamState {
        self.inner.state.lock().clone()
    }

    /// Times the watchdog found the stream stalled.
    pub fn stalls(&self) -> u64 {
        self.inner.stalls.load(Ordering::Relaxed)
    }

    /// Times the source's frame stamp went backwards or repeated (simulator sources).
    pub fn stamp_regressions(&self) -> u64 {
        self.inner
            .shared
            .counters
            .stamp_regressions
            .load(Ordering::Relaxed)
    }

    /// A snapshot of the stream's health.
    pub fn health(&self) -> StreamHealth {
        let inner = &self.inner;
        let counters = &inner.shared.counters;
        let described = inner.shared.described.lock().clone();
        let rates = inner.rates.lock();
        let last = counters.last_frame_ms.load(Ordering::Relaxed);
        let latency = counters.latency_ms.load(Ordering::Relaxed);
        StreamHealth {
            url: redact_url(&inner.settings.url),
            label: inner.settings.label.clone(),
            state: self.state(),
            decoder: described.decoder,
            codec: described.codec.map(|c| c.name().to_owned()),
            width: described.width,
            height: described.height,
            fps: rates.fps,
            bitrate_kbps: rates.bitrate_kbps,
            frames: counters.frames_in.load(Ordering::Relaxed),
            frames_out: inner.shared.slot.taken(),
            dropped: inner.shared.slot.dropped(),
            decode_errors: counters.decode_errors.load(Ordering::Relaxed),
            reconnects: counters.reconnects.load(Ordering::Relaxed),
            attempts: counters.attempts.load(Ordering::Relaxed),
            source_gaps: counters.source_gaps.load(Ordering::Relaxed),
            since_last_frame_ms: (last > 0)
                .then(|| (inner.shared.epoch.elapsed().as_millis() as u64).saturating_sub(last)),
            latency_ms: (latency != i64::MIN).then_some(latency),
        }
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.inner.stop.set();
        if let Some(thread) = self.thread.take() {
            join_supervisor(thread, &self.inner.settings.label);
        }
        self.inner.shared.slot.clear();
    }
}

/// Waits for a stream's supervisor to end; a panic there is logged, never passed on.
fn join_supervisor(thread: std::thread::JoinHandle<()>, label: &str) {
    if thread.join().is_err() {
        tracing::error!(stream = %label, "the stream's supervisor panicked");
    }
}

fn set_state(inner: &Inner, state: StreamState) {
    let mut current = inner.state.lock();
    if *current != state {
        tracing::info!(stream = %inner.settings.label, from = current.name(), to = state.name(), "stream state");
        *current = state;
    }
}

fn supervise(inner: &Arc<Inner>, limiter: &Arc<ConnectLimiter>) {
    let mut attempt: u32 = 0;
    let mut rng = rand::rngs::StdRng::from_os_rng();
    loop {
        if attempt == 0 {
            set_state(inner, StreamState::Connecting);
        }
        // Fresh credentials (a recorder's ticket from the hub) before the connection slot:
        // a slow hub must not hold up cameras that need none.
        let settings = match &inner.settings.credential_source {
            Some(source) => match (source.0)() {
                Ok(credentials) => {
                    let mut settings = inner.settings.clone();
                    settings.credentials = Some(credentials);
                    std::borrow::Cow::Owned(settings)
                }
                Err(reason) => {
                    attempt += 1;
                    let reason = format!("no credentials to connect with: {reason}");
                    tracing::warn!(stream = %inner.settings.label, %reason, "stream waits");
                    set_state(inner, StreamState::Reconnecting { attempt, reason });
                    if inner
                        .stop
                        .sleep(inner.settings.backoff.delay(attempt, rng.random()))
                    {
                        break;
                    }
                    continue;
                }
            },
            None => std::borrow::Cow::Borrowed(&inner.settings),
        };
        let Some(permit) = limiter.acquire(&inner.stop) else {
            break;
        };
        inner
            .shared
            .counters
            .attempts
            .fetch_add(1, Ordering::Relaxed);
        let (outcome, live_for) = run_once(inner, &settings, permit);
        // A camera that delivers a frame and drops again must not reset its backoff.
        if live_for.is_some_and(|d| d >= STABLE) {
            attempt = 0;
        }
        let wait = match outcome {
            Outcome::Stopped => break,
            Outcome::Fatal(reason) => {
                tracing::error!(stream = %inner.settings.label, %reason, "stream failed");
                set_state(inner, StreamState::Failed { reason });
                inner.stop.sleep(Duration::MAX);
                break;
            }
            Outcome::AuthFailed => {
                tracing::warn!(stream = %inner.settings.label, "camera refused the credentials");
                set_state(inner, StreamState::AuthFailed);
                inner.settings.auth_retry
            }
            Outcome::Stalled(silent) => {
                inner.stalls.fetch_add(1, Ordering::Relaxed);
                attempt += 1;
                let reason = format!("stalled: no frame for {:.1} s", silent.as_secs_f64());
                tracing::warn!(stream = %inner.settings.label, %reason, "stream stalled");
                set_state(inner, StreamState::Reconnecting { attempt, reason });
                inner.settings.backoff.delay(attempt, rng.random())
            }
            Outcome::Retry(reason) => {
                attempt += 1;
                tracing::warn!(stream = %inner.settings.label, %reason, attempt, "stream lost");
                set_state(inner, StreamState::Reconnecting { attempt, reason });
                inner.settings.backoff.delay(attempt, rng.random())
            }
        };
        inner
            .shared
            .counters
            .reconnects
            .fetch_add(1, Ordering::Relaxed);
        if inner.stop.sleep(wait) {
            break;
        }
    }
    set_state(inner, StreamState::Stopped);
}

/// One connection: build, play, watch until it ends, and say how long it was live, if at all.
/// Always leaves the pipeline in Null.
fn run_once(
    inner: &Arc<Inner>,
    settings: &StreamSettings,
    mut permit: ConnectPermit,
) -> (Outcome, Option<Duration>) {
    let pipeline = match pipeline::build(settings, &inner.shared) {
        Ok(pipeline) => pipeline,
        Err(error) => return (Outcome::Fatal(error.to_string()), None),
    };
    let mut live_since = None;
    let outcome = watch(inner, &pipeline, &mut permit, &mut live_since);
    permit.release();
    inner.shared.closing.store(true, Ordering::Relaxed);
    let _ = pipeline.set_state(gst::State::Null);
    inner.shared.closing.store(false, Ordering::Relaxed);
    (outcome, live_since.map(|since: Instant| since.elapsed()))
}

fn watch(
    inner: &Arc<Inner>,
    pipeline: &gst::Pipeline,
    permit: &mut ConnectPermit,
    live_since: &mut Option<Instant>,
) -> Outcome {
    let settings = &inner.settings;
    let counters = &inner.shared.counters;
    let Some(bus) = pipeline.bus() else {
        return Outcome::Fatal("pipeline without a bus".into());
    };
    if pipeline.set_state(gst::State::Playing).is_err() {
        return drain_error(inner, &bus)
            .unwrap_or_else(|| Outcome::Retry("cannot start the pipeline".into()));
    }
    let started = Instant::now();
    let frames_at_start = counters.frames_in.load(Ordering::Relaxed);
    let secrets = secrets(settings);
    loop {
        if inner.stop.is_set() {
            return Outcome::Stopped;
        }
        if let Some(message) = bus.timed_pop(gst::ClockTime::from_mseconds(TICK.as_millis() as u64))
            && let Some(outcome) = handle_message(inner, &message, &secrets)
        {
            return outcome;
        }
        update_rates(inner);
        let frames = counters.frames_in.load(Ordering::Relaxed);
        if live_since.is_none() {
            if frames > frames_at_start {
                *live_since = Some(Instant::now());
                permit.release();
                set_state(inner, StreamState::Live);
            } else if started.elapsed() > settings.connect_timeout {
                return Outcome::Retry(format!(
                    "no frame within {:.1} s of connecting",
                    settings.connect_timeout.as_secs_f64()
                ));
            }
            continue;
        }
        let last = counters.last_frame_ms.load(Ordering::Relaxed);
        let now = inner.shared.epoch.elapsed().as_millis() as u64;
        let silent = Duration::from_millis(now.saturating_sub(last));
        if silent > settings.stall_timeout {
            set_state(inner, StreamState::Stalled);
            return Outcome::Stalled(silent);
        }
    }
}

fn secrets(settings: &StreamSettings) -> Vec<String> {
    settings
        .credentials
        .iter()
        .flat_map(|c| [c.password.clone()])
        .collect()
}

/// Pops what is already on the bus after a failed state change, looking for the error.
fn drain_error(inner: &Arc<Inner>, bus: &gst::Bus) -> Option<Outcome> {
    let secrets = secrets(&inner.settings);
    while let Some(message) = bus.timed_pop(gst::ClockTime::from_mseconds(200)) {
        if let Some(outcome) = handle_message(inner, &message, &secrets) {
            return Some(outcome);
        }
    }
    None
}

fn handle_message(
    inner: &Arc<Inner>,
    message: &gst::Message,
    secrets: &[String],
) -> Option<Outcome> {
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    match message.view() {
        gst::MessageView::Error(error) => {
            let source = message
                .src()
                .map(|s| s.path_string().to_string())
                .unwrap_or_default();
            let text = redact_text(&error.error().to_string(), &secrets);
            let detail = error
                .debug()
                .map(|d| redact_text(&d, &secrets))
                .unwrap_or_default();
            tracing::debug!(stream = %inner.settings.label, %source, %text, %detail, "pipeline error");
            if error.error().matches(gst::ResourceError::NotAuthorized) {
                return Some(Outcome::AuthFailed);
            }
            if error.error().matches(gst::CoreError::MissingPlugin)
                || error.error().matches(gst::StreamError::CodecNotFound)
            {
                return Some(Outcome::Fatal(format!("{text} ({source})")));
            }
            Some(Outcome::Retry(text))
        }
        gst::MessageView::Eos(_) => Some(Outcome::Retry("the camera ended the stream".into())),
        gst::MessageView::Warning(warning) => {
            let from_decoder = message
                .src()
                .and_then(|s| s.downcast_ref::<gst::Element>())
                .and_then(|e| e.factory())
                .map(|f| f.klass().contains("Decoder"))
                .unwrap_or(false);
            if from_decoder || warning.error().matches(gst::StreamError::Decode) {
                inner
                    .shared
                    .counters
                    .decode_errors
                    .fetch_add(1, Ordering::Relaxed);
            }
            None
        }
        gst::MessageView::Application(app) => {
            let s = app.structure()?;
            if s.name() != pipeline::FAILED_MESSAGE {
                return None;
            }
            let reason = s.get::<String>("reason").unwrap_or_default();
            if s.get::<bool>("fatal").unwrap_or(false) {
                Some(Outcome::Fatal(reason))
            } else {
                Some(Outcome::Retry(reason))
            }
        }
        gst::MessageView::Element(element) => {
            // rtspsrc gives up on UDP with this message; treat as a lost stream.
            let s = element.structure()?;
            (s.name() == "GstRTSPSrcTimeout")
                .then(|| Outcome::Retry("no RTP data (UDP timeout)".into()))
        }
        _ => None,
    }
}

fn update_rates(inner: &Inner) {
    let counters = &inner.shared.counters;
    let mut rates = inner.rates.lock();
    let now = Instant::now();
    let frames = counters.frames_in.load(Ordering::Relaxed);
    let bytes = counters.bytes_in.load(Ordering::Relaxed);
    match rates.at {
        None => {
            rates.at = Some(now);
            rates.frames = frames;
            rates.bytes = bytes;
        }
        Some(at) if now.duration_since(at) >= RATE_WINDOW => {
            let seconds = now.duration_since(at).as_secs_f64();
            rates.fps = (frames - rates.frames) as f64 / seconds;
            rates.bitrate_kbps = (bytes - rates.bytes) as f64 * 8.0 / 1000.0 / seconds;
            rates.at = Some(now);
            rates.frames = frames;
            rates.bytes = bytes;
        }
        Some(_) => {}
    }
}
