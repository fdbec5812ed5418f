//! The durable outbox: operator writes (alarm acknowledgements, incident changes, notes) that
//! the hub has not confirmed yet, in a SQLite file in the profile. A write is stored here
//! before it is sent and removed only once the hub answered it, so neither a lost hub nor a
//! killed app loses it; the hub's client-made ids make a repeat after a crash create nothing
//! twice. Delivery order is the order of writing (a note never overtakes its incident).
//!
//! This module only stores; deciding what may be queued and sending it is the core's job.

use crate::error::{AppError, Result};
use parking_lot::Mutex;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use std::path::{Path, PathBuf};
use ts_rs::TS;

/// One write waiting for the hub.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct OutboxItem {
    pub id: String,
    /// Which hub and operator wrote it: it is sent only on their session.
    pub hub: String,
    pub username: String,
    pub method: String,
    /// Below `/api/v1`.
    pub path: String,
    #[serde(skip)]
    pub body: serde_json::Value,
    /// What it is, for people ("Note on incident …").
    pub summary: String,
    pub created_ms: i64,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// The hub refused it for good (it stays until the operator discards it).
    pub failed: bool,
}

/// What the console shows of the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct OutboxView {
    pub items: Vec<OutboxItem>,
}

#[derive(Debug)]
pub struct Outbox {
    path: PathBuf,
    db: Mutex<Connection>,
}

fn storage(path: &Path, e: rusqlite::Error) -> AppError {
    AppError::storage(format!("the outbox {}: {e}", path.display()))
}

