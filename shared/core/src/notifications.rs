//! What the citizen is told after each history event, in their language.

use jiff::tz::TimeZone;

use crate::catalogue::Catalogue;
use crate::language::Language;
use crate::request::{EventKind, HistoryEvent, ServiceRequest};
use crate::status::Status;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CitizenMessage {
    pub subject: String,
    pub body: String,
}

/// The message for an event, or `None` when the event is internal.
/// `tracking_link` is where the citizen follows the request (sent with the confirmation).
pub fn message_for(
    catalogue: &Catalogue,
    request: &ServiceRequest,
    event: &HistoryEvent,
    tracking_link: Option<&str>,
) -> Option<CitizenMessage> {
    let lang = request.language;
    let case = request.case_number.as_str();
    let city = catalogue.city().name.get(lang);
    let service = request
        .service_code
        .as_ref()
        .and_then(|c| catalogue.service(c))
        .map(|s| s.name.get(lang).to_owned());
    let tz = TimeZone::get(&catalogue.city().timezone).unwrap_or(TimeZone::UTC);
    let body = match (&event.kind, lang) {
        (EventKind::Assigned { department, due_at }, _) => {
            let dept = catalogue
                .department(department)
                .map_or(department.to_string(), |d| d.name.get(lang).to_owned());
            let due = due_at.to_zoned(tz).strftime("%Y-%m-%d %H:%M").to_string();
            match lang {
                Language::Pl => format!(
                    "{city} 311: zgłoszenie {case}{} przekazano do: {dept}. Planowany termin: {due}.",
                    service.map(|s| format!(" ({s})")).unwrap_or_default()
                ),
                Language::En => format!(
                    "{city} 311: request {case}{} was passed to {dept}. Expected by {due}.",
                    service.map(|s| format!(" ({s})")).unwrap_or_default()
                ),
            }
        }
        (EventKind::StatusChanged { to, note, .. }, _) => {
            status_text(lang, city, case, *to, note.as_deref())?
        }
        (EventKind::Created { .. }, Language::Pl) => format!(
            "{city} 311: przyjęliśmy zgłoszenie {case}.{}",
            tracking_link
                .map(|l| format!(" Status i uzupełnienia: {l}"))
                .unwrap_or_default()
        ),
        (EventKind::Created { .. }, Language::En) => format!(
            "{city} 311: we received request {case}.{}",
            tracking_link
                .map(|l| format!(" Follow it and add details: {l}"))
                .unwrap_or_default()
        ),
        (EventKind::LinkedAsDuplicate { of }, Language::Pl) => format!(
            "{city} 311: to samo zgłoszono już jako sprawę {of}, którą się zajmujemy. Dołączyliśmy zgłoszenie {case} do niej.{}",
            tracking_link
                .map(|l| format!(" Status: {l}"))
                .unwrap_or_default()
        ),
        (EventKind::LinkedAsDuplicate { of }, Language::En) => format!(
            "{city} 311: this was already reported as request {of}, which is being handled. Your request {case} now follows it.{}",
            tracking_link
                .map(|l| format!(" Follow it: {l}"))
                .unwrap_or_default()
        ),
        (EventKind::NoteToCitizen { note }, Language::Pl) => {
            format!("{city} 311: wiadomość w sprawie zgłoszenia {case}: {note}")
        }
        (EventKind::NoteToCitizen { note }, Language::En) => {
            format!("{city} 311: a message about request {case}: {note}")
        }
        _ => return None,
    };
    let subject = match lang {
        Language::Pl => format!("{city} 311: zgłoszenie {case}"),
        Language::En => format!("{city} 311: request {case}"),
    };
    Some(CitizenMessage { subject, body })
}

/// What a follower (the reporter of a duplicate) is told when the request it
/// follows ends: resolved, rejected or closed. `None` for other events.
pub fn follower_message(
    catalogue: &Catalogue,
    follower: &ServiceRequest,
    original: &ServiceRequest,
    event: &HistoryEvent,
    tracking_link: &str,
) -> Option<CitizenMessage> {
    let EventKind::StatusChanged { to, note, .. } = &event.kind else {
        return None;
    };
    let lang = follower.language;
    let city = catalogue.city().name.get(lang);
    let (case, followed) = (follower.case_number.as_str(), original.case_number.as_str());
    let note = note.as_deref().map(|n| format!(" {n}")).unwrap_or_default();
    let body = match (to, lang) {
        (Status::Resolved, Language::Pl) => format!(
            "{city} 311: sprawa {followed}, do której dołączyliśmy Twoje zgłoszenie {case}, została załatwiona.{note} Status: {tracking_link}"
        ),
        (Status::Resolved, Language::En) => format!(
            "{city} 311: request {followed}, which your request {case} follows, was resolved.{note} Status: {tracking_link}"
        ),
        (Status::Rejected, Language::Pl) => format!(
            "{city} 311: sprawa {followed}, do której dołączyliśmy Twoje zgłoszenie {case}, została odrzucona.{note} Status: {tracking_link}"
        ),
        (Status::Rejected, Language::En) => format!(
            "{city} 311: request {followed}, which your request {case} follows, was rejected.{note} Status: {tracking_link}"
        ),
        _ => return None,
    };
    let subject = match lang {
        Language::Pl => format!("{city} 311: zgłoszenie {case}"),
        Language::En => format!("{city} 311: request {case}"),
    };
    Some(CitizenMessage { subject, body })
}

