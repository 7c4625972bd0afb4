//! Narrow port traits the use cases depend on. Each has a real adapter
//! (`citydesk-aws`, the notify function's providers) and an in-memory twin
//! ([`crate::memory`]).

use async_trait::async_trait;
use jiff::Timestamp;

use crate::audit::AuditRecord;
use crate::contact::{Contact, Email, PhoneNumber};
use crate::ids::{
    CaseNumber, DepartmentCode, JurisdictionId, RequestId, ServiceCode, TrackingToken,
};
use crate::messages::{AssignmentMessage, PipelineMessage};
use crate::request::{Change, HistoryEvent, ServiceRequest};

/// Failure of a storage or messaging dependency. `retryable` tells the trigger
/// adapter whether to report a batch item failure (retry) or give up.
#[derive(Debug, thiserror::Error)]
#[error("{operation}: {message}")]
pub struct PortError {
    pub operation: &'static str,
    pub message: String,
    pub retryable: bool,
}

impl PortError {
    pub fn retryable(operation: &'static str, message: impl Into<String>) -> Self {
        Self {
            operation,
            message: message.into(),
            retryable: true,
        }
    }
    pub fn permanent(operation: &'static str, message: impl Into<String>) -> Self {
        Self {
            operation,
            message: message.into(),
            retryable: false,
        }
    }
}

/// A new request with everything written in one atomic step.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub request: ServiceRequest,
    pub created: HistoryEvent,
    pub contact: Option<Contact>,
    /// The contact's keys in the person index (HMACs of its phone and e-mail).
    pub person_keys: Vec<String>,
    /// Client-supplied idempotency key and the fingerprint of the payload it came with.
    pub idempotency: Option<IdempotencyClaim>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyClaim {
    pub key: String,
    pub payload_hash: String,
}

#[derive(Debug)]
pub enum CreateOutcome {
    Created,
    /// The idempotency key was used before; the earlier request and its payload hash.
    AlreadyExists {
        request_id: RequestId,
        payload_hash: String,
    },
    /// The random case number is taken; draw another and try again.
    CaseNumberTaken,
}

#[derive(Debug)]
pub enum ApplyOutcome {
    Applied,
    /// Somebody else changed the request first (version mismatch).
    Conflict,
}

