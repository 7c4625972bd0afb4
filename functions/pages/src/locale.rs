//! The pages' languages: Polish by default, English and Ukrainian beside it.
//! Every text a page shows is in `locales/<code>.toml` (one flat table per
//! language, the same keys in each: a test checks it); data the city writes
//! (service and department names) comes from the catalogue, which has Polish
//! and English, so a Ukrainian page names them in English.

use std::collections::BTreeMap;

use citydesk_core::language::Language;
use http::HeaderMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    Pl,
    En,
    Uk,
}

impl Locale {
    pub const ALL: [Locale; 3] = [Locale::Pl, Locale::En, Locale::Uk];

    pub fn code(self) -> &'static str {
        match self {
            Locale::Pl => "pl",
            Locale::En => "en",
            Locale::Uk => "uk",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "pl" => Some(Locale::Pl),
            "en" => Some(Locale::En),
            "uk" | "ua" => Some(Locale::Uk),
            _ => None,
        }
    }

    /// The language of the catalogue's names and of the messages the city sends.
    pub fn data_language(self) -> Language {
        match self {
            Locale::Pl => Language::Pl,
            Locale::En | Locale::Uk => Language::En,
        }
    }

    /// The page's language: `?lang=`, else the `lang` cookie, else the first of
    /// the browser's languages the pages have, else Polish.
    pub fn of_request(query_lang: Option<&str>, headers: &HeaderMap) -> Self {
        if let Some(locale) = query_lang.and_then(Locale::parse) {
            return locale;
        }
        if let Some(locale) =
            crate::cookies::read(headers, LANG_COOKIE).and_then(|v| Locale::parse(&v))
        {
            return locale;
        }
        headers
            .get(http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|accept| {
                accept.split(',').find_map(|entry| {
                    let tag = entry.split(';').next()?.trim();
                    Locale::parse(tag.split('-').next()?)
                })
            })
            .unwrap_or_default()
    }
}

/// The cookie that keeps a chosen language.
pub const LANG_COOKIE: &str = "lang";

/// Every page text of every language.
#[derive(Debug, Clone)]
pub struct Texts {
    by_locale: BTreeMap<&'static str, BTreeMap<String, String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum TextsError {
    #[error("locales/{locale}.toml: {reason}")]
    Invalid {
        locale: &'static str,
        reason: String,
    },
    #[error("locales/{locale}.toml lacks {missing:?} that locales/pl.toml has")]
    Missing {
        locale: &'static str,
        missing: Vec<String>,
    },
}

const SOURCES: [(&str, &str); 3] = [
    ("pl", include_str!("../locales/pl.toml")),
    ("en", include_str!("../locales/en.toml")),
    ("uk", include_str!("../locales/uk.toml")),
];

impl Texts {
    /// The embedded texts; every language must have every Polish key.
    pub fn load() -> Result<Self, TextsError> {
        let mut by_locale = BTreeMap::new();
        for (locale, source) in SOURCES {
            let table: BTreeMap<String, String> =
                toml::from_str(source).map_err(|e| TextsError::Invalid {
                    locale,
                    reason: e.to_string(),
                })?;
            by_locale.insert(locale, table);
        }
        let polish = by_locale.get("pl").cloned().unwrap_or_default();
        for (locale, table) in &by_locale {
            let missing: Vec<String> = polish
                .keys()
                .filter(|k| !table.contains_key(*k))
                .cloned()
                .collect();
            if !missing.is_empty() {
                return Err(TextsError::Missing { locale, missing });
            }
        }
        Ok(Self { by_locale })
    }

    pub fn of(&self, locale: Locale) -> &BTreeMap<String, String> {
        static EMPTY: BTreeMap<String, String> = BTreeMap::new();
        self.by_locale.get(locale.code()).unwrap_or(&EMPTY)
    }

    /// One text (the key itself when missing, which the load refuses).
    pub fn get<'a>(&'a self, locale: Locale, key: &'a str) -> &'a str {
        self.of(locale).get(key).map_or(key, String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_text() {
        let texts = Texts::load().expect("the embedded texts load");
        let keys = |l| texts.of(l).keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(Locale::En), keys(Locale::Pl));
        assert_eq!(keys(Locale::Uk), keys(Locale::Pl));
        assert_eq!(texts.get(Locale::Pl, "report_title"), "Zgłoś problem");
    }

    #[test]
    fn the_page_language_comes_from_the_query_then_the_cookie_then_the_browser() {
        let mut headers = HeaderMap::new();
        assert_eq!(Locale::of_request(None, &headers), Locale::Pl);
        headers.insert(
            http::header::ACCEPT_LANGUAGE,
            http::HeaderValue::from_static("de-DE, uk;q=0.9, en;q=0.5"),
        );
        assert_eq!(Locale::of_request(None, &headers), Locale::Uk);
        headers.insert(
            http::header::COOKIE,
            http::HeaderValue::from_static("lang=en"),
        );
        assert_eq!(Locale::of_request(None, &headers), Locale::En);
        assert_eq!(Locale::of_request(Some("pl"), &headers), Locale::Pl);
        assert_eq!(Locale::of_request(Some("xx"), &headers), Locale::En);
    }
}
