//! HTTP routes of the department API: who acts for which department (one
//! extractor over the one access policy), the work routes, the triage routes.

mod triage;
mod views;
mod work;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::routing::{get, post};
use citydesk_core::audit::StaffStamp;
use citydesk_core::ids::{CaseNumber, DepartmentCode};
use citydesk_core::usecases::department_work::{DepartmentError, DepartmentWork};
use citydesk_core::usecases::staff_access::{
    AccessError, Caller, DepartmentOperation, acting_department,
};
use citydesk_http_api::{ApiError, method_not_allowed, route_not_found};

use crate::Deps;

/// How the audit trail names this API.
const AUDIT_VIA: &str = "department-api";

pub fn router(deps: Arc<Deps>) -> Router {
    const CASE: &str = "/v1/department/assignments/{case_number}";
    Router::new()
        .route("/v1/department/assignments", get(work::list))
        .route(CASE, get(work::read_one))
        .route(&format!("{CASE}/status"), post(work::change_status))
        .route(&format!("{CASE}/notes"), post(work::add_note))
        .route(
            &format!("{CASE}/internal-notes"),
            post(work::add_internal_note),
        )
        .route(&format!("{CASE}/assignee"), post(work::set_assignee))
        .route(&format!("{CASE}/transfer"), post(work::transfer_request))
        .route(&format!("{CASE}/hand-back"), post(work::hand_back_request))
        .route(
            &format!("{CASE}/followers/{{follower}}/unlink"),
            post(work::unlink),
        )
        .route("/v1/department/triage", get(triage::list))
        .route("/v1/department/triage/{case_number}", post(triage::choose))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(deps)
}

/// The department the caller acts for in operation `O`: a department API
/// key's own, or the one a staff member's roles allow (`?department=` chooses
/// when they act for several). 401 without valid credentials, 403 when the
/// roles do not allow it.
struct Acting<O> {
    department: DepartmentCode,
    /// Who, as their changes carry it into the audit trail.
    stamp: StaffStamp,
    caller: Caller,
    operation: std::marker::PhantomData<O>,
}

trait Operation {
    const OPERATION: DepartmentOperation;
}
struct Read;
struct Change;
struct TriageWork;
impl Operation for Read {
    const OPERATION: DepartmentOperation = DepartmentOperation::ReadWork;
}
impl Operation for Change {
    const OPERATION: DepartmentOperation = DepartmentOperation::ChangeWork;
}
impl Operation for TriageWork {
    const OPERATION: DepartmentOperation = DepartmentOperation::Triage;
}

impl<O: Operation> FromRequestParts<Arc<Deps>> for Acting<O> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        deps: &Arc<Deps>,
    ) -> Result<Self, Self::Rejection> {
        let caller = deps.auth.caller(&parts.headers).await?;
        let requested = requested_department(parts.uri.query())?;
        let triage_departments: Vec<DepartmentCode> = deps
            .catalogues
            .iter()
            .filter_map(|c| c.city().triage_department.clone())
            .collect();
        let department = acting_department(
            &caller,
            O::OPERATION,
            requested.as_ref(),
            &triage_departments,
        )
        .map_err(|e| match e {
            AccessError::Ambiguous(_) => ApiError::invalid_field("department", e.to_string()),
            _ => ApiError::forbidden(e.to_string()),
        })?;
        Ok(Self {
            department,
            stamp: caller.stamp(AUDIT_VIA),
            caller,
            operation: std::marker::PhantomData,
        })
    }
}

/// `?department=` of any department endpoint (400 when it is no department code).
fn requested_department(query: Option<&str>) -> Result<Option<DepartmentCode>, ApiError> {
    let Some(raw) = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "department")
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    DepartmentCode::parse(&raw)
        .map(Some)
        .map_err(|e| ApiError::invalid_field("department", e.to_string()))
}

/// `limit` and `cursor` of a list query, checked (400 naming the field).
fn page_request(
    limit: Option<&str>,
    cursor: Option<&str>,
) -> Result<citydesk_core::paging::PageRequest, ApiError> {
    citydesk_core::paging::PageRequest::parse(limit, cursor)
        .map_err(|e| ApiError::invalid_field(e.field(), e.to_string()))
}

/// A case number from the path; a malformed one is a 400 naming the parameter.
fn parse_case(raw: &str, field: &str) -> Result<CaseNumber, ApiError> {
    CaseNumber::parse(raw).map_err(|e| ApiError::invalid_field(field, e.to_string()))
}

fn work<'a>(deps: &'a Deps, staff: &'a StaffStamp, seen: Option<u64>) -> DepartmentWork<'a> {
    DepartmentWork {
        store: deps.store.as_ref(),
        clock: deps.clock.as_ref(),
        staff,
        seen_version: seen,
    }
}

fn department_error(e: DepartmentError) -> ApiError {
    match e {
        DepartmentError::NotFound(_) => ApiError::not_found(e.to_string()),
        DepartmentError::StatusNotAllowed | DepartmentError::StatusFilter => {
            ApiError::invalid_field("status", e.to_string())
        }
        DepartmentError::StatusNoteMissing(..)
        | DepartmentError::NoteTooLong
        | DepartmentError::NoteMissing => ApiError::invalid_field("note", e.to_string()),
        DepartmentError::ReasonMissing | DepartmentError::ReasonTooLong => {
            ApiError::invalid_field("reason", e.to_string())
        }
        DepartmentError::UnknownDepartment(_) | DepartmentError::TransferToSelf(_) => {
            ApiError::unprocessable(Some("department"), "invalid_department", e.to_string())
        }
        DepartmentError::AssigneeInvalid => ApiError::invalid_field("assignee", e.to_string()),
        DepartmentError::AssignOthersNotAllowed => ApiError::forbidden(e.to_string()),
        DepartmentError::Stale { current } => ApiError::stale(current, e.to_string()),
        DepartmentError::NotOpenWork(_)
        | DepartmentError::Illegal(_)
        | DepartmentError::Conflict => ApiError::conflict(e.to_string()),
        DepartmentError::Port(p) => ApiError::dependency(p.retryable, &p),
    }
}
