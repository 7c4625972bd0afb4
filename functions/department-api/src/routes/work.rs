//! The department's work: the filtered list, one case, and its changes.
//! Every change takes `If-Match` (the `ETag` of the case as last read) and
//! answers the changed case with its new `ETag`.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use citydesk_core::ids::{DepartmentCode, ServiceCode};
use citydesk_core::status::Status;
use citydesk_core::usecases::department_work::{
    AssigneeFilter, DepartmentError, DueFilter, StatusUpdate, WorkFilter, assign_work, hand_back,
    internal_note, list_assignments, note_to_citizen, read_assignment, transfer, unlink_follower,
    update_status,
};
use citydesk_core::usecases::staff_access::assign_right;
use citydesk_http_api::{ApiError, JsonBody, if_match_version};
use serde::Deserialize;

use super::views::{Assignment, AssignmentList, CaseView};
use super::{Acting, Change, Read, department_error, page_request, parse_case, work};
use crate::Deps;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ListQuery {
    /// Read by [`Acting`].
    #[serde(default)]
    #[allow(dead_code)]
    department: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    due: Option<String>,
    #[serde(default)]
    district: Option<String>,
    #[serde(default)]
    service_code: Option<String>,
    #[serde(default)]
    assignee: Option<String>,
    #[serde(default)]
    limit: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The list's filters from the query (400 naming the parameter).
fn work_filter(query: &ListQuery, me: &str) -> Result<WorkFilter, ApiError> {
    let status = given(&query.status)
        .map(|raw| {
            Status::parse(raw).ok_or_else(|| {
                ApiError::invalid_field(
                    "status",
                    "status must be one of assigned, acknowledged, in_progress, waiting_for_citizen",
                )
            })
        })
        .transpose()?;
    let due = given(&query.due)
        .map(|raw| match raw {
            "overdue" => Ok(DueFilter::Overdue),
            "soon" => Ok(DueFilter::Soon),
            _ => Err(ApiError::invalid_field(
                "due",
                "due must be overdue or soon",
            )),
        })
        .transpose()?;
    let service = given(&query.service_code)
        .map(|raw| {
            ServiceCode::parse(raw)
                .map_err(|e| ApiError::invalid_field("service_code", e.to_string()))
        })
        .transpose()?;
    let assignee = given(&query.assignee).map(|raw| match raw {
        "me" => AssigneeFilter::Is(me.to_owned()),
        "none" => AssigneeFilter::Nobody,
        subject => AssigneeFilter::Is(subject.to_owned()),
    });
    Ok(WorkFilter {
        status,
        due,
        district: given(&query.district).map(str::to_owned),
        service,
        assignee,
    })
}

pub(super) async fn list(
    State(deps): State<Arc<Deps>>,
    acting: Acting<Read>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<axum::Json<AssignmentList>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::invalid_field("query", e.body_text()))?;
    let filter = work_filter(&query, &acting.stamp.subject)?;
    let page = page_request(query.limit.as_deref(), query.cursor.as_deref())?;
    let open = list_assignments(
        deps.queries.as_ref(),
        &acting.department,
        &filter,
        &page,
        deps.clock.now(),
    )
    .await
    .map_err(department_error)?;
    Ok(axum::Json(AssignmentList {
        department: acting.department.to_string(),
        count: open.items.len(),
        assignments: open
            .items
            .iter()
            .map(|r| Assignment::of(&deps, r))
            .collect(),
        next: open.next.map(|k| k.cursor()),
    }))
}

