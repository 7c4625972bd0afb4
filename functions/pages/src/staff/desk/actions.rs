//! What the console does: an answer recorded as a first-contact
//! resolution, a request registered on the caller's behalf, a question
//! handed to the second line. Each returns what the page shows next.

use std::collections::BTreeMap;

use citydesk_core::audit::StaffStamp;
use citydesk_core::contact::{Contact, PhoneNumber};
use citydesk_core::ids::{DepartmentCode, ServiceCode};
use citydesk_core::ports::IdempotencyClaim;
use citydesk_core::request::Channel;
use citydesk_core::usecases::operator_desk::{
    AnsweredContact, OperatorError, record_answered_contact,
};
use citydesk_core::usecases::second_line::{Ask, SecondLine, SecondLineError, ask_experts};
use citydesk_core::usecases::submit_request::{Intake, submit_request};
use citydesk_http_api::citizen_request::{ContactBody, CreateRequestBody, submit_error};

use super::{AskDraft, DeskState, Outcome, RegisterDraft};
use crate::Deps;
use crate::citizen::report::check_place_fields;
use crate::forms::PostedForm;
use crate::staff::StaffVisit;

/// A business key for one thing done at the console: the operator, the
/// form's one-time id (drawn with each page) and what was said. The same
/// page sent twice is one action; the next call's page is a new one.
fn desk_key(stamp: &StaffStamp, form: &PostedForm, said: &str) -> String {
    let form_id = form
        .text("form_id")
        .filter(|id| !id.trim().is_empty())
        .map_or_else(|| ulid::Ulid::new().to_string(), str::to_owned);
    citydesk_core::ids::sha256_hex(format!("{}\n{form_id}\n{said}", stamp.subject).as_bytes())[..32]
        .to_owned()
}

/// A dependency failed: the console says so (503) instead of a form error.
fn unavailable(e: &dyn std::fmt::Display) -> Outcome {
    Outcome {
        unavailable: Some(e.to_string()),
        ..Outcome::default()
    }
}

fn refused(field: &'static str, message: String) -> Outcome {
    Outcome {
        errors: BTreeMap::from([(field, message)]),
        ..Outcome::default()
    }
}

pub(super) async fn answered(
    deps: &Deps,
    staff: &StaffVisit,
    stamp: &StaffStamp,
    form: &PostedForm,
    channel: Channel,
) -> Outcome {
    let article = form.text("article").unwrap_or("").trim().to_owned();
    let contact = AnsweredContact {
        id: desk_key(stamp, form, &format!("answered {article}")),
        channel,
        language: staff.visit.locale.data_language(),
        articles: vec![article],
    };
    match record_answered_contact(
        deps.desk.contact_log.as_ref(),
        deps.desk.audit.as_ref(),
        deps.clock.as_ref(),
        &deps.kb,
        stamp,
        contact,
    )
    .await
    {
        Ok(_) => Outcome {
            notice: Some(staff.visit.text(deps, "staff_desk_answered").to_owned()),
            ..Outcome::default()
        },
        Err(OperatorError::Port(e)) => unavailable(&e),
        Err(e) => refused("q", e.to_string()),
    }
}

