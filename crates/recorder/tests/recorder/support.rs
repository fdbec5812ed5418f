//! A simulated site behind passwords, a recorder configured for it, and a decoder that reads
//! the pixel stamps of what the recorder plays back.

use gst::prelude::*;
use gst_video::prelude::*;
use recorder::config::{Config, StreamKind};
use recorder::credentials::{CredentialStore, Credentials};
use recorder::playback::Replay;
use sim::{Sim, SimConfig};
use site::Site;
use std::time::{Duration, Instant};

pub const USER: &str = "recorder";
pub const PASSWORD: &str = "pw-9f3c-never-logged";

/// The simulator with `cameras` cameras, each requiring [`USER`]/[`PASSWORD`].
pub fn site(cameras: usize) -> Sim {
    Sim::start(
        SimConfig {
            credentials: Some(sim::Credentials {
                user: USER.into(),
                password: PASSWORD.into(),
            }),
            ..SimConfig::quiet(Site::with_cameras(cameras))
        },
        Vec::new(),
    )
    .expect("simulator starts")
}

/// A recorder configuration for every camera of `sim`, in a scratch folder, with the
/// cameras' credentials stored. `extra` is added to the top level (before the cameras).
pub fn config(sim: &Sim, name: &str, extra: &str, record: &str) -> Config {
    let dir = testkit::scratch(&format!("recorder-{name}"));
    let mut text = format!(
        "id = \"rec-test\"\ndata_dir = \"{}\"\nsegment = \"2s\"\nstall_timeout = \"2s\"\n{extra}\n",
        dir.display()
    );
    for camera in sim.cameras().listing() {
        text.push_str(&format!(
            "[[cameras]]\nid = \"{id}\"\nmain = \"{main}\"\nsub = \"{sub}\"\nrecord = \"{record}\"\n",
            id = camera.id,
            main = sim.cameras().url(&camera.id, sim::StreamKind::Main),
            sub = sim.cameras().url(&camera.id, sim::StreamKind::Sub),
        ));
    }
    let path = dir.join("recorder.toml");
    std::fs::write(&path, text).expect("config file");
    let config = Config::load(&path).expect("config");
    store_credentials(&config);
    config
}

/// Stores [`USER`]/[`PASSWORD`] for every camera of `config`, in its data folder.
pub fn store_credentials(config: &Config) {
    let store = CredentialStore::open(&config.data_dir).expect("store");
    for camera in &config.cameras {
        store
            .set(
                &camera.id,
                Some(Credentials {
                    user: USER.into(),
                    password: PASSWORD.into(),
                }),
            )
            .expect("credentials");
    }
}

/// A recorder configuration that serves its cameras over RTSP on a free port, trusting the
/// tickets `hub` signs.
pub fn restreaming(sim: &Sim, name: &str, hub: &keys::SigningKey, record: &str) -> Config {
    config(
        sim,
        name,
        &format!(
            "[restream]\nlisten = \"127.0.0.1:0\"\nhub_key = \"{}\"",
            hub.public_hex()
        ),
        record,
    )
}

/// Starts a recorder for `config` and waits until camera `cam01`'s `kind` has `segments`
/// segments.
pub fn record_until(config: &Config, kind: StreamKind, segments: usize) -> recorder::Recorder {
    let recorder = recorder::Recorder::start(config.clone()).expect("recorder starts");
    assert!(
        wait_for(Duration::from_secs(30), || self::segments(
            config, "cam01", kind
        )
        .len()
            >= segments),
        "{segments} segments within 30 s: {:?}",
        recorder.status()
    );
    recorder
}

