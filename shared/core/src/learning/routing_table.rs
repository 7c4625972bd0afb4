//! Routes learned from history: which department actually handled a case.
//!
//! Two learners from the same rows, both fed only what a live request has (a
//! service, its words, a district and a time; an export's sub-type column has
//! no counterpart in a live request, whose words say it instead). Majority
//! tables: the department that handled the service in the district most
//! often, else the service anywhere. And a department classifier over the
//! words and tags for the service, the district, the time (hour block,
//! weekday or weekend) and their combinations. Which of the two answers is
//! chosen on the training rows alone: the classifier is fitted on four fifths
//! of them and both are scored on the fifth it did not see; the classifier is
//! kept only when it is right more often (a tie keeps the tables, simpler to
//! explain).
//!
//! The majority tables can also be learned with the sub-type (sub-type ×
//! district, then sub-type, then service × district, then service): the
//! baseline `citydesk evaluate` prints, which needs the export's column.
//!
//! Rules of the catalogue override what is learned; the service's own
//! department is the default when nothing is (`rules::routing`).

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::features::{FeatureCounts, FeatureExtractor};
use super::text_classifier::TextClassifier;
use super::training::{TrainingOptions, train_on_features};
use crate::rules::text::fold;

/// One past case: what it was, where and when, and who handled it.
#[derive(Debug, Clone, PartialEq)]
pub struct HandledCase {
    pub service: String,
    /// The old system's finer category within the service, where it has one
    /// (NYC's descriptor, Boston's type).
    pub subtype: Option<String>,
    /// The words of the request.
    pub text: String,
    pub district: Option<String>,
    pub received_at: Option<Timestamp>,
    pub department: String,
}

impl HandledCase {
    /// The case as a live request would be routed: everything but the
    /// export's sub-type column (its words are in the text).
    pub fn live_query(&self) -> RouteQuery<'_> {
        RouteQuery {
            subtype: None,
            ..self.query()
        }
    }

    /// Everything the history row holds, the sub-type included.
    pub fn query(&self) -> RouteQuery<'_> {
        RouteQuery {
            service: &self.service,
            subtype: self.subtype.as_deref(),
            text: &self.text,
            district: self.district.as_deref(),
            received_at: self.received_at,
        }
    }
}

/// What is known of a case to route: a live request has a service, words, a
/// district and a time; a history row may also have a sub-type (used by the
/// sub-type baseline only).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RouteQuery<'a> {
    pub service: &'a str,
    pub subtype: Option<&'a str>,
    pub text: &'a str,
    pub district: Option<&'a str>,
    pub received_at: Option<Timestamp>,
}

/// Which learner answers for a city.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RouteLearner {
    #[default]
    MajorityTables,
    DepartmentClassifier,
}

/// Keys of the majority tables join their parts with a unit separator.
const SEP: char = '\u{1f}';

/// The most common department for a key, at four levels of detail.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MajorityTables {
    by_subtype_district: BTreeMap<String, String>,
    by_subtype: BTreeMap<String, String>,
    by_district: BTreeMap<String, String>,
    by_service: BTreeMap<String, String>,
}

/// Below this many rows only the tables are learned: a fifth of fewer rows
/// is too small to tell the two learners apart (on Boston's 80-row sample
/// the choice flipped on one row).
const MIN_ROWS_FOR_CLASSIFIER: usize = 500;

/// Features the department classifier keeps: its weights are features ×
/// departments, loaded at every cold start (8,192 × 144 queues is 4.7 MB).
const ROUTING_FEATURES: usize = 1 << 13;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LearnedRoutes {
    tables: MajorityTables,
    classifier: Option<TextClassifier>,
    learner: RouteLearner,
    /// Share of held-out training rows each learner got right when the
    /// learner was chosen: (tables, classifier).
    validation: Option<(f64, f64)>,
}

