//! The real clock and the real source of ids and secrets.

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
/// derived with the deployment's key.
#[derive(Debug, Clone)]
pub struct RandomIds {
    tracking: TrackingKey,
}

impl RandomIds {
    pub fn new(tracking: TrackingKey) -> Self {
        Self { tracking }
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
}
