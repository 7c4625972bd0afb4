//! The changes a department makes to its cases. Each is safe to repeat: the
//! same change made again answers the case as it is and records nothing.

use tracing::instrument;

use super::{
    DEPARTMENT_STATUSES, DepartmentError, DepartmentWork, MAX_ASSIGNEE_CHARS, MAX_NOTE_CHARS,
    actor, clean_note,
};
use crate::catalogue::Catalogues;
use crate::ids::{CaseNumber, DepartmentCode};
use crate::request::{EventKind, ServiceRequest};
use crate::status::Status;

#[derive(Debug, Clone)]
pub struct StatusUpdate {
    pub case_number: CaseNumber,
    pub status: Status,
    pub note: Option<String>,
}

/// Moves a case through the department's statuses. Resolving, rejecting and
/// asking the citizen for information need a note: the citizen reads it.
/// Waiting for the citizen pauses the SLA clock; any other status (or the
/// citizen's answer) lets it run again, the due time moved by the wait.
#[instrument(skip(deps, update), fields(department = %department, case_number = %update.case_number, status = %update.status))]
pub async fn update_status(
    deps: &DepartmentWork<'_>,
    department: &DepartmentCode,
    update: StatusUpdate,
) -> Result<ServiceRequest, DepartmentError> {
    if !DEPARTMENT_STATUSES.contains(&update.status) {
        return Err(DepartmentError::StatusNotAllowed);
    }
    let note = clean_note(update.note)?;
    let needs = match update.status {
        Status::Resolved => Some("the resolution"),
        Status::Rejected => Some("why it is rejected"),
        Status::WaitingForCitizen => Some("the information needed from them"),
        _ => None,
    };
    if let (Some(what), None) = (needs, &note) {
        return Err(DepartmentError::StatusNoteMissing(update.status, what));
    }
    let request = deps.load(department, &update.case_number).await?;
    if request.status == update.status {
        // The clerk's retry (the same status, the same note): the same
        // answer, nothing new. Another note on the same status is refused.
        let history = deps.store.history(&request.id).await?;
        let last_note = history.iter().rev().find_map(|e| match &e.kind {
            EventKind::StatusChanged { to, note, .. } if *to == update.status => Some(note.clone()),
            _ => None,
        });
        if note.is_none() || last_note.as_ref() == Some(&note) {
            return Ok(request);
        }
        deps.check_seen(&request)?;
        request.status.transition_to(update.status)?;
    }
    deps.check_seen(&request)?;
    let change = request.move_to(update.status, note, deps.clock.now(), &actor(department))?;
    deps.commit(change).await
}

/// A department writes to the citizen (not public); the citizen is notified.
#[instrument(skip(deps, note), fields(department = %department, case_number = %case_number))]
pub async fn note_to_citizen(
    deps: &DepartmentWork<'_>,
    department: &DepartmentCode,
    case_number: &CaseNumber,
    note: &str,
) -> Result<ServiceRequest, DepartmentError> {
    add_note(deps, department, case_number, note, |note| {
        EventKind::NoteToCitizen { note }
    })
    .await
}

/// A note among staff: kept in the case's history, never shown to the
/// citizen or the public, and nobody is notified.
#[instrument(skip(deps, note), fields(department = %department, case_number = %case_number))]
pub async fn internal_note(
    deps: &DepartmentWork<'_>,
    department: &DepartmentCode,
    case_number: &CaseNumber,
    note: &str,
) -> Result<ServiceRequest, DepartmentError> {
    add_note(deps, department, case_number, note, |note| {
        EventKind::InternalNote { note }
    })
    .await
}

/// Records the note as the event `kind` makes of it, once (a retry of the
/// same note by the same person writes nothing).
async fn add_note(
    deps: &DepartmentWork<'_>,
    department: &DepartmentCode,
    case_number: &CaseNumber,
    note: &str,
    kind: impl FnOnce(String) -> EventKind,
) -> Result<ServiceRequest, DepartmentError> {
    let note = clean_note(Some(note.to_owned()))?.ok_or(DepartmentError::NoteMissing)?;
    let request = deps.load(department, case_number).await?;
    let kind = kind(note);
    if deps.repeats_last(&request, &kind).await? {
        return Ok(request);
    }
    deps.check_seen(&request)?;
    let change = request.record(kind, deps.clock.now(), &actor(department));
    deps.commit(change).await
}

/// Whom a caller may make a case's assignee (from `staff_access`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssignRight {
    /// The department's head, or its integration: anyone, or nobody.
    Anyone,
    /// A clerk (this subject): claims a case, or gives back their own.
    Themselves(String),
}

/// Sets who in the department works a case (`None`: back to the pool).
#[instrument(skip(deps, assignee, right), fields(department = %department, case_number = %case_number))]
pub async fn assign_work(
    deps: &DepartmentWork<'_>,
    department: &DepartmentCode,
    case_number: &CaseNumber,
    assignee: Option<String>,
    right: &AssignRight,
) -> Result<ServiceRequest, DepartmentError> {
    let assignee = assignee.map(|a| a.trim().to_owned());
    if assignee.as_ref().is_some_and(|a| {
        a.is_empty()
            || a.chars().count() > MAX_ASSIGNEE_CHARS
            || a.chars().any(|c| c.is_whitespace() || c.is_control())
    }) {
        return Err(DepartmentError::AssigneeInvalid);
    }
    let request = deps.load(department, case_number).await?;
    if request.assignee == assignee {
        return Ok(request);
    }
    if let AssignRight::Themselves(me) = right {
        // A clerk takes a case nobody works, or gives back their own; a
        // colleague's case changes hands through the head.
        let claims = assignee.as_ref() == Some(me) && request.assignee.is_none();
        let gives_back_own = assignee.is_none() && request.assignee.as_ref() == Some(me);
        if !claims && !gives_back_own {
            return Err(DepartmentError::AssignOthersNotAllowed);
        }
    }
    deps.check_seen(&request)?;
    if !request.status.is_department_work() {
        return Err(DepartmentError::NotOpenWork(request.status));
    }
    let change = request.assign_to(assignee, deps.clock.now(), &actor(department));
    deps.commit(change).await
}

