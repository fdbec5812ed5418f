//! The live restream: each camera stream the recorder is connected to, served again over RTSP
//! to the clients the hub allows, from the recorder's one connection and without transcoding.
//!
//! - [`LiveFeed`]: the compressed frames of one stream as they arrive, with the frames since
//!   the last key frame kept so that a new viewer starts at once, on a whole picture.
//! - [`Restream`]: an RTSP server (gst-rtsp-server) with a mount per stream, `/<camera>/<main|
//!   sub>`, added once the stream's codec is known. Each viewer gets a media of its own
//!   (`appsrc → parser → payloader`) fed by the stream's [`LiveFeed`].
//! - [`TicketAuth`]: every request must carry a stream ticket the hub signed for that camera
//!   stream, as its RTSP Basic password ([`crate::tickets`]); anything else is answered 401, and
//!   the refusal is kept for the hub's audit trail ([`Restream::refusals`]).

use crate::config::StreamKind;
use crate::tickets::{self, Refusal};
use contract::StreamMode;
use gst::glib;
use gst::prelude::*;
use gst_rtsp_server::prelude::*;
use media::Codec;
use parking_lot::Mutex;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// Frames kept for a new viewer: the group since the last key frame, bounded.
pub(crate) const GOP_MAX_BUFFERS: usize = 600;
pub(crate) const GOP_MAX_BYTES: usize = 32 << 20;

/// One stream's live frames, as its recording pipeline parses them.
pub struct LiveFeed {
    camera: String,
    kind: StreamKind,
    state: Mutex<FeedState>,
    /// Told once the codec is known, to mount the stream.
    on_codec: Mutex<Option<OnCodec>>,
}

/// What mounts a feed once it knows its codec.
type Mount = dyn Fn(&Arc<LiveFeed>, Codec) + Send;

/// What to do when a feed learns its codec.
struct OnCodec(Box<Mount>);

impl std::fmt::Debug for OnCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OnCodec")
    }
}

impl std::fmt::Debug for LiveFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state.lock();
        f.debug_struct("LiveFeed")
            .field("camera", &self.camera)
            .field("kind", &self.kind)
            .field("codec", &state.codec)
            .field("gop_frames", &state.gop.len())
            .field("viewers", &state.viewers.len())
            .finish()
    }
}

#[derive(Default)]
struct FeedState {
    caps: Option<gst::Caps>,
    codec: Option<Codec>,
    gop: VecDeque<gst::Buffer>,
    gop_bytes: usize,
    /// The group outgrew the cache: nothing is cached until the next key frame (a new viewer
    /// must never start on a group missing its beginning).
    gop_broken: bool,
    viewers: Vec<Viewer>,
    /// When the camera's last frame came.
    last_frame: Option<std::time::Instant>,
}

/// Where a viewer's frames start: its own pipeline's time starts at zero when it plays, and
/// its sinks send each frame at its time.
const PREROLL_NS: i64 = 40_000_000;

#[derive(Debug)]
struct Viewer {
    src: glib::WeakRef<gst_app::AppSrc>,
    /// The newest frame's time when the viewer came.
    anchor_ns: i64,
    /// Added to live frames' times once the viewer's pipeline plays.
    offset_ns: Option<i64>,
    /// The last time given to a frame, so that times only grow.
    last_ns: i64,
}

impl Viewer {
    /// The time `buffer` gets in the viewer's pipeline. Until it plays, frames are squeezed
    /// just after the anchor; then they keep their real spacing, from the pipeline's now.
    fn time_of(&mut self, src: &gst_app::AppSrc, t: i64) -> i64 {
        // The camera's times jumped (a reconnect starts them again near zero): anchor anew.
        if let Some(offset) = self.offset_ns {
            let ts = t + offset;
            if ts < self.last_ns - 1_000_000_000 || ts > self.last_ns + 5_000_000_000 {
                self.offset_ns = None;
            }
        }
        let ts = match self.offset_ns {
            Some(offset) => t + offset,
            None => match src.current_running_time() {
                Some(now) => {
                    let offset = (now.nseconds() as i64 - t).max(self.last_ns + 1 - t);
                    self.offset_ns = Some(offset);
                    t + offset
                }
                None => PREROLL_NS + (t - self.anchor_ns) / 1000,
            },
        };
        let ts = ts.max(self.last_ns + 1);
        self.last_ns = ts;
        ts
    }
}

/// A buffer's time for ordering: its decode time, else its presentation time.
fn time_of(buffer: &gst::Buffer) -> i64 {
    buffer.dts_or_pts().map_or(0, |t| t.nseconds() as i64)
}

