//! `citydesk train` and `citydesk evaluate`: a city's classifier and learned
//! routes from its imported history (and its catalogue's names and keywords),
//! stored as a versioned model; and the same fit scored on held-out history.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use citydesk_aws::s3::{S3Blobs, catalogue_key};
use citydesk_core::catalogue::Catalogue;
use citydesk_core::learning::artifact::Model;
use citydesk_core::learning::evaluation::{Evaluation, evaluate, is_held_out};
use citydesk_core::learning::features::FeatureExtractor;
use citydesk_core::learning::routing_table::{
    HandledCase, LearnedRoutes, MajorityTables, RouteLearner,
};
use citydesk_core::learning::text_classifier::TextClassifier;
use citydesk_core::learning::training::{
    TrainingExample, TrainingOptions, catalogue_examples, train,
};
use citydesk_history::HistoricalRequest;
use tokio::io::AsyncBufReadExt;

use crate::history_import::HISTORY_PREFIX;

/// What training keeps of a past request.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    pub source_id: String,
    pub text: String,
    pub label: String,
    pub department: Option<String>,
    pub district: Option<String>,
    pub subtype: Option<String>,
    pub created_at: Option<jiff::Timestamp>,
}

/// Old categories and departments renamed to the catalogue's codes, from a
/// TOML file: `[labels]` then `"Noise - Residential" = "noise"`, and
/// `[departments]` then `"Public Works Department" = "roads"` (so routes
/// learned from history name the catalogue's departments).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelMap {
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    departments: BTreeMap<String, String>,
}

impl LabelMap {
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("{}", path.display()))
    }

    pub fn apply(&self, label: String) -> String {
        self.labels.get(&label).cloned().unwrap_or(label)
    }

    pub fn department(&self, department: String) -> String {
        self.departments
            .get(&department)
            .cloned()
            .unwrap_or(department)
    }
}

/// Every imported row of the city (up to `max_rows`), read line by line from the bucket.
pub async fn load_history(
    blobs: &S3Blobs,
    city: &str,
    labels: &LabelMap,
    max_rows: usize,
) -> anyhow::Result<Vec<HistoryRow>> {
    let mut rows = Vec::new();
    for_each_record(blobs, city, |record| {
        if !record.text.trim().is_empty() {
            rows.push(HistoryRow {
                source_id: record.source_id,
                text: record.text,
                label: labels.apply(record.service),
                department: record.department.map(|d| labels.department(d)),
                district: record.district,
                subtype: record.subtype,
                created_at: record.created_at,
            });
        }
        rows.len() < max_rows
    })
    .await?;
    Ok(rows)
}

/// Streams every imported record of the city, file by file in key order, line
/// by line; stops when `each` returns `false`. Returns the records seen.
pub async fn for_each_record(
    blobs: &S3Blobs,
    city: &str,
    mut each: impl FnMut(HistoricalRequest) -> bool,
) -> anyhow::Result<u64> {
    let mut seen = 0u64;
    let prefix = format!("{HISTORY_PREFIX}/{city}/");
    for key in blobs.list(&prefix).await? {
        if !key.ends_with(".jsonl") {
            continue;
        }
        let Some(reader) = blobs.open(&key).await? else {
            continue;
        };
        let mut lines = reader.lines();
        let mut line_number = 0u64;
        while let Some(line) = lines
            .next_line()
            .await
            .with_context(|| format!("reading {key}"))?
        {
            line_number += 1;
            let record: HistoricalRequest = serde_json::from_str(&line)
                .with_context(|| format!("{key} line {line_number} is not an imported record"))?;
            seen += 1;
            if !each(record) {
                return Ok(seen);
            }
        }
    }
    Ok(seen)
}

