//! The contact centre's log of contacts resolved without a request, and the
//! person index as the operators' lookup reads it.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::TransactWriteItem;
use citydesk_core::ids::RequestId;
use citydesk_core::ports::{ContactLog, PersonIndex, PortError};
use citydesk_core::usecases::operator_desk::ContactRecord;

use super::DynamoStore;
use super::items::{from_item, put, s, to_item};
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

    async fn recorded_between(
        &self,
        from: jiff::Timestamp,
        to: jiff::Timestamp,
    ) -> Result<Vec<ContactRecord>, PortError> {
        let mut found = Vec::new();
        let last = to
            .checked_sub(jiff::SignedDuration::from_nanos(1))
            .unwrap_or(to);
        let mut day = from.to_zoned(jiff::tz::TimeZone::UTC).date();
        let end = last.to_zoned(jiff::tz::TimeZone::UTC).date();
        while day <= end {
            let mut start = None;
            loop {
                let out = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("pk = :pk")
                    .expression_attribute_values(":pk", s(format!("FCRDAY#{day}")))
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .map_err(|e| sdk_error("contacts of a day", &e.into_service_error()))?;
                for mut item in out.items.unwrap_or_default() {
                    item.remove("pk");
                    item.remove("sk");
                    let record: ContactRecord = from_item(item)?;
                    if record.at >= from && record.at < to {
                        found.push(record);
                    }
                }
                match out.last_evaluated_key.filter(|k| !k.is_empty()) {
                    Some(next) => start = Some(next),
                    None => break,
                }
            }
            day = match day.tomorrow() {
                Ok(next) => next,
                Err(_) => break,
            };
        }
        Ok(found)
    }
}

#[async_trait]
impl PersonIndex for DynamoStore {
    async fn requests_of(&self, person_key: &str) -> Result<Vec<RequestId>, PortError> {
        self.person_requests(person_key).await
    }
}
