//! Evidence exports from incidents: the request (with an evidence lock on the range of each
//! camera), its progress as each camera's signed files arrive as a note on the incident, and
//! the check of those files against the manifests their recorders signed. Fetching the files
//! from the recorders is the API's (`api/exports.rs`).

use super::incidents::NoteFile;
use super::*;
use contract::{
    EvidenceExport, ExportCheck, ExportState, FileCheck, MAX_EXPORT_S, ManifestCheck,
    NewAttachment, NewEvidenceLock, NewExport,
};

/// Cameras in one export.
const MAX_CAMERAS: usize = 16;
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
        if new.reason.len() > 400 {
            return Err(HubError::BadRequest(
                "reason: at most 400 bytes (it names the incident on the evidence lock)".into(),
            ));
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
            "INSERT INTO evidence_exports (id, incident_id, site_id, cameras, notes, signers, \
             start_at, end_at, reason, state, created_by, created_at) \
             VALUES ($1, $2, $3, $4, '[]', '{}', $5, $6, $7, 'running', $8, $9)",
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

    /// One camera's signed files of export `id` arrived from `recorder`, the recorder that
    /// serves the camera. They are kept as a note on the incident only when they are exactly
    /// what was asked for, signed with the key the hub knows for that recorder: the manifest's
    /// signature, recorder, range, requester and reason, every file it names (camera, size,
    /// SHA-256), the sums and their signature, the key; nothing else but the README.
    pub async fn export_arrived(
        &self,
        caller: &Caller,
        id: &str,
        camera: &str,
        recorder: &str,
        files: Vec<NewAttachment>,
    ) -> Result<EvidenceExport> {
        use base64::Engine;
        let export = self.export_unchecked(id).await?;
        if files.len() > MAX_FILES {
            return Err(HubError::Upstream(format!(
                "{camera}'s export has {} files (at most {MAX_FILES}): export a shorter range",
                files.len()
            )));
        }
        let mut kept = std::collections::BTreeMap::new();
        for file in files {
            if !file_name_ok(&file.name) {
                return Err(HubError::Upstream(format!(
                    "{camera}'s export names a file `{}`",
                    clip(&file.name)
                )));
            }
            let data = base64::engine::general_purpose::STANDARD
                .decode(&file.data)
                .map_err(|e| HubError::Upstream(format!("`{}` is not base64: {e}", file.name)))?;
            if kept
                .insert(file.name.clone(), (file.media_type, data))
                .is_some()
            {
                return Err(HubError::Upstream(format!(
                    "{camera}'s export holds `{}` twice",
                    file.name
                )));
            }
        }
        let key = self.recorder_key(recorder).await?;
        let data = |name: &str| kept.get(name).map(|(_, data)| data.clone());
        let check = check_manifest(recorder, &key, &data);
        let manifest = check
            .manifest
            .as_ref()
            .ok_or_else(|| HubError::Upstream(format!("{camera}'s export: {}", check.problem())))?;
        let (from_ms, to_ms) = (
            crate::parse_time(&export.from)?,
            crate::parse_time(&export.to)?,
        );
        let asked = manifest.from_us == from_ms * 1000
            && manifest.to_us == to_ms * 1000
            && manifest.requested_by == caller.user_id
            && manifest.reason == export.reason
            && !manifest.files.is_empty()
            && manifest.files.iter().all(|f| f.camera == camera);
        if !check.verified() || !asked {
            return Err(HubError::Upstream(format!(
                "{camera}'s export is not what was asked of recorder `{recorder}`, or does not \
                 verify with its key: {}",
                check.problem()
            )));
        }
        let named: std::collections::BTreeSet<&str> =
            manifest.files.iter().map(|f| f.name.as_str()).collect();
        for name in kept.keys() {
            if !named.contains(name.as_str()) && !EXTRAS.contains(&name.as_str()) {
                return Err(HubError::Upstream(format!(
                    "{camera}'s export holds `{name}`, which its manifest does not name"
                )));
            }
        }
        let text = format!(
            "Evidence export {id}: {camera} from {} to {}, signed by recorder {recorder} and \
             verified. Reason: {}",
            export.from, export.to, export.reason
        );
        let note = crate::new_id("export");
        let files = kept
            .into_iter()
            .map(|(name, (media_type, data))| NoteFile {
                sha256: hex::encode(Sha256::digest(&data)),
                name,
                media_type,
                data,
            })
            .collect();
        self.insert_note(caller, &export.incident, &note, &text, files)
            .await?;
        let mut tx = self.db.write().await?;
        let row = sqlx::query("SELECT notes, signers FROM evidence_exports WHERE id = $1")
            .bind(id)
            .fetch_one(tx.conn())
            .await?;
        let mut notes: Vec<String> = serde_json::from_str(&row.try_get::<String, _>("notes")?)
            .map_err(|e| HubError::Internal(format!("export notes: {e}")))?;
        let mut signers: std::collections::BTreeMap<String, Signer> =
            serde_json::from_str(&row.try_get::<String, _>("signers")?)
                .map_err(|e| HubError::Internal(format!("export signers: {e}")))?;
        notes.push(note.clone());
        signers.insert(
            note,
            Signer {
                recorder: recorder.to_owned(),
                key,
            },
        );
        let state = if notes.len() >= export.cameras.len() {
            ExportState::Done
        } else {
            ExportState::Running
        };
        sqlx::query(
            "UPDATE evidence_exports SET notes = $1, signers = $2, state = $3 WHERE id = $4",
        )
        .bind(json!(notes).to_string())
        .bind(json!(signers).to_string())
        .bind(state.as_str())
        .bind(id)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        self.export_unchecked(id).await
    }

    /// The public key (hex) the hub knows for `recorder`.
    async fn recorder_key(&self, recorder: &str) -> Result<String> {
        sqlx::query("SELECT public_key FROM recorders WHERE id = $1")
            .bind(recorder)
            .fetch_optional(self.db.pool())
            .await?
            .map(|row| row.try_get("public_key"))
            .transpose()?
            .ok_or_else(|| HubError::NotFound(format!("recorder `{}`", clip(recorder))))
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

    /// Exports left running by a hub that stopped fail, saying so (their locks hold; export
    /// again). Returns how many.
    pub async fn interrupted_exports(&self) -> Result<u64> {
        let mut tx = self.db.write().await?;
        let done = sqlx::query(
            "UPDATE evidence_exports SET state = 'failed', \
             error = 'the hub stopped while it ran: export again' WHERE state = 'running'",
        )
        .execute(tx.conn())
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(done)
    }

    /// Checks export `id`'s files as the hub keeps them against the manifests their
    /// recorders signed, with the keys the hub knew for them when the files came.
    pub async fn check_export(&self, caller: &Caller, id: &str) -> Result<ExportCheck> {
        let export = self.export(caller, id).await?;
        let signers: std::collections::BTreeMap<String, Signer> = serde_json::from_str(
            &sqlx::query("SELECT signers FROM evidence_exports WHERE id = $1")
                .bind(id)
                .fetch_one(self.db.pool())
                .await?
                .try_get::<String, _>("signers")?,
        )
        .map_err(|e| HubError::Internal(format!("export signers: {e}")))?;
        let mut manifests = Vec::new();
        for note in &export.notes {
            // One file at a time: exports are large.
            let mut stored = std::collections::BTreeMap::new();
            for name in self.note_file_names(note).await? {
                let data = self.note_file(note, &name).await?;
                stored.insert(name, data);
            }
            let (recorder, key) = signers
                .get(note)
                .map(|s| (s.recorder.clone(), s.key.clone()))
                .unwrap_or_default();
            let check = check_manifest(&recorder, &key, &|name| stored.get(name).cloned());
            let mut shown = check.shown();
            shown.note = note.clone();
            manifests.push(shown);
        }
        let verified = export.state == ExportState::Done
            && !manifests.is_empty()
            && manifests.iter().all(|m| {
                m.signature_valid && !m.files.is_empty() && m.files.iter().all(|f| f.intact)
            });
        Ok(ExportCheck {
            export: export.id,
            verified,
            manifests,
        })
    }
    /// A finished export as a folder to download: each camera's files under a folder named
    /// after the camera, in order. Taking them is audited (who took which evidence, when).
    pub async fn export_download(&self, caller: &Caller, id: &str) -> Result<Vec<ExportPart>> {
        let export = self.export(caller, id).await?;
        if export.state != ExportState::Done {
            return Err(HubError::Conflict(format!(
                "export `{}` is {}: only a finished export downloads",
                clip(id),
                export.state.as_str()
            )));
        }
        let mut parts = Vec::new();
        for note in &export.notes {
            let manifest = self.note_file(note, "manifest.json").await?;
            let manifest = serde_json::from_slice::<contract::ExportManifest>(&manifest).ok();
            let camera = manifest
                .as_ref()
                .and_then(|m| m.files.first().map(|f| f.camera.clone()))
                .filter(|camera| file_name_ok(camera))
                .unwrap_or_else(|| note.clone());
            let made = manifest
                .and_then(|m| chrono::DateTime::from_timestamp_micros(m.created_us))
                .unwrap_or_else(chrono::Utc::now);
            for name in self.note_file_names(note).await? {
                parts.push(ExportPart {
                    folder: camera.clone(),
                    note: note.clone(),
                    name,
                    made,
                });
            }
        }
        let mut tx = self.db.write().await?;
        tx.audit(AuditEntry {
            at: self.now(),
            user: Some(&caller.user_id),
            action: "export.downloaded",
            site: Some(&export.site),
            target: Some(&export.id),
            detail: json!({ "incident": export.incident, "files": parts.len() }),
        })
        .await?;
        tx.commit().await?;
        Ok(parts)
    }

    /// The names of a note's attachments, in order.
    async fn note_file_names(&self, note: &str) -> Result<Vec<String>> {
        sqlx::query("SELECT name FROM note_attachments WHERE note_id = $1 ORDER BY name")
            .bind(note)
            .fetch_all(self.db.pool())
            .await?
            .iter()
            .map(|row| row.try_get("name").map_err(HubError::from))
            .collect()
    }

    /// The bytes of a note's attachment `name` (of an export the caller was shown).
    pub(crate) async fn note_file(&self, note: &str, name: &str) -> Result<Vec<u8>> {
        sqlx::query(
            "SELECT f.data AS data FROM note_attachments a \
             JOIN attachments f ON f.sha256 = a.sha256 \
             WHERE a.note_id = $1 AND a.name = $2",
        )
        .bind(note)
        .bind(name)
        .fetch_optional(self.db.pool())
        .await?
        .ok_or_else(|| HubError::NotFound(format!("file `{}`", clip(name))))?
        .try_get("data")
        .map_err(HubError::from)
    }
}

/// One file of an export's download: `folder/name`, kept in note `note`, made by its
/// recorder at `made`.
#[derive(Debug, Clone)]
pub struct ExportPart {
    pub folder: String,
    pub note: String,
    pub name: String,
    pub made: chrono::DateTime<chrono::Utc>,
}

/// The recorder that signed a camera's files, and its key then.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Signer {
    recorder: String,
    key: String,
}

