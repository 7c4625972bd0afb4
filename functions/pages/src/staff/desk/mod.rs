//! The operator console, `/staff/desk`: the contact centre's first line
//! with a caller on the line. One page, four parts, each its own form so
//! Enter sends the part one is in, and each reachable by a key (F2, F4,
//! F8, F9 with `desk.js`; skip links without it):
//! - the caller, found by phone number (every lookup is in the audit trail
//!   before it is shown), with their open and past requests;
//! - answers from the knowledge base (drafts too, marked), and "answered
//!   with this", a contact resolved at first contact;
//! - a request registered on the caller's behalf, with the classifier's
//!   suggestions as one types and the map;
//! - a question handed to the second line, the caller told the answer.
//!
//! The caller's number travels only in the forms' bodies, never in a URL.

mod actions;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use citydesk_core::contact::PhoneNumber;
use citydesk_core::knowledge::Reader;
use citydesk_core::request::ServiceRequest;
use citydesk_core::usecases::knowledge_base::{read_article, search_articles};
use citydesk_core::usecases::operator_desk::{
    CallerIdentifier, OperatorDesk, look_up_caller, operator_channel, operator_stamp,
};
use serde::Serialize;

use super::StaffVisit;
use crate::Deps;
use crate::citizen::report::{GroupView, service_list};
use crate::citizen::status_text;
use crate::forms::PostedForm;

const AUDIT_VIA: &str = "pages";
/// Answers shown beside the call.
const ANSWERS_SHOWN: usize = 5;

/// What the forms carry from one action to the next.
#[derive(Debug, Clone, Default, Serialize)]
struct DeskState {
    /// The caller's number as the operator typed it.
    phone: String,
    channel: String,
    /// The knowledge-base search.
    q: String,
}

/// The request being registered.
#[derive(Debug, Clone, Default, Serialize)]
struct RegisterDraft {
    description: String,
    service_code: String,
    address: String,
    lat: String,
    long: String,
    name: String,
    contact_phone: String,
    email: String,
    tell: bool,
    private: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
struct AskDraft {
    question: String,
    service_code: String,
    department: String,
    tell: bool,
}

#[derive(Serialize)]
struct CallerRow {
    case_number: String,
    status: String,
    service: Option<String>,
    department: Option<String>,
    address: Option<String>,
    description: String,
    created: String,
    due: Option<String>,
    resolution: Option<String>,
}

#[derive(Serialize)]
struct CallerView {
    name: Option<String>,
    email: Option<String>,
    open: Vec<CallerRow>,
    past: Vec<CallerRow>,
}

#[derive(Serialize)]
struct AnswerView {
    id: String,
    title: String,
    summary: String,
    body: String,
    draft: bool,
}

#[derive(Serialize)]
struct DeskPage {
    me: String,
    csrf: String,
    /// Each drawing of the page is a new set of actions (see `actions::desk_key`).
    form_id: String,
    state: DeskState,
    channels: Vec<(&'static str, String)>,
    caller: Option<CallerView>,
    answers: Vec<AnswerView>,
    searched: bool,
    register: RegisterDraft,
    ask: AskDraft,
    groups: Vec<GroupView>,
    departments: Vec<(String, String)>,
    notice: Option<String>,
    errors: BTreeMap<&'static str, String>,
    city_centre: [f64; 2],
}

/// The page after an action: a notice, or errors and what was typed.
#[derive(Default)]
struct Outcome {
    notice: Option<String>,
    errors: BTreeMap<&'static str, String>,
    register: Option<RegisterDraft>,
    ask: Option<AskDraft>,
    /// A dependency failed: the page says the service is unavailable.
    unavailable: Option<String>,
}

fn stamp_of(
    deps: &Deps,
    staff: &StaffVisit,
) -> Result<citydesk_core::audit::StaffStamp, Box<Response>> {
    operator_stamp(&staff.caller, AUDIT_VIA).map_err(|_| {
        Box::new(staff.visit.error(
            deps,
            StatusCode::FORBIDDEN,
            staff.visit.text(deps, "staff_forbidden_title"),
            staff.visit.text(deps, "staff_desk_operators_only"),
        ))
    })
}

fn caller_row(deps: &Deps, staff: &StaffVisit, r: &ServiceRequest) -> CallerRow {
    let language = staff.visit.locale.data_language();
    CallerRow {
        case_number: r.case_number.to_string(),
        status: status_text(deps, &staff.visit, r.status),
        service: r
            .service_code
            .as_ref()
            .and_then(|c| deps.catalogue.service(c))
            .map(|s| s.name.get(language).to_owned()),
        department: r
            .department
            .as_ref()
            .and_then(|d| deps.catalogue.department(d))
            .map(|d| d.name.get(language).to_owned()),
        address: r.location.address.clone(),
        description: r.description.clone(),
        created: deps.renderer.local_time(r.created_at),
        due: r.due_at.map(|t| deps.renderer.local_time(t)),
        resolution: r.resolution.clone(),
    }
}

fn desk_ports<'a>(deps: &'a Deps) -> OperatorDesk<'a> {
    OperatorDesk {
        store: deps.store.as_ref(),
        contacts: deps.desk.contacts.as_ref(),
        people: deps.desk.people.as_ref(),
        audit: deps.desk.audit.as_ref(),
        clock: deps.clock.as_ref(),
        contact_key: &deps.desk.contact_key,
    }
}

