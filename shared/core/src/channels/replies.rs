//! What the service texts back, in the resident's language. Short: a reply
//! is one or two SMS segments, the tracking link included.

use crate::language::Language;
use crate::status::Status;

/// The name of a status as a resident reads it.
pub fn status_name(status: Status, lang: Language) -> &'static str {
    match (status, lang) {
        (Status::New | Status::Triaged, Language::Pl) => "przyjęte, czeka na przekazanie",
        (Status::New | Status::Triaged, Language::En) => "received, waiting to be passed on",
        (Status::Assigned | Status::Reopened, Language::Pl) => "przekazane do jednostki",
        (Status::Assigned | Status::Reopened, Language::En) => "passed to the department",
        (Status::Acknowledged, Language::Pl) => "przyjęte przez jednostkę",
        (Status::Acknowledged, Language::En) => "accepted by the department",
        (Status::InProgress, Language::Pl) => "w realizacji",
        (Status::InProgress, Language::En) => "in progress",
        (Status::WaitingForCitizen, Language::Pl) => "czeka na informacje od Ciebie",
        (Status::WaitingForCitizen, Language::En) => "waiting for information from you",
        (Status::Resolved, Language::Pl) => "załatwione",
        (Status::Resolved, Language::En) => "resolved",
        (Status::Closed, Language::Pl) => "zamknięte",
        (Status::Closed, Language::En) => "closed",
        (Status::Duplicate, Language::Pl) => "dołączone do innego zgłoszenia",
        (Status::Duplicate, Language::En) => "joined to another report",
        (Status::Rejected, Language::Pl) => "odrzucone",
        (Status::Rejected, Language::En) => "rejected",
    }
}

pub fn received(city: &str, case: &str, link: &str, lang: Language) -> String {
    match lang {
        Language::Pl => format!(
            "{city} 311: przyjęliśmy zgłoszenie {case}. Status i uzupełnienia: {link} Stan sprawdzisz też SMS-em: STATUS {case}"
        ),
        Language::En => format!(
            "{city} 311: we received request {case}. Follow it and add details: {link} Or text STATUS {case}"
        ),
    }
}

pub fn ask_location(city: &str, lang: Language, again: bool, hints: &[String]) -> String {
    let hints = if hints.is_empty() {
        String::new()
    } else {
        match lang {
            Language::Pl => format!(" Może: {}?", hints.join("; ")),
            Language::En => format!(" Perhaps: {}?", hints.join("; ")),
        }
    };
    match (lang, again) {
        (Language::Pl, false) => format!(
            "{city} 311: gdzie to jest? Odpisz adresem (ulica i numer), np. Długa 10, albo udostępnij lokalizację."
        ),
        (Language::Pl, true) => format!(
            "{city} 311: nie znaleźliśmy tego adresu w mieście.{hints} Odpisz ulicą i numerem."
        ),
        (Language::En, false) => format!(
            "{city} 311: where is it? Reply with the address (street and number), e.g. Długa 10, or share your location."
        ),
        (Language::En, true) => format!(
            "{city} 311: we could not find that address in the city.{hints} Reply with the street and number."
        ),
    }
}

pub fn outside_city(city: &str, lang: Language) -> String {
    match lang {
        Language::Pl => format!(
            "{city} 311: to miejsce leży poza miastem. Odpisz adresem w mieście (ulica i numer)."
        ),
        Language::En => format!(
            "{city} 311: that place is outside the city. Reply with an address in the city (street and number)."
        ),
    }
}

pub fn ask_add_or_new(city: &str, case: &str, lang: Language) -> String {
    match lang {
        Language::Pl => format!(
            "{city} 311: czy to uzupełnienie zgłoszenia {case}? Odpisz 1, jeśli tak, albo 2, jeśli to nowy problem."
        ),
        Language::En => format!(
            "{city} 311: does this add to request {case}? Reply 1 if it does, or 2 if it is a new problem."
        ),
    }
}

pub fn added_to(city: &str, case: &str, lang: Language) -> String {
    match lang {
        Language::Pl => format!("{city} 311: dopisaliśmy to do zgłoszenia {case}. Dziękujemy."),
        Language::En => format!("{city} 311: we added this to request {case}. Thank you."),
    }
}

