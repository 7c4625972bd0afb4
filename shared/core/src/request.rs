//! The service request and its append-only history.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ids::{CaseNumber, DepartmentCode, JurisdictionId, RequestId, ServiceCode};
use crate::language::Language;
use crate::location::Location;
use crate::status::{IllegalTransition, Status};

/// Where the request came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Web,
    Open311,
    Sms,
    Email,
    Phone,
    Messenger,
    InPerson,
    /// A letter, registered by the contact centre.
    Letter,
    Fax,
}

impl Channel {
    /// A channel whose messages are a conversation (SMS, WhatsApp): the
    /// service answers each message itself, confirmations included.
    pub fn converses(self) -> bool {
        matches!(self, Channel::Sms | Channel::Messenger)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Open311 => "open311",
            Channel::Sms => "sms",
            Channel::Email => "email",
            Channel::Phone => "phone",
            Channel::Messenger => "messenger",
            Channel::InPerson => "in_person",
            Channel::Letter => "letter",
            Channel::Fax => "fax",
        }
    }
}

/// What happened to a request, in order. The citizen's notes and the notes
/// written to them are personal data: every surface shows events through
/// `visibility::disclose`, and an erasure clears them (`usecases::erase_person`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    Created {
        channel: Channel,
    },
    Classified {
        service_code: ServiceCode,
        confidence: f64,
    },
    StatusChanged {
        from: Status,
        to: Status,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    Assigned {
        department: DepartmentCode,
        due_at: Timestamp,
    },
    /// The citizen added information (shown to staff and to the citizen, not in public).
    CitizenUpdate {
        note: String,
    },
    /// A department wrote to the citizen (shown to the citizen and staff only).
    NoteToCitizen {
        note: String,
    },
    /// A department said "not ours": the request is routed again without it.
    HandedBack {
        department: DepartmentCode,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Another report of an open request: this one follows it instead.
    LinkedAsDuplicate {
        of: crate::ids::CaseNumber,
    },
    /// A later report of the same problem follows this request.
    FollowerAdded {
        follower: crate::ids::CaseNumber,
    },
    /// Staff said it was not a duplicate after all.
    Unlinked {
        from: crate::ids::CaseNumber,
    },
    /// A report that followed this request was unlinked from it.
    FollowerRemoved {
        follower: crate::ids::CaseNumber,
    },
    /// Most of the SLA has passed (the city's warning share).
    SlaWarning {
        due_at: Timestamp,
    },
    /// The due time passed with the request still open.
    SlaBreached {
        due_at: Timestamp,
    },
    /// A note among staff (never shown to the citizen or the public).
    InternalNote {
        note: String,
    },
    /// The clerk working it changed (`None`: nobody in particular).
    AssigneeChanged {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        assignee: Option<String>,
    },
    /// A department passed the request to another one, which routing assigns.
    Transferred {
        from: DepartmentCode,
        to: DepartmentCode,
        reason: String,
    },
}

impl EventKind {
    /// Whether anybody may see this event (its text stays private either way
    /// for citizen updates).
    pub fn is_public(&self) -> bool {
        !matches!(
            self,
            EventKind::NoteToCitizen { .. } | EventKind::InternalNote { .. }
        )
    }

    /// Whether only staff may see this event (not the citizen either).
    pub fn is_internal(&self) -> bool {
        matches!(
            self,
            EventKind::InternalNote { .. } | EventKind::AssigneeChanged { .. }
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEvent {
    /// Equals the request's version after this event: 1 for creation, then +1 each change.
    pub seq: u64,
    pub at: Timestamp,
    /// Who caused it: `citizen`, `system:classify`, `department:roads`…
    pub actor: String,
    /// The member of staff (or department integration) who made the change,
    /// for the audit trail; `None` for the system's steps and the citizen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<crate::audit::StaffStamp>,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// A citizen's request as the system keeps it (personal data lives elsewhere).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceRequest {
    pub id: RequestId,
    pub case_number: CaseNumber,
    pub jurisdiction: JurisdictionId,
    pub channel: Channel,
    pub language: Language,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_code: Option<ServiceCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification_confidence: Option<f64>,
    pub description: String,
    pub location: Location,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<DepartmentCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    /// The reporter asked that their words and photos not be shown publicly.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub privacy_requested: bool,
    /// The description as the public may read it: cut of personal data
    /// (`rules::redaction`, with the reporter's own details) when submitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_description: Option<String>,
    /// The Open311 client application that filed it: only it may relay updates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open311_client: Option<String>,
    /// SHA-256 of the citizen's tracking token.
    pub tracking_token_hash: String,
    /// Whether a contact item exists (the contact itself is stored apart).
    pub has_contact: bool,
    /// Answers to the service's form (Open311 attributes), by attribute code.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub attributes: std::collections::BTreeMap<String, crate::service_form::Answer>,
    /// Photos: objects the server stored, or links a client gave.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<crate::media::MediaRef>,
    /// The classifier's top services with their probabilities, for the person
    /// who triages an unsure case.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suggestions: Vec<Suggestion>,
    /// Departments that handed the request back; routing passes them over.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub declined_departments: Vec<DepartmentCode>,
    /// The open request this one is another report of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<DuplicateLink>,
    /// The open report the resident chose to follow ("me too"); routing
    /// links it there while that one is still open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follows: Option<CaseNumber>,
    /// The first later reports of the same problem (at most
    /// [`MAX_LISTED_FOLLOWERS`]; every follower is found through the store's
    /// followers list, and `follower_count` counts them all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub followers: Vec<DuplicateLink>,
    /// How many reports follow this one (a thousand people reporting one
    /// flooded underpass is one original with a count, not a growing item).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub follower_count: u64,
    /// When the SLA warning is due (a share of the SLA, in business time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_warning_at: Option<Timestamp>,
    /// SLA events already emitted for the current assignment (each goes out once).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sla_warned: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sla_breach_noted: bool,
    /// The member of staff (their subject) working it in the department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// Since when the SLA clock is paused (waiting for the citizen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_paused_at: Option<Timestamp>,
    /// The department a transfer asked routing to assign.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_to: Option<DepartmentCode>,
    /// Optimistic-locking version: the number of history events so far.
    pub version: u64,
}

/// How many followers a request item lists by name; the rest are counted.
pub const MAX_LISTED_FOLLOWERS: usize = 20;

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A service the classifier considered, with its calibrated probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    pub service_code: ServiceCode,
    pub probability: f64,
}

/// A link between two reports of the same problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateLink {
    pub request_id: RequestId,
    pub case_number: crate::ids::CaseNumber,
}

impl Change {
    /// The change as made by a member of staff (or a department's integration).
    pub fn by(mut self, stamp: &crate::audit::StaffStamp) -> Self {
        self.event.by = Some(stamp.clone());
        self
    }
}

/// A change to apply atomically: the request as it will be, the version it must
/// still have, and the history event that records it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub expected_version: u64,
    pub request: ServiceRequest,
    pub event: HistoryEvent,
}

impl ServiceRequest {
    fn change(&self, at: Timestamp, actor: &str, kind: EventKind, next: ServiceRequest) -> Change {
        let mut request = next;
        request.version = self.version + 1;
        request.updated_at = at;
        Change {
            expected_version: self.version,
            event: HistoryEvent {
                seq: request.version,
                at,
                actor: actor.to_owned(),
                by: None,
                kind,
            },
            request,
        }
    }

    /// Records the service chosen by classification (status unchanged).
    pub fn classify(
        &self,
        service_code: ServiceCode,
        confidence: f64,
        at: Timestamp,
        actor: &str,
    ) -> Change {
        let mut next = self.clone();
        next.service_code = Some(service_code.clone());
        next.classification_confidence = Some(confidence);
        self.change(
            at,
            actor,
            EventKind::Classified {
                service_code,
                confidence,
            },
            next,
        )
    }

    /// Moves the request to another status, checked against the life cycle.
    pub fn move_to(
        &self,
        to: Status,
        note: Option<String>,
        at: Timestamp,
        actor: &str,
    ) -> Result<Change, IllegalTransition> {
        self.status.transition_to(to)?;
        let mut next = self.clone();
        next.status = to;
        if to == Status::WaitingForCitizen {
            next.sla_paused_at = Some(at);
        } else if let Some(paused_at) = next.sla_paused_at.take() {
            // The clock goes on where it stopped: the wait moves the due times.
            let waited = at.duration_since(paused_at).max(jiff::SignedDuration::ZERO);
            next.due_at = next.due_at.and_then(|d| d.checked_add(waited).ok());
            next.sla_warning_at = next.sla_warning_at.and_then(|d| d.checked_add(waited).ok());
        }
        if to == Status::Triaged {
            next.assignee = None;
        }
        if to == Status::Resolved {
            next.resolved_at = Some(at);
            next.resolution = note.clone();
        }
        if to == Status::Reopened {
            next.resolved_at = None;
            next.resolution = None;
        }
        Ok(self.change(
            at,
            actor,
            EventKind::StatusChanged {
                from: self.status,
                to,
                note,
            },
            next,
        ))
    }

    /// Assigns the request to a department with a due time; status becomes `assigned`.
    pub fn assign(
        &self,
        department: DepartmentCode,
        due_at: Timestamp,
        warning_at: Timestamp,
        at: Timestamp,
        actor: &str,
    ) -> Result<Change, IllegalTransition> {
        self.status.transition_to(Status::Assigned)?;
        let mut next = self.clone();
        next.status = Status::Assigned;
        next.department = Some(department.clone());
        next.due_at = Some(due_at);
        next.sla_warning_at = Some(warning_at);
        next.sla_warned = false;
        next.sla_breach_noted = false;
        next.sla_paused_at = None;
        next.transfer_to = None;
        if self.department.as_ref() != Some(&department) {
            next.assignee = None;
        }
        Ok(self.change(at, actor, EventKind::Assigned { department, due_at }, next))
    }

    /// A department passes the request to `to` with a reason: it leaves the
    /// department's work (status `triaged`) and routing assigns it to `to`.
    pub fn transfer(
        &self,
        to: DepartmentCode,
        reason: String,
        at: Timestamp,
        actor: &str,
    ) -> Result<Change, IllegalTransition> {
        self.status.transition_to(Status::Triaged)?;
        let from = self.department.clone().unwrap_or_else(|| to.clone());
        let mut next = self.clone();
        next.status = Status::Triaged;
        next.department = None;
        next.due_at = None;
        next.sla_warning_at = None;
        next.sla_paused_at = None;
        next.assignee = None;
        next.transfer_to = Some(to.clone());
        Ok(self.change(at, actor, EventKind::Transferred { from, to, reason }, next))
    }

    /// Who in the department works it (`None`: back to the department's pool).
    pub fn assign_to(&self, assignee: Option<String>, at: Timestamp, actor: &str) -> Change {
        let mut next = self.clone();
        next.assignee = assignee.clone();
        self.change(at, actor, EventKind::AssigneeChanged { assignee }, next)
    }

    /// A department hands the request back ("not ours"): it leaves the
    /// department's work, is remembered as declined, and waits to be routed again.
    pub fn hand_back(
        &self,
        department: &DepartmentCode,
        reason: Option<String>,
        at: Timestamp,
        actor: &str,
    ) -> Result<Change, IllegalTransition> {
        self.status.transition_to(Status::Triaged)?;
        let mut next = self.clone();
        next.status = Status::Triaged;
        next.department = None;
        next.due_at = None;
        next.sla_warning_at = None;
        next.sla_paused_at = None;
        next.assignee = None;
        if !next.declined_departments.contains(department) {
            next.declined_departments.push(department.clone());
        }
        Ok(self.change(
            at,
            actor,
            EventKind::HandedBack {
                department: department.clone(),
                reason,
            },
            next,
        ))
    }

    /// This request is another report of `original`: it follows it instead of
    /// being routed (status `duplicate`).
    pub fn link_as_duplicate(
        &self,
        original: DuplicateLink,
        at: Timestamp,
        actor: &str,
    ) -> Result<Change, IllegalTransition> {
        self.status.transition_to(Status::Duplicate)?;
        let mut next = self.clone();
        next.status = Status::Duplicate;
        let of = original.case_number.clone();
        next.duplicate_of = Some(original);
        // The resident's choice is spent: from here the link is the record.
        next.follows = None;
        Ok(self.change(at, actor, EventKind::LinkedAsDuplicate { of }, next))
    }

    /// The followers there are (items written before the count was kept count their list).
    pub fn followers_total(&self) -> u64 {
        self.follower_count.max(self.followers.len() as u64)
    }

    /// Adds a follower; `None` when it already follows (a repeated delivery
    /// of one of the listed followers).
    pub fn add_follower(
        &self,
        follower: DuplicateLink,
        at: Timestamp,
        actor: &str,
    ) -> Option<Change> {
        if self
            .followers
            .iter()
            .any(|f| f.request_id == follower.request_id)
        {
            return None;
        }
        let mut next = self.clone();
        let case = follower.case_number.clone();
        next.follower_count = self.followers_total() + 1;
        if next.followers.len() < MAX_LISTED_FOLLOWERS {
            next.followers.push(follower);
        }
        Some(self.change(at, actor, EventKind::FollowerAdded { follower: case }, next))
    }

    /// Staff say this was not a duplicate: it is reopened and routed on its own.
    pub fn unlink(&self, at: Timestamp, actor: &str) -> Result<Change, IllegalTransition> {
        self.status.transition_to(Status::Reopened)?;
        let mut next = self.clone();
        next.status = Status::Reopened;
        let from = next
            .duplicate_of
            .take()
            .map(|l| l.case_number)
            .unwrap_or_else(|| self.case_number.clone());
        Ok(self.change(at, actor, EventKind::Unlinked { from }, next))
    }

    /// Removes a follower that staff unlinked; `None` when it is not listed
    /// and not `known` to follow (a repeat).
    pub fn drop_follower(
        &self,
        follower: &DuplicateLink,
        known: bool,
        at: Timestamp,
        actor: &str,
    ) -> Option<Change> {
        let listed = self
            .followers
            .iter()
            .any(|f| f.request_id == follower.request_id);
        if !listed && !known {
            return None;
        }
        let mut next = self.clone();
        next.follower_count = self.followers_total().saturating_sub(1);
        next.followers
            .retain(|f| f.request_id != follower.request_id);
        Some(self.change(
            at,
            actor,
            EventKind::FollowerRemoved {
                follower: follower.case_number.clone(),
            },
            next,
        ))
    }

    pub fn link(&self) -> DuplicateLink {
        DuplicateLink {
            request_id: self.id.clone(),
            case_number: self.case_number.clone(),
        }
    }

    /// Records an event that changes no status (a citizen's or department's note).
    pub fn record(&self, kind: EventKind, at: Timestamp, actor: &str) -> Change {
        self.change(at, actor, kind, self.clone())
    }

    /// Whether the due time has passed (at `now` for open work, when the clock
    /// was paused for work waiting for the citizen, at resolution otherwise).
    pub fn breached_sla(&self, now: Timestamp) -> bool {
        match (self.due_at, self.resolved_at) {
            (Some(due), Some(resolved)) => resolved > due,
            // A paused clock stands where it stopped.
            (Some(due), None) => {
                !self.status.is_closed() && self.sla_paused_at.unwrap_or(now) > due
            }
            _ => false,
        }
    }
}
