//! `watchfloor-wall show` in a real window on a real X server (Xvfb), rendered on the real
//! adapter, checked from a screenshot of the screen.

use sim::StreamKind;
use stamp::StampGeometry;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn show_opens_a_window_that_shows_every_camera_in_its_tile() {
    let _streaming = crate::STREAMING.lock();
    let sim = crate::start_sim(4);
    let xvfb = testkit::Xvfb::start("1280x800x24").expect("Xvfb");
    let display = xvfb.display.clone();
    let urls: Vec<String> = ["cam01", "cam02", "cam03", "cam04"]
        .iter()
        .map(|c| sim.cameras().url(c, StreamKind::Sub))
        .collect();
    let mut show = Killed(
        Command::new(env!("CARGO_BIN_EXE_watchfloor-wall"))
            .args(["show", "--layout", "2x2", "--seconds", "20"])
            .args(&urls)
            .env("DISPLAY", &display)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("watchfloor-wall show"),
    );
    let shot = std::env::temp_dir().join(format!("wall-show-{}.png", std::process::id()));
    // Screenshots until every tile reads back its own camera (the streams take a moment).
    let start = Instant::now();
    let mut read = [false; 4];
    while !read.iter().all(|r| *r) {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "tiles read so far: {read:?}; last screenshot at {}",
            shot.display()
        );
        assert!(
            show.0.try_wait().expect("status").is_none(),
            "the wall window closed early"
        );
        std::thread::sleep(Duration::from_millis(500));
        let status = Command::new("import")
            .args(["-display", &display, "-window", "root"])
            .arg(format!("png24:{}", shot.display()))
            .status()
            .expect("import (imagemagick)");
        assert!(status.success());
        let image = crate::read_png(&shot);
        if image.width < 1280 || image.height < 720 {
            continue;
        }
        // The window opens at 1280x720 in the top-left corner of a screen without a window manager.
        for (index, rect) in
            wall::WallLayout::preset(wall::Preset::Grid(2)).pixel_rects(1280, 720, 2)
        {
            assert!(
                StampGeometry::new(rect.w, rect.h).is_some(),
                "tile {index} holds a stamp"
            );
            if let Some(stamp) = image.stamp_in(rect) {
                assert_eq!(
                    usize::from(stamp.source),
                    index + 1,
                    "tile {index} shows another camera"
                );
                read[index] = true;
            }
        }
    }
    let _ = std::fs::remove_file(&shot);
    // Closing: the window ends cleanly on its own deadline too, but the test need not wait.
    let _ = show.0.kill();
}
