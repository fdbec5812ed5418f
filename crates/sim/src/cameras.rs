//! Simulated cameras: every camera of a site served over RTSP by gst-rtsp-server at
//! `rtsp://HOST:PORT/<camera id>/main` and `/<camera id>/sub`, each frame stamped with its
//! capture time and number (see the `stamp` crate), with faults injectable at run time.
//!
//! The RTSP server runs on its own GLib main loop thread. Faults are plain atomics read by pad
//! probes on the streaming threads, so applying one never blocks a stream.

use crate::SimError;
use gst::glib;
use gst::prelude::*;
use gst_rtsp_server::prelude::*;
use gst_video::prelude::*;
use parking_lot::Mutex;
use serde::Serialize;
use site::{Camera, Codec, StreamSpec};
use stamp::{Stamp, StampGeometry};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub use site::StreamKind;

/// A fault to apply to one camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Close its connections and refuse new ones (503) until [`Fault::Start`].
    Stop,
    /// Serve again after a stop.
    Start,
    /// Keep connections open but send no frames, until [`Fault::Resume`].
    Stall,
    /// Send frames again after a stall.
    Resume,
    /// Close its current connections once; new ones are accepted.
    Cut,
    /// Corrupt this many encoded frames per thousand (0 stops corrupting).
    Corrupt { per_mille: u32 },
}

/// RTSP credentials every camera requires, when set.
#[derive(Clone)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// One camera's run-time state, shared with the streaming threads.
#[derive(Debug)]
struct CameraState {
    camera: Camera,
    /// The number written into the stamp's source field.
    source: u16,
    stopped: AtomicBool,
    stalled: AtomicBool,
    corrupt_per_mille: AtomicU32,
    /// Frame counters survive restarts of the stream's pipeline, so stamps keep increasing.
    frames: [Arc<AtomicU64>; 2],
    clients: Mutex<Vec<glib::WeakRef<gst_rtsp_server::RTSPClient>>>,
    /// The `valve` of every running stream pipeline, closed while stalled.
    valves: Mutex<Vec<glib::WeakRef<gst::Element>>>,
    /// The payloader of every running stream pipeline, to ask its encoder for key frames.
    payloaders: Mutex<Vec<glib::WeakRef<gst::Element>>>,
}

impl CameraState {
    /// Asks every running encoder of this camera for a key frame, as a real camera does when a
    /// viewer joins, so the viewer need not wait a whole GOP for a picture.
    fn request_key_frame(&self) {
        let mut payloaders = self.payloaders.lock();
        payloaders.retain(|p| p.upgrade().is_some());
        for pad in payloaders
            .iter()
            .filter_map(|p| p.upgrade())
            .filter_map(|p| p.static_pad("sink"))
        {
            let event = gst_video::UpstreamForceKeyUnitEvent::builder()
                .all_headers(true)
                .build();
            pad.push_event(event);
        }
    }

    fn set_stalled(&self, stalled: bool) {
        self.stalled.store(stalled, Ordering::SeqCst);
        let mut valves = self.valves.lock();
        valves.retain(|v| v.upgrade().is_some());
        for valve in valves.iter().filter_map(|v| v.upgrade()) {
            valve.set_property("drop", stalled);
        }
    }
}

/// What the simulator says about one stream.
#[derive(Debug, Clone, Serialize)]
pub struct StreamListing {
    pub kind: StreamKind,
    pub url: String,
    pub codec: Codec,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
}

/// What the simulator says about one camera.
#[derive(Debug, Clone, Serialize)]
pub struct CameraListing {
    pub id: String,
    pub name: String,
    /// The source number in this camera's pixel stamps.
    pub stamp_source: u16,
    pub auth: bool,
    /// RTSP connections open to this camera now (a recorder should be the only one per
    /// stream).
    pub clients: usize,
    pub stopped: bool,
    pub stalled: bool,
    pub corrupt_per_mille: u32,
    pub streams: Vec<StreamListing>,
}

/// The RTSP server and its cameras. Dropping it stops the server.
#[derive(Debug)]
pub struct CameraServer {
    /// Held: dropping it stops serving.
    _serving: rtsp_serve::Serving,
    cameras: BTreeMap<String, Arc<CameraState>>,
    host: String,
    port: u16,
    auth: bool,
}

