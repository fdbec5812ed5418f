//! The recorder's index: which segment files exist, which stream and time span each holds,
//! which ranges are locked as evidence, and when each stream was offline. SQLite, in the
//! recorder's data folder, one writer.
//!
//! The invariant the rest of the recorder keeps: **the index never names data that is not on
//! disk.** A segment's row is added only after its file is complete and synced
//! ([`crate::recording`]), and removed before its file is unlinked ([`crate::retention`]).
//! A crash between the two leaves at worst a file the index does not name, which the start-up
//! check ([`Index::reconcile`]) deletes.

use crate::config::StreamKind;
use parking_lot::Mutex;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Schema steps, one per version; a database at version N runs steps N+1.. at open.
const MIGRATIONS: &[&str] = &[
    // 1: streams, segments, evidence locks, outages.
    "CREATE TABLE streams (
         id INTEGER PRIMARY KEY,
         camera TEXT NOT NULL,
         kind TEXT NOT NULL,
         UNIQUE (camera, kind)
     );
     CREATE TABLE segments (
         id INTEGER PRIMARY KEY,
         stream INTEGER NOT NULL REFERENCES streams (id),
         file TEXT NOT NULL UNIQUE,
         start_us INTEGER NOT NULL,
         end_us INTEGER NOT NULL,
         bytes INTEGER NOT NULL,
         clock TEXT NOT NULL,
         codec TEXT NOT NULL,
         run INTEGER NOT NULL,
         seq INTEGER NOT NULL
     );
     CREATE INDEX segments_by_time ON segments (stream, start_us);
     CREATE INDEX segments_by_age ON segments (start_us);
     CREATE INDEX segments_by_run ON segments (run, seq);
     CREATE TABLE pending (
         file TEXT PRIMARY KEY
     );
     CREATE TABLE locks (
         id TEXT PRIMARY KEY,
         camera TEXT NOT NULL,
         start_us INTEGER NOT NULL,
         end_us INTEGER NOT NULL,
         reason TEXT NOT NULL,
         created_by TEXT NOT NULL,
         created_us INTEGER NOT NULL
     );
     CREATE TABLE outages (
         id INTEGER PRIMARY KEY,
         stream INTEGER NOT NULL REFERENCES streams (id),
         start_us INTEGER NOT NULL,
         end_us INTEGER,
         reason TEXT NOT NULL
     );",
    // 2: where a lock comes from: the hub (replaced at each sync) or this machine.
    "ALTER TABLE locks ADD COLUMN origin TEXT NOT NULL DEFAULT 'local';",
    // 3: the ranges around events that cameras recorded "around events" keep.
    "CREATE TABLE marks (
         id TEXT PRIMARY KEY,
         camera TEXT NOT NULL,
         start_us INTEGER NOT NULL,
         end_us INTEGER NOT NULL
     );
     CREATE INDEX marks_by_camera ON marks (camera, start_us);",
];

/// How long opening the index is tried again while another connection holds it.
const OPEN_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Whether SQLite said another connection holds the database.
fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Where a segment's times come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The camera's own clock, from RTCP sender reports (NTP time of its RTP timestamps).
    Camera,
    /// The recorder's wall clock when the first frame arrived: the camera gave no timing.
    Local,
}

impl Clock {
    pub fn as_str(self) -> &'static str {
        match self {
            Clock::Camera => "camera",
            Clock::Local => "local",
        }
    }

    fn parse(text: &str) -> Self {
        if text == "camera" {
            Clock::Camera
        } else {
            Clock::Local
        }
    }
}

/// A segment about to be indexed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSegment {
    pub camera: String,
    pub kind: StreamKind,
    /// The file, relative to the video folder.
    pub file: String,
    pub start_us: i64,
    pub end_us: i64,
    pub bytes: u64,
    pub clock: Clock,
    pub codec: String,
    /// The connection it was recorded in.
    pub run: i64,
    /// Its place in the run: segments whose `seq` follow each other in one run follow each other
    /// without a gap.
    pub seq: i64,
}

/// A segment in the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub id: i64,
    pub camera: String,
    pub kind: StreamKind,
    pub file: String,
    pub start_us: i64,
    pub end_us: i64,
    pub bytes: u64,
    pub clock: Clock,
    pub codec: String,
    pub run: i64,
    pub seq: i64,
}

/// An evidence lock: a camera's range kept until released, whatever retention says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    pub id: String,
    pub camera: String,
    pub start_us: i64,
    pub end_us: i64,
    pub reason: String,
    pub created_by: String,
    pub created_us: i64,
}

/// A time a stream was not recording, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outage {
    pub camera: String,
    pub kind: StreamKind,
    pub start_us: i64,
    pub end_us: Option<i64>,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("recorder index {path}: {source}")]
    Sqlite {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("recorder index {0} is from a newer recorder (schema {1}, this one knows {2})")]
    TooNew(String, i64, usize),
    #[error(
        "{missing} of the {named} segment files of `{stream}` the index names are missing from \
         {dir}: is the video disk mounted? Nothing was deleted; start again once it is"
    )]
    VideoMissing {
        stream: String,
        missing: usize,
        named: usize,
        dir: String,
    },
    #[error("cannot check {0}: {1}")]
    Disk(String, String),
}

