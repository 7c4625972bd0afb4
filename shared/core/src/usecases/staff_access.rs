//! Who may act for which department: the one place the department API asks.
//!
//! A caller is either a machine integration holding a department's API key
//! (it acts for that department and nothing else) or a member of staff whose
//! roles say what they may do. Every department endpoint names the
//! [`DepartmentOperation`] it performs and gets back the department it acts
//! for, or why not.

use crate::audit::StaffStamp;
use crate::ids::DepartmentCode;
use crate::staff::{Role, StaffIdentity};

/// Who is calling a staff endpoint, once authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A department's machine integration (its API key).
    Integration(DepartmentCode),
    /// A member of staff (a verified identity provider token).
    Staff(StaffIdentity),
}

impl Caller {
    /// Who, as the audit trail records it: the staff subject, or the
    /// department whose key was used.
    pub fn actor(&self) -> String {
        match self {
            Self::Integration(d) => format!("api-key:{}", d.as_str()),
            Self::Staff(s) => s.subject.clone(),
        }
    }

    /// How the audit trail records what they do through `via` (`department-api`).
    pub fn stamp(&self, via: &str) -> StaffStamp {
        let roles = match self {
            Self::Integration(_) => "integration".to_owned(),
            Self::Staff(s) => s
                .roles
                .iter()
                .map(Role::to_string)
                .collect::<Vec<_>>()
                .join(" "),
        };
        StaffStamp {
            subject: self.actor(),
            roles,
            via: via.to_owned(),
        }
    }
}

/// What a department endpoint does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepartmentOperation {
    /// List and read the department's work.
    ReadWork,
    /// Change it: status, notes, hand-back, unlink, assign, transfer, reject.
    ChangeWork,
    /// Work the city's triage queue (the contact centre's).
    Triage,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    #[error("your roles ({roles}) do not allow this: it needs {needs}")]
    RoleMissing { roles: String, needs: &'static str },
    #[error("you do not act for department {0}")]
    NotYourDepartment(DepartmentCode),
    #[error("you act for several departments ({0}): name one with ?department=")]
    Ambiguous(String),
    #[error("this API key acts for department {0} only")]
    KeyForAnother(DepartmentCode),
}