impl CameraServer {
    /// Serves `cameras` on `host:port` (port 0 picks a free one).
    pub fn start(
        cameras: &[Camera],
        host: &str,
        port: u16,
        credentials: Option<&Credentials>,
    ) -> Result<Self, SimError> {
        gst::init().map_err(|e| SimError::Gstreamer(e.to_string()))?;
        check_elements(cameras)?;
        let server = gst_rtsp_server::RTSPServer::new();
        server.set_address(host);
        server.set_service(&port.to_string());
        let mounts = server
            .mount_points()
            .ok_or_else(|| SimError::Gstreamer("RTSP server has no mount points".into()))?;
        if let Some(credentials) = credentials {
            let auth = gst_rtsp_server::RTSPAuth::new();
            auth.set_supported_methods(gst_rtsp::RTSPAuthMethod::Digest);
            let token = gst_rtsp_server::RTSPToken::builder()
                .field("media.factory.role", "viewer")
                .build();
            auth.add_digest(&credentials.user, &credentials.password, &token);
            server.set_auth(Some(&auth));
        }
        let mut states = BTreeMap::new();
        for (index, camera) in cameras.iter().enumerate() {
            let state = Arc::new(CameraState {
                camera: camera.clone(),
                source: u16::try_from(index + 1).unwrap_or(u16::MAX),
                stopped: AtomicBool::new(false),
                stalled: AtomicBool::new(false),
                corrupt_per_mille: AtomicU32::new(0),
                frames: [Arc::default(), Arc::default()],
                clients: Mutex::new(Vec::new()),
                valves: Mutex::new(Vec::new()),
                payloaders: Mutex::new(Vec::new()),
            });
            for kind in StreamKind::ALL {
                let factory = media_factory(&state, kind);
                if credentials.is_some() {
                    factory.add_role_from_structure(
                        &gst::Structure::builder("viewer")
                            .field("media.factory.access", true)
                            .field("media.factory.construct", true)
                            .build(),
                    );
                }
                mounts.add_factory(&format!("/{}/{}", camera.id, kind.as_str()), factory);
            }
            states.insert(camera.id.clone(), state);
        }
        let by_id = states.clone();
        server.connect_client_connected(move |_server, client| {
            let cameras = by_id.clone();
            client.connect_pre_describe_request(move |client, ctx| {
                let Some(state) = camera_of(&cameras, ctx) else {
                    return gst_rtsp::RTSPStatusCode::Ok;
                };
                if state.stopped.load(Ordering::SeqCst) {
                    return gst_rtsp::RTSPStatusCode::ServiceUnavailable;
                }
                let mut clients = state.clients.lock();
                clients.retain(|c| c.upgrade().is_some());
                clients.push(client.downgrade());
                gst_rtsp::RTSPStatusCode::Ok
            });
            let cameras = by_id.clone();
            client.connect_play_request(move |_client, ctx| {
                if let Some(state) = camera_of(&cameras, ctx) {
                    state.request_key_frame();
                }
            });
        });

        let serving = rtsp_serve::serve(server, "sim-rtsp").map_err(SimError::Bind)?;
        Ok(Self {
            port: serving.port(),
            _serving: serving,
            cameras: states,
            host: host.to_owned(),
            auth: credentials.is_some(),
        })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of one stream (never with credentials in it).
    pub fn url(&self, camera: &str, kind: StreamKind) -> String {
        format!(
            "rtsp://{}:{}/{}/{}",
            self.host,
            self.port,
            camera,
            kind.as_str()
        )
    }

    /// Every camera and its streams.
    pub fn listing(&self) -> Vec<CameraListing> {
        self.cameras.values().map(|s| self.listing_of(s)).collect()
    }

    fn listing_of(&self, state: &CameraState) -> CameraListing {
        let camera = &state.camera;
        CameraListing {
            id: camera.id.clone(),
            name: camera.name.clone(),
            stamp_source: state.source,
            auth: self.auth,
            clients: {
                let mut clients = state.clients.lock();
                clients.retain(|c| c.upgrade().is_some());
                let mut open: Vec<gst_rtsp_server::RTSPClient> = Vec::new();
                for client in clients.iter().filter_map(|c| c.upgrade()) {
                    if !open.contains(&client) {
                        open.push(client);
                    }
                }
                open.len()
            },
            stopped: state.stopped.load(Ordering::SeqCst),
            stalled: state.stalled.load(Ordering::SeqCst),
            corrupt_per_mille: state.corrupt_per_mille.load(Ordering::SeqCst),
            streams: StreamKind::ALL
                .iter()
                .map(|&kind| {
                    let spec = spec_of(camera, kind);
                    StreamListing {
                        kind,
                        url: self.url(&camera.id, kind),
                        codec: spec.codec,
                        width: spec.width,
                        height: spec.height,
                        fps: spec.fps,
                    }
                })
                .collect(),
        }
    }

    /// Applies `fault` to camera `id`, returning the camera's new listing.
    pub fn apply(&self, id: &str, fault: Fault) -> Result<CameraListing, SimError> {
        let state = self
            .cameras
            .get(id)
            .ok_or_else(|| SimError::UnknownCamera(id.to_owned()))?;
        match fault {
            Fault::Stop => {
                state.stopped.store(true, Ordering::SeqCst);
                close_clients(state);
            }
            Fault::Start => state.stopped.store(false, Ordering::SeqCst),
            Fault::Stall => state.set_stalled(true),
            Fault::Resume => state.set_stalled(false),
            Fault::Cut => close_clients(state),
            Fault::Corrupt { per_mille } => {
                if per_mille > 1000 {
                    return Err(SimError::BadRequest(format!(
                        "corrupt rate {per_mille} is over 1000 per mille"
                    )));
                }
                state.corrupt_per_mille.store(per_mille, Ordering::SeqCst);
            }
        }
        tracing::info!(camera = id, ?fault, "fault applied");
        Ok(self.listing_of(state))
    }
}

/// The camera a request is for: the first segment of its path.
fn camera_of(
    cameras: &BTreeMap<String, Arc<CameraState>>,
    ctx: &gst_rtsp_server::RTSPContext,
) -> Option<Arc<CameraState>> {
    let uri = ctx.uri()?;
    let parts = uri.decode_path_components();
    let id = parts.iter().find(|p| !p.is_empty())?;
    cameras.get(id.as_str()).cloned()
}

fn close_clients(state: &CameraState) {
    let clients: Vec<_> = state
        .clients
        .lock()
        .drain(..)
        .filter_map(|c| c.upgrade())
        .collect();
    for client in clients {
        client.close();
    }
}

fn spec_of(camera: &Camera, kind: StreamKind) -> &StreamSpec {
    match kind {
        StreamKind::Main => &camera.main,
        StreamKind::Sub => &camera.sub,
    }
}

/// The elements one stream of a camera is made of (see [`launch_line`]): the moving picture,
/// its burned-in name and clock, the valve that stalls it, and the codec's encoder and
/// payloader. The `elements` crate's guard checks that the set-up and the packages bring them.
pub fn stream_elements(codec: Codec) -> [&'static str; 6] {
    let (encoder, payloader) = match codec {
        Codec::H264 => ("x264enc", "rtph264pay"),
        Codec::H265 => ("x265enc", "rtph265pay"),
        Codec::Mjpeg => ("jpegenc", "rtpjpegpay"),
    };
    [
        "videotestsrc",
        "textoverlay",
        "clockoverlay",
        "valve",
        encoder,
        payloader,
    ]
}

/// Fails early, naming each missing element and the package to install, rather than at the
/// first client.
fn check_elements(cameras: &[Camera]) -> Result<(), SimError> {
    let codecs = cameras
        .iter()
        .flat_map(|camera| StreamKind::ALL.map(|kind| spec_of(camera, kind).codec));
    elements::require(codecs.flat_map(stream_elements)).map_err(SimError::from)
}

/// Text safe inside a double-quoted launch-line string.
fn launch_text(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '"' | '\\' | '\n' | '\r'))
        .collect()
}

