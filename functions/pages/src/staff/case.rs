//! The department portal's case page: map, photos, timeline, notes to the
//! resident or internal, status actions, transfer, reject with a reason,
//! assignment. Each change is a form post carrying the case's version, so a
//! case changed since the page was read is refused with the page shown
//! again, never overwritten.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use citydesk_core::ids::{CaseNumber, DepartmentCode};
use citydesk_core::media::MediaRef;
use citydesk_core::request::{EventKind, HistoryEvent};
use citydesk_core::status::Status;
use citydesk_core::usecases::department_work::{
    DepartmentError, StatusUpdate, assign_work, internal_note, note_to_citizen, read_assignment,
    status_choices, transfer, update_status,
};
use citydesk_core::usecases::staff_access::{DepartmentOperation, assign_right};
use serde::Serialize;

use super::StaffVisit;
use crate::Deps;
use crate::citizen::status_text;
use crate::forms::PostedForm;

use super::work::{AUDIT_VIA, Row, acting, row, see_other, service_name, work};
/// How long a photo's link on the case page works.
const PHOTO_LINK_SECS: u64 = 3600;

#[derive(Serialize)]
struct Event {
    at: String,
    who: String,
    what: String,
    note: Option<String>,
    internal: bool,
}

fn event(deps: &Deps, staff: &StaffVisit, e: &HistoryEvent) -> Event {
    let t = |key: &str| staff.visit.text(deps, key).to_owned();
    let dept = |d: &DepartmentCode| {
        deps.catalogue.department(d).map_or_else(
            || d.to_string(),
            |x| x.name.get(staff.visit.locale.data_language()).to_owned(),
        )
    };
    let (what, note, internal) = match &e.kind {
        EventKind::Created { channel } => (
            t("event_received") + " (" + channel.as_str() + ")",
            None,
            false,
        ),
        EventKind::Classified { service_code, .. } => (
            t("event_classified")
                .replace("{service}", &service_name(deps, staff, Some(service_code))),
            None,
            false,
        ),
        EventKind::Assigned { department, due_at } => (
            t("event_assigned")
                .replace("{department}", &dept(department))
                .replace("{due}", &deps.renderer.local_time(*due_at)),
            None,
            false,
        ),
        EventKind::StatusChanged { to, note, .. } => (
            t("event_status").replace("{status}", &status_text(deps, &staff.visit, *to)),
            note.clone(),
            false,
        ),
        EventKind::CitizenUpdate { note } => (t("staff_event_citizen"), Some(note.clone()), false),
        EventKind::NoteToCitizen { note } => {
            (t("staff_event_to_citizen"), Some(note.clone()), false)
        }
        EventKind::InternalNote { note } => (t("staff_event_internal"), Some(note.clone()), true),
        EventKind::HandedBack { department, reason } => (
            t("staff_event_handed_back").replace("{department}", &dept(department)),
            reason.clone(),
            true,
        ),
        EventKind::Transferred { to, reason, .. } => (
            t("event_passed_on").replace("{department}", &dept(to)),
            Some(reason.clone()),
            true,
        ),
        EventKind::AssigneeChanged { assignee, .. } => (
            t("staff_event_assignee")
                .replace("{who}", assignee.as_deref().unwrap_or(&t("staff_nobody"))),
            None,
            true,
        ),
        EventKind::LinkedAsDuplicate { of } => (
            t("event_follows").replace("{case}", of.as_str()),
            None,
            false,
        ),
        EventKind::FollowerAdded { follower } => (
            t("staff_event_follower").replace("{case}", follower.as_str()),
            None,
            false,
        ),
        EventKind::FollowerRemoved { follower } => (
            t("staff_event_follower_removed").replace("{case}", follower.as_str()),
            None,
            false,
        ),
        EventKind::Unlinked { .. } => (t("event_unlinked"), None, false),
        EventKind::SlaWarning { .. } => (t("staff_event_sla_warning"), None, true),
        EventKind::SlaBreached { .. } => (t("staff_event_sla_breached"), None, true),
    };
    Event {
        at: deps.renderer.local_time(e.at),
        who: e.actor.clone(),
        what,
        note,
        internal,
    }
}

