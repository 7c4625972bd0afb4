//! Bounded reads. Lists come a page at a time from the sparse
//! `DepartmentOpenWork` index: one Query per shard for the keys after the
//! cursor, merged in key order, at most `shards × (limit + 1)` items a page.
//! Duplicate candidates come from the sparse `OpenByPlace` index: the open
//! reports of one service in a point's cell and its neighbours, since the
//! window's start, however many requests the day has. Time-ordered lists
//! (created or changed in a window) walk the window's days in order and merge
//! each day's shards, at most `shards × (limit + 1)` entries a day read.
//! The indexes hold keys only: a page's items are then read from the table
//! by key (BatchGetItem), so no second copy of a description, an answer, a
//! note or a place lives in an index.

use async_trait::async_trait;
use citydesk_core::ids::{DepartmentCode, RequestId};
use citydesk_core::paging::{Listing, NearbyOpen, Order, Page, PageKey, PageRequest, TimeWindow};
use citydesk_core::ports::{PortError, RequestQueries};
use citydesk_core::request::HistoryEvent;
use citydesk_core::request::ServiceRequest;
use citydesk_core::status::Status;

use super::DynamoStore;
use super::items::Item;
use super::items::{from_item, s};
use super::keys::{
    CHANGES_INDEX, DAY_INDEX, DEPARTMENT_INDEX, DEPARTMENT_SHARDS, PLACE_INDEX, changes_pk_for,
    day_partitions, day_pk_for, days_of, department_pk, followers_pk, place_cells_around, place_pk,
    time_key, triage_pk,
};
use super::requests::event_of;
use crate::sdk_error;

/// Above every character a sort key of these lists uses (digits, letters, `#:.-_`).
const KEY_CEILING: &str = "~";

impl DynamoStore {
    /// How many open requests a department holds (all its shard partitions;
    /// counted, not read).
    pub async fn count_open_work(&self, department: &DepartmentCode) -> Result<usize, PortError> {
        let mut total = 0;
        for shard in 0..DEPARTMENT_SHARDS {
            let mut start = None;
            loop {
                let out = self
                    .client()
                    .query()
                    .table_name(self.table())
                    .index_name(DEPARTMENT_INDEX)
                    .key_condition_expression("dept_pk = :pk")
                    .expression_attribute_values(":pk", s(department_pk(department, shard)))
                    .select(aws_sdk_dynamodb::types::Select::Count)
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .map_err(|e| sdk_error("count open work", &e.into_service_error()))?;
                total += usize::try_from(out.count).unwrap_or(0);
                match out.last_evaluated_key.filter(|k| !k.is_empty()) {
                    Some(next) => start = Some(next),
                    None => break,
                }
            }
        }
        Ok(total)
    }

    /// Index entries (keys) of one shard partition with `lo <= sort key <= hi`,
    /// at most `limit`, each with its sort key, and whether the partition has more.
    async fn shard_page(
        &self,
        pk: String,
        lo: &str,
        hi: &str,
        limit: usize,
    ) -> Result<(Vec<(String, Item)>, bool), PortError> {
        // An empty string is not a valid key value: from the start, only the upper bound.
        let query = self
            .client()
            .query()
            .table_name(self.table())
            .index_name(DEPARTMENT_INDEX)
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":hi", s(hi));
        let query = if lo.is_empty() {
            query.key_condition_expression("dept_pk = :pk AND dept_sk <= :hi")
        } else {
            query
                .key_condition_expression("dept_pk = :pk AND dept_sk BETWEEN :lo AND :hi")
                .expression_attribute_values(":lo", s(lo))
        };
        let out = query
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| sdk_error("query page", &e.into_service_error()))?;
        self.count_read(out.items().len());
        let more = out
            .last_evaluated_key
            .as_ref()
            .is_some_and(|k| !k.is_empty());
        let found = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|entry| {
                let key = entry
                    .get("dept_sk")
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_default();
                (key, entry)
            })
            .collect();
        Ok((found, more))
    }
}

/// One time-ordered index: its name, sort-key attribute and a day's partitions.
struct TimeIndex {
    name: &'static str,
    pk: &'static str,
    sk: &'static str,
    partition: fn(jiff::civil::Date, u8) -> String,
}

const CREATED: TimeIndex = TimeIndex {
    name: DAY_INDEX,
    pk: "day_pk",
    sk: "day_sk",
    partition: day_pk_for,
};
const CHANGED: TimeIndex = TimeIndex {
    name: CHANGES_INDEX,
    pk: "chg_pk",
    sk: "chg_sk",
    partition: changes_pk_for,
};

