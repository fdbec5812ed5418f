//! A site's recorders, which camera each serves, and stream tickets: a user who may view a
//! camera gets a short-lived ticket, signed with the hub's ticket key, that the camera's
//! recorder checks with the hub's public key alone. Every ticket issued, and every one refused,
//! is in the audit trail: who watched which camera when.

use super::*;
use contract::{
    CameraRecorder, Recorder, StreamMode, StreamName, StreamTicket, TICKET_USER, TicketClaims,
    TicketRequest,
};

/// Where the hub fetches a camera's recorded stream for a browser: the recorder's HTTP
/// playback of that stream (`…/timeline`, `…/media` below it) and the ticket to bring.
#[derive(Debug, Clone)]
pub struct RecordingSource {
    pub url: String,
    pub ticket: String,
}

/// A camera's recorder as the database has it.
struct CameraRecorderRow {
    recorder: Option<String>,
    rtsp_url: Option<String>,
    playback_url: Option<String>,
}

/// How long a ticket opens its stream (a stream already playing goes on).
pub const TICKET_LIFETIME_MS: i64 = 120_000;

impl Hub {
    /// The hub's ticket key, public half (hex): what recorders are configured with.
    pub fn ticket_key(&self) -> String {
        self.tickets.public_hex()
    }

    /// Registers (or updates) a recorder of `site`.
    pub async fn put_recorder(
        &self,
        actor: Actor<'_>,
        site: &str,
        new: Recorder,
    ) -> Result<Recorder> {
        check_id("site", site)?;
        check_id("id", &new.id)?;
        check_text("name", &new.name, 200)?;
        actor.require(site, Right::Configure)?;
        let url = url::Url::parse(&new.rtsp_url)
            .map_err(|e| HubError::BadRequest(format!("rtsp_url: {e}")))?;
        if !matches!(url.scheme(), "rtsp" | "rtsps") || url.host_str().is_none() {
            return Err(HubError::BadRequest(
                "rtsp_url: an rtsp:// or rtsps:// address with a host".into(),
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(HubError::BadRequest(
                "rtsp_url: no user or password in it; viewers bring tickets".into(),
            ));
        }
        let playback_url = new
            .playback_url
            .as_deref()
            .map(|text| {
                let url = url::Url::parse(text)
                    .map_err(|e| HubError::BadRequest(format!("playback_url: {e}")))?;
                // The recorder's playback speaks plain HTTP on the site's network.
                if url.scheme() != "http"
                    || url.host_str().is_none()
                    || !url.username().is_empty()
                    || url.password().is_some()
                    || url.query().is_some()
                    || url.fragment().is_some()
                {
                    return Err(HubError::BadRequest(
                        "playback_url: an http:// address with a host and nothing else (no \
                         user, password, query or fragment)"
                            .into(),
                    ));
                }
                Ok(text.trim_end_matches('/').to_owned())
            })
            .transpose()?;
        let key = new.public_key.trim().to_ascii_lowercase();
        if key.len() != 64 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(HubError::BadRequest(
                "public_key: the recorder's Ed25519 public key, 64 hex digits".into(),
            ));
        }
        let now = self.now();
        let mut tx = self.db.write().await?;
        if sqlx::query("SELECT id FROM sites WHERE id = $1")
            .bind(site)
            .fetch_optional(tx.conn())
            .await?
            .is_none()
        {
            return Err(HubError::NotFound(format!("site `{site}`")));
        }
        if let Some(row) = sqlx::query("SELECT site_id FROM recorders WHERE id = $1")
            .bind(&new.id)
            .fetch_optional(tx.conn())
            .await?
        {
            let other: String = row.try_get("site_id")?;
            if other != site {
                return Err(HubError::Conflict(format!(
                    "recorder `{}` belongs to another site",
                    new.id
                )));
            }
        }
        let rtsp_url = new.rtsp_url.trim_end_matches('/').to_owned();
        sqlx::query(
            "INSERT INTO recorders (id, site_id, name, rtsp_url, public_key, created_at, \
             playback_url) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET \
             name = excluded.name, rtsp_url = excluded.rtsp_url, \
             public_key = excluded.public_key, playback_url = excluded.playback_url",
        )
        .bind(&new.id)
        .bind(site)
        .bind(&new.name)
        .bind(&rtsp_url)
        .bind(&key)
        .bind(now)
        .bind(&playback_url)
        .execute(tx.conn())
        .await?;
        // Clients read the site again: a moved restream is opened at its new address.
        site_changed(&mut tx, now, site).await?;
        tx.audit(AuditEntry {
            at: now,
            user: actor.user_id(),
            action: "recorder.put",
            site: Some(site),
            target: Some(&new.id),
            detail: json!({
                "name": new.name,
                "rtsp_url": rtsp_url,
                "public_key": key,
                "playback_url": playback_url,
            }),
        })
        .await?;
        tx.commit().await?;
        Ok(Recorder {
            id: new.id,
            name: new.name,
            rtsp_url,
            public_key: key,
            playback_url,
        })
    }

    /// The recorders of `site`.
    pub async fn recorders(&self, caller: &Caller, site: &str) -> Result<Vec<Recorder>> {
        check_id("site", site)?;
        caller.require(site, Right::View)?;
        sqlx::query(
            "SELECT id, name, rtsp_url, public_key, playback_url FROM recorders \
             WHERE site_id = $1 ORDER BY id",
        )
        .bind(site)
        .fetch_all(self.db.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(Recorder {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                rtsp_url: r.try_get("rtsp_url")?,
                public_key: r.try_get("public_key")?,
                playback_url: r.try_get("playback_url")?,
            })
        })
        .collect()
    }

