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

/// One classifier per city of the deployment: the city's trained model when it
/// has one, else the keyword rule over its catalogue.
#[derive(Debug, Clone)]
pub struct Classifiers(Vec<(crate::ids::JurisdictionId, CityClassifier)>);

impl Classifiers {
    /// Keyword rules only (no trained models).
    pub fn new(catalogues: &crate::catalogue::Catalogues) -> Self {
        Self::with_models(catalogues, &crate::learning::CityModels::default())
    }

    pub fn with_models(
        catalogues: &crate::catalogue::Catalogues,
        models: &crate::learning::CityModels,
    ) -> Self {
        Self(
            catalogues
                .iter()
                .map(|c| {
                    let jurisdiction = c.city().jurisdiction_id.clone();
                    let trained = models
                        .get(&jurisdiction)
                        .map(|model| TrainedClassifier::shared(model.clone(), c))
                        .filter(|t| {
                            let useful = t.knows_any_service();
                            if !useful {
                                tracing::error!(jurisdiction = %jurisdiction, "the model knows none of the catalogue's services (retrain with --label-map): keyword rules");
                            }
                            useful
                        });
                    let classifier = match trained {
                        Some(t) => CityClassifier::Trained(t),
                        None => CityClassifier::Keywords(KeywordClassifier::new(c)),
                    };
                    (jurisdiction, classifier)
                })
                .collect(),
        )
    }

    pub fn get(&self, jurisdiction: &crate::ids::JurisdictionId) -> Option<&CityClassifier> {
        self.0
            .iter()
            .find(|(j, _)| j == jurisdiction)
            .map(|(_, c)| c)
    }
}

#[derive(Debug, Clone)]
pub enum CityClassifier {
    Keywords(KeywordClassifier),
    Trained(TrainedClassifier),
}

impl CityClassifier {
    /// Up to three services, most probable first.
    pub fn top3(&self, text: &str) -> Vec<Classification> {
        match self {
            CityClassifier::Keywords(k) => k.classify(text).into_iter().collect(),
            CityClassifier::Trained(t) => t.top(text, 3),
        }
    }

    pub fn classify(&self, text: &str) -> Option<Classification> {
        self.top3(text).into_iter().next()
    }

    /// The model's version, or `keywords` for the rule.
    pub fn version(&self) -> &str {
        match self {
            CityClassifier::Keywords(_) => "keywords",
            CityClassifier::Trained(t) => &t.model.version,
        }
    }
}

/// A trained model restricted to the services of the city's catalogue: labels
/// the catalogue does not have (old categories of imported history) are never
/// returned, and their probability counts as doubt.
#[derive(Debug, Clone)]
pub struct TrainedClassifier {
    model: std::sync::Arc<crate::learning::artifact::Model>,
    services: std::collections::BTreeMap<String, ServiceCode>,
}

impl TrainedClassifier {
    pub fn new(model: &crate::learning::artifact::Model, catalogue: &Catalogue) -> Self {
        Self::shared(std::sync::Arc::new(model.clone()), catalogue)
    }

    pub fn shared(
        model: std::sync::Arc<crate::learning::artifact::Model>,
        catalogue: &Catalogue,
    ) -> Self {
        Self {
            model,
            services: catalogue
                .services()
                .map(|s| (s.code.as_str().to_owned(), s.code.clone()))
                .collect(),
        }
    }

    /// Whether any of the model's labels is a service of the catalogue.
    pub fn knows_any_service(&self) -> bool {
        self.model
            .classifier
            .labels()
            .iter()
            .any(|l| self.services.contains_key(l))
    }

    pub fn top(&self, text: &str, k: usize) -> Vec<Classification> {
        let mut extractor = crate::learning::features::FeatureExtractor::default();
        let labels = self.model.classifier.labels().len();
        self.model
            .classifier
            .top(&mut extractor, text, labels)
            .into_iter()
            .filter_map(|c| {
                Some(Classification {
                    service_code: self.services.get(c.label)?.clone(),
                    confidence: c.probability,
                })
            })
            .take(k)
            .collect()
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
