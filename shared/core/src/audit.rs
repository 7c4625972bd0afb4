//! The audit trail: who of the staff changed what, and who read whose
//! personal data, kept where no function can rewrite or delete it.
//!
//! A staff change carries a [`StaffStamp`] in its history event; the
//! dispatcher (the only reader of the table's change stream) appends one
//! [`AuditRecord`] per stamped event. A read of personal data is appended by
//! the reading function before the data is shown: no record, no data.
//!
//! A record names people by their identity provider's subject and requests by
//! case number; it never holds the personal data itself (no phone number
//! looked up, no note's text).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ids::{CaseNumber, RequestId};
use crate::request::{EventKind, HistoryEvent};

/// Who of the staff caused a change, and through which surface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffStamp {
    /// The identity provider's subject, or `api-key:<department>` for a
    /// department's machine integration.
    pub subject: String,
    /// The roles they held, as their groups name them (`clerk:roads head:roads`).
    pub roles: String,
    /// The API they acted through: `department-api`, `operator-api`.
    pub via: String,
}

/// What an audit record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// A change to a request (its history event).
    Change,
    /// A read of personal data (a caller's contact, the requests a phone
    /// number or e-mail address made).
    ReadPersonalData,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Change => "change",
            Self::ReadPersonalData => "read_personal_data",
        }
    }
}

/// One entry of the trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub at: Timestamp,
    pub subject: String,
    pub roles: String,
    pub via: String,
    pub action: AuditAction,
    /// What exactly: the event kind of a change (`status_changed`), or what
    /// was read (`caller_lookup`).
    pub what: String,
    /// The requests it concerns, by case number.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub case_numbers: Vec<CaseNumber>,
    /// For a change: the request and the event's sequence number (its business key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<RequestId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// A short description without personal data (`assigned → acknowledged`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// Unique per read of personal data or contact recorded (a change's
    /// key is its request and sequence number instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_id: Option<String>,
}

impl AuditRecord {
    /// The record of a stamped history event; `None` for the system's own
    /// steps and the citizens' changes (they are not staff).
    pub fn of_change(
        request_id: &RequestId,
        case_number: &CaseNumber,
        event: &HistoryEvent,
    ) -> Option<Self> {
        let stamp = event.by.as_ref()?;
        Some(Self {
            at: event.at,
            subject: stamp.subject.clone(),
            roles: stamp.roles.clone(),
            via: stamp.via.clone(),
            action: AuditAction::Change,
            what: event_kind_name(&event.kind).to_owned(),
            case_numbers: vec![case_number.clone()],
            request_id: Some(request_id.clone()),
            seq: Some(event.seq),
            detail: change_detail(&event.kind),
            read_id: None,
        })
    }

    /// The record of a read of personal data, made before it is shown.
    pub fn of_read(
        stamp: &StaffStamp,
        at: Timestamp,
        what: &str,
        case_numbers: Vec<CaseNumber>,
        read_id: String,
        detail: String,
    ) -> Self {
        Self::of_action(
            stamp,
            at,
            AuditAction::ReadPersonalData,
            what,
            case_numbers,
            read_id,
            detail,
        )
    }

    /// The record of a staff action that is no request's history event (a
    /// read, a contact recorded), under its own unique `id`.
    pub fn of_action(
        stamp: &StaffStamp,
        at: Timestamp,
        action: AuditAction,
        what: &str,
        case_numbers: Vec<CaseNumber>,
        read_id: String,
        detail: String,
    ) -> Self {
        Self {
            at,
            subject: stamp.subject.clone(),
            roles: stamp.roles.clone(),
            via: stamp.via.clone(),
            action,
            what: what.to_owned(),
            case_numbers,
            request_id: None,
            seq: None,
            detail,
            read_id: Some(read_id),
        }
    }

    /// Where the record is kept: by UTC day, in time order, under a key that
    /// is the same for a repeated delivery of the same change.
    pub fn object_key(&self) -> String {
        let day = self.at.strftime("%Y-%m-%d");
        let time = self.at.strftime("%H%M%S%.6fZ");
        match (&self.request_id, self.seq, &self.read_id) {
            (Some(request), Some(seq), _) => {
                format!("{AUDIT_PREFIX}{day}/{time}-change-{request}-{seq:08}.json")
            }
            (_, _, Some(id)) => {
                format!(
                    "{AUDIT_PREFIX}{day}/{time}-{}-{id}.json",
                    self.action.as_str()
                )
            }
            _ => format!("{AUDIT_PREFIX}{day}/{time}-other.json"),
        }
    }
}

/// Prefix of every audit object.
pub const AUDIT_PREFIX: &str = "audit/";

/// The columns of the CSV export, in order.
pub const CSV_COLUMNS: [&str; 10] = [
    "at",
    "subject",
    "roles",
    "via",
    "action",
    "what",
    "case_numbers",
    "request_id",
    "seq",
    "detail",
];

