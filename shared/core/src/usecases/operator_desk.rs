//! The first line: an operator with a caller on the line looks them up by
//! phone number or e-mail address (their open and past requests, and how
//! to reach them), registers a request on their behalf (see
//! [`crate::usecases::submit_request`], with the operator's stamp), or
//! records a contact answered from the knowledge base as resolved at first
//! contact. Only operators read a caller's personal data, and every such
//! read is in the audit trail before it is shown.

use jiff::Timestamp;
use serde::Serialize;
use tracing::instrument;

use crate::audit::{AuditAction, AuditRecord, StaffStamp};
use crate::contact::{Contact, ContactKey, Email, PhoneNumber};
use crate::ids::{CaseNumber, ServiceCode};
use crate::knowledge::{ArticleId, KnowledgeBase};
use crate::language::Language;
use crate::ports::{
    AuditTrail, Clock, ContactLog, ContactStore, PersonIndex, PortError, RequestStore,
};
use crate::request::{Channel, ServiceRequest};
use crate::staff::Role;
use crate::usecases::staff_access::Caller;

/// The channels an operator registers a contact from.
pub const OPERATOR_CHANNELS: [Channel; 4] = [
    Channel::Phone,
    Channel::InPerson,
    Channel::Letter,
    Channel::Fax,
];

/// How a caller is found.
#[derive(Debug, Clone)]
pub enum CallerIdentifier {
    Phone(PhoneNumber),
    Email(Email),
}

#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    #[error("this is the contact centre's first line: it needs the operator role")]
    NotOperator,
    #[error("channel must be one of phone, in_person, letter, fax")]
    Channel,
    #[error("article {0} is not in the knowledge base")]
    UnknownArticle(String),
    #[error("name at least one knowledge-base article the answer came from")]
    NoArticle,
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Whether `caller` may see a caller's personal data (contact, requests by person).
pub fn reads_personal_data(caller: &Caller) -> bool {
    matches!(caller, Caller::Staff(s) if s.has(&Role::Operator))
}

/// The stamp of an operator, or why they are not one.
pub fn operator_stamp(caller: &Caller, via: &str) -> Result<StaffStamp, OperatorError> {
    if reads_personal_data(caller) {
        Ok(caller.stamp(via))
    } else {
        Err(OperatorError::NotOperator)
    }
}

/// The channel an operator names (`phone`, `in_person`, `letter`, `fax`).
pub fn operator_channel(raw: &str) -> Result<Channel, OperatorError> {
    OPERATOR_CHANNELS
        .into_iter()
        .find(|c| c.as_str() == raw.trim())
        .ok_or(OperatorError::Channel)
}

pub struct OperatorDesk<'a> {
    pub store: &'a dyn RequestStore,
    pub contacts: &'a dyn ContactStore,
    pub people: &'a dyn PersonIndex,
    pub audit: &'a dyn AuditTrail,
    pub clock: &'a dyn Clock,
    pub contact_key: &'a ContactKey,
}

/// What the operator sees of a caller.
#[derive(Debug, Clone)]
pub struct CallerHistory {
    /// The contact they left most recently.
    pub contact: Option<Contact>,
    /// Their requests still being worked, newest first.
    pub open: Vec<ServiceRequest>,
    /// Their finished requests, newest first.
    pub past: Vec<ServiceRequest>,
}

