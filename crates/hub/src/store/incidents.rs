//! Incidents: creating, reading, changing and deleting them, their links (an alarm brings its
//! event and cameras), notes and attachments.

use super::*;

impl Hub {
    pub async fn create_incident(
        &self,
        caller: &Caller,
        new: NewIncident,
    ) -> Result<IncidentDetail> {
        check_id("id", &new.id)?;
        check_id("site", &new.site)?;
        check_text("title", &new.title, 500)?;
        if new.title.trim().is_empty() {
            return Err(HubError::BadRequest("an incident needs a title".into()));
        }
        check_priority(new.priority)?;
        caller.require(&new.site, Right::WriteIncident)?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        if let Some(row) = sqlx::query("SELECT site_id FROM incidents WHERE id = $1")
            .bind(&new.id)
            .fetch_optional(tx.conn())
            .await?
        {
            let site: String = row.try_get("site_id")?;
            drop(tx);
            if site != new.site {
                return Err(HubError::Conflict(format!(
                    "incident id `{}` is taken",
                    new.id
                )));
            }
            return self.incident(caller, &new.id).await;
        }
        if let Some(assignee) = &new.assignee {
            check_user_exists(&mut tx, assignee).await?;
        }
        sqlx::query(
            "INSERT INTO incidents (id, site_id, title, status, priority, assignee, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, 'open', $4, $5, $6, $7, $7)",
        )
        .bind(&new.id)
        .bind(&new.site)
        .bind(&new.title)
        .bind(new.priority)
        .bind(&new.assignee)
        .bind(&caller.username)
        .bind(now)
        .execute(tx.conn())
        .await?;
        let links = self.expand_links(&mut tx, &new.site, &new.links).await?;
        insert_links(&mut tx, &new.id, &links).await?;
        let incident = incident_unchecked(&mut tx, &new.id).await?;
        tx.change(now, Some(&new.site), ChangeBody::Incident(incident.clone()))
            .await?;
        tx.audit(AuditEntry {
            at: now,
            user: Some(&caller.user_id),
            action: "incident.create",
            site: Some(&new.site),
            target: Some(&new.id),
            detail: json!({"title": new.title, "priority": new.priority, "links": links}),
        })
        .await?;
        tx.commit().await?;
        self.incident(caller, &new.id).await
    }

    /// An alarm link brings its event and cameras; every link must exist on the site.
    pub(super) async fn expand_links(
        &self,
        tx: &mut WriteTx,
        site: &str,
        links: &[IncidentLink],
    ) -> Result<Vec<IncidentLink>> {
        let mut out: Vec<IncidentLink> = Vec::new();
        let mut push = |link: IncidentLink| {
            if !out.iter().any(|l| l.kind == link.kind && l.id == link.id) {
                out.push(link);
            }
        };
        for link in links {
            check_id("link id", &link.id)?;
            match link.kind.as_str() {
                "alarm" => {
                    let alarm = self.alarm_unchecked(tx.conn(), &link.id).await?;
                    if alarm.site != site {
                        return Err(HubError::BadRequest(format!(
                            "alarm `{}` is on another site",
                            link.id
                        )));
                    }
                    push(link.clone());
                    push(IncidentLink {
                        kind: "event".into(),
                        id: alarm.event.clone(),
                    });
                    for camera in alarm.cameras {
                        push(IncidentLink {
                            kind: "camera".into(),
                            id: camera,
                        });
                    }
                }
                "event" | "camera" => {
                    let table = if link.kind == "event" {
                        "events"
                    } else {
                        "cameras"
                    };
                    let found = sqlx::query(&format!(
                        "SELECT id FROM {table} WHERE site_id = $1 AND id = $2"
                    ))
                    .bind(site)
                    .bind(&link.id)
                    .fetch_optional(tx.conn())
                    .await?;
                    if found.is_none() {
                        return Err(HubError::BadRequest(format!(
                            "no {} `{}` on site `{site}`",
                            link.kind, link.id
                        )));
                    }
                    push(link.clone());
                }
                other => {
                    return Err(HubError::BadRequest(format!(
                        "link kind `{}` must be alarm, event or camera",
                        clip(other)
                    )));
                }
            }
        }
        Ok(out)
    }