    /// Says which recorder serves a camera (`None`: clients open the camera itself).
    pub async fn set_camera_recorder(
        &self,
        actor: Actor<'_>,
        site: &str,
        camera: &str,
        choice: CameraRecorder,
    ) -> Result<CameraRecorder> {
        check_id("site", site)?;
        check_id("camera", camera)?;
        actor.require(site, Right::Configure)?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        if let Some(recorder) = &choice.recorder {
            check_id("recorder", recorder)?;
            let found = sqlx::query("SELECT id FROM recorders WHERE id = $1 AND site_id = $2")
                .bind(recorder)
                .bind(site)
                .fetch_optional(tx.conn())
                .await?;
            if found.is_none() {
                return Err(HubError::NotFound(format!("recorder `{recorder}`")));
            }
        }
        let changed =
            sqlx::query("UPDATE cameras SET recorder_id = $1 WHERE site_id = $2 AND id = $3")
                .bind(&choice.recorder)
                .bind(site)
                .bind(camera)
                .execute(tx.conn())
                .await?
                .rows_affected();
        if changed == 0 {
            return Err(HubError::NotFound(format!("camera `{camera}`")));
        }
        tx.audit(AuditEntry {
            at: now,
            user: actor.user_id(),
            action: "camera.recorder",
            site: Some(site),
            target: Some(camera),
            detail: json!({"recorder": choice.recorder}),
        })
        .await?;
        // Clients read the site again, and open the camera the new way.
        site_changed(&mut tx, now, site).await?;
        tx.commit().await?;
        Ok(choice)
    }

    /// The ids of a site's cameras, in the site's order (for the command line).
    pub async fn site_camera_ids(&self, actor: Actor<'_>, site: &str) -> Result<Vec<String>> {
        check_id("site", site)?;
        actor.require(site, Right::Configure)?;
        sqlx::query("SELECT id FROM cameras WHERE site_id = $1 ORDER BY ordinal")
            .bind(site)
            .fetch_all(self.db.pool())
            .await?
            .iter()
            .map(|r| Ok(r.try_get("id")?))
            .collect()
    }