/// Operators' triage choices for the city (`training/{city}/operator/`).
pub async fn load_operator_examples(
    blobs: &S3Blobs,
    city: &str,
) -> anyhow::Result<Vec<HistoryRow>> {
    let mut rows = Vec::new();
    for key in blobs.list(&format!("training/{city}/operator/")).await? {
        let Some(bytes) = blobs.get(&key).await? else {
            continue;
        };
        let example: citydesk_core::ports::OperatorExample = serde_json::from_slice(&bytes)
            .with_context(|| format!("{key} is not an operator's training example"))?;
        rows.push(HistoryRow {
            source_id: example.request_id.to_string(),
            text: example.text,
            label: example.service_code.to_string(),
            department: None,
            district: None,
            subtype: None,
            created_at: None,
        });
    }
    Ok(rows)
}

/// The city's catalogue, if it was published to this bucket.
pub async fn load_catalogue(blobs: &S3Blobs, city: &str) -> anyhow::Result<Option<Catalogue>> {
    let Some(bytes) = blobs.get(&catalogue_key(&city.parse_city()?)).await? else {
        return Ok(None);
    };
    Ok(Some(
        Catalogue::from_json(&bytes).with_context(|| format!("catalogue of {city}"))?,
    ))
}

trait ParseCity {
    fn parse_city(&self) -> anyhow::Result<citydesk_core::ids::JurisdictionId>;
}

impl ParseCity for str {
    fn parse_city(&self) -> anyhow::Result<citydesk_core::ids::JurisdictionId> {
        citydesk_core::ids::JurisdictionId::parse(self)
            .map_err(|e| anyhow::anyhow!("--city {self:?}: {e}"))
    }
}

fn examples(rows: &[&HistoryRow]) -> Vec<TrainingExample> {
    rows.iter()
        .map(|r| TrainingExample {
            text: r.text.clone(),
            label: r.label.clone(),
        })
        .collect()
}

fn handled(rows: &[&HistoryRow]) -> Vec<HandledCase> {
    rows.iter()
        .filter_map(|r| {
            Some(HandledCase {
                service: r.label.clone(),
                subtype: r.subtype.clone(),
                text: r.text.clone(),
                district: r.district.clone(),
                received_at: r.created_at,
                department: r.department.clone()?,
            })
        })
        .collect()
}

#[derive(Debug)]
pub struct TrainReport {
    pub model: Model,
    pub stored_as: String,
    pub seconds: f64,
    /// History labels that are not services of the catalogue (never predicted for it).
    pub labels_outside_catalogue: Vec<String>,
    /// Operators' triage choices learned from.
    pub operator_examples: usize,
    /// Whether the city's catalogue is published in this bucket.
    pub catalogue_found: bool,
}

/// Fits the city's model from all its history plus its catalogue and makes it current.
pub async fn train_city(
    blobs: &S3Blobs,
    city: &str,
    labels: &LabelMap,
    max_rows: usize,
) -> anyhow::Result<TrainReport> {
    let mut history = load_history(blobs, city, labels, max_rows).await?;
    let operator_examples = load_operator_examples(blobs, city).await?;
    let operator_count = operator_examples.len();
    history.extend(operator_examples);
    let catalogue = load_catalogue(blobs, city).await?;
    let all: Vec<&HistoryRow> = history.iter().collect();
    let mut training = examples(&all);
    let from_catalogue = catalogue
        .as_ref()
        .map(catalogue_examples)
        .unwrap_or_default();
    let catalogue_count = from_catalogue.len();
    training.extend(from_catalogue);
    if training.is_empty() {
        anyhow::bail!(
            "nothing to learn for {city}: no imported history (run `citydesk import`) and no published catalogue"
        );
    }
    let started = Instant::now();
    let classifier = train(&training, &TrainingOptions::default())?;
    let seconds = started.elapsed().as_secs_f64();
    let labels_outside_catalogue = match &catalogue {
        Some(c) => classifier
            .labels()
            .iter()
            .filter(|l| l.as_str() != citydesk_core::learning::training::NOT_A_SERVICE)
            .filter(|l| {
                citydesk_core::ids::ServiceCode::parse(l)
                    .ok()
                    .and_then(|code| c.service(&code))
                    .is_none()
            })
            .cloned()
            .collect(),
        None => Vec::new(),
    };
    let model = Model {
        jurisdiction: city.to_owned(),
        version: jiff::Timestamp::now()
            .strftime("%Y%m%dT%H%M%SZ")
            .to_string(),
        history_examples: (history.len() - operator_count) as u64,
        catalogue_examples: catalogue_count as u64,
        classifier,
        routes: LearnedRoutes::learn(&handled(&all)),
    };
    let stored_as = blobs.publish_model(&model).await?;
    Ok(TrainReport {
        model,
        stored_as,
        seconds,
        labels_outside_catalogue,
        operator_examples: operator_count,
        catalogue_found: catalogue.is_some(),
    })
}