#[derive(Serialize)]
struct CasePage {
    me: String,
    row: Row,
    csrf: String,
    version: u64,
    description: String,
    address: Option<String>,
    point: Option<[f64; 2]>,
    answers: Vec<(String, String)>,
    photos: Vec<String>,
    documents: Vec<String>,
    timeline: Vec<Event>,
    status_choices: Vec<(String, String)>,
    departments: Vec<(String, String)>,
    mine: bool,
    may_assign_anyone: bool,
    notice: Option<String>,
    error: Option<String>,
}

async fn case_page(
    deps: &Deps,
    staff: &StaffVisit,
    department: &DepartmentCode,
    case_number: &CaseNumber,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let (request, history) = match read_assignment(
        deps.store.as_ref(),
        &deps.catalogues,
        department,
        case_number,
    )
    .await
    {
        Ok(found) => found,
        Err(DepartmentError::Port(p)) => return staff.visit.unavailable(deps, &p),
        Err(_) => {
            return staff.visit.error(
                deps,
                StatusCode::NOT_FOUND,
                staff.visit.text(deps, "not_found_title"),
                staff.visit.text(deps, "staff_case_not_here"),
            );
        }
    };
    // Photos are shown; a fax's document (PDF, TIFF) is a link to open.
    let mut photos = Vec::new();
    let mut documents = Vec::new();
    for m in &request.media {
        if let MediaRef::Stored {
            key, content_type, ..
        } = m
            && let Ok(link) = deps.media.read_link(key, PHOTO_LINK_SECS).await
        {
            if content_type.starts_with("image/") && content_type != "image/tiff" {
                photos.push(link);
            } else {
                documents.push(link);
            }
        }
    }
    let language = staff.visit.locale.data_language();
    let service = request
        .service_code
        .as_ref()
        .and_then(|c| deps.catalogue.service(c));
    let answers = service
        .map(|s| {
            citydesk_core::usecases::citizen_portal::questions_of(s, language)
                .into_iter()
                .filter_map(|q| {
                    let answer = request.attributes.get(&q.code)?;
                    let keys: Vec<String> = match answer {
                        citydesk_core::service_form::Answer::One(one) => vec![one.clone()],
                        citydesk_core::service_form::Answer::Many(many) => many.clone(),
                    };
                    let labels: Vec<String> = keys
                        .iter()
                        .map(|k| {
                            q.options
                                .iter()
                                .find(|(key, _)| key == k)
                                .map_or_else(|| k.clone(), |(_, label)| label.clone())
                        })
                        .collect();
                    Some((q.label, labels.join(", ")))
                })
                .collect()
        })
        .unwrap_or_default();
    let notice = staff.visit.param("done").map(|d| {
        staff
            .visit
            .text(deps, &format!("staff_done_{d}"))
            .to_owned()
    });
    let me = staff.subject();
    let view = CasePage {
        me: me.clone(),
        row: row(deps, staff, &request),
        csrf: staff.visit.csrf.clone(),
        version: request.version,
        description: request.description.clone(),
        address: request.location.address.clone(),
        point: request.location.point.map(|p| [p.lat, p.long]),
        answers,
        photos,
        documents,
        timeline: history
            .iter()
            .rev()
            .map(|e| event(deps, staff, e))
            .collect(),
        status_choices: status_choices(request.status)
            .into_iter()
            .map(|s| (s.as_str().to_owned(), status_text(deps, &staff.visit, s)))
            .collect(),
        departments: deps
            .catalogue
            .departments()
            .iter()
            .filter(|d| &d.code != department)
            .map(|d| (d.code.to_string(), d.name.get(language).to_owned()))
            .collect(),
        mine: request.assignee.as_deref() == Some(me.as_str()),
        may_assign_anyone: matches!(
            assign_right(&staff.caller, department),
            citydesk_core::usecases::department_work::AssignRight::Anyone
        ),
        notice: notice.filter(|n| !n.starts_with("staff_done_")),
        error,
    };
    staff.render(
        deps,
        status,
        "staff/case.html",
        &format!("/staff/work/{case_number}"),
        view,
    )
}

