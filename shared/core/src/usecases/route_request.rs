//! Routing step: the department and due time from the routing rule, and the
//! assignment written. The department's queue and the citizen hear of it from
//! the committed `assigned` event, through the outbox.

use tracing::instrument;

use crate::catalogue::{Catalogue, Catalogues};
use crate::ids::RequestId;
use crate::learning::CityModels;
use crate::ports::{Clock, RequestStore};
use crate::request::{EventKind, ServiceRequest};
use crate::rules::routing::{RoutingCase, RoutingError, route};
use crate::status::Status;
use crate::usecases::StepError;
use crate::usecases::classify_request::{commit, load};

pub struct Route<'a> {
    pub store: &'a dyn RequestStore,
    /// Duplicate candidates, read by place.
    pub queries: &'a dyn crate::ports::RequestQueries,
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
    super::again_on_conflict(|| route_once(deps, request_id)).await
}

async fn route_once(deps: &Route<'_>, request_id: &RequestId) -> Result<RouteOutcome, StepError> {
    let request = load(deps.store, request_id).await?;
    let reentry = match request.status {
        // New, or reopened by its citizen: (re)assign.
        Status::New | Status::Reopened => None,
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
            &RoutingCase {
                service: &service_code,
                district: request.location.district.as_deref(),
                text: &request.description,
                received_at: clock_start,
            },
            learned,
            declined,
        )
    };
    let transfer_target = match (reentry, &request.transfer_to) {
        (Some(Reentry::Transferred), Some(to)) => catalogue.department(to),
        _ => None,
    };
    let routed = match transfer_target {
        // A department passed it on by name: that one gets it, with the service's SLA.
        Some(target) => Ok(crate::rules::routing::RoutingDecision {
            department: target,
            due_at: catalogue.due_after(
                clock_start,
                catalogue.service(&service_code).map_or(0, |s| s.sla_hours),
            ),
            basis: crate::rules::routing::RouteBasis::Transfer,
        }),
        None => route_passing_over(&request.declined_departments),
    };
    let routed = match routed {
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
    tracing::info!(department = %decision.department.code, "assigned");
    Ok(RouteOutcome::Assigned {
        department: decision.department.code.to_string(),
    })
}

/// Links a new report to the open request it repeats (the one the resident
/// chose, else per the service's duplicate settings): the original gains a follower, this one becomes a
/// duplicate and its citizen is told. Safe to repeat: the follower is added once.
async fn link_if_duplicate(
    deps: &Route<'_>,
    catalogue: &Catalogue,
    request: &ServiceRequest,
) -> Result<Option<RouteOutcome>, StepError> {
    let original = match chosen_original(deps, catalogue, request).await? {
        Some(chosen) => Some(chosen),
        None => nearby_original(deps, catalogue, request).await?,
    };
    let Some(original) = original else {
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
    tracing::info!(original = %original.id, "linked as a duplicate");
    Ok(Some(RouteOutcome::Duplicate {
        original: original.case_number.to_string(),
    }))
}

/// The open report the resident chose to follow ("me too"), whatever the
/// distance: of this city and service, still open, and not itself another
/// report of one (then the one it follows), and public: the resident can
/// only have seen it on the map if the visibility policy shows it (a case
/// number typed into a crafted form gains nothing else). A choice that no
/// longer holds (it was closed meanwhile) is routed as a new report.
async fn chosen_original(
    deps: &Route<'_>,
    catalogue: &Catalogue,
    request: &ServiceRequest,
) -> Result<Option<ServiceRequest>, StepError> {
    let Some(case) = &request.follows else {
        return Ok(None);
    };
    let mut found = deps.store.find_by_case_number(case).await?;
    if let Some(link) = found.as_ref().and_then(|f| f.duplicate_of.clone()) {
        found = deps.store.get(&link.request_id).await?;
    }
    Ok(found.filter(|o| {
        o.id != request.id
            && o.jurisdiction == request.jurisdiction
            && o.service_code.is_some()
            && o.service_code == request.service_code
            && crate::rules::duplicates::is_open_original(o.status)
            && !crate::visibility::disclose(catalogue, crate::visibility::Audience::Public, o, &[])
                .private_report
    }))
}

/// The open report of the same service this one repeats by the service's
/// duplicate settings (radius and window).
async fn nearby_original(
    deps: &Route<'_>,
    catalogue: &Catalogue,
    request: &ServiceRequest,
) -> Result<Option<ServiceRequest>, StepError> {
    let Some(settings) = request
        .service_code
        .as_ref()
        .and_then(|c| catalogue.service(c))
        .and_then(|s| s.duplicates)
    else {
        return Ok(None);
    };
    let (Some(point), Some(service_code)) = (request.location.point, &request.service_code) else {
        return Ok(None);
    };
    let window = jiff::SignedDuration::from_hours(i64::from(settings.window_hours));
    // Open reports of this service near here, by place: a bounded read
    // however many requests the day has.
    let near = crate::paging::NearbyOpen {
        jurisdiction: request.jurisdiction.clone(),
        service_code: service_code.clone(),
        point,
        radius_m: settings.radius_m,
        created_from: request
            .created_at
            .saturating_sub(window)
            .unwrap_or(request.created_at),
    };
    let candidates = deps.queries.open_near(&near).await?;
    Ok(crate::rules::duplicates::original_of(request, &candidates, &settings).cloned())
}

/// Why a triaged request comes back to routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reentry {
    HandedBack,
    OperatorChoice,
    /// A department transferred it to another by name.
    Transferred,
}

/// A triaged request is routed again only after a hand-back or an operator's choice.
async fn reentry(deps: &Route<'_>, request: &ServiceRequest) -> Result<Option<Reentry>, StepError> {
    if request.service_code.is_none() {
        return Ok(None);
    }
    let history = deps.store.history(&request.id).await?;
    // Notes and follower changes since do not count (a citizen may write
    // between the hand-back and the routing).
    let last_step = history.iter().rev().find(|e| {
        !matches!(
            e.kind,
            EventKind::CitizenUpdate { .. }
                | EventKind::NoteToCitizen { .. }
                | EventKind::InternalNote { .. }
                | EventKind::AssigneeChanged { .. }
                | EventKind::FollowerAdded { .. }
                | EventKind::FollowerRemoved { .. }
        )
    });
    Ok(last_step.and_then(|e| match &e.kind {
        EventKind::HandedBack { .. } => Some(Reentry::HandedBack),
        EventKind::Transferred { .. } => Some(Reentry::Transferred),
        EventKind::Classified { .. } if e.actor.starts_with("operator:") => {
            Some(Reentry::OperatorChoice)
        }
        _ => None,
    }))
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
