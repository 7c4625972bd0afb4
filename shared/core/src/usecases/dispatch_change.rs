//! The dispatcher: each committed history event, as the table's change stream
//! delivers it, goes to the pipeline step or department queue that reacts to
//! it (see [`crate::outbox::reactions`]) and, as a domain event, to the
//! city's bus. Delivery is at least once: every consumer de-duplicates on the
//! business key (`request id`, `seq`), and the bus event keeps its `event_id`
//! when it is published again.

use tracing::instrument;

use crate::catalogue::Catalogues;
use crate::outbox::CommittedEvent;
use crate::outbox::bus_events::bus_event;
use crate::outbox::reactions::{Reaction, reactions};
use crate::ports::{DepartmentQueues, EventBus, PipelineQueue};
use crate::usecases::StepError;

pub struct Dispatch<'a> {
    pub queue: &'a dyn PipelineQueue,
    pub department_queues: &'a dyn DepartmentQueues,
    pub bus: &'a dyn EventBus,
    /// Every city's catalogue: a department's queue name comes from it.
    pub catalogues: &'a Catalogues,
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
    deps.bus.publish(&[bus_event(committed)]).await?;
    Ok(())
}
