//! The domain: every read and write the hub offers, with the caller's rights checked on the
//! object's site, and the audit record and live-feed change written in the write's own
//! transaction. Writes made by clients carry a client-made id, so a replay changes nothing.

use crate::auth::{self, LoginLimiter};
use crate::db::{AuditEntry, Db, WriteTx};
use crate::model::*;
use crate::secrets::HubKey;
use crate::{HubError, Result, SharedClock, check_id, check_text, clip, rfc3339};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;

/// The hub's state: the database and what the domain needs beside it.
#[derive(Debug)]
pub struct Hub {
    pub db: Db,
    pub clock: SharedClock,
    pub key: HubKey,
    pub limiter: LoginLimiter,
    /// Password hashes checked at once, at most (each takes ~19 MiB and a core).
    hashing: tokio::sync::Semaphore,
    http: reqwest::Client,
}

impl From<Refusal> for HubError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::UnknownSite { site } => HubError::NotFound(format!("site `{}`", clip(&site))),
            Refusal::NotAllowed { role, right, site } => HubError::Forbidden(format!(
                "a {} may not {right:?} on site `{}`",
                role.as_str(),
                clip(&site)
            )),
            Refusal::NeedsAllSites { right } => {
                HubError::Forbidden(format!("{right:?} needs an all-sites grant that allows it"))
            }
        }
    }
}

fn limit(requested: Option<i64>) -> i64 {
    requested.unwrap_or(200).clamp(1, 1000)
}

fn opt_time(ms: Option<i64>) -> Option<String> {
    ms.map(rfc3339)
}

fn json_column<T: serde::de::DeserializeOwned>(row: &AnyRow, column: &str) -> Result<T> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text)
        .map_err(|e| HubError::Internal(format!("stored {column} is not valid: {e}")))
}

impl Hub {
    pub fn new(db: Db, clock: SharedClock, key: HubKey) -> Result<Self> {
        crate::serve::install_crypto();
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(5))
            .build()
            .map_err(|e| HubError::Internal(format!("HTTP client: {e}")))?;
        Ok(Self {
            db,
            clock,
            key,
            limiter: LoginLimiter::default(),
            hashing: tokio::sync::Semaphore::new(4),
            http,
        })
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    // ---- client-made ids ------------------------------------------------------------------

    /// The answer a client write with this id got before, if it was made.
    /// Ids are scoped by user and by action and target (`scope`), so one client's id never
    /// answers for another's write.
    async fn replayed(
        &self,
        tx: &mut WriteTx,
        caller: &Caller,
        scope: &str,
        request_id: &str,
    ) -> Result<Option<serde_json::Value>> {
        check_id("request_id", request_id)?;
        let row = sqlx::query("SELECT response FROM client_writes WHERE id = $1")
            .bind(write_key(caller, scope, request_id))
            .fetch_optional(tx.conn())
            .await?;
        row.map(|r| json_column(&r, "response")).transpose()
    }

