//! Golden images on the real adapter: colours in every matrix and range, tiles where the layouts
//! put them, overlays where they belong, and downscaling without shimmer. Tolerance: 2 levels
//! per channel against the reference conversion.

use wall::{
    Badge, ColourSpace, Fit, FrameUpdate, Gpu, Image, Matrix, OffscreenTarget, OwnedI420, Plane,
    PlaneLayout, Preset, Range, Scene, TileOverlay, TileScene, WallLayout, WallRenderer, YuvFrame,
    Zoom,
};

const TOLERANCE: u8 = 2;

fn gpu() -> Gpu {
    Gpu::headless().expect("a GPU adapter (lavapipe: apt install mesa-vulkan-drivers)")
}

fn close(a: [u8; 3], b: [u8; 3]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= TOLERANCE)
}

fn render(gpu: &Gpu, width: u32, height: u32, tiles: Vec<TileScene<'_>>) -> Image {
    let mut renderer = WallRenderer::new(gpu, wall::renderer::TARGET_FORMAT).expect("renderer");
    let target = OffscreenTarget::new(gpu, width, height);
    renderer
        .render(&Scene { tiles, full: true }, target.view(), width, height)
        .expect("render");
    target.read(gpu).expect("readback")
}

fn tile<'a>(slot: usize, rect: wall::PixelRect, frame: YuvFrame<'a>) -> TileScene<'a> {
    TileScene {
        slot,
        rect,
        frame: FrameUpdate::New(frame),
        fit: Fit::Contain,
        zoom: Zoom::default(),
        overlay: TileOverlay::default(),
        changed: true,
    }
}

#[test]
fn known_colours_render_exactly_in_bt601_and_bt709_limited_and_full_range() {
    let gpu = gpu();
    println!("adapter: {} ({:?})", gpu.adapter.name, gpu.adapter.backend);
    let colours = [[200, 30, 40], [20, 180, 60], [30, 60, 220], [128, 128, 128]];
    for matrix in [Matrix::Bt601, Matrix::Bt709] {
        for range in [Range::Limited, Range::Full] {
            let space = ColourSpace { matrix, range };
            let frames: Vec<OwnedI420> = colours
                .iter()
                .map(|c| OwnedI420::solid(64, 36, space, *c))
                .collect();
            let layout = WallLayout::preset(Preset::Grid(2));
            let rects = layout.pixel_rects(320, 180, 0);
            let tiles = rects
                .iter()
                .zip(&frames)
                .map(|((slot, rect), frame)| tile(*slot, *rect, frame.as_frame()))
                .collect();
            let image = render(&gpu, 320, 180, tiles);
            for ((_, rect), colour) in rects.iter().zip(colours) {
                let [y, u, v] = space.from_rgb(colour);
                let expected = space.to_rgb(y, u, v);
                let (cx, cy) = rect.center();
                let got = image.pixel(cx, cy);
                assert!(
                    close(got, expected),
                    "{space:?} {colour:?}: got {got:?}, expected {expected:?}"
                );
            }
        }
    }
}

/// `frame` filling a 160x90 target.
fn render_whole(gpu: &Gpu, frame: YuvFrame<'_>) -> Image {
    let rect = wall::PixelRect {
        x: 0,
        y: 0,
        w: 160,
        h: 90,
    };
    render(gpu, 160, 90, vec![tile(0, rect, frame)])
}

#[test]
fn nv12_frames_render_like_i420() {
    let gpu = gpu();
    let space = ColourSpace {
        matrix: Matrix::Bt709,
        range: Range::Limited,
    };
    let [y, u, v] = space.from_rgb([220, 120, 30]);
    let luma = vec![y; 64 * 36];
    let chroma: Vec<u8> = std::iter::repeat_n([u, v], 32 * 18).flatten().collect();
    let frame = YuvFrame {
        layout: PlaneLayout::Nv12,
        depth: wall::SampleDepth::Eight,
        width: 64,
        height: 36,
        colour: space,
        planes: [
            Some(Plane {
                data: &luma,
                stride: 64,
            }),
            Some(Plane {
                data: &chroma,
                stride: 64,
            }),
            None,
        ],
    };
    let image = render_whole(&gpu, frame);
    let expected = space.to_rgb(y, u, v);
    assert!(
        close(image.pixel(80, 45), expected),
        "{:?} vs {expected:?}",
        image.pixel(80, 45)
    );
}

