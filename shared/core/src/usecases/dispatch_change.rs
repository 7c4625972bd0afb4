//! The dispatcher: each committed history event, as the table's change stream
//! delivers it, goes to the pipeline step or department queue that reacts to
//! it (see [`crate::outbox::reactions`]) and, as a domain event, to the
//! city's bus. Delivery is at least once: every consumer de-duplicates on the
//! business key (`request id`, `seq`), and the bus event keeps its `event_id`
//! when it is published again.

use tracing::instrument;

use crate::audit::AuditRecord;
use crate::catalogue::Catalogues;
use crate::outbox::CommittedEvent;
use crate::outbox::bus_events::bus_event;
use crate::outbox::reactions::{Reaction, reactions};
use crate::ports::{AuditTrail, ContactRetention, DepartmentQueues, EventBus, PipelineQueue};
use crate::request::EventKind;
use crate::status::Status;
use crate::usecases::StepError;
use jiff::Timestamp;

pub struct Dispatch<'a> {
    pub queue: &'a dyn PipelineQueue,
    pub department_queues: &'a dyn DepartmentQueues,
    pub bus: &'a dyn EventBus,
    /// Every city's catalogue: a department's queue name comes from it.
    pub catalogues: &'a Catalogues,
    /// A closed request's contact is kept for the city's retention, a
    /// reopened one's for as long as it is open again.
    pub contacts: &'a dyn ContactRetention,
    /// Where a staff member's change is recorded for the quality team.
    pub audit: &'a dyn AuditTrail,
}

#[instrument(skip_all, fields(request_id = %committed.request_id, seq = committed.event.seq))]
pub async fn dispatch_change(
    deps: &Dispatch<'_>,
    committed: &CommittedEvent,
) -> Result<(), StepError> {
    let to_send = reactions(committed).map_err(|e| StepError::Poison(e.to_string()))?;
    for reaction in to_send {
        match reaction {
            Reaction::Pipeline(message) => deps.queue.send(&message).await?,
            Reaction::Department(message) => {
                let queue = deps
                    .catalogues
                    .get(&committed.snapshot.jurisdiction)
                    .and_then(|c| c.department(&message.department))
                    .map(|d| d.queue.clone())
                    .ok_or_else(|| {
                        StepError::Poison(format!(
                            "department {} of {} is not in the catalogue",
                            message.department, committed.snapshot.jurisdiction
                        ))
                    })?;
                deps.department_queues
                    .send_assignment(&queue, &message)
                    .await?;
            }
        }
    }
    if let Some(catalogue) = deps.catalogues.get(&committed.snapshot.jurisdiction)
        && let Some(until) = contact_retention(committed, catalogue.city().contact_retention())
    {
        deps.contacts
            .retain_contact_until(&committed.request_id, until)
            .await?;
    }
    if let Some(record) = AuditRecord::of_change(
        &committed.request_id,
        &committed.snapshot.case_number,
        &committed.event,
    ) {
        deps.audit.append(&record).await?;
    }
    deps.bus.publish(&[bus_event(committed)]).await?;
    Ok(())
}

/// How an event changes how long the contact is kept: `Some(Some(t))` when
/// the request closes (kept until `t`), `Some(None)` when it opens again,
/// `None` when it does not change.
pub fn contact_retention(
    committed: &CommittedEvent,
    after_closure: jiff::SignedDuration,
) -> Option<Option<Timestamp>> {
    let closes_at = |at: Timestamp| Some(Some(at.saturating_add(after_closure).unwrap_or(at)));
    match &committed.event.kind {
        EventKind::StatusChanged { to, .. } if to.is_closed() => closes_at(committed.event.at),
        EventKind::StatusChanged {
            to: Status::Reopened,
            ..
        }
        | EventKind::Unlinked { .. } => Some(None),
        EventKind::LinkedAsDuplicate { .. } => closes_at(committed.event.at),
        _ => None,
    }
}
