//! The department portal's work list: filters, due and overdue
//! highlighted, paged, several acknowledged at once (the case page is
//! `case`).

use std::sync::Arc;

use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use citydesk_core::audit::StaffStamp;
use citydesk_core::ids::{CaseNumber, DepartmentCode, ServiceCode};
use citydesk_core::paging::PageRequest;
use citydesk_core::request::ServiceRequest;
use citydesk_core::status::Status;
use citydesk_core::usecases::department_work::{
    AssigneeFilter, DepartmentError, DepartmentWork, DueFilter, DueState, OPEN_WORK_STATUSES,
    StatusUpdate, WorkFilter, due_state, list_assignments, update_status,
};
use citydesk_core::usecases::staff_access::{AccessError, DepartmentOperation, acting_department};
use serde::Serialize;

use super::StaffVisit;
use crate::Deps;
use crate::citizen::status_text;
use crate::forms::PostedForm;

/// How the audit trail names these pages.
pub(super) const AUDIT_VIA: &str = "pages";
const PAGE_SIZE: usize = 25;

/// The department the member of staff acts for in `operation` (`?department=`
/// chooses when they act for several); the page refusing it otherwise.
pub(super) fn acting(
    deps: &Deps,
    staff: &StaffVisit,
    operation: DepartmentOperation,
) -> Result<DepartmentCode, Box<Response>> {
    let requested = staff
        .visit
        .param("department")
        .and_then(|d| DepartmentCode::parse(d).ok());
    let triage: Vec<DepartmentCode> = deps
        .catalogue
        .city()
        .triage_department
        .iter()
        .cloned()
        .collect();
    acting_department(&staff.caller, operation, requested.as_ref(), &triage).map_err(|e| {
        let key = match e {
            AccessError::Ambiguous(_) => "staff_choose_department",
            _ => "staff_forbidden",
        };
        Box::new(staff.visit.error(
            deps,
            StatusCode::FORBIDDEN,
            staff.visit.text(deps, "staff_forbidden_title"),
            staff.visit.text(deps, key),
        ))
    })
}

#[derive(Serialize)]
pub(super) struct Row {
    case_number: String,
    service: String,
    district: String,
    status: String,
    status_label: String,
    due: Option<String>,
    due_state: &'static str,
    assignee: Option<String>,
    created: String,
}

pub(super) fn due_name(state: DueState) -> &'static str {
    match state {
        DueState::Overdue => "overdue",
        DueState::Soon => "soon",
        DueState::Paused => "paused",
        DueState::OnTime => "on_time",
    }
}

pub(super) fn district_name(deps: &Deps, code: Option<&String>) -> String {
    code.map(|c| {
        deps.catalogue
            .districts()
            .iter()
            .find(|d| &d.code == c)
            .map_or_else(|| c.clone(), |d| d.name.clone())
    })
    .unwrap_or_default()
}

pub(super) fn service_name(deps: &Deps, staff: &StaffVisit, code: Option<&ServiceCode>) -> String {
    code.and_then(|c| deps.catalogue.service(c))
        .map(|s| s.name.get(staff.visit.locale.data_language()).to_owned())
        .unwrap_or_default()
}

pub(super) fn row(deps: &Deps, staff: &StaffVisit, r: &ServiceRequest) -> Row {
    Row {
        case_number: r.case_number.to_string(),
        service: service_name(deps, staff, r.service_code.as_ref()),
        district: district_name(deps, r.location.district.as_ref()),
        status: r.status.as_str().to_owned(),
        status_label: status_text(deps, &staff.visit, r.status),
        due: r.due_at.map(|d| deps.renderer.local_time(d)),
        due_state: due_name(due_state(r, deps.clock.now())),
        assignee: r.assignee.clone(),
        created: deps.renderer.local_time(r.created_at),
    }
}

#[derive(Serialize)]
struct Filters {
    status: String,
    due: String,
    district: String,
    service: String,
    assignee: String,
}

#[derive(Serialize)]
struct WorkPage {
    department: String,
    me: String,
    csrf: String,
    rows: Vec<Row>,
    filters: Filters,
    statuses: Vec<(String, String)>,
    districts: Vec<(String, String)>,
    services: Vec<(String, String)>,
    next: Option<String>,
    notice: Option<String>,
}

fn filter_of(staff: &StaffVisit) -> (WorkFilter, Filters) {
    let p = |name| staff.visit.param(name).unwrap_or("").to_owned();
    let shown = Filters {
        status: p("status"),
        due: p("due"),
        district: p("district"),
        service: p("service"),
        assignee: p("assignee"),
    };
    let filter = WorkFilter {
        status: Status::parse(&shown.status).filter(|s| OPEN_WORK_STATUSES.contains(s)),
        due: match shown.due.as_str() {
            "overdue" => Some(DueFilter::Overdue),
            "soon" => Some(DueFilter::Soon),
            _ => None,
        },
        district: Some(shown.district.clone()).filter(|d| !d.is_empty()),
        service: ServiceCode::parse(&shown.service).ok(),
        assignee: match shown.assignee.as_str() {
            "me" => Some(AssigneeFilter::Is(staff.subject())),
            "none" => Some(AssigneeFilter::Nobody),
            _ => None,
        },
    };
    (filter, shown)
}

