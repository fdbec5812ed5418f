//! The database: connection, migrations, and the one write path.
//!
//! Every write goes through a [`WriteTx`]: one transaction at a time (an async lock), in which
//! changes for the live feed and audit records get the next sequence numbers. Numbers are
//! assigned inside the transaction and published only after it commits, so the feed's order is
//! the commit order, without gaps, on SQLite and PostgreSQL alike. One hub process owns a
//! database; several hubs on one PostgreSQL database would need the numbering moved into SQL.

use crate::{HubError, Result};
use serde::Serialize;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Row, Transaction};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use tokio::sync::{Mutex, OwnedMutexGuard, broadcast};

/// The migrations, in order; each runs once, in its own transaction.
pub const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("../migrations/0001_initial.sql")),
    (2, "layouts", include_str!("../migrations/0002_layouts.sql")),
    (
        3,
        "recorders",
        include_str!("../migrations/0003_recorders.sql"),
    ),
    (
        4,
        "evidence",
        include_str!("../migrations/0004_evidence.sql"),
    ),
    (
        5,
        "recorder_playback",
        include_str!("../migrations/0005_recorder_playback.sql"),
    ),
    (
        6,
        "bookmarks",
        include_str!("../migrations/0006_bookmarks.sql"),
    ),
    (7, "exports", include_str!("../migrations/0007_exports.sql")),
    (
        8,
        "ingest per source",
        include_str!("../migrations/0008_ingest_per_source.sql"),
    ),
    (
        9,
        "controller pairing",
        include_str!("../migrations/0009_controller_pairing.sql"),
    ),
    (
        10,
        "sessions' client",
        include_str!("../migrations/0010_sessions_client.sql"),
    ),
];

/// Which SQL server is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub use contract::{Change, ChangeBody};

/// How many changes a slow subscriber may fall behind before it catches up from the database.
const FEED_CAPACITY: usize = 4096;

/// The advisory lock a hub holds on a PostgreSQL database while it serves it ("WFHUBSRV").
const SERVING_LOCK_KEY: i64 = 0x5746_4855_4253_5256;
/// How long a hub waits for a database's lease before it refuses to start.
const LEASE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Held by the one hub that serves a database. Hubs cannot share one yet (each numbers the
/// changes and the audit trail it writes, and orders writes with a lock of its own), so a
/// second hub started on the same database refuses to start instead of corrupting both. On
/// SQLite it is a lock on `<file>.serving`; on PostgreSQL a session advisory lock on a
/// connection of its own. Released by [`ServingLease::release`], or when the process ends.
pub struct ServingLease(Held);

enum Held {
    File(std::fs::File),
    // In a mutex only so that the lease (and the running hub holding it) is `Sync`.
    Postgres(std::sync::Mutex<sqlx::AnyConnection>),
}

impl std::fmt::Debug for ServingLease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            Held::File(_) => "ServingLease(file)",
            Held::Postgres(_) => "ServingLease(postgres)",
        })
    }
}

impl ServingLease {
    /// Takes the lease on the database at `url` (as [`Db::open`] takes it), or says that
    /// another hub holds it. A lease still held is waited for a few seconds: a hub restarted
    /// right after its predecessor died may ask before the database noticed the death.
    pub async fn take(url: &str) -> Result<Self> {
        let deadline = std::time::Instant::now() + LEASE_WAIT;
        loop {
            match Self::try_take(url).await? {
                Ok(lease) => return Ok(lease),
                Err(holder) if std::time::Instant::now() >= deadline => {
                    return Err(HubError::Conflict(format!(
                        "another hub is serving this database{holder}; stop it first (hubs \
                         cannot share a database yet)"
                    )));
                }
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(250)).await,
            }
        }
    }

    /// The lease, or where it is held (words for the refusal).
    async fn try_take(url: &str) -> Result<std::result::Result<Self, String>> {
        if let Some(file) = sqlite_file(url)? {
            let path = format!("{file}.serving");
            create_private(&path)?;
            let lock = std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|e| HubError::Database(format!("cannot open {path}: {e}")))?;
            return match lock.try_lock() {
                Ok(()) => Ok(Ok(Self(Held::File(lock)))),
                Err(std::fs::TryLockError::WouldBlock) => Ok(Err(format!(" (it holds {path})"))),
                Err(std::fs::TryLockError::Error(e)) => {
                    Err(HubError::Database(format!("cannot lock {path}: {e}")))
                }
            };
        }
        sqlx::any::install_default_drivers();
        let options = AnyConnectOptions::from_str(url)
            .map_err(|e| HubError::BadRequest(format!("bad database URL: {e}")))?;
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect_with(&options)
            .await
            .map_err(|e| HubError::Database(format!("cannot open database: {e}")))?;
        let locked: bool = sqlx::query("SELECT pg_try_advisory_lock($1) AS locked")
            .bind(SERVING_LOCK_KEY)
            .fetch_one(&mut conn)
            .await?
            .try_get("locked")?;
        if locked {
            Ok(Ok(Self(Held::Postgres(std::sync::Mutex::new(conn)))))
        } else {
            let _ = sqlx::Connection::close(conn).await;
            Ok(Err(String::new()))
        }
    }

    /// Lets the next hub take the database.
    pub async fn release(self) {
        match self.0 {
            Held::File(file) => {
                let _ = file.unlock();
            }
            Held::Postgres(conn) => {
                let conn = conn.into_inner().unwrap_or_else(|e| e.into_inner());
                let _ = sqlx::Connection::close(conn).await;
            }
        }
    }
}

