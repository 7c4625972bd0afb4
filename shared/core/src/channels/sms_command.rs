//! What a resident's text message asks for, before any state is read:
//! the carriers' keywords (`STOP`, `START`, `HELP` and their Polish
//! equivalents), a case's status (`STATUS <case>`, `STAN <case>`, or the
//! case number alone), a knowledge-base question (`INFO <words>`), or free
//! text, which is a report. Keywords are matched on the first word, in any
//! case, with or without Polish diacritics; the language a keyword is in is
//! a hint for the replies.

use crate::ids::CaseNumber;
use crate::language::Language;

/// Longest text message body kept (ten concatenated segments).
pub const MAX_SMS_CHARS: usize = 1600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsCommand {
    /// Send nothing more to this number.
    OptOut,
    /// Messages may be sent again.
    OptIn,
    /// What can be texted.
    Help,
    /// The status of a case.
    Status(CaseNumber),
    /// `STATUS` with something that is not a case number.
    StatusOfWhat(String),
    /// A question for the knowledge base.
    Info(String),
    /// `INFO` with nothing after it.
    InfoOfWhat,
    /// Anything else: a report (or an addition to one).
    Text(String),
    /// Nothing but whitespace.
    Empty,
}

/// The command and, when a keyword said it, the language it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedSms {
    pub command: SmsCommand,
    pub language: Option<Language>,
}

