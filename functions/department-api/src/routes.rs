//! HTTP routes of the department API.

use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::routing::{get, post};
use citydesk_core::audit::StaffStamp;
use citydesk_core::ids::{CaseNumber, DepartmentCode, ServiceCode};
use citydesk_core::request::ServiceRequest;
use citydesk_core::status::Status;
use citydesk_core::usecases::department_work::{
    DepartmentError, DepartmentWork, StatusUpdate, hand_back, list_assignments, note_to_citizen,
    unlink_follower, update_status,
};
use citydesk_core::usecases::staff_access::{AccessError, DepartmentOperation, acting_department};
use citydesk_core::usecases::triage::{Triage, TriageError, choose_service, triage_queue};
use citydesk_http_api::{ApiError, JsonBody, method_not_allowed, route_not_found};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::Deps;

/// How the audit trail names this API.
const AUDIT_VIA: &str = "department-api";

pub fn router(deps: Arc<Deps>) -> Router {
    Router::new()
        .route("/v1/department/assignments", get(list))
        .route(
            "/v1/department/assignments/{case_number}/status",
            post(change_status),
        )
        .route(
            "/v1/department/assignments/{case_number}/notes",
            post(add_note),
        )
        .route("/v1/department/triage", get(triage_list))
        .route("/v1/department/triage/{case_number}", post(triage_choose))
        .route(
            "/v1/department/assignments/{case_number}/hand-back",
            post(hand_back_request),
        )
        .route(
            "/v1/department/assignments/{case_number}/followers/{follower}/unlink",
            post(unlink),
        )
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

/// A request as a department clerk sees it (no citizen contact details).
#[derive(Debug, Serialize)]
struct Assignment {
    case_number: String,
    status: String,
    service_code: Option<String>,
    service_name: Option<String>,
    description: String,
    address: Option<String>,
    district: Option<String>,
    lat: Option<f64>,
    long: Option<f64>,
    channel: String,
    created_at: Timestamp,
    due_at: Option<Timestamp>,
    overdue: bool,
    resolution: Option<String>,
    /// Later reports of the same problem (their case numbers).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    followers: Vec<String>,
    /// Every report that follows this one (the list names the first ones).
    follower_count: u64,
    /// Departments that handed it back ("not ours").
    #[serde(skip_serializing_if = "Vec::is_empty")]
    handed_back_by: Vec<String>,
    sla_warned: bool,
}

fn assignment(deps: &Deps, r: &ServiceRequest) -> Assignment {
    let now = deps.clock.now();
    Assignment {
        case_number: r.case_number.to_string(),
        status: r.status.to_string(),
        service_code: r.service_code.as_ref().map(ToString::to_string),
        service_name: r
            .service_code
            .as_ref()
            .and_then(|c| deps.catalogues.get(&r.jurisdiction)?.service(c))
            .map(|s| s.name.get(r.language).to_owned()),
        description: r.description.clone(),
        address: r.location.address.clone(),
        district: r.location.district.clone(),
        lat: r.location.point.map(|p| p.lat),
        long: r.location.point.map(|p| p.long),
        channel: r.channel.as_str().to_owned(),
        created_at: r.created_at,
        due_at: r.due_at,
        overdue: r.breached_sla(now),
        resolution: r.resolution.clone(),
        follower_count: r.followers_total(),
        followers: r
            .followers
            .iter()
            .map(|f| f.case_number.to_string())
            .collect(),
        handed_back_by: r
            .declined_departments
            .iter()
            .map(ToString::to_string)
            .collect(),
        sla_warned: r.sla_warned,
    }
}

#[derive(Debug, Serialize)]
struct AssignmentList {
    department: String,
    /// Items on this page.
    count: usize,
    assignments: Vec<Assignment>,
    /// The cursor of the following page; `null` on the last.
    next: Option<String>,
}

/// `limit` and `cursor` of a list query, checked (400 naming the field).
fn page_request(
    limit: Option<&str>,
    cursor: Option<&str>,
) -> Result<citydesk_core::paging::PageRequest, ApiError> {
    citydesk_core::paging::PageRequest::parse(limit, cursor)
        .map_err(|e| ApiError::invalid_field(e.field(), e.to_string()))
}

fn work<'a>(deps: &'a Deps, staff: &'a StaffStamp) -> DepartmentWork<'a> {
    DepartmentWork {
        store: deps.store.as_ref(),
        clock: deps.clock.as_ref(),
        staff,
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// Read by [`Acting`].
    #[serde(default)]
    #[allow(dead_code)]
    department: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    limit: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

async fn list(
    State(deps): State<Arc<Deps>>,
    Acting { department, .. }: Acting<Read>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<axum::Json<AssignmentList>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::invalid_field("query", e.body_text()))?;
    let status = match query
        .status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(raw) => Some(Status::parse(raw).ok_or_else(|| {
            ApiError::invalid_field(
                "status",
                "status must be one of assigned, acknowledged, in_progress",
            )
        })?),
    };
    let page = page_request(query.limit.as_deref(), query.cursor.as_deref())?;
    let open = list_assignments(deps.queries.as_ref(), &department, status, &page)
        .await
        .map_err(department_error)?;
    Ok(axum::Json(AssignmentList {
        department: department.to_string(),
        count: open.items.len(),
        assignments: open.items.iter().map(|r| assignment(&deps, r)).collect(),
        next: open.next.map(|k| k.cursor()),
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    status: String,
    #[serde(default)]
    note: Option<String>,
}

async fn change_status(
    State(deps): State<Arc<Deps>>,
    Acting {
        department, stamp, ..
    }: Acting<Change>,
    Path(case_number): Path<String>,
    body: JsonBody<StatusBody>,
) -> Result<axum::Json<Assignment>, ApiError> {
    let case_number = parse_case(&case_number, "case_number")?;
    let status = Status::parse(body.value.status.trim()).ok_or_else(|| {
        ApiError::invalid_field(
            "status",
            "status must be one of acknowledged, in_progress, resolved",
        )
    })?;
    let update = StatusUpdate {
        case_number,
        status,
        note: body.value.note,
    };
    let updated = update_status(&work(&deps, &stamp), &department, update)
        .await
        .map_err(department_error)?;
    Ok(axum::Json(assignment(&deps, &updated)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    note: String,
}

/// A message to the citizen about their request (not public).
async fn add_note(
    State(deps): State<Arc<Deps>>,
    Acting {
        department, stamp, ..
    }: Acting<Change>,
    Path(case_number): Path<String>,
    body: JsonBody<NoteBody>,
) -> Result<axum::Json<Assignment>, ApiError> {
    let case_number = parse_case(&case_number, "case_number")?;
    let updated = note_to_citizen(
        &work(&deps, &stamp),
        &department,
        &case_number,
        &body.value.note,
    )
    .await
    .map_err(department_error)?;
    Ok(axum::Json(assignment(&deps, &updated)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HandBackBody {
    #[serde(default)]
    reason: Option<String>,
}

/// "Not ours": the request leaves the department's work and is routed again
/// without it (a person decides when no department is left).
async fn hand_back_request(
    State(deps): State<Arc<Deps>>,
    Acting {
        department, stamp, ..
    }: Acting<Change>,
    Path(case_number): Path<String>,
    body: JsonBody<HandBackBody>,
) -> Result<axum::Json<Assignment>, ApiError> {
    let case_number = parse_case(&case_number, "case_number")?;
    let updated = hand_back(
        &work(&deps, &stamp),
        &department,
        &case_number,
        body.value.reason,
    )
    .await
    .map_err(|e| match e {
        DepartmentError::NoteTooLong => ApiError::invalid_field(
            "reason",
            format!(
                "reason must be at most {} characters",
                citydesk_core::usecases::department_work::MAX_NOTE_CHARS
            ),
        ),
        other => department_error(other),
    })?;
    Ok(axum::Json(assignment(&deps, &updated)))
}

/// A follower is another problem after all: it is routed on its own.
async fn unlink(
    State(deps): State<Arc<Deps>>,
    Acting {
        department, stamp, ..
    }: Acting<Change>,
    Path((case_number, follower)): Path<(String, String)>,
) -> Result<axum::Json<Assignment>, ApiError> {
    let case_number = parse_case(&case_number, "case_number")?;
    let follower = parse_case(&follower, "follower")?;
    let original = unlink_follower(&work(&deps, &stamp), &department, &case_number, &follower)
        .await
        .map_err(department_error)?;
    Ok(axum::Json(assignment(&deps, &original)))
}

/// A case number from the path; a malformed one is a 400 naming the parameter.
fn parse_case(raw: &str, field: &str) -> Result<CaseNumber, ApiError> {
    CaseNumber::parse(raw).map_err(|e| ApiError::invalid_field(field, e.to_string()))
}

fn triage<'a>(deps: &'a Deps, staff: &'a StaffStamp) -> Triage<'a> {
    Triage {
        store: deps.store.as_ref(),
        clock: deps.clock.as_ref(),
        examples: deps.examples.as_ref(),
        catalogues: &deps.catalogues,
        staff,
    }
}

/// A request waiting for an operator, with the classifier's suggestions.
#[derive(Debug, Serialize)]
struct TriageItem {
    case_number: String,
    description: String,
    address: Option<String>,
    district: Option<String>,
    channel: String,
    created_at: Timestamp,
    suggestions: Vec<SuggestionView>,
    handed_back_by: Vec<String>,
}

#[derive(Debug, Serialize)]
struct SuggestionView {
    service_code: String,
    service_name: Option<String>,
    probability: f64,
}

#[derive(Debug, Serialize)]
struct TriageList {
    count: usize,
    requests: Vec<TriageItem>,
    /// The cursor of the following page; `null` on the last.
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    /// Read by [`Acting`].
    #[serde(default)]
    #[allow(dead_code)]
    department: Option<String>,
    #[serde(default)]
    limit: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

async fn triage_list(
    State(deps): State<Arc<Deps>>,
    Acting {
        department, stamp, ..
    }: Acting<TriageWork>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<axum::Json<TriageList>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::invalid_field("query", e.body_text()))?;
    let page = page_request(query.limit.as_deref(), query.cursor.as_deref())?;
    let waiting = triage_queue(
        &triage(&deps, &stamp),
        deps.queries.as_ref(),
        &department,
        &page,
    )
    .await
    .map_err(triage_error)?;
    let next = waiting.next.map(|k| k.cursor());
    let items: Vec<TriageItem> = waiting
        .items
        .iter()
        .map(|r| TriageItem {
            case_number: r.case_number.to_string(),
            description: r.description.clone(),
            address: r.location.address.clone(),
            district: r.location.district.clone(),
            channel: r.channel.as_str().to_owned(),
            created_at: r.created_at,
            suggestions: r
                .suggestions
                .iter()
                .map(|s| SuggestionView {
                    service_code: s.service_code.to_string(),
                    service_name: deps
                        .catalogues
                        .get(&r.jurisdiction)
                        .and_then(|c| c.service(&s.service_code))
                        .map(|x| x.name.get(r.language).to_owned()),
                    probability: s.probability,
                })
                .collect(),
            handed_back_by: r
                .declined_departments
                .iter()
                .map(ToString::to_string)
                .collect(),
        })
        .collect();
    Ok(axum::Json(TriageList {
        count: items.len(),
        requests: items,
        next,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TriageBody {
    service_code: String,
}

#[derive(Debug, Serialize)]
struct TriageDecision {
    case_number: String,
    service_code: String,
    /// Routing follows at once; the request's own view shows where it went.
    status: String,
}

async fn triage_choose(
    State(deps): State<Arc<Deps>>,
    Acting {
        department, stamp, ..
    }: Acting<TriageWork>,
    Path(case_number): Path<String>,
    body: JsonBody<TriageBody>,
) -> Result<axum::Json<TriageDecision>, ApiError> {
    let case_number = parse_case(&case_number, "case_number")?;
    let service_code = ServiceCode::parse(body.value.service_code.trim())
        .map_err(|e| ApiError::invalid_field("service_code", e.to_string()))?;
    let request = choose_service(
        &triage(&deps, &stamp),
        &department,
        &case_number,
        service_code.clone(),
    )
    .await
    .map_err(triage_error)?;
    Ok(axum::Json(TriageDecision {
        case_number: request.case_number.to_string(),
        service_code: service_code.to_string(),
        status: request.status.to_string(),
    }))
}

fn triage_error(e: TriageError) -> ApiError {
    match e {
        TriageError::NotTriageDepartment => ApiError::forbidden(e.to_string()),
        TriageError::NotFound(_) => ApiError::not_found(e.to_string()),
        TriageError::UnknownService(_) => ApiError::invalid_field("service_code", e.to_string()),
        TriageError::Conflict => ApiError::conflict(e.to_string()),
        TriageError::Port(p) => ApiError::dependency(p.retryable, &p),
    }
}

fn department_error(e: DepartmentError) -> ApiError {
    match e {
        DepartmentError::NotFound(_) => ApiError::not_found(e.to_string()),
        DepartmentError::StatusNotAllowed | DepartmentError::StatusFilter => {
            ApiError::invalid_field("status", e.to_string())
        }
        DepartmentError::ResolutionNoteMissing
        | DepartmentError::NoteTooLong
        | DepartmentError::NoteMissing => ApiError::invalid_field("note", e.to_string()),
        DepartmentError::Illegal(_) | DepartmentError::Conflict => {
            ApiError::conflict(e.to_string())
        }
        DepartmentError::Port(p) => ApiError::dependency(p.retryable, &p),
    }
}
