//! The phone's IVR (Amazon Connect invokes it while the caller waits): the
//! status of a case typed on the keypad, the open cases of the caller's
//! number, and a simple request from a bot's collected slots, its case
//! number read back. The answer is a flat map of strings, which the flow
//! reads as `$.External.<key>`: `result`, `prompt` (what to say, in the
//! caller's language) and, as they apply, `case_number`, `case_spoken`,
//! `status`, `count`.

use std::collections::BTreeMap;

use tracing::instrument;

use crate::catalogue::Catalogue;
use crate::channels::replies::status_name;
use crate::contact::{Contact, ContactKey, PhoneNumber};
use crate::ids::{CaseNumber, ServiceCode};
use crate::language::Language;
use crate::location::Location;
use crate::ports::{Clock, IdSource, IdempotencyClaim, PersonIndex, PortError, RequestStore};
use crate::request::{Channel, ServiceRequest};
use crate::usecases::submit_request::{Intake, RequestSubmission, SubmitError, submit_request};

pub struct PhoneDesk<'a> {
    pub store: &'a dyn RequestStore,
    pub people: &'a dyn PersonIndex,
    pub clock: &'a dyn Clock,
    pub ids: &'a dyn IdSource,
    pub catalogue: &'a Catalogue,
    pub contact_key: &'a ContactKey,
}

/// One invocation: the contact, the caller's number, and the flow's parameters.
#[derive(Debug, Clone)]
pub struct Call {
    /// Connect's `ContactId`: a request made in this call is keyed by it.
    pub contact_id: String,
    pub caller: Option<PhoneNumber>,
    /// `action` (`status`, `open_cases`, `report`), `case` (keypad digits
    /// or the case number), `language`, and the bot's `service`, `address`
    /// and `description`.
    pub parameters: BTreeMap<String, String>,
}

pub type Answer = BTreeMap<String, String>;

/// The most open cases read out.
const READ_OUT: usize = 3;

fn answer(result: &str, prompt: String) -> Answer {
    BTreeMap::from([
        ("result".to_owned(), result.to_owned()),
        ("prompt".to_owned(), prompt),
    ])
}

/// What the flow says when the function cannot answer in time or at all.
pub fn fallback(language: Language) -> Answer {
    answer(
        "fallback",
        match language {
            Language::Pl => {
                "Przepraszamy, nie możemy teraz tego sprawdzić. Łączymy z konsultantem.".into()
            }
            Language::En => {
                "Sorry, we cannot check that right now. We are putting you through to an agent."
                    .into()
            }
        },
    )
}

pub fn language_of(call: &Call) -> Language {
    call.parameters
        .get("language")
        .and_then(|l| Language::parse(l))
        .unwrap_or_default()
}

#[instrument(skip_all, fields(action))]
pub async fn answer_call(deps: &PhoneDesk<'_>, call: &Call) -> Result<Answer, PortError> {
    let language = language_of(call);
    let action = call
        .parameters
        .get("action")
        .map(String::as_str)
        .unwrap_or("");
    tracing::Span::current().record("action", action);
    match action {
        "status" => status(deps, call, language).await,
        "open_cases" => open_cases(deps, call, language).await,
        "report" => report(deps, call, language).await,
        _ => Ok(answer(
            "not_understood",
            match language {
                Language::Pl => "Nie rozumiemy wyboru. Łączymy z konsultantem.".into(),
                Language::En => {
                    "We did not understand the choice. We are putting you through to an agent."
                        .into()
                }
            },
        )),
    }
}

/// The caller's own requests, newest first.
async fn callers_requests(
    deps: &PhoneDesk<'_>,
    call: &Call,
) -> Result<Vec<ServiceRequest>, PortError> {
    let Some(phone) = &call.caller else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    for id in deps
        .people
        .requests_of(&deps.contact_key.of_phone(phone))
        .await?
    {
        if let Some(r) = deps.store.get(&id).await? {
            found.push(r);
        }
    }
    found.sort_by_key(|r| std::cmp::Reverse(r.created_at));
    Ok(found)
}

fn with_case(mut a: Answer, request: &ServiceRequest, language: Language) -> Answer {
    a.insert("case_number".into(), request.case_number.to_string());
    a.insert("case_spoken".into(), request.case_number.spoken());
    a.insert("status".into(), request.status.as_str().into());
    a.insert(
        "status_spoken".into(),
        status_name(request.status, language).into(),
    );
    a
}

