//! How citydesk's catalogue and requests look in Open311: statuses mapped down
//! to open/closed, times in the city's zone with their offset, string ids, and
//! never the reporter's contact details or private answers.

use citydesk_core::catalogue::{Catalogue, Service};
use citydesk_core::language::Language;
use citydesk_core::request::{EventKind, HistoryEvent, ServiceRequest};
use citydesk_core::service_form::Answer;
use citydesk_core::visibility::Disclosed;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::Value;

use crate::format::Node;

pub const SPECIFICATION: &str = "http://wiki.open311.org/GeoReport_v2";
/// When this surface last changed in a way clients could notice.
pub const CHANGESET: &str = "2026-11-28T00:00:00Z";

/// W3C date-time in the city's zone, with its offset (`2026-11-27T10:30:00+01:00`).
pub fn w3c(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned(tz.clone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

pub fn city_tz(catalogue: &Catalogue) -> TimeZone {
    TimeZone::get(&catalogue.city().timezone).unwrap_or(TimeZone::UTC)
}

pub fn discovery(base_url: &str, catalogue: &Catalogue) -> Node {
    let formats = Node::List(
        "formats",
        vec![
            Node::text("format", "text/xml"),
            Node::text("format", "application/json"),
        ],
    );
    Node::Object(
        "discovery",
        vec![
            Node::text("changeset", CHANGESET),
            Node::text(
                "contact",
                format!("{} 311, {base_url}", catalogue.city().name.en),
            ),
            Node::text("key_service", format!("{base_url}/open311/v2/keys")),
            // Not in GeoReport v2: date-times without an offset are read in it.
            Node::text("time_zone", catalogue.city().timezone.clone()),
            Node::List(
                "endpoints",
                vec![Node::Object(
                    "endpoint",
                    vec![
                        Node::text("specification", SPECIFICATION),
                        Node::text("url", format!("{base_url}/open311/v2")),
                        Node::text("changeset", CHANGESET),
                        Node::text("type", "production"),
                        formats,
                    ],
                )],
            ),
        ],
    )
}

pub fn service(s: &Service, lang: Language) -> Node {
    let keywords: Vec<&str> = match lang {
        Language::Pl => s.keywords.pl.iter().map(String::as_str).collect(),
        Language::En => s.keywords.en.iter().map(String::as_str).collect(),
    };
    Node::Object(
        "service",
        vec![
            Node::text("service_code", s.code.as_str()),
            Node::text("service_name", s.name.get(lang)),
            Node::text("description", s.name.get(lang)),
            Node::Raw("metadata", Value::Bool(!s.attributes.is_empty())),
            Node::text("type", "realtime"),
            Node::text("keywords", keywords.join(", ")),
            Node::text("group", s.group.clone()),
        ],
    )
}

pub fn service_definition(s: &Service, lang: Language) -> Node {
    let attributes = s
        .attributes
        .iter()
        .map(|a| {
            let values = a
                .values
                .iter()
                .map(|v| {
                    Node::Object(
                        "value",
                        vec![
                            Node::text("key", v.key.clone()),
                            Node::text("name", v.name.get(lang)),
                        ],
                    )
                })
                .collect();
            Node::Object(
                "attribute",
                vec![
                    Node::Raw("variable", Value::Bool(a.variable)),
                    Node::text("code", a.code.clone()),
                    Node::text("datatype", a.datatype.as_str()),
                    Node::Raw("required", Value::Bool(a.required)),
                    Node::opt(
                        "datatype_description",
                        a.datatype_description
                            .as_ref()
                            .map(|d| d.get(lang).to_owned()),
                    ),
                    Node::Raw("order", Value::from(a.order)),
                    Node::text("description", a.description.get(lang)),
                    Node::List("values", values),
                ],
            )
        })
        .collect();
    Node::Object(
        "service_definition",
        vec![
            Node::text("service_code", s.code.as_str()),
            Node::List("attributes", attributes),
        ],
    )
}

/// Open311 has two statuses; everything finished from the citizen's view is closed.
pub fn open_or_closed(r: &ServiceRequest) -> &'static str {
    if r.status.is_closed() {
        "closed"
    } else {
        "open"
    }
}

/// A request as the visibility policy let it through (`shown`); with
/// `extensions`, its public answers and notes too.
pub fn request(
    catalogue: &Catalogue,
    shown: &Disclosed,
    lang: Language,
    extensions: bool,
    media_url: Option<String>,
) -> Node {
    let r = &shown.request;
    let history = extensions.then_some(&shown.history[..]);
    let tz = city_tz(catalogue);
    let service = r.service_code.as_ref().and_then(|c| catalogue.service(c));
    let department = r.department.as_ref().and_then(|d| catalogue.department(d));
    let last_note = history.and_then(|h| {
        h.iter().rev().find_map(|e| match &e.kind {
            EventKind::StatusChanged { note: Some(n), .. } => Some(n.clone()),
            _ => None,
        })
    });
    let mut fields = vec![
        Node::text("service_request_id", r.case_number.as_str()),
        Node::text("status", open_or_closed(r)),
        Node::opt("status_notes", r.resolution.clone().or(last_note)),
        Node::opt("service_name", service.map(|s| s.name.get(lang).to_owned())),
        Node::opt(
            "service_code",
            r.service_code.as_ref().map(ToString::to_string),
        ),
        Node::opt(
            "description",
            Some(r.description.clone()).filter(|d| !d.is_empty()),
        ),
        Node::opt(
            "agency_responsible",
            department.map(|d| d.name.get(lang).to_owned()),
        ),
        Node::opt("service_notice", None::<String>),
        Node::text("requested_datetime", w3c(r.created_at, &tz)),
        Node::text("updated_datetime", w3c(r.updated_at, &tz)),
        Node::opt("expected_datetime", r.due_at.map(|d| w3c(d, &tz))),
        Node::opt("address", r.location.address.clone()),
        Node::opt("address_id", None::<String>),
        Node::opt("zipcode", None::<String>),
        r.location
            .point
            .map_or(Node::opt("lat", None::<String>), |p| {
                Node::Raw("lat", Value::from(p.lat))
            }),
        r.location
            .point
            .map_or(Node::opt("long", None::<String>), |p| {
                Node::Raw("long", Value::from(p.long))
            }),
        Node::opt("media_url", media_url),
    ];
    if let Some(history) = history {
        fields.push(extended_attributes(r));
        fields.push(Node::List(
            "notes",
            history.iter().map(|e| note(e, &tz)).collect(),
        ));
    }
    Node::Object("request", fields)
}

/// `extensions=true`: the channel, the district and the answers the policy
/// left public.
fn extended_attributes(r: &ServiceRequest) -> Node {
    let public: Vec<Node> = r
        .attributes
        .iter()
        .map(|(code, answer)| {
            let value = match answer {
                Answer::One(v) => v.clone(),
                Answer::Many(vs) => vs.join(","),
            };
            Node::Object(
                "attribute",
                vec![Node::text("code", code.clone()), Node::text("value", value)],
            )
        })
        .collect();
    Node::Object(
        "extended_attributes",
        vec![
            Node::text("channel", r.channel.as_str()),
            Node::opt("district", r.location.district.clone()),
            Node::List("attributes", public),
        ],
    )
}

/// mySociety's richer update statuses for a history event; `None` for internal events.
pub fn update_status(e: &HistoryEvent) -> Option<&'static str> {
    use citydesk_core::status::Status;
    match &e.kind {
        EventKind::Created { .. }
        | EventKind::Classified { .. }
        | EventKind::CitizenUpdate { .. }
        | EventKind::NoteToCitizen { .. }
        | EventKind::FollowerAdded { .. }
        | EventKind::FollowerRemoved { .. }
        | EventKind::SlaWarning { .. }
        | EventKind::SlaBreached { .. }
        | EventKind::InternalNote { .. }
        | EventKind::AssigneeChanged { .. } => None,
        EventKind::Assigned { .. }
        | EventKind::HandedBack { .. }
        | EventKind::Transferred { .. } => Some("open"),
        EventKind::LinkedAsDuplicate { .. } => Some("duplicate"),
        EventKind::Unlinked { .. } => Some("reopen"),
        EventKind::StatusChanged { to, .. } => Some(match to {
            Status::New | Status::Triaged | Status::Assigned => "open",
            Status::Acknowledged => "investigating",
            Status::WaitingForCitizen => "action_scheduled",
            Status::InProgress => "in_progress",
            Status::Resolved => "fixed",
            Status::Closed => "closed",
            Status::Duplicate => "duplicate",
            Status::Rejected => "no_further_action",
            Status::Reopened => "reopen",
        }),
    }
}

