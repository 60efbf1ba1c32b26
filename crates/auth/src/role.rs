//! A member's role in the active organisation, reduced to the two levels Parley distinguishes.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What a member may do in their organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// May manage the organisation's settings and members.
    Admin,
    /// Everything else: ordinary members and any custom role.
    Member,
}

impl Role {
    /// Maps a Clerk role to a Parley role. Clerk v1 tokens carry `org:admin`, v2 tokens carry
    /// `admin`; both are [`Role::Admin`]. Anything else (`org:member`, `basic_member`, custom
    /// roles, an empty string, other spellings) is [`Role::Member`]: least privilege.
    pub fn parse_clerk(raw: &str) -> Role {
        match raw {
            "org:admin" | "admin" => Role::Admin,
            _ => Role::Member,
        }
    }

    /// The role's wire name: `admin` or `member` (the same as its serde form).
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admins_in_both_token_versions() {
        assert_eq!(Role::parse_clerk("org:admin"), Role::Admin);
        assert_eq!(Role::parse_clerk("admin"), Role::Admin);
    }

    #[test]
    fn everything_else_is_a_member() {
        for raw in ["org:member", "basic_member", "member", "org:billing_manager", "", "ADMIN",
            "Org:Admin", "org:admin ", " admin", "org:org:admin", "administrator"] {
            assert_eq!(Role::parse_clerk(raw), Role::Member, "{raw:?}");
        }
    }

    #[test]
    fn names_and_serde_agree() {
        for role in [Role::Admin, Role::Member] {
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
            assert_eq!(serde_json::from_str::<Role>(&json).unwrap(), role);
            assert_eq!(role.to_string(), role.as_str());
        }
        assert!(serde_json::from_str::<Role>("\"Admin\"").is_err());
    }
}