    /// The cameras `recorder` serves, with their own stream URLs: the `[[cameras]]` of the
    /// recorder's configuration file (`watchfloor-hub recorder-config`). Configuration rights:
    /// the URLs are the cameras' own.
    pub async fn recorder_cameras(
        &self,
        actor: Actor<'_>,
        site: &str,
        recorder: &str,
    ) -> Result<Vec<(String, String, String)>> {
        check_id("site", site)?;
        check_id("recorder", recorder)?;
        actor.require(site, Right::Configure)?;
        sqlx::query(
            "SELECT id, main_url, sub_url FROM cameras WHERE site_id = $1 AND recorder_id = $2 \
             ORDER BY ordinal",
        )
        .bind(site)
        .bind(recorder)
        .fetch_all(self.db.pool())
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get("id")?,
                r.try_get("main_url")?,
                r.try_get("sub_url")?,
            ))
        })
        .collect()
    }

    /// A ticket to open one stream of `camera` through its recorder, for a caller who may view
    /// its site. Issued and refused tickets both leave an audit line.
    pub async fn stream_ticket(
        &self,
        caller: &Caller,
        site: &str,
        camera: &str,
        request: TicketRequest,
    ) -> Result<StreamTicket> {
        check_id("site", site)?;
        check_id("camera", camera)?;
        let mode = request.mode.unwrap_or_default();
        if mode == StreamMode::Export {
            return Err(HubError::BadRequest(
                "export tickets are the hub's own: export from an incident".into(),
            ));
        }
        match self
            .issue_ticket(caller, site, camera, request.stream, mode)
            .await
        {
            Ok(ticket) => Ok(ticket),
            Err(error) => {
                let reason = error.to_string();
                let mut tx = self.db.write().await?;
                tx.audit(AuditEntry {
                    at: self.now(),
                    user: Some(&caller.user_id),
                    action: "camera.ticket.refused",
                    site: Some(site),
                    target: Some(camera),
                    detail: json!({
                        "stream": request.stream.as_str(),
                        "mode": mode.as_str(),
                        "reason": reason,
                    }),
                })
                .await?;
                tx.commit().await?;
                Err(error)
            }
        }
    }

    /// Where the hub fetches `camera`'s `stream` for a browser, recorded or live (`mode`), and
    /// the ticket (audited like any other) it fetches it with: the browser holds its session,
    /// never a ticket. A conflict when the camera's recorder serves no video over HTTP.
    pub async fn recording_source(
        &self,
        caller: &Caller,
        site: &str,
        camera: &str,
        stream: StreamName,
        mode: StreamMode,
    ) -> Result<RecordingSource> {
        check_id("site", site)?;
        check_id("camera", camera)?;
        // A caller who may see the site hears first whether browsers can have the video at
        // all (no ticket issued for nothing); anyone else is refused by the ticket, audited.
        let known = match caller.require(site, Right::View) {
            Ok(_) => Some(self.playback_url(site, camera).await?),
            Err(_) => None,
        };
        let ticket = self
            .stream_ticket(
                caller,
                site,
                camera,
                TicketRequest {
                    stream,
                    mode: Some(mode),
                },
            )
            .await?;
        let base = match known {
            Some(base) => base,
            None => self.playback_url(site, camera).await?,
        };
        Ok(RecordingSource {
            url: format!("{base}/v1/{camera}/{}", stream.as_str()),
            ticket: ticket.ticket,
        })
    }

    /// Where the hub asks `camera`'s recorder for a signed export of its `stream`, with an
    /// export ticket (audited) for a caller who may write incidents on the site, and which
    /// recorder that is: only its signature is taken for the camera.
    pub async fn export_source(
        &self,
        caller: &Caller,
        site: &str,
        camera: &str,
        stream: StreamName,
    ) -> Result<(RecordingSource, String)> {
        check_id("site", site)?;
        check_id("camera", camera)?;
        caller.require(site, Right::WriteIncident)?;
        let row = self.camera_recorder(site, camera).await?;
        let (Some(recorder), Some(base)) = (row.recorder, row.playback_url) else {
            return Err(HubError::Conflict(format!(
                "camera `{camera}`'s recorder makes no exports for the hub (it has no recorder, \
                 or its playback_url is not set)"
            )));
        };
        let ticket = self
            .issue_ticket(caller, site, camera, stream, StreamMode::Export)
            .await?;
        Ok((
            RecordingSource {
                url: format!("{base}/v1/{camera}/{}", stream.as_str()),
                ticket: ticket.ticket,
            },
            recorder,
        ))
    }

    /// The recorder serving `camera` (its id, restream and playback addresses, each `None`
    /// without a recorder); not found when the site has no such camera.
    async fn camera_recorder(&self, site: &str, camera: &str) -> Result<CameraRecorderRow> {
        let row = sqlx::query(
            "SELECT r.id AS recorder, r.rtsp_url AS rtsp_url, r.playback_url AS playback_url \
             FROM cameras c LEFT JOIN recorders r ON r.id = c.recorder_id \
             WHERE c.site_id = $1 AND c.id = $2",
        )
        .bind(site)
        .bind(camera)
        .fetch_optional(self.db.pool())
        .await?
        .ok_or_else(|| HubError::NotFound(format!("camera `{camera}`")))?;
        Ok(CameraRecorderRow {
            recorder: row.try_get("recorder")?,
            rtsp_url: row.try_get("rtsp_url")?,
            playback_url: row.try_get("playback_url")?,
        })
    }

    /// The HTTP playback address of `camera`'s recorder; a conflict when it has none.
    async fn playback_url(&self, site: &str, camera: &str) -> Result<String> {
        let url = self.camera_recorder(site, camera).await?.playback_url;
        url.ok_or_else(|| {
            HubError::Conflict(format!(
                "the recorder of camera `{camera}` serves no video to browsers \
                 (its playback_url is not set, or it has no recorder): use the desktop app"
            ))
        })
    }

    async fn issue_ticket(
        &self,
        caller: &Caller,
        site: &str,
        camera: &str,
        stream: StreamName,
        mode: StreamMode,
    ) -> Result<StreamTicket> {
        // Recorded video is for whoever may see the site live.
        caller.require(site, Right::View)?;
        let row = self.camera_recorder(site, camera).await?;
        let (Some(rtsp_url), Some(recorder)) = (row.rtsp_url, row.recorder) else {
            return Err(HubError::Conflict(format!(
                "camera `{camera}` has no recorder: clients open it directly"
            )));
        };
        let now = self.now();
        let claims = TicketClaims {
            id: crate::new_id("ticket"),
            user: caller.user_id.clone(),
            site: site.to_owned(),
            recorder,
            camera: camera.to_owned(),
            stream,
            mode,
            issued_ms: now,
            expires_ms: now + TICKET_LIFETIME_MS,
        };
        let payload =
            serde_json::to_vec(&claims).map_err(|e| HubError::Internal(format!("ticket: {e}")))?;
        let ticket = keys::sign_token(&self.tickets, &payload);
        let mut tx = self.db.write().await?;
        tx.audit(AuditEntry {
            at: now,
            user: Some(&caller.user_id),
            action: "camera.ticket",
            site: Some(site),
            target: Some(camera),
            detail: json!({"stream": stream.as_str(), "mode": mode.as_str(), "ticket": claims.id}),
        })
        .await?;
        tx.commit().await?;
        Ok(StreamTicket {
            url: match mode {
                StreamMode::Live => format!("{rtsp_url}/{camera}/{}", stream.as_str()),
                StreamMode::Replay => format!("{rtsp_url}/{camera}/{}/replay", stream.as_str()),
                StreamMode::Export => format!("{rtsp_url}/{camera}/{}/export", stream.as_str()),
            },
            user: TICKET_USER.to_owned(),
            ticket,
            expires: crate::rfc3339(claims.expires_ms),
        })
    }
}

/// Tells every client that `site` changed (they read it again).
async fn site_changed(tx: &mut crate::db::WriteTx, now: i64, site: &str) -> Result<()> {
    let name: String = sqlx::query("SELECT name FROM sites WHERE id = $1")
        .bind(site)
        .fetch_one(tx.conn())
        .await?
        .try_get("name")?;
    tx.change(
        now,
        Some(site),
        ChangeBody::Site(SiteSummary {
            id: site.to_owned(),
            name,
        }),
    )
    .await?;
    Ok(())
}