impl LiveFeed {
    pub fn new(camera: &str, kind: StreamKind) -> Arc<Self> {
        Arc::new(Self {
            camera: camera.to_owned(),
            kind,
            state: Mutex::default(),
            on_codec: Mutex::new(None),
        })
    }

    pub fn camera(&self) -> &str {
        &self.camera
    }

    pub fn kind(&self) -> StreamKind {
        self.kind
    }

    /// The codec, once the camera said.
    pub fn codec(&self) -> Option<Codec> {
        self.state.lock().codec
    }

    /// How long since the camera's last frame (`None` before the first).
    pub fn silent_for(&self) -> Option<std::time::Duration> {
        self.state.lock().last_frame.map(|at| at.elapsed())
    }

    /// How many viewers are watching now.
    pub fn viewers(&self) -> usize {
        let mut state = self.state.lock();
        state.viewers.retain(|v| v.src.upgrade().is_some());
        state.viewers.len()
    }

    /// A new frame from the camera (called on the recording pipeline's streaming thread).
    pub fn push(self: &Arc<Self>, codec: Codec, caps: &gst::CapsRef, buffer: gst::Buffer) {
        let first_codec = {
            let mut state = self.state.lock();
            let first = state.codec != Some(codec);
            state.codec = Some(codec);
            state.last_frame = Some(std::time::Instant::now());
            if state.caps.as_deref() != Some(caps) {
                state.caps = Some(caps.to_owned());
                for viewer in &state.viewers {
                    if let Some(src) = viewer.src.upgrade() {
                        src.set_caps(Some(&caps.to_owned()));
                    }
                }
            }
            if !buffer.flags().contains(gst::BufferFlags::DELTA_UNIT) {
                state.gop.clear();
                state.gop_bytes = 0;
                state.gop_broken = false;
            }
            if state.gop.len() >= GOP_MAX_BUFFERS || state.gop_bytes >= GOP_MAX_BYTES {
                state.gop.clear();
                state.gop_bytes = 0;
                state.gop_broken = true;
            }
            if !state.gop_broken {
                state.gop_bytes += buffer.size();
                state.gop.push_back(buffer.clone());
            }
            let t = time_of(&buffer);
            state.viewers.retain_mut(|viewer| {
                let Some(src) = viewer.src.upgrade() else {
                    return false;
                };
                let ts = viewer.time_of(&src, t);
                src.push_buffer(rebased(&buffer, ts - t)).is_ok()
            });
            first
        };
        if first_codec && let Some(callback) = self.on_codec.lock().as_ref() {
            (callback.0)(self, codec);
        }
    }

    /// A new connection to the camera: its frames start anew (times from zero, perhaps new
    /// parameters). The cached group is dropped and every viewer re-anchors its times.
    pub fn reset(&self) {
        let mut state = self.state.lock();
        state.gop.clear();
        state.gop_bytes = 0;
        state.gop_broken = true;
        for viewer in &mut state.viewers {
            viewer.offset_ns = None;
        }
    }

    /// Starts feeding a viewer's `appsrc`: the frames since the last key frame first, then
    /// each new one. The viewer goes when its `appsrc` does.
    pub(crate) fn watch(&self, src: &gst_app::AppSrc) {
        let mut state = self.state.lock();
        if let Some(caps) = &state.caps {
            src.set_caps(Some(caps));
        }
        // The frames since the last key frame go first, their times squeezed a thousandfold
        // just before the newest one's: the viewer decodes them at once (a picture now, not
        // after the next key frame) and neither its sinks nor its jitter buffer wait out their
        // real spacing.
        let anchor_ns = state.gop.back().map_or(0, time_of);
        let mut last_ns = 0;
        for buffer in &state.gop {
            let t = time_of(buffer);
            let ts = (PREROLL_NS - (anchor_ns - t) / 1000).max(last_ns + 1);
            last_ns = ts;
            let _ = src.push_buffer(rebased(buffer, ts - t));
        }
        state.viewers.push(Viewer {
            src: src.downgrade(),
            anchor_ns,
            offset_ns: None,
            last_ns,
        });
    }
}

/// A copy of `buffer` with its timestamps moved by `offset_ns`.
fn rebased(buffer: &gst::Buffer, offset_ns: i64) -> gst::Buffer {
    let mut copy = buffer.copy();
    let shift = |t: Option<gst::ClockTime>| {
        t.and_then(|t| u64::try_from(t.nseconds() as i64 + offset_ns).ok())
            .map(gst::ClockTime::from_nseconds)
    };
    let copy_mut = copy.make_mut();
    copy_mut.set_pts(shift(buffer.pts()));
    copy_mut.set_dts(shift(buffer.dts()));
    copy
}

