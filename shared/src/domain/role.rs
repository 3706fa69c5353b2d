//! Project roles, ordered by rank: `readonly < dataentry < editor < manager < owner`.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[serde(rename = "readonly")]
    ReadOnly,
    #[serde(rename = "dataentry")]
    DataEntry,
    Editor,
    Manager,
    Owner,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::ReadOnly, Role::DataEntry, Role::Editor, Role::Manager, Role::Owner];

    /// A number that grows with the role's power; stored so a condition can refuse a downgrade.
    pub fn rank(self) -> u8 {
        self as u8 + 1
    }

    pub fn from_rank(rank: u8) -> Option<Role> {
        Role::ALL.get(usize::from(rank).checked_sub(1)?).copied()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::ReadOnly => "readonly",
            Role::DataEntry => "dataentry",
            Role::Editor => "editor",
            Role::Manager => "manager",
            Role::Owner => "owner",
        }
    }

    /// Managers and owners manage a project's invitations.
    pub fn can_manage_invitations(self) -> bool {
        self >= Role::Manager
    }

    /// Nobody grants a role above their own.
    pub fn can_grant(self, role: Role) -> bool {
        self.can_manage_invitations() && role <= self
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}; expected one of readonly, dataentry, editor, manager, owner")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|role| role.as_str() == s).ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_by_rank() {
        let ranks: Vec<u8> = Role::ALL.iter().map(|r| r.rank()).collect();
        assert_eq!(ranks, vec![1, 2, 3, 4, 5]);
        assert!(Role::ReadOnly < Role::DataEntry && Role::Editor < Role::Manager && Role::Manager < Role::Owner);
        for role in Role::ALL {
            assert_eq!(Role::from_rank(role.rank()), Some(role));
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert_eq!(serde_json::to_string(&role).unwrap(), format!("\"{}\"", role.as_str()));
        }
        assert_eq!(Role::from_rank(0), None);
        assert_eq!(Role::from_rank(6), None);
        assert!("admin".parse::<Role>().is_err());
    }

    #[test]
    fn only_managers_and_owners_grant_and_never_above_themselves() {
        assert!(!Role::Editor.can_grant(Role::ReadOnly));
        assert!(Role::Manager.can_grant(Role::Manager));
        assert!(!Role::Manager.can_grant(Role::Owner));
        assert!(Role::Owner.can_grant(Role::Owner));
    }
}
