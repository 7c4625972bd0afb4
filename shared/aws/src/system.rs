//! The real clock and the real source of ids and secrets.

use citydesk_core::ids::{CaseNumber, RequestId, TrackingToken};
use citydesk_core::ports::{Clock, IdSource};
use jiff::Timestamp;
use rand::{Rng, RngCore};

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// ULIDs for request ids, OS randomness for case numbers and tracking tokens.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomIds;

impl IdSource for RandomIds {
    fn request_id(&self) -> RequestId {
        let ulid = ulid::Ulid::new().to_string();
        // A ULID's string form always parses; fall back to a fresh draw defensively.
        RequestId::parse(&ulid).unwrap_or_else(|_| self.request_id())
    }
    fn case_number(&self) -> CaseNumber {
        CaseNumber::from_entropy(rand::rng().random())
    }
    fn tracking_token(&self) -> TrackingToken {
        use base64::Engine;
        let mut bytes = [0_u8; 24];
        rand::rng().fill_bytes(&mut bytes);
        TrackingToken::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }
}