/// The launch line for one stream of one camera.
fn launch_line(camera: &Camera, source: u16, kind: StreamKind) -> String {
    let spec = spec_of(camera, kind);
    // A distinct moving picture: a ball on a background colour of the camera's own. Name and
    // clock are burned in at the bottom centre, out of the way of a viewer's own overlays
    // (top left, bottom corners) and of the stamp (top right).
    let hue = (u32::from(source) * 137) % 360;
    let background = 0xff00_0000 | hsv_to_rgb(hue as f64, 0.55, 0.45);
    let motion = ["wavy", "sweep", "hsweep"][usize::from(source) % 3];
    let font = (spec.height / 24).max(8);
    let encoder = match spec.codec {
        Codec::H264 => {
            let tune = if spec.b_frames == 0 {
                "tune=zerolatency "
            } else {
                ""
            };
            format!(
                "x264enc name=enc {tune}speed-preset=ultrafast threads=1 key-int-max={} \
                 bitrate={} bframes={} ! rtph264pay name=pay0 pt=96 config-interval=-1",
                spec.gop, spec.bitrate_kbps, spec.b_frames
            )
        }
        Codec::H265 => format!(
            "x265enc name=enc tune=zerolatency speed-preset=ultrafast key-int-max={} bitrate={} \
             option-string=\"bframes={}:pools=1:frame-threads=1\" ! rtph265pay name=pay0 pt=96 \
             config-interval=-1",
            spec.gop, spec.bitrate_kbps, spec.b_frames
        ),
        Codec::Mjpeg => "jpegenc name=enc quality=75 ! rtpjpegpay name=pay0 pt=26".to_owned(),
    };
    format!(
        "( videotestsrc is-live=true pattern=ball motion={motion} background-color={background} \
         ! video/x-raw,format=I420,width={w},height={h},framerate={fps}/1 \
         ! textoverlay text=\"{name} · {stream}\" valignment=bottom halignment=center \
           ypad={name_pad} shaded-background=true font-desc=\"DejaVu Sans Bold {font}px\" \
         ! clockoverlay time-format=\"%Y-%m-%d %H:%M:%S\" valignment=bottom halignment=center \
           ypad={clock_pad} shaded-background=true font-desc=\"DejaVu Sans Mono {font}px\" \
         ! valve name=stall drop=false ! {encoder} )",
        w = spec.width,
        h = spec.height,
        fps = spec.fps,
        name = launch_text(&camera.name),
        stream = kind.as_str(),
        clock_pad = font / 2,
        name_pad = font / 2 + font * 2,
    )
}

