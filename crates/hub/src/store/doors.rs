//! Door commands and lockdown: checked and audited here, carried out by the site's controller
//! through a [`DoorController`] (the simulator's HTTP protocol today, see `crate::controller`;
//! a real controller's driver goes beside it).

use super::*;

/// A future that a [`DoorController`] returns.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// Carries out door commands at a site's controller. The domain decides whether a command may
/// go; the controller only delivers it.
pub trait DoorController: Send + Sync + std::fmt::Debug {
    /// Sends `command` to the controller at `address` (the site's configured controller).
    /// A failure is [`HubError::Upstream`], with what the controller said.
    fn send<'a>(
        &'a self,
        address: &'a str,
        command: &'a serde_json::Value,
    ) -> BoxFuture<'a, Result<()>>;
}

impl Hub {
    /// Sends an operator's door command to the site's controller, once per request id, and
    /// audits the attempt and its outcome.
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
        let controller = {
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
            let controller: Option<String> =
                sqlx::query("SELECT controller_url FROM sites WHERE id = $1")
                    .bind(site)
                    .fetch_optional(tx.conn())
                    .await?
                    .map(|r| r.try_get("controller_url"))
                    .transpose()?
                    .flatten();
            controller.ok_or_else(|| {
                HubError::Conflict(format!("site `{site}` has no door controller configured"))
            })?
        };
        let outcome = self
            .doors
            .send(&controller, &command)
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
