//! Evidence locks and the recorders' syncs.
//!
//! An evidence lock keeps a camera's recorded range on its recorder, whatever retention says,
//! until it is released; both are audit lines. A recorder learns of the locks by syncing: it
//! posts its health (and the stream tickets it refused) signed with its Ed25519 key, the one
//! the hub registered for it, and the answer is every lock that holds on its site (a camera
//! moved to another recorder keeps its old video locked where it lies). A sync not newer than
//! the last one from the same recorder is a replay and is refused.

use super::*;
use contract::{
    CameraEvent, EvidenceLock, NewEvidenceLock, RecorderHealth, RecorderReport, RecorderSync, Right,
};

/// The longest range one lock may hold.
pub const MAX_LOCK_MS: i64 = 31 * 24 * 3600 * 1000;
/// How far a recorder's clock may be from the hub's.
const SYNC_SKEW_MS: i64 = 5 * 60 * 1000;
/// How long a release is told to recorders: one that syncs less often keeps the lock (its
/// video stays, which is the safe side).
const RELEASES_KEPT_MS: i64 = 90 * 24 * 3600 * 1000;
/// How far back a sync's answer names the site's events: several syncs' worth, so a recorder
/// that missed one still hears of them.
const RECENT_EVENTS_MS: i64 = 10 * 60 * 1000;
/// How far ahead a lock may reach: video not yet recorded can be kept for the next day.
const LOCK_AHEAD_MS: i64 = 24 * 3600 * 1000;
/// Locks that hold at once on one site: beyond, old ones must be released first.
const MAX_HELD_LOCKS: i64 = 1000;
/// The most refused tickets one sync may report (the recorder keeps fewer).
const MAX_REFUSED: usize = 1000;

fn lock_of(row: &AnyRow) -> Result<EvidenceLock> {
    Ok(EvidenceLock {
        id: row.try_get("id")?,
        site: row.try_get("site_id")?,
        camera: row.try_get("camera_id")?,
        from: rfc3339(row.try_get("start_at")?),
        to: rfc3339(row.try_get("end_at")?),
        reason: row.try_get("reason")?,
        created_by: row.try_get("created_by")?,
        created_at: rfc3339(row.try_get("created_at")?),
        released_at: opt_time(row.try_get("released_at")?),
        released_by: row.try_get("released_by")?,
    })
}

const LOCK_COLUMNS: &str = "id, site_id, camera_id, start_at, end_at, reason, created_by, \
                            created_at, released_by, released_at";

impl Hub {
    /// Locks a camera's range as evidence (whoever may write incidents on its site).
    pub async fn create_lock(
        &self,
        actor: Actor<'_>,
        site: &str,
        new: NewEvidenceLock,
    ) -> Result<EvidenceLock> {
        check_id("site", site)?;
        check_id("camera", &new.camera)?;
        check_text("reason", &new.reason, 500)?;
        actor.require(site, Right::WriteIncident)?;
        if new.reason.trim().is_empty() {
            return Err(HubError::BadRequest(
                "reason: say why the video is kept".into(),
            ));
        }
        let (start, end) = (crate::parse_time(&new.from)?, crate::parse_time(&new.to)?);
        if end <= start {
            return Err(HubError::BadRequest("to: after from".into()));
        }
        if end - start > MAX_LOCK_MS {
            return Err(HubError::BadRequest(
                "a lock holds at most 31 days; make several".into(),
            ));
        }
        let now = self.now();
        if end > now + LOCK_AHEAD_MS {
            return Err(HubError::BadRequest(
                "to: at most a day ahead (a lock keeps recorded video)".into(),
            ));
        }
        let user = actor.user_id().unwrap_or("local-admin").to_owned();
        let mut tx = self.db.write().await?;
        let camera = sqlx::query("SELECT id FROM cameras WHERE site_id = $1 AND id = $2")
            .bind(site)
            .bind(&new.camera)
            .fetch_optional(tx.conn())
            .await?;
        if camera.is_none() {
            return Err(HubError::NotFound(format!("camera `{}`", new.camera)));
        }
        let held: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM evidence_locks WHERE site_id = $1 AND released_at IS NULL",
        )
        .bind(site)
        .fetch_one(tx.conn())
        .await?
        .try_get("n")?;
        if held >= MAX_HELD_LOCKS {
            return Err(HubError::Conflict(format!(
                "{held} locks hold on this site already; release some first"
            )));
        }
        let id = crate::new_id("lock");
        sqlx::query(
            "INSERT INTO evidence_locks (id, site_id, camera_id, start_at, end_at, reason, \
             created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(site)
        .bind(&new.camera)
        .bind(start)
        .bind(end)
        .bind(&new.reason)
        .bind(&user)
        .bind(now)
        .execute(tx.conn())
        .await?;
        tx.audit(AuditEntry {
            at: now,
            user: actor.user_id(),
            action: "evidence.lock",
            site: Some(site),
            target: Some(&new.camera),
            detail: json!({
                "lock": id,
                "from": rfc3339(start),
                "to": rfc3339(end),
                "reason": new.reason,
            }),
        })
        .await?;
        tx.commit().await?;
        Ok(EvidenceLock {
            id,
            site: site.to_owned(),
            camera: new.camera,
            from: rfc3339(start),
            to: rfc3339(end),
            reason: new.reason,
            created_by: user,
            created_at: rfc3339(now),
            released_at: None,
            released_by: None,
        })
    }