/// The caller's requests and contact; the read is appended to the audit
/// trail (who, which requests, by phone or e-mail, never the number) first.
#[instrument(skip_all)]
pub async fn look_up_caller(
    desk: &OperatorDesk<'_>,
    stamp: &StaffStamp,
    who: &CallerIdentifier,
    read_id: String,
) -> Result<CallerHistory, OperatorError> {
    let (person_key, by) = match who {
        CallerIdentifier::Phone(phone) => (desk.contact_key.of_phone(phone), "phone"),
        CallerIdentifier::Email(email) => (desk.contact_key.of_email(email), "e-mail"),
    };
    let mut requests = Vec::new();
    for id in desk.people.requests_of(&person_key).await? {
        if let Some(request) = desk.store.get(&id).await? {
            requests.push(request);
        }
    }
    requests.sort_by_key(|r| std::cmp::Reverse(r.created_at));
    let mut contact = None;
    for request in requests.iter().filter(|r| r.has_contact) {
        if let Some(found) = desk.contacts.contact(&request.id).await? {
            contact = Some(found);
            break;
        }
    }
    let record = AuditRecord::of_read(
        stamp,
        desk.clock.now(),
        "caller_lookup",
        requests.iter().map(|r| r.case_number.clone()).collect(),
        read_id,
        format!("by {by}: {} request(s)", requests.len()),
    );
    desk.audit.append(&record).await?;
    let (past, open) = requests.into_iter().partition(|r| r.status.is_closed());
    Ok(CallerHistory {
        contact,
        open,
        past,
    })
}

/// A contact the operator resolved without a request: answered from the
/// knowledge base at first contact.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ContactRecord {
    /// The business key: the client's idempotency key, or one the server chose.
    pub id: String,
    pub at: Timestamp,
    pub channel: Channel,
    pub language: Language,
    /// The articles the answer came from.
    pub articles: Vec<ArticleId>,
    /// The service the question was about, when the articles name one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_code: Option<ServiceCode>,
    pub outcome: ContactOutcome,
    /// The operator (the identity provider's subject).
    pub operator: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactOutcome {
    ResolvedAtFirstContact,
}

impl ContactOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ResolvedAtFirstContact => "resolved_at_first_contact",
        }
    }
}

/// What the operator says about an answered contact.
#[derive(Debug, Clone)]
pub struct AnsweredContact {
    pub id: String,
    pub channel: Channel,
    pub language: Language,
    pub articles: Vec<String>,
}

/// Records `contact` as resolved at first contact (once per id) and puts
/// it in the audit trail. The articles must exist.
#[instrument(skip_all, fields(channel = contact.channel.as_str()))]
pub async fn record_answered_contact(
    log: &dyn ContactLog,
    audit: &dyn AuditTrail,
    clock: &dyn Clock,
    kb: &KnowledgeBase,
    stamp: &StaffStamp,
    contact: AnsweredContact,
) -> Result<(ContactRecord, bool), OperatorError> {
    if !OPERATOR_CHANNELS.contains(&contact.channel) {
        return Err(OperatorError::Channel);
    }
    if contact.articles.is_empty() {
        return Err(OperatorError::NoArticle);
    }
    let mut articles = Vec::new();
    for raw in &contact.articles {
        let article = ArticleId::parse(raw.trim())
            .ok()
            .and_then(|id| kb.article(&id))
            .ok_or_else(|| OperatorError::UnknownArticle(raw.clone()))?;
        if !articles.contains(&article.id) {
            articles.push(article.id.clone());
        }
    }
    let service_code = articles
        .iter()
        .filter_map(|id| kb.article(id))
        .find_map(|a| a.service_code.clone());
    let record = ContactRecord {
        id: contact.id,
        at: clock.now(),
        channel: contact.channel,
        language: contact.language,
        articles,
        service_code,
        outcome: ContactOutcome::ResolvedAtFirstContact,
        operator: stamp.subject.clone(),
    };
    // A repeat (the operator's retry) answers with the first record, and
    // its audit entry lands on the first one's key.
    let (record, new) = match log.record(&record).await? {
        None => (record, true),
        Some(earlier) => (earlier, false),
    };
    let audit_record = AuditRecord::of_action(
        stamp,
        record.at,
        AuditAction::Change,
        "first_contact_resolution",
        Vec::<CaseNumber>::new(),
        format!("contact-{}", record.id),
        format!(
            "{} via {}: {}",
            record.outcome.as_str(),
            record.channel.as_str(),
            record
                .articles
                .iter()
                .map(ArticleId::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    audit.append(&audit_record).await?;
    Ok((record, new))
}
