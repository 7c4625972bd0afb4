//! The in-memory queues, event bus, citizen messenger, blob and media
//! stores, a manual clock and sequential ids.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use jiff::Timestamp;

use super::lock;
use crate::contact::{Contact, Email, PhoneNumber};
use crate::ids::{CaseNumber, RequestId, TrackingToken};
use crate::messages::{AssignmentMessage, PipelineMessage};
use crate::ports::*;

/// Records every message sent to the pipeline and department queues.
#[derive(Debug, Default)]
pub struct MemoryQueues {
    pub pipeline: Mutex<Vec<PipelineMessage>>,
    pub departments: Mutex<Vec<(String, AssignmentMessage)>>,
    /// When set, every send fails (dependency fault injection).
    pub failing: std::sync::atomic::AtomicBool,
}

impl MemoryQueues {
    pub fn take_pipeline(&self) -> Vec<PipelineMessage> {
        std::mem::take(&mut *lock(&self.pipeline))
    }
    pub fn department_messages(&self) -> Vec<(String, AssignmentMessage)> {
        lock(&self.departments).clone()
    }
    fn check(&self) -> Result<(), PortError> {
        if self.failing.load(Ordering::SeqCst) {
            Err(PortError::retryable("send message", "injected failure"))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl PipelineQueue for MemoryQueues {
    async fn send(&self, message: &PipelineMessage) -> Result<(), PortError> {
        self.check()?;
        lock(&self.pipeline).push(message.clone());
        Ok(())
    }
}

#[async_trait]
impl DepartmentQueues for MemoryQueues {
    async fn send_assignment(
        &self,
        queue_name: &str,
        message: &AssignmentMessage,
    ) -> Result<(), PortError> {
        self.check()?;
        lock(&self.departments).push((queue_name.to_owned(), message.clone()));
        Ok(())
    }
}

/// Records every event published to the bus.
#[derive(Debug, Default)]
pub struct MemoryBus {
    pub published: Mutex<Vec<crate::outbox::bus_events::BusEvent>>,
    /// When set, every publish fails (dependency fault injection).
    pub failing: std::sync::atomic::AtomicBool,
}

impl MemoryBus {
    pub fn published(&self) -> Vec<crate::outbox::bus_events::BusEvent> {
        lock(&self.published).clone()
    }
}

#[async_trait]
impl EventBus for MemoryBus {
    async fn publish(
        &self,
        events: &[crate::outbox::bus_events::BusEvent],
    ) -> Result<(), PortError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(PortError::retryable("put events", "injected failure"));
        }
        lock(&self.published).extend(events.iter().cloned());
        Ok(())
    }
}

/// A message a citizen would have received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    pub to: String,
    pub subject: Option<String>,
    pub body: String,
    pub reply_to: Option<String>,
}

#[derive(Debug, Default)]
pub struct MemoryMessenger {
    pub sent: Mutex<Vec<SentMessage>>,
    pub failing: std::sync::atomic::AtomicBool,
}

impl MemoryMessenger {
    pub fn sent(&self) -> Vec<SentMessage> {
        lock(&self.sent).clone()
    }
}

#[async_trait]
impl CitizenMessenger for MemoryMessenger {
    async fn send_sms(&self, to: &PhoneNumber, body: &str) -> Result<(), PortError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(PortError::retryable("send sms", "injected failure"));
        }
        lock(&self.sent).push(SentMessage {
            to: to.as_str().to_owned(),
            subject: None,
            body: body.to_owned(),
            reply_to: None,
        });
        Ok(())
    }
    async fn send_email(
        &self,
        to: &Email,
        subject: &str,
        body: &str,
        reply_to: Option<&Email>,
    ) -> Result<(), PortError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(PortError::retryable("send email", "injected failure"));
        }
        lock(&self.sent).push(SentMessage {
            to: to.as_str().to_owned(),
            subject: Some(subject.to_owned()),
            body: body.to_owned(),
            reply_to: reply_to.map(|r| r.as_str().to_owned()),
        });
        Ok(())
    }
}

#[derive(Debug, Default)]
pub struct MemoryBlobs {
    pub objects: Mutex<BTreeMap<String, (String, Vec<u8>)>>,
}

impl MemoryBlobs {
    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        lock(&self.objects).get(key).map(|(_, b)| b.clone())
    }
}