/// `GET /staff/work`: the department's open work.
pub(super) async fn list(
    State(deps): State<Arc<Deps>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let staff = match StaffVisit::new(&deps, query.as_deref(), &headers, "/staff/work").await {
        Ok(s) => s,
        Err(sign_in) => return sign_in,
    };
    let department = match acting(&deps, &staff, DepartmentOperation::ReadWork) {
        Ok(d) => d,
        Err(refused) => return *refused,
    };
    let (filter, shown) = filter_of(&staff);
    let limit = PAGE_SIZE.to_string();
    let page = match PageRequest::parse(Some(&limit), staff.visit.param("cursor")) {
        Ok(page) => page,
        // A cursor from an old link: the list from its start.
        Err(_) => PageRequest {
            limit: PAGE_SIZE,
            after: None,
        },
    };
    let open = match list_assignments(
        deps.queries.as_ref(),
        &department,
        &filter,
        &page,
        deps.clock.now(),
    )
    .await
    {
        Ok(open) => open,
        Err(e) => return staff.visit.unavailable(&deps, &e),
    };
    let language = staff.visit.locale.data_language();
    let next = open.next.map(|k| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k2, v) in &staff.visit.query {
            if k2 != "cursor" {
                q.append_pair(k2, v);
            }
        }
        q.append_pair("cursor", &k.cursor());
        format!("/staff/work?{}", q.finish())
    });
    let notice = staff.visit.param("acknowledged").map(|n| {
        staff
            .visit
            .text(&deps, "staff_acknowledged")
            .replace("{n}", n)
    });
    let view = WorkPage {
        department: deps.catalogue.department(&department).map_or_else(
            || department.to_string(),
            |d| d.name.get(language).to_owned(),
        ),
        me: staff.subject(),
        csrf: staff.visit.csrf.clone(),
        rows: open.items.iter().map(|r| row(&deps, &staff, r)).collect(),
        filters: shown,
        statuses: OPEN_WORK_STATUSES
            .iter()
            .map(|s| (s.as_str().to_owned(), status_text(&deps, &staff.visit, *s)))
            .collect(),
        districts: deps
            .catalogue
            .districts()
            .iter()
            .map(|d| (d.code.clone(), d.name.clone()))
            .collect(),
        services: deps
            .catalogue
            .services()
            .filter(|s| s.department == department)
            .map(|s| (s.code.to_string(), s.name.get(language).to_owned()))
            .collect(),
        next,
        notice,
    };
    staff.render(
        &deps,
        StatusCode::OK,
        "staff/work.html",
        "/staff/work",
        view,
    )
}

pub(super) fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

pub(super) fn work<'a>(
    deps: &'a Deps,
    stamp: &'a StaffStamp,
    seen: Option<u64>,
) -> DepartmentWork<'a> {
    DepartmentWork {
        store: deps.store.as_ref(),
        clock: deps.clock.as_ref(),
        staff: stamp,
        seen_version: seen,
    }
}

/// `POST /staff/work`: acknowledge the ticked cases.
pub(super) async fn acknowledge_many(
    State(deps): State<Arc<Deps>>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Response {
    let headers = request.headers().clone();
    let staff = match StaffVisit::new(&deps, query.as_deref(), &headers, "/staff/work").await {
        Ok(s) => s,
        Err(sign_in) => return sign_in,
    };
    let form = PostedForm::read(request).await.unwrap_or_default();
    if let Some(refused) = staff.visit.forged(&deps, &headers, &form) {
        return refused;
    }
    let department = match acting(&deps, &staff, DepartmentOperation::ChangeWork) {
        Ok(d) => d,
        Err(refused) => return *refused,
    };
    let stamp = staff.caller.stamp(AUDIT_VIA);
    let mut done = 0;
    for raw in form.all("case").iter().take(PAGE_SIZE) {
        let Ok(case_number) = CaseNumber::parse(raw) else {
            continue;
        };
        let update = StatusUpdate {
            case_number,
            status: Status::Acknowledged,
            note: None,
        };
        match update_status(&work(&deps, &stamp, None), &department, update).await {
            Ok(_) => done += 1,
            // One already moved on (or acknowledged) does not stop the others.
            Err(DepartmentError::Port(p)) => return staff.visit.unavailable(&deps, &p),
            Err(e) => tracing::info!(error = %e, "a case was not acknowledged"),
        }
    }
    see_other(&format!("/staff/work?acknowledged={done}"))
}
