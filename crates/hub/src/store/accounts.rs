//! Accounts over their life: disabled and enabled again by IT, passwords reset by IT and changed
//! by their user, sessions listed and ended. Each step is in the audit trail (never a password),
//! and none of them can leave the hub without an IT admin for every site.

use super::*;

/// How many hex digits of a session's token hash name it in lists (64 bits: unique among a
/// user's sessions, and no help in guessing the token).
const SESSION_HANDLE: usize = 16;

impl Hub {
    /// Hashes a new password off the async threads, one of the few hashes run at once.
    async fn hash_new_password(&self, password: &str) -> Result<String> {
        check_text("password", password, 1024)?;
        let Ok(Ok(_turn)) =
            tokio::time::timeout(super::users::HASH_TURN_WAIT, self.hashing.acquire()).await
        else {
            return Err(HubError::RateLimited { retry_after_s: 1 });
        };
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || auth::hash_password(&password))
            .await
            .map_err(|e| HubError::Internal(e.to_string()))?
    }

    /// Disables `user` (they cannot sign in, and their sessions end at once) or enables them
    /// again. An IT admin cannot disable their own account: the caller, an enabled IT admin
    /// for every site, is then always one who can enable anyone again.
    pub async fn set_disabled(&self, actor: Actor<'_>, user: &str, disabled: bool) -> Result<User> {
        actor.require_global(Right::ManageUsers)?;
        check_id("user", user)?;
        if disabled && actor.user_id() == Some(user) {
            return Err(HubError::Conflict(
                "an IT admin cannot disable their own account".into(),
            ));
        }
        let now = self.now();
        let mut tx = self.db.write().await?;
        still_manages_users(&mut tx, &actor).await?;
        let was: Option<i64> = sqlx::query("SELECT disabled_at FROM users WHERE id = $1")
            .bind(user)
            .fetch_optional(tx.conn())
            .await?
            .ok_or_else(|| HubError::NotFound(format!("user `{}`", clip(user))))?
            .try_get("disabled_at")?;
        if was.is_some() != disabled {
            sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2")
                .bind(disabled.then_some(now))
                .bind(user)
                .execute(tx.conn())
                .await?;
            let mut ended = 0;
            if disabled {
                an_it_admin_remains(&mut tx).await?;
                ended = end_sessions(&mut tx, user, None, now).await?;
            }
            tx.audit(AuditEntry {
                at: now,
                user: actor.user_id(),
                action: if disabled {
                    "user.disable"
                } else {
                    "user.enable"
                },
                site: None,
                target: Some(user),
                detail: json!({"sessions": ended}),
            })
            .await?;
        }
        tx.commit().await?;
        if disabled {
            self.account_changed(user);
        }
        self.user(user).await
    }

    /// An IT admin (or the command line, for a hub whose admins cannot sign in) sets `user`'s
    /// password; every session of theirs ends.
    pub async fn reset_password(&self, actor: Actor<'_>, user: &str, password: &str) -> Result<()> {
        actor.require_global(Right::ManageUsers)?;
        check_id("user", user)?;
        let hash = self.hash_new_password(password).await?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        still_manages_users(&mut tx, &actor).await?;
        let found = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(&hash)
            .bind(user)
            .execute(tx.conn())
            .await?
            .rows_affected();
        if found == 0 {
            return Err(HubError::NotFound(format!("user `{}`", clip(user))));
        }
        let ended = end_sessions(&mut tx, user, None, now).await?;
        tx.audit(AuditEntry {
            at: now,
            user: actor.user_id(),
            action: "user.password-reset",
            site: None,
            target: Some(user),
            detail: json!({"sessions": ended}),
        })
        .await?;
        tx.commit().await?;
        self.account_changed(user);
        Ok(())
    }

    /// The caller changes their own password, giving the current one; their other sessions
    /// end, the one they use stays. The current password is checked as a log-in's is, under
    /// the same limits (`Hub::password_attempt`): nobody with a stolen session can guess the
    /// password through this door instead, nor keep the hashing busy for everyone.
    pub async fn change_password(
        &self,
        caller: &Caller,
        token: &str,
        current: &str,
        password: &str,
        client: &str,
    ) -> Result<()> {
        check_text("current", current, 1024)?;
        let now = self.now();
        let attempt = self.password_attempt(&caller.username, client, now).await?;
        let stored: String = sqlx::query("SELECT password_hash FROM users WHERE id = $1")
            .bind(&caller.user_id)
            .fetch_one(self.db.pool())
            .await?
            .try_get("password_hash")?;
        let given = current.to_owned();
        let matches = tokio::task::spawn_blocking(move || auth::verify_password(&stored, &given))
            .await
            .map_err(|e| HubError::Internal(e.to_string()))?;
        if !matches {
            drop(attempt);
            let mut tx = self.db.write().await?;
            tx.audit(AuditEntry {
                at: now,
                user: Some(&caller.user_id),
                action: "user.password-change-failed",
                site: None,
                target: Some(&caller.user_id),
                detail: json!({"client": client}),
            })
            .await?;
            tx.commit().await?;
            return Err(HubError::Forbidden("the current password is wrong".into()));
        }
        attempt.succeeded();
        let hash = self.hash_new_password(password).await?;
        let mut tx = self.db.write().await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(&hash)
            .bind(&caller.user_id)
            .execute(tx.conn())
            .await?;
        let kept = auth::token_hash(token);
        let ended = end_sessions(&mut tx, &caller.user_id, Some(&kept), now).await?;
        tx.audit(AuditEntry {
            at: now,
            user: Some(&caller.user_id),
            action: "user.password-change",
            site: None,
            target: Some(&caller.user_id),
            detail: json!({"sessions": ended, "client": client}),
        })
        .await?;
        tx.commit().await?;
        self.account_changed(&caller.user_id);
        Ok(())
    }

    /// The user named `username` (for the command line, which knows users by name).
    pub async fn user_named(&self, username: &str) -> Result<User> {
        check_text("username", username, 128)?;
        let id: String = sqlx::query("SELECT id FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(self.db.pool())
            .await?
            .ok_or_else(|| HubError::NotFound(format!("user `{}`", clip(username))))?
            .try_get("id")?;
        self.user(&id).await
    }

    /// `user`'s live sessions, newest first: the user's own, or anyone's for an IT admin.
    pub async fn list_sessions(
        &self,
        caller: &Caller,
        token: &str,
        user: &str,
    ) -> Result<Vec<SessionInfo>> {
        check_id("user", user)?;
        if user != caller.user_id {
            caller.require_global(Right::ManageUsers)?;
        }
        let own = auth::token_hash(token);
        let rows = sqlx::query(
            "SELECT token_hash, created_at, expires_at, client FROM sessions \
             WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 \
             ORDER BY created_at DESC",
        )
        .bind(user)
        .bind(self.now())
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let hash: String = row.try_get("token_hash")?;
                Ok(SessionInfo {
                    id: hash.chars().take(SESSION_HANDLE).collect(),
                    created: rfc3339(row.try_get("created_at")?),
                    expires: rfc3339(row.try_get("expires_at")?),
                    client: row
                        .try_get::<Option<String>, _>("client")?
                        .unwrap_or_default(),
                    current: hash == own,
                })
            })
            .collect()
    }

    /// Ends one of `user`'s sessions (`session` as [`Hub::list_sessions`] names it): the
    /// user's own, or anyone's for an IT admin.
    pub async fn end_session(&self, caller: &Caller, user: &str, session: &str) -> Result<()> {
        check_id("user", user)?;
        if user != caller.user_id {
            caller.require_global(Right::ManageUsers)?;
        }
        if session.len() != SESSION_HANDLE || !session.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(HubError::NotFound(format!("session `{}`", clip(session))));
        }
        let now = self.now();
        let mut tx = self.db.write().await?;
        let ended = sqlx::query(
            "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 \
             AND substr(token_hash, 1, 16) = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(user)
        .bind(session.to_ascii_lowercase())
        .execute(tx.conn())
        .await?
        .rows_affected();
        if ended == 0 {
            return Err(HubError::NotFound(format!("session `{session}`")));
        }
        tx.audit(AuditEntry {
            at: now,
            user: Some(&caller.user_id),
            action: "user.end-session",
            site: None,
            target: Some(user),
            detail: json!({"session": session}),
        })
        .await?;
        tx.commit().await?;
        self.account_changed(user);
        Ok(())
    }
}

