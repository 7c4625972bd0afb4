//! The one DynamoDB table. Item layout and access patterns: `ACCESS_PATTERNS.md`
//! beside this file.

mod api_keys;
mod contact_log;
mod items;
mod keys;
mod once_ledger;
mod personal_data;
mod queries;
mod questions;
mod requests;
pub mod stream;
mod sweep_progress;
mod texters;

pub use api_keys::{DepartmentKey, key_id_of};
pub use keys::{DEPARTMENT_SHARDS, department_shard};

use aws_sdk_dynamodb::Client;

/// Adapter for [`RequestStore`](citydesk_core::ports::RequestStore),
/// [`ContactStore`](citydesk_core::ports::ContactStore),
/// [`DepartmentKeys`](citydesk_core::ports::DepartmentKeys) and
/// [`OnceLedger`](citydesk_core::ports::OnceLedger) over one table.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    /// Items returned by queries so far (for the bounded-reads tests and bench).
    items_read: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            items_read: Default::default(),
        }
    }

    /// How many items this store's queries have returned so far.
    pub fn items_read(&self) -> u64 {
        self.items_read.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn count_read(&self, items: usize) {
        self.items_read
            .fetch_add(items as u64, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

/// How long an idempotency record of a submission is kept (the TTL attribute).
pub const IDEMPOTENCY_TTL_HOURS: i64 = 24;
/// How long a "done once" ledger record is kept.
pub const LEDGER_TTL_DAYS: i64 = 14;