pub fn request_update(
    case: &citydesk_core::ids::CaseNumber,
    e: &HistoryEvent,
    status: &str,
    tz: &TimeZone,
) -> Node {
    let description = match &e.kind {
        EventKind::StatusChanged { note: Some(n), .. } => n.clone(),
        EventKind::Assigned { department, .. } => format!("Assigned to {department}"),
        _ => format!("Status: {status}"),
    };
    Node::Object(
        "request_update",
        vec![
            Node::text("update_id", format!("{case}-{}", e.seq)),
            Node::text("service_request_id", case.as_str()),
            Node::text("status", status),
            Node::text("updated_datetime", w3c(e.at, tz)),
            Node::text("description", description),
            Node::opt("media_url", None::<String>),
        ],
    )
}

fn note(e: &HistoryEvent, tz: &TimeZone) -> Node {
    let (kind, description) = match &e.kind {
        EventKind::Created { .. } => ("opened", "Request received".to_owned()),
        EventKind::Classified { service_code, .. } => {
            ("classified", format!("Service: {service_code}"))
        }
        EventKind::Assigned { department, .. } => ("assigned", format!("Assigned to {department}")),
        EventKind::CitizenUpdate { .. } => (
            "citizen_update",
            "The reporter added information".to_owned(),
        ),
        EventKind::NoteToCitizen { .. } => (
            "note_to_reporter",
            "A message was sent to the reporter".to_owned(),
        ),
        EventKind::HandedBack { department, .. } => {
            ("handed_back", format!("Handed back by {department}"))
        }
        EventKind::Transferred { from, to, .. } => {
            ("transferred", format!("Transferred by {from} to {to}"))
        }
        // Staff only: the visibility policy keeps them from every Open311 reader.
        EventKind::InternalNote { .. } => ("internal_note", String::new()),
        EventKind::AssigneeChanged { .. } => ("assignee_changed", String::new()),
        EventKind::LinkedAsDuplicate { of } => ("duplicate", format!("Follows request {of}")),
        EventKind::FollowerAdded { follower } => (
            "follower",
            format!("Request {follower} reports the same problem"),
        ),
        EventKind::Unlinked { from } => ("unlinked", format!("No longer follows request {from}")),
        EventKind::FollowerRemoved { follower } => (
            "follower_removed",
            format!("Request {follower} is another problem after all"),
        ),
        EventKind::SlaWarning { due_at } => ("sla_warning", format!("Due at {}", w3c(*due_at, tz))),
        EventKind::SlaBreached { due_at } => {
            ("sla_breached", format!("Was due at {}", w3c(*due_at, tz)))
        }
        EventKind::StatusChanged { to, note, .. } => (
            "status_change",
            note.clone()
                .map_or_else(|| format!("Status: {to}"), |n| format!("Status: {to}. {n}")),
        ),
    };
    Node::Object(
        "note",
        vec![
            Node::text("datetime", w3c(e.at, tz)),
            Node::text("type", kind),
            Node::text("description", description),
        ],
    )
}
