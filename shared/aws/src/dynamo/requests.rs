//! Requests, their history, contacts, case numbers, idempotency and API keys.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::AttributeValue;
use citydesk_core::contact::Contact;
use citydesk_core::ids::{CaseNumber, RequestId};
use citydesk_core::outbox::RequestSnapshot;
use citydesk_core::ports::{
    ApplyOutcome, ContactStore, CreateOutcome, NewRequest, PortError, RequestStore,
};
use citydesk_core::request::{Change, HistoryEvent, ServiceRequest};
use jiff::{SignedDuration, Timestamp};

use super::DynamoStore;
use super::IDEMPOTENCY_TTL_HOURS;
use super::items::{Item, epoch, from_item, n, put, s, to_item};
use super::keys::*;
use crate::sdk_error;

/// Which transaction items failed their condition, when the service says so.
/// A transaction cancelled for another reason (throttling, a conflicting
/// transaction in flight) is not a lost race: `None`, and the caller retries.
fn cancelled_items(err: &TransactWriteItemsError) -> Option<Vec<bool>> {
    match err {
        TransactWriteItemsError::TransactionCanceledException(e) => {
            let reasons = e.cancellation_reasons();
            let failed: Vec<bool> = reasons
                .iter()
                .map(|r| r.code() == Some("ConditionalCheckFailed"))
                .collect();
            // No reasons at all: moto's answer to a failed condition.
            (reasons.is_empty() || failed.contains(&true)).then_some(failed)
        }
        _ => None,
    }
}

impl DynamoStore {
    pub(super) fn request_item(&self, request: &ServiceRequest) -> Result<Item, PortError> {
        let mut item = to_item(request, request_pk(&request.id), REQUEST_SK)?;
        for (k, v) in index_attributes(request) {
            item.insert(k.to_owned(), s(v));
        }
        Ok(item)
    }

    /// Writes request items as they are, with their index keys, 25 a call:
    /// bulk test data for benchmarks (no history, no contact, no conditions;
    /// the pipeline never writes this way).
    pub async fn put_requests_unchecked(
        &self,
        requests: &[ServiceRequest],
    ) -> Result<(), PortError> {
        use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
        for chunk in requests.chunks(25) {
            let mut writes = Vec::with_capacity(chunk.len());
            for request in chunk {
                let put = PutRequest::builder()
                    .set_item(Some(self.request_item(request)?))
                    .build()
                    .map_err(|e| PortError::permanent("build put", e.to_string()))?;
                writes.push(WriteRequest::builder().put_request(put).build());
            }
            let mut pending = Some(std::collections::HashMap::from([(
                self.table.clone(),
                writes,
            )]));
            while let Some(items) = pending.take().filter(|p| !p.is_empty()) {
                let out = self
                    .client
                    .batch_write_item()
                    .set_request_items(Some(items))
                    .send()
                    .await
                    .map_err(|e| sdk_error("batch write", &e.into_service_error()))?;
                pending = out.unprocessed_items;
            }
        }
        Ok(())
    }

    /// A history event, with the request's public fields after it (the
    /// snapshot the stream's dispatcher reads: no second read, no personal data).
    fn event_item(
        &self,
        request: &ServiceRequest,
        event: &HistoryEvent,
    ) -> Result<Item, PortError> {
        let id = &request.id;
        let mut item = to_item(event, request_pk(id), &event_sk(event.seq))?;
        for (k, v) in event_index_attributes(id, event) {
            item.insert(k.to_owned(), s(v));
        }
        let snapshot = serde_dynamo::to_attribute_value(RequestSnapshot::of(request))
            .map_err(|e| PortError::permanent("encode snapshot", e.to_string()))?;
        item.insert(SNAPSHOT_ATTRIBUTE.to_owned(), snapshot);
        Ok(item)
    }

    async fn read_idempotency(
        &self,
        key: &str,
        now: Timestamp,
    ) -> Result<Option<CreateOutcome>, PortError> {
        let Some(item) = self.get_item(idempotency_pk(key), IDEMPOTENCY_SK).await? else {
            return Ok(None);
        };
        let expired = item
            .get("expires_at")
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<i64>().ok())
            .is_some_and(|e| e < epoch(now));
        if expired {
            return Ok(None);
        }
        let text = |k: &str| {
            item.get(k)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default()
        };
        let request_id = RequestId::parse(&text("request_id"))
            .map_err(|e| PortError::permanent("read idempotency record", e.to_string()))?;
        Ok(Some(CreateOutcome::AlreadyExists {
            request_id,
            payload_hash: text("payload_hash"),
        }))
    }

    async fn query_all(
        &self,
        index: &str,
        key_condition: &str,
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<Vec<Item>, PortError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut q = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .key_condition_expression(key_condition)
                .set_exclusive_start_key(start.take());
            for (k, v) in &values {
                q = q.expression_attribute_values(*k, v.clone());
            }
            let out = q
                .send()
                .await
                .map_err(|e| sdk_error("query", &e.into_service_error()))?;
            self.count_read(out.items().len());
            items.extend(out.items.unwrap_or_default().into_iter().map(|e| ((), e)));
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        // The indexes hold keys only: the items themselves from the table.
        Ok(self
            .items_behind(items)
            .await?
            .into_iter()
            .map(|(_, item)| item)
            .collect())
    }
}

