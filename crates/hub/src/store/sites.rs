//! Sites: importing a whole site (floors, plans, zones, cameras, doors), reading it back, and
//! what configures it: alarm rules and event sources.

use super::*;

impl Hub {
    /// Creates or replaces a site's configuration; live door states and history stay.
    pub async fn import_site(&self, actor: Actor<'_>, import: SiteImport) -> Result<SiteDetail> {
        let site: site::Site = serde_json::from_value(import.site.clone())
            .map_err(|e| HubError::BadRequest(format!("not a site: {e}")))?;
        site.validate()
            .map_err(|e| HubError::BadRequest(e.to_string()))?;
        check_id("site", &site.id)?;
        actor.require_configure(&site.id)?;
        check_text("name", &site.name, 200)?;
        if let Some(url) = &import.controller_url {
            let parsed = url::Url::parse(url)
                .map_err(|e| HubError::BadRequest(format!("controller_url: {e}")))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(HubError::BadRequest(
                    "controller_url must be http(s)".into(),
                ));
            }
        }
        if let Some(source) = &import.controller_source {
            check_id("controller_source", source)?;
        }
        for (floor, plan) in &import.plans {
            check_id("floor", floor)?;
            check_text("plan", plan, 4 << 20)?;
        }
        for (camera, streams) in &import.streams {
            check_id("camera", camera)?;
            check_text("main_url", &streams.main_url, 2048)?;
            check_text("sub_url", &streams.sub_url, 2048)?;
            if let Some(r) = &streams.credential_ref {
                check_text("credential_ref", r, 256)?;
            }
            for url in [&streams.main_url, &streams.sub_url] {
                if let Ok(parsed) = url::Url::parse(url)
                    && parsed.password().is_some()
                {
                    return Err(HubError::BadRequest(format!(
                        "camera `{camera}`: put credentials in the keychain and name them in \
                         credential_ref, not in the URL"
                    )));
                }
            }
        }
        let now = self.now();
        let mut tx = self.db.write().await?;
        sqlx::query(
            "INSERT INTO sites (id, name, controller_url, controller_source, created_at, updated_at) \
             VALUES ($1, $2, $3, $5, $4, $4) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
             controller_url = excluded.controller_url, \
             controller_source = COALESCE(excluded.controller_source, sites.controller_source), \
             updated_at = excluded.updated_at",
        )
        .bind(&site.id)
        .bind(&site.name)
        .bind(&import.controller_url)
        .bind(now)
        .bind(&import.controller_source)
        .execute(tx.conn())
        .await?;
        // Which recorder served which camera survives a re-import that does not say.
        let recorders: std::collections::BTreeMap<String, Option<String>> =
            sqlx::query("SELECT id, recorder_id FROM cameras WHERE site_id = $1")
                .bind(&site.id)
                .fetch_all(tx.conn())
                .await?
                .iter()
                .map(|r| Ok((r.try_get("id")?, r.try_get("recorder_id")?)))
                .collect::<Result<_>>()?;
        for recorder in import.streams.values().filter_map(|s| s.recorder.as_ref()) {
            let known = sqlx::query("SELECT id FROM recorders WHERE id = $1 AND site_id = $2")
                .bind(recorder)
                .bind(&site.id)
                .fetch_optional(tx.conn())
                .await?;
            if known.is_none() {
                return Err(HubError::BadRequest(format!(
                    "streams name recorder `{}`, which is not registered on site `{}`",
                    clip(recorder),
                    site.id
                )));
            }
        }
        for table in ["floors", "zones", "cameras", "door_cameras"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE site_id = $1"))
                .bind(&site.id)
                .execute(tx.conn())
                .await?;
        }
        for (ordinal, floor) in site.floors.iter().enumerate() {
            let plan = import.plans.get(&floor.id).cloned().unwrap_or_default();
            sqlx::query(
                "INSERT INTO floors (site_id, id, name, ordinal, width, height, plan_media_type, plan) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&site.id)
            .bind(&floor.id)
            .bind(&floor.name)
            .bind(ordinal as i64)
            .bind(floor.width)
            .bind(floor.height)
            .bind("image/svg+xml")
            .bind(plan.into_bytes())
            .execute(tx.conn())
            .await?;
        }
        for zone in &site.zones {
            sqlx::query("INSERT INTO zones (site_id, id, floor_id, name, outline) VALUES ($1, $2, $3, $4, $5)")
                .bind(&site.id)
                .bind(&zone.id)
                .bind(&zone.floor)
                .bind(&zone.name)
                .bind(json!(zone.outline).to_string())
                .execute(tx.conn())
                .await?;
        }
        for (ordinal, camera) in site.cameras.iter().enumerate() {
            let streams = import.streams.get(&camera.id);
            sqlx::query(
                "INSERT INTO cameras (site_id, id, floor_id, name, main_url, sub_url, credential_ref, \
                 x, y, direction_deg, fov_deg, ordinal, recorder_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            )
            .bind(&site.id)
            .bind(&camera.id)
            .bind(&camera.floor)
            .bind(&camera.name)
            .bind(streams.map(|s| s.main_url.clone()).unwrap_or_default())
            .bind(streams.map(|s| s.sub_url.clone()).unwrap_or_default())
            .bind(streams.and_then(|s| s.credential_ref.clone()))
            .bind(camera.position[0])
            .bind(camera.position[1])
            .bind(camera.direction_deg)
            .bind(camera.fov_deg)
            .bind(ordinal as i64)
            .bind(
                streams
                    .and_then(|s| s.recorder.clone())
                    .or_else(|| recorders.get(&camera.id).cloned().flatten()),
            )
            .execute(tx.conn())
            .await?;
        }
        let existing = sqlx::query("SELECT id FROM doors WHERE site_id = $1")
            .bind(&site.id)
            .fetch_all(tx.conn())
            .await?;
        for row in existing {
            let id: String = row.try_get("id")?;
            if !site.doors.iter().any(|d| d.id == id) {
                sqlx::query("DELETE FROM doors WHERE site_id = $1 AND id = $2")
                    .bind(&site.id)
                    .bind(&id)
                    .execute(tx.conn())
                    .await?;
            }
        }
        for (ordinal, door) in site.doors.iter().enumerate() {
            sqlx::query(
                "INSERT INTO doors (site_id, id, floor_id, zone_id, name, x, y, ordinal) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (site_id, id) DO UPDATE SET floor_id = excluded.floor_id, \
                 zone_id = excluded.zone_id, name = excluded.name, x = excluded.x, y = excluded.y, \
                 ordinal = excluded.ordinal",
            )
            .bind(&site.id)
            .bind(&door.id)
            .bind(&door.floor)
            .bind(&door.zone)
            .bind(&door.name)
            .bind(door.position[0])
            .bind(door.position[1])
            .bind(ordinal as i64)
            .execute(tx.conn())
            .await?;
            for camera in &door.cameras {
                sqlx::query(
                    "INSERT INTO door_cameras (site_id, door_id, camera_id) VALUES ($1, $2, $3)",
                )
                .bind(&site.id)
                .bind(&door.id)
                .bind(camera)
                .execute(tx.conn())
                .await?;
            }
        }
        let rules: i64 = sqlx::query("SELECT COUNT(*) AS n FROM alarm_rules WHERE site_id = $1")
            .bind(&site.id)
            .fetch_one(tx.conn())
            .await?
            .try_get("n")?;
        if rules == 0 {
            for rule in default_rules() {
                insert_rule(&mut tx, &site.id, &rule).await?;
            }
        }
        tx.change(
            now,
            Some(&site.id),
            ChangeBody::Site(SiteSummary {
                id: site.id.clone(),
                name: site.name.clone(),
            }),
        )
        .await?;
        // The pairing in effect (an import that leaves it out keeps the one before).
        let controller_source: Option<String> =
            sqlx::query("SELECT controller_source FROM sites WHERE id = $1")
                .bind(&site.id)
                .fetch_one(tx.conn())
                .await?
                .try_get("controller_source")?;
        tx.audit(AuditEntry {
            at: now,
            user: actor.user_id(),
            action: "site.import",
            site: Some(&site.id),
            target: Some(&site.id),
            detail: json!({
                "floors": site.floors.len(), "cameras": site.cameras.len(), "doors": site.doors.len(),
                "controller_url": import.controller_url, "controller_source": controller_source,
            }),
        })
        .await?;
        tx.commit().await?;
        self.site_detail_unchecked(&site.id).await
    }

    pub async fn list_sites(&self, caller: &Caller) -> Result<Vec<SiteSummary>> {
        let rows = sqlx::query("SELECT id, name FROM sites ORDER BY name")
            .fetch_all(self.db.pool())
            .await?;
        let mut sites = Vec::new();
        for row in rows {
            let id: String = row.try_get("id")?;
            if caller.role_on(&id).is_some() {
                sites.push(SiteSummary {
                    name: row.try_get("name")?,
                    id,
                });
            }
        }
        Ok(sites)
    }

    pub async fn site_detail(&self, caller: &Caller, site: &str) -> Result<SiteDetail> {
        check_id("site", site)?;
        caller.require(site, Right::View)?;
        self.site_detail_unchecked(site).await
    }

    pub(super) async fn site_detail_unchecked(&self, site: &str) -> Result<SiteDetail> {
        let pool = self.db.pool();
        let row = sqlx::query("SELECT id, name FROM sites WHERE id = $1")
            .bind(site)
            .fetch_optional(pool)
            .await?
            .ok_or_else(|| HubError::NotFound(format!("site `{}`", clip(site))))?;
        let floors = sqlx::query(
            "SELECT id, name, width, height FROM floors WHERE site_id = $1 ORDER BY ordinal",
        )
        .bind(site)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| {
            let id: String = r.try_get("id")?;
            Ok(Floor {
                plan_url: format!("/api/v1/sites/{site}/floors/{id}/plan"),
                id,
                name: r.try_get("name")?,
                width: r.try_get("width")?,
                height: r.try_get("height")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let zones = sqlx::query(
            "SELECT id, floor_id, name, outline FROM zones WHERE site_id = $1 ORDER BY id",
        )
        .bind(site)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| {
            Ok(Zone {
                id: r.try_get("id")?,
                floor: r.try_get("floor_id")?,
                name: r.try_get("name")?,
                outline: json_column(r, "outline")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let links = sqlx::query("SELECT door_id, camera_id FROM door_cameras WHERE site_id = $1 ORDER BY door_id, camera_id")
            .bind(site)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get::<String, _>("door_id")?, r.try_get::<String, _>("camera_id")?)))
            .collect::<Result<Vec<_>>>()?;
        let cameras = sqlx::query(
            "SELECT id, floor_id, name, main_url, sub_url, credential_ref, recorder_id, x, y, \
             direction_deg, fov_deg FROM cameras WHERE site_id = $1 ORDER BY ordinal",
        )
        .bind(site)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| {
            let id: String = r.try_get("id")?;
            Ok(Camera {
                doors: links
                    .iter()
                    .filter(|(_, c)| *c == id)
                    .map(|(d, _)| d.clone())
                    .collect(),
                id,
                floor: r.try_get("floor_id")?,
                name: r.try_get("name")?,
                main_url: r.try_get("main_url")?,
                sub_url: r.try_get("sub_url")?,
                credential_ref: r.try_get("credential_ref")?,
                recorder: r.try_get("recorder_id")?,
                position: [r.try_get("x")?, r.try_get("y")?],
                direction_deg: r.try_get("direction_deg")?,
                fov_deg: r.try_get("fov_deg")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let doors = self.doors(site, &links).await?;
        Ok(SiteDetail {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            floors,
            zones,
            cameras,
            doors,
        })
    }

    pub(super) async fn doors(&self, site: &str, links: &[(String, String)]) -> Result<Vec<Door>> {
        sqlx::query(
            "SELECT id, floor_id, zone_id, name, x, y, door_state, lock_state, alarm_state, mode, state_at \
             FROM doors WHERE site_id = $1 ORDER BY ordinal",
        )
        .bind(site)
        .fetch_all(self.db.pool())
        .await?
        .iter()
        .map(|r| door_from_row(site, r, links))
        .collect()
    }

    pub async fn floor_plan(
        &self,
        caller: &Caller,
        site: &str,
        floor: &str,
    ) -> Result<(String, Vec<u8>)> {
        check_id("site", site)?;
        check_id("floor", floor)?;
        caller.require(site, Right::View)?;
        let row =
            sqlx::query("SELECT plan_media_type, plan FROM floors WHERE site_id = $1 AND id = $2")
                .bind(site)
                .bind(floor)
                .fetch_optional(self.db.pool())
                .await?
                .ok_or_else(|| HubError::NotFound(format!("floor `{floor}`")))?;
        Ok((row.try_get("plan_media_type")?, row.try_get("plan")?))
    }

    pub async fn rules(&self, caller: &Caller, site: &str) -> Result<Vec<AlarmRule>> {
        check_id("site", site)?;
        caller.require(site, Right::View)?;
        let mut conn = self.db.pool().acquire().await?;
        rules_on(&mut conn, site).await
    }

    pub async fn put_rules(
        &self,
        caller: &Caller,
        site: &str,
        rules: Vec<AlarmRule>,
    ) -> Result<Vec<AlarmRule>> {
        check_id("site", site)?;
        caller.require(site, Right::Configure)?;
        for rule in &rules {
            check_id("rule id", &rule.id)?;
            check_text("name", &rule.name, 200)?;
            check_text("event_type", &rule.event_type, 64)?;
            check_text("procedure", &rule.procedure, 8000)?;
            if let Some(state) = &rule.state {
                check_text("state", state, 64)?;
            }
            check_priority(rule.priority)?;
        }
        let now = self.now();
        let mut tx = self.db.write().await?;
        sqlx::query("DELETE FROM alarm_rules WHERE site_id = $1")
            .bind(site)
            .execute(tx.conn())
            .await?;
        for rule in &rules {
            insert_rule(&mut tx, site, rule).await?;
        }
        tx.audit(AuditEntry {
            at: now,
            user: Some(&caller.user_id),
            action: "rules.update",
            site: Some(site),
            target: None,
            detail: json!(rules),
        })
        .await?;
        tx.commit().await?;
        self.rules(caller, site).await
    }
}

/// The rules a new site starts with.
pub fn default_rules() -> Vec<AlarmRule> {
    vec![
        AlarmRule {
            id: "door-forced-open".into(),
            name: "Door forced open".into(),
            event_type: "DoorAlarm".into(),
            state: Some("DoorForcedOpen".into()),
            priority: 1,
            procedure: "1. Look at the door's cameras on the alarm tiles.\n\
                        2. Send the nearest patrol to the door; keep radio contact.\n\
                        3. If anyone is inside without authorisation, call the police and \
                        consider a lockdown.\n4. Acknowledge with what you saw; open an incident."
                .into(),
        },
        AlarmRule {
            id: "recorder-disk-full".into(),
            name: "Recorder out of space".into(),
            event_type: "RecorderStorage".into(),
            state: Some("Full".into()),
            priority: 1,
            procedure: "1. The recorder keeps only video under evidence locks and records \
                        nothing new on this camera.\n2. Tell IT: release locks that are no longer \
                        needed, or give the recorder more disk.\n3. Acknowledge; close once \
                        recording is back."
                .into(),
        },
        AlarmRule {
            id: "camera-offline".into(),
            name: "Camera offline".into(),
            event_type: "CameraStream".into(),
            state: Some("Offline".into()),
            priority: 2,
            procedure: "1. The recorder lost the camera: nothing of it is recorded now.\n\
                        2. Check the area with the cameras nearby.\n3. Tell IT (power, network, \
                        tampering?) and acknowledge."
                .into(),
        },
        AlarmRule {
            id: "door-open-too-long".into(),
            name: "Door held open".into(),
            event_type: "DoorAlarm".into(),
            state: Some("DoorOpenTooLong".into()),
            priority: 3,
            procedure: "1. Check the door's cameras for a propped door or tailgating.\n\
                        2. Ask a patrol to close it on the next round.\n3. Acknowledge."
                .into(),
        },
    ]
}

/// A site's alarm rules, most urgent first.
pub(crate) async fn rules_on(conn: &mut sqlx::AnyConnection, site: &str) -> Result<Vec<AlarmRule>> {
    sqlx::query(
        "SELECT id, name, event_type, state, priority, procedure_text FROM alarm_rules \
         WHERE site_id = $1 ORDER BY priority, id",
    )
    .bind(site)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(AlarmRule {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            event_type: r.try_get("event_type")?,
            state: r.try_get("state")?,
            priority: r.try_get("priority")?,
            procedure: r.try_get("procedure_text")?,
        })
    })
    .collect()
}

pub(super) async fn insert_rule(tx: &mut WriteTx, site: &str, rule: &AlarmRule) -> Result<()> {
    sqlx::query(
        "INSERT INTO alarm_rules (site_id, id, name, event_type, state, priority, procedure_text) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(site)
    .bind(&rule.id)
    .bind(&rule.name)
    .bind(&rule.event_type)
    .bind(&rule.state)
    .bind(rule.priority)
    .bind(&rule.procedure)
    .execute(tx.conn())
    .await?;
    Ok(())
}
