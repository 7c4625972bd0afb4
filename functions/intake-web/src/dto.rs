//! The wire shapes of the web intake, and their conversion into domain types
//! (the new request's body is `citydesk_http_api::citizen_request`, shared
//! with the operators' registration on a caller's behalf).

pub use citydesk_http_api::citizen_request::CreateRequestBody;

use citydesk_core::catalogue::Catalogue;
use citydesk_core::request::{EventKind, HistoryEvent, ServiceRequest};
use citydesk_core::service_form::Answer;
use citydesk_core::visibility::{Audience, Disclosed, disclose};
use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// `POST /v1/uploads`: ask where to upload a photo.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadBody {
    pub content_type: String,
    pub bytes: u64,
}

#[derive(Debug, Serialize)]
pub struct UploadTicket {
    pub media_key: String,
    pub upload_url: String,
    pub method: &'static str,
    pub content_type: String,
    /// The PUT must carry exactly this many bytes (the link is signed for it).
    pub bytes: u64,
    pub expires_at: Timestamp,
}

/// The answer to a submission. The tracking token is shown to the citizen only here.
#[derive(Debug, Serialize)]
pub struct Created {
    pub id: String,
    pub case_number: String,
    pub status: String,
    pub tracking_token: String,
}

/// A request as `citydesk_core::visibility` lets one audience see it: for
/// the public, no personal data (see that module's table).
#[derive(Debug, Serialize)]
pub struct PublicView {
    pub case_number: String,
    pub status: String,
    pub service_code: Option<String>,
    pub service_name: Option<String>,
    pub department: Option<String>,
    pub department_name: Option<String>,
    pub district: Option<String>,
    pub channel: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub due_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    pub resolution: Option<String>,
    /// Redacted for the public, and only of public services.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Coarsened for the public where the service's location is sensitive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub long: Option<f64>,
    pub history: Vec<PublicEvent>,
}

#[derive(Debug, Serialize)]
pub struct PublicEvent {
    pub at: Timestamp,
    pub event: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl PublicView {
    /// What anybody may see.
    pub fn new(catalogue: &Catalogue, request: &ServiceRequest, history: &[HistoryEvent]) -> Self {
        Self::of(
            catalogue,
            &disclose(catalogue, Audience::Public, request, history),
        )
    }

    fn of(catalogue: &Catalogue, disclosed: &Disclosed) -> Self {
        let request = &disclosed.request;
        let lang = request.language;
        let service = request
            .service_code
            .as_ref()
            .and_then(|c| catalogue.service(c));
        let department = request
            .department
            .as_ref()
            .and_then(|d| catalogue.department(d));
        Self {
            case_number: request.case_number.to_string(),
            status: request.status.to_string(),
            service_code: request.service_code.as_ref().map(ToString::to_string),
            service_name: service.map(|s| s.name.get(lang).to_owned()),
            department: request.department.as_ref().map(ToString::to_string),
            department_name: department.map(|d| d.name.get(lang).to_owned()),
            district: request.location.district.clone(),
            channel: request.channel.as_str().to_owned(),
            created_at: request.created_at,
            updated_at: request.updated_at,
            due_at: request.due_at,
            resolved_at: request.resolved_at,
            resolution: request.resolution.clone(),
            description: Some(request.description.clone()).filter(|d| !d.is_empty()),
            address: request.location.address.clone(),
            lat: request.location.point.map(|p| p.lat),
            long: request.location.point.map(|p| p.long),
            history: disclosed.history.iter().map(PublicEvent::new).collect(),
        }
    }
}

/// What the citizen who holds the tracking token sees: everything public, and
/// their own words, answers and the notes addressed to them.
#[derive(Debug, Serialize)]
pub struct PrivateView {
    #[serde(flatten)]
    pub public: PublicView,
    pub attributes: BTreeMap<String, Answer>,
    /// Links to the request's photos (they expire).
    pub media_urls: Vec<String>,
}

impl PrivateView {
    pub fn new(catalogue: &Catalogue, request: &ServiceRequest, history: &[HistoryEvent]) -> Self {
        let disclosed = disclose(catalogue, Audience::Reporter, request, history);
        Self {
            public: PublicView::of(catalogue, &disclosed),
            attributes: disclosed.request.attributes.clone(),
            media_urls: Vec::new(),
        }
    }
}

/// `POST /v1/requests/{case_number}/updates`: the citizen adds information,
/// or says whether the problem is fixed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CitizenUpdateBody {
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub fixed: Option<bool>,
}

impl PublicEvent {
    /// An event as the visibility policy left it for the reader.
    fn new(e: &HistoryEvent) -> Self {
        let mut out = PublicEvent {
            at: e.at,
            event: "",
            status: None,
            department: None,
            service_code: None,
            note: None,
        };
        match &e.kind {
            EventKind::Created { .. } => {
                out.event = "created";
                out.status = Some("new".into());
            }
            EventKind::Classified { service_code, .. } => {
                out.event = "classified";
                out.service_code = Some(service_code.to_string());
            }
            EventKind::StatusChanged { to, note, .. } => {
                out.event = "status_changed";
                out.status = Some(to.to_string());
                out.note = note.clone();
            }
            EventKind::Assigned { department, .. } => {
                out.event = "assigned";
                out.status = Some("assigned".into());
                out.department = Some(department.to_string());
            }
            EventKind::CitizenUpdate { note } => {
                out.event = "citizen_update";
                out.note = Some(note.clone()).filter(|n| !n.is_empty());
            }
            EventKind::NoteToCitizen { note } => {
                out.event = "note_to_citizen";
                out.note = Some(note.clone());
            }
            EventKind::HandedBack { department, .. } => {
                // The department's reason is for staff.
                out.event = "handed_back";
                out.status = Some("triaged".into());
                out.department = Some(department.to_string());
            }
            EventKind::LinkedAsDuplicate { of } => {
                out.event = "linked_as_duplicate";
                out.status = Some("duplicate".into());
                out.note = Some(format!("Follows request {of}"));
            }
            EventKind::FollowerAdded { .. } => {
                out.event = "follower_added";
            }
            EventKind::FollowerRemoved { .. } => {
                out.event = "follower_removed";
            }
            EventKind::Unlinked { from } => {
                out.event = "unlinked";
                out.status = Some("reopened".into());
                out.note = Some(format!("No longer follows request {from}"));
            }
            EventKind::SlaWarning { .. } => out.event = "sla_warning",
            EventKind::SlaBreached { .. } => out.event = "sla_breached",
            EventKind::Transferred { to, .. } => {
                // The reason is for staff.
                out.event = "transferred";
                out.status = Some("triaged".into());
                out.department = Some(to.to_string());
            }
            // Staff only: the visibility policy keeps them from this reader.
            EventKind::InternalNote { .. } => out.event = "internal_note",
            EventKind::AssigneeChanged { .. } => out.event = "assignee_changed",
        }
        out
    }
}