    async fn remember(
        &self,
        tx: &mut WriteTx,
        caller: &Caller,
        scope: &str,
        request_id: &str,
        response: &serde_json::Value,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO client_writes (id, user_id, at, response) VALUES ($1, $2, $3, $4)",
        )
        .bind(write_key(caller, scope, request_id))
        .bind(&caller.user_id)
        .bind(self.now())
        .bind(response.to_string())
        .execute(tx.conn())
        .await?;
        Ok(())
    }

    // ---- users and sessions -----------------------------------------------------------------

    /// Makes a user. `caller` is `None` only for the command line's bootstrap.
    pub async fn create_user(&self, caller: Option<&Caller>, new: NewUser) -> Result<User> {
        if let Some(caller) = caller {
            caller.require_global(Right::ManageUsers)?;
        }
        check_id("id", &new.id)?;
        check_id("username", &new.username)?;
        check_text("display_name", &new.display_name, 200)?;
        check_text("password", &new.password, 1024)?;
        for grant in &new.grants {
            if grant.site != "*" {
                check_id("site", &grant.site)?;
            }
        }
        let password = new.password.clone();
        let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
            .await
            .map_err(|e| HubError::Internal(e.to_string()))??;
        let now = self.now();
        let mut tx = self.db.write().await?;
        if let Some(existing) = sqlx::query("SELECT username FROM users WHERE id = $1")
            .bind(&new.id)
            .fetch_optional(tx.conn())
            .await?
        {
            let username: String = existing.try_get("username")?;
            drop(tx);
            if username == new.username {
                return self.user(&new.id).await;
            }
            return Err(HubError::Conflict(format!("user id `{}` is taken", new.id)));
        }
        let taken = sqlx::query("SELECT id FROM users WHERE username = $1")
            .bind(&new.username)
            .fetch_optional(tx.conn())
            .await?;
        if taken.is_some() {
            return Err(HubError::Conflict(format!(
                "user name `{}` is taken",
                new.username
            )));
        }
        sqlx::query(
            "INSERT INTO users (id, username, display_name, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&new.id)
        .bind(&new.username)
        .bind(&new.display_name)
        .bind(&hash)
        .bind(now)
        .execute(tx.conn())
        .await?;
        set_grants(&mut tx, &new.id, &new.grants).await?;
        tx.audit(AuditEntry {
            at: now,
            user: caller.map(|c| c.user_id.as_str()),
            action: "user.create",
            site: None,
            target: Some(&new.id),
            detail: json!({"username": new.username, "grants": new.grants}),
        })
        .await?;
        tx.commit().await?;
        self.user(&new.id).await
    }

    pub async fn user(&self, id: &str) -> Result<User> {
        let row =
            sqlx::query("SELECT id, username, display_name, disabled_at FROM users WHERE id = $1")
                .bind(id)
                .fetch_optional(self.db.pool())
                .await?
                .ok_or_else(|| HubError::NotFound(format!("user `{}`", clip(id))))?;
        Ok(User {
            id: row.try_get("id")?,
            username: row.try_get("username")?,
            display_name: row.try_get("display_name")?,
            disabled: row.try_get::<Option<i64>, _>("disabled_at")?.is_some(),
            grants: self.grants(id).await?,
        })
    }

    async fn grants(&self, user: &str) -> Result<Vec<Grant>> {
        let rows =
            sqlx::query("SELECT site_id, role FROM grants WHERE user_id = $1 ORDER BY site_id")
                .bind(user)
                .fetch_all(self.db.pool())
                .await?;
        rows.iter()
            .map(|r| {
                let role: String = r.try_get("role")?;
                Ok(Grant {
                    site: r.try_get("site_id")?,
                    role: Role::parse(&role)
                        .ok_or_else(|| HubError::Internal(format!("stored role `{role}`")))?,
                })
            })
            .collect()
    }

    pub async fn list_users(&self, caller: &Caller) -> Result<Vec<User>> {
        caller.require_global(Right::ManageUsers)?;
        let ids = sqlx::query("SELECT id FROM users ORDER BY username")
            .fetch_all(self.db.pool())
            .await?;
        let mut users = Vec::with_capacity(ids.len());
        for row in ids {
            let id: String = row.try_get("id")?;
            users.push(self.user(&id).await?);
        }
        Ok(users)
    }

    pub async fn update_grants(
        &self,
        caller: &Caller,
        user: &str,
        grants: Vec<Grant>,
    ) -> Result<User> {
        caller.require_global(Right::ManageUsers)?;
        check_id("user", user)?;
        for grant in &grants {
            if grant.site != "*" {
                check_id("site", &grant.site)?;
            }
        }
        self.user(user).await?;
        let mut tx = self.db.write().await?;
        sqlx::query("DELETE FROM grants WHERE user_id = $1")
            .bind(user)
            .execute(tx.conn())
            .await?;
        set_grants(&mut tx, user, &grants).await?;
        tx.audit(AuditEntry {
            at: self.now(),
            user: Some(&caller.user_id),
            action: "user.grants",
            site: None,
            target: Some(user),
            detail: json!({"grants": grants}),
        })
        .await?;
        tx.commit().await?;
        self.user(user).await
    }

    /// Ends every session of `user` now.
    pub async fn revoke_sessions(&self, caller: &Caller, user: &str) -> Result<u64> {
        caller.require_global(Right::ManageUsers)?;
        check_id("user", user)?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        let done = sqlx::query(
            "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(user)
        .execute(tx.conn())
        .await?
        .rows_affected();
        tx.audit(AuditEntry {
            at: now,
            user: Some(&caller.user_id),
            action: "user.revoke-sessions",
            site: None,
            target: Some(user),
            detail: json!({"sessions": done}),
        })
        .await?;
        tx.commit().await?;
        Ok(done)
    }

    /// Checks a password and opens a session. `client` (the peer address) joins the user name
    /// in the rate limit, so one attacker cannot lock a guard out from elsewhere for long.
    pub async fn login(&self, username: &str, password: &str, client: &str) -> Result<Session> {
        check_text("username", username, 128)?;
        check_text("password", password, 1024)?;
        let now = self.now();
        let user_key = format!("user:{}", username.to_lowercase());
        let client_key = format!("client:{client}");
        self.limiter.check(&user_key, auth::MAX_FAILURES, now)?;
        self.limiter
            .check(&client_key, auth::MAX_CLIENT_FAILURES, now)?;
        let row = sqlx::query(
            "SELECT id, password_hash FROM users WHERE username = $1 AND disabled_at IS NULL",
        )
        .bind(username)
        .fetch_optional(self.db.pool())
        .await?;
        // Verify against a real hash even for unknown users, so timing tells nothing.
        let (user_id, hash) = match &row {
            Some(r) => (
                Some(r.try_get::<String, _>("id")?),
                r.try_get::<String, _>("password_hash")?,
            ),
            None => (None, DUMMY_HASH.to_owned()),
        };
        // Count the attempt before the slow check, so parallel guesses cannot slip past the
        // limit; a success forgets it. At most a few hashes run at once: more is refused.
        self.limiter.failed(&user_key, now);
        self.limiter.failed(&client_key, now);
        let _permit = self
            .hashing
            .try_acquire()
            .map_err(|_| HubError::RateLimited { retry_after_s: 1 })?;
        let attempt = password.to_owned();
        let matches = tokio::task::spawn_blocking(move || auth::verify_password(&hash, &attempt))
            .await
            .map_err(|e| HubError::Internal(e.to_string()))?;
        let Some(user_id) = user_id.filter(|_| matches) else {
            let mut tx = self.db.write().await?;
            tx.audit(AuditEntry {
                at: now,
                user: None,
                action: "auth.login-failed",
                site: None,
                target: None,
                detail: json!({"username": clip(username), "client": client}),
            })
            .await?;
            tx.commit().await?;
            return Err(HubError::Unauthenticated);
        };
        self.limiter.succeeded(&user_key);
        self.limiter.forgive_one(&client_key);
        let ttl = self.settings().await?.session_minutes * 60_000;
        let (token, token_hash) = auth::new_token();
        let mut tx = self.db.write().await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&token_hash)
        .bind(&user_id)
        .bind(now)
        .bind(now + ttl)
        .execute(tx.conn())
        .await?;
        tx.audit(AuditEntry {
            at: now,
            user: Some(&user_id),
            action: "auth.login",
            site: None,
            target: None,
            detail: json!({"client": client}),
        })
        .await?;
        tx.commit().await?;
        Ok(Session {
            user: self.authenticate(&token).await?,
            token,
            expires: rfc3339(now + ttl),
        })
    }

    /// The caller behind a bearer token, if the session is live.
    pub async fn authenticate(&self, token: &str) -> Result<Caller> {
        if token.is_empty() || token.len() > 256 {
            return Err(HubError::Unauthenticated);
        }
        let row = sqlx::query(
            "SELECT u.id, u.username, u.display_name FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 \
             AND u.disabled_at IS NULL",
        )
        .bind(auth::token_hash(token))
        .bind(self.now())
        .fetch_optional(self.db.pool())
        .await?
        .ok_or(HubError::Unauthenticated)?;
        let user_id: String = row.try_get("id")?;
        Ok(Caller {
            grants: self.grants(&user_id).await?,
            user_id,
            username: row.try_get("username")?,
            display_name: row.try_get("display_name")?,
        })
    }

    pub async fn logout(&self, token: &str) -> Result<()> {
        let caller = self.authenticate(token).await?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE token_hash = $2")
            .bind(now)
            .bind(auth::token_hash(token))
            .execute(tx.conn())
            .await?;
        tx.audit(AuditEntry {
            at: now,
            user: Some(&caller.user_id),
            action: "auth.logout",
            site: None,
            target: None,
            detail: json!({}),
        })
        .await?;
        tx.commit().await
    }

    // ---- settings -------------------------------------------------------------------------

    pub async fn settings(&self) -> Result<Settings> {
        let row = sqlx::query("SELECT value FROM settings WHERE key = 'hub'")
            .fetch_optional(self.db.pool())
            .await?;
        match row {
            Some(row) => json_column(&row, "value"),
            None => Ok(Settings::default()),
        }
    }

    pub async fn put_settings(&self, caller: &Caller, settings: Settings) -> Result<Settings> {
        caller.require_global(Right::ItSettings)?;
        if !(5..=7 * 24 * 60).contains(&settings.session_minutes) {
            return Err(HubError::BadRequest(
                "session_minutes must be between 5 and 10080".into(),
            ));
        }
        let value =
            serde_json::to_string(&settings).map_err(|e| HubError::Internal(e.to_string()))?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ('hub', $1) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(&value)
        .execute(tx.conn())
        .await?;
        tx.audit(AuditEntry {
            at: now,
            user: Some(&caller.user_id),
            action: "settings.update",
            site: None,
            target: None,
            detail: json!(settings),
        })
        .await?;
        tx.commit().await?;
        Ok(settings)
    }

    // ---- sites ----------------------------------------------------------------------------

    /// Creates or replaces a site's configuration; live door states and history stay.
    pub async fn import_site(
        &self,
        caller: Option<&Caller>,
        import: SiteImport,
    ) -> Result<SiteDetail> {
        let site: site::Site = serde_json::from_value(import.site.clone())
            .map_err(|e| HubError::BadRequest(format!("not a site: {e}")))?;
        site.validate()
            .map_err(|e| HubError::BadRequest(e.to_string()))?;
        check_id("site", &site.id)?;
        if let Some(caller) = caller {
            match caller.role_on(&site.id) {
                Some(role) if role.allows(Right::Configure) => {}
                _ => caller.require_global(Right::Configure)?,
            }
        }
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
            "INSERT INTO sites (id, name, controller_url, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
             controller_url = excluded.controller_url, updated_at = excluded.updated_at",
        )
        .bind(&site.id)
        .bind(&site.name)
        .bind(&import.controller_url)
        .bind(now)
        .execute(tx.conn())
        .await?;
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
                 x, y, direction_deg, fov_deg, ordinal) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
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
        tx.audit(AuditEntry {
            at: now,
            user: caller.map(|c| c.user_id.as_str()),
            action: "site.import",
            site: Some(&site.id),
            target: Some(&site.id),
            detail: json!({
                "floors": site.floors.len(), "cameras": site.cameras.len(), "doors": site.doors.len()
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

    async fn site_detail_unchecked(&self, site: &str) -> Result<SiteDetail> {
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
            "SELECT id, floor_id, name, main_url, sub_url, credential_ref, x, y, direction_deg, fov_deg \
             FROM cameras WHERE site_id = $1 ORDER BY ordinal",
        )
        .bind(site)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| {
            let id: String = r.try_get("id")?;
            Ok(Camera {
                doors: links.iter().filter(|(_, c)| *c == id).map(|(d, _)| d.clone()).collect(),
                id,
                floor: r.try_get("floor_id")?,
                name: r.try_get("name")?,
                main_url: r.try_get("main_url")?,
                sub_url: r.try_get("sub_url")?,
                credential_ref: r.try_get("credential_ref")?,
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

    async fn doors(&self, site: &str, links: &[(String, String)]) -> Result<Vec<Door>> {
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

    // ---- events ---------------------------------------------------------------------------

    pub async fn list_events(&self, caller: &Caller, filter: EventFilter) -> Result<Vec<Event>> {
        let site = filter
            .site
            .ok_or_else(|| HubError::BadRequest("`site` is required".into()))?;
        check_id("site", &site)?;
        caller.require(&site, Right::View)?;
        let mut sql = String::from(
            "SELECT site_id, id, kind, event_type, topic, door_id, camera_id, at, received_at, body \
             FROM events WHERE site_id = $1",
        );
        let mut texts: Vec<String> = Vec::new();
        let mut times: Vec<i64> = Vec::new();
        if let Some(kind) = filter.kind {
            if !EVENT_KINDS.contains(&kind.as_str()) {
                return Err(HubError::BadRequest(format!(
                    "kind must be one of {}",
                    EVENT_KINDS.join(", ")
                )));
            }
            texts.push(kind);
            sql.push_str(&format!(" AND kind = ${}", 1 + texts.len()));
        }
        if let Some(door) = filter.door {
            check_id("door", &door)?;
            texts.push(door);
            sql.push_str(&format!(" AND door_id = ${}", 1 + texts.len()));
        }
        if let Some(from) = filter.from {
            times.push(crate::parse_time(&from)?);
            sql.push_str(&format!(" AND at >= ${}", 1 + texts.len() + times.len()));
        }
        if let Some(to) = filter.to {
            times.push(crate::parse_time(&to)?);
            sql.push_str(&format!(" AND at < ${}", 1 + texts.len() + times.len()));
        }
        sql.push_str(&format!(
            " ORDER BY at DESC, id DESC LIMIT ${}",
            2 + texts.len() + times.len()
        ));
        let mut query = sqlx::query(&sql).bind(&site);
        for text in &texts {
            query = query.bind(text);
        }
        for time in &times {
            query = query.bind(*time);
        }
        query
            .bind(limit(filter.limit))
            .fetch_all(self.db.pool())
            .await?
            .iter()
            .map(event_from_row)
            .collect()
    }

    // ---- alarms ---------------------------------------------------------------------------

    pub async fn list_alarms(&self, caller: &Caller, filter: AlarmFilter) -> Result<Vec<Alarm>> {
        let site = filter
            .site
            .ok_or_else(|| HubError::BadRequest("`site` is required".into()))?;
        check_id("site", &site)?;
        caller.require(&site, Right::View)?;
        let state = filter
            .state
            .map(|s| {
                AlarmState::parse(&s).ok_or_else(|| {
                    HubError::BadRequest("state must be new, acknowledged or closed".into())
                })
            })
            .transpose()?;
        let rows = match state {
            Some(state) => sqlx::query(&format!("{ALARM_SELECT} WHERE site_id = $1 AND state = $2 ORDER BY priority, raised_at DESC LIMIT $3"))
                .bind(&site)
                .bind(state.as_str())
                .bind(limit(filter.limit))
                .fetch_all(self.db.pool())
                .await?,
            None => sqlx::query(&format!("{ALARM_SELECT} WHERE site_id = $1 ORDER BY priority, raised_at DESC LIMIT $2"))
                .bind(&site)
                .bind(limit(filter.limit))
                .fetch_all(self.db.pool())
                .await?,
        };
        rows.iter().map(alarm_from_row).collect()
    }

    pub async fn alarm(&self, caller: &Caller, id: &str) -> Result<Alarm> {
        check_id("alarm", id)?;
        let alarm = self.alarm_unchecked(self.db.pool(), id).await?;
        caller.require(&alarm.site, Right::View)?;
        Ok(alarm)
    }

    async fn alarm_unchecked<'e, E>(&self, executor: E, id: &str) -> Result<Alarm>
    where
        E: sqlx::Executor<'e, Database = sqlx::Any>,
    {
        let row = sqlx::query(&format!("{ALARM_SELECT} WHERE id = $1"))
            .bind(id)
            .fetch_optional(executor)
            .await?
            .ok_or_else(|| HubError::NotFound(format!("alarm `{}`", clip(id))))?;
        alarm_from_row(&row)
    }

    /// Acknowledges, forwards or closes an alarm.
    pub async fn act_on_alarm(
        &self,
        caller: &Caller,
        id: &str,
        verb: AlarmVerb,
        action: AlarmAction,
    ) -> Result<Alarm> {
        check_id("alarm", id)?;
        check_text("comment", &action.comment, 4000)?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        let alarm = self.alarm_unchecked(tx.conn(), id).await?;
        let right = match verb {
            AlarmVerb::Acknowledge => Right::AcknowledgeAlarm,
            AlarmVerb::Forward => Right::ForwardAlarm,
            AlarmVerb::Close => Right::CloseAlarm,
        };
        caller.require(&alarm.site, right)?;
        let scope = format!("{}:{id}", verb.action());
        if let Some(previous) = self
            .replayed(&mut tx, caller, &scope, &action.request_id)
            .await?
        {
            return serde_json::from_value(previous).map_err(|e| HubError::Internal(e.to_string()));
        }
        match verb {
            AlarmVerb::Acknowledge => {
                if alarm.state != AlarmState::New {
                    return Err(HubError::Conflict(format!(
                        "alarm is already {}",
                        alarm.state.as_str()
                    )));
                }
                sqlx::query(
                    "UPDATE alarms SET state = 'acknowledged', acknowledged_by = $1, acknowledged_at = $2, \
                     acknowledge_comment = $3 WHERE id = $4",
                )
                .bind(&caller.username)
                .bind(now)
                .bind(&action.comment)
                .bind(id)
                .execute(tx.conn())
                .await?;
            }
            AlarmVerb::Forward => {
                let to = action
                    .to
                    .as_deref()
                    .ok_or_else(|| HubError::BadRequest("forwarding needs `to`".into()))?;
                check_id("to", to)?;
                let exists = sqlx::query("SELECT id FROM users WHERE username = $1")
                    .bind(to)
                    .fetch_optional(tx.conn())
                    .await?;
                if exists.is_none() {
                    return Err(HubError::BadRequest(format!("no user `{to}`")));
                }
                if alarm.state == AlarmState::Closed {
                    return Err(HubError::Conflict("alarm is closed".into()));
                }
                sqlx::query("UPDATE alarms SET forwarded_to = $1 WHERE id = $2")
                    .bind(to)
                    .bind(id)
                    .execute(tx.conn())
                    .await?;
            }
            AlarmVerb::Close => {
                if alarm.state == AlarmState::Closed {
                    return Err(HubError::Conflict("alarm is already closed".into()));
                }
                sqlx::query(
                    "UPDATE alarms SET state = 'closed', closed_by = $1, closed_at = $2, close_comment = $3 \
                     WHERE id = $4",
                )
                .bind(&caller.username)
                .bind(now)
                .bind(&action.comment)
                .bind(id)
                .execute(tx.conn())
                .await?;
            }
        }
        let updated = self.alarm_unchecked(tx.conn(), id).await?;
        let body = json!(updated);
        tx.change(now, Some(&updated.site), ChangeBody::Alarm(updated.clone()))
            .await?;
        tx.audit(AuditEntry {
            at: now,
            user: Some(&caller.user_id),
            action: verb.action(),
            site: Some(&updated.site),
            target: Some(id),
            detail: json!({"comment": action.comment, "to": action.to}),
        })
        .await?;
        self.remember(&mut tx, caller, &scope, &action.request_id, &body)
            .await?;
        tx.commit().await?;
        Ok(updated)
    }

    // ---- incidents ------------------------------------------------------------------------

    pub async fn create_incident(
        &self,
        caller: &Caller,
        new: NewIncident,
    ) -> Result<IncidentDetail> {
        check_id("id", &new.id)?;
        check_id("site", &new.site)?;
        check_text("title", &new.title, 500)?;
        if new.title.trim().is_empty() {
            return Err(HubError::BadRequest("an incident needs a title".into()));
        }
        check_priority(new.priority)?;
        caller.require(&new.site, Right::WriteIncident)?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        if let Some(row) = sqlx::query("SELECT site_id FROM incidents WHERE id = $1")
            .bind(&new.id)
            .fetch_optional(tx.conn())
            .await?
        {
            let site: String = row.try_get("site_id")?;
            drop(tx);
            if site != new.site {
                return Err(HubError::Conflict(format!(
                    "incident id `{}` is taken",
                    new.id
                )));
            }
            return self.incident(caller, &new.id).await;
        }
        if let Some(assignee) = &new.assignee {
            check_user_exists(&mut tx, assignee).await?;
        }
        sqlx::query(
            "INSERT INTO incidents (id, site_id, title, status, priority, assignee, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, 'open', $4, $5, $6, $7, $7)",
        )
        .bind(&new.id)
        .bind(&new.site)
        .bind(&new.title)
        .bind(new.priority)
        .bind(&new.assignee)
        .bind(&caller.username)
        .bind(now)
        .execute(tx.conn())
        .await?;
        let links = self.expand_links(&mut tx, &new.site, &new.links).await?;
        insert_links(&mut tx, &new.id, &links).await?;
        let incident = incident_unchecked(&mut tx, &new.id).await?;
        tx.change(now, Some(&new.site), ChangeBody::Incident(incident.clone()))
            .await?;
        tx.audit(AuditEntry {
            at: now,
            user: Some(&caller.user_id),
            action: "incident.create",
            site: Some(&new.site),
            target: Some(&new.id),
            detail: json!({"title": new.title, "priority": new.priority, "links": links}),
        })
        .await?;
        tx.commit().await?;
        self.incident(caller, &new.id).await
    }

    /// An alarm link brings its event and cameras; every link must exist on the site.
    async fn expand_links(
        &self,
        tx: &mut WriteTx,
        site: &str,
        links: &[IncidentLink],
    ) -> Result<Vec<IncidentLink>> {
        let mut out: Vec<IncidentLink> = Vec::new();
        let mut push = |link: IncidentLink| {
            if !out.iter().any(|l| l.kind == link.kind && l.id == link.id) {
                out.push(link);
            }
        };
        for link in links {
            check_id("link id", &link.id)?;
            match link.kind.as_str() {
                "alarm" => {
                    let alarm = self.alarm_unchecked(tx.conn(), &link.id).await?;
                    if alarm.site != site {
                        return Err(HubError::BadRequest(format!(
                            "alarm `{}` is on another site",
                            link.id
                        )));
                    }
                    push(link.clone());
                    push(IncidentLink {
                        kind: "event".into(),
                        id: alarm.event.clone(),
                    });
                    for camera in alarm.cameras {
                        push(IncidentLink {
                            kind: "camera".into(),
                            id: camera,
                        });
                    }
                }
                "event" | "camera" => {
                    let table = if link.kind == "event" {
                        "events"
                    } else {
                        "cameras"
                    };
                    let found = sqlx::query(&format!(
                        "SELECT id FROM {table} WHERE site_id = $1 AND id = $2"
                    ))
                    .bind(site)
                    .bind(&link.id)
                    .fetch_optional(tx.conn())
                    .await?;
                    if found.is_none() {
                        return Err(HubError::BadRequest(format!(
                            "no {} `{}` on site `{site}`",
                            link.kind, link.id
                        )));
                    }
                    push(link.clone());
                }
                other => {
                    return Err(HubError::BadRequest(format!(
                        "link kind `{}` must be alarm, event or camera",
                        clip(other)
                    )));
                }
            }
        }
        Ok(out)
    }

    pub async fn incident(&self, caller: &Caller, id: &str) -> Result<IncidentDetail> {
        check_id("incident", id)?;
        let mut conn = self.db.pool().acquire().await?;
        let incident = incident_on(&mut conn, id).await?;
        caller.require(&incident.site, Right::View)?;
        let notes = notes_of(&mut conn, id).await?;
        let history = sqlx::query(&format!("{AUDIT_SELECT} WHERE site_id = $2 AND action LIKE 'incident.%' AND (target = $1 OR target IN (SELECT id FROM incident_notes WHERE incident_id = $1)) ORDER BY seq"))
            .bind(id)
            .bind(&incident.site)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(audit_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(IncidentDetail {
            incident,
            notes,
            history,
        })
    }

    pub async fn list_incidents(
        &self,
        caller: &Caller,
        filter: IncidentFilter,
    ) -> Result<Vec<Incident>> {
        let site = filter
            .site
            .ok_or_else(|| HubError::BadRequest("`site` is required".into()))?;
        check_id("site", &site)?;
        caller.require(&site, Right::View)?;
        let status = filter
            .status
            .map(|s| {
                IncidentStatus::parse(&s).ok_or_else(|| {
                    HubError::BadRequest("status must be open, in-progress or closed".into())
                })
            })
            .transpose()?;
        let mut conn = self.db.pool().acquire().await?;
        let ids = match status {
            Some(status) => sqlx::query("SELECT id FROM incidents WHERE site_id = $1 AND deleted_at IS NULL AND status = $2 ORDER BY updated_at DESC LIMIT $3")
                .bind(&site)
                .bind(status.as_str())
                .bind(limit(filter.limit))
                .fetch_all(&mut *conn)
                .await?,
            None => sqlx::query("SELECT id FROM incidents WHERE site_id = $1 AND deleted_at IS NULL ORDER BY updated_at DESC LIMIT $2")
                .bind(&site)
                .bind(limit(filter.limit))
                .fetch_all(&mut *conn)
                .await?,
        };
        let mut incidents = Vec::with_capacity(ids.len());
        for row in ids {
            let id: String = row.try_get("id")?;
            incidents.push(incident_on(&mut conn, &id).await?);
        }
        Ok(incidents)
    }

    pub async fn update_incident(
        &self,
        caller: &Caller,
        id: &str,
        patch: IncidentPatch,
    ) -> Result<IncidentDetail> {
        check_id("incident", id)?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        let scope = format!("incident.update:{id}");
        if self
            .replayed(&mut tx, caller, &scope, &patch.request_id)
            .await?
            .is_some()
        {
            drop(tx);
            return self.incident(caller, id).await;
        }
        let current = incident_unchecked(&mut tx, id).await?;
        let only_links = patch.title.is_none()
            && patch.status.is_none()
            && patch.priority.is_none()
            && patch.assignee.is_none();
        caller.require(
            &current.site,
            if only_links {
                Right::WriteIncident
            } else {
                Right::ManageIncident
            },
        )?;
        if let Some(title) = &patch.title {
            check_text("title", title, 500)?;
            if title.trim().is_empty() {
                return Err(HubError::BadRequest("an incident needs a title".into()));
            }
        }
        if let Some(priority) = patch.priority {
            check_priority(priority)?;
        }
        let assignee = match patch.assignee.as_deref() {
            None => current.assignee.clone(),
            Some("") => None,
            Some(name) => {
                check_user_exists(&mut tx, name).await?;
                Some(name.to_owned())
            }
        };
        sqlx::query(
            "UPDATE incidents SET title = $1, status = $2, priority = $3, assignee = $4, updated_at = $5 WHERE id = $6",
        )
        .bind(patch.title.as_ref().unwrap_or(&current.title))
        .bind(patch.status.unwrap_or(current.status).as_str())
        .bind(patch.priority.unwrap_or(current.priority))
        .bind(&assignee)
        .bind(now)
        .bind(id)
        .execute(tx.conn())
        .await?;
        let links = self
            .expand_links(&mut tx, &current.site, &patch.links)
            .await?;
        insert_links(&mut tx, id, &links).await?;
        let updated = incident_unchecked(&mut tx, id).await?;
        tx.change(
            now,
            Some(&updated.site),
            ChangeBody::Incident(updated.clone()),
        )
        .await?;
        tx.audit(AuditEntry {
            at: now,
            user: Some(&caller.user_id),
            action: "incident.update",
            site: Some(&updated.site),
            target: Some(id),
            detail: json!({
                "title": patch.title, "status": patch.status, "priority": patch.priority,
                "assignee": patch.assignee, "links": links,
            }),
        })
        .await?;
        self.remember(
            &mut tx,
            caller,
            &scope,
            &patch.request_id,
            &json!({"incident": id}),
        )
        .await?;
        tx.commit().await?;
        self.incident(caller, id).await
    }

    /// Hides an incident from lists; its notes and audit trail stay.
    pub async fn delete_incident(&self, caller: &Caller, id: &str) -> Result<()> {
        check_id("incident", id)?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        let current = incident_unchecked(&mut tx, id).await?;
        caller.require(&current.site, Right::DeleteIncident)?;
        sqlx::query("UPDATE incidents SET deleted_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(tx.conn())
            .await?;
        tx.change(
            now,
            Some(&current.site),
            ChangeBody::IncidentDeleted(Removed { id: id.to_owned() }),
        )
        .await?;
        tx.audit(AuditEntry {
            at: now,
            user: Some(&caller.user_id),
            action: "incident.delete",
            site: Some(&current.site),
            target: Some(id),
            detail: json!({"title": current.title}),
        })
        .await?;
        tx.commit().await
    }

    /// Appends a note. A replayed note id returns the note already stored.
    pub async fn add_note(
        &self,
        caller: &Caller,
        incident: &str,
        note: NewNote,
    ) -> Result<IncidentNote> {
        check_id("incident", incident)?;
        check_id("id", &note.id)?;
        check_text("text", &note.text, 64 * 1024)?;
        if note.text.trim().is_empty() && note.attachments.is_empty() {
            return Err(HubError::BadRequest(
                "a note needs text or an attachment".into(),
            ));
        }
        if note.attachments.len() > 16 {
            return Err(HubError::BadRequest(
                "at most 16 attachments per note".into(),
            ));
        }
        let mut files = Vec::new();
        for attachment in &note.attachments {
            check_text("attachment name", &attachment.name, 256)?;
            check_text("media_type", &attachment.media_type, 128)?;
            if attachment.media_type.is_empty()
                || !attachment.media_type.bytes().all(|b| b.is_ascii_graphic())
            {
                return Err(HubError::BadRequest(
                    "media_type must be a MIME type (visible ASCII, no spaces)".into(),
                ));
            }
            use base64::Engine;
            let data = base64::engine::general_purpose::STANDARD
                .decode(&attachment.data)
                .map_err(|e| {
                    HubError::BadRequest(format!(
                        "attachment `{}` is not base64: {e}",
                        clip(&attachment.name)
                    ))
                })?;
            let sha = hex::encode(Sha256::digest(&data));
            files.push((attachment, data, sha));
        }
        let now = self.now();
        let mut tx = self.db.write().await?;
        let current = incident_unchecked(&mut tx, incident).await?;
        caller.require(&current.site, Right::WriteIncident)?;
        if let Some(row) = sqlx::query("SELECT incident_id FROM incident_notes WHERE id = $1")
            .bind(&note.id)
            .fetch_optional(tx.conn())
            .await?
        {
            let stored_for: String = row.try_get("incident_id")?;
            if stored_for != incident {
                return Err(HubError::Conflict(format!(
                    "note id `{}` is taken",
                    note.id
                )));
            }
            let mut notes = notes_of(tx.conn(), incident).await?;
            notes.retain(|n| n.id == note.id);
            return notes
                .pop()
                .ok_or_else(|| HubError::Internal("note vanished".into()));
        }
        sqlx::query("INSERT INTO incident_notes (id, incident_id, author, at, body) VALUES ($1, $2, $3, $4, $5)")
            .bind(&note.id)
            .bind(incident)
            .bind(&caller.username)
            .bind(now)
            .bind(&note.text)
            .execute(tx.conn())
            .await?;
        for (attachment, data, sha) in &files {
            sqlx::query(
                "INSERT INTO attachments (sha256, media_type, size, data) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (sha256) DO NOTHING",
            )
            .bind(sha)
            .bind(&attachment.media_type)
            .bind(data.len() as i64)
            .bind(data.clone())
            .execute(tx.conn())
            .await?;
            sqlx::query(
                "INSERT INTO note_attachments (note_id, sha256, name) VALUES ($1, $2, $3) \
                 ON CONFLICT (note_id, sha256) DO NOTHING",
            )
            .bind(&note.id)
            .bind(sha)
            .bind(&attachment.name)
            .execute(tx.conn())
            .await?;
        }
        sqlx::query("UPDATE incidents SET updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(incident)
            .execute(tx.conn())
            .await?;
        let mut notes = notes_of(tx.conn(), incident).await?;
        notes.retain(|n| n.id == note.id);
        let stored = notes
            .pop()
            .ok_or_else(|| HubError::Internal("note vanished".into()))?;
        tx.change(now, Some(&current.site), ChangeBody::Note(stored.clone()))
            .await?;
        tx.audit(AuditEntry {
            at: now,
            user: Some(&caller.user_id),
            action: "incident.note",
            site: Some(&current.site),
            target: Some(&note.id),
            detail: json!({"incident": incident, "attachments": stored.attachments}),
        })
        .await?;
        tx.commit().await?;
        Ok(stored)
    }

    pub async fn attachment(&self, caller: &Caller, sha256: &str) -> Result<(String, Vec<u8>)> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(HubError::BadRequest(
                "an attachment is named by its SHA-256 in hex".into(),
            ));
        }
        // Visible when attached to a note on a site the caller can see.
        let sites = sqlx::query(
            "SELECT DISTINCT i.site_id FROM note_attachments a JOIN incident_notes n ON n.id = a.note_id \
             JOIN incidents i ON i.id = n.incident_id WHERE a.sha256 = $1",
        )
        .bind(sha256)
        .fetch_all(self.db.pool())
        .await?;
        let visible = sites.iter().any(|r| {
            r.try_get::<String, _>("site_id")
                .map(|s| caller.require(&s, Right::View).is_ok())
                .unwrap_or(false)
        });
        if !visible {
            return Err(HubError::NotFound("attachment".into()));
        }
        let row = sqlx::query("SELECT media_type, data FROM attachments WHERE sha256 = $1")
            .bind(sha256)
            .fetch_one(self.db.pool())
            .await?;
        Ok((row.try_get("media_type")?, row.try_get("data")?))
    }

    // ---- doors ----------------------------------------------------------------------------

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
        let sent = self
            .http
            .post(format!(
                "{}/api/v1/doors/commands",
                controller.trim_end_matches('/')
            ))
            .json(&command)
            .send()
            .await;
        let outcome = match sent {
            Ok(response) if response.status().is_success() => {
                Ok(json!({"status": "sent", "command": command}))
            }
            Ok(response) => {
                let status = response.status();
                let text = response.text().await.unwrap_or_default();
                Err(HubError::Upstream(format!(
                    "controller answered {status}: {}",
                    clip(&text)
                )))
            }
            Err(e) => Err(HubError::Upstream(format!("controller unreachable: {e}"))),
        };
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

    // ---- audit ----------------------------------------------------------------------------

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

    // ---- configuration: rules and sources ----------------------------------------------------

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

    // ---- layouts ---------------------------------------------------------------------------

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

    /// Registers a webhook source for a site and returns its new secret, once.
    pub async fn create_source(
        &self,
        caller: Option<&Caller>,
        new: NewSource,
    ) -> Result<SourceSecret> {
        check_id("id", &new.id)?;
        check_id("site", &new.site)?;
        check_text("name", &new.name, 200)?;
        if let Some(caller) = caller {
            caller.require(&new.site, Right::Configure)?;
        }
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
            user: caller.map(|c| c.user_id.as_str()),
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

fn write_key(caller: &Caller, scope: &str, request_id: &str) -> String {
    format!("{}|{scope}|{request_id}", caller.user_id)
}

/// Which alarm action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmVerb {
    Acknowledge,
    Forward,
    Close,
}

impl AlarmVerb {
    fn action(self) -> &'static str {
        match self {
            AlarmVerb::Acknowledge => "alarm.acknowledge",
            AlarmVerb::Forward => "alarm.forward",
            AlarmVerb::Close => "alarm.close",
        }
    }
}

/// An argon2id hash of a random password, checked against when the user does not exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$4xWRoBP7b9FLKo1wMbH2zJzTHXwsQ1dRh1NeZbyTO6E";

fn check_priority(priority: i64) -> Result<()> {
    (1..=5)
        .contains(&priority)
        .then_some(())
        .ok_or_else(|| HubError::BadRequest("priority must be 1 (most urgent) to 5".into()))
}

async fn check_user_exists(tx: &mut WriteTx, username: &str) -> Result<()> {
    check_id("assignee", username)?;
    let found = sqlx::query("SELECT id FROM users WHERE username = $1")
        .bind(username)
        .fetch_optional(tx.conn())
        .await?;
    found
        .map(|_| ())
        .ok_or_else(|| HubError::BadRequest(format!("no user `{username}`")))
}

async fn set_grants(tx: &mut WriteTx, user: &str, grants: &[Grant]) -> Result<()> {
    for grant in grants {
        sqlx::query(
            "INSERT INTO grants (user_id, site_id, role) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, site_id) DO UPDATE SET role = excluded.role",
        )
        .bind(user)
        .bind(&grant.site)
        .bind(grant.role.as_str())
        .execute(tx.conn())
        .await?;
    }
    Ok(())
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

async fn insert_rule(tx: &mut WriteTx, site: &str, rule: &AlarmRule) -> Result<()> {
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

async fn insert_links(tx: &mut WriteTx, incident: &str, links: &[IncidentLink]) -> Result<()> {
    for link in links {
        sqlx::query(
            "INSERT INTO incident_links (incident_id, kind, target_id) VALUES ($1, $2, $3) \
             ON CONFLICT (incident_id, kind, target_id) DO NOTHING",
        )
        .bind(incident)
        .bind(&link.kind)
        .bind(&link.id)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

async fn incident_unchecked(tx: &mut WriteTx, id: &str) -> Result<Incident> {
    incident_on(tx.conn(), id).await
}

async fn incident_on(conn: &mut sqlx::AnyConnection, id: &str) -> Result<Incident> {
    let row = sqlx::query(
        "SELECT id, site_id, title, status, priority, assignee, created_by, created_at, updated_at \
         FROM incidents WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| HubError::NotFound(format!("incident `{}`", clip(id))))?;
    let links = sqlx::query("SELECT kind, target_id FROM incident_links WHERE incident_id = $1 ORDER BY kind, target_id")
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok(IncidentLink { kind: r.try_get("kind")?, id: r.try_get("target_id")? }))
        .collect::<Result<Vec<_>>>()?;
    let status: String = row.try_get("status")?;
    Ok(Incident {
        id: row.try_get("id")?,
        site: row.try_get("site_id")?,
        title: row.try_get("title")?,
        status: IncidentStatus::parse(&status)
            .ok_or_else(|| HubError::Internal(format!("stored status `{status}`")))?,
        priority: row.try_get("priority")?,
        assignee: row.try_get("assignee")?,
        created_by: row.try_get("created_by")?,
        created: rfc3339(row.try_get("created_at")?),
        updated: rfc3339(row.try_get("updated_at")?),
        links,
    })
}

async fn notes_of(conn: &mut sqlx::AnyConnection, incident: &str) -> Result<Vec<IncidentNote>> {
    let rows = sqlx::query(
        "SELECT id, author, at, body FROM incident_notes WHERE incident_id = $1 ORDER BY at, id",
    )
    .bind(incident)
    .fetch_all(&mut *conn)
    .await?;
    let mut notes = Vec::with_capacity(rows.len());
    for row in rows {
        let id: String = row.try_get("id")?;
        let attachments = sqlx::query(
            "SELECT a.name, f.media_type, f.size, f.sha256 FROM note_attachments a \
             JOIN attachments f ON f.sha256 = a.sha256 WHERE a.note_id = $1 ORDER BY a.name",
        )
        .bind(&id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(AttachmentRef {
                name: r.try_get("name")?,
                media_type: r.try_get("media_type")?,
                size: r.try_get("size")?,
                sha256: r.try_get("sha256")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        notes.push(IncidentNote {
            id,
            incident: incident.to_owned(),
            author: row.try_get("author")?,
            time: rfc3339(row.try_get("at")?),
            text: row.try_get("body")?,
            attachments,
        });
    }
    Ok(notes)
}

pub(crate) const ALARM_SELECT: &str = "SELECT id, site_id, rule_id, event_id, door_id, title, priority, \
    procedure_text, cameras, state, raised_at, acknowledged_by, acknowledged_at, acknowledge_comment, \
    forwarded_to, closed_by, closed_at, close_comment FROM alarms";

pub(crate) fn alarm_from_row(r: &AnyRow) -> Result<Alarm> {
    let state: String = r.try_get("state")?;
    Ok(Alarm {
        id: r.try_get("id")?,
        site: r.try_get("site_id")?,
        rule: r.try_get("rule_id")?,
        event: r.try_get("event_id")?,
        door: r.try_get("door_id")?,
        title: r.try_get("title")?,
        priority: r.try_get("priority")?,
        procedure: r.try_get("procedure_text")?,
        cameras: json_column(r, "cameras")?,
        state: AlarmState::parse(&state)
            .ok_or_else(|| HubError::Internal(format!("stored alarm state `{state}`")))?,
        raised: rfc3339(r.try_get("raised_at")?),
        acknowledged_by: r.try_get("acknowledged_by")?,
        acknowledged: opt_time(r.try_get("acknowledged_at")?),
        acknowledge_comment: r.try_get("acknowledge_comment")?,
        forwarded_to: r.try_get("forwarded_to")?,
        closed_by: r.try_get("closed_by")?,
        closed: opt_time(r.try_get("closed_at")?),
        close_comment: r.try_get("close_comment")?,
    })
}

pub(crate) fn event_from_row(r: &AnyRow) -> Result<Event> {
    Ok(Event {
        id: r.try_get("id")?,
        site: r.try_get("site_id")?,
        kind: r.try_get("kind")?,
        event_type: r.try_get("event_type")?,
        topic: r.try_get("topic")?,
        door: r.try_get("door_id")?,
        camera: r.try_get("camera_id")?,
        time: rfc3339(r.try_get("at")?),
        received: rfc3339(r.try_get("received_at")?),
        body: json_column(r, "body")?,
    })
}

pub(crate) fn door_from_row(site: &str, r: &AnyRow, links: &[(String, String)]) -> Result<Door> {
    let id: String = r.try_get("id")?;
    Ok(Door {
        cameras: links
            .iter()
            .filter(|(d, _)| *d == id)
            .map(|(_, c)| c.clone())
            .collect(),
        id,
        site: site.to_owned(),
        floor: r.try_get("floor_id")?,
        zone: r.try_get("zone_id")?,
        name: r.try_get("name")?,
        position: [r.try_get("x")?, r.try_get("y")?],
        door_state: r.try_get("door_state")?,
        lock_state: r.try_get("lock_state")?,
        alarm: r.try_get("alarm_state")?,
        mode: r.try_get("mode")?,
        state_time: opt_time(r.try_get("state_at")?),
    })
}

const AUDIT_SELECT: &str = "SELECT seq, at, user_id, action, site_id, target, detail FROM audit";

fn audit_from_row(r: &AnyRow) -> Result<AuditRecord> {
    Ok(AuditRecord {
        seq: r.try_get("seq")?,
        time: rfc3339(r.try_get("at")?),
        user: r.try_get("user_id")?,
        action: r.try_get("action")?,
        site: r.try_get("site_id")?,
        target: r.try_get("target")?,
        detail: json_column(r, "detail")?,
    })
}

/// The most tiles a layout may have (the wall's own limit).
const MAX_LAYOUT_TILES: usize = 64;

/// A layout's shape: sizes bounded, ids well-formed, tiles inside the wall.
fn check_layout(body: &LayoutBody) -> Result<()> {
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

fn layout_from(row: &AnyRow) -> Result<SavedLayout> {
    let text: String = row.try_get("body")?;
    let mut body: LayoutBody = serde_json::from_str(&text)
        .map_err(|e| HubError::Database(format!("a stored layout is not readable: {e}")))?;
    // The columns are the truth for who sees it.
    body.shared_site = row.try_get("shared_site")?;
    body.name = row.try_get("name")?;
    Ok(SavedLayout {
        id: row.try_get("id")?,
        owner_id: row.try_get("owner_id")?,
        owner: row.try_get("username")?,
        updated_at: rfc3339(row.try_get("updated_at")?),
        body,
    })
}
