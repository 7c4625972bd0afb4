//! What the residents' pages show: the services to choose from and each one's
//! questions, a request as its reporter follows it (through the visibility
//! policy for the reporter), and whether a point can be reported at all.
//!
//! Names come in the request's or the page's language; the pages translate
//! the rest (milestone labels, dates).

use tracing::instrument;

use crate::catalogue::{Catalogue, Service};
use crate::ids::CaseNumber;
use crate::language::Language;
use crate::location::GeoPoint;
use crate::media::MediaRef;
use crate::ports::RequestStore;
use crate::request::{EventKind, HistoryEvent, ServiceRequest};
use crate::service_form::Datatype;
use crate::status::Status;
use crate::usecases::citizen_follow_up::{FollowUpError, private_view};
use crate::visibility::{Audience, disclose};

/// A service a resident can choose.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceChoice {
    pub code: String,
    pub name: String,
}

/// The catalogue's services of one group, as the report form lists them.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceGroup {
    /// The group's code (`roads`); the page names it.
    pub code: String,
    pub services: Vec<ServiceChoice>,
}

/// The catalogue's services by group, groups and services in catalogue order.
pub fn service_groups(catalogue: &Catalogue, language: Language) -> Vec<ServiceGroup> {
    let mut groups: Vec<ServiceGroup> = Vec::new();
    for service in catalogue.services() {
        let choice = ServiceChoice {
            code: service.code.to_string(),
            name: service.name.get(language).to_owned(),
        };
        match groups.iter_mut().find(|g| g.code == service.group) {
            Some(group) => group.services.push(choice),
            None => groups.push(ServiceGroup {
                code: service.group.clone(),
                services: vec![choice],
            }),
        }
    }
    groups
}

/// How a question is answered on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuestionInput {
    Line,
    Paragraph,
    Number,
    DateTime,
    OneOf,
    AnyOf,
    /// Text the service shows, nothing to answer.
    Information,
}

/// One of a service's own questions, ready for a form.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    pub code: String,
    pub label: String,
    pub hint: Option<String>,
    pub input: QuestionInput,
    pub required: bool,
    /// `(key, label)` of each choice of a list.
    pub options: Vec<(String, String)>,
}

/// The service's questions in their order.
pub fn questions_of(service: &Service, language: Language) -> Vec<Question> {
    let mut attributes: Vec<_> = service.attributes.iter().collect();
    attributes.sort_by_key(|a| a.order);
    attributes
        .into_iter()
        .map(|a| Question {
            code: a.code.clone(),
            label: a.description.get(language).to_owned(),
            hint: a
                .datatype_description
                .as_ref()
                .map(|d| d.get(language).to_owned()),
            input: if !a.variable {
                QuestionInput::Information
            } else {
                match a.datatype {
                    Datatype::String => QuestionInput::Line,
                    Datatype::Text => QuestionInput::Paragraph,
                    Datatype::Number => QuestionInput::Number,
                    Datatype::Datetime => QuestionInput::DateTime,
                    Datatype::Singlevaluelist => QuestionInput::OneOf,
                    Datatype::Multivaluelist => QuestionInput::AnyOf,
                }
            },
            required: a.required && a.variable,
            options: a
                .values
                .iter()
                .map(|v| (v.key.clone(), v.name.get(language).to_owned()))
                .collect(),
        })
        .collect()
}

/// Whether the city takes reports at a point, and if so in which district.
#[derive(Debug, Clone, PartialEq)]
pub enum PlaceCheck {
    /// Inside the city; the district when the point is in one.
    Inside { district: Option<String> },
    /// Outside every district of the city: where the city ends.
    Outside { city: String },
}

/// The city takes reports inside its districts (where it has none, anywhere).
pub fn check_place(catalogue: &Catalogue, point: GeoPoint, language: Language) -> PlaceCheck {
    if catalogue.districts().is_empty() {
        return PlaceCheck::Inside { district: None };
    }
    match catalogue.district_at(point) {
        Some(d) => PlaceCheck::Inside {
            district: Some(d.name.clone()),
        },
        None => PlaceCheck::Outside {
            city: catalogue.city().name.get(language).to_owned(),
        },
    }
}

