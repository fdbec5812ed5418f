//! Retention: what is deleted, oldest first, when video is older than its camera's (or the
//! recorder's) `max_age`, when a camera or the recorder passes its quota, or when the disk has
//! less than `min_free` left. Video under an evidence lock is never deleted; when only locked
//! video is left and space is still short, retention says so ([`Pass::starved`]) and the
//! recorder raises the alarm instead of deleting it.
//!
//! Each segment's row leaves the index before its file leaves the disk, so the index never
//! names a missing file; a crash in between leaves a file that start-up deletes.

use crate::config::{Config, Limits};
use crate::index::{Index, IndexError, Segment};
use std::path::{Path, PathBuf};

/// What one pass deleted, and whether it had to stop short.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pass {
    pub deleted: usize,
    pub freed_bytes: u64,
    /// A limit is still passed and everything left is locked.
    pub starved: bool,
}

/// Retention over one recorder's index and video folder.
#[derive(Debug, Clone)]
pub struct Retention {
    video_dir: PathBuf,
    limits: Limits,
    cameras: Vec<(String, Limits)>,
    min_free_bytes: u64,
    /// Cameras recorded around events, and how long their video away from events is kept.
    around_events: Vec<String>,
    unmarked: std::time::Duration,
    /// Until when the recorder knows the site's events (Unix µs of its last successful sync
    /// with the hub, less the longest pre-roll; 0 before one): unmarked video after it may yet
    /// be marked, so it is never deleted.
    known_until_us: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

/// Free bytes for an unprivileged writer on the file system holding `path`.
pub fn free_bytes(path: &Path) -> Option<u64> {
    #[cfg(unix)]
    {
        let stat = rustix::fs::statvfs(path).ok()?;
        Some(stat.f_bavail.saturating_mul(stat.f_frsize))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Segments fetched per query.
const BATCH: usize = 64;

impl Retention {
    pub fn new(config: &Config) -> Self {
        Self {
            video_dir: config.video_dir(),
            limits: config.limits,
            cameras: config
                .cameras
                .iter()
                .map(|c| (c.id.clone(), c.limits))
                .collect(),
            min_free_bytes: config.min_free_bytes,
            around_events: config
                .cameras
                .iter()
                .filter(|c| c.events.is_some())
                .map(|c| c.id.clone())
                .collect(),
            unmarked: config.unmarked,
            known_until_us: std::sync::Arc::default(),
        }
    }

    /// Where the sync tells retention until when the site's events are known.
    pub fn known_until(&self) -> std::sync::Arc<std::sync::atomic::AtomicI64> {
        self.known_until_us.clone()
    }

    /// One pass over every limit, at `now_us`.
    pub fn run(&self, index: &Index, now_us: i64) -> Result<Pass, IndexError> {
        let mut pass = Pass::default();
        // Cameras recorded around events: what no event is near, once older than `unmarked`
        // and only up to where the events are known (nothing while the hub is not heard).
        let cutoff = now_us
            .saturating_sub(i64::try_from(self.unmarked.as_micros()).unwrap_or(i64::MAX))
            .min(
                self.known_until_us
                    .load(std::sync::atomic::Ordering::SeqCst),
            );
        for camera in &self.around_events {
            loop {
                let away = index.oldest_unmarked(camera, cutoff, BATCH)?;
                if away.is_empty() {
                    break;
                }
                let mut gone = 0;
                for segment in &away {
                    if index.remove_unmarked_segment(segment.id)? {
                        self.unlink(segment, &mut pass);
                        gone += 1;
                    }
                }
                if gone == 0 {
                    break;
                }
            }
            // Marks whose video is all gone (by age or quota) mark nothing any more.
            index.prune_marks(camera)?;
        }
        // Age, per camera (its own limit, else the recorder's).
        for (camera, limits) in &self.cameras {
            let Some(max_age) = limits.max_age.or(self.limits.max_age) else {
                continue;
            };
            let age = i64::try_from(max_age.as_micros()).unwrap_or(i64::MAX);
            let cutoff = now_us.saturating_sub(age);
            loop {
                let expired: Vec<Segment> = index
                    .oldest_unlocked(Some(camera), BATCH)?
                    .into_iter()
                    .filter(|s| s.end_us <= cutoff)
                    .collect();
                if expired.is_empty() {
                    break;
                }
                for segment in &expired {
                    self.delete(index, segment, &mut pass)?;
                }
            }
        }
        // Quota, per camera, then over all cameras.
        let usage = index.usage()?;
        for (camera, limits) in &self.cameras {
            let Some(quota) = limits.quota_bytes else {
                continue;
            };
            let used = usage
                .iter()
                .find(|(c, _)| c == camera)
                .map_or(0, |(_, b)| *b);
            pass.starved |=
                self.free(index, Some(camera), used.saturating_sub(quota), &mut pass)?;
        }
        if let Some(quota) = self.limits.quota_bytes {
            let used: u64 = index.usage()?.iter().map(|(_, b)| b).sum();
            pass.starved |= self.free(index, None, used.saturating_sub(quota), &mut pass)?;
        }
        // Free space on the disk: the shortfall is measured once, so that space taken by
        // others (or not given back) never makes retention delete everything.
        if let Some(free) = free_bytes(&self.video_dir) {
            let short = self.min_free_bytes.saturating_sub(free);
            pass.starved |= self.free(index, None, short, &mut pass)?;
        }
        Ok(pass)
    }

    /// Deletes the oldest unlocked segments (of `camera`, or of all) until `bytes` are freed;
    /// whether it ran out of unlocked video first.
    fn free(
        &self,
        index: &Index,
        camera: Option<&str>,
        mut bytes: u64,
        pass: &mut Pass,
    ) -> Result<bool, IndexError> {
        while bytes > 0 {
            let oldest = index.oldest_unlocked(camera, BATCH)?;
            if oldest.is_empty() {
                return Ok(true);
            }
            for segment in &oldest {
                if self.delete(index, segment, pass)? {
                    bytes = bytes.saturating_sub(segment.bytes.max(1));
                }
                if bytes == 0 {
                    break;
                }
            }
        }
        Ok(false)
    }

    /// Removes a segment's row (unless a lock now covers it), then its file; whether it went.
    fn delete(
        &self,
        index: &Index,
        segment: &Segment,
        pass: &mut Pass,
    ) -> Result<bool, IndexError> {
        if !index.remove_unlocked_segment(segment.id)? {
            return Ok(false);
        }
        self.unlink(segment, pass);
        Ok(true)
    }

    /// Deletes the file of a segment whose row is gone.
    fn unlink(&self, segment: &Segment, pass: &mut Pass) {
        let path = self.video_dir.join(&segment.file);
        if let Err(e) = std::fs::remove_file(&path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!("cannot delete {}: {e}", path.display());
        }
        pass.deleted += 1;
        pass.freed_bytes += segment.bytes;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::StreamKind;
    use crate::index::{Clock, Lock, NewSegment};

    fn setup(name: &str, extra: &str) -> (PathBuf, Config, Index) {
        let dir = std::env::temp_dir().join(format!("rec-ret-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let text = format!(
            "id = \"r\"\ndata_dir = \"{}\"\n[retention]\nmin_free = \"0\"\n{extra}\n\
             [[cameras]]\nid = \"a\"\nmain = \"rtsp://h/a\"\n[[cameras]]\nid = \"b\"\nmain = \"rtsp://h/b\"\n",
            dir.display()
        );
        let config = Config::parse(&text).expect("config");
        let index = Index::open(&config.index_path()).expect("index");
        (dir, config, index)
    }

    fn add(config: &Config, index: &Index, camera: &str, start_s: i64) {
        let file = format!("{camera}/main/{start_s}.mp4");
        let path = config.video_dir().join(&file);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        std::fs::write(&path, [0u8; 100]).expect("file");
        index
            .add_segment(&NewSegment {
                camera: camera.into(),
                kind: StreamKind::Main,
                file,
                start_us: start_s * 1_000_000,
                end_us: (start_s + 10) * 1_000_000,
                bytes: 100,
                clock: Clock::Camera,
                codec: "h264".into(),
                run: 1,
                seq: start_s,
            })
            .expect("add");
    }

    fn left(index: &Index, camera: &str) -> Vec<i64> {
        index
            .segments(camera, StreamKind::Main, i64::MIN, i64::MAX)
            .expect("segments")
            .iter()
            .map(|s| s.start_us / 1_000_000)
            .collect()
    }

    #[test]
    fn a_quota_deletes_the_oldest_first_and_never_locked_video() {
        let (dir, mut config, index) = setup("quota", "");
        // Tiny, for the sake of the example: the file itself asks for at least 1 MiB.
        config.limits.quota_bytes = Some(500);
        for start in [0, 10, 20, 30] {
            add(&config, &index, "a", start);
            add(&config, &index, "b", start + 5);
        }
        index
            .add_lock(&Lock {
                id: "l".into(),
                camera: "a".into(),
                start_us: 0,
                end_us: 1,
                reason: "evidence".into(),
                created_by: "alice".into(),
                created_us: 0,
            })
            .expect("lock");
        let pass = Retention::new(&config)
            .run(&index, 100_000_000)
            .expect("run");
        assert_eq!(pass.deleted, 3);
        assert!(!pass.starved);
        // a@0 is locked; then b@5, a@10, b@15 are the oldest.
        assert_eq!(left(&index, "a"), [0, 20, 30]);
        assert_eq!(left(&index, "b"), [25, 35]);
        assert!(!config.video_dir().join("a/main/10.mp4").exists());
        assert!(config.video_dir().join("a/main/0.mp4").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn age_limits_are_per_camera_and_a_quota_of_locked_video_starves() {
        let (dir, mut config, index) = setup("age", "max_age = \"60s\"");
        config.cameras[1].limits.max_age = Some(std::time::Duration::from_secs(1000));
        config.cameras[0].limits.quota_bytes = Some(100);
        for start in [0, 50, 100] {
            add(&config, &index, "a", start);
            add(&config, &index, "b", start);
        }
        for (n, start) in [50, 100].into_iter().enumerate() {
            index
                .add_lock(&Lock {
                    id: format!("l{n}"),
                    camera: "a".into(),
                    start_us: start * 1_000_000,
                    end_us: start * 1_000_000 + 1,
                    reason: "evidence".into(),
                    created_by: "alice".into(),
                    created_us: 0,
                })
                .expect("lock");
        }
        let pass = Retention::new(&config)
            .run(&index, 120_000_000)
            .expect("run");
        // a@0 is past 60 s; a@50 and a@100 are locked and over a's quota: starved.
        assert_eq!(left(&index, "a"), [50, 100]);
        assert_eq!(left(&index, "b"), [0, 50, 100]);
        assert!(pass.starved);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn video_around_events_goes_only_where_no_event_marks_it_and_only_once_events_are_known() {
        let (dir, mut config, index) = setup("events", "unmarked = \"60s\"");
        config.cameras[0].events = Some(crate::config::EventWindow {
            pre_roll: std::time::Duration::from_secs(5),
            post_roll: std::time::Duration::from_secs(5),
        });
        for start in (0..100).step_by(10) {
            add(&config, &index, "a", start);
            add(&config, &index, "b", start);
        }
        // An event at 42 s: 37 s to 47 s kept.
        index
            .add_mark("e1:a", "a", 37_000_000, 47_000_000)
            .expect("mark");
        let retention = Retention::new(&config);
        let now = 200 * 1_000_000;
        // The hub not heard yet: nothing goes.
        let pass = retention.run(&index, now).expect("run");
        assert_eq!(pass.deleted, 0);
        // Events known until 85 s: what ends before 85 s (and before 140 s: now less 60 s)
        // goes, but for the marked 30-40 and 40-50; camera b records continuously.
        retention
            .known_until()
            .store(85 * 1_000_000, std::sync::atomic::Ordering::SeqCst);
        retention.run(&index, now).expect("run");
        let left: Vec<i64> = index
            .segments("a", StreamKind::Main, i64::MIN, i64::MAX)
            .expect("segments")
            .iter()
            .map(|s| s.start_us / 1_000_000)
            .collect();
        assert_eq!(left, [30, 40, 80, 90]);
        assert_eq!(
            index
                .segments("b", StreamKind::Main, i64::MIN, i64::MAX)
                .expect("segments")
                .len(),
            10
        );
        assert_eq!(
            index.marks("a").expect("marks").len(),
            1,
            "its video is still there"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
