//! Who a member of staff is: the subject their identity provider vouches for
//! and the citydesk roles its groups name (`operator`, `expert:<dept>`,
//! `clerk:<dept>`, `head:<dept>`, `manager`, `quality`, `admin`).
//!
//! How the token is verified is an adapter's business; this is what the use
//! cases and the visibility policy see.

use std::fmt;
use std::str::FromStr;

use crate::ids::DepartmentCode;

/// One citydesk role, as an identity provider's group names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// First line: answers, informs and registers on a caller's behalf.
    Operator,
    /// Second line: answers the questions passed to the department.
    Expert(DepartmentCode),
    /// Works the department's cases.
    Clerk(DepartmentCode),
    /// Heads the department: its clerks' work and its figures.
    Head(DepartmentCode),
    /// Reads every department's work and figures.
    Manager,
    /// Reads the audit trail.
    Quality,
    /// Runs the deployment.
    Admin,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    #[error(
        "{0:?} is not a citydesk role: operator, manager, quality, admin, or expert:, clerk:, head: followed by a department code"
    )]
    Unknown(String),
    #[error("{0:?} names no valid department code after the colon")]
    Department(String),
}

impl FromStr for Role {
    type Err = RoleError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let department = |code: &str| {
            DepartmentCode::parse(code).map_err(|_| RoleError::Department(name.to_owned()))
        };
        match name.split_once(':') {
            None => match name {
                "operator" => Ok(Self::Operator),
                "manager" => Ok(Self::Manager),
                "quality" => Ok(Self::Quality),
                "admin" => Ok(Self::Admin),
                _ => Err(RoleError::Unknown(name.to_owned())),
            },
            Some(("expert", code)) => Ok(Self::Expert(department(code)?)),
            Some(("clerk", code)) => Ok(Self::Clerk(department(code)?)),
            Some(("head", code)) => Ok(Self::Head(department(code)?)),
            Some(_) => Err(RoleError::Unknown(name.to_owned())),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Operator => f.write_str("operator"),
            Self::Expert(d) => write!(f, "expert:{}", d.as_str()),
            Self::Clerk(d) => write!(f, "clerk:{}", d.as_str()),
            Self::Head(d) => write!(f, "head:{}", d.as_str()),
            Self::Manager => f.write_str("manager"),
            Self::Quality => f.write_str("quality"),
            Self::Admin => f.write_str("admin"),
        }
    }
}

/// A verified member of staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffIdentity {
    /// The identity provider's stable subject (`sub`), never a name or e-mail.
    pub subject: String,
    /// Sorted, each once.
    pub roles: Vec<Role>,
}

impl StaffIdentity {
    /// The identity behind a verified token: its subject and the citydesk
    /// roles among its groups. Groups that name no citydesk role (an
    /// organisation's own groups share the claim) are left out, not refused.
    pub fn from_groups<'g>(subject: &str, groups: impl IntoIterator<Item = &'g str>) -> Self {
        let mut roles: Vec<Role> = groups
            .into_iter()
            .filter_map(|g| g.trim().parse().ok())
            .collect();
        roles.sort();
        roles.dedup();
        Self {
            subject: subject.to_owned(),
            roles,
        }
    }

    pub fn has(&self, role: &Role) -> bool {
        self.roles.binary_search(role).is_ok()
    }

    /// Whether they work a department's cases: its clerks and its head.
    pub fn works_for(&self, department: &DepartmentCode) -> bool {
        self.has(&Role::Clerk(department.clone())) || self.has(&Role::Head(department.clone()))
    }

    /// Whether they answer a department's second-line questions.
    pub fn answers_for(&self, department: &DepartmentCode) -> bool {
        self.has(&Role::Expert(department.clone())) || self.has(&Role::Head(department.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dept(code: &str) -> DepartmentCode {
        DepartmentCode::parse(code).unwrap()
    }

    #[test]
    fn roles_read_and_print_as_the_groups_name_them() {
        for name in [
            "operator",
            "manager",
            "quality",
            "admin",
            "expert:roads",
            "clerk:city-guard",
            "head:roads",
        ] {
            let role: Role = name.parse().unwrap();
            assert_eq!(role.to_string(), name);
        }
        assert_eq!(
            "clerk:roads".parse::<Role>(),
            Ok(Role::Clerk(dept("roads")))
        );
        assert!(matches!(
            "superuser".parse::<Role>(),
            Err(RoleError::Unknown(_))
        ));
        assert!(matches!(
            "clerk:".parse::<Role>(),
            Err(RoleError::Department(_))
        ));
        assert!(matches!(
            "janitor:roads".parse::<Role>(),
            Err(RoleError::Unknown(_))
        ));
    }

    #[test]
    fn an_identity_keeps_only_citydesk_roles_and_answers_by_department() {
        let who = StaffIdentity::from_groups(
            "user-1",
            [
                "clerk:roads",
                "Domain Users",
                "expert:greenery",
                "clerk:roads",
            ],
        );
        assert_eq!(
            who.roles,
            vec![Role::Expert(dept("greenery")), Role::Clerk(dept("roads"))]
        );
        assert!(who.works_for(&dept("roads")));
        assert!(!who.works_for(&dept("greenery")));
        assert!(who.answers_for(&dept("greenery")));
        assert!(!who.answers_for(&dept("roads")));
        let head = StaffIdentity::from_groups("user-2", ["head:roads"]);
        assert!(head.works_for(&dept("roads")) && head.answers_for(&dept("roads")));
        assert!(
            StaffIdentity::from_groups("user-3", ["Domain Users"])
                .roles
                .is_empty()
        );
    }
}
