//! Saved wall layouts: private to their owner or shared with a site.

use super::*;

impl Hub {
    /// The caller's own layouts and those shared with a site they can see.
    pub async fn list_layouts(&self, caller: &Caller) -> Result<Vec<SavedLayout>> {
        let rows = sqlx::query(
            "SELECT l.id, l.owner_id, u.username, l.shared_site, l.name, l.body, l.updated_at \
             FROM layouts l JOIN users u ON u.id = l.owner_id \
             WHERE l.owner_id = $1 OR l.shared_site IS NOT NULL ORDER BY l.name, l.id",
        )
        .bind(&caller.user_id)
        .fetch_all(self.db.pool())
        .await?;
        let mut layouts = Vec::with_capacity(rows.len());
        for row in &rows {
            let layout = layout_from(row)?;
            let visible = layout.owner_id == caller.user_id
                || layout
                    .body
                    .shared_site
                    .as_deref()
                    .is_some_and(|site| caller.role_on(site).is_some());
            if visible {
                layouts.push(layout);
            }
        }
        Ok(layouts)
    }

    /// Creates or replaces one of the caller's layouts. Sharing it with a site needs the
    /// right to share layouts there; another operator's layout cannot be replaced.
    pub async fn put_layout(
        &self,
        caller: &Caller,
        id: &str,
        body: LayoutBody,
    ) -> Result<SavedLayout> {
        check_id("layout id", id)?;
        check_layout(&body)?;
        if let Some(site) = &body.shared_site {
            check_id("site", site)?;
            caller.require(site, Right::ShareLayout)?;
        }
        let text = serde_json::to_string(&body).map_err(|e| HubError::Internal(e.to_string()))?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        let before = sqlx::query("SELECT owner_id, shared_site FROM layouts WHERE id = $1")
            .bind(id)
            .fetch_optional(tx.conn())
            .await?;
        let was_shared = match &before {
            Some(row) => {
                let owner: String = row.try_get("owner_id")?;
                let shared: Option<String> = row.try_get("shared_site")?;
                if owner != caller.user_id {
                    // Someone else's layout: forbidden if the caller can see it, else absent.
                    return Err(match shared.filter(|s| caller.role_on(s).is_some()) {
                        Some(_) => HubError::Forbidden(
                            "this layout belongs to another operator; save a copy under a new id"
                                .into(),
                        ),
                        None => HubError::Conflict(format!(
                            "the layout id `{}` is taken; choose another",
                            clip(id)
                        )),
                    });
                }
                shared
            }
            None => None,
        };
        sqlx::query(
            "INSERT INTO layouts (id, owner_id, shared_site, name, body, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET \
             shared_site = excluded.shared_site, name = excluded.name, body = excluded.body, \
             updated_at = excluded.updated_at",
        )
        .bind(id)
        .bind(&caller.user_id)
        .bind(&body.shared_site)
        .bind(&body.name)
        .bind(&text)
        .bind(now)
        .execute(tx.conn())
        .await?;
        let saved = SavedLayout {
            id: id.to_owned(),
            owner: caller.username.clone(),
            owner_id: caller.user_id.clone(),
            updated_at: rfc3339(now),
            body,
        };
        // Only a shared layout goes out on the feed, to its site; a layout that stops being
        // shared (or moves) is withdrawn from the site that had it.
        if let Some(old) = was_shared.filter(|old| saved.body.shared_site.as_ref() != Some(old)) {
            tx.change(
                now,
                Some(&old),
                ChangeBody::LayoutRemoved(Removed { id: id.to_owned() }),
            )
            .await?;
        }
        if let Some(site) = &saved.body.shared_site {
            tx.change(now, Some(site), ChangeBody::Layout(saved.clone()))
                .await?;
        }
        tx.audit(AuditEntry {
            at: now,
            user: Some(&caller.user_id),
            action: "layout.save",
            site: saved.body.shared_site.as_deref(),
            target: Some(id),
            detail: json!({ "name": saved.body.name, "shared_site": saved.body.shared_site }),
        })
        .await?;
        tx.commit().await?;
        Ok(saved)
    }

