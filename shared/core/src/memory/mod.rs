//! In-memory twins of every port, for unit tests and benchmarks: the store
//! (requests, contacts, keys, the ledger) here, the queues, bus, messenger,
//! blobs, clock and ids in [`queues_blobs_clock`].

mod queues_blobs_clock;
mod texters;

pub use queues_blobs_clock::*;
pub use texters::{MemoryCounters, MemoryTexters};

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use jiff::Timestamp;

use crate::contact::Contact;
use crate::ids::{CaseNumber, DepartmentCode, RequestId};
use crate::messages::PipelineMessage;
use crate::ports::*;
use crate::request::{Change, HistoryEvent, ServiceRequest};
use crate::status::Status;

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[derive(Debug, Default)]
struct Tables {
    requests: HashMap<RequestId, ServiceRequest>,
    history: HashMap<RequestId, Vec<HistoryEvent>>,
    cases: HashMap<CaseNumber, RequestId>,
    contacts: HashMap<RequestId, Contact>,
    /// Until when each closed request's contact is kept.
    contact_retention: HashMap<RequestId, Timestamp>,
    idempotency: HashMap<String, (RequestId, String)>,
    keys: HashMap<String, DepartmentCode>,
    client_keys: HashMap<String, String>,
    ledger: HashMap<String, LedgerEntry>,
    /// Committed history events not yet taken: the in-memory change stream.
    stream: Vec<crate::outbox::CommittedEvent>,
    questions: HashMap<crate::second_line::QuestionId, crate::second_line::Question>,
    contact_log: Vec<crate::usecases::operator_desk::ContactRecord>,
    /// Requests by person key (the keyed hash of a phone or e-mail).
    people: HashMap<String, Vec<RequestId>>,
    question_contacts: HashMap<crate::second_line::QuestionId, Contact>,
}

#[derive(Debug, Clone)]
enum LedgerEntry {
    InProgress(Timestamp),
    Done,
}

/// Request store, contact store, department keys and once-ledger in one map set.
#[derive(Debug, Default)]
pub struct MemoryStore {
    tables: Mutex<Tables>,
}

impl MemoryStore {
    pub fn add_department_key(&self, key_hash: &str, department: DepartmentCode) {
        lock(&self.tables)
            .keys
            .insert(key_hash.to_owned(), department);
    }
    pub fn add_client_key(&self, key_hash: &str, client: &str) {
        lock(&self.tables)
            .client_keys
            .insert(key_hash.to_owned(), client.to_owned());
    }
    pub fn request_count(&self) -> usize {
        lock(&self.tables).requests.len()
    }
    /// Takes the committed events since the last call, in commit order (what
    /// the table's change stream would deliver).
    pub fn take_committed(&self) -> Vec<crate::outbox::CommittedEvent> {
        std::mem::take(&mut lock(&self.tables).stream)
    }
    /// The pipeline messages the outbox's dispatcher sends for what was
    /// committed since the last take (department messages left out).
    pub fn take_pipeline_reactions(&self) -> Vec<PipelineMessage> {
        self.take_committed()
            .iter()
            .filter_map(|c| crate::outbox::reactions::reactions(c).ok())
            .flatten()
            .filter_map(|r| match r {
                crate::outbox::reactions::Reaction::Pipeline(m) => Some(m),
                crate::outbox::reactions::Reaction::Department(_) => None,
            })
            .collect()
    }
}

fn committed(request: &ServiceRequest, event: &HistoryEvent) -> crate::outbox::CommittedEvent {
    crate::outbox::CommittedEvent {
        request_id: request.id.clone(),
        event: event.clone(),
        snapshot: crate::outbox::RequestSnapshot::of(request),
    }
}

#[async_trait]
impl RequestStore for MemoryStore {
    async fn create(&self, new: &NewRequest) -> Result<CreateOutcome, PortError> {
        let mut t = lock(&self.tables);
        if let Some(claim) = &new.idempotency
            && let Some((id, hash)) = t.idempotency.get(&claim.key)
        {
            return Ok(CreateOutcome::AlreadyExists {
                request_id: id.clone(),
                payload_hash: hash.clone(),
            });
        }
        if t.cases.contains_key(&new.request.case_number) {
            return Ok(CreateOutcome::CaseNumberTaken);
        }
        let id = new.request.id.clone();
        t.cases.insert(new.request.case_number.clone(), id.clone());
        t.requests.insert(id.clone(), new.request.clone());
        t.history.insert(id.clone(), vec![new.created.clone()]);
        t.stream.push(committed(&new.request, &new.created));
        if let Some(c) = &new.contact {
            t.contacts.insert(id.clone(), c.clone());
        }
        for key in &new.person_keys {
            t.people.entry(key.clone()).or_default().push(id.clone());
        }
        if let Some(claim) = &new.idempotency {
            t.idempotency
                .insert(claim.key.clone(), (id, claim.payload_hash.clone()));
        }
        Ok(CreateOutcome::Created)
    }

