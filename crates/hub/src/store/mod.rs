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
use std::sync::Arc;

mod accounts;
mod alarms;
mod audit;
mod bookmarks;
mod doors;
mod events;
mod evidence;
mod exports;
mod incidents;
mod layouts;
mod recorders;
pub(crate) mod rows;
mod sites;
mod sources;
mod users;

pub use alarms::AlarmVerb;
pub use doors::{BoxFuture, DoorController};
pub use evidence::MAX_LOCK_MS;
pub use exports::ExportPart;
use incidents::check_priority;
pub use recorders::{RecordingSource, TICKET_LIFETIME_MS};
pub(crate) use rows::*;
pub use sites::default_rules;
pub(crate) use sites::rules_on;
use users::check_user_exists;

/// The hub's state: the database and what the domain needs beside it.
#[derive(Debug)]
pub struct Hub {
    pub db: Db,
    pub clock: SharedClock,
    pub key: HubKey,
    pub limiter: LoginLimiter,
    /// Password hashes checked at once, at most (each takes ~19 MiB and a core).
    hashing: tokio::sync::Semaphore,
    /// Where door commands go.
    doors: Arc<dyn DoorController>,
    /// Signs stream tickets (`recorders.rs`).
    tickets: Arc<keys::SigningKey>,
    /// The ids of users whose sessions ended or whose grants changed, as each write commits:
    /// what is open in their name (the feed, video passed through) checks again at once.
    account_changes: tokio::sync::broadcast::Sender<String>,
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

/// Who makes a write the command line can make too (users, sites, sources): a signed-in user,
/// whose role is checked on the object's site, or the local administrator, the hub's own command
/// line run by whoever runs its service while it is stopped. The local administrator holds every
/// right and is audited without a user. There is no "no caller": a check is never skipped by
/// leaving something out.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    User(&'a Caller),
    LocalAdmin,
}

impl Actor<'_> {
    /// Refuses unless the actor may use `right` on `site`.
    pub fn require(&self, site: &str, right: Right) -> Result<()> {
        match self {
            Actor::User(caller) => caller.require(site, right).map(drop).map_err(Into::into),
            Actor::LocalAdmin => Ok(()),
        }
    }

    /// Refuses unless the actor may use the hub-wide `right`.
    pub fn require_global(&self, right: Right) -> Result<()> {
        match self {
            Actor::User(caller) => caller.require_global(right).map_err(Into::into),
            Actor::LocalAdmin => Ok(()),
        }
    }

    /// Refuses unless the actor may configure `site`: a grant on that site that allows it, or an
    /// all-sites grant that does (for a site that does not exist yet).
    pub fn require_configure(&self, site: &str) -> Result<()> {
        match self {
            Actor::User(caller) => match caller.role_on(site) {
                Some(role) if role.allows(Right::Configure) => Ok(()),
                _ => caller.require_global(Right::Configure).map_err(Into::into),
            },
            Actor::LocalAdmin => Ok(()),
        }
    }

    /// The user the audit trail names; none for the local administrator.
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Actor::User(caller) => Some(&caller.user_id),
            Actor::LocalAdmin => None,
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
    /// The domain on `db`, with time from `clock`, sources' secrets sealed with `key`, and door
    /// commands carried out by `doors`.
    pub fn new(db: Db, clock: SharedClock, key: HubKey, doors: Arc<dyn DoorController>) -> Self {
        Self {
            db,
            clock,
            key,
            limiter: LoginLimiter::default(),
            hashing: tokio::sync::Semaphore::new(4),
            doors,
            tickets: Arc::new(keys::SigningKey::ephemeral()),
            account_changes: tokio::sync::broadcast::channel(256).0,
        }
    }

    /// Hears the users whose sessions ended or whose grants changed (a lagging receiver has
    /// missed some: check everything it holds again).
    pub fn account_changes(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.account_changes.subscribe()
    }

    /// Says that `user`'s sessions ended or their grants changed (after the write committed).
    fn account_changed(&self, user: &str) {
        // Nobody listening is fine: nothing is open in anyone's name.
        let _ = self.account_changes.send(user.to_owned());
    }

    /// The hub with `key` signing its stream tickets (`ticket.key` in its data folder; an
    /// ephemeral key otherwise, which recorders configured earlier would not know).
    pub fn with_ticket_key(mut self, key: keys::SigningKey) -> Self {
        self.tickets = Arc::new(key);
        self
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
}

fn write_key(caller: &Caller, scope: &str, request_id: &str) -> String {
    format!("{}|{scope}|{request_id}", caller.user_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(site: &str, role: Role) -> Caller {
        Caller {
            user_id: "u1".into(),
            username: "u".into(),
            display_name: "U".into(),
            grants: vec![Grant {
                site: site.into(),
                role,
            }],
        }
    }

    #[test]
    fn the_local_administrator_holds_every_right_and_names_no_user() {
        let admin = Actor::LocalAdmin;
        for right in Right::ALL {
            assert!(admin.require("any-site", right).is_ok());
            assert!(admin.require_global(right).is_ok());
        }
        assert!(admin.require_configure("new-site").is_ok());
        assert_eq!(admin.user_id(), None);
    }

    #[test]
    fn a_user_is_checked_by_role_and_named() {
        let guard = user("*", Role::Guard);
        let actor = Actor::User(&guard);
        assert!(actor.require("hq", Right::DoorUnlock).is_ok());
        assert!(matches!(
            actor.require_global(Right::ManageUsers),
            Err(HubError::Forbidden(_))
        ));
        assert!(matches!(
            actor.require_configure("hq"),
            Err(HubError::Forbidden(_))
        ));
        assert_eq!(actor.user_id(), Some("u1"));
    }

    #[test]
    fn configuring_takes_a_site_grant_or_an_all_sites_grant() {
        let site_admin = user("hq", Role::ItAdmin);
        assert!(Actor::User(&site_admin).require_configure("hq").is_ok());
        assert!(matches!(
            Actor::User(&site_admin).require_configure("depot"),
            Err(HubError::Forbidden(_))
        ));
        let admin = user("*", Role::ItAdmin);
        assert!(Actor::User(&admin).require_configure("depot").is_ok());
        let stranger = user("hq", Role::Guard);
        assert!(matches!(
            Actor::User(&stranger).require("depot", Right::View),
            Err(HubError::NotFound(_))
        ));
    }
}