/// The chain from a viewer's `appsrc` to the RTP payloader, per codec.
fn payloading(codec: Codec) -> &'static str {
    match codec {
        Codec::H264 => "h264parse ! rtph264pay name=pay0 pt=96 config-interval=-1",
        Codec::H265 => "h265parse ! rtph265pay name=pay0 pt=96 config-interval=-1",
        Codec::Jpeg => "rtpjpegpay name=pay0 pt=26",
    }
}

/// Every element the restream creates by name.
pub fn created_elements() -> Vec<&'static str> {
    vec![
        "appsrc",
        "appsink",
        "tee",
        "queue",
        "h264parse",
        "h265parse",
        "rtph264pay",
        "rtph265pay",
        "rtpjpegpay",
    ]
}

/// A ticket refused by the restream, for the hub's audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The camera and stream the request or the ticket named (empty when neither could say).
    pub camera: String,
    pub kind: StreamKind,
    pub mode: StreamMode,
    /// The user the ticket names, when it could be read.
    pub user: Option<String>,
    pub reason: Refusal,
    pub at_ms: i64,
}

/// What the ticket check needs, shared with the RTSP server's threads and the HTTP playback.
#[derive(Debug)]
pub(crate) struct Checker {
    hub_key: String,
    /// This recorder's id: tickets for other recorders are refused.
    recorder: String,
    refusals: Mutex<VecDeque<Refused>>,
}

/// A handle on a restream's refused tickets.
#[derive(Debug, Clone)]
pub struct RefusalLog(Arc<Checker>);

impl RefusalLog {
    /// The tickets refused since the last call, oldest first.
    pub fn drain(&self) -> Vec<Refused> {
        self.0.refusals.lock().drain(..).collect()
    }
}

/// Refusals kept for the hub, oldest dropped first.
const REFUSALS_KEPT: usize = 1000;

impl Checker {
    fn refuse(
        &self,
        camera: &str,
        kind: StreamKind,
        mode: StreamMode,
        user: Option<String>,
        reason: Refusal,
    ) {
        tracing::warn!(
            camera,
            stream = kind.as_str(),
            mode = mode.as_str(),
            "stream ticket refused: {reason}"
        );
        let mut refusals = self.refusals.lock();
        if refusals.len() >= REFUSALS_KEPT {
            refusals.pop_front();
        }
        refusals.push_back(Refused {
            camera: camera.to_owned(),
            kind,
            mode,
            user,
            reason,
            at_ms: crate::recording::now_us() / 1000,
        });
    }

    /// Checks the request in `ctx`; the token that lets it through, if it may. The token's
    /// role opens the ticket's own stream's factory and no other (see [`tickets::role_of`]).
    fn authenticate(
        &self,
        ctx: &gst_rtsp_server::RTSPContext,
    ) -> Option<gst_rtsp_server::RTSPToken> {
        let uri = ctx.uri().map(|u| u.request_uri().to_string())?;
        let asked = tickets::stream_of_path(tickets::raw_path(&uri));
        let ticket = ctx.request().and_then(|request| {
            request
                .parse_auth_credentials()
                .iter()
                .filter(|c| c.scheme() == gst_rtsp::RTSPAuthMethod::Basic)
                .find_map(|c| c.authorization().and_then(basic_password))
        });
        let Some(ticket) = ticket else {
            // The client's first try carries no credentials: it is answered 401 with the
            // challenge and comes back with them. Not a refusal worth reporting.
            return None;
        };
        let claims = self.check(&ticket, asked)?;
        Some(
            gst_rtsp_server::RTSPToken::builder()
                .field(
                    "media.factory.role",
                    tickets::role_of(&claims.camera, tickets::kind_of(claims.stream), claims.mode),
                )
                .field("watchfloor.user", claims.user)
                .build(),
        )
    }

