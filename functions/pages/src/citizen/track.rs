//! The tracking page the confirmation's SMS and e-mail link opens
//! (`/track/{case}?token=…`): status, department, due date, the timeline
//! with the department's notes to the resident, "fixed / not fixed" once it
//! is resolved, and a form to add information. The token authorises; the
//! page is never cached and sends no referrer.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use citydesk_core::ids::CaseNumber;
use citydesk_core::media::MediaRef;
use citydesk_core::status::Status;
use citydesk_core::usecases::citizen_follow_up::{
    CitizenUpdate, FollowUp, FollowUpError, follow_up,
};
use citydesk_core::usecases::citizen_portal::{Milestone, Tracking, track_request};
use serde::Serialize;

use super::Visit;
use crate::Deps;
use crate::forms::PostedForm;

/// How long a photo link on the page works.
const PHOTO_LINK_SECS: u64 = 3600;

#[derive(Serialize)]
struct TrackPage {
    case_number: String,
    token: String,
    just_filed: bool,
    link: String,
    status: String,
    status_label: String,
    service: Option<String>,
    department: Option<String>,
    district: Option<String>,
    address: Option<String>,
    point: Option<[f64; 2]>,
    description: String,
    created_at: String,
    due_at: Option<String>,
    due_iso: Option<String>,
    resolution: Option<String>,
    timeline: Vec<TimelineView>,
    photos: Vec<String>,
    can_confirm_fix: bool,
    waiting_for_you: bool,
    closed: bool,
    notice: Option<String>,
    error: Option<String>,
    note: String,
}

#[derive(Serialize)]
struct TimelineView {
    at: String,
    iso: String,
    what: String,
    note: Option<String>,
    /// Written by the department to the resident.
    from_department: bool,
}

/// A status as pages name it.
pub(crate) fn status_text(deps: &Deps, visit: &Visit, status: Status) -> String {
    visit
        .text(deps, &format!("status_{}", status.as_str()))
        .to_owned()
}

fn timeline(deps: &Deps, visit: &Visit, tracking: &Tracking) -> Vec<TimelineView> {
    tracking
        .timeline
        .iter()
        .map(|e| {
            let t = |key| visit.text(deps, key).to_owned();
            let (what, note, from_department) = match &e.milestone {
                Milestone::Received => (t("event_received"), None, false),
                Milestone::Classified { service } => (
                    t("event_classified").replace("{service}", service),
                    None,
                    false,
                ),
                Milestone::Assigned { department, due_at } => (
                    t("event_assigned")
                        .replace("{department}", department)
                        .replace("{due}", &deps.renderer.local_time(*due_at)),
                    None,
                    false,
                ),
                Milestone::StatusChanged { to, note } => (
                    t("event_status").replace("{status}", &status_text(deps, visit, *to)),
                    note.clone(),
                    note.is_some(),
                ),
                Milestone::FromDepartment { note } => {
                    (t("event_from_department"), Some(note.clone()), true)
                }
                Milestone::FromYou { note } => (t("event_from_you"), Some(note.clone()), false),
                Milestone::FollowsOriginal { original } => {
                    (t("event_follows").replace("{case}", original), None, false)
                }
                Milestone::Unlinked => (t("event_unlinked"), None, false),
                Milestone::PassedOn { department } => match department {
                    Some(d) => (t("event_passed_on").replace("{department}", d), None, false),
                    None => (t("event_rerouted"), None, false),
                },
            };
            TimelineView {
                at: deps.renderer.local_time(e.at),
                iso: e.at.to_string(),
                what,
                note,
                from_department,
            }
        })
        .collect()
}

async fn page(
    deps: &Deps,
    visit: &Visit,
    tracking: Tracking,
    token: &str,
    status: StatusCode,
    error: Option<String>,
    note: String,
) -> Response {
    let mut photos = Vec::new();
    for m in &tracking.photos {
        if let MediaRef::Stored {
            key, content_type, ..
        } = m
            && content_type.starts_with("image/")
            && content_type != "image/tiff"
        {
            match deps.media.read_link(key, PHOTO_LINK_SECS).await {
                Ok(link) => photos.push(link),
                Err(e) => tracing::warn!(error = %e, "a photo link could not be made"),
            }
        }
    }
    let notice = match visit.param("done") {
        Some("fixed") => Some(visit.text(deps, "notice_fixed").to_owned()),
        Some("not_fixed") => Some(visit.text(deps, "notice_not_fixed").to_owned()),
        Some("info") => Some(visit.text(deps, "notice_info").to_owned()),
        _ => None,
    };
    let case = tracking.case_number.to_string();
    let view = TrackPage {
        link: format!("/track/{case}?token={token}"),
        case_number: case.clone(),
        token: token.to_owned(),
        just_filed: visit.param("new").is_some(),
        status: tracking.status.as_str().to_owned(),
        status_label: status_text(deps, visit, tracking.status),
        timeline: timeline(deps, visit, &tracking),
        service: tracking.service,
        department: tracking.department,
        district: tracking.district,
        address: tracking.address,
        point: tracking.point.map(|p| [p.lat, p.long]),
        description: tracking.description,
        created_at: deps.renderer.local_time(tracking.created_at),
        due_at: tracking.due_at.map(|d| deps.renderer.local_time(d)),
        due_iso: tracking.due_at.map(|d| d.to_string()),
        resolution: tracking.resolution,
        photos,
        can_confirm_fix: tracking.can_confirm_fix,
        waiting_for_you: tracking.waiting_for_you,
        closed: tracking.closed,
        notice,
        error,
        note,
    };
    visit.render(
        deps,
        status,
        "citizen/track.html",
        &format!("/track/{case}"),
        view,
    )
}