/// The file of an `sqlite://PATH[?options]` URL; `None` for a PostgreSQL URL; an error for
/// anything else.
fn sqlite_file(url: &str) -> Result<Option<&str>> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        return match path.split('?').next().filter(|p| !p.is_empty()) {
            Some(file) => Ok(Some(file)),
            None => Err(HubError::BadRequest("sqlite:// needs a file path".into())),
        };
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(None);
    }
    Err(HubError::BadRequest(
        "database URL must start with sqlite:// or postgres://".into(),
    ))
}

/// The shared database handle.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    writer: Arc<Mutex<()>>,
    /// The newest committed change's number, for the feed and health (writes read the table).
    last_change: Arc<AtomicI64>,
    feed: broadcast::Sender<Arc<Change>>,
    /// Set when the hub stops: live feeds close instead of outliving the server.
    stopping: tokio::sync::watch::Sender<bool>,
}

impl Db {
    /// Opens `url` (`sqlite://PATH` or `postgres://...`), creating an SQLite file if needed,
    /// and migrates it to the newest schema (stamped with `clock`'s time).
    pub async fn open(url: &str, clock: &dyn crate::Clock) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let mut file = None;
        let (backend, url) = if let Some(plain) = sqlite_file(url)? {
            create_private(plain)?;
            file = Some(std::path::PathBuf::from(plain));
            let sep = if url.contains('?') { '&' } else { '?' };
            (Backend::Sqlite, format!("{url}{sep}mode=rwc"))
        } else {
            (Backend::Postgres, url.to_owned())
        };
        let options = AnyConnectOptions::from_str(&url)
            .map_err(|e| HubError::BadRequest(format!("bad database URL: {e}")))?;
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 16 })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL: readers never wait for the writer. synchronous=FULL: a commit
                        // is on disk before the hub acknowledges it (events, audit).
                        for pragma in [
                            "PRAGMA journal_mode = WAL",
                            "PRAGMA synchronous = FULL",
                            "PRAGMA foreign_keys = ON",
                            "PRAGMA busy_timeout = 10000",
                        ] {
                            sqlx::query(pragma).execute(&mut *conn).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| HubError::Database(format!("cannot open database: {e}")))?;
        migrate(&pool, file.as_deref(), clock.now_ms()).await?;
        let last_change = last_seq(&pool, "changes").await?;
        let (feed, _) = broadcast::channel(FEED_CAPACITY);
        Ok(Self {
            pool,
            backend,
            writer: Arc::new(Mutex::new(())),
            last_change: Arc::new(AtomicI64::new(last_change)),
            feed,
            stopping: tokio::sync::watch::Sender::new(false),
        })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The newest committed change's number.
    pub fn last_change(&self) -> i64 {
        self.last_change.load(Ordering::SeqCst)
    }

    /// Live changes from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.feed.subscribe()
    }

    /// Starts the one write transaction; others wait for it to commit or drop.
    pub async fn write(&self) -> Result<WriteTx> {
        let guard = self.writer.clone().lock_owned().await;
        let mut tx = self.pool.begin().await?;
        // Numbers come from the tables, not memory: a commit whose answer was lost (a dropped
        // request, a failed acknowledgement of a commit that happened) cannot desynchronise them.
        let last_change = last_seq(&mut *tx, "changes").await?;
        let last_audit = last_seq(&mut *tx, "audit").await?;
        Ok(WriteTx {
            tx,
            _guard: guard,
            db: self.clone(),
            next_change: last_change + 1,
            next_audit: last_audit + 1,
            changes: Vec::new(),
        })
    }

    /// Changes after `seq`, oldest first, at most `limit`.
    pub async fn changes_after(&self, seq: i64, limit: i64) -> Result<Vec<Change>> {
        let rows = sqlx::query(
            "SELECT seq, at, site_id, kind, body FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let seq: i64 = row.try_get("seq")?;
                let kind: String = row.try_get("kind")?;
                let body: String = row.try_get("body")?;
                // A stored change this hub cannot read (a newer hub wrote it before a
                // downgrade) is skipped, its number kept: one bad row must not stop every
                // subscriber's catch-up.
                let body = serde_json::from_str(&body)
                    .and_then(|data| ChangeBody::from_parts(&kind, data))
                    .map_err(|e| e.to_string())
                    .and_then(|body| match body {
                        ChangeBody::Unknown => Err("a kind this hub does not know".to_owned()),
                        known => Ok(known),
                    })
                    .unwrap_or_else(|error| {
                        tracing::warn!(seq, %kind, %error, "a stored change this hub cannot read; skipped");
                        ChangeBody::Unknown
                    });
                Ok(Change {
                    seq,
                    at: row.try_get("at")?,
                    site: row.try_get("site_id")?,
                    body,
                })
            })
            .collect()
    }

    /// SQLite's own consistency check ("ok" when sound); PostgreSQL answers "ok".
    pub async fn integrity_check(&self) -> Result<String> {
        if self.backend == Backend::Postgres {
            return Ok("ok".into());
        }
        let row = sqlx::query("PRAGMA integrity_check")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<String, _>(0)?)
    }

    /// Every table's columns as `table.column TYPE [NOT NULL]`, sorted: compared by the tests
    /// with a frozen copy per backend, so a migration cannot change the schema unnoticed.
    pub async fn schema_outline(&self) -> Result<Vec<String>> {
        let mut lines = Vec::new();
        match self.backend {
            Backend::Sqlite => {
                let tables = sqlx::query(
                    "SELECT name FROM sqlite_master WHERE type = 'table' \
                     AND name NOT LIKE 'sqlite_%' ORDER BY name",
                )
                .fetch_all(&self.pool)
                .await?;
                for table in tables {
                    let table: String = table.try_get("name")?;
                    let columns = sqlx::query(
                        "SELECT name, type, \"notnull\" AS nn, pk FROM pragma_table_info($1)",
                    )
                    .bind(&table)
                    .fetch_all(&self.pool)
                    .await?;
                    for c in columns {
                        let name: String = c.try_get("name")?;
                        let kind: String = c.try_get("type")?;
                        let not_null: i64 = c.try_get("nn")?;
                        let pk: i64 = c.try_get("pk")?;
                        lines.push(format!(
                            "{table}.{name} {}{}",
                            kind.to_uppercase(),
                            if not_null != 0 || pk != 0 {
                                " NOT NULL"
                            } else {
                                ""
                            }
                        ));
                    }
                }
            }
            Backend::Postgres => {
                let columns = sqlx::query(
                    "SELECT table_name::text AS t, column_name::text AS c, \
                     data_type::text AS k, is_nullable::text AS n \
                     FROM information_schema.columns WHERE table_schema = 'public'",
                )
                .fetch_all(&self.pool)
                .await?;
                for c in columns {
                    let table: String = c.try_get("t")?;
                    let name: String = c.try_get("c")?;
                    let kind: String = c.try_get("k")?;
                    let nullable: String = c.try_get("n")?;
                    lines.push(format!(
                        "{table}.{name} {}{}",
                        kind.to_uppercase(),
                        if nullable == "NO" { " NOT NULL" } else { "" }
                    ));
                }
            }
        }
        lines.sort();
        Ok(lines)
    }

    /// Stops the live feeds, then closes the pool.
    pub async fn close(&self) {
        self.stopping.send_replace(true);
        self.pool.close().await;
    }

    /// Becomes true when the hub stops.
    pub fn stopping(&self) -> tokio::sync::watch::Receiver<bool> {
        self.stopping.subscribe()
    }
}