async fn status(
    deps: &PhoneDesk<'_>,
    call: &Call,
    language: Language,
) -> Result<Answer, PortError> {
    let typed = call.parameters.get("case").map(|c| c.trim()).unwrap_or("");
    // A full case number (a bot heard it) is looked up; keypad digits are
    // matched among the caller's own cases only.
    let request = match CaseNumber::parse(typed) {
        Ok(case) if typed.chars().any(|c| c.is_ascii_alphabetic()) => {
            deps.store.find_by_case_number(&case).await?
        }
        _ => {
            let digits: String = typed.chars().filter(char::is_ascii_digit).collect();
            callers_requests(deps, call)
                .await?
                .into_iter()
                .find(|r| !digits.is_empty() && r.case_number.keypad() == digits)
        }
    };
    Ok(match request {
        Some(r) => {
            let prompt = match language {
                Language::Pl => format!(
                    "Zgłoszenie {}: {}.",
                    r.case_number.spoken(),
                    status_name(r.status, language)
                ),
                Language::En => format!(
                    "Request {}: {}.",
                    r.case_number.spoken(),
                    status_name(r.status, language)
                ),
            };
            with_case(answer("found", prompt), &r, language)
        }
        None => answer(
            "not_found",
            match language {
                Language::Pl => {
                    "Nie znaleźliśmy takiego zgłoszenia dla tego numeru telefonu.".into()
                }
                Language::En => "We found no such request for this phone number.".into(),
            },
        ),
    })
}

async fn open_cases(
    deps: &PhoneDesk<'_>,
    call: &Call,
    language: Language,
) -> Result<Answer, PortError> {
    let open: Vec<ServiceRequest> = callers_requests(deps, call)
        .await?
        .into_iter()
        .filter(|r| !r.status.is_closed())
        .collect();
    if open.is_empty() {
        return Ok(answer(
            "none",
            match language {
                Language::Pl => "Nie masz otwartych zgłoszeń z tego numeru.".into(),
                Language::En => "You have no open requests from this number.".into(),
            },
        ));
    }
    let listed: Vec<String> = open
        .iter()
        .take(READ_OUT)
        .map(|r| {
            format!(
                "{}: {}",
                r.case_number.spoken(),
                status_name(r.status, language)
            )
        })
        .collect();
    let prompt = match language {
        Language::Pl => format!("Otwarte zgłoszenia: {}. {}.", open.len(), listed.join(". ")),
        Language::En => format!("Open requests: {}. {}.", open.len(), listed.join(". ")),
    };
    let mut a = with_case(answer("open_cases", prompt), &open[0], language);
    a.insert("count".into(), open.len().to_string());
    Ok(a)
}

