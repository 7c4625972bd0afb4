//! The second line's use cases: an operator asks the responsible
//! department's experts; experts list their department's open questions and
//! answer; the answer reaches the caller (when they left a contact) and
//! becomes a draft knowledge-base article.

use tracing::instrument;

use crate::audit::StaffStamp;
use crate::catalogue::Catalogue;
use crate::contact::Contact;
use crate::ids::{CaseNumber, DepartmentCode, ServiceCode};
use crate::language::Language;
use crate::messages::PipelineMessage;
use crate::ports::{ApplyOutcome, BlobStore, Clock, PipelineQueue, PortError, QuestionStore};
use crate::second_line::{MAX_QUESTION_CHARS, Question, QuestionId, QuestionStatus, draft_article};
use crate::usecases::StepError;
use crate::usecases::notify_citizen::{Notify, NotifyOutcome, send_once_to};

/// Most open questions one list shows.
pub const MAX_LISTED_QUESTIONS: usize = 100;

/// What an operator asks.
#[derive(Debug, Clone)]
pub struct Ask {
    /// Whose experts: given, or the service's department.
    pub department: Option<DepartmentCode>,
    pub service_code: Option<ServiceCode>,
    pub case_number: Option<CaseNumber>,
    pub text: String,
    pub language: Language,
    /// The caller's contact, to be told the answer.
    pub contact: Option<Contact>,
    /// The console's `Idempotency-Key`, or a fresh unique value: the same
    /// key asks the same question.
    pub key: String,
}

pub struct SecondLine<'a> {
    pub questions: &'a dyn QuestionStore,
    pub clock: &'a dyn Clock,
    pub catalogue: &'a Catalogue,
    /// Who asks or answers (the audit of the question itself).
    pub staff: &'a StaffStamp,
}

#[derive(Debug, thiserror::Error)]
pub enum SecondLineError {
    #[error("question must be 1 to {MAX_QUESTION_CHARS} characters")]
    QuestionLength,
    #[error("answer must be 1 to {MAX_QUESTION_CHARS} characters")]
    AnswerLength,
    #[error("name the department or the service the question is about")]
    NoDepartment,
    #[error("department {0} is not one of this city's departments")]
    UnknownDepartment(DepartmentCode),
    #[error("service {0} is not in the catalogue")]
    UnknownService(ServiceCode),
    #[error("this Idempotency-Key was used for another question")]
    IdempotencyConflict,
    /// Missing, or another department's: the caller cannot tell which.
    #[error("no question {0} for you")]
    NotFound(QuestionId),
    #[error("the question was answered already, differently; ask a new one to add to it")]
    AlreadyAnswered,
    #[error("the question was changed by someone else at the same time; reload and try again")]
    Conflict,
    #[error(transparent)]
    Port(#[from] PortError),
}

fn within(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty() && text.chars().count() <= MAX_QUESTION_CHARS).then(|| text.to_owned())
}

/// Asks the department's experts; `(question, true)` when it is new,
/// `(question, false)` for a repeat of the same ask (same key and text).
#[instrument(skip(deps, ask), fields(staff = %deps.staff.subject))]
pub async fn ask_experts(
    deps: &SecondLine<'_>,
    ask: Ask,
) -> Result<(Question, bool), SecondLineError> {
    let text = within(&ask.text).ok_or(SecondLineError::QuestionLength)?;
    if let Some(code) = &ask.service_code
        && deps.catalogue.service(code).is_none()
    {
        return Err(SecondLineError::UnknownService(code.clone()));
    }
    let code = ask
        .department
        .clone()
        .or_else(|| {
            let service = deps.catalogue.service(ask.service_code.as_ref()?)?;
            Some(service.department.clone())
        })
        .ok_or(SecondLineError::NoDepartment)?;
    let department = deps
        .catalogue
        .department(&code)
        .ok_or_else(|| SecondLineError::UnknownDepartment(code.clone()))?;
    let now = deps.clock.now();
    let id = QuestionId::from_key(&deps.staff.subject, &ask.key);
    // Kept only when it can carry the answer (a name alone cannot).
    let contact = ask
        .contact
        .filter(|c| c.phone.is_some() || c.email.is_some());
    let question = Question {
        id: id.clone(),
        jurisdiction: deps.catalogue.city().jurisdiction_id.clone(),
        department: code,
        service_code: ask.service_code,
        case_number: ask.case_number,
        text,
        language: ask.language,
        asked_by: deps.staff.clone(),
        asked_at: now,
        due_at: deps.catalogue.due_after(now, department.answer_hours),
        status: QuestionStatus::Open,
        answer: None,
        has_caller_contact: contact.is_some(),
        draft_article: None,
        version: 1,
    };
    if deps
        .questions
        .create_question(&question, contact.as_ref())
        .await?
    {
        tracing::info!(question = %id, department = %question.department, "question for the experts");
        return Ok((question, true));
    }
    let earlier = deps
        .questions
        .question(&id)
        .await?
        .ok_or_else(|| PortError::retryable("ask experts", "exists, yet not found"))?;
    if earlier.text != question.text || earlier.department != question.department {
        return Err(SecondLineError::IdempotencyConflict);
    }
    Ok((earlier, false))
}