/// Polls `check` every 50 ms until it holds or `limit` passes.
pub fn wait_for(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// A decoded frame's stamp.
#[derive(Debug, Clone, Copy)]
pub struct Shown {
    pub stamp: Option<stamp::Stamp>,
}

/// Plays `replay` from its instant, decoding, and returns the first `count` frames shown.
pub fn play(replay: &Replay, count: usize) -> Vec<Shown> {
    let pipeline = gst::Pipeline::new();
    let source = replay.source().expect("source");
    let parse = gst::ElementFactory::make("h264parse")
        .build()
        .expect("h264parse");
    let decode = gst::ElementFactory::make("avdec_h264")
        .build()
        .expect("avdec_h264");
    let sink = gst_app::AppSink::builder()
        .caps(
            &gst::Caps::builder("video/x-raw")
                .field("format", "I420")
                .build(),
        )
        .sync(false)
        .max_buffers(4)
        .build();
    pipeline
        .add_many([&source, &parse, &decode, sink.upcast_ref()])
        .expect("add");
    gst::Element::link_many([&parse, &decode, sink.upcast_ref()]).expect("link");
    let parse_sink = parse.static_pad("sink").expect("pad");
    source.connect_pad_added(move |_, pad| {
        if !parse_sink.is_linked() {
            let _ = pad.link(&parse_sink);
        }
    });
    pipeline.set_state(gst::State::Paused).expect("pause");
    let bus = pipeline.bus().expect("bus");
    let prerolled = bus
        .timed_pop_filtered(
            gst::ClockTime::from_seconds(20),
            &[gst::MessageType::AsyncDone, gst::MessageType::Error],
        )
        .expect("preroll");
    assert!(
        matches!(prerolled.view(), gst::MessageView::AsyncDone(_)),
        "{prerolled:?}"
    );
    replay.seek(&pipeline).expect("seek");
    let sought = bus
        .timed_pop_filtered(
            gst::ClockTime::from_seconds(20),
            &[gst::MessageType::AsyncDone, gst::MessageType::Error],
        )
        .expect("seek done");
    assert!(
        matches!(sought.view(), gst::MessageView::AsyncDone(_)),
        "{sought:?}"
    );
    pipeline.set_state(gst::State::Playing).expect("play");
    let mut shown = Vec::new();
    while shown.len() < count {
        let Some(sample) = sink.try_pull_sample(gst::ClockTime::from_seconds(10)) else {
            break;
        };
        let stamp = stamp_of(&sample);
        shown.push(Shown { stamp });
    }
    let _ = pipeline.set_state(gst::State::Null);
    shown
}

/// The recorded segments of a stream, all of them.
pub fn segments(config: &Config, camera: &str, kind: StreamKind) -> Vec<recorder::index::Segment> {
    recorder::Index::open(&config.index_path())
        .expect("index")
        .segments(camera, kind, i64::MIN, i64::MAX)
        .expect("segments")
}

/// A pipeline from a launch line that ends in an `appsink` named `sink`, and that sink.
pub fn launch_to_sink(line: &str) -> (gst::Pipeline, gst_app::AppSink) {
    let pipeline = gst::parse::launch(line)
        .expect("pipeline")
        .downcast::<gst::Pipeline>()
        .expect("a pipeline");
    let sink = pipeline
        .by_name("sink")
        .expect("sink")
        .downcast::<gst_app::AppSink>()
        .expect("appsink");
    (pipeline, sink)
}

/// The stamps of every frame of an MP4 file, in order.
pub fn decode_file(path: &std::path::Path) -> Vec<stamp::Stamp> {
    let (pipeline, sink) = launch_to_sink(&format!(
        "filesrc location=\"{}\" ! qtdemux ! h264parse ! avdec_h264 ! video/x-raw,format=I420 \
         ! appsink name=sink sync=false",
        path.display()
    ));
    pipeline.set_state(gst::State::Playing).expect("play");
    let mut stamps = Vec::new();
    while let Some(sample) = sink.try_pull_sample(gst::ClockTime::from_seconds(10)) {
        stamps.extend(stamp_of(&sample));
    }
    let _ = pipeline.set_state(gst::State::Null);
    stamps
}

/// The pixel stamp of a decoded I420 sample.
pub fn stamp_of(sample: &gst::Sample) -> Option<stamp::Stamp> {
    let buffer = sample.buffer().expect("buffer");
    let info = gst_video::VideoInfo::from_caps(sample.caps().expect("caps")).expect("info");
    let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(buffer, &info).expect("map");
    let geometry = stamp::StampGeometry::new(info.width(), info.height()).expect("geometry");
    geometry.read_luma(
        frame.plane_data(0).expect("luma"),
        frame.plane_stride()[0] as usize,
    )
}

/// A stream ticket as the hub would sign it, for user `u-guard`.
pub fn ticket_for(
    hub: &keys::SigningKey,
    recorder: &str,
    camera: &str,
    stream: contract::StreamName,
    mode: contract::StreamMode,
    expires_in_ms: i64,
) -> String {
    let now = recorder::recording::now_us() / 1000;
    let claims = contract::TicketClaims {
        id: format!("t-{camera}-{expires_in_ms}"),
        user: "u-guard".into(),
        site: "sim".into(),
        recorder: recorder.into(),
        camera: camera.into(),
        stream,
        mode,
        issued_ms: now,
        expires_ms: now + expires_in_ms,
    };
    keys::sign_token(hub, &serde_json::to_vec(&claims).expect("claims"))
}
