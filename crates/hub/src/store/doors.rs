//! Door commands and lockdown: checked, signed and audited here, carried out by the site's
//! controller through a [`DoorController`] (the simulator's HTTP protocol today, see
//! `crate::controller`; a real controller's driver goes beside it).
//!
//! Every command is signed for the controller ([`events::commands`]) with a key from the secret
//! of the event source the controller is paired with (`sites.controller_source`), with a fresh
//! nonce, so that a controller can refuse commands from anyone else and the same command twice.
//! The attempt is in the audit trail before the command leaves, its outcome after.

use super::*;

/// A future that a [`DoorController`] returns.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// Carries out door commands at a site's controller. The domain decides whether a command may
/// go; the controller only delivers it.
pub trait DoorController: Send + Sync + std::fmt::Debug {
    /// Sends `command` (signed by the domain) to the controller at `address` (the site's
    /// configured controller). A failure is [`HubError::Upstream`], with what the controller
    /// said.
    fn send<'a>(
        &'a self,
        address: &'a str,
        command: &'a ::events::SignedCommand,
    ) -> BoxFuture<'a, Result<()>>;
}

impl Hub {
    /// Warns of each site whose door controller is not paired with an event source: it is sent
    /// no commands (a hub upgraded from before commands were signed leaves its sites so).
    pub async fn warn_unpaired_controllers(&self) -> Result<()> {
        let unpaired = sqlx::query(
            "SELECT id FROM sites WHERE controller_url IS NOT NULL AND controller_source IS NULL",
        )
        .fetch_all(self.db.pool())
        .await?;
        for row in unpaired {
            let site: String = row.try_get("id")?;
            tracing::warn!(
                site,
                "the site's door controller is not paired with an event source: door commands \
                 and lockdown are refused until `site-import --controller-source` pairs it"
            );
        }
        Ok(())
    }

    /// Sends an operator's door command to the site's controller, signed, once per request
    /// id, and audits the attempt before it goes and its outcome after.
    pub async fn door_command(
        &self,
        caller: &Caller,
        site: &str,
        door: Option<&str>,
        request_id: &str,
        command: serde_json::Value,
        right: Right,
    ) -> Result<serde_json::Value> {
        check_id("site", site)?;
        if let Some(door) = door {
            check_id("door", door)?;
        }
        caller.require(site, right)?;
        let now = self.now();
        // Look up under the write lock, but send without it: a slow controller must not hold
        // up every other write. A replay racing its original may be sent twice; it is
        // remembered once.
        let scope = format!("door.command:{site}:{}", door.unwrap_or("*"));
        let (controller, key) = {
            let mut tx = self.db.write().await?;
            if let Some(previous) = self.replayed(&mut tx, caller, &scope, request_id).await? {
                return Ok(previous);
            }
            if let Some(door) = door {
                let found = sqlx::query("SELECT id FROM doors WHERE site_id = $1 AND id = $2")
                    .bind(site)
                    .bind(door)
                    .fetch_optional(tx.conn())
                    .await?;
                if found.is_none() {
                    return Err(HubError::NotFound(format!(
                        "door `{door}` on site `{site}`"
                    )));
                }
            }
            let row =
                sqlx::query("SELECT controller_url, controller_source FROM sites WHERE id = $1")
                    .bind(site)
                    .fetch_optional(tx.conn())
                    .await?;
            let column = |name| -> Result<Option<String>> {
                Ok(row.as_ref().map(|r| r.try_get(name)).transpose()?.flatten())
            };
            let controller = column("controller_url")?.ok_or_else(|| {
                HubError::Conflict(format!("site `{site}` has no door controller configured"))
            })?;
            let source = column("controller_source")?.ok_or_else(|| {
                HubError::Conflict(format!(
                    "site `{site}`'s door controller is not paired with an event source \
                     (controller_source): the hub sends no command it cannot sign"
                ))
            })?;
            let sealed: Option<String> =
                sqlx::query("SELECT secret_sealed FROM sources WHERE id = $1 AND site_id = $2")
                    .bind(&source)
                    .bind(site)
                    .fetch_optional(tx.conn())
                    .await?
                    .map(|r| r.try_get("secret_sealed"))
                    .transpose()?;
            let sealed = sealed.ok_or_else(|| {
                HubError::Conflict(format!(
                    "site `{site}`'s door controller is paired with source `{source}`, \
                     which is not one of the site's event sources"
                ))
            })?;
            let key = ::events::command_key(&self.key.open(&sealed)?);
            tx.audit(AuditEntry {
                at: now,
                user: Some(&caller.user_id),
                action: "door.command.attempt",
                site: Some(site),
                target: door,
                detail: json!({"command": command, "request_id": request_id}),
            })
            .await?;
            tx.commit().await?;
            (controller, key)
        };
        let body = serde_json::to_vec(&command)
            .map_err(|e| HubError::Internal(format!("a door command as JSON: {e}")))?;
        let nonce: [u8; 16] = rand::Rng::random(&mut rand::rng());
        // Signed now, after the write lock's wait: its time is when it leaves.
        let signed =
            ::events::SignedCommand::new(key.as_bytes(), self.now().div_euclid(1000), nonce, body);
        let outcome = self
            .doors
            .send(&controller, &signed)
            .await
            .map(|()| json!({"status": "sent", "command": command}));
        let mut tx = self.db.write().await?;
        tx.audit(AuditEntry {
            at: now,
            user: Some(&caller.user_id),
            action: "door.command",
            site: Some(site),
            target: door,
            detail: json!({
                "command": command,
                "outcome": match &outcome { Ok(_) => "sent".to_owned(), Err(e) => e.to_string() },
            }),
        })
        .await?;
        if let Ok(response) = &outcome
            && self
                .replayed(&mut tx, caller, &scope, request_id)
                .await?
                .is_none()
        {
            self.remember(&mut tx, caller, &scope, request_id, response)
                .await?;
        }
        tx.commit().await?;
        outcome
    }
}
