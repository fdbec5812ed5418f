//! The wall tells the media layer how big each tile is: a small tile decodes the sub-stream, a
//! maximised one the main stream, and tiles hidden behind a maximised one decode nothing.

use media::{AdaptivePolicy, AdaptiveStream, EngineSettings, MediaEngine, StreamSettings};
use sim::StreamKind;
use std::time::{Duration, Instant};
use wall::{Gpu, LiveTile, LiveWall, OffscreenTarget, Preset, WallLayout, WallRenderer};

#[test]
fn tile_size_picks_the_stream_and_hidden_tiles_stop_decoding() {
    let _streaming = crate::STREAMING.lock();
    let sim = crate::start_sim(4);
    let engine = MediaEngine::new(EngineSettings::default()).expect("gstreamer");
    let gpu = Gpu::headless().expect("adapter");
    let mut renderer = WallRenderer::new(&gpu, wall::renderer::TARGET_FORMAT).expect("renderer");
    let (width, height) = (1280, 720);
    let target = OffscreenTarget::new(&gpu, width, height);
    let mut live = LiveWall::new(WallLayout::preset(Preset::Grid(2)));
    for (index, id) in ["cam01", "cam02", "cam03", "cam04"].iter().enumerate() {
        let camera = AdaptiveStream::new(
            &engine,
            StreamSettings::new(sim.cameras().url(id, StreamKind::Main)),
            Some(StreamSettings::new(sim.cameras().url(id, StreamKind::Sub))),
            AdaptivePolicy::for_sub_height(360),
        );
        live.set_tile(index, LiveTile::new(*id, camera));
    }
    let quality =
        |live: &LiveWall, index: usize| live.tiles[index].as_ref().map(|t| t.camera.quality());
    let decoding = |live: &LiveWall, index: usize| {
        live.tiles[index]
            .as_ref()
            .is_some_and(|t| t.camera.is_decoding())
    };
    // Draw until `check` holds.
    let mut settle = |live: &mut LiveWall, check: &dyn Fn(&LiveWall) -> bool| {
        let start = Instant::now();
        while !check(live) {
            assert!(
                start.elapsed() < Duration::from_secs(12),
                "the wall did not settle"
            );
            live.render(&mut renderer, target.view(), width, height)
                .expect("render");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    // 2x2 at 1280x720: tiles about 360 pixels tall show the sub-stream.
    settle(&mut live, &|l| {
        (0..4).all(|i| l.tiles[i].as_ref().is_some_and(|t| t.has_shown()))
    });
    assert!((0..4).all(|i| quality(&live, i) == Some(media::Quality::Sub) && decoding(&live, i)));
    let widths = |live: &LiveWall| -> Option<u32> {
        live.tiles[0].as_ref()?.camera.current()?.health().width
    };
    assert_eq!(widths(&live), Some(640));

    // Maximised to 720 pixels: the main stream, and the hidden tiles stop decoding.
    live.layout.toggle_maximized(0);
    settle(&mut live, &|l| widths(l) == Some(1280));
    assert_eq!(quality(&live, 0), Some(media::Quality::Main));
    assert!(
        (1..4).all(|i| !decoding(&live, i)),
        "hidden tiles decode nothing"
    );

    // Restored: back to the sub-stream, and the others decode again.
    live.layout.toggle_maximized(0);
    settle(&mut live, &|l| {
        widths(l) == Some(640) && (1..4).all(|i| decoding(l, i))
    });
}

/// Live to replay and back, or any change of what a tile plays: the tile keeps its picture
/// (and its name) until the next stream has a frame; a stream that does not come yet never
/// blanks it; a smaller layout lets go of a switch under way.
#[test]
fn a_switched_tile_keeps_its_picture_until_the_next_stream_has_a_frame() {
    let _streaming = crate::STREAMING.lock();
    let sim = crate::start_sim(2);
    let engine = MediaEngine::new(EngineSettings::default()).expect("gstreamer");
    let gpu = Gpu::headless().expect("adapter");
    let mut renderer = WallRenderer::new(&gpu, wall::renderer::TARGET_FORMAT).expect("renderer");
    let (width, height) = (640, 360);
    let target = OffscreenTarget::new(&gpu, width, height);
    let tile = |name: &str, url: String| {
        let camera = AdaptiveStream::new(
            &engine,
            StreamSettings::new(url),
            None,
            AdaptivePolicy::for_sub_height(360),
        );
        LiveTile::new(name, camera)
    };
    let rect = wall::PixelRect {
        x: 0,
        y: 0,
        w: width,
        h: height,
    };
    let source_of = || {
        let image = target.read(&gpu).expect("readback");
        image.stamp_in(rect).map(|s| s.source)
    };
    let stamp_of = |id: &str| {
        sim.listing()
            .cameras
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.stamp_source)
            .expect("camera")
    };
    let mut live = LiveWall::new(WallLayout::preset(Preset::Grid(1)));
    live.set_tile(
        0,
        tile("cam01", sim.cameras().url("cam01", StreamKind::Sub)),
    );
    let start = Instant::now();
    while !live.tiles[0].as_ref().is_some_and(|t| t.has_shown()) {
        assert!(
            start.elapsed() < Duration::from_secs(12),
            "cam01 never shown"
        );
        live.render(&mut renderer, target.view(), width, height)
            .expect("render");
        std::thread::sleep(Duration::from_millis(30));
    }
    live.render(&mut renderer, target.view(), width, height)
        .expect("render");
    assert_eq!(source_of(), Some(stamp_of("cam01")));

    // A stream that does not come (nothing listens there): the picture stays, named as before.
    live.switch_tile(0, tile("nowhere", "rtsp://127.0.0.1:9/none".into()));
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(1500) {
        live.render(&mut renderer, target.view(), width, height)
            .expect("render");
        assert_eq!(source_of(), Some(stamp_of("cam01")), "cam01 stays");
        assert_eq!(
            live.tiles[0].as_ref().map(|t| t.name.as_str()),
            Some("cam01")
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // Another camera: every frame drawn on the way has a picture, then it is cam02's.
    live.switch_tile(
        0,
        tile("cam02", sim.cameras().url("cam02", StreamKind::Sub)),
    );
    let start = Instant::now();
    while live.tiles[0].as_ref().map(|t| t.name.as_str()) != Some("cam02") {
        assert!(
            start.elapsed() < Duration::from_secs(12),
            "cam02 never shown"
        );
        live.render(&mut renderer, target.view(), width, height)
            .expect("render");
        assert!(source_of().is_some(), "a picture all the way");
        std::thread::sleep(Duration::from_millis(20));
    }
    live.render(&mut renderer, target.view(), width, height)
        .expect("render");
    assert_eq!(source_of(), Some(stamp_of("cam02")));

    // A switch under way on a tile the next layout does not have is let go of.
    live.set_layout(WallLayout::preset(Preset::Grid(2)));
    live.switch_tile(
        3,
        tile("cam01", sim.cameras().url("cam01", StreamKind::Sub)),
    );
    live.switch_tile(0, tile("nowhere", "rtsp://127.0.0.1:9/none".into()));
    live.set_layout(WallLayout::preset(Preset::Grid(1)));
    live.render(&mut renderer, target.view(), width, height)
        .expect("render");
    assert_eq!(live.tiles.len(), 1);
}