    /// Deletes one of the caller's layouts.
    pub async fn delete_layout(&self, caller: &Caller, id: &str) -> Result<()> {
        check_id("layout id", id)?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        let row = sqlx::query("SELECT owner_id, shared_site FROM layouts WHERE id = $1")
            .bind(id)
            .fetch_optional(tx.conn())
            .await?
            .ok_or_else(|| HubError::NotFound(format!("layout `{}`", clip(id))))?;
        let owner: String = row.try_get("owner_id")?;
        let shared: Option<String> = row.try_get("shared_site")?;
        if owner != caller.user_id {
            // Someone else's private layout does not exist for this caller.
            return Err(match shared.filter(|s| caller.role_on(s).is_some()) {
                Some(_) => HubError::Forbidden("only its owner can delete a layout".into()),
                None => HubError::NotFound(format!("layout `{}`", clip(id))),
            });
        }
        sqlx::query("DELETE FROM layouts WHERE id = $1")
            .bind(id)
            .execute(tx.conn())
            .await?;
        if let Some(site) = &shared {
            tx.change(
                now,
                Some(site),
                ChangeBody::LayoutRemoved(Removed { id: id.to_owned() }),
            )
            .await?;
        }
        tx.audit(AuditEntry {
            at: now,
            user: Some(&caller.user_id),
            action: "layout.delete",
            site: shared.as_deref(),
            target: Some(id),
            detail: json!({}),
        })
        .await?;
        tx.commit().await
    }
}

/// The most tiles a layout may have (the wall's own limit).
pub(super) const MAX_LAYOUT_TILES: usize = 64;

/// A layout's shape: sizes bounded, ids well-formed, tiles inside the wall.
pub(super) fn check_layout(body: &LayoutBody) -> Result<()> {
    check_text("name", &body.name, 200)?;
    if body.name.trim().is_empty() {
        return Err(HubError::BadRequest("a layout needs a name".into()));
    }
    let tiles = body
        .wall
        .get("tiles")
        .and_then(|t| t.as_array())
        .ok_or_else(|| HubError::BadRequest("wall.tiles must be a list of tiles".into()))?;
    if tiles.is_empty() || tiles.len() > MAX_LAYOUT_TILES {
        return Err(HubError::BadRequest(format!(
            "a layout has 1 to {MAX_LAYOUT_TILES} tiles, not {}",
            tiles.len()
        )));
    }
    for (index, tile) in tiles.iter().enumerate() {
        let inside = ["x", "y", "w", "h"].iter().all(|k| {
            tile.get(k)
                .and_then(|v| v.as_f64())
                .is_some_and(|v| (0.0..=1.0).contains(&v))
        });
        if !inside {
            return Err(HubError::BadRequest(format!(
                "wall.tiles[{index}] needs x, y, w and h between 0 and 1"
            )));
        }
    }
    if body.cameras.len() > tiles.len() || body.tours.len() > tiles.len() {
        return Err(HubError::BadRequest(
            "cameras and tours have at most one entry per tile".into(),
        ));
    }
    for camera in body.cameras.iter().flatten() {
        check_id("camera", camera)?;
    }
    for tour in body.tours.iter().flatten() {
        if tour.cameras.is_empty() || tour.cameras.len() > 256 {
            return Err(HubError::BadRequest("a tour has 1 to 256 cameras".into()));
        }
        if !(1..=3600).contains(&tour.dwell_s) {
            return Err(HubError::BadRequest(
                "a tour's dwell time is 1 to 3600 seconds".into(),
            ));
        }
        for camera in &tour.cameras {
            check_id("camera", camera)?;
        }
    }
    if body.wall.to_string().len() > 64 * 1024 {
        return Err(HubError::BadRequest("the layout is over 64 KiB".into()));
    }
    Ok(())
}