#[async_trait]
impl RequestStore for DynamoStore {
    async fn create(&self, new: &NewRequest) -> Result<CreateOutcome, PortError> {
        let request = &new.request;
        let now = request.created_at;
        let mut writes = vec![
            put(
                &self.table,
                self.request_item(request)?,
                Some("attribute_not_exists(pk)"),
                &[],
            )?,
            put(
                &self.table,
                self.event_item(request, &new.created)?,
                Some("attribute_not_exists(pk)"),
                &[],
            )?,
        ];
        let case_index = writes.len();
        let mut case_item = Item::new();
        case_item.insert("pk".into(), s(case_pk(&request.case_number)));
        case_item.insert("sk".into(), s(CASE_SK));
        case_item.insert("request_id".into(), s(request.id.as_str()));
        writes.push(put(
            &self.table,
            case_item,
            Some("attribute_not_exists(pk)"),
            &[],
        )?);
        if let Some(contact) = &new.contact {
            let item = to_item(contact, request_pk(&request.id), CONTACT_SK)?;
            writes.push(put(
                &self.table,
                item,
                Some("attribute_not_exists(pk)"),
                &[],
            )?);
            // The person index: one item per phone or e-mail, keyed by its HMAC.
            for key in &new.person_keys {
                let mut item = Item::new();
                item.insert("pk".into(), s(person_pk(key)));
                item.insert("sk".into(), s(request_pk(&request.id)));
                item.insert("request_id".into(), s(request.id.as_str()));
                item.insert("created_at".into(), s(now.to_string()));
                writes.push(put(&self.table, item, None, &[])?);
            }
        }
        let idempotency_index = writes.len();
        if let Some(claim) = &new.idempotency {
            let expires = now
                .saturating_add(SignedDuration::from_hours(IDEMPOTENCY_TTL_HOURS))
                .unwrap_or(now);
            let mut item = Item::new();
            item.insert("pk".into(), s(idempotency_pk(&claim.key)));
            item.insert("sk".into(), s(IDEMPOTENCY_SK));
            item.insert("request_id".into(), s(request.id.as_str()));
            item.insert("payload_hash".into(), s(&claim.payload_hash));
            item.insert("expires_at".into(), n(epoch(expires)));
            writes.push(put(
                &self.table,
                item,
                Some("attribute_not_exists(pk) OR expires_at < :now"),
                &[(":now", n(epoch(now)))],
            )?);
        }
        // The request id is drawn for this creation alone, so it is the
        // transaction's own idempotency token: when the SDK retries an attempt
        // whose answer was lost, DynamoDB answers the retry as the first.
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .client_request_token(request.id.as_str())
            .send()
            .await;
        let err = match result {
            Ok(_) => return Ok(CreateOutcome::Created),
            Err(e) => e.into_service_error(),
        };
        let Some(failed) = cancelled_items(&err) else {
            return Err(sdk_error("create request", &err));
        };
        // An emulator that ignores the token fails the retry of a committed
        // attempt on every condition; the request item under this creation's
        // own id is then proof that the first attempt committed.
        if failed.first().copied().unwrap_or(true) && self.get(&request.id).await?.is_some() {
            return Ok(CreateOutcome::Created);
        }
        if let Some(claim) = &new.idempotency {
            let key_taken = failed
                .get(idempotency_index)
                .copied()
                .unwrap_or(failed.is_empty());
            if key_taken && let Some(existing) = self.read_idempotency(&claim.key, now).await? {
                return Ok(existing);
            }
        }
        if failed.get(case_index).copied().unwrap_or(false) {
            return Ok(CreateOutcome::CaseNumberTaken);
        }
        Err(PortError::retryable(
            "create request",
            "transaction cancelled without a known cause",
        ))
    }

    async fn get(&self, id: &RequestId) -> Result<Option<ServiceRequest>, PortError> {
        self.get_item(request_pk(id), REQUEST_SK)
            .await?
            .map(from_item)
            .transpose()
    }

    async fn find_by_case_number(
        &self,
        case: &CaseNumber,
    ) -> Result<Option<ServiceRequest>, PortError> {
        let Some(item) = self.get_item(case_pk(case), CASE_SK).await? else {
            return Ok(None);
        };
        let id = item
            .get("request_id")
            .and_then(|v| v.as_s().ok())
            .and_then(|v| RequestId::parse(v).ok())
            .ok_or_else(|| {
                PortError::permanent("find by case number", "case item without request id")
            })?;
        self.get(&id).await
    }