/// 4:2:2 (Y42B, what MJPEG cameras often send) and 4:4:4 (Y444) frames with a different colour
/// in each quarter: chroma read with the wrong height (as 4:2:0) or the wrong width (4:4:4 as
/// 4:2:2) would show another quarter's colour.
#[test]
fn four_two_two_and_four_four_four_frames_show_each_quarter_in_its_colour() {
    let gpu = gpu();
    let space = ColourSpace {
        matrix: Matrix::Bt709,
        range: Range::Limited,
    };
    // By (bottom, right).
    let colours = [[200, 40, 40], [40, 180, 60], [40, 60, 200], [210, 200, 50]];
    let yuv = colours.map(|c| space.from_rgb(c));
    let quarter = |bottom: bool, right: bool| yuv[usize::from(bottom) * 2 + usize::from(right)];
    let (width, height) = (64usize, 36usize);
    let plane = |component: usize, plane_width: usize| -> Vec<u8> {
        (0..height)
            .flat_map(|row| {
                (0..plane_width)
                    .map(move |col| quarter(row >= height / 2, col >= plane_width / 2)[component])
            })
            .collect()
    };
    let luma = plane(0, width);
    for (layout, chroma_width) in [(PlaneLayout::I422, width / 2), (PlaneLayout::I444, width)] {
        let (u, v) = (plane(1, chroma_width), plane(2, chroma_width));
        let frame = YuvFrame {
            layout,
            depth: wall::SampleDepth::Eight,
            width: width as u32,
            height: height as u32,
            colour: space,
            planes: [
                Some(Plane {
                    data: &luma,
                    stride: width,
                }),
                Some(Plane {
                    data: &u,
                    stride: chroma_width,
                }),
                Some(Plane {
                    data: &v,
                    stride: chroma_width,
                }),
            ],
        };
        assert_eq!(frame.validate(), Ok(()), "{layout:?}");
        let image = render_whole(&gpu, frame);
        for (x, y, bottom, right) in [
            (40, 20, false, false),
            (120, 20, false, true),
            (40, 70, true, false),
            (120, 70, true, true),
        ] {
            let [yy, uu, vv] = quarter(bottom, right);
            let expected = space.to_rgb(yy, uu, vv);
            let got = image.pixel(x, y);
            assert!(
                close(got, expected),
                "{layout:?} at ({x}, {y}): {got:?}, expected {expected:?}"
            );
        }
    }
}

#[test]
fn every_preset_puts_each_tile_at_its_pixels() {
    let gpu = gpu();
    let space = ColourSpace::default();
    for preset in Preset::ALL {
        let layout = WallLayout::preset(preset);
        let rects = layout.pixel_rects(640, 360, 0);
        // A distinct colour per tile.
        let colours: Vec<[u8; 3]> = (0..rects.len())
            .map(|i| {
                [
                    (40 + i * 37 % 200) as u8,
                    (30 + i * 71 % 200) as u8,
                    (50 + i * 53 % 180) as u8,
                ]
            })
            .collect();
        let frames: Vec<OwnedI420> = colours
            .iter()
            .map(|c| OwnedI420::solid(64, 36, space, *c))
            .collect();
        let tiles = rects
            .iter()
            .zip(&frames)
            .map(|((slot, rect), frame)| tile(*slot, *rect, frame.as_frame()))
            .collect();
        let image = render(&gpu, 640, 360, tiles);
        for ((index, rect), colour) in rects.iter().zip(&colours) {
            let [y, u, v] = space.from_rgb(*colour);
            let expected = space.to_rgb(y, u, v);
            for (x, y) in [
                rect.center(),
                (rect.x + 2, rect.y + 2),
                (rect.x + rect.w - 3, rect.y + rect.h - 3),
            ] {
                let got = image.pixel(x, y);
                assert!(
                    close(got, expected),
                    "{}: tile {index} at ({x},{y}) is {got:?}, not {expected:?}",
                    preset.name()
                );
            }
        }
    }
    // The big tiles, spelled out.
    let one_plus_five = WallLayout::preset(Preset::OnePlus5).pixel_rects(640, 360, 0);
    assert_eq!(
        one_plus_five[0].1,
        wall::PixelRect {
            x: 0,
            y: 0,
            w: 427,
            h: 240
        }
    );
    let one_plus_twelve = WallLayout::preset(Preset::OnePlus12).pixel_rects(640, 360, 0);
    assert_eq!(
        one_plus_twelve[0].1,
        wall::PixelRect {
            x: 160,
            y: 90,
            w: 320,
            h: 180
        }
    );
}

