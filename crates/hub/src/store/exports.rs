//! Evidence exports from incidents: the request (with an evidence lock on the range of each
//! camera), its progress as each camera's signed files arrive as a note on the incident, and
//! the check of those files against the manifests their recorders signed. Fetching the files
//! from the recorders is the API's (`api/exports.rs`).

use super::*;
use contract::{
    EvidenceExport, ExportCheck, ExportState, FileCheck, MAX_EXPORT_S, ManifestCheck,
    NewAttachment, NewEvidenceLock, NewExport, NewNote,
};

/// Cameras in one export.
const MAX_CAMERAS: usize = 16;
/// The manifest a recorder signs (see the recorder's `export.rs`), as far as the hub reads it.
#[derive(Debug, serde::Deserialize)]
struct Manifest {
    format: String,
    recorder: String,
    recorder_key: String,
    requested_by: String,
    reason: String,
    from_us: i64,
    to_us: i64,
    files: Vec<ManifestFile>,
}

#[derive(Debug, serde::Deserialize)]
struct ManifestFile {
    name: String,
    camera: String,
    bytes: u64,
    sha256: String,
}

/// The manifest format the hub understands.
const MANIFEST_FORMAT: &str = "watchfloor-export/1";

const EXPORT_COLUMNS: &str = "id, incident_id, site_id, cameras, notes, start_at, end_at, \
                              reason, state, error, created_by, created_at";

fn export_from(row: &AnyRow) -> Result<EvidenceExport> {
    let list = |column: &str| -> Result<Vec<String>> {
        let text: String = row.try_get(column)?;
        serde_json::from_str(&text).map_err(|e| HubError::Internal(format!("export {column}: {e}")))
    };
    let cameras = list("cameras")?;
    let notes = list("notes")?;
    let state: String = row.try_get("state")?;
    Ok(EvidenceExport {
        id: row.try_get("id")?,
        incident: row.try_get("incident_id")?,
        site: row.try_get("site_id")?,
        done: notes.len().min(cameras.len()) as u32,
        cameras,
        notes,
        from: rfc3339(row.try_get("start_at")?),
        to: rfc3339(row.try_get("end_at")?),
        reason: row.try_get("reason")?,
        state: ExportState::parse(&state)
            .ok_or_else(|| HubError::Internal(format!("export state `{state}`")))?,
        error: row.try_get("error")?,
        created_by: row.try_get("created_by")?,
        created: rfc3339(row.try_get("created_at")?),
    })
}

impl Hub {
    /// Starts an export of `new.cameras` from `new.from` to `new.to` for `incident`: each
    /// camera's range is locked as evidence at once; the files follow (see
    /// [`Hub::export_arrived`]). Answers the export and whether it is new (the same request
    /// again answers the export it made).
    pub async fn create_export(
        &self,
        caller: &Caller,
        incident: &str,
        new: NewExport,
    ) -> Result<(EvidenceExport, bool)> {
        check_id("incident", incident)?;
        check_id("id", &new.id)?;
        check_text("reason", &new.reason, 500)?;
        if new.reason.trim().is_empty() {
            return Err(HubError::BadRequest(
                "reason: say why the video is exported".into(),
            ));
        }
        if new.cameras.is_empty() || new.cameras.len() > MAX_CAMERAS {
            return Err(HubError::BadRequest(format!("cameras: 1 to {MAX_CAMERAS}")));
        }
        for camera in &new.cameras {
            check_id("camera", camera)?;
        }
        let mut cameras = new.cameras.clone();
        cameras.sort();
        cameras.dedup();
        if cameras.len() != new.cameras.len() {
            return Err(HubError::BadRequest("cameras: each once".into()));
        }
        let (start, end) = (crate::parse_time(&new.from)?, crate::parse_time(&new.to)?);
        if end <= start || end - start > MAX_EXPORT_S * 1000 {
            return Err(HubError::BadRequest(format!(
                "to: after from, and at most {} minutes after it",
                MAX_EXPORT_S / 60
            )));
        }
        let now = self.now();
        if end > now {
            return Err(HubError::BadRequest(
                "to: an export holds video already recorded, not the future".into(),
            ));
        }
        let site = self.incident_site(incident).await?;
        caller.require(&site, Right::WriteIncident)?;
        if let Some(row) = sqlx::query(&format!(
            "SELECT {EXPORT_COLUMNS} FROM evidence_exports WHERE id = $1"
        ))
        .bind(&new.id)
        .fetch_optional(self.db.pool())
        .await?
        {
            let made = export_from(&row)?;
            if made.incident != incident {
                return Err(HubError::Conflict(format!(
                    "export id `{}` is taken",
                    new.id
                )));
            }
            return Ok((made, false));
        }
        for camera in &new.cameras {
            let known = sqlx::query("SELECT id FROM cameras WHERE site_id = $1 AND id = $2")
                .bind(&site)
                .bind(camera)
                .fetch_optional(self.db.pool())
                .await?;
            if known.is_none() {
                return Err(HubError::NotFound(format!("camera `{camera}`")));
            }
        }
        // The range is kept whatever happens to the export.
        for camera in &new.cameras {
            self.create_lock(
                Actor::User(caller),
                &site,
                NewEvidenceLock {
                    camera: camera.clone(),
                    from: new.from.clone(),
                    to: new.to.clone(),
                    reason: format!("Evidence for incident {incident}: {}", new.reason),
                },
            )
            .await?;
        }
        let cameras_json = json!(new.cameras).to_string();
        let mut tx = self.db.write().await?;
        sqlx::query(
            "INSERT INTO evidence_exports (id, incident_id, site_id, cameras, notes, start_at, \
             end_at, reason, state, created_by, created_at) \
             VALUES ($1, $2, $3, $4, '[]', $5, $6, $7, 'running', $8, $9)",
        )
        .bind(&new.id)
        .bind(incident)
        .bind(&site)
        .bind(&cameras_json)
        .bind(start)
        .bind(end)
        .bind(&new.reason)
        .bind(&caller.user_id)
        .bind(now)
        .execute(tx.conn())
        .await?;
        tx.audit(AuditEntry {
            at: now,
            user: Some(&caller.user_id),
            action: "incident.export",
            site: Some(&site),
            target: Some(&new.id),
            detail: json!({"incident": incident, "cameras": new.cameras,
                           "from": rfc3339(start), "to": rfc3339(end), "reason": new.reason}),
        })
        .await?;
        tx.commit().await?;
        Ok((self.export_unchecked(&new.id).await?, true))
    }

