//! HTTP routes of the second line: the operators' side and the experts'.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use citydesk_core::audit::StaffStamp;
use citydesk_core::ids::{CaseNumber, DepartmentCode, ServiceCode};
use citydesk_core::language::Language;
use citydesk_core::second_line::{Question, QuestionId};
use citydesk_core::usecases::second_line::{
    AnswerFlow, Ask, QuestionReader, SecondLine, SecondLineError, answer_question, ask_experts,
    open_questions, read_question,
};
use citydesk_core::usecases::staff_access::{
    AccessError, Caller, answering_department, may_ask_experts, question_reader,
};
use citydesk_http_api::citizen_request::{ContactBody, idempotency_claim};
use citydesk_http_api::{ApiError, JsonBody, method_not_allowed, route_not_found};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::Deps;

/// How the audit trail names this API.
const AUDIT_VIA: &str = "second-line";

pub fn router(deps: Arc<Deps>) -> Router {
    Router::new()
        .route("/v1/operator/questions", post(ask))
        .route("/v1/operator/questions/{id}", get(read))
        .route("/v1/expert/questions", get(list))
        .route("/v1/expert/questions/{id}", get(read))
        .route("/v1/expert/questions/{id}/answer", post(answer))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(deps)
}

/// A question as staff see it (the caller's contact is never in it).
#[derive(Debug, Serialize)]
struct QuestionView {
    id: String,
    status: &'static str,
    department: String,
    department_name: Option<String>,
    service_code: Option<String>,
    case_number: Option<String>,
    question: String,
    language: &'static str,
    asked_by: String,
    asked_at: Timestamp,
    due_at: Timestamp,
    overdue: bool,
    answer: Option<AnswerView>,
    caller_will_be_told: bool,
    draft_article: Option<String>,
}

#[derive(Debug, Serialize)]
struct AnswerView {
    text: String,
    by: String,
    at: Timestamp,
}

fn view(deps: &Deps, q: &Question) -> QuestionView {
    QuestionView {
        id: q.id.to_string(),
        status: match q.status {
            citydesk_core::second_line::QuestionStatus::Open => "open",
            citydesk_core::second_line::QuestionStatus::Answered => "answered",
        },
        department: q.department.to_string(),
        department_name: deps
            .catalogue
            .department(&q.department)
            .map(|d| d.name.get(q.language).to_owned()),
        service_code: q.service_code.as_ref().map(ToString::to_string),
        case_number: q.case_number.as_ref().map(ToString::to_string),
        question: q.text.clone(),
        language: q.language.as_str(),
        asked_by: q.asked_by.subject.clone(),
        asked_at: q.asked_at,
        due_at: q.due_at,
        overdue: q.is_overdue(deps.clock.now()),
        answer: q.answer.as_ref().map(|a| AnswerView {
            text: a.text.clone(),
            by: a.by.subject.clone(),
            at: a.at,
        }),
        caller_will_be_told: q.has_caller_contact,
        draft_article: q.draft_article.as_ref().map(ToString::to_string),
    }
}

fn second_line<'a>(deps: &'a Deps, staff: &'a StaffStamp) -> SecondLine<'a> {
    SecondLine {
        questions: deps.questions.as_ref(),
        clock: deps.clock.as_ref(),
        catalogue: &deps.catalogue,
        staff,
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AskBody {
    question: String,
    #[serde(default)]
    service_code: Option<String>,
    #[serde(default)]
    department: Option<String>,
    #[serde(default)]
    case_number: Option<String>,
    #[serde(default)]
    language: Option<String>,
    /// Where the answer should reach the caller, if they want it to.
    #[serde(default)]
    caller: Option<ContactBody>,
}

fn optional<T, E: std::fmt::Display>(
    field: &str,
    raw: Option<&str>,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Option<T>, ApiError> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(r) => parse(r)
            .map(Some)
            .map_err(|e| ApiError::invalid_field(field, e.to_string())),
    }
}

async fn ask(
    State(deps): State<Arc<Deps>>,
    headers: HeaderMap,
    body: JsonBody<AskBody>,
) -> Result<Response, ApiError> {
    let caller = deps.auth.caller(&headers).await?;
    may_ask_experts(&caller).map_err(|e| ApiError::forbidden(e.to_string()))?;
    let stamp = caller.stamp(AUDIT_VIA);
    let key = idempotency_claim(&headers, "question", &body.raw)?
        .map(|c| c.key)
        .unwrap_or_else(|| ulid::Ulid::new().to_string());
    let b = body.value;
    let language = match b.language.as_deref().map(str::trim) {
        None | Some("") => Language::Pl,
        Some(raw) => Language::parse(raw)
            .ok_or_else(|| ApiError::invalid_field("language", "language must be pl or en"))?,
    };
    let ask = Ask {
        department: optional("department", b.department.as_deref(), DepartmentCode::parse)?,
        service_code: optional(
            "service_code",
            b.service_code.as_deref(),
            ServiceCode::parse,
        )?,
        case_number: optional("case_number", b.case_number.as_deref(), CaseNumber::parse)?,
        text: b.question,
        language,
        contact: b.caller.map(|c| c.into_contact("caller")).transpose()?,
        key,
    };
    let (question, created) = ask_experts(&second_line(&deps, &stamp), ask)
        .await
        .map_err(second_line_error)?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(view(&deps, &question))).into_response())
}