/// Service requests, their history and the idempotency of their creation.
#[async_trait]
pub trait RequestStore: Send + Sync {
    async fn create(&self, new: &NewRequest) -> Result<CreateOutcome, PortError>;
    async fn get(&self, id: &RequestId) -> Result<Option<ServiceRequest>, PortError>;
    async fn find_by_case_number(
        &self,
        case_number: &CaseNumber,
    ) -> Result<Option<ServiceRequest>, PortError>;
    async fn history(&self, id: &RequestId) -> Result<Vec<HistoryEvent>, PortError>;
    /// Writes the new request state and its history event atomically, only if the
    /// stored version is still `change.expected_version`.
    async fn apply(&self, change: &Change) -> Result<ApplyOutcome, PortError>;
    /// History events that happened in `[from, to)`, with their request, oldest first.
    async fn changes_between(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(RequestId, HistoryEvent)>, PortError>;
    /// Requests created in `[from, to)`.
    async fn created_between(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<ServiceRequest>, PortError>;
}

/// Lists read a page at a time (department work, triage), so a storm's
/// backlog never has to fit in one read or one response.
#[async_trait]
pub trait RequestQueries: Send + Sync {
    /// At most `page.limit` items of `listing` after `page.after`, in the
    /// listing's order, and the key of the last one when more may follow.
    async fn page(
        &self,
        listing: &crate::paging::Listing,
        page: &crate::paging::PageRequest,
    ) -> Result<crate::paging::Page<ServiceRequest>, PortError>;
    /// A page of the requests created in `window`, in `order` (every city's).
    async fn created_in(
        &self,
        window: &crate::paging::TimeWindow,
        order: crate::paging::Order,
        page: &crate::paging::PageRequest,
    ) -> Result<crate::paging::Page<ServiceRequest>, PortError>;
    /// A page of the history events that happened in `window`, in `order`,
    /// with their request.
    async fn changed_in(
        &self,
        window: &crate::paging::TimeWindow,
        order: crate::paging::Order,
        page: &crate::paging::PageRequest,
    ) -> Result<crate::paging::Page<(RequestId, HistoryEvent)>, PortError>;
    /// Candidates for a duplicate: a bounded read by place, however busy the
    /// day (the rule then keeps those within the radius and window).
    async fn open_near(
        &self,
        near: &crate::paging::NearbyOpen,
    ) -> Result<Vec<ServiceRequest>, PortError>;
}

/// Where the SLA sweep stopped when its time ran short, so the next run
/// goes on from there (every department is reached, however long the backlog).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SweepPosition {
    pub jurisdiction: JurisdictionId,
    pub department: DepartmentCode,
    /// The department's page to go on from (`None`: its first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

#[async_trait]
pub trait SweepProgress: Send + Sync {
    async fn load(&self) -> Result<Option<SweepPosition>, PortError>;
    /// `None`: the sweep went round every department.
    async fn save(&self, position: Option<&SweepPosition>) -> Result<(), PortError>;
}

/// Labelled texts for the next training run: an operator's choice in triage.
#[async_trait]
pub trait TrainingExamples: Send + Sync {
    async fn record(&self, example: &OperatorExample) -> Result<(), PortError>;
}

/// A triaged request's text with the service an operator chose for it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OperatorExample {
    pub jurisdiction: JurisdictionId,
    pub request_id: RequestId,
    pub text: String,
    pub service_code: ServiceCode,
    pub operator: String,
    pub at: Timestamp,
}

/// The citizen's contact details, stored apart from the request.
#[async_trait]
pub trait ContactStore: Send + Sync {
    /// A request's contact; `None` when there is none or its retention passed.
    async fn contact(&self, id: &RequestId) -> Result<Option<Contact>, PortError>;
}

/// The person index: the requests a phone number or e-mail address made,
/// found by its keyed hash ([`crate::contact::ContactKey`]).
#[async_trait]
pub trait PersonIndex: Send + Sync {
    async fn requests_of(&self, person_key: &str) -> Result<Vec<RequestId>, PortError>;
}

/// The contact centre's log of contacts that created no request (an answer
/// from the knowledge base), so first-contact resolution can be counted.
#[async_trait]
pub trait ContactLog: Send + Sync {
    /// Records the contact once; when its id was recorded before, the
    /// earlier record (and nothing is written).
    async fn record(
        &self,
        entry: &crate::usecases::operator_desk::ContactRecord,
    ) -> Result<Option<crate::usecases::operator_desk::ContactRecord>, PortError>;
    /// The contacts recorded in `[from, to)`, for the reports.
    async fn recorded_between(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<crate::usecases::operator_desk::ContactRecord>, PortError>;
}

/// How long a request's contact is kept (RODO: no longer than needed).
#[async_trait]
pub trait ContactRetention: Send + Sync {
    /// Keeps the contact until `until` (then readers treat it as gone and the
    /// table's TTL deletes it); `None`: for as long as the request is open.
    /// A request without a contact is fine.
    async fn retain_contact_until(
        &self,
        id: &RequestId,
        until: Option<Timestamp>,
    ) -> Result<(), PortError>;
}

/// Messages between the pipeline's steps (classify, route, notify).
#[async_trait]
pub trait PipelineQueue: Send + Sync {
    async fn send(&self, message: &PipelineMessage) -> Result<(), PortError>;
}

/// Each department's own queue of new assignments.
#[async_trait]
pub trait DepartmentQueues: Send + Sync {
    async fn send_assignment(
        &self,
        queue_name: &str,
        message: &AssignmentMessage,
    ) -> Result<(), PortError>;
}

/// The city's integration bus (EventBridge in AWS): versioned domain events
/// for the city's other systems.
#[async_trait]
pub trait EventBus: Send + Sync {
    async fn publish(
        &self,
        events: &[crate::outbox::bus_events::BusEvent],
    ) -> Result<(), PortError>;
}

/// Department API keys, stored as SHA-256 hashes.
#[async_trait]
pub trait DepartmentKeys: Send + Sync {
    async fn department_for_key_hash(
        &self,
        key_hash: &str,
    ) -> Result<Option<DepartmentCode>, PortError>;
}

/// Open311 client applications' API keys, stored as SHA-256 hashes.
#[async_trait]
pub trait ClientKeys: Send + Sync {
    /// The client application's name, when the key is valid and not revoked.
    async fn client_for_key_hash(&self, key_hash: &str) -> Result<Option<String>, PortError>;
}

/// "Do this once": a claim on a business key (Powertools-style idempotency record).
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// The work is ours to do.
    Acquired,
    /// Done before: skip.
    AlreadyDone,
    /// Someone else is doing it right now: retry later.
    InProgress,
}

#[async_trait]
pub trait OnceLedger: Send + Sync {
    /// Claims `key` until `lock_until`; an expired in-progress claim can be taken over.
    async fn claim(
        &self,
        key: &str,
        now: Timestamp,
        lock_until: Timestamp,
    ) -> Result<Claim, PortError>;
    async fn complete(&self, key: &str) -> Result<(), PortError>;
    /// Gives the claim back after a failure so a retry can do the work.
    async fn release(&self, key: &str) -> Result<(), PortError>;
}

/// Sends messages to citizens (SMS and e-mail providers).
#[async_trait]
pub trait CitizenMessenger: Send + Sync {
    async fn send_sms(&self, to: &PhoneNumber, body: &str) -> Result<(), PortError>;
    /// `reply_to`: where the resident's answer should go (the city's
    /// inbound address, tagged with the case).
    async fn send_email(
        &self,
        to: &Email,
        subject: &str,
        body: &str,
        reply_to: Option<&Email>,
    ) -> Result<(), PortError>;
}

/// The second line's questions; the caller's contact is kept apart.
#[async_trait]
pub trait QuestionStore: Send + Sync {
    /// Writes a new question (with the caller's contact apart, and its place
    /// on the department's open list); `false` when that id exists already.
    async fn create_question(
        &self,
        question: &crate::second_line::Question,
        contact: Option<&Contact>,
    ) -> Result<bool, PortError>;
    async fn question(
        &self,
        id: &crate::second_line::QuestionId,
    ) -> Result<Option<crate::second_line::Question>, PortError>;
    /// Writes the answered question if it still has `expected_version`, and
    /// takes it off its department's open list.
    async fn answer_question(
        &self,
        answered: &crate::second_line::Question,
        expected_version: u64,
    ) -> Result<ApplyOutcome, PortError>;
    /// A department's open questions, the soonest due first, at most `limit`.
    async fn open_questions(
        &self,
        department: &DepartmentCode,
        limit: usize,
    ) -> Result<Vec<crate::second_line::Question>, PortError>;
    async fn question_contact(
        &self,
        id: &crate::second_line::QuestionId,
    ) -> Result<Option<Contact>, PortError>;
}

/// Stores objects (reports, raw messages, attachments).
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Writes only if no object has that key yet; `Ok(false)` when it existed.
    async fn put_new(
        &self,
        key: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<bool, PortError>;
}

/// Reads a stored object whole (a raw e-mail SES stored).
#[async_trait]
pub trait ObjectReader: Send + Sync {
    /// `None` when nothing is stored under `key`.
    async fn read(&self, key: &str) -> Result<Option<Vec<u8>>, PortError>;
}

/// What is stored under a media key: its size and first bytes (to check the type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub bytes: u64,
    pub head: Vec<u8>,
}

