//! The life cycle of a service request and the transitions the core allows.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    New,
    Triaged,
    Assigned,
    Acknowledged,
    InProgress,
    Resolved,
    Closed,
    Duplicate,
    Rejected,
    Reopened,
    /// The department asked the citizen for information; the SLA clock is
    /// paused until they answer (or the department goes on without it).
    WaitingForCitizen,
}

/// An attempted change the life cycle does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a request in status {from} cannot move to {to}; allowed next: {allowed}")]
pub struct IllegalTransition {
    pub from: Status,
    pub to: Status,
    pub allowed: String,
}

impl Status {
    pub const ALL: [Status; 11] = [
        Status::New,
        Status::Triaged,
        Status::Assigned,
        Status::Acknowledged,
        Status::InProgress,
        Status::Resolved,
        Status::Closed,
        Status::Duplicate,
        Status::Rejected,
        Status::Reopened,
        Status::WaitingForCitizen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Triaged => "triaged",
            Status::Assigned => "assigned",
            Status::Acknowledged => "acknowledged",
            Status::InProgress => "in_progress",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
            Status::Duplicate => "duplicate",
            Status::Rejected => "rejected",
            Status::Reopened => "reopened",
            Status::WaitingForCitizen => "waiting_for_citizen",
        }
    }

    pub fn parse(raw: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// The statuses this one may move to.
    pub fn next(self) -> &'static [Status] {
        use Status::*;
        match self {
            New => &[Triaged, Assigned, Duplicate, Rejected],
            Triaged => &[Assigned, Duplicate, Rejected],
            Assigned => &[
                Acknowledged,
                InProgress,
                Resolved,
                Rejected,
                Triaged,
                WaitingForCitizen,
            ],
            Acknowledged => &[InProgress, Resolved, Rejected, Triaged, WaitingForCitizen],
            InProgress => &[Resolved, Rejected, Triaged, WaitingForCitizen],
            WaitingForCitizen => &[InProgress, Resolved, Rejected, Triaged],
            Resolved => &[Closed, Reopened],
            Closed => &[Reopened],
            Duplicate => &[Reopened, Closed],
            Rejected => &[Reopened, Closed],
            Reopened => &[Triaged, Assigned],
        }
    }

    /// Checks a transition; the error lists what would have been allowed.
    pub fn transition_to(self, to: Status) -> Result<Status, IllegalTransition> {
        if self.next().contains(&to) {
            Ok(to)
        } else {
            Err(IllegalTransition {
                from: self,
                to,
                allowed: self
                    .next()
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
        }
    }

    /// Open work of a department: assigned and not yet finished.
    pub fn is_department_work(self) -> bool {
        matches!(
            self,
            Status::Assigned
                | Status::Acknowledged
                | Status::InProgress
                | Status::WaitingForCitizen
        )
    }

    /// Finished from the citizen's point of view.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            Status::Resolved | Status::Closed | Status::Duplicate | Status::Rejected
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn happy_path_is_allowed() {
        let path = [
            Status::New,
            Status::Assigned,
            Status::Acknowledged,
            Status::InProgress,
            Status::Resolved,
            Status::Closed,
        ];
        for pair in path.windows(2) {
            assert_eq!(pair[0].transition_to(pair[1]), Ok(pair[1]));
        }
    }

    #[test]
    fn illegal_transition_names_the_allowed_ones() {
        let err = Status::New
            .transition_to(Status::Resolved)
            .expect_err("new cannot jump to resolved");
        assert_eq!(err.from, Status::New);
        assert!(err.to_string().contains("triaged, assigned"));
        assert!(Status::Closed.transition_to(Status::InProgress).is_err());
    }

    #[test]
    fn names_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
            let json = serde_json::to_string(&s).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
    }
}