    async fn get(&self, id: &RequestId) -> Result<Option<ServiceRequest>, PortError> {
        Ok(lock(&self.tables).requests.get(id).cloned())
    }

    async fn find_by_case_number(
        &self,
        case: &CaseNumber,
    ) -> Result<Option<ServiceRequest>, PortError> {
        let t = lock(&self.tables);
        Ok(t.cases.get(case).and_then(|id| t.requests.get(id)).cloned())
    }

    async fn history(&self, id: &RequestId) -> Result<Vec<HistoryEvent>, PortError> {
        Ok(lock(&self.tables)
            .history
            .get(id)
            .cloned()
            .unwrap_or_default())
    }

    async fn apply(&self, change: &Change) -> Result<ApplyOutcome, PortError> {
        let mut t = lock(&self.tables);
        let id = &change.request.id;
        match t.requests.get(id) {
            Some(current) if current.version == change.expected_version => {}
            _ => return Ok(ApplyOutcome::Conflict),
        }
        t.requests.insert(id.clone(), change.request.clone());
        t.history
            .entry(id.clone())
            .or_default()
            .push(change.event.clone());
        t.stream.push(committed(&change.request, &change.event));
        Ok(ApplyOutcome::Applied)
    }

    async fn changes_between(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(RequestId, HistoryEvent)>, PortError> {
        let mut found: Vec<_> = lock(&self.tables)
            .history
            .iter()
            .flat_map(|(id, events)| events.iter().map(move |e| (id.clone(), e.clone())))
            .filter(|(_, e)| e.at >= from && e.at < to)
            .collect();
        found.sort_by(|a, b| (a.1.at, &a.0, a.1.seq).cmp(&(b.1.at, &b.0, b.1.seq)));
        Ok(found)
    }

    async fn created_between(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<ServiceRequest>, PortError> {
        let mut found: Vec<_> = lock(&self.tables)
            .requests
            .values()
            .filter(|r| r.created_at >= from && r.created_at < to)
            .cloned()
            .collect();
        found.sort_by_key(|r| r.id.clone());
        Ok(found)
    }
}

#[async_trait]
impl RequestQueries for MemoryStore {
    async fn page(
        &self,
        listing: &crate::paging::Listing,
        page: &crate::paging::PageRequest,
    ) -> Result<crate::paging::Page<ServiceRequest>, PortError> {
        use crate::paging::Listing;
        let t = lock(&self.tables);
        let keyed = t
            .requests
            .values()
            .filter_map(|r| {
                let key = match listing {
                    Listing::DepartmentWork { department, status } => (r.department.as_ref()
                        == Some(department)
                        && r.status.is_department_work()
                        && status.is_none_or(|s| r.status == s))
                    .then(|| {
                        let due = r.due_at.map(sortable).unwrap_or_default();
                        format!("{}#{due}#{}", r.status, r.id)
                    }),
                    Listing::Triage { jurisdiction } => (&r.jurisdiction == jurisdiction
                        && r.status == Status::Triaged)
                        .then(|| format!("{}#{}", sortable(r.created_at), r.id)),
                    Listing::Followers { original } => (r.status == Status::Duplicate
                        && r.duplicate_of.as_ref().map(|l| &l.request_id) == Some(original))
                    .then(|| format!("{}#{}", sortable(r.created_at), r.id)),
                }?;
                Some((key, r.clone()))
            })
            .collect();
        Ok(page_of(keyed, crate::paging::Order::OldestFirst, page))
    }

    async fn created_in(
        &self,
        window: &crate::paging::TimeWindow,
        order: crate::paging::Order,
        page: &crate::paging::PageRequest,
    ) -> Result<crate::paging::Page<ServiceRequest>, PortError> {
        let keyed = lock(&self.tables)
            .requests
            .values()
            .filter(|r| window.contains(r.created_at))
            .map(|r| (format!("{}#{}", sortable(r.created_at), r.id), r.clone()))
            .collect();
        Ok(page_of(keyed, order, page))
    }

    async fn changed_in(
        &self,
        window: &crate::paging::TimeWindow,
        order: crate::paging::Order,
        page: &crate::paging::PageRequest,
    ) -> Result<crate::paging::Page<(RequestId, HistoryEvent)>, PortError> {
        let keyed = lock(&self.tables)
            .history
            .iter()
            .flat_map(|(id, events)| events.iter().map(move |e| (id.clone(), e.clone())))
            .filter(|(_, e)| window.contains(e.at))
            .map(|(id, e)| (format!("{}#{id}#{:010}", sortable(e.at), e.seq), (id, e)))
            .collect();
        Ok(page_of(keyed, order, page))
    }

    async fn open_near(
        &self,
        near: &crate::paging::NearbyOpen,
    ) -> Result<Vec<ServiceRequest>, PortError> {
        let mut found: Vec<_> = lock(&self.tables)
            .requests
            .values()
            .filter(|r| {
                r.jurisdiction == near.jurisdiction
                    && r.service_code.as_ref() == Some(&near.service_code)
                    && crate::rules::duplicates::is_open_original(r.status)
                    && r.location.point.is_some()
                    && r.created_at >= near.created_from
            })
            .cloned()
            .collect();
        found.sort_by_key(|r| (r.created_at, r.id.clone()));
        Ok(found)
    }
}

/// Where the SLA sweep stopped, in memory.
#[derive(Debug, Default)]
pub struct MemorySweepProgress {
    pub position: Mutex<Option<SweepPosition>>,
}

#[async_trait]
impl SweepProgress for MemorySweepProgress {
    async fn load(&self) -> Result<Option<SweepPosition>, PortError> {
        Ok(lock(&self.position).clone())
    }
    async fn save(&self, position: Option<&SweepPosition>) -> Result<(), PortError> {
        *lock(&self.position) = position.cloned();
        Ok(())
    }
}

/// A timestamp as a fixed-width key that sorts like the time.
fn sortable(at: Timestamp) -> String {
    format!("{:025}", at.as_nanosecond())
}

/// One page of keyed items after the cursor, in `order` of their keys.
fn page_of<T>(
    mut keyed: Vec<(String, T)>,
    order: crate::paging::Order,
    page: &crate::paging::PageRequest,
) -> crate::paging::Page<T> {
    use crate::paging::{Order, Page, PageKey};
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    if order == Order::NewestFirst {
        keyed.reverse();
    }
    keyed.retain(|(k, _)| {
        page.after.as_ref().is_none_or(|a| match order {
            Order::OldestFirst => k.as_str() > a.as_str(),
            Order::NewestFirst => k.as_str() < a.as_str(),
        })
    });
    let more = keyed.len() > page.limit;
    keyed.truncate(page.limit);
    let next = more
        .then(|| keyed.last().map(|(k, _)| PageKey::new(k.clone())))
        .flatten();
    Page {
        items: keyed.into_iter().map(|(_, item)| item).collect(),
        next,
    }
}

/// Operator examples kept in memory.
#[derive(Debug, Default)]
pub struct MemoryTrainingExamples {
    pub examples: Mutex<Vec<OperatorExample>>,
}

#[async_trait]
impl TrainingExamples for MemoryTrainingExamples {
    async fn record(&self, example: &OperatorExample) -> Result<(), PortError> {
        let mut all = lock(&self.examples);
        all.retain(|e| e.request_id != example.request_id);
        all.push(example.clone());
        Ok(())
    }
}

#[async_trait]
impl ContactStore for MemoryStore {
    async fn contact(&self, id: &RequestId) -> Result<Option<Contact>, PortError> {
        let tables = lock(&self.tables);
        // Like the table: a passed retention is absent, whether or not TTL ran.
        if tables
            .contact_retention
            .get(id)
            .is_some_and(|until| *until < Timestamp::now())
        {
            return Ok(None);
        }
        Ok(tables.contacts.get(id).cloned())
    }
}

#[async_trait]
impl crate::ports::ContactRetention for MemoryStore {
    async fn retain_contact_until(
        &self,
        id: &RequestId,
        until: Option<Timestamp>,
    ) -> Result<(), PortError> {
        let mut tables = lock(&self.tables);
        match until {
            Some(until) => {
                tables.contact_retention.insert(id.clone(), until);
            }
            None => {
                tables.contact_retention.remove(id);
            }
        }
        Ok(())
    }
}

impl MemoryStore {
    /// Until when a request's contact is kept (`None`: while it is open).
    pub fn contact_retained_until(&self, id: &RequestId) -> Option<Timestamp> {
        lock(&self.tables).contact_retention.get(id).copied()
    }
}

#[async_trait]
impl DepartmentKeys for MemoryStore {
    async fn department_for_key_hash(
        &self,
        key_hash: &str,
    ) -> Result<Option<DepartmentCode>, PortError> {
        Ok(lock(&self.tables).keys.get(key_hash).cloned())
    }
}

#[async_trait]
impl ClientKeys for MemoryStore {
    async fn client_for_key_hash(&self, key_hash: &str) -> Result<Option<String>, PortError> {
        Ok(lock(&self.tables).client_keys.get(key_hash).cloned())
    }
}

#[async_trait]
impl OnceLedger for MemoryStore {
    async fn claim(
        &self,
        key: &str,
        now: Timestamp,
        lock_until: Timestamp,
    ) -> Result<Claim, PortError> {
        let mut t = lock(&self.tables);
        match t.ledger.get(key) {
            Some(LedgerEntry::Done) => Ok(Claim::AlreadyDone),
            Some(LedgerEntry::InProgress(until)) if *until > now => Ok(Claim::InProgress),
            _ => {
                t.ledger
                    .insert(key.to_owned(), LedgerEntry::InProgress(lock_until));
                Ok(Claim::Acquired)
            }
        }
    }
    async fn complete(&self, key: &str) -> Result<(), PortError> {
        lock(&self.tables)
            .ledger
            .insert(key.to_owned(), LedgerEntry::Done);
        Ok(())
    }
    async fn release(&self, key: &str) -> Result<(), PortError> {
        lock(&self.tables).ledger.remove(key);
        Ok(())
    }
}

#[async_trait]
impl crate::ports::QuestionStore for MemoryStore {
    async fn create_question(
        &self,
        question: &crate::second_line::Question,
        contact: Option<&Contact>,
    ) -> Result<bool, PortError> {
        let mut t = lock(&self.tables);
        if t.questions.contains_key(&question.id) {
            return Ok(false);
        }
        t.questions.insert(question.id.clone(), question.clone());
        if let Some(contact) = contact {
            t.question_contacts
                .insert(question.id.clone(), contact.clone());
        }
        Ok(true)
    }
    async fn question(
        &self,
        id: &crate::second_line::QuestionId,
    ) -> Result<Option<crate::second_line::Question>, PortError> {
        Ok(lock(&self.tables).questions.get(id).cloned())
    }
    async fn answer_question(
        &self,
        answered: &crate::second_line::Question,
        expected_version: u64,
    ) -> Result<ApplyOutcome, PortError> {
        let mut t = lock(&self.tables);
        match t.questions.get(&answered.id) {
            Some(q) if q.version == expected_version => {
                t.questions.insert(answered.id.clone(), answered.clone());
                Ok(ApplyOutcome::Applied)
            }
            _ => Ok(ApplyOutcome::Conflict),
        }
    }
    async fn open_questions(
        &self,
        department: &DepartmentCode,
        limit: usize,
    ) -> Result<Vec<crate::second_line::Question>, PortError> {
        let t = lock(&self.tables);
        let mut open: Vec<_> = t
            .questions
            .values()
            .filter(|q| {
                &q.department == department && q.status == crate::second_line::QuestionStatus::Open
            })
            .cloned()
            .collect();
        open.sort_by(|a, b| (a.due_at, &a.id).cmp(&(b.due_at, &b.id)));
        open.truncate(limit);
        Ok(open)
    }
    async fn question_contact(
        &self,
        id: &crate::second_line::QuestionId,
    ) -> Result<Option<Contact>, PortError> {
        Ok(lock(&self.tables).question_contacts.get(id).cloned())
    }
}

#[async_trait]
impl crate::ports::ContactLog for MemoryStore {
    async fn record(
        &self,
        entry: &crate::usecases::operator_desk::ContactRecord,
    ) -> Result<Option<crate::usecases::operator_desk::ContactRecord>, PortError> {
        let mut t = lock(&self.tables);
        if let Some(earlier) = t.contact_log.iter().find(|r| r.id == entry.id) {
            return Ok(Some(earlier.clone()));
        }
        t.contact_log.push(entry.clone());
        Ok(None)
    }
    async fn recorded_between(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<crate::usecases::operator_desk::ContactRecord>, PortError> {
        Ok(lock(&self.tables)
            .contact_log
            .iter()
            .filter(|r| r.at >= from && r.at < to)
            .cloned()
            .collect())
    }
}

#[async_trait]
impl crate::ports::PersonIndex for MemoryStore {
    async fn requests_of(&self, person_key: &str) -> Result<Vec<RequestId>, PortError> {
        Ok(lock(&self.tables)
            .people
            .get(person_key)
            .cloned()
            .unwrap_or_default())
    }
}
