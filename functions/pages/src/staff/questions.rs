//! The second line on the department portal: an expert's (or head's) open
//! questions from the contact centre, the soonest due first, and one
//! question with the form that answers it (once; the caller is told and a
//! draft info card is written, as through the API).

use std::sync::Arc;

use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use citydesk_core::ids::DepartmentCode;
use citydesk_core::second_line::{Question, QuestionId, QuestionStatus};
use citydesk_core::usecases::second_line::{
    AnswerFlow, SecondLine, SecondLineError, answer_question, open_questions, read_question,
};
use citydesk_core::usecases::staff_access::{answering_department, question_reader};
use serde::Serialize;

use super::StaffVisit;
use crate::Deps;
use crate::forms::PostedForm;

const AUDIT_VIA: &str = "pages";
const SUMMARY_CHARS: usize = 120;

#[derive(Serialize)]
struct QuestionRow {
    id: String,
    text: String,
    /// The question's first words, for the list.
    summary: String,
    service: Option<String>,
    case_number: Option<String>,
    asked_at: String,
    due_at: String,
    overdue: bool,
    answered: bool,
    answer: Option<String>,
}

fn row(deps: &Deps, staff: &StaffVisit, q: &Question) -> QuestionRow {
    QuestionRow {
        id: q.id.to_string(),
        text: q.text.clone(),
        summary: if q.text.chars().count() > SUMMARY_CHARS {
            q.text.chars().take(SUMMARY_CHARS).collect::<String>() + "…"
        } else {
            q.text.clone()
        },
        service: q
            .service_code
            .as_ref()
            .and_then(|c| deps.catalogue.service(c))
            .map(|s| s.name.get(staff.visit.locale.data_language()).to_owned()),
        case_number: q.case_number.as_ref().map(ToString::to_string),
        asked_at: deps.renderer.local_time(q.asked_at),
        due_at: deps.renderer.local_time(q.due_at),
        overdue: q.status == QuestionStatus::Open && q.due_at < deps.clock.now(),
        answered: q.status == QuestionStatus::Answered,
        answer: q.answer.as_ref().map(|a| a.text.clone()),
    }
}

fn answering(deps: &Deps, staff: &StaffVisit) -> Result<DepartmentCode, Box<Response>> {
    let requested = staff
        .visit
        .param("department")
        .and_then(|d| DepartmentCode::parse(d).ok());
    answering_department(&staff.caller, requested.as_ref()).map_err(|_| {
        Box::new(staff.visit.error(
            deps,
            StatusCode::FORBIDDEN,
            staff.visit.text(deps, "staff_forbidden_title"),
            staff.visit.text(deps, "staff_forbidden"),
        ))
    })
}

#[derive(Serialize)]
struct ListPage {
    me: String,
    csrf: String,
    department: String,
    questions: Vec<QuestionRow>,
}

/// `GET /staff/questions`: the department's open questions.
pub(super) async fn list(
    State(deps): State<Arc<Deps>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let staff = match StaffVisit::new(&deps, query.as_deref(), &headers, "/staff/questions").await {
        Ok(s) => s,
        Err(sign_in) => return sign_in,
    };
    let department = match answering(&deps, &staff) {
        Ok(d) => d,
        Err(refused) => return *refused,
    };
    let questions = match open_questions(deps.questions.as_ref(), &department).await {
        Ok(q) => q,
        Err(e) => return staff.visit.unavailable(&deps, &e),
    };
    let view = ListPage {
        me: staff.subject(),
        csrf: staff.visit.csrf.clone(),
        department: deps.catalogue.department(&department).map_or_else(
            || department.to_string(),
            |d| d.name.get(staff.visit.locale.data_language()).to_owned(),
        ),
        questions: questions.iter().map(|q| row(&deps, &staff, q)).collect(),
    };
    staff.render(
        &deps,
        StatusCode::OK,
        "staff/questions.html",
        "/staff/questions",
        view,
    )
}

#[derive(Serialize)]
struct QuestionPage {
    me: String,
    csrf: String,
    question: QuestionRow,
    may_answer: bool,
    notice: Option<String>,
    error: Option<String>,
    draft: String,
}

