//! Bookmarks: an instant or a range of a camera's video marked with a note, by an operator who
//! may write incidents on the site; every workstation of the site hears of it on the feed.

use super::*;
use contract::{Bookmark, BookmarkFilter, BookmarkLink, NewBookmark};

/// The longest note.
const NOTE_BYTES: usize = 2000;
/// The longest range a bookmark marks.
const MAX_RANGE_MS: i64 = 24 * 3600 * 1000;
/// Bookmarks in one answer: by default, and at most.
const LIST_DEFAULT: u32 = 100;
const LIST_MAX: u32 = 500;

impl Hub {
    /// Marks `new.camera`'s video at `new.at` (to `new.to`) with a note. The same request again
    /// (its client-made id) answers the bookmark it made; the id taken by anything else is a
    /// conflict.
    pub async fn create_bookmark(
        &self,
        caller: &Caller,
        site: &str,
        new: NewBookmark,
    ) -> Result<Bookmark> {
        check_id("site", site)?;
        check_id("id", &new.id)?;
        check_id("camera", &new.camera)?;
        check_text("note", &new.note, NOTE_BYTES)?;
        if let Some(incident) = &new.incident {
            check_id("incident", incident)?;
        }
        caller.require(site, Right::WriteIncident)?;
        let start = crate::parse_time(&new.at)?;
        let end = new.to.as_deref().map(crate::parse_time).transpose()?;
        if let Some(end) = end {
            if end <= start {
                return Err(HubError::BadRequest("to: after at".into()));
            }
            if end - start > MAX_RANGE_MS {
                return Err(HubError::BadRequest(
                    "a bookmark marks at most a day; make several".into(),
                ));
            }
        }
        let now = self.now();
        if start > now + 60_000 {
            return Err(HubError::BadRequest(
                "at: a bookmark marks video already seen, not the future".into(),
            ));
        }
        let mut tx = self.db.write().await?;
        if let Some(row) = sqlx::query(&format!("{SELECT} WHERE b.id = $1"))
            .bind(&new.id)
            .fetch_optional(tx.conn())
            .await?
        {
            let made = bookmark_from(&row)?;
            // The same request again (a retry, the outbox after a crash), whatever incident
            // the bookmark was linked to since.
            let same = made.site == site
                && made.created_by == caller.username
                && made.camera == new.camera
                && made.note == new.note;
            return if same {
                Ok(made)
            } else {
                Err(HubError::Conflict(format!(
                    "the bookmark id `{}` is taken; choose another",
                    clip(&new.id)
                )))
            };
        }
        if sqlx::query("SELECT id FROM cameras WHERE site_id = $1 AND id = $2")
            .bind(site)
            .bind(&new.camera)
            .fetch_optional(tx.conn())
            .await?
            .is_none()
        {
            return Err(HubError::NotFound(format!(
                "camera `{}`",
                clip(&new.camera)
            )));
        }
        if let Some(incident) = &new.incident {
            incident_on_site(&mut tx, incident, site).await?;
        }
        sqlx::query(
            "INSERT INTO bookmarks (id, site_id, camera_id, start_at, end_at, note, incident_id, \
             created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&new.id)
        .bind(site)
        .bind(&new.camera)
        .bind(start)
        .bind(end)
        .bind(&new.note)
        .bind(&new.incident)
        .bind(&caller.user_id)
        .bind(now)
        .execute(tx.conn())
        .await?;
        let made = Bookmark {
            id: new.id.clone(),
            site: site.to_owned(),
            camera: new.camera.clone(),
            at: rfc3339(start),
            to: end.map(rfc3339),
            note: new.note.clone(),
            incident: new.incident.clone(),
            created_by: caller.username.clone(),
            created: rfc3339(now),
        };
        tx.change(now, Some(site), ChangeBody::Bookmark(made.clone()))
            .await?;
        tx.audit(AuditEntry {
            at: now,
            user: Some(&caller.user_id),
            action: "bookmark.create",
            site: Some(site),
            target: Some(&new.id),
            detail: json!({"camera": new.camera, "at": made.at, "to": made.to,
                           "incident": new.incident}),
        })
        .await?;
        tx.commit().await?;
        Ok(made)
    }

    /// The site's bookmarks that match `filter`, newest instant first.
    pub async fn bookmarks(
        &self,
        caller: &Caller,
        site: &str,
        filter: &BookmarkFilter,
    ) -> Result<Vec<Bookmark>> {
        check_id("site", site)?;
        caller.require(site, Right::View)?;
        let limit = filter.limit.unwrap_or(LIST_DEFAULT).clamp(1, LIST_MAX);
        // Conditions as the events' list builds them: each one only when asked for, so that
        // SQLite and PostgreSQL read the same typed statement.
        let mut sql = format!("{SELECT} WHERE b.site_id = $1");
        let mut texts: Vec<String> = Vec::new();
        let mut times: Vec<i64> = Vec::new();
        for (column, value) in [
            ("camera_id", &filter.camera),
            ("incident_id", &filter.incident),
        ] {
            if let Some(value) = value {
                check_id(column, value)?;
                texts.push(value.clone());
                sql.push_str(&format!(" AND b.{column} = ${}", 1 + texts.len()));
            }
        }
        for (op, value) in [(">=", &filter.from), ("<", &filter.to)] {
            if let Some(value) = value {
                times.push(crate::parse_time(value)?);
                sql.push_str(&format!(
                    " AND b.start_at {op} ${}",
                    1 + texts.len() + times.len()
                ));
            }
        }
        sql.push_str(" ORDER BY b.start_at DESC, b.id");
        let words: Vec<String> = filter
            .q
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .take(8)
            .map(str::to_lowercase)
            .collect();
        let mut query = sqlx::query(&sql).bind(site);
        for text in &texts {
            query = query.bind(text);
        }
        for time in &times {
            query = query.bind(*time);
        }
        let rows = query.fetch_all(self.db.pool()).await?;
        let mut found = Vec::new();
        for row in &rows {
            let bookmark = bookmark_from(row)?;
            let note = bookmark.note.to_lowercase();
            if words.iter().all(|w| note.contains(w.as_str())) {
                found.push(bookmark);
                if found.len() >= limit as usize {
                    break;
                }
            }
        }
        Ok(found)
    }

    /// Links a bookmark to an incident of its site, or unlinks it: whoever may write the
    /// site's incidents. Everyone on the site hears of it on the feed.
    pub async fn link_bookmark(
        &self,
        caller: &Caller,
        site: &str,
        id: &str,
        link: BookmarkLink,
    ) -> Result<Bookmark> {
        check_id("site", site)?;
        check_id("id", id)?;
        if let Some(incident) = &link.incident {
            check_id("incident", incident)?;
        }
        caller.require(site, Right::WriteIncident)?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        let mut bookmark = bookmark_on_site(&mut tx, id, site).await?;
        if bookmark.incident == link.incident {
            return Ok(bookmark);
        }
        if let Some(incident) = &link.incident {
            incident_on_site(&mut tx, incident, site).await?;
        }
        sqlx::query("UPDATE bookmarks SET incident_id = $1 WHERE id = $2")
            .bind(&link.incident)
            .bind(id)
            .execute(tx.conn())
            .await?;
        let before = std::mem::replace(&mut bookmark.incident, link.incident);
        tx.change(now, Some(site), ChangeBody::Bookmark(bookmark.clone()))
            .await?;
        tx.audit(AuditEntry {
            at: now,
            user: Some(&caller.user_id),
            action: "bookmark.link",
            site: Some(site),
            target: Some(id),
            detail: json!({"incident": bookmark.incident, "before": before}),
        })
        .await?;
        tx.commit().await?;
        Ok(bookmark)
    }

    /// Deletes a bookmark: its maker, or whoever manages the site's incidents.
    pub async fn delete_bookmark(&self, caller: &Caller, site: &str, id: &str) -> Result<()> {
        check_id("site", site)?;
        check_id("id", id)?;
        caller.require(site, Right::View)?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        let bookmark = bookmark_on_site(&mut tx, id, site).await?;
        if bookmark.created_by != caller.username {
            caller.require(site, Right::ManageIncident)?;
        }
        sqlx::query("DELETE FROM bookmarks WHERE id = $1")
            .bind(id)
            .execute(tx.conn())
            .await?;
        tx.change(
            now,
            Some(site),
            ChangeBody::BookmarkRemoved(Removed { id: id.to_owned() }),
        )
        .await?;
        tx.audit(AuditEntry {
            at: now,
            user: Some(&caller.user_id),
            action: "bookmark.delete",
            site: Some(site),
            target: Some(id),
            detail: json!({"camera": bookmark.camera, "at": bookmark.at}),
        })
        .await?;
        tx.commit().await
    }
}

/// Bookmark `id` of `site`, read in the write that changes it.
async fn bookmark_on_site(tx: &mut WriteTx, id: &str, site: &str) -> Result<Bookmark> {
    let row = sqlx::query(&format!("{SELECT} WHERE b.id = $1 AND b.site_id = $2"))
        .bind(id)
        .bind(site)
        .fetch_optional(tx.conn())
        .await?
        .ok_or_else(|| HubError::NotFound(format!("bookmark `{}`", clip(id))))?;
    bookmark_from(&row)
}

/// Refuses an incident that is not (or no longer) on `site`.
async fn incident_on_site(tx: &mut WriteTx, incident: &str, site: &str) -> Result<()> {
    let on_site = sqlx::query(
        "SELECT id FROM incidents WHERE id = $1 AND site_id = $2 AND deleted_at IS NULL",
    )
    .bind(incident)
    .bind(site)
    .fetch_optional(tx.conn())
    .await?;
    match on_site {
        Some(_) => Ok(()),
        None => Err(HubError::NotFound(format!(
            "incident `{}` on this site",
            clip(incident)
        ))),
    }
}

const SELECT: &str = "SELECT b.id, b.site_id, b.camera_id, b.start_at, b.end_at, b.note, \
     b.incident_id, u.username, b.created_at FROM bookmarks b JOIN users u ON u.id = b.created_by";
