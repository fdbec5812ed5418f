//! Event sources (door controllers, gateways): registered with a sealed HMAC key, shown once.

use super::*;

impl Hub {
    /// Registers an event source for a site (it sends by webhook or MQTT, signing with the
    /// secret) and returns its new secret, once.
    pub async fn create_source(&self, actor: Actor<'_>, new: NewSource) -> Result<SourceSecret> {
        check_id("id", &new.id)?;
        check_id("site", &new.site)?;
        check_text("name", &new.name, 200)?;
        actor.require(&new.site, Right::Configure)?;
        let secret_bytes: [u8; 32] = rand::Rng::random(&mut rand::rng());
        let secret = hex::encode(secret_bytes);
        let sealed = self.key.seal(secret.as_bytes())?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        let site_exists = sqlx::query("SELECT id FROM sites WHERE id = $1")
            .bind(&new.site)
            .fetch_optional(tx.conn())
            .await?;
        if site_exists.is_none() {
            return Err(HubError::NotFound(format!("site `{}`", new.site)));
        }
        let existing = sqlx::query("SELECT site_id FROM sources WHERE id = $1")
            .bind(&new.id)
            .fetch_optional(tx.conn())
            .await?;
        if let Some(row) = existing {
            let site: String = row.try_get("site_id")?;
            if site != new.site {
                return Err(HubError::Conflict(format!(
                    "source id `{}` belongs to another site",
                    new.id
                )));
            }
        }
        sqlx::query(
            "INSERT INTO sources (id, site_id, name, secret_sealed, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (id) DO UPDATE SET site_id = excluded.site_id, name = excluded.name, \
             secret_sealed = excluded.secret_sealed",
        )
        .bind(&new.id)
        .bind(&new.site)
        .bind(&new.name)
        .bind(&sealed)
        .bind(now)
        .execute(tx.conn())
        .await?;
        tx.audit(AuditEntry {
            at: now,
            user: actor.user_id(),
            action: "source.create",
            site: Some(&new.site),
            target: Some(&new.id),
            detail: json!({"name": new.name}),
        })
        .await?;
        tx.commit().await?;
        Ok(SourceSecret {
            id: new.id,
            site: new.site,
            secret,
        })
    }

    /// A source's site and its opened secret.
    pub async fn source(&self, id: &str) -> Result<(String, Vec<u8>)> {
        check_id("source", id)?;
        let row = sqlx::query("SELECT site_id, secret_sealed FROM sources WHERE id = $1")
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?
            .ok_or_else(|| HubError::NotFound(format!("source `{id}`")))?;
        let sealed: String = row.try_get("secret_sealed")?;
        Ok((row.try_get("site_id")?, self.key.open(&sealed)?))
    }
}
