//! The second line: a question the first line could not answer goes to the
//! experts of the responsible department, with a due time from the
//! catalogue; the expert's answer goes back to the operator (and to the
//! caller when they left a contact) and becomes a draft knowledge-base
//! article for the department to review.
//!
//! The caller's contact is personal data and is kept apart from the question
//! (like a request's): the question holds only whether there is one.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::audit::StaffStamp;
use crate::ids::{CaseNumber, DepartmentCode, JurisdictionId, ServiceCode};
use crate::knowledge::{Article, ArticleId, ArticleStatus, ArticleText};
use crate::language::Language;

/// Longest question or answer.
pub const MAX_QUESTION_CHARS: usize = 4000;

/// A question's id: `q-` and 24 hex digits (random, or from the asker's
/// idempotency key, so a retried ask is the same question).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct QuestionId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a question id is q- and 24 hex digits, e.g. q-0123456789abcdef01234567")]
pub struct QuestionIdError;

impl QuestionId {
    pub fn parse(raw: &str) -> Result<Self, QuestionIdError> {
        let ok = raw.strip_prefix("q-").is_some_and(|hex| {
            hex.len() == 24
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        });
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(QuestionIdError)
        }
    }

    /// The id of the question `asker` asks under idempotency key `key`.
    pub fn from_key(asker: &str, key: &str) -> Self {
        let digest = crate::ids::sha256_hex(format!("question\n{asker}\n{key}").as_bytes());
        Self(format!("q-{}", &digest[..24]))
    }

    /// A fresh id from 12 random bytes.
    pub fn from_random(bytes: [u8; 12]) -> Self {
        Self(format!("q-{}", hex::encode(bytes)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for QuestionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for QuestionId {
    type Error = QuestionIdError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<QuestionId> for String {
    fn from(id: QuestionId) -> Self {
        id.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionStatus {
    Open,
    Answered,
}

/// What an expert answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpertAnswer {
    pub text: String,
    pub by: StaffStamp,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    pub id: QuestionId,
    pub jurisdiction: JurisdictionId,
    /// Whose experts answer it.
    pub department: DepartmentCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_code: Option<ServiceCode>,
    /// The request it is about, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_number: Option<CaseNumber>,
    pub text: String,
    /// The caller's language: the answer reaches them in it.
    pub language: Language,
    pub asked_by: StaffStamp,
    pub asked_at: Timestamp,
    /// When the department owes the answer (its `answer_hours` in working time).
    pub due_at: Timestamp,
    pub status: QuestionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<ExpertAnswer>,
    /// Whether the caller left a contact (kept apart) to be told the answer.
    pub has_caller_contact: bool,
    /// The draft knowledge-base article made of the question and its answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft_article: Option<ArticleId>,
    /// Optimistic-locking version: 1 when asked, 2 when answered.
    pub version: u64,
}

impl Question {
    /// The question answered: what to write with `expected_version` = its version now.
    pub fn answered(&self, text: String, by: &StaffStamp, at: Timestamp) -> Question {
        let mut next = self.clone();
        next.status = QuestionStatus::Answered;
        next.answer = Some(ExpertAnswer {
            text,
            by: by.clone(),
            at,
        });
        next.draft_article = draft_article_id(&self.id);
        next.version = self.version + 1;
        next
    }

    pub fn is_overdue(&self, now: Timestamp) -> bool {
        self.status == QuestionStatus::Open && now > self.due_at
    }
}

/// The id of the draft article a question's answer becomes (`faq-q-…`).
pub fn draft_article_id(question: &QuestionId) -> Option<ArticleId> {
    ArticleId::parse(&format!("faq-{}", question.as_str())).ok()
}

/// The answered question as a draft info card for its department to review
/// (the `kb/<id>.toml` format: move it into the city folder once reviewed).
pub fn draft_article(question: &Question, review_by: jiff::civil::Date) -> Option<Article> {
    let answer = question.answer.as_ref()?;
    let title: String = question.text.chars().take(120).collect();
    let summary: String = answer.text.chars().take(300).collect();
    let text = ArticleText {
        title,
        summary,
        body: format!("{}\n\n{}", question.text, answer.text),
    };
    Some(Article {
        id: draft_article_id(&question.id)?,
        topic: "faq".to_owned(),
        owner: question.department.clone(),
        service_code: question.service_code.clone(),
        status: ArticleStatus::Draft,
        version: 1,
        author: answer.by.subject.clone(),
        reviewer: None,
        next_review: review_by,
        keywords: Vec::new(),
        en: (question.language == Language::En).then(|| text.clone()),
        pl: text,
    })
}