#[async_trait]
impl BlobStore for MemoryBlobs {
    async fn put_new(
        &self,
        key: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<bool, PortError> {
        let mut objects = lock(&self.objects);
        if objects.contains_key(key) {
            return Ok(false);
        }
        objects.insert(key.to_owned(), (content_type.to_owned(), body));
        Ok(true)
    }
}

#[async_trait]
impl MediaStore for MemoryBlobs {
    async fn put_media(
        &self,
        key: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<(), PortError> {
        lock(&self.objects).insert(key.to_owned(), (content_type.to_owned(), body));
        Ok(())
    }
    async fn read_link(&self, key: &str, expires_in_secs: u64) -> Result<String, PortError> {
        Ok(format!("memory://{key}?expires={expires_in_secs}"))
    }
    async fn upload_link(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in_secs: u64,
    ) -> Result<String, PortError> {
        Ok(format!(
            "memory://{key}?upload={content_type}&bytes={content_length}&expires={expires_in_secs}"
        ))
    }
    async fn read_upload(&self, key: &str) -> Result<Option<Vec<u8>>, PortError> {
        Ok(lock(&self.objects).get(key).map(|(_, body)| body.clone()))
    }

    async fn inspect(&self, key: &str) -> Result<Option<StoredObject>, PortError> {
        Ok(lock(&self.objects).get(key).map(|(_, b)| StoredObject {
            bytes: b.len() as u64,
            head: b.iter().take(64).copied().collect(),
        }))
    }
}

/// A clock tests move by hand.
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    pub fn at(t: Timestamp) -> Self {
        Self(Mutex::new(t))
    }
    pub fn set(&self, t: Timestamp) {
        *lock(&self.0) = t;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *lock(&self.0)
    }
}

/// The tracking key of the in-memory world.
pub const TEST_TRACKING_KEY: &[u8] = b"citydesk-tests";

/// Deterministic ids: a counter feeds ULID-shaped ids, case numbers and tokens.
#[derive(Debug, Default)]
pub struct SequentialIds(AtomicU64);

impl IdSource for SequentialIds {
    fn request_id(&self) -> RequestId {
        let n = self.0.fetch_add(1, Ordering::SeqCst);
        RequestId::parse(&format!("01J{n:023}")).unwrap_or_else(|_| unreachable_id())
    }
    fn case_number(&self) -> CaseNumber {
        CaseNumber::from_entropy(
            self.0
                .fetch_add(1, Ordering::SeqCst)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15),
        )
    }
    fn tracking_token(&self, id: &RequestId) -> TrackingToken {
        crate::ids::TrackingKey::new(TEST_TRACKING_KEY).token_for(id)
    }
    fn person_keys(&self, contact: &Contact) -> Vec<String> {
        crate::contact::ContactKey::new(TEST_TRACKING_KEY).person_keys(contact)
    }
}

fn unreachable_id() -> RequestId {
    // 26 digits are always a valid ULID string; kept total so tests never panic here.
    RequestId::parse("00000000000000000000000000").unwrap_or_else(|_| unreachable_id())
}

/// The audit trail in memory: records by key, never replaced.
#[derive(Debug, Default)]
pub struct MemoryAuditTrail {
    pub records: Mutex<BTreeMap<String, crate::audit::AuditRecord>>,
    /// When set, appends fail (a store outage).
    pub failing: std::sync::atomic::AtomicBool,
}

impl MemoryAuditTrail {
    pub fn all(&self) -> Vec<crate::audit::AuditRecord> {
        lock(&self.records).values().cloned().collect()
    }
}

#[async_trait]
impl AuditTrail for MemoryAuditTrail {
    async fn append(&self, record: &crate::audit::AuditRecord) -> Result<(), PortError> {
        if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(PortError::retryable("append audit record", "store down"));
        }
        lock(&self.records)
            .entry(record.object_key())
            .or_insert_with(|| record.clone());
        Ok(())
    }
}

#[async_trait]
impl AuditLog for MemoryAuditTrail {
    async fn day(
        &self,
        day: jiff::civil::Date,
    ) -> Result<Vec<crate::audit::AuditRecord>, PortError> {
        let prefix = format!("{}{day}/", crate::audit::AUDIT_PREFIX);
        Ok(lock(&self.records)
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(_, r)| r.clone())
            .collect())
    }
}

#[async_trait]
impl ObjectReader for MemoryBlobs {
    async fn read(&self, key: &str) -> Result<Option<Vec<u8>>, PortError> {
        Ok(self.get(key))
    }
}