/// Who reads questions, and which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuestionReader {
    /// The contact centre: every question (their own answers come back here).
    Operator,
    /// Experts and the head of these departments: their questions only.
    Departments(Vec<DepartmentCode>),
}

impl QuestionReader {
    fn may_read(&self, question: &Question) -> bool {
        match self {
            QuestionReader::Operator => true,
            QuestionReader::Departments(d) => d.contains(&question.department),
        }
    }
}

/// One question with its answer, if `reader` may see it (else `NotFound`).
pub async fn read_question(
    questions: &dyn QuestionStore,
    reader: &QuestionReader,
    id: &QuestionId,
) -> Result<Question, SecondLineError> {
    questions
        .question(id)
        .await?
        .filter(|q| reader.may_read(q))
        .ok_or_else(|| SecondLineError::NotFound(id.clone()))
}

/// A department's open questions, the soonest due first.
pub async fn open_questions(
    questions: &dyn QuestionStore,
    department: &DepartmentCode,
) -> Result<Vec<Question>, SecondLineError> {
    Ok(questions
        .open_questions(department, MAX_LISTED_QUESTIONS)
        .await?)
}

/// Where the answer goes next.
pub struct AnswerFlow<'a> {
    /// The draft articles (`knowledge/drafts/<city>/<id>.toml`).
    pub drafts: &'a dyn BlobStore,
    /// The notify queue, to tell the caller.
    pub notify: &'a dyn PipelineQueue,
}

/// An expert of `department` answers: the question is answered (once), its
/// draft article written, and the caller told when they left a contact. A
/// repeat of the same answer does the later steps again and changes nothing.
#[instrument(skip(deps, flow, text), fields(department = %department, question = %id))]
pub async fn answer_question(
    deps: &SecondLine<'_>,
    flow: &AnswerFlow<'_>,
    department: &DepartmentCode,
    id: &QuestionId,
    text: &str,
) -> Result<Question, SecondLineError> {
    let text = within(text).ok_or(SecondLineError::AnswerLength)?;
    let question = read_question(
        deps.questions,
        &QuestionReader::Departments(vec![department.clone()]),
        id,
    )
    .await?;
    let answered = match (&question.status, &question.answer) {
        (QuestionStatus::Answered, Some(a)) if a.text == text => question,
        (QuestionStatus::Answered, _) => return Err(SecondLineError::AlreadyAnswered),
        (QuestionStatus::Open, _) => {
            let answered = question.answered(text, deps.staff, deps.clock.now());
            match deps
                .questions
                .answer_question(&answered, question.version)
                .await?
            {
                ApplyOutcome::Applied => answered,
                ApplyOutcome::Conflict => return Err(SecondLineError::Conflict),
            }
        }
    };
    let review_by = deps
        .clock
        .now()
        .to_zoned(deps.catalogue.time_zone().clone())
        .date();
    if let Some(article) = draft_article(&answered, review_by) {
        let toml = toml::to_string(&article)
            .map_err(|e| PortError::permanent("write draft article", e.to_string()))?;
        let key = format!(
            "knowledge/drafts/{}/{}.toml",
            answered.jurisdiction, article.id
        );
        flow.drafts
            .put_new(&key, "application/toml", toml.into_bytes())
            .await?;
    }
    if answered.has_caller_contact {
        flow.notify
            .send(&PipelineMessage::QuestionAnswered {
                question_id: answered.id.clone(),
            })
            .await?;
    }
    Ok(answered)
}

/// The notify step for an answered question: the caller gets the answer once.
#[instrument(skip(deps, questions), fields(question = %id))]
pub async fn tell_caller(
    deps: &Notify<'_>,
    questions: &dyn QuestionStore,
    id: &QuestionId,
) -> Result<NotifyOutcome, StepError> {
    let Some(question) = questions.question(id).await? else {
        return Err(StepError::Poison(format!("no question {id}")));
    };
    let Some(catalogue) = deps.catalogues.get(&question.jurisdiction) else {
        return Err(StepError::Poison(format!(
            "jurisdiction {} is not served here",
            question.jurisdiction
        )));
    };
    let (Some(message), Some(contact)) = (
        crate::notifications::question_answer_message(catalogue, &question),
        questions.question_contact(id).await?,
    ) else {
        return Ok(NotifyOutcome::NothingToSend);
    };
    let to = crate::usecases::notify_citizen::Recipient {
        contact: &contact,
        scope: &format!("question#{id}"),
        reply_to: deps.reply_to,
    };
    send_once_to(deps, &format!("question-answer#{id}"), &to, &message).await
}