/// Creates an empty SQLite file readable by its owner only (password hashes and sealed
/// secrets live in it); SQLite gives its WAL and shared-memory files the same mode.
fn create_private(path: &str) -> Result<()> {
    let path = std::path::Path::new(path);
    if path.exists() {
        return Ok(());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| HubError::Database(format!("cannot create {}: {e}", dir.display())))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(HubError::Database(format!(
            "cannot create {}: {e}",
            path.display()
        ))),
    }
}

/// The highest sequence number in `table` (`changes` or `audit`), 0 when empty.
async fn last_seq<'e, E>(executor: E, table: &'static str) -> Result<i64>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    Ok(
        sqlx::query(&format!("SELECT COALESCE(MAX(seq), 0) AS n FROM {table}"))
            .fetch_one(executor)
            .await?
            .try_get("n")?,
    )
}

/// Brings the schema to the newest version. An SQLite database that needs upgrading is first
/// copied (consistently, with `VACUUM INTO`) to `<file>.before-v<N>-<time>.bak` beside it.
async fn migrate(pool: &AnyPool, sqlite_file: Option<&std::path::Path>, now_ms: i64) -> Result<()> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations \
         (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(pool)
    .await?;
    let current: i64 = sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")
        .fetch_one(pool)
        .await?
        .try_get("v")?;
    let newest = MIGRATIONS.last().map(|m| m.0).unwrap_or(0);
    if current > newest {
        return Err(HubError::Database(format!(
            "the database is at schema version {current}, newer than this hub ({newest}); \
             upgrade the hub"
        )));
    }
    if let Some(file) = sqlite_file
        && current > 0
        && current < newest
    {
        let backup = format!(
            "{}.before-v{newest}-{}.bak",
            file.display(),
            chrono::DateTime::from_timestamp_millis(now_ms)
                .unwrap_or_default()
                .format("%Y%m%dT%H%M%SZ")
        );
        sqlx::query("VACUUM INTO $1")
            .bind(&backup)
            .execute(pool)
            .await
            .map_err(|e| HubError::Database(format!("cannot back up before migrating: {e}")))?;
        tracing::info!(%backup, from = current, to = newest, "backed up the database before migrating");
    }
    for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        let mut tx = pool.begin().await?;
        for statement in split_statements(sql) {
            sqlx::query(&statement)
                .execute(&mut *tx)
                .await
                .map_err(|e| {
                    HubError::Database(format!("migration {version} ({name}) failed: {e}"))
                })?;
        }
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(*version)
        .bind(*name)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(version, name, "migrated database");
    }
    Ok(())
}