/// Photos: stored under server-chosen keys, shared through expiring links.
#[async_trait]
pub trait MediaStore: Send + Sync {
    async fn put_media(
        &self,
        key: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<(), PortError>;
    /// A link to read the object, valid for `expires_in_secs`.
    async fn read_link(&self, key: &str, expires_in_secs: u64) -> Result<String, PortError>;
    /// A link the client uploads the object to: HTTP PUT with that content
    /// type and exactly `content_length` bytes (both are signed).
    async fn upload_link(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in_secs: u64,
    ) -> Result<String, PortError>;
    /// Size and first bytes of an uploaded object, `None` when nothing is there.
    async fn inspect(&self, key: &str) -> Result<Option<StoredObject>, PortError>;
    /// The whole of an uploaded object, `None` when nothing is there.
    async fn read_upload(&self, key: &str) -> Result<Option<Vec<u8>>, PortError>;
}

/// The audit trail's store: appends only (no function may rewrite or delete).
#[async_trait]
pub trait AuditTrail: Send + Sync {
    /// Appends a record under its [`AuditRecord::object_key`]; a record
    /// already there (a repeated delivery of the same change) is left as it is.
    async fn append(&self, record: &AuditRecord) -> Result<(), PortError>;
}

/// The quality team's reading of the audit trail.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Every record of a UTC day, in time order.
    async fn day(&self, day: jiff::civil::Date) -> Result<Vec<AuditRecord>, PortError>;
}

