//! `watchfloor-wall snapshot` as a user runs it, against the simulator.

use sim::StreamKind;
use stamp::StampGeometry;
use std::process::Command;

#[test]
fn snapshot_writes_a_png_of_every_camera_in_its_tile() {
    let _streaming = crate::STREAMING.lock();
    let sim = crate::start_sim(4);
    let out = std::env::temp_dir().join(format!("wall-snapshot-{}.png", std::process::id()));
    let urls: Vec<String> = ["cam01", "cam02", "cam03", "cam04"]
        .iter()
        .map(|c| sim.cameras().url(c, StreamKind::Sub))
        .collect();
    let output = Command::new(env!("CARGO_BIN_EXE_watchfloor-wall"))
        .args(["snapshot", "--layout", "2x2", "--size", "1280x720", "--out"])
        .arg(&out)
        .args(&urls)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("wrote"), "{stderr}");

    let image = crate::read_png(&out);
    assert_eq!((image.width, image.height), (1280, 720));
    let layout = wall::WallLayout::preset(wall::Preset::Grid(2));
    for (index, rect) in layout.pixel_rects(1280, 720, 2) {
        assert!(
            StampGeometry::new(rect.w, rect.h).is_some(),
            "tile {index} holds a stamp"
        );
        let stamp = image.stamp_in(rect).unwrap_or_else(|| {
            let kept = std::env::temp_dir().join("wall-snapshot-unreadable.png");
            let _ = std::fs::copy(&out, &kept);
            panic!(
                "tile {index} has no readable stamp; the snapshot is at {}",
                kept.display()
            )
        });
        assert_eq!(usize::from(stamp.source), index + 1);
    }
    std::fs::remove_file(&out).expect("clean");
}

#[test]
fn bad_arguments_are_refused_with_a_reason() {
    let run = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_watchfloor-wall"))
            .args(args)
            .output()
            .expect("runs");
        assert!(!output.status.success());
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let out = std::env::temp_dir().join("never.png");
    let out = out.to_str().expect("path");
    assert!(
        run(&[
            "snapshot",
            "--layout",
            "7x7",
            "--out",
            out,
            "rtsp://127.0.0.1:1/x"
        ])
        .contains("unknown layout")
    );
    assert!(
        run(&[
            "snapshot",
            "--size",
            "big",
            "--out",
            out,
            "rtsp://127.0.0.1:1/x"
        ])
        .contains("WIDTHxHEIGHT")
    );
    let five: Vec<&str> = std::iter::repeat_n("rtsp://127.0.0.1:1/x", 5).collect();
    let mut args = vec!["snapshot", "--layout", "2x2", "--out", out];
    args.extend(five);
    assert!(run(&args).contains("5 streams for a layout of 4 tiles"));
}

#[test]
fn snapshot_takes_its_cameras_from_a_simulator_listing() {
    use std::io::{Read, Write};
    let _streaming = crate::STREAMING.lock();
    let sim = crate::start_sim(4);
    // The simulator's control API, reduced to the one request the wall makes.
    let listing = serde_json::to_string(&sim.listing()).expect("listing JSON");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut request = [0u8; 1024];
            let n = stream.read(&mut request).unwrap_or(0);
            let ok = String::from_utf8_lossy(&request[..n]).starts_with("GET /api/v1/site ");
            let (status, body) = if ok {
                ("200 OK", listing.as_str())
            } else {
                ("404 Not Found", "{}")
            };
            let _ = write!(
                stream,
                "HTTP/1.0 {status}\r\nContent-Type: application/json\r\n\r\n{body}"
            );
        }
    });
    let out = std::env::temp_dir().join(format!("wall-sim-listing-{}.png", std::process::id()));
    let output = Command::new(env!("CARGO_BIN_EXE_watchfloor-wall"))
        .args(["snapshot", "--layout", "2x2", "--size", "1280x720", "--out"])
        .arg(&out)
        .args(["--sim", &format!("http://{address}")])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    for name in ["Camera 1", "Camera 2", "Camera 3", "Camera 4"] {
        assert!(stderr.contains(name), "{name} is on the wall: {stderr}");
    }
    assert!(
        stderr.matches(" live ").count() >= 4,
        "every camera is live: {stderr}"
    );
    std::fs::remove_file(&out).expect("clean");

    let refused = Command::new(env!("CARGO_BIN_EXE_watchfloor-wall"))
        .args(["snapshot", "--out"])
        .arg(&out)
        .args(["--sim", "127.0.0.1:1"])
        .output()
        .expect("runs");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("http://HOST:PORT"));
}