async fn report(
    deps: &PhoneDesk<'_>,
    call: &Call,
    language: Language,
) -> Result<Answer, PortError> {
    let slot = |name: &str| {
        call.parameters
            .get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let Some(description) = slot("description") else {
        return Ok(answer(
            "not_understood",
            match language {
                Language::Pl => "Nie usłyszeliśmy opisu problemu. Łączymy z konsultantem.".into(),
                Language::En => {
                    "We did not hear what the problem is. We are putting you through to an agent."
                        .into()
                }
            },
        ));
    };
    let service_code = slot("service")
        .and_then(|s| ServiceCode::parse(&s).ok())
        .filter(|c| deps.catalogue.service(c).is_some());
    let intake = Intake {
        store: deps.store,
        clock: deps.clock,
        ids: deps.ids,
        catalogue: deps.catalogue,
    };
    let submission = RequestSubmission {
        channel: Channel::Phone,
        service_code,
        idempotency: Some(IdempotencyClaim {
            key: format!("connect:{}", call.contact_id),
            payload_hash: crate::ids::sha256_hex(description.as_bytes()),
        }),
        description,
        location: Location {
            address: slot("address"),
            ..Location::default()
        },
        contact: call.caller.clone().map(|phone| Contact {
            phone: Some(phone),
            ..Contact::default()
        }),
        language,
        answers: Default::default(),
        media: Vec::new(),
        privacy_requested: false,
        open311_client: None,
        registered_by: None,
        follows: None,
    };
    match submit_request(&intake, submission).await {
        Ok(submitted) => {
            let case = &submitted.request.case_number;
            let prompt = match language {
                Language::Pl => format!(
                    "Przyjęliśmy zgłoszenie. Numer zgłoszenia: {}. Powtarzam: {}. Potwierdzenie wyślemy SMS-em.",
                    case.spoken(),
                    case.spoken()
                ),
                Language::En => format!(
                    "We have taken your request. Its number is {}. Again: {}. We will text you a confirmation.",
                    case.spoken(),
                    case.spoken()
                ),
            };
            Ok(with_case(
                answer("created", prompt),
                &submitted.request,
                language,
            ))
        }
        Err(SubmitError::Port(e)) => Err(e),
        Err(e) => {
            tracing::info!(error = %e, "the call's slots are not a request");
            Ok(answer(
                "not_understood",
                match language {
                    Language::Pl => "Nie możemy przyjąć tego zgłoszenia automatycznie. Łączymy z konsultantem.".into(),
                    Language::En => "We cannot take this request automatically. We are putting you through to an agent.".into(),
                },
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_executor::block_on;

    use super::*;
    use crate::catalogue::CatalogueDocument;
    use crate::memory::{ManualClock, MemoryStore, SequentialIds, TEST_TRACKING_KEY};

    struct World {
        store: MemoryStore,
        clock: ManualClock,
        ids: SequentialIds,
        catalogue: Catalogue,
        key: ContactKey,
    }

    impl World {
        fn new() -> Self {
            let doc = CatalogueDocument::from_sources(
                include_str!("../../../../infra/demo-city/catalogue.toml"),
                include_str!("../../../../infra/demo-city/districts.geojson"),
            )
            .unwrap();
            Self {
                store: MemoryStore::default(),
                clock: ManualClock::at("2026-12-04T18:00:00Z".parse().unwrap()),
                ids: SequentialIds::default(),
                catalogue: Catalogue::new(doc).unwrap(),
                key: ContactKey::new(TEST_TRACKING_KEY),
            }
        }

        fn call(&self, contact: &str, caller: &str, parameters: &[(&str, &str)]) -> Answer {
            let deps = PhoneDesk {
                store: &self.store,
                people: &self.store,
                clock: &self.clock,
                ids: &self.ids,
                catalogue: &self.catalogue,
                contact_key: &self.key,
            };
            let call = Call {
                contact_id: contact.into(),
                caller: PhoneNumber::parse(caller).ok(),
                parameters: parameters
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            };
            block_on(answer_call(&deps, &call)).unwrap()
        }
    }

    const CALLER: &str = "+48600700800";

    #[test]
    fn a_report_from_the_bots_slots_is_read_back_and_taken_once_per_call() {
        let w = World::new();
        let slots = [
            ("action", "report"),
            ("service", "pothole"),
            ("address", "ul. Długa 10"),
            ("description", "Dziura w jezdni przy przejściu"),
        ];
        let made = w.call("c-1", CALLER, &slots);
        assert_eq!(made["result"], "created");
        let case = made["case_number"].clone();
        assert!(made["prompt"].contains(&made["case_spoken"]), "{made:?}");
        let again = w.call("c-1", CALLER, &slots);
        assert_eq!(
            again["case_number"], case,
            "the same call makes one request"
        );
        let request = block_on(
            w.store
                .find_by_case_number(&CaseNumber::parse(&case).unwrap()),
        )
        .unwrap()
        .unwrap();
        assert_eq!(request.channel, Channel::Phone);
        assert!(request.has_contact);

        let missing = w.call("c-2", CALLER, &[("action", "report")]);
        assert_eq!(missing["result"], "not_understood");
    }

    #[test]
    fn status_by_keypad_among_the_callers_cases_and_the_open_ones_read_out() {
        let w = World::new();
        let made = w.call(
            "c-1",
            CALLER,
            &[
                ("action", "report"),
                ("description", "Nie świeci latarnia"),
                ("language", "en"),
            ],
        );
        let case = CaseNumber::parse(&made["case_number"]).unwrap();
        let found = w.call(
            "c-2",
            CALLER,
            &[("action", "status"), ("case", &case.keypad())],
        );
        assert_eq!(found["result"], "found");
        assert_eq!(found["case_number"], case.as_str());
        // Another number typing the same digits learns nothing.
        let other = w.call(
            "c-3",
            "+48600700900",
            &[("action", "status"), ("case", &case.keypad())],
        );
        assert_eq!(other["result"], "not_found");
        // The whole case number (a bot heard it) is found from any phone.
        let heard = w.call(
            "c-4",
            "+48600700900",
            &[("action", "status"), ("case", case.as_str())],
        );
        assert_eq!(heard["result"], "found");

        let open = w.call(
            "c-5",
            CALLER,
            &[("action", "open_cases"), ("language", "en")],
        );
        assert_eq!(open["result"], "open_cases");
        assert_eq!(open["count"], "1");
        assert!(open["prompt"].starts_with("Open requests: 1."), "{open:?}");
        let none = w.call("c-6", "+48600700900", &[("action", "open_cases")]);
        assert_eq!(none["result"], "none");
        assert_eq!(
            w.call("c-7", CALLER, &[("action", "dance")])["result"],
            "not_understood"
        );
    }
}