/// The department `caller` acts for in `operation`: the one `requested`
/// (a `?department=` parameter) if they may, else their only one.
///
/// - an API key: its own department, for every operation;
/// - `clerk:<d>` and `head:<d>`: `d`, for every operation (triage only when
///   `d` is a triage department);
/// - `operator`: the triage departments (the contact centre's own queue);
/// - `manager`: reads any department's work (naming it), changes nothing.
pub fn acting_department(
    caller: &Caller,
    operation: DepartmentOperation,
    requested: Option<&DepartmentCode>,
    triage_departments: &[DepartmentCode],
) -> Result<DepartmentCode, AccessError> {
    let staff = match caller {
        Caller::Integration(own) => {
            return match requested {
                Some(r) if r != own => Err(AccessError::KeyForAnother(own.clone())),
                _ => Ok(own.clone()),
            };
        }
        Caller::Staff(staff) => staff,
    };
    let mut allowed: Vec<DepartmentCode> = staff
        .roles
        .iter()
        .filter_map(|role| match role {
            Role::Clerk(d) | Role::Head(d) => match operation {
                DepartmentOperation::Triage => triage_departments.contains(d).then(|| d.clone()),
                _ => Some(d.clone()),
            },
            _ => None,
        })
        .collect();
    if operation == DepartmentOperation::Triage && staff.has(&Role::Operator) {
        allowed.extend(triage_departments.iter().cloned());
    }
    allowed.sort();
    allowed.dedup();
    let manager_reads = operation == DepartmentOperation::ReadWork && staff.has(&Role::Manager);
    match requested {
        Some(r) if allowed.contains(r) || manager_reads => Ok(r.clone()),
        Some(_) if allowed.is_empty() => Err(role_missing(staff, operation)),
        Some(r) => Err(AccessError::NotYourDepartment(r.clone())),
        None => match allowed.as_slice() {
            [only] => Ok(only.clone()),
            [] if manager_reads => Err(AccessError::Ambiguous("every department".into())),
            [] => Err(role_missing(staff, operation)),
            many => Err(AccessError::Ambiguous(
                many.iter()
                    .map(DepartmentCode::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
            )),
        },
    }
}

/// Whom `caller`, acting for `department`, may make a case's assignee: its
/// head and its integration anyone; a clerk only themselves.
pub fn assign_right(
    caller: &Caller,
    department: &DepartmentCode,
) -> crate::usecases::department_work::AssignRight {
    use crate::usecases::department_work::AssignRight;
    match caller {
        Caller::Integration(_) => AssignRight::Anyone,
        Caller::Staff(s) if s.has(&Role::Head(department.clone())) => AssignRight::Anyone,
        Caller::Staff(s) => AssignRight::Themselves(s.subject.clone()),
    }
}

/// Who may ask the experts: the first line (operators).
pub fn may_ask_experts(caller: &Caller) -> Result<(), AccessError> {
    match caller {
        Caller::Staff(s) if s.has(&Role::Operator) => Ok(()),
        Caller::Staff(s) => Err(AccessError::RoleMissing {
            roles: roles_of(s),
            needs: "operator",
        }),
        Caller::Integration(d) => Err(AccessError::KeyForAnother(d.clone())),
    }
}

/// Which questions `caller` reads: operators every one, experts and heads
/// their departments'; `None` for anyone else.
pub fn question_reader(caller: &Caller) -> Option<crate::usecases::second_line::QuestionReader> {
    use crate::usecases::second_line::QuestionReader;
    let Caller::Staff(staff) = caller else {
        return None;
    };
    if staff.has(&Role::Operator) {
        return Some(QuestionReader::Operator);
    }
    let departments = answering_departments(staff);
    (!departments.is_empty()).then_some(QuestionReader::Departments(departments))
}

/// The department whose questions `caller` lists and answers: an expert's
/// (or head's), `requested` choosing when they have several.
pub fn answering_department(
    caller: &Caller,
    requested: Option<&DepartmentCode>,
) -> Result<DepartmentCode, AccessError> {
    let Caller::Staff(staff) = caller else {
        return Err(AccessError::RoleMissing {
            roles: "integration".to_owned(),
            needs: "expert:<dept> or head:<dept>",
        });
    };
    let allowed = answering_departments(staff);
    match (requested, allowed.as_slice()) {
        (_, []) => Err(AccessError::RoleMissing {
            roles: roles_of(staff),
            needs: "expert:<dept> or head:<dept>",
        }),
        (Some(r), _) if allowed.contains(r) => Ok(r.clone()),
        (Some(r), _) => Err(AccessError::NotYourDepartment(r.clone())),
        (None, [only]) => Ok(only.clone()),
        (None, many) => Err(AccessError::Ambiguous(
            many.iter()
                .map(DepartmentCode::as_str)
                .collect::<Vec<_>>()
                .join(", "),
        )),
    }
}

fn answering_departments(staff: &StaffIdentity) -> Vec<DepartmentCode> {
    let mut found: Vec<DepartmentCode> = staff
        .roles
        .iter()
        .filter_map(|r| match r {
            Role::Expert(d) | Role::Head(d) => Some(d.clone()),
            _ => None,
        })
        .collect();
    found.sort();
    found.dedup();
    found
}

fn roles_of(staff: &StaffIdentity) -> String {
    if staff.roles.is_empty() {
        return "none".to_owned();
    }
    staff
        .roles
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn role_missing(staff: &StaffIdentity, operation: DepartmentOperation) -> AccessError {
    let roles = roles_of(staff);
    let needs = match operation {
        DepartmentOperation::ReadWork => "clerk:<dept>, head:<dept> or manager",
        DepartmentOperation::ChangeWork => "clerk:<dept> or head:<dept>",
        DepartmentOperation::Triage => "operator, or clerk of the triage department",
    };
    AccessError::RoleMissing { roles, needs }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dept(code: &str) -> DepartmentCode {
        DepartmentCode::parse(code).unwrap()
    }

    fn staff(groups: &[&str]) -> Caller {
        Caller::Staff(StaffIdentity::from_groups("u", groups.iter().copied()))
    }

    const READ: DepartmentOperation = DepartmentOperation::ReadWork;
    const CHANGE: DepartmentOperation = DepartmentOperation::ChangeWork;
    const TRIAGE: DepartmentOperation = DepartmentOperation::Triage;

    #[test]
    fn a_key_acts_for_its_own_department_only() {
        let key = Caller::Integration(dept("roads"));
        let triage = [dept("contact-centre")];
        assert_eq!(
            acting_department(&key, CHANGE, None, &triage),
            Ok(dept("roads"))
        );
        assert_eq!(
            acting_department(&key, READ, Some(&dept("roads")), &triage),
            Ok(dept("roads"))
        );
        assert_eq!(
            acting_department(&key, READ, Some(&dept("greenery")), &triage),
            Err(AccessError::KeyForAnother(dept("roads")))
        );
    }

    #[test]
    fn clerks_and_heads_act_for_their_departments() {
        let triage = [dept("contact-centre")];
        let clerk = staff(&["clerk:roads"]);
        assert_eq!(
            acting_department(&clerk, CHANGE, None, &triage),
            Ok(dept("roads"))
        );
        assert_eq!(
            acting_department(&clerk, READ, Some(&dept("greenery")), &triage),
            Err(AccessError::NotYourDepartment(dept("greenery")))
        );
        assert!(matches!(
            acting_department(&clerk, TRIAGE, None, &triage),
            Err(AccessError::RoleMissing { .. })
        ));
        let two = staff(&["clerk:roads", "head:greenery"]);
        assert!(matches!(
            acting_department(&two, READ, None, &triage),
            Err(AccessError::Ambiguous(_))
        ));
        assert_eq!(
            acting_department(&two, CHANGE, Some(&dept("greenery")), &triage),
            Ok(dept("greenery"))
        );
        let triage_clerk = staff(&["clerk:contact-centre"]);
        assert_eq!(
            acting_department(&triage_clerk, TRIAGE, None, &triage),
            Ok(dept("contact-centre"))
        );
    }

    #[test]
    fn operators_triage_and_managers_only_read() {
        let triage = [dept("contact-centre")];
        let operator = staff(&["operator"]);
        assert_eq!(
            acting_department(&operator, TRIAGE, None, &triage),
            Ok(dept("contact-centre"))
        );
        assert!(matches!(
            acting_department(&operator, CHANGE, Some(&dept("roads")), &triage),
            Err(AccessError::RoleMissing { .. })
        ));
        assert!(matches!(
            acting_department(&operator, READ, None, &triage),
            Err(AccessError::RoleMissing { .. })
        ));
        let manager = staff(&["manager"]);
        assert_eq!(
            acting_department(&manager, READ, Some(&dept("roads")), &triage),
            Ok(dept("roads"))
        );
        assert!(matches!(
            acting_department(&manager, READ, None, &triage),
            Err(AccessError::Ambiguous(_))
        ));
        assert!(matches!(
            acting_department(&manager, CHANGE, Some(&dept("roads")), &triage),
            Err(AccessError::RoleMissing { .. })
        ));
        for nobody in [staff(&[]), staff(&["quality"]), staff(&["expert:roads"])] {
            assert!(matches!(
                acting_department(&nobody, READ, Some(&dept("roads")), &triage),
                Err(AccessError::RoleMissing { .. })
            ));
        }
    }
}
