//! A department works its queue: lists its open work and moves a request
//! through acknowledged, in progress and resolved. A department sees only its own work.
//! What follows a change (the citizen's notification, routing again after a
//! hand-back or an unlink) comes from the committed event through the outbox.

use tracing::instrument;

use crate::audit::StaffStamp;
use crate::ids::{CaseNumber, DepartmentCode};
use crate::paging::{Listing, Page, PageRequest};
use crate::ports::{ApplyOutcome, Clock, PortError, RequestQueries, RequestStore};
use crate::request::{EventKind, ServiceRequest};
use crate::status::{IllegalTransition, Status};

/// Longest note a department may attach.
pub const MAX_NOTE_CHARS: usize = 2000;

/// The statuses a department may set.
pub const DEPARTMENT_STATUSES: [Status; 3] =
    [Status::Acknowledged, Status::InProgress, Status::Resolved];

pub struct DepartmentWork<'a> {
    pub store: &'a dyn RequestStore,
    pub clock: &'a dyn Clock,
    /// Who is working: every change carries it into the audit trail.
    pub staff: &'a StaffStamp,
}

#[derive(Debug, Clone)]
pub struct StatusUpdate {
    pub case_number: CaseNumber,
    pub status: Status,
    pub note: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum DepartmentError {
    /// Missing, or another department's: the caller cannot tell which.
    #[error("no request {0} in your department's work")]
    NotFound(CaseNumber),
    #[error("status must be one of acknowledged, in_progress, resolved")]
    StatusNotAllowed,
    #[error("the status filter must be one of assigned, acknowledged, in_progress")]
    StatusFilter,
    #[error("note is required when resolving: it is the resolution the citizen reads")]
    ResolutionNoteMissing,
    #[error("note must be at most {MAX_NOTE_CHARS} characters")]
    NoteTooLong,
    #[error("note is required: the text the citizen will read")]
    NoteMissing,
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
    #[error("the request was changed by someone else at the same time; reload and try again")]
    Conflict,
    #[error(transparent)]
    Port(#[from] PortError),
}

/// The statuses a department's open work can be in (and be filtered by).
pub const OPEN_WORK_STATUSES: [Status; 3] =
    [Status::Assigned, Status::Acknowledged, Status::InProgress];

/// One page of the department's open work: by status (new work first), then
/// due time; a status filter keeps one status.
#[instrument(skip(queries, page), fields(department = %department, limit = page.limit))]
pub async fn list_assignments(
    queries: &dyn RequestQueries,
    department: &DepartmentCode,
    status: Option<Status>,
    page: &PageRequest,
) -> Result<Page<ServiceRequest>, DepartmentError> {
    if status.is_some_and(|s| !OPEN_WORK_STATUSES.contains(&s)) {
        return Err(DepartmentError::StatusFilter);
    }
    let listing = Listing::DepartmentWork {
        department: department.clone(),
        status,
    };
    Ok(queries.page(&listing, page).await?)
}

#[instrument(skip(deps, update), fields(department = %department, case_number = %update.case_number, status = %update.status))]
pub async fn update_status(
    deps: &DepartmentWork<'_>,
    department: &DepartmentCode,
    update: StatusUpdate,
) -> Result<ServiceRequest, DepartmentError> {
    if !DEPARTMENT_STATUSES.contains(&update.status) {
        return Err(DepartmentError::StatusNotAllowed);
    }
    let note = update
        .note
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if note
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS)
    {
        return Err(DepartmentError::NoteTooLong);
    }
    if update.status == Status::Resolved && note.is_none() {
        return Err(DepartmentError::ResolutionNoteMissing);
    }
    let request = deps
        .store
        .find_by_case_number(&update.case_number)
        .await?
        .filter(|r| r.department.as_ref() == Some(department))
        .ok_or_else(|| DepartmentError::NotFound(update.case_number.clone()))?;
    if request.status == update.status {
        // A repeated call (the clerk's retry): the same answer, nothing new.
        return Ok(request);
    }
    let actor = format!("department:{department}");
    let change = request
        .move_to(update.status, note, deps.clock.now(), &actor)?
        .by(deps.staff);
    match deps.store.apply(&change).await? {
        ApplyOutcome::Applied => {}
        ApplyOutcome::Conflict => return Err(DepartmentError::Conflict),
    }
    Ok(change.request)
}

/// A department writes to the citizen (not public); the citizen is notified.
#[instrument(skip(deps, note), fields(department = %department, case_number = %case_number))]
pub async fn note_to_citizen(
    deps: &DepartmentWork<'_>,
    department: &DepartmentCode,
    case_number: &CaseNumber,
    note: &str,
) -> Result<ServiceRequest, DepartmentError> {
    let note = note.trim();
    if note.is_empty() {
        return Err(DepartmentError::NoteMissing);
    }
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(DepartmentError::NoteTooLong);
    }
    let request = deps
        .store
        .find_by_case_number(case_number)
        .await?
        .filter(|r| r.department.as_ref() == Some(department))
        .ok_or_else(|| DepartmentError::NotFound(case_number.clone()))?;
    let actor = format!("department:{department}");
    let change = request
        .record(
            EventKind::NoteToCitizen {
                note: note.to_owned(),
            },
            deps.clock.now(),
            &actor,
        )
        .by(deps.staff);
    match deps.store.apply(&change).await? {
        ApplyOutcome::Applied => {}
        ApplyOutcome::Conflict => return Err(DepartmentError::Conflict),
    }
    Ok(change.request)
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
    let reason = reason
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if reason
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS)
    {
        return Err(DepartmentError::NoteTooLong);
    }
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
    let actor = format!("department:{department}");
    let change = request
        .hand_back(department, reason, deps.clock.now(), &actor)?
        .by(deps.staff);
    match deps.store.apply(&change).await? {
        ApplyOutcome::Applied => {}
        ApplyOutcome::Conflict => return Err(DepartmentError::Conflict),
    }
    Ok(change.request)
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
    let original = deps
        .store
        .find_by_case_number(original_case)
        .await?
        .filter(|r| r.department.as_ref() == Some(department))
        .ok_or_else(|| DepartmentError::NotFound(original_case.clone()))?;
    let follower = deps
        .store
        .find_by_case_number(follower_case)
        .await?
        .ok_or_else(|| DepartmentError::NotFound(follower_case.clone()))?;
    let actor = format!("department:{department}");
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
        let change = follower.unlink(now, &actor)?.by(deps.staff);
        match deps.store.apply(&change).await? {
            ApplyOutcome::Applied => {}
            ApplyOutcome::Conflict => return Err(DepartmentError::Conflict),
        }
    } else if !unlinked_before {
        return Err(DepartmentError::NotFound(follower_case.clone()));
    }
    // The committed unlink routes the follower (outbox); a retry after a
    // failure below lands in `unlinked_before` and tidies the original.
    let original = match original.drop_follower(&follower.link(), follows, now, &actor) {
        Some(change) => match deps.store.apply(&change.clone().by(deps.staff)).await? {
            ApplyOutcome::Applied => change.request,
            ApplyOutcome::Conflict => return Err(DepartmentError::Conflict),
        },
        None => original,
    };
    Ok(original)
}
