//! Projects, their members, and who is calling.

use super::email_address::DomainAllowList;
use super::ids::{ProjectId, UserId};
use super::role::Role;
use time::OffsetDateTime;

const MAX_PROJECT_NAME: usize = 200;

/// A project's name: trimmed, 1 to 200 printable characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("name must be 1 to {MAX_PROJECT_NAME} printable characters")]
pub struct InvalidProjectName;

impl ProjectName {
    pub fn parse(raw: &str) -> Result<Self, InvalidProjectName> {
        let name = raw.trim();
        let valid = !name.is_empty() && name.chars().count() <= MAX_PROJECT_NAME && !name.chars().any(char::is_control);
        valid.then(|| Self(name.to_owned())).ok_or(InvalidProjectName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a caller asks for when creating a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProject {
    pub name: ProjectName,
    pub allowed_email_domains: DomainAllowList,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: ProjectId,
    pub name: ProjectName,
    pub owner: UserId,
    pub created_at: OffsetDateTime,
    /// Per-project allow-list, on top of the service-wide one. Empty: no extra restriction.
    pub allowed_email_domains: DomainAllowList,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub project_id: ProjectId,
    pub user_id: UserId,
    pub email: Option<String>,
    pub role: Role,
    pub joined_at: OffsetDateTime,
    /// How the member's Slack invitation went, in a project with Slack configured.
    pub slack: Option<super::slack::SlackState>,
}

/// The result of granting a role: memberships only ever go up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// Write this membership (new, or an upgrade over `replaces`).
    Write { membership: Membership, replaces: Option<Role> },
    /// The member already holds this role or a higher one.
    Keep { existing: Role },
}

impl Membership {
    /// Grants `role` to a user who may already be a member, never downgrading them.
    pub fn grant(
        existing: Option<&Membership>,
        project_id: &ProjectId,
        user_id: &UserId,
        email: Option<&str>,
        role: Role,
        now: OffsetDateTime,
    ) -> Grant {
        match existing {
            Some(current) if current.role >= role => Grant::Keep { existing: current.role },
            _ => Grant::Write {
                membership: Membership {
                    project_id: project_id.clone(),
                    user_id: user_id.clone(),
                    email: email.map(str::to_owned).or_else(|| existing.and_then(|m| m.email.clone())),
                    role,
                    joined_at: existing.map_or(now, |m| m.joined_at),
                    slack: existing.and_then(|m| m.slack.clone()),
                },
                replaces: existing.map(|m| m.role),
            },
        }
    }
}

/// What is asked of a membership: a new role, or its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberChange {
    Role(Role),
    Remove,
}

/// Why a member may not be changed as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MemberChangeError {
    #[error("Only the project's managers and owners can change its members.")]
    NotManager,
    #[error("You can change only members whose role is below yours.")]
    TargetNotBelow,
    #[error("You cannot grant a role above your own.")]
    RoleAboveOwn,
}

impl Membership {
    /// Whether `actor` may make `change` to this membership: anyone may leave; otherwise owners
    /// act on anyone, managers on lower roles only, and nobody grants above their own role. (The
    /// last owner is the store's to keep: it takes another owner to read.)
    pub fn check_change(&self, actor: &Membership, change: MemberChange) -> Result<(), MemberChangeError> {
        if change == MemberChange::Remove && actor.user_id == self.user_id {
            return Ok(());
        }
        if !actor.role.can_manage_invitations() {
            return Err(MemberChangeError::NotManager);
        }
        if actor.role != Role::Owner && self.role >= actor.role {
            return Err(MemberChangeError::TargetNotBelow);
        }
        match change {
            MemberChange::Role(role) if !actor.role.can_grant(role) => Err(MemberChangeError::RoleAboveOwn),
            _ => Ok(()),
        }
    }

    /// Whether the change leaves the project one owner fewer.
    pub fn loses_owner(&self, change: MemberChange) -> bool {
        self.role == Role::Owner && change != MemberChange::Role(Role::Owner)
    }

    /// The membership after `change`; `None` when it ends.
    pub fn changed(&self, change: MemberChange) -> Option<Membership> {
        match change {
            MemberChange::Role(role) => Some(Membership { role, ..self.clone() }),
            MemberChange::Remove => None,
        }
    }
}

