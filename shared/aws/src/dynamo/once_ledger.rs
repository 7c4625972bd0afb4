//! "Do this once" records (the Powertools idempotency algorithm, one conditional put).

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use citydesk_core::ports::{Claim, OnceLedger, PortError};
use jiff::{SignedDuration, Timestamp};

use super::keys::once_pk;
use super::{DynamoStore, LEDGER_TTL_DAYS};
use crate::sdk_error;

const SK: &str = super::keys::ONCE_SK;

#[async_trait]
impl OnceLedger for DynamoStore {
    async fn claim(
        &self,
        key: &str,
        now: Timestamp,
        lock_until: Timestamp,
    ) -> Result<Claim, PortError> {
        let expires = now
            .saturating_add(SignedDuration::from_hours(24 * LEDGER_TTL_DAYS))
            .unwrap_or(now);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(once_pk(key)))
            .item("sk", AttributeValue::S(SK.into()))
            .item("state", AttributeValue::S("INPROGRESS".into()))
            .item("lock_until", AttributeValue::N(lock_until.as_second().to_string()))
            .item("expires_at", AttributeValue::N(expires.as_second().to_string()))
            .condition_expression(
                "attribute_not_exists(pk) OR expires_at < :now OR (#state = :in_progress AND lock_until < :now)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":now", AttributeValue::N(now.as_second().to_string()))
            .expression_attribute_values(":in_progress", AttributeValue::S("INPROGRESS".into()))
            .return_values_on_condition_check_failure(
                aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(Claim::Acquired),
            Err(e) => match e.into_service_error() {
                PutItemError::ConditionalCheckFailedException(failed) => {
                    let state = failed
                        .item
                        .as_ref()
                        .and_then(|i| i.get("state"))
                        .and_then(|v| v.as_s().ok())
                        .cloned();
                    match state.as_deref() {
                        Some("COMPLETED") => Ok(Claim::AlreadyDone),
                        Some(_) => Ok(Claim::InProgress),
                        // Older emulators do not return the item: read it.
                        None => self.read_claim(key).await,
                    }
                }
                other => Err(sdk_error("claim", &other)),
            },
        }
    }

    async fn complete(&self, key: &str) -> Result<(), PortError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(once_pk(key)))
            .key("sk", AttributeValue::S(SK.into()))
            .update_expression("SET #state = :done")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":done", AttributeValue::S("COMPLETED".into()))
            .send()
            .await
            .map_err(|e| sdk_error("complete claim", &e.into_service_error()))?;
        Ok(())
    }

    async fn release(&self, key: &str) -> Result<(), PortError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(once_pk(key)))
            .key("sk", AttributeValue::S(SK.into()))
            .send()
            .await
            .map_err(|e| sdk_error("release claim", &e.into_service_error()))?;
        Ok(())
    }
}

impl DynamoStore {
    async fn read_claim(&self, key: &str) -> Result<Claim, PortError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(once_pk(key)))
            .key("sk", AttributeValue::S(SK.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("read claim", &e.into_service_error()))?;
        let done = out
            .item
            .as_ref()
            .and_then(|i| i.get("state"))
            .and_then(|v| v.as_s().ok())
            .is_some_and(|s| s == "COMPLETED");
        Ok(if done {
            Claim::AlreadyDone
        } else {
            Claim::InProgress
        })
    }
}