impl LearnedRoutes {
    /// Majority tables and, with enough rows and two departments at least, a
    /// department classifier; the better on a held-out fifth answers.
    pub fn learn<'a>(cases: impl IntoIterator<Item = &'a HandledCase>) -> Self {
        let cases: Vec<&HandledCase> = cases.into_iter().collect();
        let tables = MajorityTables::learn(live(&cases));
        let mut routes = Self {
            tables,
            ..Self::default()
        };
        if cases.len() < MIN_ROWS_FOR_CLASSIFIER {
            return routes;
        }
        let (mut fit, mut held_out) = (Vec::new(), Vec::new());
        for (i, case) in cases.iter().enumerate() {
            if i % 5 == 0 {
                held_out.push(*case);
            } else {
                fit.push(*case);
            }
        }
        let Some(trial) = fit_classifier(&fit) else {
            return routes;
        };
        let trial_tables = MajorityTables::learn(live(&fit));
        let mut extractor = FeatureExtractor::default();
        let share = |right: usize| right as f64 / held_out.len().max(1) as f64;
        let by_tables = held_out
            .iter()
            .filter(|c| trial_tables.department(&c.live_query()) == Some(c.department.as_str()))
            .count();
        let by_classifier = held_out
            .iter()
            .filter(|c| {
                predict(&trial, &mut extractor, &c.live_query()).as_deref()
                    == Some(c.department.as_str())
            })
            .count();
        routes.validation = Some((share(by_tables), share(by_classifier)));
        if by_classifier > by_tables {
            routes.classifier = fit_classifier(&cases);
            if routes.classifier.is_some() {
                routes.learner = RouteLearner::DepartmentClassifier;
            }
        }
        routes
    }

    /// The department history says handles this case; `None` for a service
    /// history never saw.
    pub fn department(&self, query: &RouteQuery<'_>) -> Option<String> {
        let known = self.tables.by_service.contains_key(query.service);
        if !known {
            return None;
        }
        match (&self.learner, &self.classifier) {
            (RouteLearner::DepartmentClassifier, Some(classifier)) => {
                predict(classifier, &mut FeatureExtractor::default(), query)
                    .or_else(|| self.tables.department(query).map(str::to_owned))
            }
            _ => self.tables.department(query).map(str::to_owned),
        }
    }

    pub fn tables(&self) -> &MajorityTables {
        &self.tables
    }

    pub fn learner(&self) -> RouteLearner {
        self.learner
    }

    pub fn validation(&self) -> Option<(f64, f64)> {
        self.validation
    }

    pub(super) fn classifier(&self) -> Option<&TextClassifier> {
        self.classifier.as_ref()
    }

    pub fn is_empty(&self) -> bool {
        self.tables.by_service.is_empty()
    }
}

/// Cases as live requests are routed, with who handled them.
fn live<'a>(cases: &'a [&'a HandledCase]) -> impl Iterator<Item = (RouteQuery<'a>, &'a str)> {
    cases
        .iter()
        .map(|c| (c.live_query(), c.department.as_str()))
}

