//! The table's change stream, read back as the outbox: a new history event
//! item becomes a [`CommittedEvent`]. Every other item (the request itself,
//! contacts, ledgers, keys) is not an event and is passed over.

use citydesk_core::ids::RequestId;
use citydesk_core::outbox::{CommittedEvent, RequestSnapshot};
use citydesk_core::ports::PortError;
use citydesk_core::request::HistoryEvent;
use serde::Deserialize;

use super::keys::{EVENT_PREFIX, REQUEST_PREFIX, SNAPSHOT_ATTRIBUTE};

/// The key attributes of any item.
#[derive(Deserialize)]
struct ItemKey {
    pk: String,
    sk: String,
}

/// The snapshot stored beside an event.
#[derive(Deserialize)]
struct WithSnapshot {
    #[serde(rename = "snapshot")]
    snapshot: Option<RequestSnapshot>,
}

/// The committed event a stream record's new image holds; `None` for items
/// that are not history events.
pub fn committed_event(new_image: serde_dynamo::Item) -> Result<Option<CommittedEvent>, PortError> {
    let decode = |what: &'static str, e: serde_dynamo::Error| {
        PortError::permanent("decode stream record", format!("{what}: {e}"))
    };
    let key: ItemKey =
        serde_dynamo::from_item(new_image.clone()).map_err(|e| decode("item key", e))?;
    let (Some(raw_id), true) = (
        key.pk.strip_prefix(REQUEST_PREFIX),
        key.sk.starts_with(EVENT_PREFIX),
    ) else {
        return Ok(None);
    };
    let request_id = RequestId::parse(raw_id)
        .map_err(|e| PortError::permanent("decode stream record", e.to_string()))?;
    let with: WithSnapshot =
        serde_dynamo::from_item(new_image.clone()).map_err(|e| decode(SNAPSHOT_ATTRIBUTE, e))?;
    let snapshot = with.snapshot.ok_or_else(|| {
        PortError::permanent(
            "decode stream record",
            format!("history event of {request_id} without its {SNAPSHOT_ATTRIBUTE}"),
        )
    })?;
    let event: HistoryEvent =
        serde_dynamo::from_item(new_image).map_err(|e| decode("history event", e))?;
    Ok(Some(CommittedEvent {
        request_id,
        event,
        snapshot,
    }))
}
