//! Quotas against abuse: the service sends from its deployer's SES identity, so no one account
//! may make it a spam relay. Each quota is a number of slots per scope; a write that counts
//! claims one free slot in its own transaction (a slot is free when absent or its window has
//! passed), so a quota is exact under any concurrency and costs no read while slots are free.

use super::ids::{ProjectId, UserId};
use std::fmt;
use time::{Duration, OffsetDateTime};

/// The rolling window of the per-day quotas.
pub const DAY: Duration = Duration::hours(24);

/// A pending invitation holds its address's slot (and its pending marker stays) this long after
/// it expires: a resend within it renews the invitation.
pub const ADDRESS_HOLD_AFTER_EXPIRY: Duration = Duration::days(30);

/// Who a quota counts for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum QuotaScope {
    /// Invitations sent (created and resent) in a project, per rolling 24 h.
    ProjectInvitations(ProjectId),
    /// Invitations sent by one inviter, per rolling 24 h.
    InviterInvitations(UserId),
    /// Pending invitations to one address, across all projects.
    AddressPending(String),
    /// Projects one user created.
    UserProjects(UserId),
}

impl QuotaScope {
    /// The scope as a storage key.
    pub fn key(&self) -> String {
        match self {
            QuotaScope::ProjectInvitations(id) => format!("project-invitations#{id}"),
            QuotaScope::InviterInvitations(id) => format!("inviter-invitations#{id}"),
            QuotaScope::AddressPending(email) => format!("address-pending#{email}"),
            QuotaScope::UserProjects(id) => format!("user-projects#{id}"),
        }
    }

    /// What a client is told when the quota is used up.
    pub fn describe(&self, limit: u32) -> String {
        match self {
            QuotaScope::ProjectInvitations(_) => {
                format!("This project has sent its {limit} invitations of the last 24 hours.")
            }
            QuotaScope::InviterInvitations(_) => {
                format!("You have sent your {limit} invitations of the last 24 hours.")
            }
            QuotaScope::AddressPending(_) => format!("This address already has {limit} pending invitations."),
            QuotaScope::UserProjects(_) => format!("You have created your {limit} projects."),
        }
    }
}

impl fmt::Display for QuotaScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QuotaScope::ProjectInvitations(_) => "invitations per project per day",
            QuotaScope::InviterInvitations(_) => "invitations per inviter per day",
            QuotaScope::AddressPending(_) => "pending invitations per address",
            QuotaScope::UserProjects(_) => "projects per user",
        })
    }
}

/// The limits, from the stack's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    pub invitations_per_project_per_day: u32,
    pub invitations_per_inviter_per_day: u32,
    pub pending_per_address: u32,
    pub projects_per_user: u32,
}

impl Default for Quotas {
    /// GitHub allows a young organization 50 invitations a day and an established one 500.
    fn default() -> Self {
        Self {
            invitations_per_project_per_day: 500,
            invitations_per_inviter_per_day: 100,
            pending_per_address: 20,
            projects_per_user: 50,
        }
    }
}

impl Quotas {
    pub fn limit(&self, scope: &QuotaScope) -> u32 {
        match scope {
            QuotaScope::ProjectInvitations(_) => self.invitations_per_project_per_day,
            QuotaScope::InviterInvitations(_) => self.invitations_per_inviter_per_day,
            QuotaScope::AddressPending(_) => self.pending_per_address,
            QuotaScope::UserProjects(_) => self.projects_per_user,
        }
    }
}

/// One slot of a quota taken until `until`, by `holder` (what holds it, for the log and for
/// releasing it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaClaim {
    pub scope: QuotaScope,
    pub slot: u32,
    pub until: OffsetDateTime,
    pub holder: String,
}

/// A quota's use, as read when its slots seem taken.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuotaUse {
    /// Slots held now.
    pub held: Vec<u32>,
    /// When the first held slot frees up.
    pub next_free_at: Option<OffsetDateTime>,
}

impl QuotaUse {
    /// The slots below `limit` not held, in order. The held ones go into a set first: a quota
    /// may have 10,000 slots, and a scan of the list for each would take 10,000² steps.
    pub fn free_slots(&self, limit: u32) -> Vec<u32> {
        let held: std::collections::HashSet<u32> = self.held.iter().copied().collect();
        (0..limit).filter(|slot| !held.contains(slot)).collect()
    }
}

/// A slot to try first, spread so concurrent writers rarely pick the same one.
pub fn random_slot(limit: u32) -> u32 {
    (uuid::Uuid::new_v4().as_u128() % u128::from(limit.max(1))) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_have_keys_limits_and_words() {
        let quotas = Quotas { projects_per_user: 3, ..Quotas::default() };
        let scope = QuotaScope::UserProjects(UserId::parse("u").unwrap());
        assert_eq!(scope.key(), "user-projects#u");
        assert_eq!(quotas.limit(&scope), 3);
        assert_eq!(scope.to_string(), "projects per user");
        let used = QuotaUse { held: vec![0, 2], next_free_at: None };
        assert_eq!(used.free_slots(3), [1]);
        assert!(QuotaUse { held: vec![0, 1, 2], next_free_at: None }.free_slots(3).is_empty());
        assert!((0..100).all(|_| random_slot(7) < 7));
    }
}
