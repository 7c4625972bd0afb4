//! The citizen follows their own request with the tracking token they got at
//! creation: sees the whole history (including notes addressed to them), adds
//! information, and confirms that the problem is fixed or says it is not
//! (which reopens the request and sends it back to the department).

use tracing::instrument;

use crate::ids::CaseNumber;
use crate::ports::{ApplyOutcome, Clock, PortError, RequestStore};
use crate::request::{EventKind, HistoryEvent, ServiceRequest};
use crate::status::{IllegalTransition, Status};

pub const MAX_NOTE_CHARS: usize = 4000;
const ACTOR: &str = "citizen";

pub struct FollowUp<'a> {
    pub store: &'a dyn RequestStore,
    pub clock: &'a dyn Clock,
}

#[derive(Debug, thiserror::Error)]
pub enum FollowUpError {
    #[error("no request with case number {0}")]
    NotFound(CaseNumber),
    #[error("the tracking token does not match this request")]
    WrongToken,
    #[error("send a note, or fixed: true/false, or both")]
    Empty,
    #[error("note must be at most {MAX_NOTE_CHARS} characters")]
    NoteTooLong,
    #[error("only a resolved request can be confirmed as fixed (this one is {0})")]
    NotResolved(Status),
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
    #[error("the request was changed at the same time; please try again")]
    Conflict,
    #[error(transparent)]
    Port(#[from] PortError),
}

/// What the citizen sends.
#[derive(Debug, Clone, Default)]
pub struct CitizenUpdate {
    pub note: Option<String>,
    /// `Some(true)`: the problem is fixed; `Some(false)`: it is not.
    pub fixed: Option<bool>,
}

/// Compares the token's hash with the stored one in constant time.
pub fn token_matches(request: &ServiceRequest, token: &str) -> bool {
    let given = crate::ids::sha256_hex(token.as_bytes());
    let stored = request.tracking_token_hash.as_bytes();
    given.len() == stored.len()
        && given
            .bytes()
            .zip(stored)
            .fold(0_u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

async fn authorised(
    store: &dyn RequestStore,
    case: &CaseNumber,
    token: &str,
) -> Result<ServiceRequest, FollowUpError> {
    let request = store
        .find_by_case_number(case)
        .await?
        .ok_or_else(|| FollowUpError::NotFound(case.clone()))?;
    if token_matches(&request, token) {
        Ok(request)
    } else {
        Err(FollowUpError::WrongToken)
    }
}

/// The request and its whole history, for its citizen.
#[instrument(skip(store, token), fields(case_number = %case))]
pub async fn private_view(
    store: &dyn RequestStore,
    case: &CaseNumber,
    token: &str,
) -> Result<(ServiceRequest, Vec<HistoryEvent>), FollowUpError> {
    let request = authorised(store, case, token).await?;
    let history = store.history(&request.id).await?;
    Ok((request, history))
}

#[instrument(skip(deps, token, update), fields(case_number = %case))]
pub async fn follow_up(
    deps: &FollowUp<'_>,
    case: &CaseNumber,
    token: &str,
    update: CitizenUpdate,
) -> Result<ServiceRequest, FollowUpError> {
    check_note(&update)?;
    let request = authorised(deps.store, case, token).await?;
    apply_follow_up(deps, request, update).await
}

/// The same, on behalf of a citizen by a trusted client application (an Open311
/// client with a valid api_key), which needs no tracking token.
#[instrument(skip(deps, update), fields(case_number = %case))]
pub async fn follow_up_by_client(
    deps: &FollowUp<'_>,
    case: &CaseNumber,
    update: CitizenUpdate,
) -> Result<ServiceRequest, FollowUpError> {
    check_note(&update)?;
    let request = deps
        .store
        .find_by_case_number(case)
        .await?
        .ok_or_else(|| FollowUpError::NotFound(case.clone()))?;
    apply_follow_up(deps, request, update).await
}

fn check_note(update: &CitizenUpdate) -> Result<(), FollowUpError> {
    let note = update
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if note.is_none() && update.fixed.is_none() {
        return Err(FollowUpError::Empty);
    }
    if note.is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS) {
        return Err(FollowUpError::NoteTooLong);
    }
    Ok(())
}

/// How long the same note again counts as a repeat of the first.
const REPEAT_WINDOW: jiff::SignedDuration = jiff::SignedDuration::from_mins(10);

async fn apply_follow_up(
    deps: &FollowUp<'_>,
    mut request: ServiceRequest,
    update: CitizenUpdate,
) -> Result<ServiceRequest, FollowUpError> {
    let note = update
        .note
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    // Check the status change first, so a refused one records nothing.
    let target = match update.fixed {
        Some(true) if request.status == Status::Resolved => Some(Status::Closed),
        Some(true) if request.status == Status::Closed => None,
        Some(true) => return Err(FollowUpError::NotResolved(request.status)),
        Some(false) => {
            request.status.transition_to(Status::Reopened)?;
            Some(Status::Reopened)
        }
        // The information the department asked for: its clock runs again.
        None if request.status == Status::WaitingForCitizen && note.is_some() => {
            Some(Status::InProgress)
        }
        None => None,
    };
    let now = deps.clock.now();
    if let Some(note) = note {
        // The same words again within minutes (a text or mail taken again
        // after a failure further on, a double submit) are added once; the
        // status change a note makes may follow it.
        let history = deps.store.history(&request.id).await?;
        let repeated = history.iter().rev().take(2).any(|event| {
            matches!(&event.kind, EventKind::CitizenUpdate { note: last } if *last == note)
                && now.duration_since(event.at) < REPEAT_WINDOW
        });
        if !repeated {
            let change = request.record(EventKind::CitizenUpdate { note }, now, ACTOR);
            commit(deps.store, &change).await?;
            request = change.request;
        }
    }
    if let Some(to) = target {
        let change = request.move_to(to, None, now, ACTOR)?;
        // A reopened request goes back to routing (the department gets it
        // again with a new due time) from the committed event, via the outbox.
        commit(deps.store, &change).await?;
        request = change.request;
    }
    Ok(request)
}

async fn commit(
    store: &dyn RequestStore,
    change: &crate::request::Change,
) -> Result<(), FollowUpError> {
    match store.apply(change).await? {
        ApplyOutcome::Applied => Ok(()),
        ApplyOutcome::Conflict => Err(FollowUpError::Conflict),
    }
}