/// Files an export holds besides those its manifest names.
const EXTRAS: [&str; 6] = [
    "manifest.json",
    "manifest.sig",
    "SHA256SUMS",
    "SHA256SUMS.sig",
    "recorder-key.pem",
    // How to check the export without Watchfloor (instructions, not evidence).
    "README.txt",
];
/// Files in one camera's export.
const MAX_FILES: usize = 64;

/// A file name as a recorder's export makes them: no folders, no hidden files.
fn file_name_ok(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// A manifest and its files as checked.
struct Checked {
    recorder: String,
    key: String,
    manifest: Option<ExportManifest>,
    signature_valid: bool,
    /// The sums, their signature and the key file are what the manifest implies.
    extras_valid: bool,
    files: Vec<FileCheck>,
    /// Why there is no manifest.
    unreadable: Option<String>,
}

impl Checked {
    fn verified(&self) -> bool {
        self.signature_valid
            && self.extras_valid
            && !self.files.is_empty()
            && self.files.iter().all(|f| f.intact)
    }

    fn problem(&self) -> String {
        if let Some(why) = &self.unreadable {
            return why.clone();
        }
        let mut problems = Vec::new();
        if !self.signature_valid {
            problems.push("the manifest's signature does not hold".to_owned());
        }
        if !self.extras_valid {
            problems.push("the sums or the key file are not the manifest's".to_owned());
        }
        problems.extend(
            self.files
                .iter()
                .filter(|f| !f.intact)
                .map(|f| format!("{} is changed or missing", f.name)),
        );
        problems.join("; ")
    }

    fn shown(&self) -> ManifestCheck {
        let manifest = self.manifest.as_ref();
        ManifestCheck {
            note: String::new(),
            recorder: self.recorder.clone(),
            recorder_key: self.key.clone(),
            signature_valid: self.signature_valid && self.extras_valid,
            requested_by: manifest.map(|m| m.requested_by.clone()).unwrap_or_default(),
            reason: manifest
                .map(|m| m.reason.clone())
                .or_else(|| self.unreadable.clone())
                .unwrap_or_default(),
            from: manifest
                .map(|m| rfc3339(m.from_us.div_euclid(1000)))
                .unwrap_or_default(),
            to: manifest
                .map(|m| rfc3339(m.to_us.div_euclid(1000)))
                .unwrap_or_default(),
            files: self.files.clone(),
        }
    }
}

/// Checks the manifest among `file`'s files: signed by `recorder` with `key`, its sums and key
/// file what it implies, each file it names there with its size and SHA-256. Never fails: what
/// does not hold is said.
fn check_manifest(recorder: &str, key: &str, file: &dyn Fn(&str) -> Option<Vec<u8>>) -> Checked {
    let mut checked = Checked {
        recorder: recorder.to_owned(),
        key: key.to_owned(),
        manifest: None,
        signature_valid: false,
        extras_valid: false,
        files: Vec::new(),
        unreadable: None,
    };
    let (Some(text), Some(signature)) = (file("manifest.json"), file("manifest.sig")) else {
        checked.unreadable = Some("the manifest or its signature is missing".into());
        return checked;
    };
    let manifest: ExportManifest = match serde_json::from_slice(&text) {
        Ok(manifest) => manifest,
        Err(e) => {
            checked.unreadable = Some(format!("the manifest does not read: {e}"));
            return checked;
        }
    };
    let signed = |message: &[u8], signature: &[u8]| {
        !key.is_empty() && keys::verify(key, message, &hex::encode(signature))
    };
    checked.signature_valid = manifest.format == contract::EXPORT_FORMAT
        && manifest.recorder == recorder
        && manifest.recorder_key == key
        && signed(&text, &signature);
    let sums = manifest.sums();
    checked.extras_valid = file("SHA256SUMS").is_some_and(|s| s == sums.as_bytes())
        && file("SHA256SUMS.sig").is_some_and(|sig| signed(sums.as_bytes(), &sig))
        && file("recorder-key.pem").is_some_and(|pem| pem == keys::public_key_pem(key).as_bytes());
    checked.files = manifest
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
    checked.manifest = Some(manifest);
    checked
}

/// At most 1000 characters of an error, for the record.
fn clip_long(text: &str) -> String {
    text.chars().take(1000).collect()
}
