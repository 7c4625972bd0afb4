//! Item encoding shared by the table's adapters: attribute values, serde
//! items with their keys, conditional puts for transactions, plain reads.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Put, TransactWriteItem};
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

/// BatchGetItem's limit of keys in one call.
const BATCH_GET_KEYS: usize = 100;
/// Calls for what BatchGetItem left unprocessed before giving up (transient).
const BATCH_GET_ATTEMPTS: u32 = 8;

fn key_of(item: &Item) -> Option<(String, String)> {
    Some((
        item.get("pk")?.as_s().ok()?.clone(),
        item.get("sk")?.as_s().ok()?.clone(),
    ))
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

    /// Every item of one partition of the table (`pk`), read consistently,
    /// page after page.
    pub(super) async fn partition(
        &self,
        pk: String,
        operation: &'static str,
    ) -> Result<Vec<Item>, PortError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(pk.clone()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error(operation, &e.into_service_error()))?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key.filter(|k| !k.is_empty()) {
                Some(next) => start = Some(next),
                None => return Ok(items),
            }
        }
    }

    /// The table's items behind index entries, consistently read, in the
    /// entries' order, each with what the caller carried beside its entry.
    /// The indexes project keys only (no description, answers, notes or
    /// place in a second copy), so every index reader comes here for the
    /// items themselves. An item gone since (erased) is left out.
    pub(super) async fn items_behind<T>(
        &self,
        entries: Vec<(T, Item)>,
    ) -> Result<Vec<(T, Item)>, PortError> {
        let mut keys: Vec<(String, String)> =
            entries.iter().filter_map(|(_, e)| key_of(e)).collect();
        keys.sort();
        keys.dedup();
        let mut found: HashMap<(String, String), Item> = HashMap::with_capacity(keys.len());
        for chunk in keys.chunks(BATCH_GET_KEYS) {
            let mut pending: Vec<Item> = chunk
                .iter()
                .map(|(pk, sk)| HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))]))
                .collect();
            let mut attempt = 0;
            while !pending.is_empty() {
                attempt += 1;
                if attempt > BATCH_GET_ATTEMPTS {
                    return Err(PortError::retryable(
                        "read items behind an index",
                        "the table left keys unprocessed after every retry",
                    ));
                }
                if attempt > 1 {
                    // 80, 160, then 320 ms: under two seconds in all, well
                    // inside a function's timeout.
                    let backoff = (20u64 << attempt).min(320);
                    tokio::time::sleep(std::time::Duration::from_millis(backoff)).await;
                }
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut pending)))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| PortError::permanent("build batch get", e.to_string()))?;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(|e| sdk_error("batch get items", &e.into_service_error()))?;
                let items = out
                    .responses
                    .and_then(|mut r| r.remove(&self.table))
                    .unwrap_or_default();
                self.count_read(items.len());
                for item in items {
                    if let Some(key) = key_of(&item) {
                        found.insert(key, item);
                    }
                }
                pending = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .map(|k| k.keys)
                    .unwrap_or_default();
            }
        }
        Ok(entries
            .into_iter()
            .filter_map(|(carried, entry)| {
                let item = found.get(&key_of(&entry)?)?.clone();
                Some((carried, item))
            })
            .collect())
    }
}