    /// Checks `ticket` for what the request `asked` (the RTSP restream's or the HTTP
    /// playback's); its claims when it opens exactly that, else the refusal is kept.
    pub(crate) fn check(
        &self,
        ticket: &str,
        asked: Result<tickets::Asked, Refusal>,
    ) -> Option<contract::TicketClaims> {
        let (camera, kind, mode) = asked
            .as_ref()
            .map(|a| (a.camera.clone(), a.kind, a.mode))
            .unwrap_or_else(|_| (String::new(), StreamKind::Main, StreamMode::Live));
        let now_ms = crate::recording::now_us() / 1000;
        let claims = match tickets::check(&self.hub_key, &self.recorder, ticket, now_ms) {
            Ok(claims) => claims,
            Err(reason) => {
                self.refuse(&camera, kind, mode, None, reason);
                return None;
            }
        };
        let granted = tickets::Asked {
            camera: claims.camera.clone(),
            kind: tickets::kind_of(claims.stream),
            mode: claims.mode,
        };
        let name = |a: &tickets::Asked| {
            let replay = if a.mode == StreamMode::Replay {
                " (recorded)"
            } else {
                ""
            };
            format!("{}/{}{replay}", a.camera, a.kind.as_str())
        };
        let refusal = match asked {
            Ok(asked) if asked == granted => None,
            Ok(asked) => Some(Refusal::OtherStream {
                ticket: name(&granted),
                asked: name(&asked),
            }),
            Err(reason) => Some(reason),
        };
        if let Some(reason) = refusal {
            self.refuse(&camera, kind, mode, Some(claims.user), reason);
            return None;
        }
        Some(claims)
    }
}

/// The password of a Basic `Authorization` value (`base64(user:password)`).
fn basic_password(encoded: &str) -> Option<String> {
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    text.split_once(':')
        .map(|(_, password)| password.to_owned())
}

mod imp {
    use super::Checker;
    use gst::glib;
    use gst_rtsp_server::subclass::prelude::*;
    use std::sync::{Arc, OnceLock};

    #[derive(Debug, Default)]
    pub struct TicketAuth {
        pub(super) checker: OnceLock<Arc<Checker>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for TicketAuth {
        const NAME: &'static str = "WatchfloorTicketAuth";
        type Type = super::TicketAuth;
        type ParentType = gst_rtsp_server::RTSPAuth;
    }

    impl ObjectImpl for TicketAuth {}

    impl RTSPAuthImpl for TicketAuth {
        fn authenticate(&self, ctx: &gst_rtsp_server::RTSPContext) -> bool {
            let Some(checker) = self.checker.get() else {
                return false;
            };
            match checker.authenticate(ctx) {
                Some(token) => {
                    ctx.set_token(token);
                    true
                }
                None => false,
            }
        }
    }
}

glib::wrapper! {
    /// The restream's authentication: a valid stream ticket for the requested stream, or 401.
    pub struct TicketAuth(ObjectSubclass<imp::TicketAuth>) @extends gst_rtsp_server::RTSPAuth;
}

impl TicketAuth {
    fn new(checker: Arc<Checker>) -> Self {
        let auth: Self = glib::Object::new();
        let _ = gst_rtsp_server::subclass::prelude::ObjectSubclassIsExt::imp(&auth)
            .checker
            .set(checker);
        auth.set_supported_methods(gst_rtsp::RTSPAuthMethod::Basic);
        auth
    }
}

/// Why the restream could not start.
#[derive(Debug, thiserror::Error)]
pub enum RestreamError {
    #[error("cannot serve RTSP on {0}: {1}")]
    Bind(String, String),
    #[error("GStreamer: {0}")]
    Gstreamer(String),
    #[error("HTTP playback: {0}")]
    Http(String),
}

/// The restream's RTSP server; dropping it stops serving.
#[derive(Debug)]
pub struct Restream {
    serving: rtsp_serve::Serving,
    checker: Arc<Checker>,
    feeds: BTreeMap<(String, StreamKind), Arc<LiveFeed>>,
    /// The replay mounts' paths.
    replays: Vec<String>,
    /// Recorded video over HTTP, when configured.
    http: Option<crate::http_playback::HttpPlayback>,
}

impl Restream {
    /// Serves `feeds` live and `recorded` replayed on `host:port` (port 0 picks one),
    /// allowing what `hub_key` signed.
    pub fn start(
        host: &str,
        port: u16,
        hub_key: &str,
        recorder: &str,
        feeds: &[Arc<LiveFeed>],
        recorded: Vec<crate::replay::Recorded>,
        http: Option<(&str, u16, crate::http_playback::Exporting)>,
    ) -> Result<Self, RestreamError> {
        // The ONVIF server: it understands `Require: onvif-replay` and its play modes.
        let server: gst_rtsp_server::RTSPServer = gst_rtsp_server::RTSPOnvifServer::new().upcast();
        server.set_address(host);
        server.set_service(&port.to_string());
        let checker = Arc::new(Checker {
            hub_key: hub_key.to_owned(),
            recorder: recorder.to_owned(),
            refusals: Mutex::default(),
        });
        server.set_auth(Some(&TicketAuth::new(checker.clone())));
        let mounts = server
            .mount_points()
            .ok_or_else(|| RestreamError::Gstreamer("no mount points".into()))?;
        for feed in feeds {
            let mounts = mounts.clone();
            let mount = move |feed: &Arc<LiveFeed>, codec: Codec| {
                let path = format!("/{}/{}", feed.camera(), feed.kind().as_str());
                mounts.add_factory(&path, factory(feed, codec));
                tracing::info!(%path, codec = codec.name(), "restream mounted");
            };
            if let Some(codec) = feed.codec() {
                mount(feed, codec);
            }
            *feed.on_codec.lock() = Some(OnCodec(Box::new(mount)));
        }
        let feeds: BTreeMap<_, _> = feeds
            .iter()
            .map(|f| ((f.camera().to_owned(), f.kind()), f.clone()))
            .collect();
        let http = http
            .map(|(host, port, exporting)| {
                crate::http_playback::HttpPlayback::start(
                    host,
                    port,
                    checker.clone(),
                    recorded.clone(),
                    feeds.clone(),
                    exporting,
                )
                .map_err(RestreamError::Http)
            })
            .transpose()?;
        let mut replays = Vec::new();
        for recorded in recorded {
            let path = format!("/{}/{}/replay", recorded.camera, recorded.kind.as_str());
            replays.push(path.clone());
            mounts.add_factory(&path, crate::replay::ReplayFactory::new(recorded));
        }
        let serving = rtsp_serve::serve(server, "restream")
            .map_err(|e| RestreamError::Bind(format!("{host}:{port}"), e))?;
        Ok(Self {
            serving,
            checker,
            replays,
            http,
            feeds,
        })
    }

