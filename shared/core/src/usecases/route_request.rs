//! Routing step: the department and due time from the routing rule, the
//! assignment written, then the department's queue and the citizen told.

use tracing::instrument;

use crate::catalogue::{Catalogue, Catalogues};
use crate::ids::RequestId;
use crate::learning::CityModels;
use crate::messages::{AssignmentMessage, PipelineMessage};
use crate::ports::{Clock, DepartmentQueues, PipelineQueue, RequestStore};
use crate::request::{EventKind, ServiceRequest};
use crate::rules::routing::{RoutingError, route};
use crate::status::Status;
use crate::usecases::StepError;
use crate::usecases::classify_request::{commit, load};

pub struct Route<'a> {
    pub store: &'a dyn RequestStore,
    pub queue: &'a dyn PipelineQueue,
    pub department_queues: &'a dyn DepartmentQueues,
    pub clock: &'a dyn Clock,
    /// Every city's catalogue; the request's jurisdiction picks one.
    pub catalogues: &'a Catalogues,
    /// Models trained from the cities' history (learned routes), if any.
    pub models: &'a CityModels,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RouteOutcome {
    Assigned {
        department: String,
    },
    /// A repeated delivery found the assignment done; its messages were sent again
    /// (consumers de-duplicate on request id and sequence).
    Resent {
        department: String,
    },
    NothingToDo(Status),
    /// Every department that could take it handed it back: a person decides.
    Triaged,
    /// Another report of an open request (its case number): it follows that one.
    Duplicate {
        original: String,
    },
}

pub const ACTOR: &str = "system:route";

#[instrument(skip(deps), fields(request_id = %request_id))]
pub async fn route_request(
    deps: &Route<'_>,
    request_id: &RequestId,
) -> Result<RouteOutcome, StepError> {
    let request = load(deps.store, request_id).await?;
    let reentry = match request.status {
        // New, or reopened by its citizen: (re)assign.
        Status::New | Status::Reopened => None,
        Status::Assigned => return resend(deps, &request).await,
        Status::Duplicate => return resend_link(deps, &request).await,
        // Handed back by a department, or decided by an operator: route again.
        Status::Triaged => match reentry(deps, &request).await? {
            Some(reentry) => Some(reentry),
            None => return Ok(RouteOutcome::NothingToDo(Status::Triaged)),
        },
        other => return Ok(RouteOutcome::NothingToDo(other)),
    };
    let service_code = request
        .service_code
        .clone()
        .ok_or_else(|| StepError::Poison("request has no service to route by".to_owned()))?;
    let catalogue = catalogue_of(deps, &request)?;
    if request.status == Status::New
        && let Some(outcome) = link_if_duplicate(deps, catalogue, &request).await?
    {
        return Ok(outcome);
    }
    // The clock of a reopened or handed-back request starts again; one an
    // operator placed has been waiting since it came in.
    let clock_start = match (request.status, reentry) {
        (Status::New, _) | (_, Some(Reentry::OperatorChoice)) => request.created_at,
        _ => deps.clock.now(),
    };
    let learned = deps.models.get(&request.jurisdiction).map(|m| &m.routes);
    let route_passing_over = |declined: &[crate::ids::DepartmentCode]| {
        route(
            catalogue,
            &service_code,
            request.location.district.as_deref(),
            clock_start,
            learned,
            declined,
        )
    };
    let routed = match route_passing_over(&request.declined_departments) {
        // A person chose the service knowing every department had declined
        // it: the choice stands over the refusals.
        Err(RoutingError::EveryoneDeclined(_)) if reentry == Some(Reentry::OperatorChoice) => {
            route_passing_over(&[])
        }
        other => other,
    };
    let decision = match routed {
        Ok(decision) => decision,
        Err(RoutingError::EveryoneDeclined(_)) if request.status != Status::Triaged => {
            let change = request
                .move_to(Status::Triaged, None, deps.clock.now(), ACTOR)
                .map_err(|e| StepError::Poison(e.to_string()))?;
            commit(deps.store, &change).await?;
            tracing::info!("every department handed it back: left for triage");
            return Ok(RouteOutcome::Triaged);
        }
        Err(RoutingError::EveryoneDeclined(_)) => return Ok(RouteOutcome::Triaged),
        Err(e) => return Err(StepError::Poison(e.to_string())),
    };
    let sla_hours = catalogue.service(&service_code).map_or(0, |s| s.sla_hours);
    let warning_at = catalogue.due_after(
        clock_start,
        // Whole hours: the warning is never later than the share says.
        (f64::from(sla_hours) * catalogue.sla_warning_share()).floor() as u32,
    );
    let change = request
        .assign(
            decision.department.code.clone(),
            decision.due_at,
            warning_at,
            deps.clock.now(),
            ACTOR,
        )
        .map_err(|e| StepError::Poison(e.to_string()))?;
    tracing::info!(basis = ?decision.basis, "route chosen");
    commit(deps.store, &change).await?;
    announce(deps, &change.request, change.event.seq).await?;
    Ok(RouteOutcome::Assigned {
        department: decision.department.code.to_string(),
    })
}