fn hsv_to_rgb(h: f64, s: f64, v: f64) -> u32 {
    let c = v * s;
    let x = c * (1.0 - ((h / 60.0) % 2.0 - 1.0).abs());
    let (r, g, b) = match (h / 60.0) as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = v - c;
    let byte = |f: f64| ((f + m) * 255.0).round() as u32;
    (byte(r) << 16) | (byte(g) << 8) | byte(b)
}

fn media_factory(state: &Arc<CameraState>, kind: StreamKind) -> gst_rtsp_server::RTSPMediaFactory {
    let factory = gst_rtsp_server::RTSPMediaFactory::new();
    factory.set_launch(&launch_line(&state.camera, state.source, kind));
    // One encoder per stream however many clients watch, like a real camera.
    factory.set_shared(true);
    let state = state.clone();
    factory.connect_media_configure(move |_, media| {
        let element = media.element();
        // Sender reports map an RTP time to the wall-clock time it was captured (RFC 3550),
        // as cameras do, not to when the packet was sent: a recorder dates frames by them.
        if let Some(pipeline) = element.parent().and_then(|p| p.downcast::<gst::Bin>().ok()) {
            pipeline.connect_element_added(|_, added| {
                if added.factory().is_some_and(|f| f.name() == "rtpbin") {
                    added.set_property("rtcp-sync-send-time", false);
                }
            });
        }
        let Some(bin) = element.downcast_ref::<gst::Bin>() else {
            return;
        };
        let spec = spec_of(&state.camera, kind).clone();
        if let Some(pad) = bin.by_name("enc").and_then(|e| e.static_pad("sink")) {
            add_stamp_probe(&pad, &state, kind, &spec);
        }
        if let Some(valve) = bin.by_name("stall") {
            valve.set_property("drop", state.stalled.load(Ordering::SeqCst));
            let mut valves = state.valves.lock();
            valves.retain(|v| v.upgrade().is_some());
            valves.push(valve.downgrade());
        }
        if let Some(pay) = bin.by_name("pay0") {
            if let Some(pad) = pay.static_pad("sink") {
                add_corrupt_probe(&pad, &state);
            }
            let mut payloaders = state.payloaders.lock();
            payloaders.retain(|p| p.upgrade().is_some());
            payloaders.push(pay.downgrade());
        }
    });
    factory
}

