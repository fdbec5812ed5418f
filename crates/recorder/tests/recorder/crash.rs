//! SIGKILL while recording sixteen cameras: at most the segments being written are lost, the
//! index names only complete files, and recording resumes by itself at the next start. No
//! camera password reaches the log or the command line.

use crate::support::*;
use recorder::config::StreamKind;
use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn serve(config_path: &std::path::Path, log: &std::path::Path) -> Child {
    let log = std::fs::File::create(log).expect("log file");
    Command::new(env!("CARGO_BIN_EXE_watchfloor-recorder"))
        .args(["serve", "--config", config_path.to_str().expect("path")])
        .env("RUST_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("recorder runs")
}

/// Files under the video folder, relative to it.
fn files_on_disk(video: &std::path::Path) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut pending = vec![video.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(relative) = path.strip_prefix(video) {
                found.insert(relative.to_string_lossy().into_owned());
            }
        }
    }
    found
}

fn indexed(config: &recorder::Config) -> Vec<recorder::index::Segment> {
    let index = recorder::Index::open(&config.index_path()).expect("index");
    let mut all = Vec::new();
    for camera in &config.cameras {
        all.extend(
            index
                .segments(&camera.id, StreamKind::Sub, i64::MIN, i64::MAX)
                .expect("segments"),
        );
    }
    all
}

#[test]
fn sigkill_while_recording_16_cameras_loses_at_most_the_open_segments_and_recording_resumes() {
    let sim = site(16);
    let config = config(&sim, "crash", "", "sub");
    let config_path = config.data_dir.join("recorder.toml");
    let log = config.data_dir.join("recorder.log");
    let mut child = serve(&config_path, &log);
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", child.id())).unwrap_or_default();
    let every_stream_has = |n: usize| {
        let segments = indexed(&config);
        config
            .cameras
            .iter()
            .all(|c| segments.iter().filter(|s| s.camera == c.id).count() >= n)
    };
    assert!(
        wait_for(Duration::from_secs(60), || every_stream_has(2)),
        "all 16 streams recording: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    // Mid-segment: segments are 2 s long.
    std::thread::sleep(Duration::from_millis(900));
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let killed_at = recorder::recording::now_us();

    // Right after the kill: every indexed file is on disk and whole; the files the index does
    // not name are at most two per stream: the segment being written, and, for a stream caught
    // at a boundary (sixteen streams cut where their key frames fall), the one just finished
    // whose sync and index row were under way.
    let video = config.video_dir();
    let segments = indexed(&config);
    let on_disk = files_on_disk(&video);
    let named: BTreeSet<String> = segments.iter().map(|s| s.file.clone()).collect();
    assert!(named.is_subset(&on_disk), "the index names missing files");
    for segment in &segments {
        let bytes = std::fs::metadata(video.join(&segment.file))
            .expect("file")
            .len();
        assert_eq!(bytes, segment.bytes, "{} is whole", segment.file);
    }
    let unnamed = on_disk.difference(&named).count();
    assert!(unnamed <= 32, "{unnamed} unindexed files for 16 streams");
    // An indexed segment plays.
    let last = segments.iter().max_by_key(|s| s.end_us).expect("a segment");
    assert!(
        !decode_file(&video.join(&last.file)).is_empty(),
        "{} plays",
        last.file
    );

    // Restart: the unfinished files go, and every stream records again by itself.
    let mut child = serve(&config_path, &log.with_extension("2.log"));
    assert!(
        wait_for(Duration::from_secs(60), || {
            let segments = indexed(&config);
            config.cameras.iter().all(|c| {
                segments
                    .iter()
                    .any(|s| s.camera == c.id && s.start_us > killed_at)
            })
        }),
        "every stream records again: {}",
        std::fs::read_to_string(log.with_extension("2.log")).unwrap_or_default()
    );
    // A clean stop (SIGTERM) finishes the open segments: disk and index agree exactly.
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let exited = child.wait().expect("exits");
    assert!(exited.success(), "{exited:?}");
    let named: BTreeSet<String> = indexed(&config).iter().map(|s| s.file.clone()).collect();
    assert_eq!(files_on_disk(&video), named);

    let second = std::fs::read_to_string(log.with_extension("2.log")).expect("log");
    assert!(second.contains("unfinished segment"), "{second}");
    for text in [std::fs::read_to_string(&log).expect("log"), second] {
        assert!(!text.contains(PASSWORD), "a password in the log");
        assert!(!text.contains("panicked"), "{text}");
    }
    assert!(!String::from_utf8_lossy(&cmdline).contains(PASSWORD));
}
