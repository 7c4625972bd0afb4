//! The real clock and the real source of ids and secrets.

use citydesk_core::contact::ContactKey;
use citydesk_core::ids::{CaseNumber, RequestId, TrackingKey, TrackingToken};
use citydesk_core::ports::{Clock, IdSource};
use jiff::Timestamp;
use rand::Rng;

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// ULIDs for request ids, OS randomness for case numbers, tracking tokens
/// and person-index keys derived with the deployment's keys.
#[derive(Debug, Clone)]
pub struct RandomIds {
    tracking: TrackingKey,
    contacts: ContactKey,
}

impl RandomIds {
    pub fn new(tracking: TrackingKey, contacts: ContactKey) -> Self {
        Self { tracking, contacts }
    }
}

impl IdSource for RandomIds {
    fn request_id(&self) -> RequestId {
        let ulid = ulid::Ulid::new().to_string();
        // A ULID's string form always parses; fall back to a fresh draw defensively.
        RequestId::parse(&ulid).unwrap_or_else(|_| self.request_id())
    }
    fn case_number(&self) -> CaseNumber {
        CaseNumber::from_entropy(rand::rng().random())
    }
    fn tracking_token(&self, id: &RequestId) -> TrackingToken {
        self.tracking.token_for(id)
    }
    fn person_keys(&self, contact: &citydesk_core::contact::Contact) -> Vec<String> {
        self.contacts.person_keys(contact)
    }
}