/// Refuses a caller who, since their request was authenticated, was disabled or lost the grant
/// that lets them manage users. Writes take turns, so this reads what every earlier write
/// left: two IT admins acting on each other at once cannot both go through. The command line
/// (no user) is not refused.
pub(super) async fn still_manages_users(tx: &mut WriteTx, actor: &Actor<'_>) -> Result<()> {
    let Some(user) = actor.user_id() else {
        return Ok(());
    };
    let row = sqlx::query(
        "SELECT u.disabled_at AS disabled_at, (SELECT COUNT(*) FROM grants g \
         WHERE g.user_id = u.id AND g.site_id = '*' AND g.role = 'it-admin') AS admin \
         FROM users u WHERE u.id = $1",
    )
    .bind(user)
    .fetch_optional(tx.conn())
    .await?;
    let may = match row {
        Some(row) => {
            row.try_get::<Option<i64>, _>("disabled_at")?.is_none()
                && row.try_get::<i64, _>("admin")? > 0
        }
        None => false,
    };
    if !may {
        return Err(HubError::Forbidden(
            "your account may no longer manage users".into(),
        ));
    }
    Ok(())
}

/// Refuses a change that would leave no enabled IT admin for every site: nobody could then
/// manage users from the hub's API again.
pub(super) async fn an_it_admin_remains(tx: &mut WriteTx) -> Result<()> {
    let admins: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM grants g JOIN users u ON u.id = g.user_id \
         WHERE g.site_id = '*' AND g.role = 'it-admin' AND u.disabled_at IS NULL",
    )
    .fetch_one(tx.conn())
    .await?
    .try_get("n")?;
    if admins == 0 {
        return Err(HubError::Conflict(
            "that would leave no enabled IT admin for every site".into(),
        ));
    }
    Ok(())
}

/// Ends `user`'s live sessions but `keep` (a token hash); answers how many.
pub(super) async fn end_sessions(
    tx: &mut WriteTx,
    user: &str,
    keep: Option<&str>,
    now: i64,
) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL \
         AND token_hash <> $3",
    )
    .bind(now)
    .bind(user)
    .bind(keep.unwrap_or(""))
    .execute(tx.conn())
    .await?
    .rows_affected())
}
