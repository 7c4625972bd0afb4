//! Domain events for the city's event bus: one versioned `detail-type` per
//! kind of change (`citydesk.request.routed.v1`…), each described by a JSON
//! Schema in `events/schemas/`. They carry ids, case number, service,
//! department, district, status and times; never a name, phone number,
//! e-mail address, free text or exact point.

use jiff::Timestamp;
use serde::Serialize;

use crate::ids::{CaseNumber, DepartmentCode, JurisdictionId, RequestId, ServiceCode};
use crate::request::{Channel, EventKind};
use crate::status::Status;

use super::CommittedEvent;

/// The `source` of every citydesk event on the bus.
pub const SOURCE: &str = "citydesk";

/// Every detail-type citydesk publishes (each has `events/schemas/<type>.json`).
pub const DETAIL_TYPES: [&str; 17] = [
    "citydesk.request.created.v1",
    "citydesk.request.classified.v1",
    "citydesk.request.triaged.v1",
    "citydesk.request.status_changed.v1",
    "citydesk.request.routed.v1",
    "citydesk.request.handed_back.v1",
    "citydesk.request.citizen_updated.v1",
    "citydesk.request.note_to_citizen.v1",
    "citydesk.request.linked_as_duplicate.v1",
    "citydesk.request.follower_linked.v1",
    "citydesk.request.unlinked.v1",
    "citydesk.request.follower_unlinked.v1",
    "citydesk.request.sla_warning.v1",
    "citydesk.request.sla_breached.v1",
    "citydesk.request.internal_note.v1",
    "citydesk.request.assignee_changed.v1",
    "citydesk.request.transferred.v1",
];

/// One event for the bus: its detail-type and its detail.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BusEvent {
    pub detail_type: &'static str,
    pub detail: EventDetail,
}

/// The `detail` of a bus event: the fields every type has, then the type's own.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventDetail {
    /// `<request id>/<seq>`: the same change always has the same id, also
    /// when it is delivered twice; subscribers de-duplicate on it.
    pub event_id: String,
    pub request_id: RequestId,
    pub case_number: CaseNumber,
    pub jurisdiction: JurisdictionId,
    pub seq: u64,
    pub occurred_at: Timestamp,
    pub actor: String,
    pub status: Status,
    pub service_code: Option<ServiceCode>,
    pub department: Option<DepartmentCode>,
    pub district: Option<String>,
    #[serde(flatten)]
    pub specific: Specific,
}

/// The fields one detail-type adds.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Specific {
    Created {
        channel: Channel,
    },
    Classified {
        confidence: f64,
    },
    Triaged {
        from_status: Status,
    },
    StatusChanged {
        from_status: Status,
        to_status: Status,
    },
    Due {
        due_at: Timestamp,
    },
    HandedBack {
        handed_back_by: DepartmentCode,
    },
    Original {
        original_case_number: CaseNumber,
    },
    Follower {
        follower_case_number: CaseNumber,
    },
    Assignee {
        /// The staff subject (an identity provider's opaque id), or `null`.
        assignee: Option<String>,
    },
    Transferred {
        transferred_from: DepartmentCode,
        transferred_to: DepartmentCode,
    },
    Nothing {},
}