/// The caller's authenticated staff identity, or 401.
async fn staff(deps: &Deps, headers: &HeaderMap) -> Result<Caller, ApiError> {
    deps.auth.caller(headers).await
}

async fn read(
    State(deps): State<Arc<Deps>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<axum::Json<QuestionView>, ApiError> {
    let caller = staff(&deps, &headers).await?;
    let id = parse_id(&id)?;
    let reader: QuestionReader = question_reader(&caller).ok_or_else(|| {
        ApiError::forbidden("reading questions needs operator, expert:<dept> or head:<dept>")
    })?;
    let question = read_question(deps.questions.as_ref(), &reader, &id)
        .await
        .map_err(second_line_error)?;
    Ok(axum::Json(view(&deps, &question)))
}

#[derive(Debug, Serialize)]
struct QuestionList {
    department: String,
    count: usize,
    questions: Vec<QuestionView>,
}

/// `?department=` (400 when it is no department code; unknown parameters too).
fn requested_department(query: Option<&str>) -> Result<Option<DepartmentCode>, ApiError> {
    let mut department = None;
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "department" if !v.trim().is_empty() => {
                department = Some(
                    DepartmentCode::parse(v.trim())
                        .map_err(|e| ApiError::invalid_field("department", e.to_string()))?,
                );
            }
            "department" => {}
            other => {
                return Err(ApiError::invalid_field(
                    other,
                    format!("unknown parameter {other}: only department is accepted"),
                ));
            }
        }
    }
    Ok(department)
}

async fn list(
    State(deps): State<Arc<Deps>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Result<axum::Json<QuestionList>, ApiError> {
    let caller = staff(&deps, &headers).await?;
    let requested = requested_department(uri.query())?;
    let department = acting(&caller, requested.as_ref())?;
    let open = open_questions(deps.questions.as_ref(), &department)
        .await
        .map_err(second_line_error)?;
    Ok(axum::Json(QuestionList {
        department: department.to_string(),
        count: open.len(),
        questions: open.iter().map(|q| view(&deps, q)).collect(),
    }))
}

fn acting(caller: &Caller, requested: Option<&DepartmentCode>) -> Result<DepartmentCode, ApiError> {
    answering_department(caller, requested).map_err(|e| match e {
        AccessError::Ambiguous(_) => ApiError::invalid_field("department", e.to_string()),
        _ => ApiError::forbidden(e.to_string()),
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerBody {
    answer: String,
}

async fn answer(
    State(deps): State<Arc<Deps>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Path(id): Path<String>,
    body: JsonBody<AnswerBody>,
) -> Result<axum::Json<QuestionView>, ApiError> {
    let caller = staff(&deps, &headers).await?;
    let requested = requested_department(uri.query())?;
    let id = parse_id(&id)?;
    let department = match requested {
        Some(d) => acting(&caller, Some(&d))?,
        // An expert of several departments answers for the question's own.
        None => match acting(&caller, None) {
            Ok(d) => d,
            Err(e) if e.status == StatusCode::BAD_REQUEST => {
                let reader = question_reader(&caller).ok_or(e.clone())?;
                let question = read_question(deps.questions.as_ref(), &reader, &id)
                    .await
                    .map_err(second_line_error)?;
                acting(&caller, Some(&question.department))?
            }
            Err(e) => return Err(e),
        },
    };
    let stamp = caller.stamp(AUDIT_VIA);
    let flow = AnswerFlow {
        drafts: deps.drafts.as_ref(),
        notify: deps.notify.as_ref(),
    };
    let answered = answer_question(
        &second_line(&deps, &stamp),
        &flow,
        &department,
        &id,
        &body.value.answer,
    )
    .await
    .map_err(second_line_error)?;
    Ok(axum::Json(view(&deps, &answered)))
}

fn parse_id(raw: &str) -> Result<QuestionId, ApiError> {
    QuestionId::parse(raw).map_err(|e| ApiError::invalid_field("id", e.to_string()))
}

fn second_line_error(e: SecondLineError) -> ApiError {
    match e {
        SecondLineError::QuestionLength => ApiError::invalid_field("question", e.to_string()),
        SecondLineError::AnswerLength => ApiError::invalid_field("answer", e.to_string()),
        SecondLineError::NoDepartment => ApiError::invalid_field("department", e.to_string()),
        SecondLineError::UnknownDepartment(_) => {
            ApiError::unprocessable(Some("department"), "unknown_department", e.to_string())
        }
        SecondLineError::UnknownService(_) => {
            ApiError::unprocessable(Some("service_code"), "unknown_service", e.to_string())
        }
        SecondLineError::IdempotencyConflict => ApiError::unprocessable(
            Some("Idempotency-Key"),
            "idempotency_conflict",
            e.to_string(),
        ),
        SecondLineError::NotFound(_) => ApiError::not_found(e.to_string()),
        SecondLineError::AlreadyAnswered | SecondLineError::Conflict => {
            ApiError::conflict(e.to_string())
        }
        SecondLineError::Port(p) => ApiError::dependency(p.retryable, &p),
    }
}