/// One case with its history; its `ETag` is what a change's `If-Match` names.
pub(super) async fn read_one(
    State(deps): State<Arc<Deps>>,
    acting: Acting<Read>,
    Path(case_number): Path<String>,
) -> Result<Response, ApiError> {
    let case_number = parse_case(&case_number, "case_number")?;
    let (request, history) = read_assignment(
        deps.store.as_ref(),
        &deps.catalogues,
        &acting.department,
        &case_number,
    )
    .await
    .map_err(department_error)?;
    Ok(CaseView::response(&deps, &request, history))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StatusBody {
    status: String,
    #[serde(default)]
    note: Option<String>,
}

pub(super) async fn change_status(
    State(deps): State<Arc<Deps>>,
    acting: Acting<Change>,
    headers: HeaderMap,
    Path(case_number): Path<String>,
    body: JsonBody<StatusBody>,
) -> Result<Response, ApiError> {
    let case_number = parse_case(&case_number, "case_number")?;
    let status = Status::parse(body.value.status.trim()).ok_or_else(|| {
        ApiError::invalid_field("status", DepartmentError::StatusNotAllowed.to_string())
    })?;
    let update = StatusUpdate {
        case_number,
        status,
        note: body.value.note,
    };
    let seen = if_match_version(&headers)?;
    let updated = update_status(
        &work(&deps, &acting.stamp, seen),
        &acting.department,
        update,
    )
    .await
    .map_err(department_error)?;
    Ok(Assignment::response(&deps, &updated))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NoteBody {
    note: String,
}

/// A message to the citizen about their request (not public).
pub(super) async fn add_note(
    State(deps): State<Arc<Deps>>,
    acting: Acting<Change>,
    headers: HeaderMap,
    Path(case_number): Path<String>,
    body: JsonBody<NoteBody>,
) -> Result<Response, ApiError> {
    let case_number = parse_case(&case_number, "case_number")?;
    let seen = if_match_version(&headers)?;
    let updated = note_to_citizen(
        &work(&deps, &acting.stamp, seen),
        &acting.department,
        &case_number,
        &body.value.note,
    )
    .await
    .map_err(department_error)?;
    Ok(Assignment::response(&deps, &updated))
}

/// A note among staff: never shown to the citizen; nobody is notified.
pub(super) async fn add_internal_note(
    State(deps): State<Arc<Deps>>,
    acting: Acting<Change>,
    headers: HeaderMap,
    Path(case_number): Path<String>,
    body: JsonBody<NoteBody>,
) -> Result<Response, ApiError> {
    let case_number = parse_case(&case_number, "case_number")?;
    let seen = if_match_version(&headers)?;
    let updated = internal_note(
        &work(&deps, &acting.stamp, seen),
        &acting.department,
        &case_number,
        &body.value.note,
    )
    .await
    .map_err(department_error)?;
    Ok(Assignment::response(&deps, &updated))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AssigneeBody {
    /// A staff subject, `"me"`, or `null` for nobody in particular.
    assignee: Option<String>,
}

/// Claim a case (`"me"`), give it to a colleague (the head), or release it.
pub(super) async fn set_assignee(
    State(deps): State<Arc<Deps>>,
    acting: Acting<Change>,
    headers: HeaderMap,
    Path(case_number): Path<String>,
    body: JsonBody<AssigneeBody>,
) -> Result<Response, ApiError> {
    let case_number = parse_case(&case_number, "case_number")?;
    let seen = if_match_version(&headers)?;
    let right = assign_right(&acting.caller, &acting.department);
    let assignee = body.value.assignee.map(|a| {
        if a.trim() == "me" {
            acting.stamp.subject.clone()
        } else {
            a
        }
    });
    let updated = assign_work(
        &work(&deps, &acting.stamp, seen),
        &acting.department,
        &case_number,
        assignee,
        &right,
    )
    .await
    .map_err(department_error)?;
    Ok(Assignment::response(&deps, &updated))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TransferBody {
    department: String,
    reason: String,
}

/// To another department of the city, with the reason (for staff): routing
/// assigns it there with the service's SLA.
pub(super) async fn transfer_request(
    State(deps): State<Arc<Deps>>,
    acting: Acting<Change>,
    headers: HeaderMap,
    Path(case_number): Path<String>,
    body: JsonBody<TransferBody>,
) -> Result<Response, ApiError> {
    let case_number = parse_case(&case_number, "case_number")?;
    let to = DepartmentCode::parse(body.value.department.trim())
        .map_err(|e| ApiError::invalid_field("department", e.to_string()))?;
    let seen = if_match_version(&headers)?;
    let updated = transfer(
        &work(&deps, &acting.stamp, seen),
        &deps.catalogues,
        &acting.department,
        &case_number,
        &to,
        &body.value.reason,
    )
    .await
    .map_err(department_error)?;
    Ok(Assignment::response(&deps, &updated))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct HandBackBody {
    #[serde(default)]
    reason: Option<String>,
}

/// "Not ours": the request leaves the department's work and is routed again
/// without it (a person decides when no department is left).
pub(super) async fn hand_back_request(
    State(deps): State<Arc<Deps>>,
    acting: Acting<Change>,
    headers: HeaderMap,
    Path(case_number): Path<String>,
    body: JsonBody<HandBackBody>,
) -> Result<Response, ApiError> {
    let case_number = parse_case(&case_number, "case_number")?;
    let seen = if_match_version(&headers)?;
    let updated = hand_back(
        &work(&deps, &acting.stamp, seen),
        &acting.department,
        &case_number,
        body.value.reason,
    )
    .await
    .map_err(department_error)?;
    Ok(Assignment::response(&deps, &updated))
}

/// A follower is another problem after all: it is routed on its own.
pub(super) async fn unlink(
    State(deps): State<Arc<Deps>>,
    acting: Acting<Change>,
    headers: HeaderMap,
    Path((case_number, follower)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let case_number = parse_case(&case_number, "case_number")?;
    let follower = parse_case(&follower, "follower")?;
    let seen = if_match_version(&headers)?;
    let original = unlink_follower(
        &work(&deps, &acting.stamp, seen),
        &acting.department,
        &case_number,
        &follower,
    )
    .await
    .map_err(department_error)?;
    Ok(Assignment::response(&deps, &original))
}
