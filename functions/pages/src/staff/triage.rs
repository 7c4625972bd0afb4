//! The triage list, `/staff/triage`: what the classifier was unsure of,
//! oldest first, each with its suggestions as buttons and the whole
//! catalogue beside them; the operator's choice routes the request and is
//! kept as a training example (the core's `triage` use cases).

use std::sync::Arc;

use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use citydesk_core::ids::{CaseNumber, DepartmentCode, ServiceCode};
use citydesk_core::paging::PageRequest;
use citydesk_core::usecases::staff_access::{DepartmentOperation, acting_department};
use citydesk_core::usecases::triage::{Triage, TriageError, choose_service, triage_queue};
use serde::Serialize;

use super::StaffVisit;
use crate::Deps;
use crate::citizen::report::{GroupView, service_list};
use crate::forms::PostedForm;

const AUDIT_VIA: &str = "pages";
const PAGE_SIZE: usize = 25;

#[derive(Serialize)]
struct SuggestionView {
    code: String,
    name: String,
    percent: u32,
}

#[derive(Serialize)]
struct TriageRow {
    case_number: String,
    description: String,
    address: Option<String>,
    channel: String,
    created: String,
    suggestions: Vec<SuggestionView>,
    handed_back_by: Vec<String>,
}

#[derive(Serialize)]
struct TriagePage {
    me: String,
    csrf: String,
    rows: Vec<TriageRow>,
    groups: Vec<GroupView>,
    next: Option<String>,
    notice: Option<String>,
    error: Option<String>,
}

/// The triage department the operator works for, or the refusal page.
fn triage_department(deps: &Deps, staff: &StaffVisit) -> Result<DepartmentCode, Box<Response>> {
    let triage_departments: Vec<DepartmentCode> = deps
        .catalogue
        .city()
        .triage_department
        .iter()
        .cloned()
        .collect();
    acting_department(
        &staff.caller,
        DepartmentOperation::Triage,
        None,
        &triage_departments,
    )
    .map_err(|_| {
        Box::new(staff.visit.error(
            deps,
            StatusCode::FORBIDDEN,
            staff.visit.text(deps, "staff_forbidden_title"),
            staff.visit.text(deps, "staff_triage_not_yours"),
        ))
    })
}

async fn page(
    deps: &Deps,
    staff: &StaffVisit,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let department = match triage_department(deps, staff) {
        Ok(d) => d,
        Err(refused) => return *refused,
    };
    let stamp = staff.caller.stamp(AUDIT_VIA);
    let triage = Triage {
        store: deps.store.as_ref(),
        clock: deps.clock.as_ref(),
        examples: deps.desk.examples.as_ref(),
        catalogues: &deps.catalogues,
        staff: &stamp,
    };
    let limit = PAGE_SIZE.to_string();
    // A cursor that is not one starts from the beginning.
    let request = PageRequest::parse(Some(&limit), staff.visit.param("cursor"))
        .or_else(|_| PageRequest::parse(Some(&limit), None))
        .unwrap_or_default();
    let waiting = match triage_queue(&triage, deps.queries.as_ref(), &department, &request).await {
        Ok(w) => w,
        Err(e) => return staff.visit.unavailable(deps, &e),
    };
    let language = staff.visit.locale.data_language();
    let service_name = |code: &ServiceCode| {
        deps.catalogue
            .service(code)
            .map_or_else(|| code.to_string(), |s| s.name.get(language).to_owned())
    };
    let rows = waiting
        .items
        .iter()
        .map(|r| TriageRow {
            case_number: r.case_number.to_string(),
            description: r.description.clone(),
            address: r.location.address.clone(),
            channel: staff
                .visit
                .text(deps, &format!("channel_{}", r.channel.as_str()))
                .to_owned(),
            created: deps.renderer.local_time(r.created_at),
            suggestions: r
                .suggestions
                .iter()
                .map(|s| SuggestionView {
                    code: s.service_code.to_string(),
                    name: service_name(&s.service_code),
                    percent: (s.probability * 100.0).round().clamp(0.0, 100.0) as u32,
                })
                .collect(),
            handed_back_by: r
                .declined_departments
                .iter()
                .map(|d| {
                    deps.catalogue
                        .department(d)
                        .map_or_else(|| d.to_string(), |x| x.name.get(language).to_owned())
                })
                .collect(),
        })
        .collect();
    let view = TriagePage {
        me: staff.subject(),
        csrf: staff.visit.csrf.clone(),
        rows,
        groups: service_list(deps, &staff.visit),
        next: waiting
            .next
            .map(|k| format!("/staff/triage?cursor={}", k.cursor())),
        // Only a case number is echoed back, never what a link says.
        notice: staff
            .visit
            .param("done")
            .and_then(|c| CaseNumber::parse(c).ok())
            .map(|case| {
                staff
                    .visit
                    .text(deps, "staff_triage_done")
                    .replace("{case}", case.as_str())
            }),
        error,
    };
    staff.render(deps, status, "staff/triage.html", "/staff/triage", view)
}

/// `GET /staff/triage`.
pub(super) async fn list(
    State(deps): State<Arc<Deps>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    match StaffVisit::new(&deps, query.as_deref(), &headers, "/staff/triage").await {
        Ok(staff) => page(&deps, &staff, StatusCode::OK, None).await,
        Err(sign_in) => sign_in,
    }
}

/// `POST /staff/triage/{case}`: the operator's choice of service.
pub(super) async fn choose(
    State(deps): State<Arc<Deps>>,
    Path(raw): Path<String>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Response {
    let headers = request.headers().clone();
    let staff = match StaffVisit::new(&deps, query.as_deref(), &headers, "/staff/triage").await {
        Ok(s) => s,
        Err(sign_in) => return sign_in,
    };
    let form = PostedForm::read(request).await.unwrap_or_default();
    if let Some(refused) = staff.visit.forged(&deps, &headers, &form) {
        return refused;
    }
    let department = match triage_department(&deps, &staff) {
        Ok(d) => d,
        Err(refused) => return *refused,
    };
    let unprocessable = |message: String| {
        page(
            &deps,
            &staff,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(message),
        )
    };
    let Ok(case) = CaseNumber::parse(&raw) else {
        return unprocessable(staff.visit.text(&deps, "staff_case_not_here").to_owned()).await;
    };
    let Ok(service) = ServiceCode::parse(form.text("service_code").unwrap_or("")) else {
        return unprocessable(staff.visit.text(&deps, "staff_triage_choose").to_owned()).await;
    };
    let stamp = staff.caller.stamp(AUDIT_VIA);
    let triage = Triage {
        store: deps.store.as_ref(),
        clock: deps.clock.as_ref(),
        examples: deps.desk.examples.as_ref(),
        catalogues: &deps.catalogues,
        staff: &stamp,
    };
    match choose_service(&triage, &department, &case, service).await {
        Ok(_) => {
            let mut response = StatusCode::SEE_OTHER.into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("/staff/triage?done={case}")) {
                response.headers_mut().insert(header::LOCATION, v);
            }
            response
        }
        Err(TriageError::Port(e)) => staff.visit.unavailable(&deps, &e),
        Err(e @ TriageError::Conflict) => {
            page(&deps, &staff, StatusCode::CONFLICT, Some(e.to_string())).await
        }
        Err(e) => unprocessable(e.to_string()).await,
    }
}
