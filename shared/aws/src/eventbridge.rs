//! The city's event bus on EventBridge: domain events as `PutEvents` entries
//! (source `citydesk`, the versioned detail-type, the detail as JSON).

use async_trait::async_trait;
use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use citydesk_core::outbox::bus_events::{BusEvent, SOURCE};
use citydesk_core::ports::{EventBus, PortError};

use crate::sdk_error;

/// At most this many entries go in one `PutEvents` call (the service's limit).
const ENTRIES_PER_CALL: usize = 10;

#[derive(Debug, Clone)]
pub struct EventBridgeBus {
    client: Client,
    bus_name: String,
}

impl EventBridgeBus {
    pub fn new(client: Client, bus_name: impl Into<String>) -> Self {
        Self {
            client,
            bus_name: bus_name.into(),
        }
    }
}

#[async_trait]
impl EventBus for EventBridgeBus {
    async fn publish(&self, events: &[BusEvent]) -> Result<(), PortError> {
        for chunk in events.chunks(ENTRIES_PER_CALL) {
            let mut entries = Vec::with_capacity(chunk.len());
            for event in chunk {
                let detail = serde_json::to_string(&event.detail)
                    .map_err(|e| PortError::permanent("encode event", e.to_string()))?;
                entries.push(
                    PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus_name)
                        .source(SOURCE)
                        .detail_type(event.detail_type)
                        .detail(detail)
                        // The envelope's time is when the change happened, not when it was put.
                        .time(aws_sdk_eventbridge::primitives::DateTime::from_millis(
                            event.detail.occurred_at.as_millisecond(),
                        ))
                        .build(),
                );
            }
            let out = self
                .client
                .put_events()
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| sdk_error("put events", &e.into_service_error()))?;
            if out.failed_entry_count > 0 {
                // The whole chunk is published again: subscribers de-duplicate on event_id.
                let first = out
                    .entries()
                    .iter()
                    .find_map(|e| {
                        e.error_code()
                            .map(|c| format!("{c}: {}", e.error_message().unwrap_or("")))
                    })
                    .unwrap_or_default();
                return Err(PortError::retryable(
                    "put events",
                    format!(
                        "{} of {} entries refused ({first})",
                        out.failed_entry_count,
                        chunk.len()
                    ),
                ));
            }
        }
        Ok(())
    }
}
