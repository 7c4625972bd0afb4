//! Fitting a [`TextClassifier`]: TF-IDF features, averaged stochastic gradient
//! descent on the softmax loss, then a temperature fitted on held-out rows so
//! that "0.8" means right about 80 % of the time.

use std::collections::{BTreeSet, HashMap};

use super::features::FeatureExtractor;
use super::text_classifier::{SparseVector, TextClassifier, logits, softmax_in_place, vectorise};
use crate::catalogue::Catalogue;

/// One labelled text: a past request's words and the service it turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingExample {
    pub text: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrainingOptions {
    /// Passes over the data; `None` picks by size (more passes for few rows).
    pub epochs: Option<u32>,
    pub learning_rate: f32,
    /// The most frequent features kept (by document frequency).
    pub max_features: usize,
    /// Features seen in fewer texts are dropped.
    pub min_document_frequency: u32,
    /// Seed of the shuffles, so a training run is reproducible.
    pub seed: u64,
}

impl Default for TrainingOptions {
    fn default() -> Self {
        Self {
            epochs: None,
            learning_rate: 0.5,
            max_features: 1 << 17,
            min_document_frequency: 1,
            seed: 311,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainingError {
    #[error("no training examples: import history or give the catalogue names and keywords")]
    NoExamples,
    #[error("only one label ({0}) in the training data: nothing to choose between")]
    OneLabel(String),
}

/// Below this many rows there is no held-out calibration and the temperature stays 1.
const MIN_ROWS_FOR_CALIBRATION: usize = 200;

pub fn train(
    examples: &[TrainingExample],
    options: &TrainingOptions,
) -> Result<TextClassifier, TrainingError> {
    let labels: Vec<String> = examples
        .iter()
        .map(|e| e.label.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    match labels.len() {
        0 => return Err(TrainingError::NoExamples),
        1 => return Err(TrainingError::OneLabel(labels[0].clone())),
        _ => {}
    }
    let label_index: HashMap<&str, usize> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i))
        .collect();
    let mut extractor = FeatureExtractor::default();
    let counts: Vec<_> = examples
        .iter()
        .map(|e| extractor.extract(&e.text))
        .collect();
    let (features, idf) = vocabulary(&counts, options);
    let rows: Vec<(SparseVector, usize)> = counts
        .iter()
        .zip(examples)
        .map(|(c, e)| (vectorise(&features, &idf, c), label_index[e.label.as_str()]))
        .collect();
    let epochs = options.epochs.unwrap_or(match rows.len() {
        0..1_000 => 60,
        1_000..20_000 => 15,
        _ => 6,
    });
    let temperature = if rows.len() >= MIN_ROWS_FOR_CALIBRATION {
        let (fit, held_out): (Vec<_>, Vec<_>) =
            rows.iter().enumerate().partition(|(i, _)| i % 10 != 0);
        let fit: Vec<_> = fit.into_iter().map(|(_, r)| r.clone()).collect();
        let held_out: Vec<_> = held_out.into_iter().map(|(_, r)| r.clone()).collect();
        let (w, b) = sgd(&fit, features.len(), labels.len(), epochs, options);
        fit_temperature(&w, &b, &held_out)
    } else {
        1.0
    };
    let (weights, bias) = sgd(&rows, features.len(), labels.len(), epochs, options);
    Ok(TextClassifier {
        labels,
        features,
        idf,
        weights,
        bias,
        temperature,
    })
}

/// Examples from a catalogue alone, for a city without history: each service's
/// names and keywords (and each keyword with the name), labelled with its code.
pub fn catalogue_examples(catalogue: &Catalogue) -> Vec<TrainingExample> {
    let mut out = Vec::new();
    for service in catalogue.services() {
        let label = service.code.as_str().to_owned();
        let names = [&service.name.pl, &service.name.en];
        let keywords = service.keywords.pl.iter().chain(&service.keywords.en);
        for text in names.iter().copied().chain(keywords.clone()) {
            out.push(TrainingExample {
                text: text.clone(),
                label: label.clone(),
            });
        }
        for keyword in keywords {
            for name in names {
                out.push(TrainingExample {
                    text: format!("{name} {keyword}"),
                    label: label.clone(),
                });
            }
        }
    }
    out
}

fn vocabulary(
    counts: &[super::features::FeatureCounts],
    options: &TrainingOptions,
) -> (Vec<u32>, Vec<f32>) {
    let mut document_frequency: HashMap<u32, u32> = HashMap::new();
    for c in counts {
        for (id, _) in &c.0 {
            *document_frequency.entry(*id).or_default() += 1;
        }
    }
    let mut kept: Vec<(u32, u32)> = document_frequency
        .into_iter()
        .filter(|(_, df)| *df >= options.min_document_frequency)
        .collect();
    if kept.len() > options.max_features {
        kept.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        kept.truncate(options.max_features);
    }
    kept.sort_unstable();
    let n = counts.len() as f32;
    let idf = kept
        .iter()
        .map(|(_, df)| ((1.0 + n) / (1.0 + *df as f32)).ln() + 1.0)
        .collect();
    (kept.into_iter().map(|(id, _)| id).collect(), idf)
}

/// Averaged SGD on the softmax loss; returns the averaged weights and bias.
fn sgd(
    rows: &[(SparseVector, usize)],
    n_features: usize,
    n_labels: usize,
    epochs: u32,
    options: &TrainingOptions,
) -> (Vec<f32>, Vec<f32>) {
    let mut w = vec![0.0f32; n_features * n_labels];
    let mut b = vec![0.0f32; n_labels];
    // Averaging trick: avg = w - u / c, with u accumulating c · update.
    let mut u = vec![0.0f32; n_features * n_labels];
    let mut ub = vec![0.0f32; n_labels];
    let mut c = 1.0f32;
    let mut order: Vec<usize> = (0..rows.len()).collect();
    let mut rng = SplitMix(options.seed);
    let lr = options.learning_rate;
    for _ in 0..epochs {
        for i in (1..order.len()).rev() {
            let j = (rng.next() % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        for &i in &order {
            let (x, y) = &rows[i];
            let mut p = logits(&w, &b, x);
            softmax_in_place(&mut p, 1.0);
            for (k, pk) in p.iter().enumerate() {
                let gradient = pk - if k == *y { 1.0 } else { 0.0 };
                if gradient.abs() < 1e-5 {
                    continue;
                }
                let step = -lr * gradient;
                b[k] += step;
                ub[k] += c * step;
                for &(row, value) in x {
                    let at = row as usize * n_labels + k;
                    w[at] += step * value;
                    u[at] += c * step * value;
                }
            }
            c += 1.0;
        }
    }
    for (wi, ui) in w.iter_mut().zip(&u) {
        *wi -= ui / c;
    }
    for (bi, ui) in b.iter_mut().zip(&ub) {
        *bi -= ui / c;
    }
    (w, b)
}

/// The temperature (on a log grid) with the least negative log-likelihood.
fn fit_temperature(w: &[f32], b: &[f32], held_out: &[(SparseVector, usize)]) -> f32 {
    let all_logits: Vec<(Vec<f32>, usize)> = held_out
        .iter()
        .map(|(x, y)| (logits(w, b, x), *y))
        .collect();
    let mut best = (f64::INFINITY, 1.0f32);
    for step in -20..=20 {
        let t = 10f32.powf(step as f32 / 20.0);
        let nll: f64 = all_logits
            .iter()
            .map(|(l, y)| {
                let mut p = l.clone();
                softmax_in_place(&mut p, t);
                -f64::from(p[*y].max(1e-12)).ln()
            })
            .sum();
        if nll < best.0 {
            best = (nll, t);
        }
    }
    best.1
}

/// A small seeded generator for shuffles (no dependency, reproducible).
pub(super) struct SplitMix(pub u64);

impl SplitMix {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::tests::catalogue;

    fn example(text: &str, label: &str) -> TrainingExample {
        TrainingExample {
            text: text.into(),
            label: label.into(),
        }
    }

    #[test]
    fn catalogue_alone_classifies_polish_and_english_free_text() {
        let model = train(
            &catalogue_examples(&catalogue()),
            &TrainingOptions::default(),
        )
        .unwrap();
        let mut x = FeatureExtractor::default();
        let polish = model.top(
            &mut x,
            "Na ulicy Długiej przy szkole jest ogromna dziura w jezdni",
            3,
        );
        assert_eq!(polish[0].label, "pothole", "{polish:?}");
        assert!(polish[0].probability > 0.5, "{polish:?}");
        assert_eq!(polish.len(), model.labels().len().min(3));
        assert!(polish[0].probability >= polish[1].probability);
        let english = model
            .best(&mut x, "There is a huge pothole outside the school")
            .unwrap();
        assert_eq!(english.label, "pothole");
        let tree = model
            .best(&mut x, "Wielka gałąź spadła na chodnik")
            .unwrap();
        assert_eq!(tree.label, "fallen-tree");
    }

    #[test]
    fn learns_from_history_and_is_reproducible() {
        let mut rows = Vec::new();
        for i in 0..150 {
            rows.push(example(&format!("loud music party {i}"), "noise"));
            rows.push(example(&format!("car blocking driveway {i}"), "parking"));
            rows.push(example(&format!("no heat in apartment {i}"), "heat"));
        }
        let a = train(&rows, &TrainingOptions::default()).unwrap();
        let b = train(&rows, &TrainingOptions::default()).unwrap();
        assert_eq!(a, b);
        let mut x = FeatureExtractor::default();
        assert_eq!(
            a.best(&mut x, "party with loud music").unwrap().label,
            "noise"
        );
        assert_eq!(a.best(&mut x, "the heat is off").unwrap().label, "heat");
        assert!(a.temperature() > 0.0);
        let probabilities: f64 = a
            .top(&mut x, "driveway", 3)
            .iter()
            .map(|c| c.probability)
            .sum();
        assert!((probabilities - 1.0).abs() < 1e-4);
    }

    #[test]
    fn refuses_data_with_nothing_to_learn() {
        assert_eq!(
            train(&[], &TrainingOptions::default()),
            Err(TrainingError::NoExamples)
        );
        assert!(matches!(
            train(
                &[example("a", "x"), example("b", "x")],
                &TrainingOptions::default()
            ),
            Err(TrainingError::OneLabel(_))
        ));
    }
}