/// Some attachments of the resident's message were not kept.
pub fn attachments_dropped_message(
    catalogue: &Catalogue,
    request: &ServiceRequest,
    count: u32,
) -> CitizenMessage {
    let lang = request.language;
    let city = catalogue.city().name.get(lang);
    let case = request.case_number.as_str();
    match lang {
        Language::Pl => CitizenMessage {
            subject: format!("{city} 311: zgłoszenie {case} - pominięte załączniki"),
            body: format!(
                "{city} 311: do zgłoszenia {case} nie dołączyliśmy załączników: {count}. Przyjmujemy zdjęcia JPEG, PNG, GIF lub WebP do 5 MB (najwyżej 5). Możesz je dodać na stronie zgłoszenia."
            ),
        },
        Language::En => CitizenMessage {
            subject: format!("{city} 311: request {case} - attachments skipped"),
            body: format!(
                "{city} 311: {count} attachment(s) were not added to request {case}. We take JPEG, PNG, GIF or WebP photos up to 5 MB (at most 5). You can add them on the request's page."
            ),
        },
    }
}

/// The expert's answer to a caller who left a contact with their question.
pub fn question_answer_message(
    catalogue: &Catalogue,
    question: &crate::second_line::Question,
) -> Option<CitizenMessage> {
    let answer = question.answer.as_ref()?;
    let lang = question.language;
    let city = catalogue.city().name.get(lang);
    let (subject, body) = match lang {
        Language::Pl => (
            format!("{city} 311: odpowiedź na Twoje pytanie"),
            format!(
                "{city} 311: odpowiedź na pytanie zadane w naszym centrum kontaktu: {}",
                answer.text
            ),
        ),
        Language::En => (
            format!("{city} 311: the answer to your question"),
            format!(
                "{city} 311: the answer to the question you asked our contact centre: {}",
                answer.text
            ),
        ),
    };
    Some(CitizenMessage { subject, body })
}

fn status_text(
    lang: Language,
    city: &str,
    case: &str,
    to: Status,
    note: Option<&str>,
) -> Option<String> {
    let note = note.map(|n| format!(" {n}")).unwrap_or_default();
    Some(match (to, lang) {
        (Status::Triaged, Language::Pl) => format!(
            "{city} 311: przyjęliśmy zgłoszenie {case}. Nasz konsultant przypisze je do właściwej jednostki."
        ),
        (Status::Triaged, Language::En) => format!(
            "{city} 311: we received request {case}. An agent will pass it to the right department."
        ),
        (Status::InProgress, Language::Pl) => {
            format!("{city} 311: trwają prace w sprawie zgłoszenia {case}.")
        }
        (Status::InProgress, Language::En) => {
            format!("{city} 311: work on request {case} has started.")
        }
        (Status::Resolved, Language::Pl) => {
            format!("{city} 311: zgłoszenie {case} zostało załatwione.{note}")
        }
        (Status::Resolved, Language::En) => {
            format!("{city} 311: request {case} was resolved.{note}")
        }
        (Status::Rejected, Language::Pl) => {
            format!("{city} 311: zgłoszenie {case} zostało odrzucone.{note}")
        }
        (Status::WaitingForCitizen, Language::Pl) => format!(
            "{city} 311: aby zająć się zgłoszeniem {case}, potrzebujemy od Ciebie informacji.{note} Dopisz je na stronie zgłoszenia."
        ),
        (Status::WaitingForCitizen, Language::En) => format!(
            "{city} 311: to work on request {case} we need information from you.{note} Add it on the request's page."
        ),
        (Status::Rejected, Language::En) => {
            format!("{city} 311: request {case} was rejected.{note}")
        }
        _ => return None,
    })
}
