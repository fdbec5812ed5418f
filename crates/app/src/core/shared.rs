//! The shared picture through the hub: reads the console may make, writes through the outbox
//! (or, for doors, directly), and wall pictures on incidents.

use super::*;

impl Core {
    /// Reads `/api/v1` + `path` from the hub (only the paths the console may read).
    pub async fn hub_get(&self, path: &str) -> Result<serde_json::Value> {
        check_read(path)?;
        let (client, token) = self.signed()?;
        client.get_value(&token, path).await
    }

    /// A floor plan as a `data:` URL for the console's `<img>` (the webview holds no token).
    pub async fn floor_plan(&self, site: &str, floor: &str) -> Result<String> {
        use base64::Engine as _;
        let path = format!(
            "/sites/{}/floors/{}/plan",
            crate::hub_client::encode(site),
            crate::hub_client::encode(floor)
        );
        let (client, token) = self.signed()?;
        let (media_type, bytes) = client.get_bytes(&token, &path).await?;
        if !media_type.starts_with("image/") {
            return Err(AppError::new(
                ErrorCode::HubAnswer,
                format!("the floor plan is {media_type}, not an image"),
            ));
        }
        Ok(format!(
            "data:{media_type};base64,{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        ))
    }

    /// A write from the console. Operator writes (alarm actions, incidents, notes) go through
    /// the outbox: stored first, then sent, so a lost hub or a killed app loses nothing. Door
    /// commands go now or not at all.
    pub async fn hub_write(
        &self,
        method: &str,
        path: &str,
        body: serde_json::Value,
    ) -> Result<WriteOutcome> {
        match classify(method, path, &body)? {
            WriteRoute::Direct => {
                let (client, token) = self.signed()?;
                match client.write_value(&token, method, path, &body).await {
                    Ok(value) => Ok(WriteOutcome::Delivered { value }),
                    // What is not queued needs the hub now: a door command, an export, an
                    // account change.
                    Err(error) if error.code == ErrorCode::HubUnreachable => Err(AppError::new(
                        ErrorCode::Offline,
                        format!(
                            "{}; door commands, exports and account changes are never queued, \
                             try again when the hub is back",
                            error.message
                        ),
                    )),
                    Err(error) if error.code == ErrorCode::HubTimeout => Err(AppError::new(
                        ErrorCode::OutcomeUnknown,
                        format!(
                            "{}; it may have been carried out: check before trying again (a \
                             door's state on the map, an incident's exports, an account on the \
                             Users tab)",
                            error.message
                        ),
                    )),
                    Err(error) => Err(error),
                }
            }
            WriteRoute::Queued { summary } => {
                let (hub, username) = {
                    let state = self.state.lock();
                    let signed = state.session.as_ref().ok_or_else(AppError::not_signed_in)?;
                    (
                        signed.client.address(),
                        signed.session.operator.username.clone(),
                    )
                };
                let item = OutboxItem {
                    id: format!("out-{}", hex_id()),
                    hub,
                    username,
                    method: method.to_owned(),
                    path: path.to_owned(),
                    body,
                    summary,
                    created_ms: now_ms(),
                    attempts: 0,
                    last_error: None,
                    failed: false,
                };
                self.delivery.queue(&item)?;
                self.emit_outbox();
                // Away from the hub, a try would only wait out the timeouts: queue at once.
                if self.connection().link != Link::Online {
                    return Ok(WriteOutcome::Queued { outbox_id: item.id });
                }
                // This pass, or one that ran meanwhile, may have sent it.
                self.deliver_outbox().await;
                let outcome = self.delivery.outcome(&item.id);
                if outcome.is_err() {
                    // Refused at once: the operator hears it here, and it left the outbox.
                    self.emit_outbox();
                }
                outcome
            }
        }
    }

    /// Sends what waits in the outbox for this session, oldest first, and stops at the first
    /// write the hub could not take now (order is kept). A write the hub refuses for good is
    /// marked failed and shown; the rest go on. Each outcome is kept for the call that queued
    /// the write (see `Delivery`). Returns the outbox ids the hub took in this pass.
    pub async fn deliver_outbox(&self) -> Vec<String> {
        // The session as it is when this pass has its turn, not when it was asked for.
        let signed = || {
            let state = self.state.lock();
            state.session.as_ref().map(|s| {
                let writer = SessionWriter {
                    client: s.client.clone(),
                    token: s.session.token.clone(),
                };
                (
                    writer,
                    s.client.address(),
                    s.session.operator.username.clone(),
                )
            })
        };
        let pass = self.delivery.deliver(signed).await;
        if let Some(problem) = pass.problem {
            self.report_problem(problem);
        }
        if pass.ran {
            self.emit_outbox();
        }
        pass.delivered
    }

    /// Retries the outbox while the hub is reachable (call now and then; a pass with nothing
    /// waiting does nothing).
    pub async fn retry_outbox(&self) {
        if self.connection().link == Link::Online {
            self.deliver_outbox().await;
        }
    }

    pub fn outbox(&self) -> Result<OutboxView> {
        self.delivery.view()
    }

    /// Drops a write the hub refused for good.
    pub fn outbox_discard(&self, id: &str) -> Result<()> {
        self.delivery.discard(id)?;
        self.emit_outbox();
        Ok(())
    }

    pub(super) fn emit_outbox(&self) {
        match self.outbox() {
            Ok(outbox) => self.events.emit(AppEvent::Outbox { outbox }),
            Err(error) => tracing::warn!(%error, "outbox unreadable"),
        }
    }

    /// Saves finished evidence export `id` as one ZIP in `folder`, under a name no file (nor
    /// download under way) has yet; answers the file's path.
    pub async fn export_download(&self, id: &str, folder: &std::path::Path) -> Result<String> {
        if id.is_empty() || id.len() > 128 {
            return Err(AppError::bad_input("an export id is 1 to 128 characters"));
        }
        // A file name on every system (Windows refuses `:` and friends).
        let name: String = id
            .chars()
            .map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' | '.' => c,
                _ => '_',
            })
            .collect();
        let free = (1..1000)
            .map(|n| match n {
                1 => folder.join(format!("evidence-{name}.zip")),
                n => folder.join(format!("evidence-{name} ({n}).zip")),
            })
            .find(|zip| !zip.exists() && !zip.with_extension("part").exists())
            .ok_or_else(|| AppError::storage(format!("no free name in {}", folder.display())))?;
        let path = format!("/exports/{}/download", crate::hub_client::encode(id));
        let (client, token) = self.signed()?;
        client.download(&token, &path, &free).await?;
        Ok(free.display().to_string())
    }

