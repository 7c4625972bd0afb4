//! Routing step: the department and due time from the routing rule, the
//! assignment written, then the department's queue and the citizen told.

use tracing::instrument;

use crate::catalogue::{Catalogue, Catalogues};
use crate::ids::RequestId;
use crate::learning::CityModels;
use crate::messages::{AssignmentMessage, PipelineMessage};
use crate::ports::{Clock, DepartmentQueues, PipelineQueue, RequestStore};
use crate::request::ServiceRequest;
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
    match request.status {
        // New, or reopened by its citizen: (re)assign.
        Status::New | Status::Reopened => {}
        Status::Assigned => return resend(deps, &request).await,
        // Handed back by a department, or decided by an operator: route again.
        Status::Triaged if awaits_routing(deps, &request).await? => {}
        other => return Ok(RouteOutcome::NothingToDo(other)),
    }
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
    // The clock of a reopened or handed-back request starts again.
    let clock_start = if request.status == Status::New {
        request.created_at
    } else {
        deps.clock.now()
    };
    let learned = deps.models.get(&request.jurisdiction).map(|m| &m.routes);
    let decision = match route(
        catalogue,
        &service_code,
        request.location.district.as_deref(),
        clock_start,
        learned,
        &request.declined_departments,
    ) {
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

/// A triaged request is routed again only after a hand-back or an operator's choice.
async fn awaits_routing(deps: &Route<'_>, request: &ServiceRequest) -> Result<bool, StepError> {
    if request.service_code.is_none() {
        return Ok(false);
    }
    let history = deps.store.history(&request.id).await?;
    Ok(history.last().is_some_and(|e| match &e.kind {
        crate::request::EventKind::HandedBack { .. } => true,
        crate::request::EventKind::Classified { .. } => e.actor.starts_with("operator:"),
        _ => false,
    }))
}

/// The assignment exists; send its messages again only if it is still the latest event.
async fn resend(deps: &Route<'_>, request: &ServiceRequest) -> Result<RouteOutcome, StepError> {
    let history = deps.store.history(&request.id).await?;
    let latest_is_assignment = history
        .last()
        .is_some_and(|e| matches!(e.kind, crate::request::EventKind::Assigned { .. }));
    if !latest_is_assignment {
        return Ok(RouteOutcome::NothingToDo(request.status));
    }
    announce(deps, request, request.version).await?;
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