/// One step of a request's life as its reporter reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum Milestone {
    Received,
    /// The service it was filed under (by the classifier or staff).
    Classified {
        service: String,
    },
    /// Given to a department, due then.
    Assigned {
        department: String,
        due_at: jiff::Timestamp,
    },
    StatusChanged {
        to: Status,
        note: Option<String>,
    },
    /// The department wrote to the reporter.
    FromDepartment {
        note: String,
    },
    /// The reporter added information.
    FromYou {
        note: String,
    },
    /// Another report of an open request: this one follows it.
    FollowsOriginal {
        original: String,
    },
    /// It no longer follows the other request.
    Unlinked,
    /// Passed on to another department.
    PassedOn {
        department: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct TimelineEntry {
    pub at: jiff::Timestamp,
    pub milestone: Milestone,
}

/// A request as its reporter follows it on the tracking page.
#[derive(Debug, Clone)]
pub struct Tracking {
    pub case_number: CaseNumber,
    pub status: Status,
    pub service: Option<String>,
    pub department: Option<String>,
    /// The district's name.
    pub district: Option<String>,
    pub address: Option<String>,
    pub point: Option<GeoPoint>,
    pub description: String,
    pub created_at: jiff::Timestamp,
    pub due_at: Option<jiff::Timestamp>,
    pub resolution: Option<String>,
    /// Oldest first.
    pub timeline: Vec<TimelineEntry>,
    /// Stored photos, for the page to link (links expire, so the page makes them).
    pub photos: Vec<MediaRef>,
    /// Resolved: the reporter can say whether it is fixed.
    pub can_confirm_fix: bool,
    /// The department waits for the reporter's answer.
    pub waiting_for_you: bool,
    /// Closed for good: nothing more can be added.
    pub closed: bool,
}

/// The request and what its reporter may read of it, names in `language`.
#[instrument(skip(store, catalogue, token), fields(case_number = %case))]
pub async fn track_request(
    store: &dyn RequestStore,
    catalogue: &Catalogue,
    case: &CaseNumber,
    token: &str,
    language: Language,
) -> Result<Tracking, FollowUpError> {
    let (request, history) = private_view(store, case, token).await?;
    Ok(tracking_of(catalogue, &request, &history, language))
}

/// [`track_request`]'s view of a request already read.
pub fn tracking_of(
    catalogue: &Catalogue,
    request: &ServiceRequest,
    history: &[HistoryEvent],
    language: Language,
) -> Tracking {
    let disclosed = disclose(catalogue, Audience::Reporter, request, history);
    let service_name = |code: &crate::ids::ServiceCode| {
        catalogue
            .service(code)
            .map_or_else(|| code.to_string(), |s| s.name.get(language).to_owned())
    };
    let department_name = |code: &crate::ids::DepartmentCode| {
        catalogue
            .department(code)
            .map_or_else(|| code.to_string(), |d| d.name.get(language).to_owned())
    };
    let timeline = disclosed
        .history
        .iter()
        .filter_map(|e| {
            let milestone = match &e.kind {
                EventKind::Created { .. } => Milestone::Received,
                EventKind::Classified { service_code, .. } => Milestone::Classified {
                    service: service_name(service_code),
                },
                EventKind::Assigned { department, due_at } => Milestone::Assigned {
                    department: department_name(department),
                    due_at: *due_at,
                },
                EventKind::StatusChanged { to, note, .. } => Milestone::StatusChanged {
                    to: *to,
                    note: note.clone(),
                },
                EventKind::NoteToCitizen { note } => {
                    Milestone::FromDepartment { note: note.clone() }
                }
                EventKind::CitizenUpdate { note } if !note.trim().is_empty() => {
                    Milestone::FromYou { note: note.clone() }
                }
                EventKind::LinkedAsDuplicate { of } => Milestone::FollowsOriginal {
                    original: of.to_string(),
                },
                EventKind::Unlinked { .. } => Milestone::Unlinked,
                EventKind::Transferred { to, .. } => Milestone::PassedOn {
                    department: Some(department_name(to)),
                },
                EventKind::HandedBack { .. } => Milestone::PassedOn { department: None },
                // Staff matters and clock events say nothing new to the reporter.
                EventKind::CitizenUpdate { .. }
                | EventKind::FollowerAdded { .. }
                | EventKind::FollowerRemoved { .. }
                | EventKind::SlaWarning { .. }
                | EventKind::SlaBreached { .. }
                | EventKind::InternalNote { .. }
                | EventKind::AssigneeChanged { .. } => return None,
            };
            Some(TimelineEntry {
                at: e.at,
                milestone,
            })
        })
        .collect();
    let shown = &disclosed.request;
    Tracking {
        case_number: shown.case_number.clone(),
        status: shown.status,
        service: shown.service_code.as_ref().map(service_name),
        department: shown.department.as_ref().map(department_name),
        district: shown.location.district.as_ref().map(|code| {
            catalogue
                .districts()
                .iter()
                .find(|d| &d.code == code)
                .map_or_else(|| code.clone(), |d| d.name.clone())
        }),
        address: shown.location.address.clone(),
        point: shown.location.point,
        description: shown.description.clone(),
        created_at: shown.created_at,
        due_at: shown.due_at,
        resolution: shown.resolution.clone(),
        timeline,
        photos: shown
            .media
            .iter()
            .filter(|m| matches!(m, MediaRef::Stored { .. }))
            .cloned()
            .collect(),
        can_confirm_fix: shown.status == Status::Resolved,
        waiting_for_you: shown.status == Status::WaitingForCitizen,
        closed: matches!(shown.status, Status::Closed | Status::Rejected),
    }
}

/// How far around a resident's point open reports are shown.
pub const NEARBY_RADIUS_M: f64 = 300.0;
/// How old an open report shown nearby may be.
pub const NEARBY_DAYS: i64 = 60;
/// Most open reports shown nearby.
pub const NEARBY_SHOWN: usize = 10;

/// An open report near the resident's point, as the public may see it.
#[derive(Debug, Clone, PartialEq)]
pub struct NearbyReport {
    pub case_number: CaseNumber,
    pub status: Status,
    /// Redacted; empty when the reporter asked for privacy.
    pub description: String,
    pub address: Option<String>,
    /// Coarsened when the service's location is sensitive.
    pub point: GeoPoint,
    pub distance_m: f64,
    pub created_at: jiff::Timestamp,
    /// How many others said "me too" already.
    pub followers: u64,
}

/// The open public reports of `service` within [`NEARBY_RADIUS_M`] of
/// `point`, nearest first: what a resident may follow instead of filing
/// the same problem again. Everything shown went through the visibility
/// policy for the public; a service whose reports are private shows none.
#[instrument(skip(queries, catalogue), fields(service = %service))]
pub async fn open_nearby(
    queries: &dyn crate::ports::RequestQueries,
    catalogue: &Catalogue,
    service: &crate::ids::ServiceCode,
    point: GeoPoint,
    now: jiff::Timestamp,
) -> Result<Vec<NearbyReport>, crate::ports::PortError> {
    use geo::{Distance, Haversine, Point};
    match catalogue.service(service) {
        Some(s) if s.reports == crate::catalogue::ReportVisibility::Public => {}
        _ => return Ok(Vec::new()),
    }
    let near = crate::paging::NearbyOpen {
        jurisdiction: catalogue.city().jurisdiction_id.clone(),
        service_code: service.clone(),
        point,
        radius_m: NEARBY_RADIUS_M,
        created_from: now
            .saturating_sub(jiff::SignedDuration::from_hours(NEARBY_DAYS * 24))
            .unwrap_or(now),
    };
    let here = Point::new(point.long, point.lat);
    let mut found: Vec<NearbyReport> = queries
        .open_near(&near)
        .await?
        .iter()
        // Another report of one: the one it follows is shown instead.
        .filter(|r| r.duplicate_of.is_none())
        .filter_map(|r| {
            let shown = disclose(catalogue, Audience::Public, r, &[]);
            if shown.private_report {
                return None;
            }
            let request = shown.request;
            // Measured from what is shown (coarsened where sensitive), so the
            // distance tells nothing more than the map.
            let shown_point = request.location.point?;
            let distance_m =
                Haversine.distance(here, Point::new(shown_point.long, shown_point.lat));
            (distance_m <= NEARBY_RADIUS_M).then_some(NearbyReport {
                case_number: request.case_number,
                status: request.status,
                description: request.description,
                address: request.location.address,
                point: shown_point,
                distance_m,
                created_at: request.created_at,
                followers: request.follower_count,
            })
        })
        .collect();
    found.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
    found.truncate(NEARBY_SHOWN);
    Ok(found)
}