    async fn incident_site(&self, incident: &str) -> Result<String> {
        Ok(sqlx::query("SELECT site_id FROM incidents WHERE id = $1")
            .bind(incident)
            .fetch_optional(self.db.pool())
            .await?
            .ok_or_else(|| HubError::NotFound(format!("incident `{}`", clip(incident))))?
            .try_get("site_id")?)
    }

    async fn export_unchecked(&self, id: &str) -> Result<EvidenceExport> {
        let row = sqlx::query(&format!(
            "SELECT {EXPORT_COLUMNS} FROM evidence_exports WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.db.pool())
        .await?
        .ok_or_else(|| HubError::NotFound(format!("export `{}`", clip(id))))?;
        export_from(&row)
    }

    /// One export, for a caller who may see its site.
    pub async fn export(&self, caller: &Caller, id: &str) -> Result<EvidenceExport> {
        check_id("export", id)?;
        let export = self.export_unchecked(id).await?;
        caller.require(&export.site, Right::View)?;
        Ok(export)
    }

    /// An incident's exports, newest first.
    pub async fn exports(&self, caller: &Caller, incident: &str) -> Result<Vec<EvidenceExport>> {
        check_id("incident", incident)?;
        let site = self.incident_site(incident).await?;
        caller.require(&site, Right::View)?;
        sqlx::query(&format!(
            "SELECT {EXPORT_COLUMNS} FROM evidence_exports WHERE incident_id = $1 \
             ORDER BY created_at DESC, id"
        ))
        .bind(incident)
        .fetch_all(self.db.pool())
        .await?
        .iter()
        .map(export_from)
        .collect()
    }

    /// One camera's signed files of export `id` arrived: they are checked against their
    /// manifest and the key the hub knows for its recorder, and kept as a note on the
    /// incident. A check that fails fails the export (the files are not kept).
    pub async fn export_arrived(
        &self,
        caller: &Caller,
        id: &str,
        camera: &str,
        files: Vec<NewAttachment>,
    ) -> Result<EvidenceExport> {
        let export = self.export_unchecked(id).await?;
        let file = |name: &str| -> Result<Vec<u8>> {
            use base64::Engine;
            let attachment = files
                .iter()
                .find(|f| f.name == name)
                .ok_or_else(|| HubError::Upstream(format!("the export has no `{name}`")))?;
            base64::engine::general_purpose::STANDARD
                .decode(&attachment.data)
                .map_err(|e| HubError::Upstream(format!("`{name}` is not base64: {e}")))
        };
        let manifest_bytes = file("manifest.json")?;
        let signature = file("manifest.sig")?;
        let check = self
            .check_manifest(&manifest_bytes, &signature, |name| file(name).ok())
            .await?;
        if !check.signature_valid || !check.files.iter().all(|f| f.intact) {
            return Err(HubError::Upstream(format!(
                "{camera}'s export does not verify against the key of recorder `{}`",
                check.recorder
            )));
        }
        if check.files.iter().any(|f| f.camera != camera) {
            return Err(HubError::Upstream(format!(
                "{camera}'s export holds another camera's files"
            )));
        }
        let text = format!(
            "Evidence export {id}: {camera} from {} to {}, signed by recorder {} and verified. \
             Reason: {}",
            check.from, check.to, check.recorder, export.reason
        );
        let note = format!("{id}-{camera}");
        self.add_note(
            caller,
            &export.incident,
            NewNote {
                id: note.clone(),
                text,
                attachments: files,
            },
        )
        .await?;
        let mut notes = export.notes.clone();
        if !notes.contains(&note) {
            notes.push(note);
        }
        let state = if notes.len() >= export.cameras.len() {
            ExportState::Done
        } else {
            ExportState::Running
        };
        let mut tx = self.db.write().await?;
        sqlx::query("UPDATE evidence_exports SET notes = $1, state = $2 WHERE id = $3")
            .bind(json!(notes).to_string())
            .bind(state.as_str())
            .bind(id)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        self.export_unchecked(id).await
    }

    /// Export `id` failed: why, in words.
    pub async fn export_failed(&self, id: &str, error: &str) -> Result<EvidenceExport> {
        let export = self.export_unchecked(id).await?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        sqlx::query("UPDATE evidence_exports SET state = 'failed', error = $1 WHERE id = $2")
            .bind(clip_long(error))
            .bind(id)
            .execute(tx.conn())
            .await?;
        tx.audit(AuditEntry {
            at: now,
            user: None,
            action: "incident.export.failed",
            site: Some(&export.site),
            target: Some(id),
            detail: json!({"incident": export.incident, "error": clip_long(error)}),
        })
        .await?;
        tx.commit().await?;
        self.export_unchecked(id).await
    }

    /// Checks export `id`'s files as the hub keeps them against the manifests their
    /// recorders signed (and the recorders' keys the hub knows).
    pub async fn check_export(&self, caller: &Caller, id: &str) -> Result<ExportCheck> {
        let export = self.export(caller, id).await?;
        let mut manifests = Vec::new();
        for note in &export.notes {
            let rows = sqlx::query(
                "SELECT a.name AS name, f.sha256 AS sha256, f.data AS data \
                 FROM note_attachments a JOIN attachments f ON f.sha256 = a.sha256 \
                 WHERE a.note_id = $1",
            )
            .bind(note)
            .fetch_all(self.db.pool())
            .await?;
            let mut kept = std::collections::BTreeMap::new();
            for row in &rows {
                let name: String = row.try_get("name")?;
                let data: Vec<u8> = row.try_get("data")?;
                kept.insert(name, data);
            }
            let (Some(manifest), Some(signature)) =
                (kept.get("manifest.json"), kept.get("manifest.sig"))
            else {
                return Err(HubError::Internal(format!(
                    "note `{note}` lost its manifest"
                )));
            };
            let mut check = self
                .check_manifest(manifest, signature, |name| kept.get(name).cloned())
                .await?;
            check.note = note.clone();
            manifests.push(check);
        }
        let verified = export.state == ExportState::Done
            && !manifests.is_empty()
            && manifests
                .iter()
                .all(|m| m.signature_valid && m.files.iter().all(|f| f.intact));
        Ok(ExportCheck {
            export: export.id,
            verified,
            manifests,
        })
    }

    /// A manifest checked: its signature with the key the hub knows for the recorder it
    /// names, and each file it names (read by `file`) against its SHA-256.
    async fn check_manifest(
        &self,
        manifest: &[u8],
        signature: &[u8],
        file: impl Fn(&str) -> Option<Vec<u8>>,
    ) -> Result<ManifestCheck> {
        let parsed: Manifest = serde_json::from_slice(manifest)
            .map_err(|e| HubError::Upstream(format!("the export's manifest: {e}")))?;
        if parsed.format != MANIFEST_FORMAT {
            return Err(HubError::Upstream(format!(
                "the export's manifest is `{}`, not {MANIFEST_FORMAT}",
                clip(&parsed.format)
            )));
        }
        let known: Option<String> = sqlx::query("SELECT public_key FROM recorders WHERE id = $1")
            .bind(&parsed.recorder)
            .fetch_optional(self.db.pool())
            .await?
            .map(|row| row.try_get("public_key"))
            .transpose()?;
        let signature_valid = known.as_deref() == Some(parsed.recorder_key.as_str())
            && keys::verify(&parsed.recorder_key, manifest, &hex::encode(signature));
        let files = parsed
            .files
            .iter()
            .map(|f| FileCheck {
                name: f.name.clone(),
                camera: f.camera.clone(),
                bytes: f.bytes,
                sha256: f.sha256.clone(),
                intact: file(&f.name).is_some_and(|data| {
                    data.len() as u64 == f.bytes && hex::encode(Sha256::digest(&data)) == f.sha256
                }),
            })
            .collect();
        Ok(ManifestCheck {
            note: String::new(),
            recorder: parsed.recorder,
            recorder_key: known.unwrap_or_default(),
            signature_valid,
            requested_by: parsed.requested_by,
            reason: parsed.reason,
            from: rfc3339(parsed.from_us.div_euclid(1000)),
            to: rfc3339(parsed.to_us.div_euclid(1000)),
            files,
        })
    }
}

/// At most 1000 characters of an error, for the record.
fn clip_long(text: &str) -> String {
    text.chars().take(1000).collect()
}