impl Outbox {
    /// Opens (or creates) the outbox file.
    pub fn open(path: &Path) -> Result<Self> {
        let db = Connection::open(path).map_err(|e| storage(path, e))?;
        // FULL: an acknowledged write is on disk before the console hears "queued".
        db.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             CREATE TABLE IF NOT EXISTS outbox (
                 seq INTEGER PRIMARY KEY AUTOINCREMENT,
                 id TEXT NOT NULL UNIQUE,
                 hub TEXT NOT NULL,
                 username TEXT NOT NULL,
                 method TEXT NOT NULL,
                 path TEXT NOT NULL,
                 body TEXT NOT NULL,
                 summary TEXT NOT NULL,
                 created_ms INTEGER NOT NULL,
                 attempts INTEGER NOT NULL DEFAULT 0,
                 last_error TEXT,
                 failed INTEGER NOT NULL DEFAULT 0
             );",
        )
        .map_err(|e| storage(path, e))?;
        Ok(Self {
            path: path.to_owned(),
            db: Mutex::new(db),
        })
    }

    /// Stores a write; it is on disk when this returns.
    pub fn push(&self, item: &OutboxItem) -> Result<()> {
        self.db
            .lock()
            .execute(
                "INSERT INTO outbox (id, hub, username, method, path, body, summary, created_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    item.id,
                    item.hub,
                    item.username,
                    item.method,
                    item.path,
                    item.body.to_string(),
                    item.summary,
                    item.created_ms
                ],
            )
            .map(drop)
            .map_err(|e| storage(&self.path, e))
    }

    fn select(&self, filter: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<OutboxItem>> {
        let db = self.db.lock();
        let mut statement = db
            .prepare(&format!(
                "SELECT id, hub, username, method, path, body, summary, created_ms, attempts, \
                 last_error, failed FROM outbox {filter} ORDER BY seq"
            ))
            .map_err(|e| storage(&self.path, e))?;
        let rows = statement
            .query_map(args, |row| {
                let body: String = row.get(5)?;
                Ok(OutboxItem {
                    id: row.get(0)?,
                    hub: row.get(1)?,
                    username: row.get(2)?,
                    method: row.get(3)?,
                    path: row.get(4)?,
                    body: serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
                    summary: row.get(6)?,
                    created_ms: row.get(7)?,
                    attempts: row.get(8)?,
                    last_error: row.get(9)?,
                    failed: row.get::<_, i64>(10)? != 0,
                })
            })
            .map_err(|e| storage(&self.path, e))?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(|e| storage(&self.path, e))
    }

    /// Writes still to send for this hub and operator, oldest first.
    pub fn pending(&self, hub: &str, username: &str) -> Result<Vec<OutboxItem>> {
        self.select(
            "WHERE failed = 0 AND hub = ?1 AND username = ?2",
            &[&hub, &username],
        )
    }

    pub fn view(&self) -> Result<OutboxView> {
        Ok(OutboxView {
            items: self.select("", &[])?,
        })
    }

    /// The hub has it: forget it.
    pub fn delivered(&self, id: &str) -> Result<()> {
        self.remove(id)
    }

    /// The operator gave up on a refused write.
    pub fn discard(&self, id: &str) -> Result<()> {
        let found = self
            .db
            .lock()
            .query_row("SELECT failed FROM outbox WHERE id = ?1", [id], |r| {
                r.get::<_, i64>(0)
            })
            .optional()
            .map_err(|e| storage(&self.path, e))?;
        match found {
            Some(1) => self.remove(id),
            Some(_) => Err(AppError::bad_input(
                "only a write the hub refused can be discarded; this one is still being sent",
            )),
            None => Err(AppError::bad_input(format!("no outbox item `{id}`"))),
        }
    }

    fn remove(&self, id: &str) -> Result<()> {
        self.db
            .lock()
            .execute("DELETE FROM outbox WHERE id = ?1", [id])
            .map(drop)
            .map_err(|e| storage(&self.path, e))
    }

    /// A try that did not get through; `refused` marks it failed for good.
    pub fn attempt_failed(&self, id: &str, error: &str, refused: bool) -> Result<()> {
        self.db
            .lock()
            .execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, failed = ?3 \
                 WHERE id = ?1",
                params![id, error, i64::from(refused)],
            )
            .map(drop)
            .map_err(|e| storage(&self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, user: &str) -> OutboxItem {
        OutboxItem {
            id: id.into(),
            hub: "https://hub:8443".into(),
            username: user.into(),
            method: "POST".into(),
            path: "/incidents/i1/notes".into(),
            body: serde_json::json!({"id": id, "text": "seen at the dock"}),
            summary: "Note".into(),
            created_ms: 1,
            attempts: 0,
            last_error: None,
            failed: false,
        }
    }

    fn scratch() -> PathBuf {
        testkit::scratch("outbox").join("outbox.sqlite")
    }

    #[test]
    fn writes_survive_a_reopen_in_order_until_delivered() {
        let path = scratch();
        {
            let outbox = Outbox::open(&path).expect("outbox");
            outbox.push(&item("n1", "guard")).expect("outbox");
            outbox.push(&item("n2", "guard")).expect("outbox");
            outbox.push(&item("n3", "other")).expect("outbox");
        }
        let outbox = Outbox::open(&path).expect("outbox");
        let pending = outbox.pending("https://hub:8443", "guard").expect("outbox");
        assert_eq!(
            pending.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
            ["n1", "n2"],
            "only this operator's, oldest first"
        );
        assert_eq!(pending[0].body["text"], "seen at the dock");
        outbox.delivered("n1").expect("outbox");
        assert_eq!(
            outbox
                .pending("https://hub:8443", "guard")
                .expect("outbox")
                .len(),
            1
        );
        assert!(outbox.push(&item("n2", "guard")).is_err(), "ids are unique");
    }

    #[test]
    fn refused_writes_wait_for_the_operator() {
        let outbox = Outbox::open(&scratch()).expect("outbox");
        outbox.push(&item("n1", "guard")).expect("outbox");
        assert!(
            outbox.discard("n1").is_err(),
            "a write still being sent stays"
        );
        outbox
            .attempt_failed("n1", "unreachable", false)
            .expect("outbox");
        let view = outbox.view().expect("outbox");
        assert_eq!(view.items[0].attempts, 1);
        assert!(!view.items[0].failed);
        outbox
            .attempt_failed("n1", "no such incident", true)
            .expect("outbox");
        assert!(
            outbox
                .pending("https://hub:8443", "guard")
                .expect("outbox")
                .is_empty()
        );
        assert!(outbox.view().expect("outbox").items[0].failed);
        outbox.discard("n1").expect("outbox");
        assert!(outbox.view().expect("outbox").items.is_empty());
        assert!(outbox.discard("n1").is_err());
    }
}
