//! A department works its queue: lists its open work with filters, reads one
//! case, and changes it (status, notes to the citizen and among staff, who
//! works it, hand-back, transfer, unlink). A department sees only its own
//! work: a foreign case and a missing one are the same `NotFound`.
//! What follows a change (the citizen's notification, routing again after a
//! hand-back, a transfer or an unlink) comes from the committed event through
//! the outbox.
//!
//! Optimistic locking: a caller that read a case at version *n* passes it as
//! [`DepartmentWork::seen_version`] (the HTTP `If-Match`); a change to a case
//! that has moved on since answers [`DepartmentError::Stale`] with the version
//! it has now. A repeat of a change already made answers the case as it is.

mod changes;
mod listing;

pub use changes::{
    AssignRight, StatusUpdate, assign_work, hand_back, internal_note, note_to_citizen, transfer,
    unlink_follower, update_status,
};
pub use listing::{
    AssigneeFilter, DueFilter, DueState, WorkFilter, due_state, list_assignments, read_assignment,
};

use crate::audit::StaffStamp;
use crate::ids::{CaseNumber, DepartmentCode};
use crate::ports::{ApplyOutcome, Clock, PortError, RequestStore};
use crate::request::{Change, ServiceRequest};
use crate::status::{IllegalTransition, Status};

/// Longest note a department may attach.
pub const MAX_NOTE_CHARS: usize = 2000;

/// Longest staff subject an assignee may be.
pub const MAX_ASSIGNEE_CHARS: usize = 128;

/// The statuses a department may set.
pub const DEPARTMENT_STATUSES: [Status; 6] = [
    Status::Acknowledged,
    Status::InProgress,
    Status::WaitingForCitizen,
    Status::Resolved,
    Status::Rejected,
    Status::Reopened,
];

/// The statuses a department may move a case in `current` to.
pub fn status_choices(current: Status) -> Vec<Status> {
    current
        .next()
        .iter()
        .copied()
        .filter(|s| DEPARTMENT_STATUSES.contains(s))
        .collect()
}

/// The statuses a department's open work can be in (and be filtered by).
pub const OPEN_WORK_STATUSES: [Status; 4] = [
    Status::Assigned,
    Status::Acknowledged,
    Status::InProgress,
    Status::WaitingForCitizen,
];

pub struct DepartmentWork<'a> {
    pub store: &'a dyn RequestStore,
    pub clock: &'a dyn Clock,
    /// Who is working: every change carries it into the audit trail.
    pub staff: &'a StaffStamp,
    /// The version of the case the caller last read (`If-Match`), if they say.
    pub seen_version: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum DepartmentError {
    /// Missing, or another department's: the caller cannot tell which.
    #[error("no request {0} in your department's work")]
    NotFound(CaseNumber),
    #[error(
        "status must be one of acknowledged, in_progress, waiting_for_citizen, resolved, rejected, reopened"
    )]
    StatusNotAllowed,
    #[error(
        "the status filter must be one of assigned, acknowledged, in_progress, waiting_for_citizen"
    )]
    StatusFilter,
    #[error("note is required for status {0}: it is the text the citizen reads ({1})")]
    StatusNoteMissing(Status, &'static str),
    #[error("note must be at most {MAX_NOTE_CHARS} characters")]
    NoteTooLong,
    #[error("note is required")]
    NoteMissing,
    #[error("reason is required: say why the request goes to another department")]
    ReasonMissing,
    #[error("reason must be at most {MAX_NOTE_CHARS} characters")]
    ReasonTooLong,
    #[error("department {0} is not one of this city's departments")]
    UnknownDepartment(DepartmentCode),
    #[error("the request is already {0}'s: transfer names another department")]
    TransferToSelf(DepartmentCode),
    #[error(
        "assignee must be a staff subject of 1 to {MAX_ASSIGNEE_CHARS} characters without spaces"
    )]
    AssigneeInvalid,
    #[error("a clerk assigns work to themselves only; the department's head assigns it to others")]
    AssignOthersNotAllowed,
    #[error(
        "only open work (assigned, acknowledged, in_progress, waiting_for_citizen) has an assignee; this request is {0}"
    )]
    NotOpenWork(Status),
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
    #[error(
        "the request has changed since you read it (version {current} now); reload it and try again"
    )]
    Stale { current: u64 },
    #[error("the request was changed by someone else at the same time; reload and try again")]
    Conflict,
    #[error(transparent)]
    Port(#[from] PortError),
}

impl DepartmentWork<'_> {
    /// The department's case `case_number` (`NotFound` for another's or none).
    async fn load(
        &self,
        department: &DepartmentCode,
        case_number: &CaseNumber,
    ) -> Result<ServiceRequest, DepartmentError> {
        self.store
            .find_by_case_number(case_number)
            .await?
            .filter(|r| r.department.as_ref() == Some(department))
            .ok_or_else(|| DepartmentError::NotFound(case_number.clone()))
    }

    /// `Stale` when the caller read an older (or another) version.
    fn check_seen(&self, request: &ServiceRequest) -> Result<(), DepartmentError> {
        match self.seen_version {
            Some(seen) if seen != request.version => Err(DepartmentError::Stale {
                current: request.version,
            }),
            _ => Ok(()),
        }
    }

    /// Whether the case's last event is `kind` made by this same person: a
    /// retried note, which is not written (nor sent) twice.
    async fn repeats_last(
        &self,
        request: &ServiceRequest,
        kind: &crate::request::EventKind,
    ) -> Result<bool, DepartmentError> {
        let history = self.store.history(&request.id).await?;
        Ok(history.last().is_some_and(|e| {
            &e.kind == kind
                && e.by
                    .as_ref()
                    .is_some_and(|b| b.subject == self.staff.subject)
        }))
    }

    /// Writes the change, stamped with who made it.
    async fn commit(&self, change: Change) -> Result<ServiceRequest, DepartmentError> {
        let change = change.by(self.staff);
        match self.store.apply(&change).await? {
            ApplyOutcome::Applied => Ok(change.request),
            ApplyOutcome::Conflict => Err(DepartmentError::Conflict),
        }
    }
}

/// How a department names itself in the history (`department:roads`).
fn actor(department: &DepartmentCode) -> String {
    format!("department:{department}")
}

/// A trimmed note, `None` when blank; `NoteTooLong` past the limit.
fn clean_note(note: Option<String>) -> Result<Option<String>, DepartmentError> {
    let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if note
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS)
    {
        return Err(DepartmentError::NoteTooLong);
    }
    Ok(note)
}