impl MajorityTables {
    /// The majority at each level from `(case, department)` pairs; the
    /// sub-type levels stay empty when the queries carry none.
    pub fn learn<'a>(cases: impl IntoIterator<Item = (RouteQuery<'a>, &'a str)>) -> Self {
        type Counts = BTreeMap<String, BTreeMap<String, u64>>;
        let (mut sub_district, mut sub, mut district, mut service) =
            (Counts::new(), Counts::new(), Counts::new(), Counts::new());
        let count = |table: &mut Counts, key: String, department: &str| {
            *table
                .entry(key)
                .or_default()
                .entry(department.to_owned())
                .or_default() += 1;
        };
        for (q, d) in cases {
            if let Some(key) = subtype_district_key(&q) {
                count(&mut sub_district, key, d);
            }
            if let Some(key) = subtype_key(&q) {
                count(&mut sub, key, d);
            }
            if let Some(key) = district_key(&q) {
                count(&mut district, key, d);
            }
            count(&mut service, q.service.to_owned(), d);
        }
        let majority = |table: Counts| -> BTreeMap<String, String> {
            table
                .into_iter()
                .filter_map(|(key, counts)| Some((key, most_common(&counts)?)))
                .collect()
        };
        Self {
            by_subtype_district: majority(sub_district),
            by_subtype: majority(sub),
            by_district: majority(district),
            by_service: majority(service),
        }
    }

    /// Sub-type × district, sub-type, service × district, service: the most
    /// detailed level history has seen.
    pub fn department(&self, query: &RouteQuery<'_>) -> Option<&str> {
        subtype_district_key(query)
            .and_then(|k| self.by_subtype_district.get(&k))
            .or_else(|| subtype_key(query).and_then(|k| self.by_subtype.get(&k)))
            .or_else(|| self.by_service_and_district(query))
            .map(String::as_str)
    }

    /// The baseline of earlier releases: service × district, else service.
    pub fn service_and_district(&self, query: &RouteQuery<'_>) -> Option<&str> {
        self.by_service_and_district(query).map(String::as_str)
    }

    /// The plainest baseline: the most common department for the service.
    pub fn service_default(&self, service: &str) -> Option<&str> {
        self.by_service.get(service).map(String::as_str)
    }

    fn by_service_and_district(&self, query: &RouteQuery<'_>) -> Option<&String> {
        district_key(query)
            .and_then(|k| self.by_district.get(&k))
            .or_else(|| self.by_service.get(query.service))
    }
}

fn subtype_key(q: &RouteQuery<'_>) -> Option<String> {
    let subtype = fold(q.subtype?.trim());
    (!subtype.is_empty()).then(|| format!("{}{SEP}{subtype}", q.service))
}

fn subtype_district_key(q: &RouteQuery<'_>) -> Option<String> {
    Some(format!("{}{SEP}{}", subtype_key(q)?, q.district?))
}

fn district_key(q: &RouteQuery<'_>) -> Option<String> {
    Some(format!("{}{SEP}{}", q.service, q.district?))
}

/// The classifier's features: the words, and tags for each value and the
/// combinations a department's remit is drawn by (no sub-type: a live
/// request has none).
fn features(extractor: &mut FeatureExtractor, q: &RouteQuery<'_>) -> FeatureCounts {
    let mut tags = vec![format!("service={}", q.service)];
    if let Some(d) = q.district {
        tags.push(format!("district={d}"));
        tags.push(format!("service×district={}|{d}", q.service));
    }
    if let Some(at) = q.received_at {
        let utc = at.to_zoned(jiff::tz::TimeZone::UTC);
        let block = utc.hour() / 4;
        let weekend = utc.weekday().to_monday_one_offset() >= 6;
        tags.push(format!("hours={block}"));
        tags.push(format!("weekend={weekend}"));
        tags.push(format!("service×hours={}|{block}", q.service));
    }
    extractor.extract_tagged(q.text, tags.iter().map(String::as_str))
}

fn fit_classifier(cases: &[&HandledCase]) -> Option<TextClassifier> {
    let mut extractor = FeatureExtractor::default();
    let labelled: Vec<(FeatureCounts, &str)> = cases
        .iter()
        .map(|c| {
            (
                features(&mut extractor, &c.live_query()),
                c.department.as_str(),
            )
        })
        .collect();
    let options = TrainingOptions {
        max_features: ROUTING_FEATURES,
        ..TrainingOptions::default()
    };
    train_on_features(&labelled, &options).ok()
}

fn predict(
    classifier: &TextClassifier,
    extractor: &mut FeatureExtractor,
    query: &RouteQuery<'_>,
) -> Option<String> {
    classifier
        .top_of(&features(extractor, query), 1)
        .into_iter()
        .next()
        .map(|c| c.label.to_owned())
}