impl DynamoStore {
    /// A page of a time-ordered index within `window`, after the cursor: the
    /// window's days in `order`, each day's shards merged by sort key.
    async fn time_page(
        &self,
        index: &TimeIndex,
        window: &TimeWindow,
        order: Order,
        page: &PageRequest,
    ) -> Result<Page<Item>, PortError> {
        let (from_key, to_key) = (time_key(window.from), time_key(window.to));
        let after = page.after.as_ref().map(PageKey::as_str);
        let mut days = days_of(window.from, window.to);
        if order == Order::NewestFirst {
            days.reverse();
        }
        // A cursor's key starts with its day: resume on that day.
        if let Some(after) = after {
            let cursor_day = after.get(..10).unwrap_or_default();
            days.retain(|d| match order {
                Order::OldestFirst => d.to_string().as_str() >= cursor_day,
                Order::NewestFirst => d.to_string().as_str() <= cursor_day,
            });
        }
        let mut collected: Vec<(String, Item)> = Vec::new();
        for day in days {
            let need = page.limit - collected.len();
            let (lo, hi) = match (order, after) {
                (Order::OldestFirst, Some(a)) if a > from_key.as_str() => {
                    (a.to_owned(), to_key.clone())
                }
                (Order::NewestFirst, Some(a)) if a < to_key.as_str() => {
                    (from_key.clone(), a.to_owned())
                }
                _ => (from_key.clone(), to_key.clone()),
            };
            let queries = day_partitions(day, index.partition).into_iter().map(|pk| {
                let (lo, hi) = (lo.clone(), hi.clone());
                async move {
                    let out = self
                        .client()
                        .query()
                        .table_name(self.table())
                        .index_name(index.name)
                        .key_condition_expression(format!(
                            "{} = :pk AND {} BETWEEN :lo AND :hi",
                            index.pk, index.sk
                        ))
                        .expression_attribute_values(":pk", s(pk))
                        .expression_attribute_values(":lo", s(lo))
                        .expression_attribute_values(":hi", s(hi))
                        .scan_index_forward(order == Order::OldestFirst)
                        .limit(i32::try_from(need + 1).unwrap_or(i32::MAX))
                        .send()
                        .await
                        .map_err(|e| sdk_error("query time page", &e.into_service_error()))?;
                    self.count_read(out.items().len());
                    Ok::<_, PortError>(out.items.unwrap_or_default())
                }
            });
            let mut day_items: Vec<(String, Item)> = futures::future::try_join_all(queries)
                .await?
                .into_iter()
                .flatten()
                .filter_map(|item| {
                    let key = item.get(index.sk)?.as_s().ok()?.clone();
                    Some((key, item))
                })
                // The window is half-open, the cursor exclusive.
                .filter(|(k, _)| k.as_str() >= from_key.as_str() && k.as_str() < to_key.as_str())
                .filter(|(k, _)| {
                    after.is_none_or(|a| match order {
                        Order::OldestFirst => k.as_str() > a,
                        Order::NewestFirst => k.as_str() < a,
                    })
                })
                .collect();
            day_items.sort_by(|a, b| a.0.cmp(&b.0));
            if order == Order::NewestFirst {
                day_items.reverse();
            }
            day_items.truncate(need);
            collected.extend(day_items);
            if collected.len() == page.limit {
                // Full: the next page starts after its last key (and may be empty).
                let next = collected.last().map(|(k, _)| PageKey::new(k.clone()));
                let items = self.items_behind(collected).await?;
                return Ok(Page {
                    items: items.into_iter().map(|(_, i)| i).collect(),
                    next,
                });
            }
        }
        let items = self.items_behind(collected).await?;
        Ok(Page {
            items: items.into_iter().map(|(_, i)| i).collect(),
            next: None,
        })
    }
}

#[async_trait]
impl RequestQueries for DynamoStore {
    async fn created_in(
        &self,
        window: &TimeWindow,
        order: Order,
        page: &PageRequest,
    ) -> Result<Page<ServiceRequest>, PortError> {
        let found = self.time_page(&CREATED, window, order, page).await?;
        Ok(Page {
            items: found
                .items
                .into_iter()
                .map(from_item::<ServiceRequest>)
                .collect::<Result<_, _>>()?,
            next: found.next,
        })
    }

    async fn changed_in(
        &self,
        window: &TimeWindow,
        order: Order,
        page: &PageRequest,
    ) -> Result<Page<(RequestId, HistoryEvent)>, PortError> {
        let found = self.time_page(&CHANGED, window, order, page).await?;
        Ok(Page {
            items: found
                .items
                .into_iter()
                .map(event_of)
                .collect::<Result<_, _>>()?,
            next: found.next,
        })
    }

