//! What the department API answers: a case as a department's staff see it
//! (never the citizen's contact details), a page of them, one with its history.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use citydesk_core::request::{HistoryEvent, ServiceRequest};
use citydesk_http_api::etag_of;
use jiff::Timestamp;
use serde::Serialize;

use crate::Deps;

/// A request as a department clerk sees it (no citizen contact details).
#[derive(Debug, Serialize)]
pub struct Assignment {
    case_number: String,
    status: String,
    /// The version for `If-Match` (also the response's `ETag`).
    version: u64,
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
    /// Waiting for the citizen: the SLA clock stands still since then.
    sla_paused_at: Option<Timestamp>,
    /// The staff subject working it; `null`: nobody in particular yet.
    assignee: Option<String>,
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

impl Assignment {
    pub fn of(deps: &Deps, r: &ServiceRequest) -> Self {
        let now = deps.clock.now();
        Assignment {
            case_number: r.case_number.to_string(),
            status: r.status.to_string(),
            version: r.version,
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
            sla_paused_at: r.sla_paused_at,
            assignee: r.assignee.clone(),
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

    /// The case as the answer to a read or a change, with its `ETag`.
    pub fn response(deps: &Deps, r: &ServiceRequest) -> Response {
        with_etag(r.version, axum::Json(Self::of(deps, r)))
    }
}

#[derive(Debug, Serialize)]
pub struct AssignmentList {
    pub department: String,
    /// Items on this page.
    pub count: usize,
    pub assignments: Vec<Assignment>,
    /// The cursor of the following page; `null` on the last.
    pub next: Option<String>,
}

/// One case with its whole history, as staff see it (internal notes, who
/// made each change, reasons), for the case page.
#[derive(Debug, Serialize)]
pub struct CaseView {
    #[serde(flatten)]
    pub assignment: Assignment,
    /// Photos: the stored ones (their keys) and the links a client gave.
    pub media: Vec<citydesk_core::media::MediaRef>,
    pub history: Vec<HistoryEvent>,
}

impl CaseView {
    pub fn response(deps: &Deps, r: &ServiceRequest, history: Vec<HistoryEvent>) -> Response {
        let view = CaseView {
            assignment: Assignment::of(deps, r),
            media: r.media.clone(),
            history,
        };
        with_etag(r.version, axum::Json(view))
    }
}

fn with_etag(version: u64, body: impl IntoResponse) -> Response {
    let mut response = body.into_response();
    if let Ok(value) = HeaderValue::from_str(&etag_of(version)) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}
