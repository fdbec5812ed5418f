//! Retention keeps a quota by deleting the oldest video and never locked video; a disk that
//! fills up with locked video stops recording with an alarm, not a crash, and recording comes
//! back when the lock is released.

use crate::support::*;
use recorder::Recorder;
use recorder::config::StreamKind;
use recorder::index::Lock;
use recorder::recording::{State, StreamEvent};
use std::process::Command;
use std::time::Duration;

#[test]
fn a_tiny_quota_deletes_the_oldest_video_first_and_never_locked_video() {
    let sim = site(1);
    let config = config(
        &sim,
        "quota",
        "[retention]\nquota = \"1MiB\"\nmin_free = \"0\"\ninterval = \"500ms\"",
        "main",
    );
    let recorder = record_until(&config, StreamKind::Main, 2);
    let first = segments(&config, "cam01", StreamKind::Main)[0].clone();
    recorder
        .index()
        .add_lock(&Lock {
            id: "lock-1".into(),
            camera: "cam01".into(),
            start_us: first.start_us,
            end_us: first.start_us + 1,
            reason: "incident 7".into(),
            created_by: "alice".into(),
            created_us: 0,
        })
        .expect("lock");
    // About 2.5 Mbit/s: 1 MiB is three or four segments; record well past it.
    let mut deleted = false;
    assert!(
        wait_for(Duration::from_secs(40), || {
            let all = segments(&config, "cam01", StreamKind::Main);
            deleted |= all.len() >= 2 && all[1].start_us > first.end_us + 4_000_000;
            deleted && all.len() >= 3
        }),
        "retention deletes: {:?}",
        segments(&config, "cam01", StreamKind::Main)
    );
    drop(recorder);
    // Stopping finished a last segment after retention's last pass: one more pass.
    let index = recorder::Index::open(&config.index_path()).expect("index");
    recorder::retention::Retention::new(&config)
        .run(&index, recorder::recording::now_us())
        .expect("retention");
    let all = segments(&config, "cam01", StreamKind::Main);
    assert_eq!(all[0], first, "the locked segment stays");
    let total: u64 = all.iter().map(|s| s.bytes).sum();
    assert!(total <= 1 << 20, "within the quota: {total} bytes");
    // What is left is the newest: one unbroken stretch up to the end.
    for pair in all[1..].windows(2) {
        assert!(
            pair[1].start_us - pair[0].end_us < 100_000,
            "oldest first: {all:?}"
        );
    }
    for segment in &all {
        assert!(
            config.video_dir().join(&segment.file).exists(),
            "{segment:?}"
        );
    }
}

/// A size-limited file system (tmpfs) mounted on `dir` until dropped.
struct Mounted(std::path::PathBuf);

impl Mounted {
    fn tmpfs(dir: &std::path::Path, size: &str) -> Self {
        std::fs::create_dir_all(dir).expect("mount point");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .expect("mount runs");
        assert!(
            status.success(),
            "mounting a small tmpfs needs root (CI runs as root): {status:?}"
        );
        Self(dir.to_path_buf())
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_disk_full_of_locked_video_stops_recording_with_an_alarm_and_no_crash() {
    let sim = site(1);
    // Retention wants 1 MiB free: it tries, and finds only locked video.
    let mut config = config(
        &sim,
        "full",
        "[retention]\nmin_free = \"1MiB\"\ninterval = \"500ms\"",
        "main",
    );
    // The video goes on a 4 MiB disk of its own: about twelve seconds of the main stream.
    let disk = config.data_dir.join("disk");
    let _mounted = Mounted::tmpfs(&disk, "4m");
    config.video_dir = Some(disk.clone());
    let recorder = Recorder::start(config.clone()).expect("recorder starts");
    recorder
        .index()
        .add_lock(&Lock {
            id: "everything".into(),
            camera: "cam01".into(),
            start_us: 0,
            end_us: i64::MAX,
            reason: "legal hold".into(),
            created_by: "alice".into(),
            created_us: 0,
        })
        .expect("lock");
    let full = || {
        recorder
            .status()
            .iter()
            .any(|s| matches!(s.state, State::DiskFull { .. }))
    };
    assert!(
        wait_for(Duration::from_secs(60), full),
        "{:?}",
        recorder.status()
    );
    let events = recorder.events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, StreamEvent::DiskFull { .. })),
        "{events:?}"
    );
    let kept = segments(&config, "cam01", StreamKind::Main);
    assert!(!kept.is_empty(), "what fitted is kept");
    for segment in &kept {
        let bytes = std::fs::metadata(config.video_dir().join(&segment.file))
            .expect("file")
            .len();
        assert_eq!(bytes, segment.bytes);
    }
    assert!(
        recorder.starved(),
        "retention says only locked video is left"
    );
    assert_eq!(
        segments(&config, "cam01", StreamKind::Main),
        kept,
        "nothing locked was deleted"
    );
    // Released: the recorder's own retention frees space and recording comes back by itself.
    assert!(recorder.index().remove_lock("everything").expect("release"));
    assert!(
        wait_for(Duration::from_secs(30), || recorder
            .status()
            .iter()
            .all(|s| s.state == State::Recording)),
        "{:?}",
        recorder.status()
    );
    drop(recorder);
}