/// Renders the console: the caller looked up again (and audited again)
/// when a number is given, the answers searched when words are.
async fn render(
    deps: &Deps,
    staff: &StaffVisit,
    stamp: &citydesk_core::audit::StaffStamp,
    state: DeskState,
    mut outcome: Outcome,
) -> Response {
    let language = staff.visit.locale.data_language();
    let mut caller = None;
    if !state.phone.trim().is_empty() {
        match PhoneNumber::parse(&state.phone) {
            Err(e) => {
                outcome.errors.insert(
                    "phone",
                    format!(
                        "{}: {e}",
                        staff.visit.text(deps, "staff_desk_phone_invalid")
                    ),
                );
            }
            Ok(phone) => {
                let read_id = ulid::Ulid::new().to_string();
                let who = CallerIdentifier::Phone(phone);
                match look_up_caller(&desk_ports(deps), stamp, &who, read_id).await {
                    Ok(found) => {
                        caller = Some(CallerView {
                            name: found
                                .contact
                                .as_ref()
                                .and_then(|c| c.name.as_ref())
                                .map(|n| n.as_str().to_owned()),
                            email: found
                                .contact
                                .as_ref()
                                .and_then(|c| c.email.as_ref())
                                .map(|e| e.as_str().to_owned()),
                            open: found
                                .open
                                .iter()
                                .map(|r| caller_row(deps, staff, r))
                                .collect(),
                            past: found
                                .past
                                .iter()
                                .map(|r| caller_row(deps, staff, r))
                                .collect(),
                        });
                    }
                    // Nothing is shown that the trail did not take.
                    Err(e) => return staff.visit.unavailable(deps, &e),
                }
            }
        }
    }
    let searched = !state.q.trim().is_empty();
    let answers = if searched {
        search_articles(
            &deps.kb,
            deps.kb_index.as_ref(),
            Reader::Staff,
            &state.q,
            language,
            Some(ANSWERS_SHOWN),
        )
        .map_err(|e| {
            outcome.errors.insert("q", e.to_string());
        })
        .unwrap_or_default()
        .into_iter()
        .filter_map(|found| {
            let article =
                read_article(&deps.kb, Reader::Staff, found.id.as_str(), language).ok()?;
            Some(AnswerView {
                id: found.id.to_string(),
                title: article.title,
                summary: article.summary,
                body: article.body,
                draft: article
                    .staff
                    .is_some_and(|s| s.status == citydesk_core::knowledge::ArticleStatus::Draft),
            })
        })
        .collect()
    } else {
        Vec::new()
    };
    let register = outcome.register.take().unwrap_or_else(|| RegisterDraft {
        contact_phone: state.phone.clone(),
        name: caller
            .as_ref()
            .and_then(|c: &CallerView| c.name.clone())
            .unwrap_or_default(),
        email: caller
            .as_ref()
            .and_then(|c| c.email.clone())
            .unwrap_or_default(),
        tell: !state.phone.trim().is_empty(),
        ..RegisterDraft::default()
    });
    let ask = outcome.ask.take().unwrap_or_else(|| AskDraft {
        tell: !state.phone.trim().is_empty(),
        ..AskDraft::default()
    });
    let city = deps.catalogue.city();
    let page = DeskPage {
        me: staff.subject(),
        csrf: staff.visit.csrf.clone(),
        form_id: ulid::Ulid::new().to_string(),
        channels: ["phone", "in_person", "letter", "fax"]
            .into_iter()
            .map(|c| {
                (
                    c,
                    staff.visit.text(deps, &format!("channel_{c}")).to_owned(),
                )
            })
            .collect(),
        caller,
        answers,
        searched,
        register,
        ask,
        groups: service_list(deps, &staff.visit),
        departments: deps
            .catalogue
            .departments()
            .iter()
            .map(|d| (d.code.to_string(), d.name.get(language).to_owned()))
            .collect(),
        notice: outcome.notice,
        city_centre: [city.centre.lat, city.centre.long],
        errors: outcome.errors,
        state,
    };
    let status = if page.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    staff.render(deps, status, "staff/desk.html", "/staff/desk", page)
}