/// Highest count; ties go to the alphabetically first name (deterministic).
fn most_common(counts: &BTreeMap<String, u64>) -> Option<String> {
    counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(d, _)| d.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(service: &str, district: Option<&str>, department: &str) -> HandledCase {
        HandledCase {
            service: service.into(),
            subtype: None,
            text: String::new(),
            district: district.map(Into::into),
            received_at: None,
            department: department.into(),
        }
    }

    fn query<'a>(service: &'a str, district: Option<&'a str>) -> RouteQuery<'a> {
        RouteQuery {
            service,
            subtype: None,
            text: "",
            district,
            received_at: None,
        }
    }

    #[test]
    fn district_specific_route_beats_the_service_default() {
        let cases = [
            case("graffiti", Some("north"), "parks"),
            case("graffiti", Some("north"), "parks"),
            case("graffiti", Some("south"), "sanitation"),
            case("graffiti", Some("south"), "sanitation"),
            case("graffiti", Some("south"), "sanitation"),
            case("graffiti", None, "sanitation"),
        ];
        let routes = LearnedRoutes::learn(&cases);
        let at = |d| routes.department(&query("graffiti", d));
        assert_eq!(at(Some("north")).as_deref(), Some("parks"));
        assert_eq!(at(Some("south")).as_deref(), Some("sanitation"));
        assert_eq!(at(Some("east")).as_deref(), Some("sanitation"));
        assert_eq!(
            routes.tables().service_default("graffiti"),
            Some("sanitation")
        );
        assert_eq!(routes.department(&query("noise", None)), None);
        assert_eq!(routes.learner(), RouteLearner::MajorityTables);
    }

    #[test]
    fn the_subtype_decides_in_history_and_the_words_decide_live() {
        // Within one service, the export's sub-type says who handles it.
        let mut cases = Vec::new();
        for i in 0..600 {
            let (subtype, department) = if i % 3 == 0 {
                ("Street light out", "lighting")
            } else {
                ("Pothole", "roads")
            };
            cases.push(HandledCase {
                subtype: Some(subtype.into()),
                text: format!("{subtype} near the school"),
                ..case(
                    "street-condition",
                    Some(["north", "south"][i % 2]),
                    department,
                )
            });
        }
        // The baseline with the export's column: right every time.
        let history =
            MajorityTables::learn(cases.iter().map(|c| (c.query(), c.department.as_str())));
        let light = RouteQuery {
            subtype: Some("street light OUT"),
            text: "street light out",
            ..query("street-condition", Some("north"))
        };
        assert_eq!(history.department(&light), Some("lighting"));
        // Live, there is no sub-type: the tables know only the service, so
        // the classifier, reading the words, is chosen.
        let routes = LearnedRoutes::learn(&cases);
        let live = RouteQuery {
            subtype: None,
            ..light
        };
        assert_eq!(routes.tables().department(&live), Some("roads"));
        assert_eq!(routes.learner(), RouteLearner::DepartmentClassifier);
        assert_eq!(routes.department(&live).as_deref(), Some("lighting"));
        let (tables, classifier) = routes.validation().unwrap();
        assert!(tables < 0.7 && classifier > 0.95, "{tables} {classifier}");
    }

    #[test]
    fn the_classifier_answers_when_words_tell_more_than_the_tables() {
        // No sub-type column: only the words tell lighting from roads, so the
        // tables (service × district) are right two times in three and the
        // classifier, reading the words, is kept.
        let mut cases = Vec::new();
        for i in 0..600 {
            let (text, department) = if i % 3 == 0 {
                ("lampa nie świeci, ciemno na ulicy", "lighting")
            } else {
                ("dziura w jezdni, uszkodzony asfalt", "roads")
            };
            cases.push(HandledCase {
                text: text.into(),
                ..case("street-condition", Some("north"), department)
            });
        }
        let routes = LearnedRoutes::learn(&cases);
        assert_eq!(routes.learner(), RouteLearner::DepartmentClassifier);
        let lamp = RouteQuery {
            text: "Lampa przy bloku nie świeci",
            ..query("street-condition", Some("north"))
        };
        assert_eq!(routes.department(&lamp).as_deref(), Some("lighting"));
        assert_eq!(routes.tables().department(&lamp), Some("roads"));
        // A service history never saw is not guessed from words.
        let unknown = RouteQuery {
            text: "lampa nie świeci",
            ..query("noise", Some("north"))
        };
        assert_eq!(routes.department(&unknown), None);
    }
}