impl AuditRecord {
    /// The record's fields in [`CSV_COLUMNS`] order.
    pub fn csv_fields(&self) -> [String; 10] {
        [
            self.at.to_string(),
            self.subject.clone(),
            self.roles.clone(),
            self.via.clone(),
            self.action.as_str().to_owned(),
            self.what.clone(),
            self.case_numbers
                .iter()
                .map(CaseNumber::as_str)
                .collect::<Vec<_>>()
                .join(" "),
            self.request_id
                .as_ref()
                .map(|r| r.as_str().to_owned())
                .unwrap_or_default(),
            self.seq.map(|s| s.to_string()).unwrap_or_default(),
            self.detail.clone(),
        ]
    }
}

/// The `kind` an event is stored under (`status_changed`).
pub fn event_kind_name(kind: &EventKind) -> &'static str {
    match kind {
        EventKind::Created { .. } => "created",
        EventKind::Classified { .. } => "classified",
        EventKind::StatusChanged { .. } => "status_changed",
        EventKind::Assigned { .. } => "assigned",
        EventKind::CitizenUpdate { .. } => "citizen_update",
        EventKind::NoteToCitizen { .. } => "note_to_citizen",
        EventKind::HandedBack { .. } => "handed_back",
        EventKind::LinkedAsDuplicate { .. } => "linked_as_duplicate",
        EventKind::FollowerAdded { .. } => "follower_added",
        EventKind::Unlinked { .. } => "unlinked",
        EventKind::FollowerRemoved { .. } => "follower_removed",
        EventKind::SlaWarning { .. } => "sla_warning",
        EventKind::SlaBreached { .. } => "sla_breached",
        EventKind::InternalNote { .. } => "internal_note",
        EventKind::AssigneeChanged { .. } => "assignee_changed",
        EventKind::Transferred { .. } => "transferred",
    }
}

/// What changed, without the texts (notes and reasons may hold personal data).
fn change_detail(kind: &EventKind) -> String {
    match kind {
        EventKind::Created { channel } => format!("channel {}", channel.as_str()),
        EventKind::Classified { service_code, .. } => format!("service {service_code}"),
        EventKind::StatusChanged { from, to, .. } => format!("{from} → {to}"),
        EventKind::Assigned { department, .. } => format!("department {department}"),
        EventKind::HandedBack { department, .. } => format!("handed back by {department}"),
        EventKind::LinkedAsDuplicate { of } => format!("follows {of}"),
        EventKind::FollowerAdded { follower } | EventKind::FollowerRemoved { follower } => {
            format!("follower {follower}")
        }
        EventKind::Unlinked { from } => format!("unlinked from {from}"),
        EventKind::AssigneeChanged { assignee } => match assignee {
            Some(a) => format!("assignee {a}"),
            None => "assignee none".to_owned(),
        },
        EventKind::Transferred { from, to, .. } => format!("transferred {from} → {to}"),
        EventKind::InternalNote { .. }
        | EventKind::CitizenUpdate { .. }
        | EventKind::NoteToCitizen { .. }
        | EventKind::SlaWarning { .. }
        | EventKind::SlaBreached { .. } => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Status;

    fn stamp() -> StaffStamp {
        StaffStamp {
            subject: "u-123".into(),
            roles: "clerk:roads".into(),
            via: "department-api".into(),
        }
    }

    fn event(by: Option<StaffStamp>) -> HistoryEvent {
        HistoryEvent {
            seq: 4,
            at: "2026-12-03T10:15:30.25Z".parse().unwrap(),
            actor: "department:roads".into(),
            by,
            kind: EventKind::StatusChanged {
                from: Status::Assigned,
                to: Status::Resolved,
                note: Some("Call me at 600 100 200".into()),
            },
        }
    }

    fn ids() -> (RequestId, CaseNumber) {
        (
            RequestId::parse("01JDZ8Y4ZQK1V6W3M7N0P2R5ST").unwrap(),
            CaseNumber::parse("7H3K-9QX2").unwrap(),
        )
    }

    #[test]
    fn a_staff_change_becomes_a_record_without_the_note() {
        let (id, case) = ids();
        let record = AuditRecord::of_change(&id, &case, &event(Some(stamp()))).unwrap();
        assert_eq!(record.subject, "u-123");
        assert_eq!(record.what, "status_changed");
        assert_eq!(record.detail, "assigned → resolved");
        let json = serde_json::to_string(&record).unwrap();
        assert!(!json.contains("600 100 200"), "{json}");
    }

    #[test]
    fn changes_without_a_stamp_are_not_audited() {
        let (id, case) = ids();
        assert!(AuditRecord::of_change(&id, &case, &event(None)).is_none());
    }

    #[test]
    fn a_change_keeps_one_key_however_often_it_is_delivered() {
        let (id, case) = ids();
        let key = AuditRecord::of_change(&id, &case, &event(Some(stamp())))
            .unwrap()
            .object_key();
        assert_eq!(
            key,
            "audit/2026-12-03/101530.250000Z-change-01JDZ8Y4ZQK1V6W3M7N0P2R5ST-00000004.json"
        );
    }

    #[test]
    fn the_csv_row_has_a_field_per_column() {
        let (id, case) = ids();
        let record = AuditRecord::of_change(&id, &case, &event(Some(stamp()))).unwrap();
        let fields = record.csv_fields();
        assert_eq!(fields.len(), CSV_COLUMNS.len());
        assert_eq!(fields[6], "7H3K-9QX2");
    }
}
