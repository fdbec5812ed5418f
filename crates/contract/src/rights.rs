//! Roles, rights and the matrix between them: the one place that says who may do what, read by
//! the hub (which enforces it) and by the console (which hides what a role may not do).

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// A user's role on a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Guard,
    Supervisor,
    Manager,
    ItAdmin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Guard, Role::Supervisor, Role::Manager, Role::ItAdmin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Guard => "guard",
            Role::Supervisor => "supervisor",
            Role::Manager => "manager",
            Role::ItAdmin => "it-admin",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// The rights matrix.
    pub fn allows(self, right: Right) -> bool {
        use Right::*;
        use Role::*;
        match right {
            View | ReportView | ShareLayout => true,
            AcknowledgeAlarm | ForwardAlarm | WriteIncident => {
                matches!(self, Guard | Supervisor | Manager)
            }
            DoorUnlock => matches!(self, Guard | Supervisor),
            Lockdown => matches!(self, Supervisor),
            CloseAlarm | ManageIncident => matches!(self, Supervisor | Manager),
            DeleteIncident => matches!(self, Manager),
            ReadAudit => matches!(self, Supervisor | Manager | ItAdmin),
            Configure | ManageUsers | ItSettings => matches!(self, ItAdmin),
        }
    }
}

/// What a request wants to do, checked against the caller's role on the object's site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
#[serde(rename_all = "kebab-case")]
pub enum Right {
    /// See the site: plans, cameras, doors, events, alarms, incidents.
    View,
    /// Report that a camera was viewed (audit).
    ReportView,
    ShareLayout,
    AcknowledgeAlarm,
    ForwardAlarm,
    CloseAlarm,
    /// Create incidents and add notes.
    WriteIncident,
    /// Assign, change status and priority, close.
    ManageIncident,
    DeleteIncident,
    DoorUnlock,
    Lockdown,
    ReadAudit,
    /// Sites, cameras, doors, rules, event sources.
    Configure,
    ManageUsers,
    /// Hub-wide settings (session lifetime and the like).
    ItSettings,
}

impl Right {
    pub const ALL: [Right; 15] = [
        Right::View,
        Right::ReportView,
        Right::ShareLayout,
        Right::AcknowledgeAlarm,
        Right::ForwardAlarm,
        Right::CloseAlarm,
        Right::WriteIncident,
        Right::ManageIncident,
        Right::DeleteIncident,
        Right::DoorUnlock,
        Right::Lockdown,
        Right::ReadAudit,
        Right::Configure,
        Right::ManageUsers,
        Right::ItSettings,
    ];
}

/// One role and what it may do (`GET /api/v1/rights`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct RightsRow {
    pub role: Role,
    pub rights: Vec<Right>,
}

/// The whole rights matrix, for the API and the docs.
pub fn rights_matrix() -> Vec<RightsRow> {
    Role::ALL
        .into_iter()
        .map(|role| RightsRow {
            role,
            rights: Right::ALL.into_iter().filter(|r| role.allows(*r)).collect(),
        })
        .collect()
}

/// A role on a site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct Grant {
    /// A site id, or `*` for every site.
    pub site: String,
    pub role: Role,
}

/// A signed-in user as their session says: who is asking, and with which grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, TS)]
pub struct Caller {
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    pub grants: Vec<Grant>,
}

/// Why a rights check failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The caller may not see the site at all: answered as "not found", so other sites' ids do
    /// not leak.
    UnknownSite { site: String },
    /// The caller sees the site but the role does not allow the right.
    NotAllowed {
        role: Role,
        right: Right,
        site: String,
    },
    /// A hub-wide right without an all-sites grant that allows it.
    NeedsAllSites { right: Right },
}

impl Caller {
    /// The caller's role on `site`: the site's own grant, else the `*` grant.
    pub fn role_on(&self, site: &str) -> Option<Role> {
        self.grants
            .iter()
            .find(|g| g.site == site)
            .or_else(|| self.grants.iter().find(|g| g.site == "*"))
            .map(|g| g.role)
    }

    /// Refuses unless the caller's role on `site` allows `right`.
    pub fn require(&self, site: &str, right: Right) -> Result<Role, Refusal> {
        match self.role_on(site) {
            None => Err(Refusal::UnknownSite {
                site: site.to_owned(),
            }),
            Some(role) if role.allows(right) => Ok(role),
            Some(role) => Err(Refusal::NotAllowed {
                role,
                right,
                site: site.to_owned(),
            }),
        }
    }

    /// Hub-wide rights (users, settings) need an all-sites grant.
    pub fn require_global(&self, right: Right) -> Result<(), Refusal> {
        match self.grants.iter().find(|g| g.site == "*") {
            Some(g) if g.role.allows(right) => Ok(()),
            _ => Err(Refusal::NeedsAllSites { right }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(grants: &[(&str, Role)]) -> Caller {
        Caller {
            user_id: "u".into(),
            username: "u".into(),
            display_name: "U".into(),
            grants: grants
                .iter()
                .map(|(site, role)| Grant {
                    site: (*site).into(),
                    role: *role,
                })
                .collect(),
        }
    }

    #[test]
    fn roles_round_trip_and_every_role_views() {
        for row in rights_matrix() {
            assert_eq!(Role::parse(row.role.as_str()), Some(row.role));
            assert!(row.rights.contains(&Right::View));
        }
        assert!(!Role::Guard.allows(Right::ManageUsers));
        assert!(!Role::Guard.allows(Right::DeleteIncident));
        assert!(!Role::Manager.allows(Right::ItSettings));
        assert!(Role::ItAdmin.allows(Right::ItSettings));
        assert!(!Role::ItAdmin.allows(Right::DoorUnlock));
        assert!(Role::Supervisor.allows(Right::Lockdown));
        assert!(!Role::Guard.allows(Right::Lockdown));
    }

    #[test]
    fn a_site_grant_wins_over_the_all_sites_grant() {
        let c = caller(&[("*", Role::Manager), ("hq", Role::Guard)]);
        assert_eq!(c.role_on("hq"), Some(Role::Guard));
        assert_eq!(c.role_on("depot"), Some(Role::Manager));
        assert_eq!(c.require("hq", Right::DoorUnlock), Ok(Role::Guard));
        assert_eq!(
            c.require("depot", Right::DoorUnlock),
            Err(Refusal::NotAllowed {
                role: Role::Manager,
                right: Right::DoorUnlock,
                site: "depot".into()
            })
        );
    }

    #[test]
    fn a_site_the_caller_cannot_see_is_unknown_not_forbidden() {
        let c = caller(&[("hq", Role::Supervisor)]);
        assert_eq!(
            c.require("other", Right::View),
            Err(Refusal::UnknownSite {
                site: "other".into()
            })
        );
        assert_eq!(
            c.require_global(Right::ManageUsers),
            Err(Refusal::NeedsAllSites {
                right: Right::ManageUsers
            })
        );
    }

    #[test]
    fn hub_wide_rights_need_an_all_sites_grant_that_allows_them() {
        let site_admin = caller(&[("hq", Role::ItAdmin)]);
        assert!(site_admin.require_global(Right::ManageUsers).is_err());
        let admin = caller(&[("*", Role::ItAdmin)]);
        assert_eq!(admin.require_global(Right::ManageUsers), Ok(()));
        let manager = caller(&[("*", Role::Manager)]);
        assert!(manager.require_global(Right::ItSettings).is_err());
    }
}
