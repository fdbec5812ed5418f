//! Users and sessions: sign-in (with the log-in rate limit and one hash check at a time per
//! core), tokens, grants, revocation; and the hub-wide settings.

use super::*;

/// How long a log-in waits for one of the few password checks run at once before it is
/// answered "busy".
pub(super) const HASH_TURN_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// A password check under the log-in limits, from [`Hub::password_attempt`]: counted as a
/// failure from the start (so that guesses sent side by side cannot slip past the limits while
/// they wait), holding one of the few turns at hashing. Dropped, the failure stays counted;
/// [`PasswordAttempt::succeeded`] takes it back.
pub(super) struct PasswordAttempt<'a> {
    limiter: &'a LoginLimiter,
    pair: String,
    client: String,
    user: String,
    _turn: tokio::sync::SemaphorePermit<'a>,
}

impl PasswordAttempt<'_> {
    /// The pair's failures are forgotten; the name's from elsewhere are not (they are someone
    /// else's guesses), only this attempt.
    pub(super) fn succeeded(self) {
        self.limiter.succeeded(&self.pair);
        self.limiter.forgive_one(&self.client);
        self.limiter.forgive_one(&self.user);
    }
}

impl Hub {
    /// Starts a password check for `username` from `client` (the peer's address, or its IPv6
    /// /64: [`auth::client_bucket`]): refused when the pair or the client has failed too often,
    /// made to wait when the name is under attack from everywhere
    /// ([`auth::USER_BACKOFF_AFTER`]), and answered "busy" (not counted) when no turn at
    /// hashing comes within [`HASH_TURN_WAIT`].
    pub(super) async fn password_attempt(
        &self,
        username: &str,
        client: &str,
        now: i64,
    ) -> Result<PasswordAttempt<'_>> {
        let name = username.to_lowercase();
        let user = format!("user:{name}");
        let pair = format!("pair:{name}@{client}");
        let client = format!("client:{client}");
        let wait_ms = self.limiter.backoff_ms(&user, now);
        self.limiter.check_and_count(
            &[
                (&pair, auth::MAX_FAILURES),
                (&client, auth::MAX_CLIENT_FAILURES),
            ],
            &[&pair, &client, &user],
            auth::WINDOW_MS,
            now,
        )?;
        let keys = [&pair, &client, &user];
        if wait_ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(wait_ms as u64)).await;
        }
        let Ok(Ok(turn)) = tokio::time::timeout(HASH_TURN_WAIT, self.hashing.acquire()).await
        else {
            for key in keys {
                self.limiter.forgive_one(key);
            }
            return Err(HubError::RateLimited { retry_after_s: 1 });
        };
        Ok(PasswordAttempt {
            limiter: &self.limiter,
            pair,
            client,
            user,
            _turn: turn,
        })
    }

    /// Makes a user.
    pub async fn create_user(&self, actor: Actor<'_>, new: NewUser) -> Result<User> {
        actor.require_global(Right::ManageUsers)?;
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
            user: actor.user_id(),
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

    pub(super) async fn grants(&self, user: &str) -> Result<Vec<Grant>> {
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
        super::accounts::still_manages_users(&mut tx, &Actor::User(caller)).await?;
        sqlx::query("DELETE FROM grants WHERE user_id = $1")
            .bind(user)
            .execute(tx.conn())
            .await?;
        set_grants(&mut tx, user, &grants).await?;
        super::accounts::an_it_admin_remains(&mut tx).await?;
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
        self.account_changed(user);
        self.user(user).await
    }

    /// Ends every session of `user` now.
    pub async fn revoke_sessions(&self, caller: &Caller, user: &str) -> Result<u64> {
        caller.require_global(Right::ManageUsers)?;
        check_id("user", user)?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        let done = super::accounts::end_sessions(&mut tx, user, None, now).await?;
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
        self.account_changed(user);
        Ok(done)
    }

    /// Checks a password and opens a session. `client` (the peer's address, or its IPv6 /64:
    /// [`auth::client_bucket`]) joins the user name in the rate limit, so nobody can lock a
    /// guard out from elsewhere; failures of the name from everywhere slow its attempts down
    /// instead ([`auth::USER_BACKOFF_AFTER`]).
    pub async fn login(&self, username: &str, password: &str, client: &str) -> Result<Session> {
        check_text("username", username, 128)?;
        check_text("password", password, 1024)?;
        let now = self.now();
        let attempt = self.password_attempt(username, client, now).await?;
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
        let attempt_password = password.to_owned();
        let matches =
            tokio::task::spawn_blocking(move || auth::verify_password(&hash, &attempt_password))
                .await
                .map_err(|e| HubError::Internal(e.to_string()))?;
        let Some(user_id) = user_id.filter(|_| matches) else {
            drop(attempt);
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
        attempt.succeeded();
        let ttl = self.settings().await?.session_minutes * 60_000;
        let (token, token_hash) = auth::new_token();
        let mut tx = self.db.write().await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, client) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&token_hash)
        .bind(&user_id)
        .bind(now)
        .bind(now + ttl)
        .bind(client)
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
        tx.commit().await?;
        self.account_changed(&caller.user_id);
        Ok(())
    }

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
}

/// An argon2id hash of a random password, checked against when the user does not exist.
pub(super) const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$4xWRoBP7b9FLKo1wMbH2zJzTHXwsQ1dRh1NeZbyTO6E";

pub(super) async fn check_user_exists(tx: &mut WriteTx, username: &str) -> Result<()> {
    check_id("assignee", username)?;
    let found = sqlx::query("SELECT id FROM users WHERE username = $1")
        .bind(username)
        .fetch_optional(tx.conn())
        .await?;
    found
        .map(|_| ())
        .ok_or_else(|| HubError::BadRequest(format!("no user `{username}`")))
}

pub(super) async fn set_grants(tx: &mut WriteTx, user: &str, grants: &[Grant]) -> Result<()> {
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