/// Writes the pixel stamp into each raw frame before encoding.
fn add_stamp_probe(pad: &gst::Pad, state: &Arc<CameraState>, kind: StreamKind, spec: &StreamSpec) {
    let Ok(info) =
        gst_video::VideoInfo::builder(gst_video::VideoFormat::I420, spec.width, spec.height)
            .build()
    else {
        return;
    };
    let Some(geometry) = StampGeometry::new(spec.width, spec.height) else {
        return;
    };
    let state = state.clone();
    let counter = state.frames[kind as usize].clone();
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, probe| {
        let Some(buffer) = probe.buffer_mut() else {
            return gst::PadProbeReturn::Ok;
        };
        let frame = counter.fetch_add(1, Ordering::Relaxed);
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let stamp = Stamp::new(state.source, frame, now_ms);
        let buffer = buffer.make_mut();
        if let Ok(mut video) = gst_video::VideoFrameRef::from_buffer_ref_writable(buffer, &info) {
            let stride = video.plane_stride()[0] as usize;
            if let Ok(luma) = video.plane_data_mut(0) {
                geometry.write_luma(luma, stride, &stamp);
            }
            // Neutral chroma under the stamp, so its cells are pure grey levels.
            let area = geometry.area();
            for plane in 1..3 {
                let stride = video.plane_stride()[plane] as usize;
                if let Ok(chroma) = video.plane_data_mut(plane as u32) {
                    for y in area.y0 / 2..area.y1.div_ceil(2) {
                        let row = y as usize * stride;
                        if let Some(cells) =
                            chroma.get_mut(row + area.x0 as usize / 2..row + area.x1 as usize / 2)
                        {
                            cells.fill(128);
                        }
                    }
                }
            }
        }
        gst::PadProbeReturn::Ok
    });
}

/// Flips bytes in the second half of some encoded frames, as a bad network link would.
fn add_corrupt_probe(pad: &gst::Pad, state: &Arc<CameraState>) {
    let state = state.clone();
    let seed = AtomicU64::new(0x9e37_79b9_7f4a_7c15 ^ u64::from(state.source));
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, probe| {
        let per_mille = state.corrupt_per_mille.load(Ordering::Relaxed);
        if per_mille == 0 {
            return gst::PadProbeReturn::Ok;
        }
        // xorshift64: cheap, and reproducible per camera.
        let next = || {
            let mut x = seed.load(Ordering::Relaxed);
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            seed.store(x, Ordering::Relaxed);
            x
        };
        if next() % 1000 >= u64::from(per_mille) {
            return gst::PadProbeReturn::Ok;
        }
        let Some(buffer) = probe.buffer_mut() else {
            return gst::PadProbeReturn::Ok;
        };
        let buffer = buffer.make_mut();
        if let Ok(mut map) = buffer.map_writable() {
            let len = map.len();
            if len > 64 {
                for _ in 0..16 {
                    let at = len / 2 + (next() as usize % (len / 2));
                    map[at] ^= 0x5a;
                }
            }
        }
        gst::PadProbeReturn::Ok
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The element names of a launch line: the first word of each link of the chain, less
    /// caps filters.
    fn elements_of(line: &str) -> Vec<&str> {
        line.split(['!', '(', ')'])
            .filter_map(|link| link.split_whitespace().next())
            .filter(|first| !first.contains('/'))
            .collect()
    }

    #[test]
    fn the_declared_elements_are_exactly_those_the_launch_line_creates() {
        let mut camera = site::Site::with_cameras(1).cameras.remove(0);
        for codec in Codec::ALL {
            camera.sub.codec = codec;
            let line = launch_line(&camera, 1, StreamKind::Sub);
            let mut created = elements_of(&line);
            created.sort_unstable();
            let mut declared = stream_elements(codec).to_vec();
            declared.sort_unstable();
            assert_eq!(created, declared, "{codec}: {line}");
        }
    }
}
