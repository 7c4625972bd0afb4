//! What the city remembers about a number that texts it (SMS, WhatsApp):
//! a profile kept as long as the number uses the service (the language it
//! writes in, whether it said STOP), and the conversation under way, which
//! expires on its own ([`CONVERSATION_TTL`]). Both are keyed by the
//! number's contact key (a keyed hash), never by the number itself.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::ids::CaseNumber;
use crate::language::Language;
use crate::media::MediaRef;

/// How long a question the service asked waits for its answer.
pub const CONVERSATION_TTL: SignedDuration = SignedDuration::from_hours(24);

/// How far back a request counts as "just opened" for the question whether
/// a new text adds to it.
pub const RECENT_REQUEST: SignedDuration = SignedDuration::from_hours(4);

/// Messages one number may send in a minute before the rest are dropped
/// (without an answer, so a flood costs no outbound SMS).
pub const MAX_TEXTS_PER_MINUTE: u32 = 10;

/// What the service remembers about a number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TexterProfile {
    /// The number's contact key.
    pub key: String,
    /// The language its last message was written in, when that could be told.
    pub language: Option<Language>,
    /// The number said STOP: nothing is sent to it until START.
    pub opted_out: bool,
    /// 0 before the first save; each save writes `version + 1`.
    pub version: u64,
}

impl TexterProfile {
    pub fn new(key: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            language: None,
            opted_out: false,
            version: 0,
        }
    }
}

/// The question the service asked and is waiting to hear back on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum PendingStep {
    /// A report without a place: the next message gives its address (or,
    /// on WhatsApp, a shared location).
    Location {
        description: String,
        #[serde(default)]
        media: Vec<MediaRef>,
        /// How many times the address was asked for already.
        asked: u8,
    },
    /// A text from a number with a request opened in the last hours: does it
    /// add to that case (1) or is it a new problem (2)?
    AddOrNew {
        text: String,
        #[serde(default)]
        media: Vec<MediaRef>,
        case: CaseNumber,
    },
}

/// A conversation under way with one number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    pub key: String,
    pub step: PendingStep,
    pub language: Language,
    /// The message that started it: the request it ends in is keyed by it,
    /// so a retried answer creates nothing twice.
    pub started_by: String,
    pub expires_at: Timestamp,
    /// 0 before the first save; each save writes `version + 1`.
    pub version: u64,
}

impl Conversation {
    /// When this state was written: its expiry less the conversation's TTL.
    pub fn written_at(&self) -> jiff::Timestamp {
        self.expires_at
            .checked_sub(CONVERSATION_TTL)
            .unwrap_or(self.expires_at)
    }
}
