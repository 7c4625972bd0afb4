//! What is cut from a citizen's words before anybody else reads them: e-mail
//! addresses, phone numbers, PESEL-like numbers, licence plates, and the
//! reporter's own name, phone and e-mail wherever they appear.

use std::sync::LazyLock;

use regex::Regex;

use crate::contact::Contact;

/// What replaces each cut.
pub const REDACTED: &str = "[…]";

/// Fewest digits a number needs to be taken for a phone number (a year, a
/// house number or a bus line has fewer).
const PHONE_MIN_DIGITS: usize = 7;

static EMAIL: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+").ok());
/// Digits with the separators people type between them: `+48 600-700-800`,
/// `(12) 345 67 89`, `600700800`, a PESEL's 11 digits.
static DIGIT_RUN: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?:\+|\b00)?\(?\d[\d\s().\-/]{5,}\d").ok());
/// Polish plates (`KR 12345`, `KRA 1234A`, `WE1234X`) and most European ones:
/// one to three capitals, then four or five capitals and digits with a digit among them.
static PLATE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"\b[A-Z]{1,3}[ -]?(?:\d[0-9A-Z]{3,4}|[A-Z]\d[0-9A-Z]{2,3}|[A-Z]{2}\d[0-9A-Z]{1,2})\b",
    )
    .ok()
});

/// `text` with personal data cut: patterns first, then the reporter's own
/// details (`known`), matched without regard to case. Names shorter than
/// three letters are left (they would cut ordinary words).
pub fn redact(text: &str, known: Option<&Contact>) -> String {
    let mut out = text.to_owned();
    if let Some(contact) = known {
        let mut literals: Vec<String> = Vec::new();
        if let Some(email) = &contact.email {
            literals.push(email.as_str().to_owned());
        }
        if let Some(name) = &contact.name {
            literals.push(name.as_str().to_owned());
            literals.extend(
                name.as_str()
                    .split(|c: char| c.is_whitespace() || c == '-')
                    .filter(|part| part.chars().count() >= 3)
                    .map(name_stem),
            );
        }
        for literal in literals {
            out = replace_word_ignoring_case(&out, &literal);
        }
    }
    if let Some(email) = EMAIL.as_ref() {
        out = email.replace_all(&out, REDACTED).into_owned();
    }
    if let Some(digits) = DIGIT_RUN.as_ref() {
        out = digits
            .replace_all(&out, |found: &regex::Captures<'_>| {
                let run = found.get(0).map_or("", |m| m.as_str());
                if run.chars().filter(char::is_ascii_digit).count() >= PHONE_MIN_DIGITS {
                    REDACTED.to_owned()
                } else {
                    run.to_owned()
                }
            })
            .into_owned();
    }
    if let Some(plate) = PLATE.as_ref() {
        out = plate.replace_all(&out, REDACTED).into_owned();
    }
    out
}

/// A name part as its declined forms begin: `Kowalska` → `Kowalsk`
/// (Kowalskiej, Kowalską), short names and consonant endings kept whole.
fn name_stem(part: &str) -> String {
    let mut chars: Vec<char> = part.chars().collect();
    let vowel_ending = chars
        .last()
        .is_some_and(|c| "aeiouyąęóAEIOUYĄĘÓ".contains(*c));
    if chars.len() >= 6 && vowel_ending {
        chars.pop();
    }
    chars.into_iter().collect()
}

/// Every whole-word occurrence of `literal` in `text`, in any case and with
/// up to three letters of ending (Polish declines names: Kowalskiego,
/// Nowakowi), cut.
fn replace_word_ignoring_case(text: &str, literal: &str) -> String {
    let pattern = format!(r"(?i)\b{}\w{{0,3}}\b", regex::escape(literal));
    match Regex::new(&pattern) {
        Ok(word) => word.replace_all(text, REDACTED).into_owned(),
        Err(_) => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::contact::{Email, PersonName, PhoneNumber};

    #[test]
    fn patterns_are_cut_and_ordinary_numbers_kept() {
        let text = "Dziura przed nr 12 na ul. Długiej, linia 52, od 2024 roku. \
                    Dzwonić 600 700 800 lub +48 (12) 345-67-89, pisać jan.k@example.pl. \
                    PESEL 44051401458. Auto KR 12345 i WE1234X stoi.";
        let out = redact(text, None);
        for gone in [
            "600 700 800",
            "345-67-89",
            "jan.k@example.pl",
            "44051401458",
            "KR 12345",
            "WE1234X",
        ] {
            assert!(!out.contains(gone), "{gone} left in {out}");
        }
        for kept in ["nr 12", "linia 52", "2024 roku", "Długiej", "PESEL", "Auto"] {
            assert!(out.contains(kept), "{kept} cut from {out}");
        }
    }

    #[test]
    fn the_reporters_own_details_are_cut_in_any_case() {
        let contact = Contact {
            name: Some(PersonName::parse("Anna Nowak-Kowalska").unwrap()),
            phone: Some(PhoneNumber::parse("+48600700800").unwrap()),
            email: Some(Email::parse("anna@example.org").unwrap()),
        };
        let out = redact(
            "Zgłasza ANNA NOWAK-KOWALSKA, sąsiadka pani nowak-kowalskiej widziała. Ann was here.",
            Some(&contact),
        );
        assert!(!out.to_lowercase().contains("nowak"), "{out}");
        assert!(!out.to_lowercase().contains("anna"), "{out}");
        assert!(out.contains("Ann was here"), "{out}");
    }
}
