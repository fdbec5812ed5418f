//! The Watchfloor recorder: one service per site (or per few hundred cameras) that
//!
//! - holds the cameras' passwords, sealed at rest ([`credentials`]), and is the only part of
//!   Watchfloor that ever does;
//! - keeps one connection per camera stream and records it without transcoding into key-frame
//!   segments of MP4 ([`recording`]), named in a crash-safe SQLite index
//!   ([`index`]) only once they are on disk;
//! - deletes the oldest unlocked video by age, quota and free space, never evidence
//!   ([`retention`]);
//! - answers what was recorded when, and plays and exports it ([`playback`], [`export`]).
//!
//! Configuration is a TOML file ([`config`]); `watchfloor-recorder` is the binary.

pub mod config;
pub mod credentials;
pub mod export;
pub mod http_playback;
pub mod hub_sync;
pub mod index;
pub mod playback;
pub mod recording;
pub mod replay;
pub mod report;
pub mod restream;
pub mod retention;
pub mod tickets;

pub use config::{Config, StreamKind};
pub use index::Index;

use parking_lot::Mutex;
use recording::{Shared, StreamEvent, StreamRecorder, StreamStatus};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Every element the recorder creates by name, for the `elements` crate's guard.
pub fn created_elements() -> Vec<&'static str> {
    let mut names = recording::created_elements();
    names.extend(playback::created_elements());
    names.extend(export::created_elements());
    names.extend(restream::created_elements());
    names.extend(replay::created_elements());
    names.extend(http_playback::created_elements());
    names.sort_unstable();
    names.dedup();
    names
}

/// How long a stream that is not recorded stays connected after its last viewer left.
const IDLE: Duration = Duration::from_secs(10);

/// A stream restreamed but not recorded: connected at start (to learn its codec and mount
/// it), while someone watches, and let go [`IDLE`] after its last viewer left; a new viewer
/// connects it again (the client waits for its first frame).
#[derive(Debug)]
struct OnDemand {
    camera: config::CameraConfig,
    kind: StreamKind,
    feed: Arc<restream::LiveFeed>,
    running: Option<StreamRecorder>,
    idle_since: Option<Instant>,
}