    async fn page(
        &self,
        listing: &Listing,
        page: &PageRequest,
    ) -> Result<Page<ServiceRequest>, PortError> {
        let (prefix, partition): (String, Box<dyn Fn(u8) -> String + Send + Sync>) = match listing {
            Listing::DepartmentWork { department, status } => {
                let d = department.clone();
                (
                    status.map(|s| format!("{s}#")).unwrap_or_default(),
                    Box::new(move |shard| department_pk(&d, shard)),
                )
            }
            Listing::Triage { jurisdiction } => {
                let j = jurisdiction.clone();
                (String::new(), Box::new(move |shard| triage_pk(&j, shard)))
            }
            Listing::Followers { original } => {
                let o = original.clone();
                (
                    String::new(),
                    Box::new(move |shard| followers_pk(&o, shard)),
                )
            }
        };
        let lo = match &page.after {
            Some(after) if after.as_str() > prefix.as_str() => after.as_str().to_owned(),
            _ => prefix.clone(),
        };
        let hi = format!("{prefix}{KEY_CEILING}");
        // One more than the page, for the item equal to the cursor (BETWEEN is inclusive).
        let per_shard = page.limit + 1;
        let queries = (0..DEPARTMENT_SHARDS)
            .map(|shard| self.shard_page(partition(shard), &lo, &hi, per_shard));
        let mut merged = Vec::new();
        let mut shard_has_more = false;
        for (items, more) in futures::future::try_join_all(queries).await? {
            shard_has_more |= more;
            merged.extend(items);
        }
        let after = page.after.as_ref().map(PageKey::as_str);
        merged.retain(|(key, _)| after.is_none_or(|a| key.as_str() > a));
        merged.sort_by(|a, b| a.0.cmp(&b.0));
        let more = shard_has_more || merged.len() > page.limit;
        merged.truncate(page.limit);
        let next = if more {
            merged.last().map(|(k, _)| PageKey::new(k.clone()))
        } else {
            None
        };
        // The index is eventually consistent: what has moved on since is left
        // out (the page may come out shorter; the cursor still moves past it).
        let items = self
            .items_behind(merged)
            .await?
            .into_iter()
            .map(|(_, item)| from_item::<ServiceRequest>(item))
            .collect::<Result<Vec<_>, _>>()?;
        // A request the index briefly shows under two sort keys comes once.
        let mut seen = std::collections::HashSet::new();
        let items = items
            .into_iter()
            .filter(|r| seen.insert(r.id.clone()))
            .filter(|r| match listing {
                Listing::DepartmentWork { department, status } => {
                    r.status.is_department_work()
                        && r.department.as_ref() == Some(department)
                        && status.is_none_or(|st| r.status == st)
                }
                Listing::Triage { jurisdiction } => {
                    r.status == Status::Triaged && &r.jurisdiction == jurisdiction
                }
                Listing::Followers { original } => {
                    r.status == Status::Duplicate
                        && r.duplicate_of.as_ref().map(|l| &l.request_id) == Some(original)
                }
            })
            .collect();
        Ok(Page { items, next })
    }

    async fn open_near(&self, near: &NearbyOpen) -> Result<Vec<ServiceRequest>, PortError> {
        let from = time_key(near.created_from);
        let queries = place_cells_around(near.point).into_iter().map(|cell| {
            let pk = place_pk(&near.jurisdiction, &near.service_code, &cell);
            let from = from.clone();
            async move {
                let mut found = Vec::new();
                let mut start = None;
                loop {
                    let out = self
                        .client()
                        .query()
                        .table_name(self.table())
                        .index_name(PLACE_INDEX)
                        .key_condition_expression("place_pk = :pk AND place_sk >= :from")
                        .expression_attribute_values(":pk", s(pk.clone()))
                        .expression_attribute_values(":from", s(from.clone()))
                        .set_exclusive_start_key(start.take())
                        .send()
                        .await
                        .map_err(|e| {
                            sdk_error("query open reports near", &e.into_service_error())
                        })?;
                    self.count_read(out.items().len());
                    found.extend(out.items.unwrap_or_default().into_iter().map(|e| ((), e)));
                    match out.last_evaluated_key {
                        Some(k) if !k.is_empty() => start = Some(k),
                        _ => return Ok::<_, PortError>(found),
                    }
                }
            }
        });
        let entries: Vec<((), Item)> = futures::future::try_join_all(queries)
            .await?
            .into_iter()
            .flatten()
            .collect();
        let mut candidates: Vec<ServiceRequest> = self
            .items_behind(entries)
            .await?
            .into_iter()
            .map(|(_, item)| from_item::<ServiceRequest>(item))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            // The index is eventually consistent: drop what has moved on since.
            .filter(|r| citydesk_core::rules::duplicates::is_open_original(r.status))
            .collect();
        candidates.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(candidates)
    }
}