fn not_yours(deps: &Deps, visit: &Visit, e: &FollowUpError) -> Response {
    match e {
        FollowUpError::Port(p) => visit.unavailable(deps, p),
        FollowUpError::WrongToken => visit.error(
            deps,
            StatusCode::FORBIDDEN,
            visit.text(deps, "track_wrong_link_title"),
            visit.text(deps, "track_wrong_link"),
        ),
        _ => visit.error(
            deps,
            StatusCode::NOT_FOUND,
            visit.text(deps, "not_found_title"),
            visit.text(deps, "track_not_found"),
        ),
    }
}

fn no_such_case(deps: &Deps, visit: &Visit) -> Response {
    visit.error(
        deps,
        StatusCode::NOT_FOUND,
        visit.text(deps, "not_found_title"),
        visit.text(deps, "track_not_found"),
    )
}

/// `GET /track/{case}?token=`.
pub(super) async fn show(
    State(deps): State<Arc<Deps>>,
    Path(case_number): Path<String>,
    RawQuery(query): RawQuery,
    headers: axum::http::HeaderMap,
) -> Response {
    let visit = Visit::new(&deps, query.as_deref(), &headers);
    let Ok(case) = CaseNumber::parse(&case_number) else {
        return no_such_case(&deps, &visit);
    };
    let Some(token) = visit.param("token").map(str::to_owned) else {
        return visit.error(
            &deps,
            StatusCode::UNAUTHORIZED,
            visit.text(&deps, "track_wrong_link_title"),
            visit.text(&deps, "track_no_token"),
        );
    };
    match track_request(
        deps.store.as_ref(),
        &deps.catalogue,
        &case,
        &token,
        visit.locale.data_language(),
    )
    .await
    {
        Ok(tracking) => {
            page(
                &deps,
                &visit,
                tracking,
                &token,
                StatusCode::OK,
                None,
                String::new(),
            )
            .await
        }
        Err(e) => not_yours(&deps, &visit, &e),
    }
}

/// `POST /track/{case}`: the resident's answer (fixed / not fixed) or
/// information. The token in the form authorises it (no cookie does), so a
/// cross-site post cannot act for anybody.
pub(super) async fn update(
    State(deps): State<Arc<Deps>>,
    Path(case_number): Path<String>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Response {
    let headers = request.headers().clone();
    let visit = Visit::new(&deps, query.as_deref(), &headers);
    let Ok(case) = CaseNumber::parse(&case_number) else {
        return no_such_case(&deps, &visit);
    };
    let form = match PostedForm::read(request).await {
        Ok(f) => f,
        Err(e) => {
            return visit.error(
                &deps,
                StatusCode::BAD_REQUEST,
                visit.text(&deps, "form_unreadable"),
                &e.to_string(),
            );
        }
    };
    let token = form.text("token").unwrap_or("").to_owned();
    let note = form.text("note").map(str::to_owned);
    let (fixed, done) = match form.text("answer") {
        Some("fixed") => (Some(true), "fixed"),
        Some("not_fixed") => (Some(false), "not_fixed"),
        _ => (None, "info"),
    };
    let follow = FollowUp {
        store: deps.store.as_ref(),
        clock: deps.clock.as_ref(),
    };
    let update = CitizenUpdate {
        note: note.clone(),
        fixed,
    };
    match follow_up(&follow, &case, &token, update).await {
        Ok(_) => {
            let location = format!(
                "/track/{case}?token={token}&done={done}&lang={}",
                visit.locale.code()
            );
            let mut response = (StatusCode::SEE_OTHER, ()).into_response();
            if let Ok(v) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, v);
            }
            response
        }
        Err(
            e @ (FollowUpError::Empty
            | FollowUpError::NoteTooLong
            | FollowUpError::NotResolved(_)
            | FollowUpError::Illegal(_)
            | FollowUpError::Conflict),
        ) => {
            let message = match &e {
                FollowUpError::Empty => visit.text(&deps, "error_note_missing").to_owned(),
                FollowUpError::Conflict => visit.text(&deps, "error_conflict").to_owned(),
                other => other.to_string(),
            };
            match track_request(
                deps.store.as_ref(),
                &deps.catalogue,
                &case,
                &token,
                visit.locale.data_language(),
            )
            .await
            {
                Ok(tracking) => {
                    page(
                        &deps,
                        &visit,
                        tracking,
                        &token,
                        StatusCode::UNPROCESSABLE_ENTITY,
                        Some(message),
                        note.unwrap_or_default(),
                    )
                    .await
                }
                Err(e) => not_yours(&deps, &visit, &e),
            }
        }
        Err(e) => not_yours(&deps, &visit, &e),
    }
}
