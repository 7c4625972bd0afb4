//! The languages citydesk answers in, and a text given in each of them.

use serde::{Deserialize, Serialize};

/// The language the citizen is answered in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    Pl,
    En,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Pl => "pl",
            Language::En => "en",
        }
    }

    pub fn parse(raw: &str) -> Option<Language> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "pl" | "pl-pl" | "polski" => Some(Language::Pl),
            "en" | "en-gb" | "en-us" | "english" => Some(Language::En),
            _ => None,
        }
    }

    /// The language an `Accept-Language` header prefers: the highest `q`
    /// among the tags naming Polish or English (any region; `*` means
    /// either), the first of equals winning; `None` when it names neither.
    pub fn preferred(accept_language: &str) -> Option<Language> {
        let mut best: Option<(Language, f32)> = None;
        for entry in accept_language.split(',') {
            let mut parts = entry.split(';');
            let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let quality = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .filter(|q| q.is_finite())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            let language = match primary {
                "pl" => Language::Pl,
                "en" => Language::En,
                "*" => Language::default(),
                _ => continue,
            };
            if quality > 0.0 && best.is_none_or(|(_, q)| quality > q) {
                best = Some((language, quality));
            }
        }
        best.map(|(language, _)| language)
    }
}

/// A text in the catalogue's languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Translated {
    pub pl: String,
    pub en: String,
}

impl Translated {
    pub fn get(&self, language: Language) -> &str {
        match language {
            Language::Pl => &self.pl,
            Language::En => &self.en,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Language;

    #[test]
    fn accept_language_is_read_as_a_whole_list() {
        for (header, expected) in [
            ("en", Some(Language::En)),
            ("de-DE, en;q=0.8, pl;q=0.5", Some(Language::En)),
            ("de, pl;q=0.4, en;q=0.9", Some(Language::En)),
            ("en-AU;q=0.3, pl-PL;q=0.7", Some(Language::Pl)),
            ("uk, ru;q=0.9, en-US;q=0.2", Some(Language::En)),
            ("pl, en", Some(Language::Pl)),
            ("en;q=0, pl;q=0.1", Some(Language::Pl)),
            ("fr, de", None),
            ("*", Some(Language::Pl)),
            ("", None),
            ("en;q=nonsense", Some(Language::En)),
        ] {
            assert_eq!(Language::preferred(header), expected, "{header}");
        }
    }
}