#[test]
fn a_four_by_three_frame_gets_bars_when_contained_and_fills_when_covering() {
    let gpu = gpu();
    let frame = OwnedI420::solid(64, 48, ColourSpace::default(), [250, 250, 250]);
    let rect = wall::PixelRect {
        x: 0,
        y: 0,
        w: 320,
        h: 180,
    };
    let contained = render(&gpu, 320, 180, vec![tile(0, rect, frame.as_frame())]);
    assert!(contained.pixel(10, 90)[0] < 30, "bar on the left");
    assert!(contained.pixel(160, 90)[0] > 240, "picture in the middle");
    let mut covering = tile(0, rect, frame.as_frame());
    covering.fit = Fit::Cover;
    let covered = render(&gpu, 320, 180, vec![covering]);
    assert!(covered.pixel(10, 90)[0] > 240, "no bar when covering");
}

#[test]
fn digital_zoom_magnifies_the_chosen_quarter() {
    let gpu = gpu();
    // Left half dark, right half bright.
    let mut frame = OwnedI420::solid(64, 36, ColourSpace::default(), [20, 20, 20]);
    for row in frame.y.chunks_mut(64) {
        row[32..].fill(220);
    }
    let rect = wall::PixelRect {
        x: 0,
        y: 0,
        w: 320,
        h: 180,
    };
    let mut zoomed = tile(0, rect, frame.as_frame());
    zoomed.zoom = Zoom {
        center: (0.75, 0.5),
        factor: 2.0,
    };
    let image = render(&gpu, 320, 180, vec![zoomed]);
    assert!(
        image.pixel(20, 90)[0] > 200 && image.pixel(300, 90)[0] > 200,
        "only the bright half shows"
    );
}

#[test]
fn downscaling_a_fine_pattern_does_not_shimmer() {
    let gpu = gpu();
    // A one-pixel checkerboard, 640x360, shown on a 240x135 tile (an 8x8 wall at 1920x1080).
    let mut frame = OwnedI420::solid(
        640,
        360,
        ColourSpace {
            matrix: Matrix::Bt709,
            range: Range::Full,
        },
        [0, 0, 0],
    );
    for (i, y) in frame.y.iter_mut().enumerate() {
        let (x, row) = (i % 640, i / 640);
        *y = if (x + row) % 2 == 0 { 0 } else { 255 };
    }
    frame.u.fill(128);
    frame.v.fill(128);
    let rect = wall::PixelRect {
        x: 0,
        y: 0,
        w: 240,
        h: 135,
    };
    let image = render(&gpu, 240, 135, vec![tile(0, rect, frame.as_frame())]);
    let values: Vec<f64> = (10..125)
        .flat_map(|y| (10..230).map(move |x| (x, y)))
        .map(|(x, y)| f64::from(image.pixel(x, y)[0]))
        .collect();
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let deviation =
        (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64).sqrt();
    println!("checkerboard on a small tile: mean {mean:.1}, standard deviation {deviation:.1}");
    assert!((mean - 127.5).abs() < 12.0, "mean {mean}");
    assert!(deviation < 20.0, "shimmer: standard deviation {deviation}");
}

