//! Routing step: the department and due time from the routing rule, the
//! assignment written, then the department's queue and the citizen told.

use tracing::instrument;

use crate::catalogue::{Catalogue, Catalogues};
use crate::ids::RequestId;
use crate::messages::{AssignmentMessage, PipelineMessage};
use crate::ports::{Clock, DepartmentQueues, PipelineQueue, RequestStore};
use crate::request::ServiceRequest;
use crate::rules::routing::route;
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
        other => return Ok(RouteOutcome::NothingToDo(other)),
    }
    let service_code = request
        .service_code
        .clone()
        .ok_or_else(|| StepError::Poison("request has no service to route by".to_owned()))?;
    let catalogue = catalogue_of(deps, &request)?;
    let decision = route(
        catalogue,
        &service_code,
        request.location.district.as_deref(),
        // The clock of a reopened request starts again.
        if request.status == Status::Reopened {
            deps.clock.now()
        } else {
            request.created_at
        },
    )
    .map_err(|e| StepError::Poison(e.to_string()))?;
    let change = request
        .assign(
            decision.department.code.clone(),
            decision.due_at,
            deps.clock.now(),
            ACTOR,
        )
        .map_err(|e| StepError::Poison(e.to_string()))?;
    commit(deps.store, &change).await?;
    announce(deps, &change.request, change.event.seq).await?;
    Ok(RouteOutcome::Assigned {
        department: decision.department.code.to_string(),
    })
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