/// What [`Index::reconcile`] found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// Files that were being written at a crash (named as pending, never indexed): deleted.
    pub orphan_files: Vec<PathBuf>,
    /// Rows whose file was gone (deleted by hand): removed, and worth a warning.
    pub missing_files: Vec<String>,
    /// Outages left open by a crash: closed at the last segment's end.
    pub closed_outages: usize,
}

/// The index, behind one connection.
#[derive(Debug)]
pub struct Index {
    path: String,
    conn: Mutex<Connection>,
}

type Result<T> = std::result::Result<T, IndexError>;

const SEGMENT_COLUMNS: &str = "s.id, st.camera, st.kind, s.file, s.start_us, s.end_us, s.bytes, \
                               s.clock, s.codec, s.run, s.seq";

fn segment_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<Segment> {
    let kind: String = row.get(2)?;
    let clock: String = row.get(7)?;
    Ok(Segment {
        id: row.get(0)?,
        camera: row.get(1)?,
        kind: StreamKind::parse(&kind).unwrap_or(StreamKind::Main),
        file: row.get(3)?,
        start_us: row.get(4)?,
        end_us: row.get(5)?,
        bytes: row.get::<_, i64>(6)?.max(0) as u64,
        clock: Clock::parse(&clock),
        codec: row.get(8)?,
        run: row.get(9)?,
        seq: row.get(10)?,
    })
}

/// Adds `lock` from `origin`, or changes the one with its id; how many rows changed (0 when it
/// was there as it is).
fn upsert_lock(conn: &Connection, lock: &Lock, origin: &str) -> rusqlite::Result<usize> {
    conn.execute(
        "INSERT INTO locks (id, camera, start_us, end_us, reason, created_by, created_us, origin)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (id) DO UPDATE SET camera = excluded.camera, start_us = excluded.start_us,
             end_us = excluded.end_us, reason = excluded.reason,
             created_by = excluded.created_by, created_us = excluded.created_us,
             origin = excluded.origin
         WHERE locks.camera != excluded.camera OR locks.start_us != excluded.start_us
            OR locks.end_us != excluded.end_us OR locks.reason != excluded.reason
            OR locks.origin != excluded.origin",
        params![
            lock.id,
            lock.camera,
            lock.start_us,
            lock.end_us,
            lock.reason,
            lock.created_by,
            lock.created_us,
            origin
        ],
    )
}

impl Index {
    /// Opens (or creates) the index at `path` and brings its schema up to date. Another
    /// connection opening a new index at the same moment (a command run beside the recorder)
    /// can make SQLite answer "locked" at once, without waiting (switching a new file to WAL):
    /// the open is tried again for a while.
    pub fn open(path: &Path) -> Result<Self> {
        let deadline = std::time::Instant::now() + OPEN_WAIT;
        loop {
            match Self::open_once(path) {
                Err(IndexError::Sqlite { source, .. })
                    if is_busy(&source) && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                opened => return opened,
            }
        }
    }

    fn open_once(path: &Path) -> Result<Self> {
        let name = path.display().to_string();
        let sqlite = |source| IndexError::Sqlite {
            path: name.clone(),
            source,
        };
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let mut conn = Connection::open(path).map_err(sqlite)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(sqlite)?;
        // WAL for readers beside the writer; FULL so that a committed row survives power loss
        // (a segment is written every few seconds per stream: the cost is small).
        conn.pragma_update(None, "journal_mode", "wal")
            .map_err(sqlite)?;
        conn.pragma_update(None, "synchronous", "full")
            .map_err(sqlite)?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(sqlite)?;
        let version = |conn: &Connection| -> rusqlite::Result<i64> {
            conn.pragma_query_value(None, "user_version", |r| r.get(0))
        };
        // Each step reads the version again inside its own write transaction: another
        // connection may be migrating the same file at once, and a version read before taking
        // the write lock would apply a step twice. An index already up to date takes no lock.
        while (version(&conn).map_err(sqlite)? as usize) < MIGRATIONS.len() {
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(sqlite)?;
            let at = version(&tx).map_err(sqlite)?;
            if let Some(sql) = MIGRATIONS.get(at as usize) {
                tx.execute_batch(sql).map_err(sqlite)?;
                tx.pragma_update(None, "user_version", at + 1)
                    .map_err(sqlite)?;
                tx.commit().map_err(sqlite)?;
            }
        }
        let at = version(&conn).map_err(sqlite)?;
        if at as usize > MIGRATIONS.len() {
            return Err(IndexError::TooNew(name, at, MIGRATIONS.len()));
        }
        Ok(Self {
            path: name,
            conn: Mutex::new(conn),
        })
    }

