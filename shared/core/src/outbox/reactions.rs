//! What each committed history event sets off in the pipeline. One table,
//! read top to bottom, instead of a send after every commit in every writer.
//!
//! | event | goes to |
//! |---|---|
//! | created, without a service | classification, and the citizen's confirmation |
//! | created, with the citizen's service | routing, and the confirmation |
//! | classified (by the classifier or an operator) | routing |
//! | left for triage, any status change | the citizen's notification |
//! | resolved or rejected, with followers | also the followers' notices, a page of them per message |
//! | reopened (by the citizen), unlinked, handed back | routing (again) |
//! | assigned | the department's own queue, and the citizen's notification |
//! | linked as a duplicate, note to the citizen | the citizen's notification |
//! | SLA warning or breach | an alert on the department's own queue |
//! | citizen update, follower added or removed | nothing but the bus |

use crate::messages::{AssignmentMessage, PipelineMessage, SlaAlert};
use crate::request::EventKind;
use crate::status::Status;

use super::CommittedEvent;

/// One message the dispatcher sends for a committed event.
#[derive(Debug, Clone, PartialEq)]
pub enum Reaction {
    /// To the classify, route or notify queue.
    Pipeline(PipelineMessage),
    /// To the assigned department's own queue (new work or an SLA alert).
    Department(AssignmentMessage),
}

/// A committed event that cannot be acted on: it can never succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {event_id}: {reason}")]
pub struct UnusableEvent {
    pub event_id: String,
    pub reason: &'static str,
}

/// The messages a committed event sets off, in the order they are sent.
pub fn reactions(committed: &CommittedEvent) -> Result<Vec<Reaction>, UnusableEvent> {
    let request_id = committed.request_id.clone();
    let seq = committed.event.seq;
    let classify = || {
        Reaction::Pipeline(PipelineMessage::RequestCreated {
            request_id: request_id.clone(),
        })
    };
    let route = || {
        Reaction::Pipeline(PipelineMessage::RequestClassified {
            request_id: request_id.clone(),
        })
    };
    let notify = || {
        Reaction::Pipeline(PipelineMessage::StatusChanged {
            request_id: request_id.clone(),
            seq,
        })
    };
    Ok(match &committed.event.kind {
        EventKind::Created { .. } if committed.snapshot.service_code.is_some() => {
            vec![route(), notify()]
        }
        EventKind::Created { .. } => vec![classify(), notify()],
        EventKind::Classified { .. } => vec![route()],
        EventKind::StatusChanged {
            to: Status::Reopened,
            ..
        } => vec![route(), notify()],
        // How it ended reaches the followers too, fanned out page by page.
        EventKind::StatusChanged {
            to: Status::Resolved | Status::Rejected,
            ..
        } if committed.snapshot.follower_count > 0 => vec![
            notify(),
            Reaction::Pipeline(PipelineMessage::TellFollowers {
                request_id: request_id.clone(),
                seq,
                after: None,
            }),
        ],
        EventKind::StatusChanged { .. } => vec![notify()],
        EventKind::HandedBack { .. }
        | EventKind::Unlinked { .. }
        | EventKind::Transferred { .. } => vec![route()],
        EventKind::Assigned { due_at, .. } => {
            vec![department_message(committed, *due_at, None)?, notify()]
        }
        EventKind::LinkedAsDuplicate { .. } | EventKind::NoteToCitizen { .. } => vec![notify()],
        EventKind::SlaWarning { due_at } => {
            vec![department_message(
                committed,
                *due_at,
                Some(SlaAlert::Warning),
            )?]
        }
        EventKind::SlaBreached { due_at } => {
            vec![department_message(
                committed,
                *due_at,
                Some(SlaAlert::Breached),
            )?]
        }
        EventKind::CitizenUpdate { .. }
        | EventKind::InternalNote { .. }
        | EventKind::AssigneeChanged { .. }
        | EventKind::FollowerAdded { .. }
        | EventKind::FollowerRemoved { .. } => Vec::new(),
    })
}

/// New work or an alert for the department the snapshot names.
fn department_message(
    committed: &CommittedEvent,
    due_at: jiff::Timestamp,
    sla_alert: Option<SlaAlert>,
) -> Result<Reaction, UnusableEvent> {
    let s = &committed.snapshot;
    let (Some(department), Some(service_code)) = (&s.department, &s.service_code) else {
        return Err(UnusableEvent {
            event_id: committed.event_id(),
            reason: "an assignment or SLA event whose request has no department or service",
        });
    };
    Ok(Reaction::Department(AssignmentMessage {
        request_id: committed.request_id.clone(),
        case_number: s.case_number.clone(),
        service_code: service_code.clone(),
        department: department.clone(),
        due_at,
        district: s.district.clone(),
        seq: committed.event.seq,
        sla_alert,
    }))
}