    /// The port it serves on.
    pub fn port(&self) -> u16 {
        self.serving.port()
    }

    /// The port of the HTTP playback, when it serves one.
    pub fn http_port(&self) -> Option<u16> {
        self.http
            .as_ref()
            .map(crate::http_playback::HttpPlayback::port)
    }

    /// The tickets refused since the last call, oldest first.
    pub fn refusals(&self) -> Vec<Refused> {
        self.checker.refusals.lock().drain(..).collect()
    }

    /// The refusals, for a thread of their own (the report to the hub).
    pub fn refusal_log(&self) -> RefusalLog {
        RefusalLog(self.checker.clone())
    }

    /// Viewers per stream now.
    pub fn viewers(&self) -> Vec<(String, StreamKind, usize)> {
        self.feeds
            .iter()
            .map(|((camera, kind), feed)| (camera.clone(), *kind, feed.viewers()))
            .collect()
    }
}

impl Drop for Restream {
    fn drop(&mut self) {
        if let Some(mounts) = self.serving.server().mount_points() {
            for (camera, kind) in self.feeds.keys() {
                mounts.remove_factory(&format!("/{camera}/{}", kind.as_str()));
            }
            for path in &self.replays {
                mounts.remove_factory(path);
            }
        }
    }
}

/// The media factory of one stream: a media per viewer, fed by the stream's [`LiveFeed`].
fn factory(feed: &Arc<LiveFeed>, codec: Codec) -> gst_rtsp_server::RTSPMediaFactory {
    let factory = gst_rtsp_server::RTSPMediaFactory::new();
    // Room for a whole cached group (the key frame first: a queue that dropped it would
    // start the viewer on a smear), and leaky beyond, never blocking the camera's feed.
    factory.set_launch(&format!(
        "( appsrc name=src is-live=true format=time do-timestamp=false \
           max-buffers={} max-bytes={} max-time=0 leaky-type=downstream ! {} )",
        GOP_MAX_BUFFERS * 2,
        GOP_MAX_BYTES * 2,
        payloading(codec)
    ));
    // A media per viewer: each starts on the last key frame at once.
    factory.set_shared(false);
    // Only a ticket for this very stream opens it.
    factory.add_role_from_structure(
        &gst::Structure::builder(tickets::role_of(
            feed.camera(),
            feed.kind(),
            StreamMode::Live,
        ))
        .field("media.factory.access", true)
        .field("media.factory.construct", true)
        .build(),
    );
    let feed = Arc::downgrade(feed);
    factory.connect_media_configure(move |_, media| {
        let element = media.element();
        let Some(src) = element
            .downcast_ref::<gst::Bin>()
            .and_then(|bin| bin.by_name("src"))
            .and_then(|src| src.downcast::<gst_app::AppSrc>().ok())
        else {
            return;
        };
        if let Some(feed) = feed.upgrade() {
            feed.watch(&src);
        }
    });
    factory
}