/// "Not ours": the department hands the request back; it is routed again
/// without that department (and a person decides when nobody is left).
#[instrument(skip(deps, reason), fields(department = %department, case_number = %case_number))]
pub async fn hand_back(
    deps: &DepartmentWork<'_>,
    department: &DepartmentCode,
    case_number: &CaseNumber,
    reason: Option<String>,
) -> Result<ServiceRequest, DepartmentError> {
    let reason = clean_note(reason).map_err(|_| DepartmentError::ReasonTooLong)?;
    let request = deps
        .store
        .find_by_case_number(case_number)
        .await?
        .ok_or_else(|| DepartmentError::NotFound(case_number.clone()))?;
    let already_handed_back =
        request.status == Status::Triaged && request.declined_departments.contains(department);
    if already_handed_back {
        // The clerk's retry: change nothing.
        return Ok(request);
    }
    if request.department.as_ref() != Some(department) {
        return Err(DepartmentError::NotFound(case_number.clone()));
    }
    deps.check_seen(&request)?;
    let change = request.hand_back(department, reason, deps.clock.now(), &actor(department))?;
    deps.commit(change).await
}

/// Passes the case to another department of the city, with the reason (for
/// staff only): it leaves this department's work and routing assigns it to
/// `to` with the service's SLA, counted from now.
#[instrument(skip(deps, catalogues, reason), fields(department = %department, case_number = %case_number, to = %to))]
pub async fn transfer(
    deps: &DepartmentWork<'_>,
    catalogues: &Catalogues,
    department: &DepartmentCode,
    case_number: &CaseNumber,
    to: &DepartmentCode,
    reason: &str,
) -> Result<ServiceRequest, DepartmentError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(DepartmentError::ReasonMissing);
    }
    if reason.chars().count() > MAX_NOTE_CHARS {
        return Err(DepartmentError::ReasonTooLong);
    }
    let request = deps
        .store
        .find_by_case_number(case_number)
        .await?
        .ok_or_else(|| DepartmentError::NotFound(case_number.clone()))?;
    let awaiting_routing =
        request.status == Status::Triaged && request.transfer_to.as_ref() == Some(to);
    if awaiting_routing {
        // The clerk's retry, answered only to the department that passed it on.
        let ours = deps.store.history(&request.id).await?.iter().rev().any(|e| {
            matches!(&e.kind, EventKind::Transferred { from, to: t, .. } if from == department && t == to)
        });
        return if ours {
            Ok(request)
        } else {
            Err(DepartmentError::NotFound(case_number.clone()))
        };
    }
    if request.department.as_ref() != Some(department) {
        return Err(DepartmentError::NotFound(case_number.clone()));
    }
    if to == department {
        return Err(DepartmentError::TransferToSelf(department.clone()));
    }
    let known = catalogues
        .get(&request.jurisdiction)
        .is_some_and(|c| c.department(to).is_some());
    if !known {
        return Err(DepartmentError::UnknownDepartment(to.clone()));
    }
    deps.check_seen(&request)?;
    let change = request.transfer(
        to.clone(),
        reason.to_owned(),
        deps.clock.now(),
        &actor(department),
    )?;
    deps.commit(change).await
}

/// Staff of the original's department say a follower is another problem after
/// all: the follower is reopened and routed on its own, the original forgets it.
/// Safe to repeat.
#[instrument(skip(deps), fields(department = %department, case_number = %original_case, follower = %follower_case))]
pub async fn unlink_follower(
    deps: &DepartmentWork<'_>,
    department: &DepartmentCode,
    original_case: &CaseNumber,
    follower_case: &CaseNumber,
) -> Result<ServiceRequest, DepartmentError> {
    let original = deps.load(department, original_case).await?;
    let follower = deps
        .store
        .find_by_case_number(follower_case)
        .await?
        .ok_or_else(|| DepartmentError::NotFound(follower_case.clone()))?;
    let actor = actor(department);
    let now = deps.clock.now();
    let follows = follower
        .duplicate_of
        .as_ref()
        .is_some_and(|l| l.request_id == original.id);
    // A retry after a failure further down: the follower is already unlinked.
    let unlinked_before = follower.status == Status::Reopened
        && deps.store.history(&follower.id).await?.last().is_some_and(
            |e| matches!(&e.kind, EventKind::Unlinked { from } if *from == original.case_number),
        );
    if follows {
        deps.check_seen(&original)?;
        deps.commit(follower.unlink(now, &actor)?).await?;
    } else if !unlinked_before {
        return Err(DepartmentError::NotFound(follower_case.clone()));
    }
    // The committed unlink routes the follower (outbox); a retry after a
    // failure below lands in `unlinked_before` and tidies the original.
    match original.drop_follower(&follower.link(), follows, now, &actor) {
        Some(change) => deps.commit(change).await,
        None => Ok(original),
    }
}
