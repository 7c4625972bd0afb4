//! The table's side of a person's export and erasure: the person index
//! (`PERSON#<HMAC of a phone or e-mail>`), contact items, anonymising a
//! request and its history in place, and the record of each erasure.

use citydesk_core::ids::RequestId;
use citydesk_core::ports::PortError;
use citydesk_core::request::{EventKind, HistoryEvent, ServiceRequest};
use jiff::Timestamp;

use super::DynamoStore;
use super::items::{Item, s};
use super::keys::{CONTACT_SK, event_sk, person_pk, request_pk};
use crate::sdk_error;

impl DynamoStore {
    /// The requests a person key finds (one item per request under it).
    pub async fn person_requests(&self, person_key: &str) -> Result<Vec<RequestId>, PortError> {
        let items = self
            .partition(person_pk(person_key), "query person")
            .await?;
        Ok(items
            .iter()
            .filter_map(|item| item.get("request_id")?.as_s().ok())
            .filter_map(|raw| RequestId::parse(raw).ok())
            .collect())
    }

    /// Removes a request's entries under each person key.
    pub async fn delete_person_entries(
        &self,
        person_keys: &[String],
        id: &RequestId,
    ) -> Result<(), PortError> {
        for key in person_keys {
            self.client
                .delete_item()
                .table_name(&self.table)
                .key("pk", s(person_pk(key)))
                .key("sk", s(request_pk(id)))
                .send()
                .await
                .map_err(|e| sdk_error("delete person entry", &e.into_service_error()))?;
        }
        Ok(())
    }

    /// Deletes a request's contact item (absent already is fine).
    pub async fn delete_contact(&self, id: &RequestId) -> Result<(), PortError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(request_pk(id)))
            .key("sk", s(CONTACT_SK))
            .send()
            .await
            .map_err(|e| sdk_error("delete contact", &e.into_service_error()))?;
        Ok(())
    }

    /// Writes the anonymised request over the one read, if nobody changed it
    /// since (`version`); false when somebody did (read again and retry).
    pub async fn replace_anonymised(
        &self,
        read: &ServiceRequest,
        anonymised: &ServiceRequest,
    ) -> Result<bool, PortError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(self.request_item(anonymised)?))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", super::items::n(read.version))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) => {
                let err = e.into_service_error();
                if err.is_conditional_check_failed_exception() {
                    Ok(false)
                } else {
                    Err(sdk_error("anonymise request", &err))
                }
            }
        }
    }

    /// Rewrites the one text of a history event (its `note` or `reason`),
    /// leaving the rest of the event and its snapshot as they were.
    pub async fn rewrite_event_text(
        &self,
        id: &RequestId,
        event: &HistoryEvent,
    ) -> Result<(), PortError> {
        let (attribute, text) = match &event.kind {
            EventKind::CitizenUpdate { note } | EventKind::NoteToCitizen { note } => ("note", note),
            EventKind::StatusChanged {
                note: Some(note), ..
            } => ("note", note),
            EventKind::HandedBack {
                reason: Some(reason),
                ..
            } => ("reason", reason),
            _ => return Ok(()),
        };
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(request_pk(id)))
            .key("sk", s(event_sk(event.seq)))
            .update_expression("SET #text = :text")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#text", attribute)
            .expression_attribute_values(":text", s(text))
            .send()
            .await
            .map_err(|e| sdk_error("rewrite event", &e.into_service_error()))?;
        Ok(())
    }

    /// Records that an erasure ran for a person key: when and how many
    /// requests it anonymised (no identifier, no content).
    pub async fn record_erasure(
        &self,
        person_key: &str,
        at: Timestamp,
        requests: usize,
    ) -> Result<(), PortError> {
        let mut item = Item::new();
        item.insert("pk".into(), s(format!("ERASURE#{person_key}")));
        item.insert("sk".into(), s(format!("AT#{at}")));
        item.insert("requests".into(), super::items::n(requests as u64));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| sdk_error("record erasure", &e.into_service_error()))?;
        Ok(())
    }

    /// The erasures recorded for a person key, oldest first: (when, requests).
    pub async fn erasures(&self, person_key: &str) -> Result<Vec<(String, u64)>, PortError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(format!("ERASURE#{person_key}")))
            .send()
            .await
            .map_err(|e| sdk_error("query erasures", &e.into_service_error()))?;
        Ok(out
            .items()
            .iter()
            .filter_map(|item| {
                let at = item.get("sk")?.as_s().ok()?.strip_prefix("AT#")?.to_owned();
                let requests = item.get("requests")?.as_n().ok()?.parse().ok()?;
                Some((at, requests))
            })
            .collect())
    }
}