/// The bus event of a committed change.
pub fn bus_event(committed: &CommittedEvent) -> BusEvent {
    let (detail_type, specific) = match &committed.event.kind {
        EventKind::Created { channel } => (
            "citydesk.request.created.v1",
            Specific::Created { channel: *channel },
        ),
        EventKind::Classified { confidence, .. } => (
            "citydesk.request.classified.v1",
            Specific::Classified {
                confidence: confidence.clamp(0.0, 1.0),
            },
        ),
        EventKind::StatusChanged {
            from,
            to: Status::Triaged,
            ..
        } => (
            "citydesk.request.triaged.v1",
            Specific::Triaged { from_status: *from },
        ),
        EventKind::StatusChanged { from, to, .. } => (
            "citydesk.request.status_changed.v1",
            Specific::StatusChanged {
                from_status: *from,
                to_status: *to,
            },
        ),
        EventKind::Assigned { due_at, .. } => (
            "citydesk.request.routed.v1",
            Specific::Due { due_at: *due_at },
        ),
        EventKind::HandedBack { department, .. } => (
            "citydesk.request.handed_back.v1",
            Specific::HandedBack {
                handed_back_by: department.clone(),
            },
        ),
        EventKind::CitizenUpdate { .. } => {
            ("citydesk.request.citizen_updated.v1", Specific::Nothing {})
        }
        EventKind::NoteToCitizen { .. } => {
            ("citydesk.request.note_to_citizen.v1", Specific::Nothing {})
        }
        EventKind::LinkedAsDuplicate { of } => (
            "citydesk.request.linked_as_duplicate.v1",
            Specific::Original {
                original_case_number: of.clone(),
            },
        ),
        EventKind::FollowerAdded { follower } => (
            "citydesk.request.follower_linked.v1",
            Specific::Follower {
                follower_case_number: follower.clone(),
            },
        ),
        EventKind::Unlinked { from } => (
            "citydesk.request.unlinked.v1",
            Specific::Original {
                original_case_number: from.clone(),
            },
        ),
        EventKind::FollowerRemoved { follower } => (
            "citydesk.request.follower_unlinked.v1",
            Specific::Follower {
                follower_case_number: follower.clone(),
            },
        ),
        EventKind::SlaWarning { due_at } => (
            "citydesk.request.sla_warning.v1",
            Specific::Due { due_at: *due_at },
        ),
        EventKind::SlaBreached { due_at } => (
            "citydesk.request.sla_breached.v1",
            Specific::Due { due_at: *due_at },
        ),
        EventKind::InternalNote { .. } => {
            ("citydesk.request.internal_note.v1", Specific::Nothing {})
        }
        EventKind::AssigneeChanged { assignee } => (
            "citydesk.request.assignee_changed.v1",
            Specific::Assignee {
                assignee: assignee.clone(),
            },
        ),
        EventKind::Transferred { from, to, .. } => (
            "citydesk.request.transferred.v1",
            Specific::Transferred {
                transferred_from: from.clone(),
                transferred_to: to.clone(),
            },
        ),
    };
    let s = &committed.snapshot;
    BusEvent {
        detail_type,
        detail: EventDetail {
            event_id: committed.event_id(),
            request_id: committed.request_id.clone(),
            case_number: s.case_number.clone(),
            jurisdiction: s.jurisdiction.clone(),
            seq: committed.event.seq,
            occurred_at: committed.event.at,
            actor: committed.event.actor.clone(),
            status: s.status,
            service_code: s.service_code.clone(),
            department: s.department.clone(),
            district: s.district.clone(),
            specific,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::RequestSnapshot;
    use crate::request::HistoryEvent;

    fn committed(kind: EventKind) -> CommittedEvent {
        CommittedEvent {
            request_id: RequestId::parse("01JDQ3G6Z8X9Y0A1B2C3D4E5F6").unwrap(),
            event: HistoryEvent {
                seq: 3,
                at: Timestamp::from_second(1_800_000_000).unwrap(),
                actor: "department:roads".into(),
                by: None,
                kind,
            },
            snapshot: RequestSnapshot {
                case_number: CaseNumber::from_entropy(7),
                jurisdiction: JurisdictionId::parse("krakow").unwrap(),
                status: Status::Resolved,
                service_code: Some(ServiceCode::parse("pothole").unwrap()),
                department: Some(DepartmentCode::parse("roads").unwrap()),
                district: Some("stare-miasto".into()),
                due_at: None,
                follower_count: 0,
            },
        }
    }

    #[test]
    fn a_status_change_keeps_its_note_off_the_bus() {
        let event = bus_event(&committed(EventKind::StatusChanged {
            from: Status::InProgress,
            to: Status::Resolved,
            note: Some("Dzwoniłem do Pana Kowalskiego, tel. 600100200".into()),
        }));
        assert_eq!(event.detail_type, "citydesk.request.status_changed.v1");
        let json = serde_json::to_value(&event.detail).unwrap();
        assert_eq!(json["event_id"], "01JDQ3G6Z8X9Y0A1B2C3D4E5F6/3");
        assert_eq!(json["from_status"], "in_progress");
        assert_eq!(json["to_status"], "resolved");
        let text = json.to_string();
        assert!(!text.contains("600100200") && !text.contains("Kowalsk"));
    }

    #[test]
    fn every_kind_has_a_listed_detail_type() {
        let due = Timestamp::from_second(1_800_000_000).unwrap();
        let case = CaseNumber::from_entropy(9);
        let roads = DepartmentCode::parse("roads").unwrap();
        for kind in [
            EventKind::Created {
                channel: Channel::Web,
            },
            EventKind::Classified {
                service_code: ServiceCode::parse("pothole").unwrap(),
                confidence: 0.9,
            },
            EventKind::StatusChanged {
                from: Status::New,
                to: Status::Triaged,
                note: None,
            },
            EventKind::Assigned {
                department: roads.clone(),
                due_at: due,
            },
            EventKind::HandedBack {
                department: roads.clone(),
                reason: Some("nie nasze".into()),
            },
            EventKind::InternalNote {
                note: "nie nasze, ale pomożemy".into(),
            },
            EventKind::AssigneeChanged {
                assignee: Some("u-42".into()),
            },
            EventKind::Transferred {
                from: roads,
                to: DepartmentCode::parse("greenery").unwrap(),
                reason: "nie nasze: zieleń".into(),
            },
            EventKind::CitizenUpdate { note: "x".into() },
            EventKind::NoteToCitizen { note: "y".into() },
            EventKind::LinkedAsDuplicate { of: case.clone() },
            EventKind::FollowerAdded {
                follower: case.clone(),
            },
            EventKind::Unlinked { from: case.clone() },
            EventKind::FollowerRemoved { follower: case },
            EventKind::SlaWarning { due_at: due },
            EventKind::SlaBreached { due_at: due },
        ] {
            let event = bus_event(&committed(kind));
            assert!(
                DETAIL_TYPES.contains(&event.detail_type),
                "{}",
                event.detail_type
            );
            let json = serde_json::to_string(&event.detail).unwrap();
            assert!(!json.contains("nie nasze"));
        }
    }
}
