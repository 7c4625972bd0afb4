//! Keyword classification: picks a service for free text from the catalogue's
//! names and keywords (Polish and English, diacritics-insensitive).
//!
//! Score of a service = number of its keyword phrases whose every word's stem
//! starts a token of the text (names count as phrases too). Confidence is the
//! winner's share of all scores with one pseudo-count of doubt, so a single weak
//! hit or a tie stays below a sensible threshold and goes to a person.

use crate::catalogue::Catalogue;
use crate::ids::ServiceCode;
use crate::rules::text::{stem, tokens};

#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    pub service_code: ServiceCode,
    /// 0..1: how sure the classifier is.
    pub confidence: f64,
}

/// One classifier per city of the deployment.
#[derive(Debug, Clone)]
pub struct Classifiers(Vec<(crate::ids::JurisdictionId, KeywordClassifier)>);

impl Classifiers {
    pub fn new(catalogues: &crate::catalogue::Catalogues) -> Self {
        Self(
            catalogues
                .iter()
                .map(|c| (c.city().jurisdiction_id.clone(), KeywordClassifier::new(c)))
                .collect(),
        )
    }

    pub fn get(&self, jurisdiction: &crate::ids::JurisdictionId) -> Option<&KeywordClassifier> {
        self.0
            .iter()
            .find(|(j, _)| j == jurisdiction)
            .map(|(_, c)| c)
    }
}

/// Stems of each service's phrases, prepared once per catalogue.
#[derive(Debug, Clone)]
pub struct KeywordClassifier {
    services: Vec<(ServiceCode, Vec<Vec<String>>)>,
}

impl KeywordClassifier {
    pub fn new(catalogue: &Catalogue) -> Self {
        let services = catalogue
            .services()
            .map(|s| {
                let phrases = s
                    .keywords
                    .pl
                    .iter()
                    .chain(&s.keywords.en)
                    .chain([&s.name.pl, &s.name.en])
                    .map(|phrase| tokens(phrase).iter().map(|t| stem(t)).collect::<Vec<_>>())
                    .filter(|p| !p.is_empty())
                    .collect();
                (s.code.clone(), phrases)
            })
            .collect();
        Self { services }
    }

    /// The best service for the text, or `None` when nothing matched at all.
    pub fn classify(&self, text: &str) -> Option<Classification> {
        let words = tokens(text);
        let mut total = 0.0;
        let mut best: Option<(&ServiceCode, f64)> = None;
        for (code, phrases) in &self.services {
            let score = phrases
                .iter()
                .filter(|phrase| {
                    phrase
                        .iter()
                        .all(|s| words.iter().any(|w| w.starts_with(s.as_str())))
                })
                .map(|phrase| phrase.len() as f64)
                .sum::<f64>();
            total += score;
            if score > 0.0 && best.is_none_or(|(_, b)| score > b) {
                best = Some((code, score));
            }
        }
        best.map(|(code, score)| Classification {
            service_code: code.clone(),
            confidence: score / (total + 1.0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::tests::catalogue;

    #[test]
    fn polish_inflection_and_diacritics() {
        let c = KeywordClassifier::new(&catalogue());
        let got = c
            .classify("Na ulicy Długiej przy szkole jest ogromna dziura w jezdni")
            .unwrap();
        assert_eq!(got.service_code.as_str(), "pothole");
        assert!(got.confidence > 0.5, "{got:?}");
        let got = c.classify("Wielka GALAZ spadla na chodnik").unwrap();
        assert_eq!(got.service_code.as_str(), "fallen-tree");
    }

    #[test]
    fn english_and_unknown() {
        let c = KeywordClassifier::new(&catalogue());
        let got = c.classify("A huge pothole outside the school").unwrap();
        assert_eq!(got.service_code.as_str(), "pothole");
        assert!(c.classify("Lorem ipsum dolor").is_none());
    }

    #[test]
    fn ambiguous_text_has_low_confidence() {
        let c = KeywordClassifier::new(&catalogue());
        let got = c.classify("a tree branch lies in a pothole").unwrap();
        assert!(got.confidence < 0.5, "{got:?}");
    }
}
