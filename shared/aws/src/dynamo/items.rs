//! Item encoding shared by the table's adapters: attribute values, serde
//! items with their keys, conditional puts for transactions, plain reads.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use citydesk_core::ports::PortError;
use jiff::Timestamp;
use serde::{Serialize, de::DeserializeOwned};

use super::DynamoStore;
use crate::sdk_error;

pub(super) type Item = HashMap<String, AttributeValue>;

pub(super) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
pub(super) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(super) fn to_item<T: Serialize>(value: &T, pk: String, sk: &str) -> Result<Item, PortError> {
    let mut item: Item = serde_dynamo::to_item(value)
        .map_err(|e| PortError::permanent("encode item", e.to_string()))?;
    item.insert("pk".into(), s(pk));
    item.insert("sk".into(), s(sk));
    Ok(item)
}

pub(super) fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, PortError> {
    serde_dynamo::from_item(item).map_err(|e| PortError::permanent("decode item", e.to_string()))
}

pub(super) fn put(
    table: &str,
    item: Item,
    condition: Option<&str>,
    values: &[(&str, AttributeValue)],
) -> Result<TransactWriteItem, PortError> {
    let mut builder = Put::builder().table_name(table).set_item(Some(item));
    if let Some(c) = condition {
        builder = builder.condition_expression(c);
    }
    for (k, v) in values {
        builder = builder.expression_attribute_values(*k, v.clone());
    }
    let put = builder
        .build()
        .map_err(|e| PortError::permanent("build put", e.to_string()))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

pub(super) fn epoch(t: Timestamp) -> i64 {
    t.as_second()
}

impl DynamoStore {
    /// One item by its key, read consistently.
    pub(super) async fn get_item(&self, pk: String, sk: &str) -> Result<Option<Item>, PortError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("get item", &e.into_service_error()))?;
        Ok(out.item)
    }
}
