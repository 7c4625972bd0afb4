//! The contact centre's log of contacts resolved without a request, and the
//! person index as the operators' lookup reads it.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::TransactWriteItem;
use citydesk_core::ids::RequestId;
use citydesk_core::ports::{ContactLog, PersonIndex, PortError};
use citydesk_core::usecases::operator_desk::ContactRecord;

use super::DynamoStore;
use super::items::{from_item, put, to_item};
use crate::sdk_error;

/// The record of one contact, by its business key (the guard of a repeat).
fn contact_pk(id: &str) -> String {
    format!("FCR#{id}")
}
const CONTACT_SK: &str = "CONTACT";
/// A day's contacts, for the reports (`FCRDAY#<UTC date>`, `<at>#<id>`).
fn contact_day_pk(record: &ContactRecord) -> String {
    format!("FCRDAY#{}", record.at.strftime("%Y-%m-%d"))
}

#[async_trait]
impl ContactLog for DynamoStore {
    async fn record(&self, entry: &ContactRecord) -> Result<Option<ContactRecord>, PortError> {
        let guard = to_item(entry, contact_pk(&entry.id), CONTACT_SK)?;
        let listed = to_item(
            entry,
            contact_day_pk(entry),
            &format!("{}#{}", entry.at, entry.id),
        )?;
        let items: Vec<TransactWriteItem> = vec![
            put(&self.table, guard, Some("attribute_not_exists(pk)"), &[])?,
            put(&self.table, listed, None, &[])?,
        ];
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match result {
            Ok(_) => Ok(None),
            Err(e) => {
                let err = e.into_service_error();
                if err.is_transaction_canceled_exception() {
                    let earlier = self
                        .get_item(contact_pk(&entry.id), CONTACT_SK)
                        .await?
                        .ok_or_else(|| {
                            PortError::retryable("record contact", "cancelled, yet not recorded")
                        })?;
                    let mut earlier = earlier;
                    earlier.remove("pk");
                    earlier.remove("sk");
                    Ok(Some(from_item(earlier)?))
                } else {
                    Err(sdk_error("record contact", &err))
                }
            }
        }
    }
}

#[async_trait]
impl PersonIndex for DynamoStore {
    async fn requests_of(&self, person_key: &str) -> Result<Vec<RequestId>, PortError> {
        self.person_requests(person_key).await
    }
}