#[derive(Debug)]
pub struct EvaluationReport {
    pub train_rows: usize,
    pub test_rows: usize,
    pub labels: usize,
    pub training_seconds: f64,
    pub micros_per_text: f64,
    pub classification: Evaluation,
    /// Held-out rows with a department; `None` when the history names none.
    pub routing: Option<RoutingEvaluation>,
}

/// Learned routing on held-out rows beside the majority baselines.
#[derive(Debug)]
pub struct RoutingEvaluation {
    pub rows: usize,
    /// Which learner the training rows chose.
    pub learner: RouteLearner,
    /// Its choice: (tables, classifier) right on a fifth of the training rows.
    pub validation: Option<(f64, f64)>,
    pub seconds: f64,
    pub learned: f64,
    /// Majority over sub-type × district (then sub-type, service × district,
    /// service): reads the export's sub-type column, which live requests lack.
    pub subtype_district: f64,
    /// Majority over service × district (then service): earlier releases.
    pub service_district: f64,
    /// The most common department for the service.
    pub service: f64,
}

/// Trains on four fifths of the history and scores the held-out fifth.
pub async fn evaluate_city(
    blobs: &S3Blobs,
    city: &str,
    labels: &LabelMap,
    max_rows: usize,
    export_split: Option<&Path>,
) -> anyhow::Result<EvaluationReport> {
    let history = load_history(blobs, city, labels, max_rows).await?;
    let (test, train_rows): (Vec<&HistoryRow>, Vec<&HistoryRow>) =
        history.iter().partition(|r| is_held_out(&r.source_id));
    if train_rows.is_empty() || test.is_empty() {
        anyhow::bail!(
            "{city} has {} imported rows with text: too few to hold a fifth out (import history first)",
            history.len()
        );
    }
    if let Some(dir) = export_split {
        export(dir, "train.csv", &train_rows)?;
        export(dir, "test.csv", &test)?;
    }
    let started = Instant::now();
    let classifier = train(&examples(&train_rows), &TrainingOptions::default())?;
    let training_seconds = started.elapsed().as_secs_f64();
    let (classification, micros_per_text) = score(&classifier, &test);
    let started = Instant::now();
    let routes = LearnedRoutes::learn(&handled(&train_rows));
    let routing_seconds = started.elapsed().as_secs_f64();
    let held_out_cases = handled(&test);
    let routing = (!held_out_cases.is_empty()).then(|| {
        let share = |pick: &dyn Fn(&HandledCase) -> Option<String>| {
            held_out_cases
                .iter()
                .filter(|c| pick(c).as_deref() == Some(c.department.as_str()))
                .count() as f64
                / held_out_cases.len() as f64
        };
        let tables = routes.tables();
        // The baseline that reads the export's sub-type column (a live
        // request has none), learned from the same training rows.
        let train_cases = handled(&train_rows);
        let history_tables = MajorityTables::learn(
            train_cases
                .iter()
                .map(|c| (c.query(), c.department.as_str())),
        );
        RoutingEvaluation {
            rows: held_out_cases.len(),
            learner: routes.learner(),
            validation: routes.validation(),
            seconds: routing_seconds,
            learned: share(&|c| routes.department(&c.live_query())),
            subtype_district: share(&|c| history_tables.department(&c.query()).map(str::to_owned)),
            service_district: share(&|c| {
                tables
                    .service_and_district(&c.live_query())
                    .map(str::to_owned)
            }),
            service: share(&|c| tables.service_default(&c.service).map(str::to_owned)),
        }
    });
    Ok(EvaluationReport {
        train_rows: train_rows.len(),
        test_rows: test.len(),
        labels: classifier.labels().len(),
        training_seconds,
        micros_per_text,
        classification,
        routing,
    })
}