/// `GET /staff/work/{case}`: one case of the department.
pub(super) async fn case(
    State(deps): State<Arc<Deps>>,
    Path(raw): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let path = format!("/staff/work/{raw}");
    let staff = match StaffVisit::new(&deps, query.as_deref(), &headers, &path).await {
        Ok(s) => s,
        Err(sign_in) => return sign_in,
    };
    let department = match acting(&deps, &staff, DepartmentOperation::ReadWork) {
        Ok(d) => d,
        Err(refused) => return *refused,
    };
    let Ok(case_number) = CaseNumber::parse(&raw) else {
        return staff.visit.error(
            &deps,
            StatusCode::NOT_FOUND,
            staff.visit.text(&deps, "not_found_title"),
            staff.visit.text(&deps, "staff_case_not_here"),
        );
    };
    case_page(
        &deps,
        &staff,
        &department,
        &case_number,
        StatusCode::OK,
        None,
    )
    .await
}

/// `POST /staff/work/{case}`: one action of the case page (`action` names it).
pub(super) async fn change(
    State(deps): State<Arc<Deps>>,
    Path(raw): Path<String>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Response {
    let headers = request.headers().clone();
    let path = format!("/staff/work/{raw}");
    let staff = match StaffVisit::new(&deps, query.as_deref(), &headers, &path).await {
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
    let Ok(case_number) = CaseNumber::parse(&raw) else {
        return see_other("/staff/work");
    };
    let stamp = staff.caller.stamp(AUDIT_VIA);
    let seen = form.text("version").and_then(|v| v.parse().ok());
    let deps_work = work(&deps, &stamp, seen);
    let note = form.text("note").unwrap_or("").to_owned();
    let action = form.text("action").unwrap_or("").to_owned();
    let outcome = match action.as_str() {
        "status" => match form.text("status").and_then(Status::parse) {
            Some(status) => update_status(
                &deps_work,
                &department,
                StatusUpdate {
                    case_number: case_number.clone(),
                    status,
                    note: Some(note).filter(|n| !n.is_empty()),
                },
            )
            .await
            .map(|_| ()),
            None => Err(DepartmentError::StatusNotAllowed),
        },
        "note_to_citizen" => note_to_citizen(&deps_work, &department, &case_number, &note)
            .await
            .map(|_| ()),
        "internal_note" => internal_note(&deps_work, &department, &case_number, &note)
            .await
            .map(|_| ()),
        "assign" => {
            let assignee = match form.text("assignee") {
                Some("me") => Some(staff.subject()),
                Some("nobody") | None => None,
                Some(other) => Some(other.to_owned()),
            };
            let right = assign_right(&staff.caller, &department);
            assign_work(&deps_work, &department, &case_number, assignee, &right)
                .await
                .map(|_| ())
        }
        "transfer" => match form
            .text("department")
            .and_then(|d| DepartmentCode::parse(d).ok())
        {
            Some(to) => transfer(
                &deps_work,
                &deps.catalogues,
                &department,
                &case_number,
                &to,
                &note,
            )
            .await
            .map(|_| ()),
            None => {
                let message = staff.visit.text(&deps, "staff_transfer_choose").to_owned();
                return case_page(
                    &deps,
                    &staff,
                    &department,
                    &case_number,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(message),
                )
                .await;
            }
        },
        _ => Err(DepartmentError::StatusNotAllowed),
    };
    match outcome {
        // A transferred case is no longer this department's: back to the list.
        Ok(()) if action == "transfer" => see_other("/staff/work"),
        Ok(()) => see_other(&format!("/staff/work/{case_number}?done={action}")),
        Err(DepartmentError::Port(p)) => staff.visit.unavailable(&deps, &p),
        Err(e) => {
            let (status, message) = match &e {
                DepartmentError::Stale { .. } | DepartmentError::Conflict => (
                    StatusCode::CONFLICT,
                    staff.visit.text(&deps, "staff_stale").to_owned(),
                ),
                DepartmentError::NotFound(_) => (StatusCode::NOT_FOUND, e.to_string()),
                DepartmentError::AssignOthersNotAllowed => (StatusCode::FORBIDDEN, e.to_string()),
                _ => (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
            };
            case_page(
                &deps,
                &staff,
                &department,
                &case_number,
                status,
                Some(message),
            )
            .await
        }
    }
}