    pub async fn incident(&self, caller: &Caller, id: &str) -> Result<IncidentDetail> {
        check_id("incident", id)?;
        let mut conn = self.db.pool().acquire().await?;
        let incident = incident_on(&mut conn, id).await?;
        caller.require(&incident.site, Right::View)?;
        let notes = notes_of(&mut conn, id).await?;
        let history = sqlx::query(&format!("{AUDIT_SELECT} WHERE site_id = $2 AND action LIKE 'incident.%' AND (target = $1 OR target IN (SELECT id FROM incident_notes WHERE incident_id = $1)) ORDER BY seq"))
            .bind(id)
            .bind(&incident.site)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(audit_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(IncidentDetail {
            incident,
            notes,
            history,
        })
    }

    pub async fn list_incidents(
        &self,
        caller: &Caller,
        filter: IncidentFilter,
    ) -> Result<Vec<Incident>> {
        let site = filter
            .site
            .ok_or_else(|| HubError::BadRequest("`site` is required".into()))?;
        check_id("site", &site)?;
        caller.require(&site, Right::View)?;
        let status = filter
            .status
            .map(|s| {
                IncidentStatus::parse(&s).ok_or_else(|| {
                    HubError::BadRequest("status must be open, in-progress or closed".into())
                })
            })
            .transpose()?;
        let mut conn = self.db.pool().acquire().await?;
        let ids = match status {
            Some(status) => sqlx::query("SELECT id FROM incidents WHERE site_id = $1 AND deleted_at IS NULL AND status = $2 ORDER BY updated_at DESC LIMIT $3")
                .bind(&site)
                .bind(status.as_str())
                .bind(limit(filter.limit))
                .fetch_all(&mut *conn)
                .await?,
            None => sqlx::query("SELECT id FROM incidents WHERE site_id = $1 AND deleted_at IS NULL ORDER BY updated_at DESC LIMIT $2")
                .bind(&site)
                .bind(limit(filter.limit))
                .fetch_all(&mut *conn)
                .await?,
        };
        let mut incidents = Vec::with_capacity(ids.len());
        for row in ids {
            let id: String = row.try_get("id")?;
            incidents.push(incident_on(&mut conn, &id).await?);
        }
        Ok(incidents)
    }

    pub async fn update_incident(
        &self,
        caller: &Caller,
        id: &str,
        patch: IncidentPatch,
    ) -> Result<IncidentDetail> {
        check_id("incident", id)?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        let scope = format!("incident.update:{id}");
        if self
            .replayed(&mut tx, caller, &scope, &patch.request_id)
            .await?
            .is_some()
        {
            drop(tx);
            return self.incident(caller, id).await;
        }
        let current = incident_unchecked(&mut tx, id).await?;
        let only_links = patch.title.is_none()
            && patch.status.is_none()
            && patch.priority.is_none()
            && patch.assignee.is_none();
        caller.require(
            &current.site,
            if only_links {
                Right::WriteIncident
            } else {
                Right::ManageIncident
            },
        )?;
        if let Some(title) = &patch.title {
            check_text("title", title, 500)?;
            if title.trim().is_empty() {
                return Err(HubError::BadRequest("an incident needs a title".into()));
            }
        }
        if let Some(priority) = patch.priority {
            check_priority(priority)?;
        }
        let assignee = match patch.assignee.as_deref() {
            None => current.assignee.clone(),
            Some("") => None,
            Some(name) => {
                check_user_exists(&mut tx, name).await?;
                Some(name.to_owned())
            }
        };
        sqlx::query(
            "UPDATE incidents SET title = $1, status = $2, priority = $3, assignee = $4, updated_at = $5 WHERE id = $6",
        )
        .bind(patch.title.as_ref().unwrap_or(&current.title))
        .bind(patch.status.unwrap_or(current.status).as_str())
        .bind(patch.priority.unwrap_or(current.priority))
        .bind(&assignee)
        .bind(now)
        .bind(id)
        .execute(tx.conn())
        .await?;
        let links = self
            .expand_links(&mut tx, &current.site, &patch.links)
            .await?;
        insert_links(&mut tx, id, &links).await?;
        let updated = incident_unchecked(&mut tx, id).await?;
        tx.change(
            now,
            Some(&updated.site),
            ChangeBody::Incident(updated.clone()),
        )
        .await?;
        tx.audit(AuditEntry {
            at: now,
            user: Some(&caller.user_id),
            action: "incident.update",
            site: Some(&updated.site),
            target: Some(id),
            detail: json!({
                "title": patch.title, "status": patch.status, "priority": patch.priority,
                "assignee": patch.assignee, "links": links,
            }),
        })
        .await?;
        self.remember(
            &mut tx,
            caller,
            &scope,
            &patch.request_id,
            &json!({"incident": id}),
        )
        .await?;
        tx.commit().await?;
        self.incident(caller, id).await
    }

    /// Hides an incident from lists; its notes and audit trail stay.
    pub async fn delete_incident(&self, caller: &Caller, id: &str) -> Result<()> {
        check_id("incident", id)?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        let current = incident_unchecked(&mut tx, id).await?;
        caller.require(&current.site, Right::DeleteIncident)?;
        sqlx::query("UPDATE incidents SET deleted_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(tx.conn())
            .await?;
        tx.change(
            now,
            Some(&current.site),
            ChangeBody::IncidentDeleted(Removed { id: id.to_owned() }),
        )
        .await?;
        tx.audit(AuditEntry {
            at: now,
            user: Some(&caller.user_id),
            action: "incident.delete",
            site: Some(&current.site),
            target: Some(id),
            detail: json!({"title": current.title}),
        })
        .await?;
        tx.commit().await
    }

    /// Appends a note. A replayed note id returns the note already stored.
    pub async fn add_note(
        &self,
        caller: &Caller,
        incident: &str,
        note: NewNote,
    ) -> Result<IncidentNote> {
        check_id("incident", incident)?;
        check_id("id", &note.id)?;
        check_text("text", &note.text, 64 * 1024)?;
        if note.text.trim().is_empty() && note.attachments.is_empty() {
            return Err(HubError::BadRequest(
                "a note needs text or an attachment".into(),
            ));
        }
        if note.attachments.len() > 16 {
            return Err(HubError::BadRequest(
                "at most 16 attachments per note".into(),
            ));
        }
        let mut files = Vec::new();
        for attachment in &note.attachments {
            check_text("attachment name", &attachment.name, 256)?;
            check_text("media_type", &attachment.media_type, 128)?;
            if attachment.media_type.is_empty()
                || !attachment.media_type.bytes().all(|b| b.is_ascii_graphic())
            {
                return Err(HubError::BadRequest(
                    "media_type must be a MIME type (visible ASCII, no spaces)".into(),
                ));
            }
            use base64::Engine;
            let data = base64::engine::general_purpose::STANDARD
                .decode(&attachment.data)
                .map_err(|e| {
                    HubError::BadRequest(format!(
                        "attachment `{}` is not base64: {e}",
                        clip(&attachment.name)
                    ))
                })?;
            let sha256 = hex::encode(Sha256::digest(&data));
            files.push(NoteFile {
                name: attachment.name.clone(),
                media_type: attachment.media_type.clone(),
                data,
                sha256,
            });
        }
        self.insert_note(caller, incident, &note.id, &note.text, files)
            .await
    }

    /// Stores a note with its files (checked already) on `incident`, for a caller who may
    /// write incidents on its site. A replayed note id returns the note already stored.
    pub(super) async fn insert_note(
        &self,
        caller: &Caller,
        incident: &str,
        note_id: &str,
        text: &str,
        files: Vec<NoteFile>,
    ) -> Result<IncidentNote> {
        let now = self.now();
        let mut tx = self.db.write().await?;
        let current = incident_unchecked(&mut tx, incident).await?;
        caller.require(&current.site, Right::WriteIncident)?;
        if let Some(row) = sqlx::query("SELECT incident_id FROM incident_notes WHERE id = $1")
            .bind(note_id)
            .fetch_optional(tx.conn())
            .await?
        {
            let stored_for: String = row.try_get("incident_id")?;
            if stored_for != incident {
                return Err(HubError::Conflict(format!(
                    "note id `{}` is taken",
                    note_id
                )));
            }
            let mut notes = notes_of(tx.conn(), incident).await?;
            notes.retain(|n| n.id == note_id);
            return notes
                .pop()
                .ok_or_else(|| HubError::Internal("note vanished".into()));
        }
        sqlx::query("INSERT INTO incident_notes (id, incident_id, author, at, body) VALUES ($1, $2, $3, $4, $5)")
            .bind(note_id)
            .bind(incident)
            .bind(&caller.username)
            .bind(now)
            .bind(text)
            .execute(tx.conn())
            .await?;
        for file in &files {
            sqlx::query(
                "INSERT INTO attachments (sha256, media_type, size, data) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (sha256) DO NOTHING",
            )
            .bind(&file.sha256)
            .bind(&file.media_type)
            .bind(file.data.len() as i64)
            .bind(file.data.as_slice())
            .execute(tx.conn())
            .await?;
            sqlx::query(
                "INSERT INTO note_attachments (note_id, sha256, name) VALUES ($1, $2, $3) \
                 ON CONFLICT (note_id, sha256) DO NOTHING",
            )
            .bind(note_id)
            .bind(&file.sha256)
            .bind(&file.name)
            .execute(tx.conn())
            .await?;
        }
        sqlx::query("UPDATE incidents SET updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(incident)
            .execute(tx.conn())
            .await?;
        let mut notes = notes_of(tx.conn(), incident).await?;
        notes.retain(|n| n.id == note_id);
        let stored = notes
            .pop()
            .ok_or_else(|| HubError::Internal("note vanished".into()))?;
        tx.change(now, Some(&current.site), ChangeBody::Note(stored.clone()))
            .await?;
        tx.audit(AuditEntry {
            at: now,
            user: Some(&caller.user_id),
            action: "incident.note",
            site: Some(&current.site),
            target: Some(note_id),
            detail: json!({"incident": incident, "attachments": stored.attachments}),
        })
        .await?;
        tx.commit().await?;
        Ok(stored)
    }

    pub async fn attachment(&self, caller: &Caller, sha256: &str) -> Result<(String, Vec<u8>)> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(HubError::BadRequest(
                "an attachment is named by its SHA-256 in hex".into(),
            ));
        }
        // Visible when attached to a note on a site the caller can see.
        let sites = sqlx::query(
            "SELECT DISTINCT i.site_id FROM note_attachments a JOIN incident_notes n ON n.id = a.note_id \
             JOIN incidents i ON i.id = n.incident_id WHERE a.sha256 = $1",
        )
        .bind(sha256)
        .fetch_all(self.db.pool())
        .await?;
        let visible = sites.iter().any(|r| {
            r.try_get::<String, _>("site_id")
                .map(|s| caller.require(&s, Right::View).is_ok())
                .unwrap_or(false)
        });
        if !visible {
            return Err(HubError::NotFound("attachment".into()));
        }
        let row = sqlx::query("SELECT media_type, data FROM attachments WHERE sha256 = $1")
            .bind(sha256)
            .fetch_one(self.db.pool())
            .await?;
        Ok((row.try_get("media_type")?, row.try_get("data")?))
    }
}

pub(super) fn check_priority(priority: i64) -> Result<()> {
    (1..=5)
        .contains(&priority)
        .then_some(())
        .ok_or_else(|| HubError::BadRequest("priority must be 1 (most urgent) to 5".into()))
}

pub(super) async fn insert_links(
    tx: &mut WriteTx,
    incident: &str,
    links: &[IncidentLink],
) -> Result<()> {
    for link in links {
        sqlx::query(
            "INSERT INTO incident_links (incident_id, kind, target_id) VALUES ($1, $2, $3) \
             ON CONFLICT (incident_id, kind, target_id) DO NOTHING",
        )
        .bind(incident)
        .bind(&link.kind)
        .bind(&link.id)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

pub(super) async fn incident_unchecked(tx: &mut WriteTx, id: &str) -> Result<Incident> {
    incident_on(tx.conn(), id).await
}

pub(super) async fn incident_on(conn: &mut sqlx::AnyConnection, id: &str) -> Result<Incident> {
    let row = sqlx::query(
        "SELECT id, site_id, title, status, priority, assignee, created_by, created_at, updated_at \
         FROM incidents WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| HubError::NotFound(format!("incident `{}`", clip(id))))?;
    let links = sqlx::query("SELECT kind, target_id FROM incident_links WHERE incident_id = $1 ORDER BY kind, target_id")
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok(IncidentLink { kind: r.try_get("kind")?, id: r.try_get("target_id")? }))
        .collect::<Result<Vec<_>>>()?;
    let status: String = row.try_get("status")?;
    Ok(Incident {
        id: row.try_get("id")?,
        site: row.try_get("site_id")?,
        title: row.try_get("title")?,
        status: IncidentStatus::parse(&status)
            .ok_or_else(|| HubError::Internal(format!("stored status `{status}`")))?,
        priority: row.try_get("priority")?,
        assignee: row.try_get("assignee")?,
        created_by: row.try_get("created_by")?,
        created: rfc3339(row.try_get("created_at")?),
        updated: rfc3339(row.try_get("updated_at")?),
        links,
    })
}

/// A note's file, checked and hashed.
pub(super) struct NoteFile {
    pub name: String,
    pub media_type: String,
    pub data: Vec<u8>,
    pub sha256: String,
}

pub(super) async fn notes_of(
    conn: &mut sqlx::AnyConnection,
    incident: &str,
) -> Result<Vec<IncidentNote>> {
    let rows = sqlx::query(
        "SELECT id, author, at, body FROM incident_notes WHERE incident_id = $1 ORDER BY at, id",
    )
    .bind(incident)
    .fetch_all(&mut *conn)
    .await?;
    let mut notes = Vec::with_capacity(rows.len());
    for row in rows {
        let id: String = row.try_get("id")?;
        let attachments = sqlx::query(
            "SELECT a.name, f.media_type, f.size, f.sha256 FROM note_attachments a \
             JOIN attachments f ON f.sha256 = a.sha256 WHERE a.note_id = $1 ORDER BY a.name",
        )
        .bind(&id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(AttachmentRef {
                name: r.try_get("name")?,
                media_type: r.try_get("media_type")?,
                size: r.try_get("size")?,
                sha256: r.try_get("sha256")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        notes.push(IncidentNote {
            id,
            incident: incident.to_owned(),
            author: row.try_get("author")?,
            time: rfc3339(row.try_get("at")?),
            text: row.try_get("body")?,
            attachments,
        });
    }
    Ok(notes)
}