/// Links a new report to the open request it repeats (per the service's
/// duplicate settings): the original gains a follower, this one becomes a
/// duplicate and its citizen is told. Safe to repeat: the follower is added once.
async fn link_if_duplicate(
    deps: &Route<'_>,
    catalogue: &Catalogue,
    request: &ServiceRequest,
) -> Result<Option<RouteOutcome>, StepError> {
    let Some(settings) = request
        .service_code
        .as_ref()
        .and_then(|c| catalogue.service(c))
        .and_then(|s| s.duplicates)
    else {
        return Ok(None);
    };
    if request.location.point.is_none() {
        return Ok(None);
    }
    let window = jiff::SignedDuration::from_hours(i64::from(settings.window_hours));
    let from = request
        .created_at
        .saturating_sub(window)
        .unwrap_or(request.created_at);
    let to = request
        .created_at
        .saturating_add(jiff::SignedDuration::from_millis(1))
        .unwrap_or(request.created_at);
    let candidates = deps.store.created_between(from, to).await?;
    let Some(original) = crate::rules::duplicates::original_of(request, &candidates, &settings)
    else {
        return Ok(None);
    };
    let now = deps.clock.now();
    if let Some(change) = original.add_follower(request.link(), now, ACTOR) {
        commit(deps.store, &change).await?;
    }
    let change = request
        .link_as_duplicate(original.link(), now, ACTOR)
        .map_err(|e| StepError::Poison(e.to_string()))?;
    commit(deps.store, &change).await?;
    deps.queue
        .send(&PipelineMessage::StatusChanged {
            request_id: request.id.clone(),
            seq: change.event.seq,
        })
        .await?;
    tracing::info!(original = %original.id, "linked as a duplicate");
    Ok(Some(RouteOutcome::Duplicate {
        original: original.case_number.to_string(),
    }))
}

/// Why a triaged request comes back to routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reentry {
    HandedBack,
    OperatorChoice,
}

/// A triaged request is routed again only after a hand-back or an operator's choice.
async fn reentry(deps: &Route<'_>, request: &ServiceRequest) -> Result<Option<Reentry>, StepError> {
    if request.service_code.is_none() {
        return Ok(None);
    }
    let history = deps.store.history(&request.id).await?;
    Ok(history.last().and_then(|e| match &e.kind {
        EventKind::HandedBack { .. } => Some(Reentry::HandedBack),
        EventKind::Classified { .. } if e.actor.starts_with("operator:") => {
            Some(Reentry::OperatorChoice)
        }
        _ => None,
    }))
}

/// The assignment exists; send its messages again unless the request has
/// moved on since (events that change no status, such as a follower added,
/// do not count).
async fn resend(deps: &Route<'_>, request: &ServiceRequest) -> Result<RouteOutcome, StepError> {
    let history = deps.store.history(&request.id).await?;
    let Some(assigned) = history
        .iter()
        .rposition(|e| matches!(e.kind, EventKind::Assigned { .. }))
    else {
        return Ok(RouteOutcome::NothingToDo(request.status));
    };
    let moved_on = history[assigned + 1..].iter().any(|e| {
        matches!(
            e.kind,
            EventKind::StatusChanged { .. }
                | EventKind::HandedBack { .. }
                | EventKind::Assigned { .. }
        )
    });
    if moved_on {
        return Ok(RouteOutcome::NothingToDo(request.status));
    }
    announce(deps, request, history[assigned].seq).await?;
    Ok(RouteOutcome::Resent {
        department: request
            .department
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
    })
}

fn catalogue_of<'a>(
    deps: &Route<'a>,
    request: &ServiceRequest,
) -> Result<&'a Catalogue, StepError> {
    deps.catalogues.get(&request.jurisdiction).ok_or_else(|| {
        StepError::Poison(format!(
            "jurisdiction {} is not served here",
            request.jurisdiction
        ))
    })
}

/// The link exists (a repeated delivery, or the citizen's message failed to
/// go out): tell the citizen again; the notify step sends it once.
async fn resend_link(
    deps: &Route<'_>,
    request: &ServiceRequest,
) -> Result<RouteOutcome, StepError> {
    let history = deps.store.history(&request.id).await?;
    let Some(link) = history
        .iter()
        .rev()
        .find(|e| e.actor == ACTOR && matches!(e.kind, EventKind::LinkedAsDuplicate { .. }))
    else {
        return Ok(RouteOutcome::NothingToDo(request.status));
    };
    deps.queue
        .send(&PipelineMessage::StatusChanged {
            request_id: request.id.clone(),
            seq: link.seq,
        })
        .await?;
    Ok(RouteOutcome::NothingToDo(Status::Duplicate))
}

async fn announce(deps: &Route<'_>, request: &ServiceRequest, seq: u64) -> Result<(), StepError> {
    let (Some(department), Some(service_code), Some(due_at)) =
        (&request.department, &request.service_code, request.due_at)
    else {
        return Err(StepError::Poison(
            "assigned request lacks department, service or due time".into(),
        ));
    };
    let queue_name = catalogue_of(deps, request)?
        .department(department)
        .map(|d| d.queue.clone())
        .ok_or_else(|| {
            StepError::Poison(format!("department {department} is not in the catalogue"))
        })?;
    deps.department_queues
        .send_assignment(
            &queue_name,
            &AssignmentMessage {
                request_id: request.id.clone(),
                case_number: request.case_number.clone(),
                service_code: service_code.clone(),
                department: department.clone(),
                due_at,
                district: request.location.district.clone(),
                point: request.location.point,
                seq,
                sla_alert: None,
            },
        )
        .await?;
    deps.queue
        .send(&PipelineMessage::StatusChanged {
            request_id: request.id.clone(),
            seq,
        })
        .await?;
    tracing::info!(department = %department, "assigned");
    Ok(())
}