/// Upper case without Polish diacritics, for comparing keywords.
fn folded(word: &str) -> String {
    word.chars()
        .map(|c| match c {
            'ą' | 'Ą' => 'A',
            'ć' | 'Ć' => 'C',
            'ę' | 'Ę' => 'E',
            'ł' | 'Ł' => 'L',
            'ń' | 'Ń' => 'N',
            'ó' | 'Ó' => 'O',
            'ś' | 'Ś' => 'S',
            'ź' | 'Ź' | 'ż' | 'Ż' => 'Z',
            other => other.to_ascii_uppercase(),
        })
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

/// `(keyword, language it is in; None when it is the same in both)`.
const OPT_OUT: [(&str, Option<Language>); 9] = [
    ("STOP", None),
    ("STOPALL", Some(Language::En)),
    ("UNSUBSCRIBE", Some(Language::En)),
    ("CANCEL", Some(Language::En)),
    ("END", Some(Language::En)),
    ("QUIT", Some(Language::En)),
    ("REZYGNUJE", Some(Language::Pl)),
    ("WYPISZ", Some(Language::Pl)),
    ("ANULUJ", Some(Language::Pl)),
];
const OPT_IN: [(&str, Option<Language>); 4] = [
    ("START", None),
    ("UNSTOP", Some(Language::En)),
    ("WZNOW", Some(Language::Pl)),
    ("ZAPISZ", Some(Language::Pl)),
];
const HELP: [(&str, Option<Language>); 2] =
    [("HELP", Some(Language::En)), ("POMOC", Some(Language::Pl))];
const STATUS: [(&str, Option<Language>); 2] = [("STATUS", None), ("STAN", Some(Language::Pl))];
const INFO: [(&str, Option<Language>); 2] = [("INFO", None), ("PYTANIE", Some(Language::Pl))];

fn keyword(word: &str, list: &[(&str, Option<Language>)]) -> Option<Option<Language>> {
    list.iter().find(|(k, _)| *k == word).map(|(_, l)| *l)
}

/// A case number written alone: with its dash, or with a digit (so an
/// eight-letter word is not taken for one).
fn bare_case_number(text: &str) -> Option<CaseNumber> {
    let token = text.trim().trim_end_matches(['.', '?', '!']);
    if token.contains(char::is_whitespace) {
        return None;
    }
    let looks_like_one = token.contains('-') || token.chars().any(|c| c.is_ascii_digit());
    looks_like_one
        .then(|| CaseNumber::parse(token).ok())
        .flatten()
}

/// What `body` asks for.
pub fn parse_sms(body: &str) -> ParsedSms {
    let text: String = body.trim().chars().take(MAX_SMS_CHARS).collect();
    let said = |command, language| ParsedSms { command, language };
    if text.is_empty() {
        return said(SmsCommand::Empty, None);
    }
    let (first, rest) = match text.split_once(char::is_whitespace) {
        Some((first, rest)) => (first, rest.trim()),
        None => (text.as_str(), ""),
    };
    let word = folded(first);
    if rest.is_empty() {
        if let Some(language) = keyword(&word, &OPT_OUT) {
            return said(SmsCommand::OptOut, language);
        }
        if let Some(language) = keyword(&word, &OPT_IN) {
            return said(SmsCommand::OptIn, language);
        }
        if let Some(language) = keyword(&word, &HELP) {
            return said(SmsCommand::Help, language);
        }
        if let Some(case) = bare_case_number(&text) {
            return said(SmsCommand::Status(case), None);
        }
    }
    if let Some(language) = keyword(&word, &STATUS) {
        return match CaseNumber::parse(rest) {
            Ok(case) => said(SmsCommand::Status(case), language),
            Err(_) => said(SmsCommand::StatusOfWhat(rest.to_owned()), language),
        };
    }
    if let Some(language) = keyword(&word, &INFO) {
        return if rest.is_empty() {
            said(SmsCommand::InfoOfWhat, language)
        } else {
            said(SmsCommand::Info(rest.to_owned()), language)
        };
    }
    said(SmsCommand::Text(text), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(body: &str) -> SmsCommand {
        parse_sms(body).command
    }

    #[test]
    fn carrier_keywords_in_both_languages_alone_on_the_line() {
        for body in [
            "STOP",
            "stop",
            " Stop ",
            "REZYGNUJĘ",
            "rezygnuje",
            "Wypisz",
            "unsubscribe",
        ] {
            assert_eq!(command(body), SmsCommand::OptOut, "{body}");
        }
        for body in ["START", "start", "wznów", "WZNOW", "unstop"] {
            assert_eq!(command(body), SmsCommand::OptIn, "{body}");
        }
        assert_eq!(parse_sms("POMOC").language, Some(Language::Pl));
        assert_eq!(parse_sms("help").language, Some(Language::En));
        assert_eq!(parse_sms("Wypisz").language, Some(Language::Pl));
        // A keyword inside a sentence is a report, not a command.
        assert_eq!(
            command("Stop na skrzyżowaniu jest przewrócony"),
            SmsCommand::Text("Stop na skrzyżowaniu jest przewrócony".into())
        );
    }

    #[test]
    fn status_by_keyword_or_by_the_case_number_alone() {
        let case = CaseNumber::parse("7H3K-9QX2").unwrap();
        for body in [
            "STATUS 7H3K-9QX2",
            "status 7h3k9qx2",
            "Stan 7H3K 9QX2",
            "7H3K-9QX2",
            "7h3k9qx2",
            "7H3K-9QX2?",
        ] {
            assert_eq!(command(body), SmsCommand::Status(case.clone()), "{body}");
        }
        assert_eq!(parse_sms("STAN 7H3K-9QX2").language, Some(Language::Pl));
        assert_eq!(
            command("STATUS mojej sprawy"),
            SmsCommand::StatusOfWhat("mojej sprawy".into())
        );
        // Eight letters of the alphabet without a digit or dash are a word.
        assert_eq!(command("STRETCHY"), SmsCommand::Text("STRETCHY".into()));
    }

    #[test]
    fn info_questions_free_text_and_nothing() {
        assert_eq!(
            command("INFO wywóz gabarytów"),
            SmsCommand::Info("wywóz gabarytów".into())
        );
        assert_eq!(command("info"), SmsCommand::InfoOfWhat);
        assert_eq!(
            command("Dziura w jezdni na ul. Długiej 10, bardzo głęboka"),
            SmsCommand::Text("Dziura w jezdni na ul. Długiej 10, bardzo głęboka".into())
        );
        assert_eq!(command("   \n "), SmsCommand::Empty);
        let long = "ą".repeat(MAX_SMS_CHARS + 50);
        match command(&long) {
            SmsCommand::Text(t) => assert_eq!(t.chars().count(), MAX_SMS_CHARS),
            other => panic!("{other:?}"),
        }
    }
}