/// Full-text search over a city's knowledge base (built once per cold start).
pub trait KnowledgeIndex: Send + Sync {
    /// The best articles for `query` in `language` that `reader` finds, best
    /// first, at most `limit`.
    fn search(
        &self,
        query: &str,
        language: crate::language::Language,
        reader: crate::knowledge::Reader,
        limit: usize,
    ) -> Result<Vec<crate::knowledge::ArticleId>, PortError>;
}

/// Time and randomness come from outside so tests control them.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

pub trait IdSource: Send + Sync {
    fn request_id(&self) -> RequestId;
    fn case_number(&self) -> CaseNumber;
    /// The tracking token of a request (derived from its id, see [`crate::ids::TrackingKey`]).
    fn tracking_token(&self, id: &RequestId) -> TrackingToken;
    /// The keys a contact's requests are found by (see [`crate::contact::ContactKey`]).
    fn person_keys(&self, contact: &Contact) -> Vec<String>;
}

/// What the service remembers about the numbers that text it
/// ([`crate::channels::texter`]): profiles, and conversations under way
/// (which expire).
#[async_trait]
pub trait TexterStore: Send + Sync {
    async fn profile(
        &self,
        key: &str,
    ) -> Result<Option<crate::channels::texter::TexterProfile>, PortError>;
    /// Writes the profile as `version + 1` only if the stored one is still
    /// `profile.version` (absent for 0); `false` when it changed meanwhile.
    async fn save_profile(
        &self,
        profile: &crate::channels::texter::TexterProfile,
    ) -> Result<bool, PortError>;
    /// The conversation under way; `None` when there is none or it expired by `now`.
    async fn conversation(
        &self,
        key: &str,
        now: Timestamp,
    ) -> Result<Option<crate::channels::texter::Conversation>, PortError>;
    /// Writes as `version + 1` only if the stored one is still `version`
    /// (absent or expired for 0); `false` when it changed meanwhile.
    async fn save_conversation(
        &self,
        conversation: &crate::channels::texter::Conversation,
    ) -> Result<bool, PortError>;
    async fn end_conversation(&self, key: &str) -> Result<(), PortError>;
}

/// Counts events per key and time window (messages from a number this
/// minute, texts sent to it today): one atomic increment each.
#[async_trait]
pub trait RateCounter: Send + Sync {
    /// Counts one event for `key` in the window starting at `window`; the
    /// count so far, this one included. The count is kept `keep_secs` after
    /// the window starts, then forgotten.
    async fn count(&self, key: &str, window: Timestamp, keep_secs: i64) -> Result<u32, PortError>;
}
