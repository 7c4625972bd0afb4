//! What the service remembers of the numbers that text it: `TEXTER#<contact
//! key>` / `PROFILE` (language, STOP; kept), `TEXTER#<key>` / `CONVERSATION`
//! (the question asked; `expires_at` lets the table's TTL remove it); and
//! the rate counters, `COUNT#<what>#<window start>` / `COUNT` (one atomic
//! `ADD` each, expiring when the caller says). A number is only ever its
//! HMAC under the deployment's contact key.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use citydesk_core::channels::texter::{Conversation, TexterProfile};
use citydesk_core::ports::{PortError, RateCounter, TexterStore};
use jiff::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::DynamoStore;
use super::items::{epoch, n, s};
use crate::sdk_error;

const PROFILE_SK: &str = "PROFILE";
const CONVERSATION_SK: &str = "CONVERSATION";
const COUNT_SK: &str = "COUNT";

fn texter_pk(key: &str) -> String {
    format!("TEXTER#{key}")
}

fn encode<T: Serialize>(value: &T) -> Result<AttributeValue, PortError> {
    serde_dynamo::to_attribute_value(value)
        .map_err(|e| PortError::permanent("encode texter item", e.to_string()))
}

fn decode<T: DeserializeOwned>(value: AttributeValue) -> Result<T, PortError> {
    serde_dynamo::from_attribute_value(value)
        .map_err(|e| PortError::permanent("decode texter item", e.to_string()))
}

impl DynamoStore {
    async fn state<T: DeserializeOwned>(
        &self,
        key: &str,
        sk: &str,
        attribute: &str,
    ) -> Result<Option<(T, i64)>, PortError> {
        let Some(mut item) = self.get_item(texter_pk(key), sk).await? else {
            return Ok(None);
        };
        let expires_at = item
            .get("expires_at")
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(i64::MAX);
        match item.remove(attribute) {
            Some(value) => Ok(Some((decode(value)?, expires_at))),
            None => Ok(None),
        }
    }

    /// A conditional put; `false` when the condition failed.
    async fn put_state(
        &self,
        request: aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder,
        operation: &'static str,
    ) -> Result<bool, PortError> {
        match request.send().await {
            Ok(_) => Ok(true),
            Err(e) => match e.into_service_error() {
                PutItemError::ConditionalCheckFailedException(_) => Ok(false),
                other => Err(sdk_error(operation, &other)),
            },
        }
    }
}

#[async_trait]
impl TexterStore for DynamoStore {
    async fn profile(&self, key: &str) -> Result<Option<TexterProfile>, PortError> {
        Ok(self
            .state(key, PROFILE_SK, "profile")
            .await?
            .map(|(profile, _)| profile))
    }

    async fn save_profile(&self, profile: &TexterProfile) -> Result<bool, PortError> {
        let mut saved = profile.clone();
        saved.version += 1;
        let mut request = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(texter_pk(&profile.key)))
            .item("sk", s(PROFILE_SK))
            .item("profile", encode(&saved)?)
            .item("version", n(saved.version));
        request = if profile.version == 0 {
            request.condition_expression("attribute_not_exists(pk)")
        } else {
            request
                .condition_expression("version = :v")
                .expression_attribute_values(":v", n(profile.version))
        };
        self.put_state(request, "save texter profile").await
    }

    async fn conversation(
        &self,
        key: &str,
        now: Timestamp,
    ) -> Result<Option<Conversation>, PortError> {
        Ok(self
            .state::<Conversation>(key, CONVERSATION_SK, "conversation")
            .await?
            // TTL deletes lazily: an expired conversation is none.
            .filter(|(_, expires_at)| *expires_at > epoch(now))
            .map(|(conversation, _)| conversation))
    }

    async fn save_conversation(&self, conversation: &Conversation) -> Result<bool, PortError> {
        let mut saved = conversation.clone();
        saved.version += 1;
        let now = n(epoch(conversation.written_at()));
        let mut request = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(texter_pk(&conversation.key)))
            .item("sk", s(CONVERSATION_SK))
            .item("conversation", encode(&saved)?)
            .item("version", n(saved.version))
            .item("expires_at", n(epoch(conversation.expires_at)))
            .expression_attribute_values(":now", now);
        request = if conversation.version == 0 {
            request.condition_expression("attribute_not_exists(pk) OR expires_at <= :now")
        } else {
            request
                .condition_expression("version = :v AND expires_at > :now")
                .expression_attribute_values(":v", n(conversation.version))
        };
        self.put_state(request, "save conversation").await
    }

    async fn end_conversation(&self, key: &str) -> Result<(), PortError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(texter_pk(key)))
            .key("sk", s(CONVERSATION_SK))
            .send()
            .await
            .map_err(|e| sdk_error("end conversation", &e.into_service_error()))?;
        Ok(())
    }
}

#[async_trait]
impl RateCounter for DynamoStore {
    async fn count(&self, key: &str, window: Timestamp, keep_secs: i64) -> Result<u32, PortError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(format!("COUNT#{key}#{}", epoch(window))))
            .key("sk", s(COUNT_SK))
            .update_expression("ADD events :one SET expires_at = :expires")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":expires", n(epoch(window) + keep_secs))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| sdk_error("count message", &e.into_service_error()))?;
        Ok(out
            .attributes
            .and_then(|a| a.get("events").and_then(|v| v.as_n().ok()).cloned())
            .and_then(|v| v.parse().ok())
            .unwrap_or(1))
    }
}