pub fn status_of(
    city: &str,
    case: &str,
    status: Status,
    department: Option<&str>,
    due: Option<&str>,
    lang: Language,
) -> String {
    let name = status_name(status, lang);
    let department = department
        .map(|d| match lang {
            Language::Pl => format!(" Jednostka: {d}."),
            Language::En => format!(" Department: {d}."),
        })
        .unwrap_or_default();
    let due = due
        .filter(|_| !status.is_closed() && status != Status::Resolved)
        .map(|d| match lang {
            Language::Pl => format!(" Termin: {d}."),
            Language::En => format!(" Due: {d}."),
        })
        .unwrap_or_default();
    match lang {
        Language::Pl => format!("{city} 311: zgłoszenie {case}: {name}.{department}{due}"),
        Language::En => format!("{city} 311: request {case}: {name}.{department}{due}"),
    }
}

pub fn no_such_case(city: &str, case: &str, lang: Language) -> String {
    match lang {
        Language::Pl => format!(
            "{city} 311: nie ma zgłoszenia {case}. Sprawdź numer z potwierdzenia (np. 7H3K-9QX2)."
        ),
        Language::En => format!(
            "{city} 311: there is no request {case}. Check the number in your confirmation (e.g. 7H3K-9QX2)."
        ),
    }
}

pub fn which_case(city: &str, lang: Language) -> String {
    match lang {
        Language::Pl => {
            format!("{city} 311: podaj numer zgłoszenia, np. STATUS 7H3K-9QX2.")
        }
        Language::En => format!("{city} 311: send the case number, e.g. STATUS 7H3K-9QX2."),
    }
}

pub fn answer(city: &str, title: &str, summary: &str, link: &str, lang: Language) -> String {
    match lang {
        Language::Pl => format!("{city} 311: {title}. {summary} Więcej: {link}"),
        Language::En => format!("{city} 311: {title}. {summary} More: {link}"),
    }
}

pub fn no_answer(city: &str, lang: Language) -> String {
    match lang {
        Language::Pl => format!(
            "{city} 311: nie znaleźliśmy odpowiedzi. Zapytaj innymi słowami albo opisz problem, a przyjmiemy zgłoszenie."
        ),
        Language::En => format!(
            "{city} 311: we found no answer. Ask in other words, or describe the problem and we will take a report."
        ),
    }
}

pub fn what_info(city: &str, lang: Language) -> String {
    match lang {
        Language::Pl => format!("{city} 311: o co chcesz zapytać? Np. INFO wywóz gabarytów."),
        Language::En => format!("{city} 311: what would you like to know? E.g. INFO bulky waste."),
    }
}

pub fn help(city: &str, lang: Language) -> String {
    match lang {
        Language::Pl => format!(
            "{city} 311: opisz problem i miejsce, a przyjmiemy zgłoszenie. STATUS <numer> - stan sprawy, INFO <pytanie> - odpowiedź, STOP - koniec wiadomości, START - wznowienie."
        ),
        Language::En => format!(
            "{city} 311: describe the problem and where it is, and we take a report. STATUS <case> - its status, INFO <question> - an answer, STOP - no more messages, START - resume."
        ),
    }
}

pub fn opted_out(city: &str, lang: Language) -> String {
    match lang {
        Language::Pl => format!(
            "{city} 311: nie wyślemy już wiadomości na ten numer. Odpisz START, by je wznowić."
        ),
        Language::En => {
            format!(
                "{city} 311: we will send no more messages to this number. Reply START to resume."
            )
        }
    }
}

pub fn opted_in(city: &str, lang: Language) -> String {
    match lang {
        Language::Pl => {
            format!("{city} 311: wiadomości wznowione. Opisz problem albo wyślij STATUS <numer>.")
        }
        Language::En => {
            format!("{city} 311: messages resumed. Describe a problem or send STATUS <case>.")
        }
    }
}

pub fn attachments_dropped(count: usize, lang: Language) -> String {
    match lang {
        Language::Pl => format!(
            "(Pominięto załączniki: {count}. Przyjmujemy zdjęcia JPEG, PNG, GIF lub WebP do 5 MB.)"
        ),
        Language::En => format!(
            "({count} attachment(s) skipped: we take JPEG, PNG, GIF or WebP photos up to 5 MB.)"
        ),
    }
}