    async fn history(&self, id: &RequestId) -> Result<Vec<HistoryEvent>, PortError> {
        let mut events = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(request_pk(id)))
                .expression_attribute_values(":prefix", s(EVENT_PREFIX))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error("history", &e.into_service_error()))?;
            for item in out.items.unwrap_or_default() {
                events.push(from_item(item)?);
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(events),
            }
        }
    }

    async fn apply(&self, change: &Change) -> Result<ApplyOutcome, PortError> {
        let writes = vec![
            put(
                &self.table,
                self.request_item(&change.request)?,
                Some("version = :expected"),
                &[(":expected", n(change.expected_version))],
            )?,
            put(
                &self.table,
                self.event_item(&change.request, &change.event)?,
                Some("attribute_not_exists(pk)"),
                &[],
            )?,
        ];
        // One token per change, kept across the SDK's own retries, so a retry
        // of an attempt that committed is not mistaken for a lost race.
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .client_request_token(ulid::Ulid::new().to_string())
            .send()
            .await
        {
            Ok(_) => Ok(ApplyOutcome::Applied),
            Err(e) => {
                let err = e.into_service_error();
                if cancelled_items(&err).is_some() {
                    Ok(ApplyOutcome::Conflict)
                } else {
                    Err(sdk_error("apply change", &err))
                }
            }
        }
    }

    async fn changes_between(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(RequestId, HistoryEvent)>, PortError> {
        let (lo, hi) = (time_key(from), time_key(to));
        let mut found = Vec::new();
        for day in days_of(from, to) {
            for pk in day_partitions(day, changes_pk_for) {
                let items = self
                    .query_all(
                        CHANGES_INDEX,
                        "chg_pk = :pk AND chg_sk BETWEEN :lo AND :hi",
                        vec![
                            (":pk", s(pk)),
                            (":lo", s(lo.clone())),
                            (":hi", s(hi.clone())),
                        ],
                    )
                    .await?;
                for item in items {
                    let (id, event) = event_of(item)?;
                    if event.at >= from && event.at < to {
                        found.push((id, event));
                    }
                }
            }
        }
        // The shards of a day interleave: oldest first again.
        found.sort_by(|a, b| (a.1.at, &a.0, a.1.seq).cmp(&(b.1.at, &b.0, b.1.seq)));
        Ok(found)
    }

    async fn created_between(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<ServiceRequest>, PortError> {
        let (lo, hi) = (time_key(from), time_key(to));
        let mut found = Vec::new();
        for day in days_of(from, to) {
            for pk in day_partitions(day, day_pk_for) {
                let items = self
                    .query_all(
                        DAY_INDEX,
                        "day_pk = :pk AND day_sk BETWEEN :lo AND :hi",
                        vec![
                            (":pk", s(pk)),
                            (":lo", s(lo.clone())),
                            (":hi", s(hi.clone())),
                        ],
                    )
                    .await?;
                for item in items {
                    let request: ServiceRequest = from_item(item)?;
                    if request.created_at >= from && request.created_at < to {
                        found.push(request);
                    }
                }
            }
        }
        Ok(found)
    }
}

/// A history event item with the request it belongs to (from its key).
pub(super) fn event_of(item: Item) -> Result<(RequestId, HistoryEvent), PortError> {
    let id = item
        .get("pk")
        .and_then(|v| v.as_s().ok())
        .and_then(|pk| pk.strip_prefix(REQUEST_PREFIX))
        .and_then(|raw| RequestId::parse(raw).ok())
        .ok_or_else(|| PortError::permanent("read change", "event item without a request key"))?;
    Ok((id, from_item(item)?))
}

#[async_trait]
impl ContactStore for DynamoStore {
    async fn contact(&self, id: &RequestId) -> Result<Option<Contact>, PortError> {
        let Some(item) = self.get_item(request_pk(id), CONTACT_SK).await? else {
            return Ok(None);
        };
        // TTL deletes lazily: a passed retention is absent already.
        let expired = item
            .get("retain_until")
            .and_then(|v| v.as_s().ok())
            .and_then(|t| t.parse::<Timestamp>().ok())
            .is_some_and(|until| until < Timestamp::now());
        if expired {
            return Ok(None);
        }
        let mut item = item;
        for attribute in ["retain_until", "expires_at"] {
            item.remove(attribute);
        }
        from_item(item).map(Some)
    }
}

#[async_trait]
impl citydesk_core::ports::ContactRetention for DynamoStore {
    async fn retain_contact_until(
        &self,
        id: &RequestId,
        until: Option<Timestamp>,
    ) -> Result<(), PortError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(request_pk(id)))
            .key("sk", s(CONTACT_SK))
            .condition_expression("attribute_exists(pk)");
        let update = match until {
            Some(until) => update
                .update_expression("SET retain_until = :until, expires_at = :ttl")
                .expression_attribute_values(":until", s(until.to_string()))
                .expression_attribute_values(":ttl", super::items::n(until.as_second())),
            None => update.update_expression("REMOVE retain_until, expires_at"),
        };
        match update.send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let err = e.into_service_error();
                // No contact (or erased): nothing to keep.
                if err.is_conditional_check_failed_exception() {
                    Ok(())
                } else {
                    Err(sdk_error("retain contact", &err))
                }
            }
        }
    }
}