    fn error(&self, source: rusqlite::Error) -> IndexError {
        IndexError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn stream_id(conn: &Connection, camera: &str, kind: StreamKind) -> rusqlite::Result<i64> {
        conn.execute(
            "INSERT INTO streams (camera, kind) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![camera, kind.as_str()],
        )?;
        conn.query_row(
            "SELECT id FROM streams WHERE camera = ?1 AND kind = ?2",
            params![camera, kind.as_str()],
            |r| r.get(0),
        )
    }

    /// A run number no segment has used yet.
    pub fn next_run(&self) -> Result<i64> {
        let conn = self.conn.lock();
        conn.query_row("SELECT COALESCE(MAX(run), 0) + 1 FROM segments", [], |r| {
            r.get(0)
        })
        .map_err(|e| self.error(e))
    }

    /// Notes that `file` is about to be written: if the recorder dies before it is indexed,
    /// the next start deletes it. Only such files are ever deleted at start.
    pub fn begin_file(&self, file: &str) -> Result<()> {
        let conn = self.conn.lock();
        conn.execute(
            "INSERT INTO pending (file) VALUES (?1) ON CONFLICT DO NOTHING",
            params![file],
        )
        .map(|_| ())
        .map_err(|e| self.error(e))
    }

    /// Forgets a pending file that was deleted without being indexed.
    pub fn abandon_file(&self, file: &str) -> Result<()> {
        let conn = self.conn.lock();
        conn.execute("DELETE FROM pending WHERE file = ?1", params![file])
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    /// Adds a segment whose file is complete and synced (and is no longer pending).
    pub fn add_segment(&self, segment: &NewSegment) -> Result<i64> {
        let mut conn = self.conn.lock();
        let mut add = || -> rusqlite::Result<i64> {
            let tx = conn.transaction()?;
            let stream = Self::stream_id(&tx, &segment.camera, segment.kind)?;
            tx.execute(
                "INSERT INTO segments (stream, file, start_us, end_us, bytes, clock, codec, run, seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    stream,
                    segment.file,
                    segment.start_us,
                    segment.end_us,
                    segment.bytes as i64,
                    segment.clock.as_str(),
                    segment.codec,
                    segment.run,
                    segment.seq
                ],
            )?;
            let id = tx.last_insert_rowid();
            tx.execute("DELETE FROM pending WHERE file = ?1", params![segment.file])?;
            tx.commit()?;
            Ok(id)
        };
        add().map_err(|e| self.error(e))
    }

    /// The segments of one stream that overlap `[from_us, to_us)`, oldest first.
    pub fn segments(
        &self,
        camera: &str,
        kind: StreamKind,
        from_us: i64,
        to_us: i64,
    ) -> Result<Vec<Segment>> {
        let conn = self.conn.lock();
        let query = || -> rusqlite::Result<Vec<Segment>> {
            let mut statement = conn.prepare_cached(&format!(
                "SELECT {SEGMENT_COLUMNS} FROM segments s JOIN streams st ON st.id = s.stream
                 WHERE st.camera = ?1 AND st.kind = ?2 AND s.end_us > ?3 AND s.start_us < ?4
                 ORDER BY s.start_us, s.id"
            ))?;
            statement
                .query_map(params![camera, kind.as_str(), from_us, to_us], segment_of)?
                .collect()
        };
        query().map_err(|e| self.error(e))
    }

    /// The segment of one stream that holds `at_us` (the latest to start at or before it,
    /// when clock changes make two overlap), else the first one after it.
    pub fn segment_at(
        &self,
        camera: &str,
        kind: StreamKind,
        at_us: i64,
    ) -> Result<Option<Segment>> {
        let conn = self.conn.lock();
        let query = |sql: &str| -> rusqlite::Result<Option<Segment>> {
            conn.prepare_cached(sql)?
                .query_row(params![camera, kind.as_str(), at_us], segment_of)
                .optional()
        };
        let holding = format!(
            "SELECT {SEGMENT_COLUMNS} FROM segments s JOIN streams st ON st.id = s.stream
             WHERE st.camera = ?1 AND st.kind = ?2 AND s.start_us <= ?3 AND s.end_us > ?3
             ORDER BY s.start_us DESC, s.id DESC LIMIT 1"
        );
        let after = format!(
            "SELECT {SEGMENT_COLUMNS} FROM segments s JOIN streams st ON st.id = s.stream
             WHERE st.camera = ?1 AND st.kind = ?2 AND s.start_us > ?3
             ORDER BY s.start_us, s.id LIMIT 1"
        );
        let found = match query(&holding) {
            Ok(None) => query(&after),
            other => other,
        };
        found.map_err(|e| self.error(e))
    }

    /// The newest segment of one stream.
    pub fn newest_segment(&self, camera: &str, kind: StreamKind) -> Result<Option<Segment>> {
        let conn = self.conn.lock();
        let query = || -> rusqlite::Result<Option<Segment>> {
            conn.prepare_cached(&format!(
                "SELECT {SEGMENT_COLUMNS} FROM segments s JOIN streams st ON st.id = s.stream
                 WHERE st.camera = ?1 AND st.kind = ?2 ORDER BY s.start_us DESC, s.id DESC LIMIT 1"
            ))?
            .query_row(params![camera, kind.as_str()], segment_of)
            .optional()
        };
        query().map_err(|e| self.error(e))
    }

    /// The segment of the same stream that plays after `segment`: the next of its run, else the
    /// first to start after it.
    pub fn next_segment(&self, segment: &Segment) -> Result<Option<Segment>> {
        if let Some(next) = self.rest_of_run(segment, 1)?.pop() {
            return Ok(Some(next));
        }
        let conn = self.conn.lock();
        let query = || -> rusqlite::Result<Option<Segment>> {
            conn.prepare_cached(&format!(
                "SELECT {SEGMENT_COLUMNS} FROM segments s JOIN streams st ON st.id = s.stream
                 WHERE s.stream = (SELECT stream FROM segments WHERE id = ?1)
                   AND s.start_us >= ?2 AND s.id != ?1 AND NOT (s.run = ?3 AND s.seq <= ?4)
                 ORDER BY s.start_us, s.id LIMIT 1"
            ))?
            .query_row(
                params![segment.id, segment.end_us - 1, segment.run, segment.seq],
                segment_of,
            )
            .optional()
        };
        query().map_err(|e| self.error(e))
    }

    /// The segments recorded right after `segment` in the same run, in order, up to the first
    /// one missing (deleted by retention, or never indexed) and at most `limit`: what plays on
    /// without a gap.
    pub fn rest_of_run(&self, segment: &Segment, limit: usize) -> Result<Vec<Segment>> {
        let conn = self.conn.lock();
        let query = || -> rusqlite::Result<Vec<Segment>> {
            let mut statement = conn.prepare_cached(&format!(
                "SELECT {SEGMENT_COLUMNS} FROM segments s JOIN streams st ON st.id = s.stream
                 WHERE s.run = ?1 AND s.seq > ?2
                   AND s.stream = (SELECT stream FROM segments WHERE id = ?3)
                 ORDER BY s.seq LIMIT ?4"
            ))?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            statement
                .query_map(
                    params![segment.run, segment.seq, segment.id, limit],
                    segment_of,
                )?
                .collect()
        };
        let mut rest = query().map_err(|e| self.error(e))?;
        let unbroken = rest
            .iter()
            .zip(segment.seq + 1..)
            .take_while(|(s, expected)| s.seq == *expected)
            .count();
        rest.truncate(unbroken);
        Ok(rest)
    }

    /// The oldest segments of `camera` (all cameras when `None`) that no lock covers, up to
    /// `limit`.
    pub fn oldest_unlocked(&self, camera: Option<&str>, limit: usize) -> Result<Vec<Segment>> {
        let conn = self.conn.lock();
        let query = || -> rusqlite::Result<Vec<Segment>> {
            let mut statement = conn.prepare_cached(&format!(
                "SELECT {SEGMENT_COLUMNS} FROM segments s JOIN streams st ON st.id = s.stream
                 WHERE (?1 IS NULL OR st.camera = ?1)
                   AND NOT EXISTS (SELECT 1 FROM locks l WHERE l.camera = st.camera
                                   AND l.start_us < s.end_us AND l.end_us > s.start_us)
                 ORDER BY s.start_us LIMIT ?2"
            ))?;
            statement
                .query_map(params![camera, limit as i64], segment_of)?
                .collect()
        };
        query().map_err(|e| self.error(e))
    }

    /// Bytes stored per camera, locked or not.
    pub fn usage(&self) -> Result<Vec<(String, u64)>> {
        let conn = self.conn.lock();
        let query = || -> rusqlite::Result<Vec<(String, u64)>> {
            let mut statement = conn.prepare_cached(
                "SELECT st.camera, COALESCE(SUM(s.bytes), 0) FROM streams st
                 LEFT JOIN segments s ON s.stream = st.id GROUP BY st.camera ORDER BY st.camera",
            )?;
            statement
                .query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)?.max(0) as u64)))?
                .collect()
        };
        query().map_err(|e| self.error(e))
    }

    /// Removes a segment's row unless a lock covers it now (checked in the same statement, so
    /// a lock made meanwhile wins); whether it was removed. Its file is unlinked after, never
    /// before.
    pub fn remove_unlocked_segment(&self, id: i64) -> Result<bool> {
        let conn = self.conn.lock();
        conn.execute(
            "DELETE FROM segments WHERE id = ?1 AND NOT EXISTS (
                 SELECT 1 FROM locks l JOIN streams st ON st.camera = l.camera
                 WHERE st.id = segments.stream
                   AND l.start_us < segments.end_us AND l.end_us > segments.start_us)",
            params![id],
        )
        .map(|n| n > 0)
        .map_err(|e| self.error(e))
    }

    /// Marks `[start_us, end_us)` of `camera` as around an event (`id` names the event and
    /// the camera: a mark made twice is one); whether it is new.
    pub fn add_mark(&self, id: &str, camera: &str, start_us: i64, end_us: i64) -> Result<bool> {
        let conn = self.conn.lock();
        conn.execute(
            "INSERT INTO marks (id, camera, start_us, end_us) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (id) DO NOTHING",
            params![id, camera, start_us, end_us],
        )
        .map(|n| n > 0)
        .map_err(|e| self.error(e))
    }

    /// Forgets the marks on `camera` that end before its oldest video.
    pub fn prune_marks(&self, camera: &str) -> Result<usize> {
        let conn = self.conn.lock();
        conn.execute(
            "DELETE FROM marks WHERE camera = ?1 AND end_us < (
                 SELECT COALESCE(MIN(s.start_us), 0) FROM segments s
                 JOIN streams st ON st.id = s.stream WHERE st.camera = ?1)",
            params![camera],
        )
        .map_err(|e| self.error(e))
    }

    /// The marks on `camera`, oldest first: `(start_us, end_us)`.
    pub fn marks(&self, camera: &str) -> Result<Vec<(i64, i64)>> {
        let conn = self.conn.lock();
        let query = || -> rusqlite::Result<Vec<(i64, i64)>> {
            conn.prepare_cached(
                "SELECT start_us, end_us FROM marks WHERE camera = ?1 ORDER BY start_us",
            )?
            .query_map(params![camera], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect()
        };
        query().map_err(|e| self.error(e))
    }

    /// The oldest segments of `camera` that end before `before_us` and that neither a mark nor
    /// a lock covers, up to `limit`: what a camera recorded around events does not keep.
    pub fn oldest_unmarked(
        &self,
        camera: &str,
        before_us: i64,
        limit: usize,
    ) -> Result<Vec<Segment>> {
        let conn = self.conn.lock();
        let query = || -> rusqlite::Result<Vec<Segment>> {
            let mut statement = conn.prepare_cached(&format!(
                "SELECT {SEGMENT_COLUMNS} FROM segments s JOIN streams st ON st.id = s.stream
                 WHERE st.camera = ?1 AND s.end_us < ?2
                   AND NOT EXISTS (SELECT 1 FROM locks l WHERE l.camera = st.camera
                                   AND l.start_us < s.end_us AND l.end_us > s.start_us)
                   AND NOT EXISTS (SELECT 1 FROM marks m WHERE m.camera = st.camera
                                   AND m.start_us < s.end_us AND m.end_us > s.start_us)
                 ORDER BY s.start_us LIMIT ?3"
            ))?;
            statement
                .query_map(params![camera, before_us, limit as i64], segment_of)?
                .collect()
        };
        query().map_err(|e| self.error(e))
    }

    /// Removes a segment's row unless a lock or a mark covers it now (checked in the same
    /// statement, so a mark made meanwhile wins); whether it was removed.
    pub fn remove_unmarked_segment(&self, id: i64) -> Result<bool> {
        let conn = self.conn.lock();
        conn.execute(
            "DELETE FROM segments WHERE id = ?1
               AND NOT EXISTS (
                 SELECT 1 FROM locks l JOIN streams st ON st.camera = l.camera
                 WHERE st.id = segments.stream
                   AND l.start_us < segments.end_us AND l.end_us > segments.start_us)
               AND NOT EXISTS (
                 SELECT 1 FROM marks m JOIN streams st ON st.camera = m.camera
                 WHERE st.id = segments.stream
                   AND m.start_us < segments.end_us AND m.end_us > segments.start_us)",
            params![id],
        )
        .map(|n| n > 0)
        .map_err(|e| self.error(e))
    }

    /// Every file the index names.
    pub fn files(&self) -> Result<BTreeSet<String>> {
        let conn = self.conn.lock();
        let query = || -> rusqlite::Result<BTreeSet<String>> {
            let mut statement = conn.prepare("SELECT file FROM segments")?;
            statement.query_map([], |r| r.get(0))?.collect()
        };
        query().map_err(|e| self.error(e))
    }

    /// Makes the index and the video folder agree at start, after a clean stop or a crash:
    /// deletes the files that were being written (pending, never indexed), forgets segments
    /// whose file is gone (by `stat`: only "not found" counts), and closes outages left open.
    /// Files the index knows nothing of are left alone. Refuses, deleting nothing, when many of
    /// a stream's files are missing: a video disk that is not mounted must not empty the index.
    pub fn reconcile(&self, video_dir: &Path, now_us: i64) -> Result<Reconciled> {
        let mut found = Reconciled::default();
        let pending: Vec<String> = {
            let conn = self.conn.lock();
            let mut statement = conn
                .prepare("SELECT file FROM pending")
                .map_err(|e| self.error(e))?;
            statement
                .query_map([], |r| r.get(0))
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<String>>>())
                .map_err(|e| self.error(e))?
        };
        for file in pending {
            let path = video_dir.join(&file);
            match std::fs::remove_file(&path) {
                Ok(()) => found.orphan_files.push(path),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(IndexError::Disk(path.display().to_string(), e.to_string())),
            }
            self.abandon_file(&file)?;
        }
        // Each stream's oldest and newest files first; all of a stream's only when one of
        // those is missing (a start must not stat millions of files).
        let streams: Vec<(i64, String)> = {
            let conn = self.conn.lock();
            let mut statement = conn
                .prepare("SELECT id, camera || '/' || kind FROM streams")
                .map_err(|e| self.error(e))?;
            statement
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(|e| self.error(e))?
        };
        let exists = |file: &str| -> Result<bool> {
            let path = video_dir.join(file);
            match std::fs::metadata(&path) {
                Ok(_) => Ok(true),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
                Err(e) => Err(IndexError::Disk(path.display().to_string(), e.to_string())),
            }
        };
        for (stream, name) in streams {
            let files = |query: &str| -> Result<Vec<String>> {
                let conn = self.conn.lock();
                let mut statement = conn.prepare(query).map_err(|e| self.error(e))?;
                statement
                    .query_map(params![stream], |r| r.get(0))
                    .and_then(|rows| rows.collect::<rusqlite::Result<Vec<String>>>())
                    .map_err(|e| self.error(e))
            };
            let ends = files(
                "SELECT file FROM (SELECT file FROM segments WHERE stream = ?1 ORDER BY start_us LIMIT 1)
                 UNION ALL
                 SELECT file FROM (SELECT file FROM segments WHERE stream = ?1 ORDER BY start_us DESC LIMIT 1)",
            )?;
            let mut intact = true;
            for file in &ends {
                intact &= exists(file)?;
            }
            if intact {
                continue;
            }
            let all = files("SELECT file FROM segments WHERE stream = ?1")?;
            let mut missing = Vec::new();
            for file in &all {
                if !exists(file)? {
                    missing.push(file.clone());
                }
            }
            if missing.len() > 16 && missing.len() * 10 > all.len() {
                return Err(IndexError::VideoMissing {
                    stream: name,
                    missing: missing.len(),
                    named: all.len(),
                    dir: video_dir.display().to_string(),
                });
            }
            let conn = self.conn.lock();
            for file in missing {
                conn.execute("DELETE FROM segments WHERE file = ?1", params![file])
                    .map_err(|e| self.error(e))?;
                found.missing_files.push(file);
            }
        }
        // An outage left open by a crash ends where its stream's video starts again, or now.
        let conn = self.conn.lock();
        found.closed_outages = conn
            .execute(
                "UPDATE outages SET end_us = COALESCE(
                     (SELECT MIN(s.start_us) FROM segments s WHERE s.stream = outages.stream
                      AND s.start_us >= outages.start_us), ?1)
                 WHERE end_us IS NULL",
                params![now_us],
            )
            .map_err(|e| self.error(e))?;
        Ok(found)
    }

    /// Adds an evidence lock of this machine's own (or changes the one with its id).
    pub fn add_lock(&self, lock: &Lock) -> Result<()> {
        let conn = self.conn.lock();
        upsert_lock(&conn, lock, "local")
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    /// Keeps the hub's `holding` locks (new ones added, changed ones updated) and removes the
    /// hub locks named in `released`, in one transaction; this machine's own locks and hub
    /// locks named in neither stay. How many were added or changed, and how many removed.
    pub fn sync_hub_locks(&self, holding: &[Lock], released: &[String]) -> Result<(usize, usize)> {
        let mut conn = self.conn.lock();
        let mut sync = || -> rusqlite::Result<(usize, usize)> {
            let tx = conn.transaction()?;
            let mut changed = 0;
            for lock in holding {
                changed += upsert_lock(&tx, lock, "hub")?;
            }
            let mut removed = 0;
            for id in released {
                removed += tx.execute(
                    "DELETE FROM locks WHERE id = ?1 AND origin = 'hub'",
                    params![id],
                )?;
            }
            tx.commit()?;
            Ok((changed, removed))
        };
        sync().map_err(|e| self.error(e))
    }

    /// The bytes recorded of one stream in segments ending after `since_us`, and the time they
    /// span (µs): its recent bitrate.
    pub fn recent_bytes(
        &self,
        camera: &str,
        kind: StreamKind,
        since_us: i64,
    ) -> Result<(u64, i64)> {
        let conn = self.conn.lock();
        let query = || -> rusqlite::Result<(u64, i64)> {
            conn.prepare_cached(
                "SELECT COALESCE(SUM(s.bytes), 0), COALESCE(MAX(s.end_us) - MIN(s.start_us), 0)
                 FROM segments s JOIN streams st ON st.id = s.stream
                 WHERE st.camera = ?1 AND st.kind = ?2 AND s.end_us > ?3",
            )?
            .query_row(params![camera, kind.as_str(), since_us], |r| {
                Ok((r.get::<_, i64>(0)?.max(0) as u64, r.get(1)?))
            })
        };
        query().map_err(|e| self.error(e))
    }

    /// Bytes of video that a lock covers.
    pub fn locked_bytes(&self) -> Result<u64> {
        let conn = self.conn.lock();
        let query = || -> rusqlite::Result<i64> {
            conn.prepare_cached(
                "SELECT COALESCE(SUM(s.bytes), 0) FROM segments s JOIN streams st ON st.id = s.stream
                 WHERE EXISTS (SELECT 1 FROM locks l WHERE l.camera = st.camera
                               AND l.start_us < s.end_us AND l.end_us > s.start_us)",
            )?
            .query_row([], |r| r.get(0))
        };
        query().map(|b| b.max(0) as u64).map_err(|e| self.error(e))
    }

    /// Releases a lock; whether there was one.
    pub fn remove_lock(&self, id: &str) -> Result<bool> {
        let conn = self.conn.lock();
        conn.execute("DELETE FROM locks WHERE id = ?1", params![id])
            .map(|n| n > 0)
            .map_err(|e| self.error(e))
    }

    /// The locks on `camera` overlapping `[from_us, to_us)`.
    pub fn locks(&self, camera: &str, from_us: i64, to_us: i64) -> Result<Vec<Lock>> {
        let conn = self.conn.lock();
        let query = || -> rusqlite::Result<Vec<Lock>> {
            let mut statement = conn.prepare_cached(
                "SELECT id, camera, start_us, end_us, reason, created_by, created_us FROM locks
                 WHERE camera = ?1 AND end_us > ?2 AND start_us < ?3 ORDER BY start_us",
            )?;
            statement
                .query_map(params![camera, from_us, to_us], |r| {
                    Ok(Lock {
                        id: r.get(0)?,
                        camera: r.get(1)?,
                        start_us: r.get(2)?,
                        end_us: r.get(3)?,
                        reason: r.get(4)?,
                        created_by: r.get(5)?,
                        created_us: r.get(6)?,
                    })
                })?
                .collect()
        };
        query().map_err(|e| self.error(e))
    }

    /// Opens an outage of one stream (unless one is open already).
    pub fn open_outage(
        &self,
        camera: &str,
        kind: StreamKind,
        start_us: i64,
        reason: &str,
    ) -> Result<()> {
        let conn = self.conn.lock();
        let open = || -> rusqlite::Result<()> {
            let stream = Self::stream_id(&conn, camera, kind)?;
            let already: Option<i64> = conn
                .query_row(
                    "SELECT id FROM outages WHERE stream = ?1 AND end_us IS NULL",
                    params![stream],
                    |r| r.get(0),
                )
                .optional()?;
            if already.is_none() {
                conn.execute(
                    "INSERT INTO outages (stream, start_us, reason) VALUES (?1, ?2, ?3)",
                    params![stream, start_us, reason],
                )?;
            }
            Ok(())
        };
        open().map_err(|e| self.error(e))
    }

    /// Closes a stream's open outage, if any.
    pub fn close_outage(&self, camera: &str, kind: StreamKind, end_us: i64) -> Result<()> {
        let conn = self.conn.lock();
        let close = || -> rusqlite::Result<()> {
            let stream = Self::stream_id(&conn, camera, kind)?;
            conn.execute(
                "UPDATE outages SET end_us = ?2 WHERE stream = ?1 AND end_us IS NULL",
                params![stream, end_us],
            )?;
            Ok(())
        };
        close().map_err(|e| self.error(e))
    }

    /// One stream's outages overlapping `[from_us, to_us)` (open ones included).
    pub fn outages(
        &self,
        camera: &str,
        kind: StreamKind,
        from_us: i64,
        to_us: i64,
    ) -> Result<Vec<Outage>> {
        let conn = self.conn.lock();
        let query = || -> rusqlite::Result<Vec<Outage>> {
            let mut statement = conn.prepare_cached(
                "SELECT o.start_us, o.end_us, o.reason FROM outages o
                 JOIN streams st ON st.id = o.stream
                 WHERE st.camera = ?1 AND st.kind = ?2 AND o.start_us < ?4
                   AND (o.end_us IS NULL OR o.end_us > ?3)
                 ORDER BY o.start_us",
            )?;
            statement
                .query_map(params![camera, kind.as_str(), from_us, to_us], |r| {
                    Ok(Outage {
                        camera: camera.to_owned(),
                        kind,
                        start_us: r.get(0)?,
                        end_us: r.get(1)?,
                        reason: r.get(2)?,
                    })
                })?
                .collect()
        };
        query().map_err(|e| self.error(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rec-index-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch");
        dir
    }

    fn segment(file: &str, start_s: i64, end_s: i64) -> NewSegment {
        NewSegment {
            camera: "cam-01".into(),
            kind: StreamKind::Main,
            file: file.into(),
            start_us: start_s * 1_000_000,
            end_us: end_s * 1_000_000,
            bytes: 100,
            clock: Clock::Camera,
            codec: "h264".into(),
            run: 1,
            seq: start_s,
        }
    }

    #[test]
    fn segments_are_found_by_overlap_and_locked_ones_are_never_offered_for_deletion() {
        let dir = scratch("overlap");
        let index = Index::open(&dir.join("index.db")).expect("open");
        for (n, start) in [0, 10, 20, 30].into_iter().enumerate() {
            index
                .add_segment(&segment(&format!("s{n}.mp4"), start, start + 10))
                .expect("add");
        }
        let found = index
            .segments("cam-01", StreamKind::Main, 15_000_000, 25_000_000)
            .expect("query");
        assert_eq!(
            found.iter().map(|s| s.file.as_str()).collect::<Vec<_>>(),
            ["s1.mp4", "s2.mp4"]
        );
        index
            .add_lock(&Lock {
                id: "lock-1".into(),
                camera: "cam-01".into(),
                start_us: 5_000_000,
                end_us: 12_000_000,
                reason: "incident 7".into(),
                created_by: "alice".into(),
                created_us: 0,
            })
            .expect("lock");
        let oldest = index.oldest_unlocked(None, 10).expect("oldest");
        assert_eq!(
            oldest.iter().map(|s| s.file.as_str()).collect::<Vec<_>>(),
            ["s2.mp4", "s3.mp4"]
        );
        assert!(index.remove_lock("lock-1").expect("release"));
        assert_eq!(
            index.oldest_unlocked(None, 1).expect("oldest")[0].file,
            "s0.mp4"
        );
        assert_eq!(index.usage().expect("usage"), vec![("cam-01".into(), 400)]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn reconcile_deletes_pending_files_forgets_missing_ones_and_leaves_strangers_alone() {
        let dir = scratch("reconcile");
        let video = dir.join("video");
        std::fs::create_dir_all(video.join("cam-01/main")).expect("dirs");
        for name in ["0", "10", "20", "partial", "stranger"] {
            std::fs::write(video.join(format!("cam-01/main/{name}.mp4")), b"x").expect("file");
        }
        let index = Index::open(&dir.join("index.db")).expect("open");
        for start in [0, 10, 20, 30] {
            index
                .add_segment(&segment(
                    &format!("cam-01/main/{start}.mp4"),
                    start,
                    start + 10,
                ))
                .expect("add");
        }
        index
            .begin_file("cam-01/main/partial.mp4")
            .expect("pending");
        index
            .open_outage("cam-01", StreamKind::Main, 15_000_000, "camera stopped")
            .expect("outage");
        // The newest file (30) is gone: its stream is checked whole.
        let found = index.reconcile(&video, 99_000_000).expect("reconcile");
        assert_eq!(
            found.orphan_files,
            vec![video.join("cam-01/main/partial.mp4")]
        );
        assert_eq!(found.missing_files, vec!["cam-01/main/30.mp4".to_owned()]);
        assert_eq!(found.closed_outages, 1);
        assert!(!video.join("cam-01/main/partial.mp4").exists());
        assert!(
            video.join("cam-01/main/stranger.mp4").exists(),
            "not ours to delete"
        );
        assert_eq!(
            index
                .files()
                .expect("files")
                .into_iter()
                .collect::<Vec<_>>(),
            [
                "cam-01/main/0.mp4",
                "cam-01/main/10.mp4",
                "cam-01/main/20.mp4"
            ]
        );
        // The outage ends where the stream's video starts again.
        let outages = index
            .outages("cam-01", StreamKind::Main, 0, i64::MAX)
            .expect("outages");
        assert_eq!(outages[0].end_us, Some(20_000_000));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_run_plays_on_only_over_consecutive_segments() {
        let dir = scratch("run");
        let index = Index::open(&dir.join("index.db")).expect("open");
        for start in 0..5 {
            index
                .add_segment(&NewSegment {
                    seq: start,
                    ..segment(&format!("{start}.mp4"), start * 10, start * 10 + 10)
                })
                .expect("add");
        }
        let all = index
            .segments("cam-01", StreamKind::Main, i64::MIN, i64::MAX)
            .expect("all");
        // Retention took the third away (a lock kept the ones around it).
        assert!(index.remove_unlocked_segment(all[2].id).expect("remove"));
        let rest = index.rest_of_run(&all[0], usize::MAX).expect("rest");
        assert_eq!(rest.iter().map(|s| s.seq).collect::<Vec<_>>(), [1]);
        let rest = index.rest_of_run(&all[3], usize::MAX).expect("rest");
        assert_eq!(rest.iter().map(|s| s.seq).collect::<Vec<_>>(), [4]);
        assert!(index.rest_of_run(&all[3], 0).expect("rest").is_empty());
        // Playback goes on past the hole, from the next segment there is.
        let seq = |s: Option<Segment>| s.map(|s| s.seq);
        let next = index.next_segment(&all[1]).expect("next");
        assert_eq!(seq(next), Some(3));
        assert_eq!(seq(index.next_segment(&all[4]).expect("next")), None);
        let at = |t: i64| {
            seq(index
                .segment_at("cam-01", StreamKind::Main, t * 1_000_000)
                .expect("at"))
        };
        assert_eq!(at(35), Some(3));
        assert_eq!(at(25), Some(3), "in the hole: the next one");
        assert_eq!(at(-5), Some(0));
        assert_eq!(at(55), None);
        let newest = index
            .newest_segment("cam-01", StreamKind::Main)
            .expect("newest");
        assert_eq!(seq(newest), Some(4));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_unmounted_video_disk_deletes_nothing_and_refuses_to_start() {
        let dir = scratch("unmounted");
        let index = Index::open(&dir.join("index.db")).expect("open");
        for start in 0..40 {
            index
                .add_segment(&segment(
                    &format!("cam-01/main/{start}.mp4"),
                    start * 10,
                    start * 10 + 10,
                ))
                .expect("add");
        }
        let error = index.reconcile(&dir.join("video"), 0).expect_err("refused");
        assert!(
            error.to_string().contains("is the video disk mounted"),
            "{error}"
        );
        assert_eq!(index.files().expect("files").len(), 40, "nothing forgotten");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_index_from_a_newer_recorder_is_refused() {
        let dir = scratch("newer");
        let path = dir.join("index.db");
        {
            let conn = Connection::open(&path).expect("db");
            conn.pragma_update(None, "user_version", 99)
                .expect("version");
        }
        assert!(matches!(
            Index::open(&path),
            Err(IndexError::TooNew(_, 99, _))
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn connections_opening_a_new_index_at_once_each_get_the_whole_schema() {
        // The recorder and a command run beside it (`status`, `verify`) may open a new index at
        // the same moment; neither may apply a step the other has applied.
        for round in 0..20 {
            let dir = scratch(&format!("together-{round}"));
            let path = dir.join("index.db");
            let opened = std::thread::scope(|scope| {
                let openers: Vec<_> = (0..4)
                    .map(|_| scope.spawn(|| Index::open(&path).map(|_| ())))
                    .collect();
                openers
                    .into_iter()
                    .map(|o| o.join().expect("no panic"))
                    .collect::<Vec<_>>()
            });
            for result in opened {
                result.unwrap_or_else(|e| panic!("round {round}: {e}"));
            }
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}