/// The authenticated caller, from the identity token's claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: UserId,
    pub email: Option<String>,
    pub email_verified: bool,
}

impl Caller {
    /// The caller's email, normalized, when the identity provider verified it.
    pub fn verified_email(&self) -> Option<String> {
        self.email.as_deref().filter(|_| self.email_verified).map(super::email_address::normalize)
    }

    /// The caller as the inviter of a new invitation.
    pub fn as_inviter(&self) -> super::invitation::Inviter {
        super::invitation::Inviter {
            user_id: self.user_id.clone(),
            email: self.email.clone().filter(|_| self.email_verified),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-23 12:00 UTC);

    fn p() -> ProjectId {
        ProjectId::parse("p").unwrap()
    }

    fn u() -> UserId {
        UserId::parse("u").unwrap()
    }

    fn member(role: Role) -> Membership {
        Membership { project_id: p(), user_id: u(), email: Some("u@x.io".into()), role, joined_at: NOW, slack: None }
    }

    #[test]
    fn grant_never_downgrades_and_upgrades_in_place() {
        assert_eq!(
            Membership::grant(Some(&member(Role::Manager)), &p(), &u(), None, Role::Editor, NOW),
            Grant::Keep { existing: Role::Manager }
        );
        assert_eq!(
            Membership::grant(Some(&member(Role::Editor)), &p(), &u(), None, Role::Editor, NOW),
            Grant::Keep { existing: Role::Editor }
        );
        match Membership::grant(Some(&member(Role::ReadOnly)), &p(), &u(), None, Role::Editor, NOW) {
            Grant::Write { membership, replaces } => {
                assert_eq!((membership.role, replaces), (Role::Editor, Some(Role::ReadOnly)));
                assert_eq!(membership.email.as_deref(), Some("u@x.io"));
            }
            keep => panic!("expected an upgrade, got {keep:?}"),
        }
        assert!(matches!(
            Membership::grant(None, &p(), &u(), Some("u@x.io"), Role::Owner, NOW),
            Grant::Write { replaces: None, .. }
        ));
    }

    #[test]
    fn owners_change_anyone_managers_only_lower_roles_and_anyone_may_leave() {
        let as_user = |id: &str, role: Role| Membership { user_id: UserId::parse(id).unwrap(), ..member(role) };
        let (owner, manager, editor) =
            (as_user("o", Role::Owner), as_user("m", Role::Manager), as_user("e", Role::Editor));
        let other_manager = as_user("m2", Role::Manager);
        assert_eq!(editor.check_change(&manager, MemberChange::Role(Role::ReadOnly)), Ok(()));
        assert_eq!(
            editor.check_change(&manager, MemberChange::Role(Role::Owner)),
            Err(MemberChangeError::RoleAboveOwn)
        );
        assert_eq!(other_manager.check_change(&manager, MemberChange::Remove), Err(MemberChangeError::TargetNotBelow));
        assert_eq!(owner.check_change(&manager, MemberChange::Remove), Err(MemberChangeError::TargetNotBelow));
        assert_eq!(manager.check_change(&editor, MemberChange::Remove), Err(MemberChangeError::NotManager));
        assert_eq!(as_user("o2", Role::Owner).check_change(&owner, MemberChange::Role(Role::Editor)), Ok(()));
        assert_eq!(editor.check_change(&editor, MemberChange::Remove), Ok(()), "leaving");
        assert_eq!(owner.check_change(&owner, MemberChange::Remove), Ok(()), "the last owner is the store's to keep");
        assert!(owner.loses_owner(MemberChange::Role(Role::Manager)) && owner.loses_owner(MemberChange::Remove));
        assert!(!owner.loses_owner(MemberChange::Role(Role::Owner)) && !manager.loses_owner(MemberChange::Remove));
        assert_eq!(editor.changed(MemberChange::Role(Role::DataEntry)).unwrap().role, Role::DataEntry);
        assert_eq!(editor.changed(MemberChange::Remove), None);
    }

    #[test]
    fn only_a_verified_email_counts() {
        let mut caller = Caller { user_id: u(), email: Some(" Jane@X.io".into()), email_verified: false };
        assert_eq!(caller.verified_email(), None);
        caller.email_verified = true;
        assert_eq!(caller.verified_email().as_deref(), Some("jane@x.io"));
    }
}