pub(super) async fn register(
    deps: &Deps,
    staff: &StaffVisit,
    stamp: &StaffStamp,
    form: &PostedForm,
    channel: Channel,
) -> Outcome {
    let text = |name: &str| form.text(name).unwrap_or("").trim().to_owned();
    let draft = RegisterDraft {
        description: text("description"),
        service_code: text("service_code"),
        address: text("address"),
        lat: text("lat"),
        long: text("long"),
        name: text("name"),
        contact_phone: text("contact_phone"),
        email: text("email"),
        tell: form.text("tell").is_some(),
        private: form.text("private").is_some(),
    };
    let keep = |errors: BTreeMap<&'static str, String>| Outcome {
        errors,
        register: Some(draft.clone()),
        ..Outcome::default()
    };
    if draft.description.is_empty() {
        return keep(BTreeMap::from([(
            "description",
            staff
                .visit
                .text(deps, "error_description_missing")
                .to_owned(),
        )]));
    }
    let point =
        match check_place_fields(deps, &staff.visit, &draft.address, &draft.lat, &draft.long) {
            Ok(p) => p,
            Err(errors) => return keep(errors),
        };
    if draft.tell && draft.contact_phone.is_empty() && draft.email.is_empty() {
        return keep(BTreeMap::from([(
            "contact_phone",
            staff.visit.text(deps, "error_contact_missing").to_owned(),
        )]));
    }
    let body = CreateRequestBody {
        service_code: Some(draft.service_code.clone()).filter(|s| !s.is_empty()),
        description: draft.description.clone(),
        lat: point.map(|p| p.lat),
        long: point.map(|p| p.long),
        address: Some(draft.address.clone()).filter(|a| !a.is_empty()),
        contact: draft.tell.then(|| ContactBody {
            name: Some(draft.name.clone()),
            phone: Some(draft.contact_phone.clone()),
            email: Some(draft.email.clone()),
        }),
        language: Some(staff.visit.locale.data_language().as_str().to_owned()),
        attributes: BTreeMap::new(),
        media: Vec::new(),
        private: draft.private,
    };
    let said = serde_json::to_string(&draft).unwrap_or_default();
    let claim = Some(IdempotencyClaim {
        key: format!("operator#desk-{}", desk_key(stamp, form, &said)),
        payload_hash: citydesk_core::ids::sha256_hex(said.as_bytes()),
    });
    let mut submission = match body.into_submission(channel, claim) {
        Ok(s) => s,
        Err(e) => {
            let field = match e.field.as_deref().unwrap_or("") {
                "contact.phone" => "contact_phone",
                "contact.email" => "email",
                "contact.name" => "name",
                "service_code" => "service_code",
                "address" => "address",
                "lat" | "long" => "lat",
                _ => "description",
            };
            return keep(BTreeMap::from([(field, e.message)]));
        }
    };
    submission.registered_by = Some(stamp.clone());
    let intake = Intake {
        store: deps.store.as_ref(),
        clock: deps.clock.as_ref(),
        ids: deps.ids.as_ref(),
        catalogue: &deps.catalogue,
    };
    match submit_request(&intake, submission).await {
        Ok(submitted) => Outcome {
            notice: Some(
                staff
                    .visit
                    .text(deps, "staff_desk_registered")
                    .replace("{case}", submitted.request.case_number.as_str()),
            ),
            ..Outcome::default()
        },
        Err(e) => {
            let api = submit_error(e);
            if api.status.is_server_error() {
                return unavailable(&api.message);
            }
            keep(BTreeMap::from([("description", api.message)]))
        }
    }
}

pub(super) async fn ask(
    deps: &Deps,
    staff: &StaffVisit,
    stamp: &StaffStamp,
    form: &PostedForm,
    state: &DeskState,
) -> Outcome {
    let text = |name: &str| form.text(name).unwrap_or("").trim().to_owned();
    let draft = AskDraft {
        question: text("question"),
        service_code: text("ask_service"),
        department: text("ask_department"),
        tell: form.text("tell").is_some(),
    };
    let keep = |field: &'static str, message: String| Outcome {
        errors: BTreeMap::from([(field, message)]),
        ask: Some(draft.clone()),
        ..Outcome::default()
    };
    let service_code = match Some(draft.service_code.as_str()).filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => match ServiceCode::parse(raw) {
            Ok(c) => Some(c),
            Err(e) => return keep("ask_service", e.to_string()),
        },
    };
    let department = match Some(draft.department.as_str()).filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => match DepartmentCode::parse(raw) {
            Ok(c) => Some(c),
            Err(e) => return keep("ask_department", e.to_string()),
        },
    };
    let contact = if draft.tell {
        match PhoneNumber::parse(&state.phone) {
            Ok(phone) => Some(Contact {
                name: None,
                phone: Some(phone),
                email: None,
            }),
            Err(_) => {
                return keep(
                    "question",
                    staff
                        .visit
                        .text(deps, "staff_desk_tell_needs_phone")
                        .to_owned(),
                );
            }
        }
    } else {
        None
    };
    let line = SecondLine {
        questions: deps.questions.as_ref(),
        clock: deps.clock.as_ref(),
        catalogue: &deps.catalogue,
        staff: stamp,
    };
    let asked = Ask {
        department,
        service_code,
        case_number: None,
        key: desk_key(stamp, form, &format!("ask {}", draft.question)),
        text: draft.question.clone(),
        language: staff.visit.locale.data_language(),
        contact,
    };
    match ask_experts(&line, asked).await {
        Ok((question, _)) => {
            let department = deps.catalogue.department(&question.department).map_or_else(
                || question.department.to_string(),
                |d| d.name.get(staff.visit.locale.data_language()).to_owned(),
            );
            Outcome {
                notice: Some(
                    staff
                        .visit
                        .text(deps, "staff_desk_asked")
                        .replace("{department}", &department)
                        .replace("{due}", &deps.renderer.local_time(question.due_at)),
                ),
                ..Outcome::default()
            }
        }
        Err(SecondLineError::Port(e)) => unavailable(&e),
        Err(e) => keep("question", e.to_string()),
    }
}