#[test]
fn overlays_appear_where_they_should() {
    let gpu = gpu();
    let frame = OwnedI420::solid(
        64,
        36,
        ColourSpace {
            matrix: Matrix::Bt709,
            range: Range::Full,
        },
        [110, 110, 110],
    );
    let rect = wall::PixelRect {
        x: 0,
        y: 0,
        w: 640,
        h: 360,
    };
    let plain = render(&gpu, 640, 360, vec![tile(0, rect, frame.as_frame())]);
    let mut marked = tile(0, rect, frame.as_frame());
    marked.overlay = TileOverlay {
        name: "Lobby entrance".into(),
        time: Some("12:34:56".into()),
        badge: Some(Badge::SignalLost {
            since: "12:30:00".into(),
        }),
        health: None,
        alarm: true,
        selected: false,
        replay: false,
    };
    let image = render(&gpu, 640, 360, vec![marked]);
    image
        .save_png(&std::env::temp_dir().join("wall-overlays.png"))
        .expect("png");
    let base = plain.pixel(320, 180);
    // Alarm border: red along the edges.
    let edge = image.pixel(320, 1);
    assert!(edge[0] > 200 && edge[1] < 60, "alarm border {edge:?}");
    // Name: a dark box with bright text at the top left, below the border.
    let name_box: Vec<[u8; 3]> = (10..40)
        .flat_map(|y| (8..150).map(move |x| (x, y)))
        .map(|(x, y)| image.pixel(x, y))
        .collect();
    assert!(
        name_box.iter().any(|p| p[0] > 200 && p[1] > 200),
        "name text is drawn"
    );
    assert!(
        name_box.iter().filter(|p| p[0] < base[0] - 30).count() > 500,
        "name sits on a dark box"
    );
    // Badge: red box at the bottom right with white text; the frame's middle is untouched.
    let badge: Vec<[u8; 3]> = (330..352)
        .flat_map(|y| (400..630).map(move |x| (x, y)))
        .map(|(x, y)| image.pixel(x, y))
        .collect();
    assert!(
        badge.iter().filter(|p| p[0] > 150 && p[1] < 80).count() > 500,
        "red badge"
    );
    assert!(
        badge.iter().any(|p| p[0] > 220 && p[1] > 220 && p[2] > 220),
        "badge text"
    );
    assert_eq!(image.pixel(320, 180), base);
    // Time at the bottom left.
    let time: Vec<[u8; 3]> = (330..352)
        .flat_map(|y| (8..100).map(move |x| (x, y)))
        .map(|(x, y)| image.pixel(x, y))
        .collect();
    assert!(time.iter().any(|p| p[0] > 220 && p[1] > 220), "time text");
    // Without overlays those places show the frame.
    assert!(close(plain.pixel(20, 20), base) && close(plain.pixel(600, 340), base));

    // Recorded video: a purple border and a purple "REPLAY" badge, never live's green.
    let mut replayed = tile(0, rect, frame.as_frame());
    replayed.overlay = TileOverlay {
        name: "Lobby entrance".into(),
        time: Some("12:34:56".into()),
        badge: Some(Badge::Replay {
            behind: "00:30".into(),
        }),
        replay: true,
        ..TileOverlay::default()
    };
    let image = render(&gpu, 640, 360, vec![replayed]);
    let purple = |p: [u8; 3]| p[2] > 150 && p[0] > 100 && p[1] < 90;
    let edge = image.pixel(320, 1);
    assert!(purple(edge), "replay border {edge:?}");
    let badge: Vec<[u8; 3]> = (330..352)
        .flat_map(|y| (400..630).map(move |x| (x, y)))
        .map(|(x, y)| image.pixel(x, y))
        .collect();
    assert!(
        badge.iter().filter(|p| purple(**p)).count() > 500,
        "purple badge"
    );
    assert_eq!(image.pixel(320, 180), base);
}