    /// Releases a lock (whoever may manage incidents on its site): its video is retention's
    /// again once the recorder syncs.
    pub async fn release_lock(
        &self,
        actor: Actor<'_>,
        site: &str,
        id: &str,
    ) -> Result<EvidenceLock> {
        check_id("site", site)?;
        check_id("lock", id)?;
        actor.require(site, Right::ManageIncident)?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        let row = sqlx::query(&format!(
            "SELECT {LOCK_COLUMNS} FROM evidence_locks WHERE id = $1 AND site_id = $2"
        ))
        .bind(id)
        .bind(site)
        .fetch_optional(tx.conn())
        .await?
        .ok_or_else(|| HubError::NotFound(format!("lock `{id}`")))?;
        let mut lock = lock_of(&row)?;
        if lock.released_at.is_some() {
            return Err(HubError::Conflict(format!(
                "lock `{id}` is already released"
            )));
        }
        let user = actor.user_id().unwrap_or("local-admin").to_owned();
        sqlx::query(
            "UPDATE evidence_locks SET released_by = $1, released_at = $2 \
             WHERE id = $3 AND released_at IS NULL",
        )
        .bind(&user)
        .bind(now)
        .bind(id)
        .execute(tx.conn())
        .await?;
        tx.audit(AuditEntry {
            at: now,
            user: actor.user_id(),
            action: "evidence.release",
            site: Some(site),
            target: Some(&lock.camera),
            detail: json!({"lock": id, "from": lock.from, "to": lock.to}),
        })
        .await?;
        tx.commit().await?;
        lock.released_at = Some(rfc3339(now));
        lock.released_by = Some(user);
        Ok(lock)
    }

    /// The locks of `site` (of one camera when given), those that hold first, newest first.
    pub async fn locks(
        &self,
        caller: &Caller,
        site: &str,
        camera: Option<&str>,
    ) -> Result<Vec<EvidenceLock>> {
        check_id("site", site)?;
        if let Some(camera) = camera {
            check_id("camera", camera)?;
        }
        caller.require(site, Right::View)?;
        let one_camera = if camera.is_some() {
            "AND camera_id = $2"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {LOCK_COLUMNS} FROM evidence_locks WHERE site_id = $1 {one_camera} \
             ORDER BY CASE WHEN released_at IS NULL THEN 0 ELSE 1 END, created_at DESC \
             LIMIT 1000"
        );
        let mut query = sqlx::query(&sql).bind(site);
        if let Some(camera) = camera {
            query = query.bind(camera);
        }
        query
            .fetch_all(self.db.pool())
            .await?
            .iter()
            .map(lock_of)
            .collect()
    }

