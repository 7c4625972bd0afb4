//! Fitting a [`TextClassifier`]: TF-IDF features, averaged stochastic gradient
//! descent on the softmax loss, then a temperature fitted on held-out rows so
//! that "0.8" means right about 80 % of the time.

use std::collections::{BTreeSet, HashMap};

use super::features::{FeatureCounts, FeatureExtractor};
use super::model_selection::{Settings, choose_settings};
use super::text_classifier::{
    BlockWeights, SparseVector, TextClassifier, logits, softmax_in_place, vectorise,
};
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
    /// Strength of the L2 penalty per example; `None`: chosen by 5-fold
    /// cross-validation on the training rows themselves (macro-F1), among
    /// [`L2_TIMES_ROWS_CANDIDATES`](super::model_selection::L2_TIMES_ROWS_CANDIDATES)
    /// / rows, so every city gets its own.
    pub l2: Option<f32>,
    /// How the feature blocks are weighed; `None`: chosen by the same
    /// cross-validation among
    /// [`BLOCK_CANDIDATES`](super::model_selection::BLOCK_CANDIDATES).
    pub blocks: Option<BlockWeights>,
}

impl Default for TrainingOptions {
    fn default() -> Self {
        Self {
            epochs: None,
            learning_rate: 0.5,
            // Weights are dense per feature: 32k features × 200 labels is 26 MB.
            max_features: 1 << 15,
            min_document_frequency: 1,
            seed: 311,
            l2: None,
            blocks: None,
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

/// From this many rows on, one held-out tenth calibrates; below, five folds.
const MIN_ROWS_FOR_CALIBRATION: usize = 200;

pub fn train(
    examples: &[TrainingExample],
    options: &TrainingOptions,
) -> Result<TextClassifier, TrainingError> {
    let mut extractor = FeatureExtractor::default();
    let labelled: Vec<(FeatureCounts, &str)> = examples
        .iter()
        .map(|e| (extractor.extract(&e.text), e.label.as_str()))
        .collect();
    train_on_features(&labelled, options)
}

/// [`train`] on features already extracted (texts with tags: the
/// department classifier of the learned routes).
pub fn train_on_features(
    labelled: &[(FeatureCounts, &str)],
    options: &TrainingOptions,
) -> Result<TextClassifier, TrainingError> {
    let labels: Vec<String> = labelled
        .iter()
        .map(|(_, label)| (*label).to_owned())
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
    let texts: Vec<(&FeatureCounts, usize)> = labelled
        .iter()
        .map(|(c, label)| (c, label_index[label]))
        .collect();
    let epochs = options.epochs.unwrap_or(match texts.len() {
        0..1_000 => 60,
        1_000..20_000 => 15,
        _ => 6,
    });
    let Settings {
        blocks,
        l2_times_rows,
    } = choose_settings(&texts, labels.len(), epochs, options);
    let (features, idf, rows) = vectorise_all(&texts, blocks, options);
    // Calibration: the temperature that makes predictions on rows the model
    // did not see as sure as they deserve. Large data: one held-out tenth.
    // Small data (a catalogue's names and keywords): five folds, every row
    // predicted once by a model that did not see it.
    let large = rows.len() >= MIN_ROWS_FOR_CALIBRATION;
    let folds = if large { 10 } else { 5 };
    let held_out_folds = if large { 1 } else { folds };
    let mut out_of_fold = Vec::new();
    for fold in 0..held_out_folds {
        let (fit, held_out): (Vec<_>, Vec<_>) = rows
            .iter()
            .enumerate()
            .partition(|(i, _)| i % folds != fold);
        let fit: Vec<_> = fit.into_iter().map(|(_, r)| r.clone()).collect();
        if held_out.is_empty() || fit.is_empty() {
            continue;
        }
        let (w, b) = sgd(
            &fit,
            features.len(),
            labels.len(),
            epochs,
            options,
            l2_times_rows,
        );
        out_of_fold.extend(
            held_out
                .into_iter()
                .map(|(_, (x, y))| (logits(&w, &b, x), *y)),
        );
    }
    let temperature = fit_temperature(&out_of_fold);
    let (weights, bias) = sgd(
        &rows,
        features.len(),
        labels.len(),
        epochs,
        options,
        l2_times_rows,
    );
    Ok(TextClassifier {
        labels,
        features,
        idf,
        blocks,
        weights,
        bias,
        temperature,
    })
}

/// The vocabulary of `texts` under `blocks` (its features and their IDF) and
/// every text's vector over it.
pub(super) fn vectorise_all(
    texts: &[(&FeatureCounts, usize)],
    blocks: BlockWeights,
    options: &TrainingOptions,
) -> (Vec<u32>, Vec<f32>, Vec<(SparseVector, usize)>) {
    let counts: Vec<&FeatureCounts> = texts.iter().map(|(c, _)| *c).collect();
    let (features, idf) = vocabulary(&counts, blocks, options);
    let rows = texts
        .iter()
        .map(|(c, label)| (vectorise(&features, &idf, blocks, c), *label))
        .collect();
    (features, idf, rows)
}

/// The label of texts that ask for no service ("please call me back"): what
/// the model gives it counts as doubt, as it is no service of the catalogue.
pub const NOT_A_SERVICE: &str = "_not_a_service";

/// Examples from a catalogue alone, for a city without history: each service's
/// names and keywords labelled with its code, and the catalogue's phrases that
/// ask for no service labelled [`NOT_A_SERVICE`].
pub fn catalogue_examples(catalogue: &Catalogue) -> Vec<TrainingExample> {
    let mut out = Vec::new();
    for service in catalogue.services() {
        let names = [&service.name.pl, &service.name.en];
        let keywords = service.keywords.pl.iter().chain(&service.keywords.en);
        for text in names.into_iter().chain(keywords) {
            out.push(TrainingExample {
                text: text.clone(),
                label: service.code.as_str().to_owned(),
            });
        }
    }
    let phrases = &catalogue.document().classification.not_a_service;
    for text in phrases.pl.iter().chain(&phrases.en) {
        out.push(TrainingExample {
            text: text.clone(),
            label: NOT_A_SERVICE.to_owned(),
        });
    }
    out
}

/// The features of the blocks used, at most `max_features` (the most
/// frequent), with their smoothed IDF.
fn vocabulary(
    counts: &[&FeatureCounts],
    blocks: BlockWeights,
    options: &TrainingOptions,
) -> (Vec<u32>, Vec<f32>) {
    let mut document_frequency: HashMap<u32, u32> = HashMap::new();
    for c in counts {
        for (id, _) in c.0.iter().filter(|(id, _)| blocks.uses(*id)) {
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

/// SGD on the L2-regularised softmax loss; returns the weights and bias
/// averaged over the second half of the epochs.
///
/// The penalty keeps weights finite on separable data (a catalogue's keywords
/// always are), so a text with one stray matching n-gram is not "certain". It
/// is applied lazily: the weights are `scale · v`, and decaying them is one
/// multiplication of `scale` per step.
pub(super) fn sgd(
    rows: &[(SparseVector, usize)],
    n_features: usize,
    n_labels: usize,
    epochs: u32,
    options: &TrainingOptions,
    l2_times_rows: f32,
) -> (Vec<f32>, Vec<f32>) {
    let mut v = vec![0.0f32; n_features * n_labels];
    let mut b = vec![0.0f32; n_labels];
    // f64: with a million rows `1 - lr · l2` is too close to 1 for f32.
    let mut scale = 1.0f64;
    let mut avg_w = vec![0.0f32; n_features * n_labels];
    let mut avg_b = vec![0.0f32; n_labels];
    let mut averaged = 0.0f32;
    let mut order: Vec<usize> = (0..rows.len()).collect();
    let mut rng = SplitMix(options.seed);
    let lr = options.learning_rate;
    let l2 = f64::from(
        options
            .l2
            .unwrap_or(l2_times_rows / rows.len().max(1) as f32),
    );
    let decay = (1.0 - f64::from(lr) * l2).max(0.5);
    let mut p = vec![0.0f32; n_labels];
    for epoch in 0..epochs {
        for i in (1..order.len()).rev() {
            let j = (rng.next() % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        for &i in &order {
            let (x, y) = &rows[i];
            p.copy_from_slice(&b);
            let current = scale as f32;
            for &(row, value) in x {
                let start = row as usize * n_labels;
                for (pk, vk) in p.iter_mut().zip(&v[start..start + n_labels]) {
                    *pk += current * value * vk;
                }
            }
            softmax_in_place(&mut p, 1.0);
            scale *= decay;
            let current = scale as f32;
            for (k, pk) in p.iter().enumerate() {
                let gradient = pk - if k == *y { 1.0 } else { 0.0 };
                if gradient.abs() < 1e-5 {
                    continue;
                }
                let step = -lr * gradient;
                b[k] += step;
                for &(row, value) in x {
                    v[row as usize * n_labels + k] += step * value / current;
                }
            }
            if scale < 1e-6 {
                for vi in &mut v {
                    *vi *= current;
                }
                scale = 1.0;
            }
        }
        if epoch >= epochs / 2 {
            let current = scale as f32;
            for (a, vi) in avg_w.iter_mut().zip(&v) {
                *a += current * vi;
            }
            for (a, bi) in avg_b.iter_mut().zip(&b) {
                *a += bi;
            }
            averaged += 1.0;
        }
    }
    if averaged > 0.0 {
        for a in avg_w.iter_mut().chain(avg_b.iter_mut()) {
            *a /= averaged;
        }
    }
    (avg_w, avg_b)
}

/// The temperature (on a log grid) with the least negative log-likelihood of
/// out-of-sample predictions; 1 when there are none.
fn fit_temperature(all_logits: &[(Vec<f32>, usize)]) -> f32 {
    if all_logits.is_empty() {
        return 1.0;
    }
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
pub(crate) mod tests {
    use super::*;
    use crate::catalogue::tests::catalogue;
    use crate::learning::features::Block;
    use crate::learning::text_classifier::BlockWeights;

    fn example(text: &str, label: &str) -> TrainingExample {
        TrainingExample {
            text: text.into(),
            label: label.into(),
        }
    }

    /// Two services told apart by one phrase each, with noise words shared.
    pub(crate) fn two_services(rows: usize) -> Vec<TrainingExample> {
        let mut examples = Vec::new();
        for i in 0..rows / 2 {
            let noise = ["ulica", "przy", "szkole", "rano"][i % 4];
            examples.push(example(&format!("dziura w jezdni {noise}"), "pothole"));
            examples.push(example(
                &format!("latarnia nie świeci {noise}"),
                "streetlight",
            ));
        }
        examples
    }

    #[test]
    fn a_block_weighed_zero_is_not_in_the_model() {
        let examples = two_services(240);
        let words = train(
            &examples,
            &TrainingOptions {
                blocks: Some(BlockWeights::WORDS_ONLY),
                ..TrainingOptions::default()
            },
        )
        .unwrap();
        // dziura jezdni latarnia nie świeci + 4 noise words ("w" is too
        // short for a word feature), 1 + 2 pairs inside the phrases, 2 × 4
        // pairs with the noise words.
        assert_eq!(words.feature_count(), 9 + 3 + 8);
        assert!(
            words
                .features
                .iter()
                .all(|id| Block::of(*id) == Block::Words)
        );
        let both = train(&examples, &TrainingOptions::default()).unwrap();
        assert!(both.feature_count() > words.feature_count());
        let mut x = FeatureExtractor::default();
        assert_eq!(words.best(&mut x, "dziura").unwrap().label, "pothole");
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