    /// Attaches a picture of wall `wall` to incident `incident` as a note (through the outbox).
    pub async fn incident_snapshot(&self, incident: &str, wall: &str) -> Result<WriteOutcome> {
        use base64::Engine as _;
        // Reading the wall back waits for its render thread: not on an async worker.
        let core = self
            .me
            .upgrade()
            .ok_or_else(|| AppError::new(ErrorCode::Wall, "the app is closing"))?;
        let wall_id = wall.to_owned();
        let snapshot = tokio::task::spawn_blocking(move || core.snapshot(&wall_id))
            .await
            .map_err(|e| AppError::new(ErrorCode::Wall, e.to_string()))??;
        let bytes = std::fs::read(&snapshot.path).map_err(|e| {
            AppError::storage(format!("cannot read {}: {e}", snapshot.path.display()))
        })?;
        let now = chrono::Utc::now();
        let name = format!("{wall}-{}.png", now.format("%Y%m%dT%H%M%SZ"));
        let body = serde_json::json!({
            "id": format!("note-{}", hex_id()),
            "text": format!("Picture of {wall} at {} UTC", now.format("%H:%M:%S")),
            "attachments": [{
                "name": name,
                "media_type": "image/png",
                "data": base64::engine::general_purpose::STANDARD.encode(bytes),
            }],
        });
        let path = format!("/incidents/{}/notes", crate::hub_client::encode(incident));
        self.hub_write("POST", &path, body).await
    }
}