async fn question_page(
    deps: &Deps,
    staff: &StaffVisit,
    id: &QuestionId,
    status: StatusCode,
    error: Option<String>,
    draft: String,
) -> Response {
    let not_found = || {
        staff.visit.error(
            deps,
            StatusCode::NOT_FOUND,
            staff.visit.text(deps, "not_found_title"),
            staff.visit.text(deps, "staff_question_not_here"),
        )
    };
    let Some(reader) = question_reader(&staff.caller) else {
        return not_found();
    };
    let question = match read_question(deps.questions.as_ref(), &reader, id).await {
        Ok(q) => q,
        Err(SecondLineError::Port(p)) => return staff.visit.unavailable(deps, &p),
        Err(_) => return not_found(),
    };
    let may_answer = question.status == QuestionStatus::Open
        && answering_department(&staff.caller, Some(&question.department)).is_ok();
    let view = QuestionPage {
        me: staff.subject(),
        csrf: staff.visit.csrf.clone(),
        question: row(deps, staff, &question),
        may_answer,
        notice: staff
            .visit
            .param("done")
            .map(|_| staff.visit.text(deps, "staff_question_answered").to_owned()),
        error,
        draft,
    };
    staff.render(
        deps,
        status,
        "staff/question.html",
        &format!("/staff/questions/{id}"),
        view,
    )
}

/// `GET /staff/questions/{id}`.
pub(super) async fn show(
    State(deps): State<Arc<Deps>>,
    Path(raw): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let path = format!("/staff/questions/{raw}");
    let staff = match StaffVisit::new(&deps, query.as_deref(), &headers, &path).await {
        Ok(s) => s,
        Err(sign_in) => return sign_in,
    };
    match QuestionId::parse(&raw) {
        Ok(id) => question_page(&deps, &staff, &id, StatusCode::OK, None, String::new()).await,
        Err(_) => staff.visit.error(
            &deps,
            StatusCode::NOT_FOUND,
            staff.visit.text(&deps, "not_found_title"),
            staff.visit.text(&deps, "staff_question_not_here"),
        ),
    }
}

/// `POST /staff/questions/{id}`: the expert's answer.
pub(super) async fn answer(
    State(deps): State<Arc<Deps>>,
    Path(raw): Path<String>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Response {
    let headers = request.headers().clone();
    let path = format!("/staff/questions/{raw}");
    let staff = match StaffVisit::new(&deps, query.as_deref(), &headers, &path).await {
        Ok(s) => s,
        Err(sign_in) => return sign_in,
    };
    let form = PostedForm::read(request).await.unwrap_or_default();
    if let Some(refused) = staff.visit.forged(&deps, &headers, &form) {
        return refused;
    }
    let Ok(id) = QuestionId::parse(&raw) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let department = match answering(&deps, &staff) {
        Ok(d) => d,
        Err(refused) => return *refused,
    };
    let stamp = staff.caller.stamp(AUDIT_VIA);
    let line = SecondLine {
        questions: deps.questions.as_ref(),
        clock: deps.clock.as_ref(),
        catalogue: &deps.catalogue,
        staff: &stamp,
    };
    let flow = AnswerFlow {
        drafts: deps.drafts.as_ref(),
        notify: deps.notify.as_ref(),
    };
    let text = form.text("answer").unwrap_or("").to_owned();
    match answer_question(&line, &flow, &department, &id, &text).await {
        Ok(_) => {
            let mut response = StatusCode::SEE_OTHER.into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("/staff/questions/{id}?done=answered")) {
                response.headers_mut().insert(header::LOCATION, v);
            }
            response
        }
        Err(SecondLineError::Port(p)) => staff.visit.unavailable(&deps, &p),
        Err(e) => {
            let status = match e {
                SecondLineError::NotFound(_) => StatusCode::NOT_FOUND,
                SecondLineError::AlreadyAnswered | SecondLineError::Conflict => {
                    StatusCode::CONFLICT
                }
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            question_page(&deps, &staff, &id, status, Some(e.to_string()), text).await
        }
    }
}