/// `GET /staff/desk`: the console, no caller yet.
pub(super) async fn show(
    State(deps): State<Arc<Deps>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let staff = match StaffVisit::new(&deps, query.as_deref(), &headers, "/staff/desk").await {
        Ok(s) => s,
        Err(sign_in) => return sign_in,
    };
    let stamp = match stamp_of(&deps, &staff) {
        Ok(s) => s,
        Err(refused) => return *refused,
    };
    let state = DeskState {
        channel: "phone".into(),
        ..DeskState::default()
    };
    render(&deps, &staff, &stamp, state, Outcome::default()).await
}

/// `POST /staff/desk`: `action` is `lookup`, `search`, `answered`,
/// `register` or `ask`.
pub(super) async fn act(
    State(deps): State<Arc<Deps>>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Response {
    let headers = request.headers().clone();
    let staff = match StaffVisit::new(&deps, query.as_deref(), &headers, "/staff/desk").await {
        Ok(s) => s,
        Err(sign_in) => return sign_in,
    };
    let form = PostedForm::read(request).await.unwrap_or_default();
    if let Some(refused) = staff.visit.forged(&deps, &headers, &form) {
        return refused;
    }
    let stamp = match stamp_of(&deps, &staff) {
        Ok(s) => s,
        Err(refused) => return *refused,
    };
    let text = |name: &str| form.text(name).unwrap_or("").trim().to_owned();
    let state = DeskState {
        phone: text("phone"),
        channel: Some(text("channel"))
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| "phone".into()),
        q: text("q"),
    };
    let Ok(channel) = operator_channel(&state.channel) else {
        let outcome = Outcome {
            errors: BTreeMap::from([(
                "channel",
                staff
                    .visit
                    .text(&deps, "staff_desk_channel_invalid")
                    .to_owned(),
            )]),
            ..Outcome::default()
        };
        return render(&deps, &staff, &stamp, state, outcome).await;
    };
    // A number that is not one stops every action: the page shows why
    // (nothing is done for a caller the operator has not found).
    if !state.phone.is_empty() && PhoneNumber::parse(&state.phone).is_err() {
        return render(&deps, &staff, &stamp, state, Outcome::default()).await;
    }
    let outcome = match form.text("action").unwrap_or("") {
        "lookup" | "search" => Outcome::default(),
        "answered" => actions::answered(&deps, &staff, &stamp, &form, channel).await,
        "register" => actions::register(&deps, &staff, &stamp, &form, channel).await,
        "ask" => actions::ask(&deps, &staff, &stamp, &form, &state).await,
        _ => Outcome {
            errors: BTreeMap::from([(
                "form",
                staff
                    .visit
                    .text(&deps, "staff_desk_unknown_action")
                    .to_owned(),
            )]),
            ..Outcome::default()
        },
    };
    if let Some(e) = &outcome.unavailable {
        return staff.visit.unavailable(&deps, e);
    }
    render(&deps, &staff, &stamp, state, outcome).await
}