#[test]
fn only_changed_tiles_are_redrawn() {
    let gpu = gpu();
    let space = ColourSpace {
        matrix: Matrix::Bt709,
        range: Range::Full,
    };
    let mut renderer = WallRenderer::new(&gpu, wall::renderer::TARGET_FORMAT).expect("renderer");
    let target = OffscreenTarget::new(&gpu, 320, 180);
    let rects = WallLayout::preset(Preset::Grid(2)).pixel_rects(320, 180, 0);
    let grey = OwnedI420::solid(64, 36, space, [100, 100, 100]);
    let white = OwnedI420::solid(64, 36, space, [250, 250, 250]);
    let first = rects
        .iter()
        .map(|(slot, rect)| tile(*slot, *rect, grey.as_frame()))
        .collect();
    renderer
        .render(
            &Scene {
                tiles: first,
                full: true,
            },
            target.view(),
            320,
            180,
        )
        .expect("render");
    // Tile 1 changes; tile 0 gets a frame too but is not marked changed, so it must not move.
    let mut second: Vec<TileScene<'_>> = rects
        .iter()
        .map(|(slot, rect)| tile(*slot, *rect, white.as_frame()))
        .collect();
    for t in second.iter_mut() {
        t.changed = t.slot == 1;
        if t.slot > 1 {
            t.frame = FrameUpdate::Keep;
        }
    }
    renderer
        .render(
            &Scene {
                tiles: second,
                full: false,
            },
            target.view(),
            320,
            180,
        )
        .expect("render");
    let image = target.read(&gpu).expect("readback");
    let (c0, c1, c2) = (
        rects[0].1.center(),
        rects[1].1.center(),
        rects[2].1.center(),
    );
    assert!(
        image.pixel(c1.0, c1.1)[0] > 240,
        "the changed tile shows its new frame"
    );
    assert!(
        image.pixel(c0.0, c0.1)[0] < 110,
        "an unchanged tile keeps what it showed"
    );
    assert!(image.pixel(c2.0, c2.1)[0] < 110);
}

#[test]
fn ten_bit_frames_show_as_their_eight_bit_equivalent() {
    let gpu = gpu();
    let space = ColourSpace {
        matrix: Matrix::Bt709,
        range: Range::Limited,
    };
    let [y, u, v] = space.from_rgb([60, 160, 210]);
    let expected = space.to_rgb(y, u, v);
    let rect = wall::PixelRect {
        x: 0,
        y: 0,
        w: 160,
        h: 90,
    };
    // I420_10LE: ten bits in the low bits of each little-endian u16.
    let ten = |v: u8| (u16::from(v) << 2).to_le_bytes();
    let luma: Vec<u8> = std::iter::repeat_n(ten(y), 64 * 36).flatten().collect();
    let cb: Vec<u8> = std::iter::repeat_n(ten(u), 32 * 18).flatten().collect();
    let cr: Vec<u8> = std::iter::repeat_n(ten(v), 32 * 18).flatten().collect();
    let i420_10 = YuvFrame {
        layout: PlaneLayout::I420,
        depth: wall::SampleDepth::TenLow,
        width: 64,
        height: 36,
        colour: space,
        planes: [
            Some(Plane {
                data: &luma,
                stride: 128,
            }),
            Some(Plane {
                data: &cb,
                stride: 64,
            }),
            Some(Plane {
                data: &cr,
                stride: 64,
            }),
        ],
    };
    let image = render(&gpu, 160, 90, vec![tile(0, rect, i420_10)]);
    assert!(
        close(image.pixel(80, 45), expected),
        "I420_10LE {:?} vs {expected:?}",
        image.pixel(80, 45)
    );
    // P010: ten bits in the high bits, chroma interleaved.
    let high = |v: u8| (u16::from(v) << 8).to_le_bytes();
    let luma: Vec<u8> = std::iter::repeat_n(high(y), 64 * 36).flatten().collect();
    let chroma: Vec<u8> = std::iter::repeat_n([high(u), high(v)], 32 * 18)
        .flatten()
        .flatten()
        .collect();
    let p010 = YuvFrame {
        layout: PlaneLayout::Nv12,
        depth: wall::SampleDepth::TenHigh,
        width: 64,
        height: 36,
        colour: space,
        planes: [
            Some(Plane {
                data: &luma,
                stride: 128,
            }),
            Some(Plane {
                data: &chroma,
                stride: 128,
            }),
            None,
        ],
    };
    let image = render(&gpu, 160, 90, vec![tile(0, rect, p010)]);
    assert!(
        close(image.pixel(80, 45), expected),
        "P010 {:?} vs {expected:?}",
        image.pixel(80, 45)
    );
}