/// Connects the on-demand streams someone watches and lets go of the others.
fn watch_demand(on_demand: &Mutex<Vec<OnDemand>>, shared: &Arc<Shared>, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        let mut idle = Vec::new();
        for demand in on_demand.lock().iter_mut() {
            let watched = demand.feed.viewers() > 0;
            if watched {
                demand.idle_since = None;
                if demand.running.is_none() {
                    match StreamRecorder::start(
                        shared.clone(),
                        &demand.camera,
                        demand.kind,
                        false,
                        Some(demand.feed.clone()),
                    ) {
                        Ok(running) => demand.running = Some(running),
                        Err(e) => tracing::error!("cannot connect a watched stream: {e}"),
                    }
                }
            } else if demand.running.is_some() && demand.feed.codec().is_some() {
                let since = *demand.idle_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= IDLE {
                    idle.extend(demand.running.take());
                    demand.idle_since = None;
                }
            }
        }
        // Stopped outside the lock: each finishes within a couple of seconds.
        for stream in &idle {
            stream.request_stop();
        }
        drop(idle);
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A recorder that cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Index(#[from] index::IndexError),
    #[error(transparent)]
    Credentials(#[from] credentials::CredentialError),
    #[error(transparent)]
    Elements(#[from] elements::MissingElements),
    #[error("GStreamer: {0}")]
    Gstreamer(String),
    #[error("cannot start a thread: {0}")]
    Thread(#[from] std::io::Error),
    #[error(transparent)]
    Restream(#[from] restream::RestreamError),
    #[error("another recorder is running on {0}")]
    Busy(String),
    #[error("reporting to the hub: {0}")]
    Hub(String),
}

/// A running recorder: every configured stream recording, and retention running. Dropping it
/// stops everything, finishing each segment being written.
#[derive(Debug)]
pub struct Recorder {
    config: Config,
    index: Arc<Index>,
    streams: Vec<StreamRecorder>,
    /// Streams restreamed but not recorded.
    on_demand: Arc<Mutex<Vec<OnDemand>>>,
    demand: Option<std::thread::JoinHandle<()>>,
    /// Reports to the hub, when one is configured.
    reporter: Option<std::thread::JoinHandle<()>>,
    /// Syncs with the hub, when one is configured.
    syncer: Option<std::thread::JoinHandle<()>>,
    restream: Option<restream::Restream>,
    events: Mutex<std::sync::mpsc::Receiver<StreamEvent>>,
    stop: Arc<AtomicBool>,
    retention: Option<std::thread::JoinHandle<()>>,
    starved: Arc<AtomicBool>,
    /// Held while recording: a second recorder on the same data folder would delete this
    /// one's open segments at its start.
    _lock: std::fs::File,
}

/// What the syncing thread works with.
struct Syncing {
    sync: hub_sync::HubSync,
    index: Arc<Index>,
    statuses: Vec<Arc<Mutex<recording::StreamStatus>>>,
    refusals: Option<restream::RefusalLog>,
    around_events: BTreeMap<String, config::EventWindow>,
    video_dir: std::path::PathBuf,
    interval: Duration,
    /// Told to retention: until when the site's events are known.
    known_until: Arc<std::sync::atomic::AtomicI64>,
}

/// How far back the hub's answer names the site's events (its `RECENT_EVENTS_MS`), less a
/// margin: a longer time between two syncs may have missed events.
const EVENTS_TOLD_US: i64 = 9 * 60 * 1_000_000;

/// Syncs with the hub every `interval` until `stop`: the locks it answers replace the index's
/// hub locks; when it cannot be reached they stay as they are. Marks the video around the
/// events it names for the cameras recorded around events, and tells retention until when
/// events are known.
fn run_sync(syncing: Syncing, stop: &AtomicBool) {
    let Syncing {
        mut sync,
        index,
        statuses,
        refusals,
        around_events,
        video_dir,
        interval,
        known_until,
    } = syncing;
    let longest_pre_roll = around_events
        .values()
        .map(|w| i64::try_from(w.pre_roll.as_micros()).unwrap_or(i64::MAX))
        .max()
        .unwrap_or(0);
    let mut last_ok_us: Option<i64> = None;
    let (index, refusals, video_dir) = (&*index, refusals.as_ref(), video_dir.as_path());
    let around_events = &around_events;
    let mut failing = false;
    let mut unsent: Vec<restream::Refused> = Vec::new();
    let mut next = Instant::now();
    while !stop.load(Ordering::SeqCst) {
        if Instant::now() < next {
            std::thread::sleep(Duration::from_millis(50).min(interval));
            continue;
        }
        next = Instant::now() + interval;
        unsent.extend(
            refusals
                .map(restream::RefusalLog::drain)
                .unwrap_or_default(),
        );
        // Bounded: what the hub could not take for long is dropped oldest first (and said).
        if unsent.len() > 1000 {
            let dropped = unsent.len() - 1000;
            tracing::warn!("{dropped} refused ticket(s) were never reported to the hub");
            unsent.drain(..dropped);
        }
        let now_us = recording::now_us();
        let current: Vec<_> = statuses.iter().map(|s| s.lock().clone()).collect();
        let free = retention::free_bytes(video_dir).unwrap_or(0);
        let report = hub_sync::report(index, &current, free, unsent.clone(), now_us);
        match sync.sync(&report, now_us / 1000) {
            Ok(answer) => {
                unsent.clear();
                if failing {
                    tracing::info!("the hub is reachable again");
                    failing = false;
                }
                let kept = hub_sync::locks_of(&answer)
                    .map_err(|e| e.to_string())
                    .and_then(|locks| {
                        index
                            .sync_hub_locks(&locks, &answer.released)
                            .map_err(|e| e.to_string())
                    });
                match kept {
                    Ok((0, 0)) => {}
                    Ok((changed, removed)) => tracing::info!(
                        "evidence locks from the hub: {changed} new or changed, {removed} released"
                    ),
                    Err(e) => tracing::error!("cannot keep the hub's evidence locks: {e}"),
                }
                let mut marks = hub_sync::marks_of(&answer, around_events);
                // A longer silence than the hub's answer covers may hide events: its video is
                // kept as if marked.
                if let Some(last) = last_ok_us
                    && now_us - last > EVENTS_TOLD_US
                {
                    for camera in around_events.keys() {
                        marks.push((
                            format!("unheard:{last}:{camera}"),
                            camera.clone(),
                            last - longest_pre_roll,
                            now_us - EVENTS_TOLD_US,
                        ));
                    }
                }
                let mut marked = true;
                for (id, camera, start_us, end_us) in marks {
                    if let Err(e) = index.add_mark(&id, &camera, start_us, end_us) {
                        tracing::error!("cannot keep the video around an event: {e}");
                        marked = false;
                    }
                }
                if marked {
                    last_ok_us = Some(now_us);
                    known_until.store(now_us.saturating_sub(longest_pre_roll), Ordering::SeqCst);
                }
            }
            Err(e) => {
                if !failing {
                    tracing::warn!("cannot sync with the hub (the locks kept stay): {e}");
                    failing = true;
                }
            }
        }
    }
}

/// Takes the data folder's lock, or says who holds it.
fn lock_data_dir(dir: &std::path::Path) -> Result<std::fs::File, StartError> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("recorder.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)?;
    #[cfg(unix)]
    rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive)
        .map_err(|_| StartError::Busy(dir.display().to_string()))?;
    Ok(file)
}

impl Recorder {
    /// Checks the index against the disk (a crash's partial segments are deleted), then starts
    /// recording every configured stream.
    pub fn start(config: Config) -> Result<Self, StartError> {
        gst::init().map_err(|e| StartError::Gstreamer(e.to_string()))?;
        elements::require(created_elements())?;
        let lock = lock_data_dir(&config.data_dir)?;
        // What can fail does so before any thread starts.
        let mut poster = config.hub.as_ref().map(report::poster).transpose()?;
        let hub_sync = config
            .hub
            .as_ref()
            .map(|hub| {
                let signer = keys::SigningKey::load_or_create(&config.data_dir.join("signing.key"))
                    .map_err(|e| StartError::Hub(format!("the recorder's signing key: {e}")))?;
                hub_sync::HubSync::new(hub, &config.id, signer).map_err(StartError::Hub)
            })
            .transpose()?;
        std::fs::create_dir_all(config.video_dir())?;
        let index = Arc::new(Index::open(&config.index_path())?);
        let found = index.reconcile(&config.video_dir(), recording::now_us())?;
        if !found.orphan_files.is_empty() {
            tracing::info!(
                "deleted {} unfinished segment(s) left by the last run",
                found.orphan_files.len()
            );
        }
        for file in &found.missing_files {
            tracing::warn!("the index named {file}, which is gone from disk; forgotten");
        }
        let credentials = credentials::CredentialStore::open(&config.data_dir)?;
        // Read once now, so that a store the key cannot open fails the start, not each stream.
        credentials.all()?;
        let (events_tx, events) = std::sync::mpsc::sync_channel(1024);
        let space_wanted = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(Shared {
            index: index.clone(),
            credentials,
            video_dir: config.video_dir(),
            segment: config.segment,
            stall_timeout: config.stall_timeout,
            backoff: media::Backoff {
                initial: Duration::from_millis(250).min(config.reconnect_max),
                max: config.reconnect_max,
                jitter: 0.2,
            },
            events: events_tx,
            space_wanted: space_wanted.clone(),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let starved = Arc::new(AtomicBool::new(false));
        let known_until;
        let retention = {
            let (index, stop, starved) = (index.clone(), stop.clone(), starved.clone());
            let retention = retention::Retention::new(&config);
            known_until = retention.known_until();
            let interval = config.retention_interval;
            std::thread::Builder::new()
                .name("retention".into())
                .spawn(move || {
                    let mut next = Instant::now();
                    while !stop.load(Ordering::SeqCst) {
                        if Instant::now() >= next || space_wanted.swap(false, Ordering::SeqCst) {
                            match retention.run(&index, recording::now_us()) {
                                Ok(pass) => {
                                    if pass.deleted > 0 {
                                        tracing::info!(
                                            "retention deleted {} segment(s), {} bytes",
                                            pass.deleted,
                                            pass.freed_bytes
                                        );
                                    }
                                    if pass.starved && !starved.swap(true, Ordering::SeqCst) {
                                        tracing::error!(
                                            "storage is over its limits and everything left is \
                                             locked as evidence"
                                        );
                                    }
                                    if !pass.starved {
                                        starved.store(false, Ordering::SeqCst);
                                    }
                                }
                                Err(e) => tracing::error!("retention: {e}"),
                            }
                            next = Instant::now() + interval;
                        }
                        std::thread::sleep(Duration::from_millis(100));
                    }
                })?
        };
        // One connection per stream: recorded as configured, and restreamed when the
        // restream is on (every stream with a URL then, so that viewers need no camera
        // connection of their own). The restream serves before the streams connect, so that
        // it hears each stream's codec as it comes.
        let mut plan = Vec::new();
        for camera in &config.cameras {
            for kind in StreamKind::ALL {
                let record = camera.recorded().any(|k| k == kind);
                let live = (config.restream.is_some() && camera.url(kind).is_some())
                    .then(|| restream::LiveFeed::new(&camera.id, kind));
                if record || live.is_some() {
                    plan.push((camera, kind, record, live));
                }
            }
        }
        let feeds: Vec<_> = plan
            .iter()
            .filter_map(|(_, _, _, live)| live.clone())
            .collect();
        let restream = config
            .restream
            .as_ref()
            .map(|r| {
                // Every recorded stream can be replayed, live or not.
                let recorded: Vec<replay::Recorded> = plan
                    .iter()
                    .filter(|(_, _, record, _)| *record)
                    .map(|(camera, kind, _, _)| replay::Recorded {
                        index: index.clone(),
                        video_dir: config.video_dir(),
                        camera: camera.id.clone(),
                        kind: *kind,
                    })
                    .collect();
                // The HTTP playback also makes signed exports for the hub.
                let http = match &r.http {
                    Some((host, port)) => Some((
                        host.as_str(),
                        *port,
                        http_playback::Exporting::new(&config.id, &config.data_dir)
                            .map_err(restream::RestreamError::Http)?,
                    )),
                    None => None,
                };
                restream::Restream::start(
                    &r.host, r.port, &r.hub_key, &config.id, &feeds, recorded, http,
                )
            })
            .transpose()?;
        // Recorded streams stay connected; the others are connected while someone watches.
        let mut streams = Vec::new();
        let mut on_demand = Vec::new();
        for (camera, kind, record, live) in plan {
            let running =
                StreamRecorder::start(shared.clone(), camera, kind, record, live.clone())?;
            match live {
                Some(feed) if !record => on_demand.push(OnDemand {
                    camera: camera.clone(),
                    kind,
                    feed,
                    running: Some(running),
                    idle_since: None,
                }),
                _ => streams.push(running),
            }
        }
        let on_demand = Arc::new(Mutex::new(on_demand));
        let demand = (!on_demand.lock().is_empty())
            .then(|| {
                let (on_demand, shared, stop) = (on_demand.clone(), shared.clone(), stop.clone());
                std::thread::Builder::new()
                    .name("on-demand".into())
                    .spawn(move || watch_demand(&on_demand, &shared, &stop))
            })
            .transpose()?;
        // With a hub, what happens goes there first, then to whoever reads `events()`.
        let (events, reporter) = match (&config.hub, poster.take()) {
            (Some(hub), Some(poster)) => {
                let (forward, local) = std::sync::mpsc::sync_channel(1024);
                let (recorder_id, site, stop) = (config.id.clone(), hub.site.clone(), stop.clone());
                let thread = std::thread::Builder::new()
                    .name("hub-report".into())
                    .spawn(move || {
                        report::run(&poster, &recorder_id, &site, &events, &forward, &stop)
                    })?;
                (local, Some(thread))
            }
            _ => (events, None),
        };
        // And it syncs: health and refused tickets out, evidence locks and events in.
        let syncer = match (hub_sync, &config.hub) {
            (Some(sync), Some(hub)) => {
                let syncing = Syncing {
                    sync,
                    index: index.clone(),
                    statuses: streams.iter().map(StreamRecorder::status_handle).collect(),
                    refusals: restream.as_ref().map(restream::Restream::refusal_log),
                    around_events: config
                        .cameras
                        .iter()
                        .filter_map(|c| c.events.map(|window| (c.id.clone(), window)))
                        .collect(),
                    video_dir: config.video_dir(),
                    interval: hub.sync_interval,
                    known_until: known_until.clone(),
                };
                let stop = stop.clone();
                Some(
                    std::thread::Builder::new()
                        .name("hub-sync".into())
                        .spawn(move || run_sync(syncing, &stop))?,
                )
            }
            _ => None,
        };
        Ok(Self {
            config,
            index,
            streams,
            on_demand,
            demand,
            reporter,
            syncer,
            restream,
            events: Mutex::new(events),
            stop,
            retention: Some(retention),
            starved,
            _lock: lock,
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn index(&self) -> &Arc<Index> {
        &self.index
    }

    /// Every recorded stream's status, and those of the watched ones.
    pub fn status(&self) -> Vec<StreamStatus> {
        let mut all: Vec<StreamStatus> = self.streams.iter().map(StreamRecorder::status).collect();
        all.extend(
            self.on_demand
                .lock()
                .iter()
                .filter_map(|d| d.running.as_ref().map(StreamRecorder::status)),
        );
        all
    }

    /// How many streams that are not recorded are connected now (while watched).
    pub fn connected_on_demand(&self) -> usize {
        self.on_demand
            .lock()
            .iter()
            .filter(|d| d.running.is_some())
            .count()
    }

    /// Whether storage is over its limits with only locked video left.
    pub fn starved(&self) -> bool {
        self.starved.load(Ordering::SeqCst)
    }

    /// The restream, when configured.
    pub fn restream(&self) -> Option<&restream::Restream> {
        self.restream.as_ref()
    }

    /// The events since the last call (offline, online, disk full), oldest first.
    pub fn events(&self) -> Vec<StreamEvent> {
        self.events.lock().try_iter().collect()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        // Viewers first, then streams (all asked at once, each finishing its segment), then
        // retention.
        self.restream = None;
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.demand.take() {
            let _ = thread.join();
        }
        let watched: Vec<StreamRecorder> = self
            .on_demand
            .lock()
            .iter_mut()
            .filter_map(|d| d.running.take())
            .collect();
        for stream in self.streams.iter().chain(&watched) {
            stream.request_stop();
        }
        self.streams.clear();
        drop(watched);
        if let Some(thread) = self.reporter.take() {
            let _ = thread.join();
        }
        if let Some(thread) = self.syncer.take() {
            let _ = thread.join();
        }
        if let Some(thread) = self.retention.take() {
            let _ = thread.join();
        }
    }
}
