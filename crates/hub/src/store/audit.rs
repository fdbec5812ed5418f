//! The audit trail: who did what, filtered by right.

use super::*;

impl Hub {
    pub async fn list_audit(
        &self,
        caller: &Caller,
        filter: AuditFilter,
    ) -> Result<Vec<AuditRecord>> {
        match &filter.site {
            Some(site) => {
                check_id("site", site)?;
                caller.require(site, Right::ReadAudit)?;
            }
            None => caller.require_global(Right::ReadAudit)?,
        }
        let mut sql = format!("{AUDIT_SELECT} WHERE seq > $1");
        let mut texts = Vec::new();
        for (column, value) in [
            ("site_id", &filter.site),
            ("user_id", &filter.user),
            ("action", &filter.action),
        ] {
            if let Some(value) = value {
                check_text(column, value, 128)?;
                texts.push(value.clone());
                sql.push_str(&format!(" AND {column} = ${}", 1 + texts.len()));
            }
        }
        sql.push_str(&format!(" ORDER BY seq LIMIT ${}", 2 + texts.len()));
        let mut query = sqlx::query(&sql).bind(filter.after.unwrap_or(0));
        for text in &texts {
            query = query.bind(text);
        }
        query
            .bind(limit(filter.limit))
            .fetch_all(self.db.pool())
            .await?
            .iter()
            .map(audit_from_row)
            .collect()
    }

    /// Clients report which cameras an operator looked at; the audit keeps it.
    pub async fn camera_viewed(&self, caller: &Caller, viewed: CameraViewed) -> Result<()> {
        check_id("site", &viewed.site)?;
        check_id("camera", &viewed.camera)?;
        caller.require(&viewed.site, Right::ReportView)?;
        let mut tx = self.db.write().await?;
        let found = sqlx::query("SELECT id FROM cameras WHERE site_id = $1 AND id = $2")
            .bind(&viewed.site)
            .bind(&viewed.camera)
            .fetch_optional(tx.conn())
            .await?;
        if found.is_none() {
            return Err(HubError::NotFound(format!("camera `{}`", viewed.camera)));
        }
        tx.audit(AuditEntry {
            at: self.now(),
            user: Some(&caller.user_id),
            action: "camera.viewed",
            site: Some(&viewed.site),
            target: Some(&viewed.camera),
            detail: json!({}),
        })
        .await?;
        tx.commit().await
    }
}