fn score(classifier: &TextClassifier, test: &[&HistoryRow]) -> (Evaluation, f64) {
    let mut extractor = FeatureExtractor::default();
    let started = Instant::now();
    let predictions: Vec<String> = test
        .iter()
        .map(|r| {
            classifier
                .best(&mut extractor, &r.text)
                .map(|c| c.label.to_owned())
                .unwrap_or_default()
        })
        .collect();
    let micros = started.elapsed().as_secs_f64() * 1e6 / test.len().max(1) as f64;
    let evaluation = evaluate(
        test.iter()
            .zip(&predictions)
            .map(|(r, p)| (r.label.as_str(), p.as_str())),
        5,
    );
    (evaluation, micros)
}

/// `text,label` CSV for the scikit-learn baseline (infra/bench/quality).
fn export(dir: &Path, name: &str, rows: &[&HistoryRow]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(name);
    let mut out = csv::Writer::from_path(&path).with_context(|| format!("{}", path.display()))?;
    out.write_record(["text", "label"])?;
    for r in rows {
        out.write_record([r.text.as_str(), r.label.as_str()])?;
    }
    out.flush()?;
    Ok(())
}

impl EvaluationReport {
    pub fn render(&self, city: &str) -> String {
        let c = &self.classification;
        let mut out = vec![
            format!(
                "held-out evaluation for {city}: {} training rows, {} held-out rows (ids hashing to 0 mod 5), {} labels",
                self.train_rows, self.test_rows, self.labels
            ),
            format!(
                "classification: accuracy {:.3}, macro-F1 {:.3} (trained in {:.2} s; {:.1} µs per text)",
                c.accuracy, c.macro_f1, self.training_seconds, self.micros_per_text
            ),
        ];
        if !c.confused.is_empty() {
            out.push("most confused (true → predicted, held-out rows):".into());
            for (truth, predicted, n) in &c.confused {
                out.push(format!("  {n:>5}  {truth} → {predicted}"));
            }
        }
        match &self.routing {
            Some(r) => {
                let learner = match r.learner {
                    RouteLearner::DepartmentClassifier => "department classifier",
                    RouteLearner::MajorityTables => "majority tables",
                };
                let chosen = r.validation.map_or(String::new(), |(tables, classifier)| {
                    format!(
                        ", chosen on a fifth of the training rows: tables {tables:.3}, classifier {classifier:.3}"
                    )
                });
                out.push(format!(
                    "routing on {} held-out rows with a department: learned routes {:.3} ({learner}{chosen}; learned in {:.2} s)",
                    r.rows, r.learned, r.seconds
                ));
                out.push(format!(
                    "  baselines: majority by sub-type × district {:.3} (the export's sub-type column, which a live request does not have), by service × district {:.3}, most common department for the service {:.3}",
                    r.subtype_district, r.service_district, r.service
                ));
            }
            None => out.push("routing: the history names no departments".into()),
        }
        out.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_map_renames_categories_and_departments_and_refuses_typos() {
        let map: LabelMap = toml::from_str(
            "[labels]\n\"Noise - Residential\" = \"noise\"\n[departments]\nNYPD = \"city-guard\"\n",
        )
        .unwrap();
        assert_eq!(map.apply("Noise - Residential".into()), "noise");
        assert_eq!(map.apply("Rodent".into()), "Rodent");
        assert_eq!(map.department("NYPD".into()), "city-guard");
        assert!(toml::from_str::<LabelMap>("[label]\nx = \"y\"\n").is_err());
    }
}