    /// A recorder's sync: checks its signature (with the key registered for it), keeps its
    /// report, audits the tickets it refused, and answers the locks that hold on its site.
    pub async fn recorder_sync(
        &self,
        recorder: &str,
        timestamp_ms: &str,
        signature: &str,
        body: &[u8],
    ) -> Result<RecorderSync> {
        let forbidden = |why: &str| HubError::Forbidden(format!("recorder sync: {why}"));
        if !::events::is_id(recorder) {
            return Err(forbidden("unknown recorder"));
        }
        let row = sqlx::query("SELECT site_id, public_key FROM recorders WHERE id = $1")
            .bind(recorder)
            .fetch_optional(self.db.pool())
            .await?
            .ok_or_else(|| forbidden("unknown recorder"))?;
        let site: String = row.try_get("site_id")?;
        let public_key: String = row.try_get("public_key")?;
        let signed_at: i64 = timestamp_ms
            .parse()
            .map_err(|_| forbidden("bad timestamp"))?;
        let now = self.now();
        if now.abs_diff(signed_at) > SYNC_SKEW_MS as u64 {
            return Err(forbidden("timestamp is more than 5 minutes off"));
        }
        let message = contract::recorder_signed_message(recorder, timestamp_ms, body);
        if !keys::verify(&public_key, &message, signature) {
            return Err(forbidden("signature does not match the recorder's key"));
        }
        let report: RecorderReport = serde_json::from_slice(body)
            .map_err(|e| HubError::BadRequest(format!("not a recorder report: {e}")))?;
        if report.refused.len() > MAX_REFUSED || report.streams.len() > 10_000 {
            return Err(HubError::PayloadTooLarge(
                "too many entries in one report".into(),
            ));
        }
        let stored = serde_json::to_string(&report)
            .map_err(|e| HubError::Internal(format!("report: {e}")))?;
        let mut tx = self.db.write().await?;
        // Newer than the last one, or it is a replay (checked inside the write, so two
        // copies of one sync cannot both pass).
        let last: Option<i64> =
            sqlx::query("SELECT signed_at FROM recorder_health WHERE recorder_id = $1")
                .bind(recorder)
                .fetch_optional(tx.conn())
                .await?
                .map(|r| r.try_get("signed_at"))
                .transpose()?;
        if last.is_some_and(|last| signed_at <= last) {
            return Err(forbidden("not newer than the last sync (a replay?)"));
        }
        sqlx::query(
            "INSERT INTO recorder_health (recorder_id, seen_at, signed_at, report) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (recorder_id) DO UPDATE SET \
             seen_at = excluded.seen_at, signed_at = excluded.signed_at, report = excluded.report",
        )
        .bind(recorder)
        .bind(now)
        .bind(signed_at)
        .bind(&stored)
        .execute(tx.conn())
        .await?;
        for refused in &report.refused {
            // A camera is named only when it is one of the site's; a user only when it is one
            // the hub knows (a forged ticket names whoever the forger liked).
            let camera = match &refused.camera {
                Some(camera) if ::events::is_id(camera) => {
                    sqlx::query("SELECT id FROM cameras WHERE site_id = $1 AND id = $2")
                        .bind(&site)
                        .bind(camera)
                        .fetch_optional(tx.conn())
                        .await?
                        .map(|_| camera.clone())
                }
                _ => None,
            };
            // The actor is the recorder: the user its ticket named and the time it says it
            // refused go in the detail, as the recorder's word.
            let ticket_user = refused.user.as_deref().filter(|u| ::events::is_id(u));
            let refused_at = crate::parse_time(&refused.at).ok().map(rfc3339);
            tx.audit(AuditEntry {
                at: now,
                user: None,
                action: "camera.ticket.refused",
                site: Some(&site),
                target: camera.as_deref(),
                detail: json!({
                    "by": "recorder",
                    "recorder": recorder,
                    "ticket_user": ticket_user,
                    "refused_at": refused_at,
                    "stream": refused.stream.as_str(),
                    "mode": refused.mode.as_str(),
                    "reason": refused.reason.chars().take(250).collect::<String>(),
                }),
            })
            .await?;
        }
        let locks = sqlx::query(&format!(
            "SELECT {LOCK_COLUMNS} FROM evidence_locks \
             WHERE site_id = $1 AND released_at IS NULL ORDER BY start_at"
        ))
        .bind(&site)
        .fetch_all(tx.conn())
        .await?
        .iter()
        .map(lock_of)
        .collect::<Result<Vec<_>>>()?;
        let released = sqlx::query(
            "SELECT id FROM evidence_locks WHERE site_id = $1 AND released_at IS NOT NULL \
             AND released_at > $2 ORDER BY released_at",
        )
        .bind(&site)
        .bind(now - RELEASES_KEPT_MS)
        .fetch_all(tx.conn())
        .await?
        .iter()
        .map(|row| row.try_get("id").map_err(HubError::from))
        .collect::<Result<Vec<String>>>()?;
        tx.commit().await?;
        // What lately names a camera this recorder serves: its events (by when the hub heard of
        // them, so late deliveries are told too), and the alarms that list it. Newest first.
        let since = now - RECENT_EVENTS_MS;
        let served: std::collections::BTreeSet<String> =
            sqlx::query("SELECT id FROM cameras WHERE site_id = $1 AND recorder_id = $2")
                .bind(&site)
                .bind(recorder)
                .fetch_all(self.db.pool())
                .await?
                .iter()
                .map(|row| row.try_get("id"))
                .collect::<std::result::Result<_, _>>()?;
        let mut events = Vec::new();
        for row in sqlx::query(
            "SELECT e.source AS source, e.id AS id, e.camera_id AS camera_id, e.at AS at FROM events e \
             JOIN cameras c ON c.site_id = e.site_id AND c.id = e.camera_id \
             WHERE e.site_id = $1 AND c.recorder_id = $2 AND e.received_at > $3 \
             ORDER BY e.received_at DESC LIMIT 5000",
        )
        .bind(&site)
        .bind(recorder)
        .bind(since)
        .fetch_all(self.db.pool())
        .await?
        {
            // An event's id is its source's own: with the source, it names one event.
            let (source, id): (String, String) = (row.try_get("source")?, row.try_get("id")?);
            events.push(CameraEvent {
                id: format!("{source}/{id}"),
                camera: row.try_get("camera_id")?,
                at: rfc3339(row.try_get("at")?),
            });
        }
        let alarms = sqlx::query(
            "SELECT id, cameras, raised_at AS at FROM alarms \
             WHERE site_id = $1 AND raised_at > $2 ORDER BY raised_at DESC LIMIT 5000",
        )
        .bind(&site)
        .bind(since)
        .fetch_all(self.db.pool())
        .await?;
        // An alarm's repeats (its door forced again while it was new): each keeps its video.
        let repeats = sqlx::query(
            "SELECT r.alarm_id || '/' || r.event_source || '/' || r.event_id AS id, \
             a.cameras AS cameras, r.at AS at FROM alarm_repeats r \
             JOIN alarms a ON a.id = r.alarm_id \
             WHERE a.site_id = $1 AND r.at > $2 ORDER BY r.at DESC LIMIT 5000",
        )
        .bind(&site)
        .bind(since)
        .fetch_all(self.db.pool())
        .await?;
        for row in alarms.iter().chain(&repeats) {
            let id: String = row.try_get("id")?;
            let at = rfc3339(row.try_get("at")?);
            let cameras: Vec<String> = json_column(row, "cameras").unwrap_or_default();
            for camera in cameras.into_iter().filter(|c| served.contains(c)) {
                events.push(CameraEvent {
                    id: id.clone(),
                    camera,
                    at: at.clone(),
                });
            }
        }
        Ok(RecorderSync {
            locks,
            released,
            events,
        })
    }

    /// The recorders of `site` with their last health report.
    pub async fn recorder_health(
        &self,
        caller: &Caller,
        site: &str,
    ) -> Result<Vec<RecorderHealth>> {
        check_id("site", site)?;
        caller.require(site, Right::View)?;
        sqlx::query(
            "SELECT h.recorder_id AS recorder_id, h.seen_at AS seen_at, h.report AS report \
             FROM recorder_health h JOIN recorders r ON r.id = h.recorder_id \
             WHERE r.site_id = $1 ORDER BY h.recorder_id",
        )
        .bind(site)
        .fetch_all(self.db.pool())
        .await?
        .iter()
        .map(|row| {
            Ok(RecorderHealth {
                recorder: row.try_get("recorder_id")?,
                seen_at: rfc3339(row.try_get("seen_at")?),
                report: json_column(row, "report")?,
            })
        })
        .collect()
    }
}