/// Splits a migration into statements at `;` ending a line, dropping `--` comments.
pub fn split_statements(sql: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut current = String::new();
    for line in sql.lines() {
        let line = line.split("--").next().unwrap_or("").trim_end();
        if line.trim().is_empty() {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if line.ends_with(';') {
            statements.push(std::mem::take(&mut current));
        }
    }
    if !current.trim().is_empty() {
        statements.push(current);
    }
    statements
}

/// The one write transaction. Dropping it without [`WriteTx::commit`] rolls everything back,
/// numbers included.
#[derive(Debug)]
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    _guard: OwnedMutexGuard<()>,
    db: Db,
    next_change: i64,
    next_audit: i64,
    changes: Vec<Arc<Change>>,
}

impl WriteTx {
    /// The transaction's connection, for queries.
    pub fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }

    /// Records a change for the live feed (sent once the transaction commits).
    pub async fn change(&mut self, at: i64, site: Option<&str>, body: ChangeBody) -> Result<i64> {
        let seq = self.next_change;
        let data = match serde_json::to_value(&body) {
            Ok(serde_json::Value::Object(mut tagged)) => tagged.remove("data"),
            _ => None,
        }
        .ok_or_else(|| HubError::Internal(format!("a {} change has no data", body.kind())))?;
        sqlx::query(
            "INSERT INTO changes (seq, at, site_id, kind, body) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(seq)
        .bind(at)
        .bind(site)
        .bind(body.kind())
        .bind(data.to_string())
        .execute(&mut *self.tx)
        .await?;
        self.next_change += 1;
        self.changes.push(Arc::new(Change {
            seq,
            at,
            site: site.map(str::to_owned),
            body,
        }));
        Ok(seq)
    }

    /// Records who did what, in the same transaction as the change itself.
    pub async fn audit(&mut self, entry: AuditEntry<'_>) -> Result<()> {
        let seq = self.next_audit;
        sqlx::query(
            "INSERT INTO audit (seq, at, user_id, action, site_id, target, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(seq)
        .bind(entry.at)
        .bind(entry.user)
        .bind(entry.action)
        .bind(entry.site)
        .bind(entry.target)
        .bind(entry.detail.to_string())
        .execute(&mut *self.tx)
        .await?;
        self.next_audit += 1;
        Ok(())
    }

    /// Commits, then publishes the changes to live subscribers.
    pub async fn commit(self) -> Result<()> {
        let WriteTx {
            tx,
            _guard,
            db,
            next_change,
            changes,
            ..
        } = self;
        tx.commit().await?;
        db.last_change.store(next_change - 1, Ordering::SeqCst);
        for change in changes {
            // No subscribers is fine: the change is in the table for later.
            let _ = db.feed.send(change);
        }
        Ok(())
    }
}

/// One line of the audit trail.
#[derive(Debug)]
pub struct AuditEntry<'a> {
    pub at: i64,
    pub user: Option<&'a str>,
    pub action: &'a str,
    pub site: Option<&'a str>,
    pub target: Option<&'a str>,
    pub detail: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_split_at_line_ends_without_comments() {
        let sql = "-- head\nCREATE TABLE a (\n  x TEXT -- why\n);\n\nCREATE INDEX i ON a (x);\n";
        let parts = split_statements(sql);
        assert_eq!(parts.len(), 2);
        assert!(parts[0].starts_with("CREATE TABLE a"));
        assert!(!parts[0].contains("why"));
    }
}
