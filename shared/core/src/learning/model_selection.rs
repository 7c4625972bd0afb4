//! Choosing a classifier's settings on the training rows themselves: which
//! feature blocks to use and how strong the L2 penalty is, by 5-fold
//! cross-validation (macro-F1), so every city gets its own and the test rows
//! are never seen before the final score.

use std::collections::BTreeMap;

use super::features::FeatureCounts;
use super::text_classifier::{BlockWeights, SparseVector, logits};
use super::training::{TrainingOptions, sgd, vectorise_all};

/// The L2 penalty times the number of rows used without cross-validation
/// (too few rows to split): scikit-learn's `C = 10`.
pub(super) const DEFAULT_L2_TIMES_ROWS: f32 = 0.1;

/// What cross-validation chooses from (the L2 penalty times the number of
/// rows; scikit-learn's C is its inverse): the default first, so it wins ties.
pub const L2_TIMES_ROWS_CANDIDATES: [f32; 5] = [0.1, 0.03, 0.3, 0.01, 1.0];
/// What cross-validation chooses the block weights from: both blocks first,
/// so they win ties (and are used without cross-validation).
pub const BLOCK_CANDIDATES: [BlockWeights; 3] = [
    BlockWeights::BOTH,
    BlockWeights::WORDS_ONLY,
    BlockWeights::CHARS_ONLY,
];
const CV_FOLDS: usize = 5;
/// Scores closer than this are equal (one row of 20,000 moves macro-F1 more).
const TIE: f64 = 1e-9;
/// Below this many rows nothing is cross-validated: five folds of fewer
/// rows say nothing (a small catalogue's names and keywords alone).
const MIN_CV_ROWS: usize = 50;
/// Cross-validation reads at most this many rows (every n-th), so a
/// million-row history trains in minutes, not hours.
const MAX_CV_ROWS: usize = 20_000;

/// What cross-validation chose (or the options fixed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Settings {
    pub blocks: BlockWeights,
    pub l2_times_rows: f32,
}

/// The block weights and the penalty (times rows) with the best mean
/// macro-F1 over [`CV_FOLDS`]-fold cross-validation on `texts` (every n-th of
/// them above [`MAX_CV_ROWS`]): first the blocks at the default penalty, then
/// the penalty for the blocks chosen. What the options fix is not searched;
/// below [`MIN_CV_ROWS`] nothing is, and the defaults are used.
pub(super) fn choose_settings(
    texts: &[(&FeatureCounts, usize)],
    n_labels: usize,
    epochs: u32,
    options: &TrainingOptions,
) -> Settings {
    let mut best = Settings {
        blocks: options.blocks.unwrap_or(BLOCK_CANDIDATES[0]),
        l2_times_rows: DEFAULT_L2_TIMES_ROWS,
    };
    let search_blocks = options.blocks.is_none();
    let search_l2 = options.l2.is_none();
    if texts.len() < MIN_CV_ROWS || !(search_blocks || search_l2) {
        return best;
    }
    let step = texts.len().div_ceil(MAX_CV_ROWS);
    let sample: Vec<(&FeatureCounts, usize)> = texts.iter().step_by(step).copied().collect();
    // Each block candidate's sample is vectorised once; the penalty search
    // reuses the chosen one's.
    let vectorised = |blocks: BlockWeights| {
        let (features, _, rows) = vectorise_all(&sample, blocks, options);
        (features.len(), rows)
    };
    let score = |(n_features, rows): &(usize, Vec<(SparseVector, usize)>), l2_times_rows| {
        cross_validated_macro_f1(rows, *n_features, n_labels, epochs, options, l2_times_rows)
    };
    let mut best_rows = vectorised(best.blocks);
    let mut best_score = score(&best_rows, best.l2_times_rows);
    // Better, not equal up to rounding: the earlier candidate wins ties.
    let better = |score: f64, best: f64| score > best + TIE;
    if search_blocks {
        for blocks in &BLOCK_CANDIDATES[1..] {
            let rows = vectorised(*blocks);
            let candidate_score = score(&rows, best.l2_times_rows);
            if better(candidate_score, best_score) {
                best.blocks = *blocks;
                best_score = candidate_score;
                best_rows = rows;
            }
        }
    }
    if search_l2 {
        for l2_times_rows in &L2_TIMES_ROWS_CANDIDATES[1..] {
            let candidate_score = score(&best_rows, *l2_times_rows);
            if better(candidate_score, best_score) {
                best.l2_times_rows = *l2_times_rows;
                best_score = candidate_score;
            }
        }
    }
    tracing::info!(
        word_weight = best.blocks.words,
        char_weight = best.blocks.chars,
        l2_times_rows = best.l2_times_rows,
        cv_macro_f1 = best_score,
        rows = sample.len(),
        "feature blocks and L2 penalty chosen by cross-validation on the training rows"
    );
    best
}

/// Mean macro-F1 of the penalty `l2_times_rows` over [`CV_FOLDS`] folds of `rows`, each
/// fold's held-out part scored on its own (scikit-learn's `cross_val_score`,
/// as the baselines are tuned and as a held-out test set is scored): pooled
/// predictions would count a label seen once, always wrong when held out,
/// as heavily as a frequent one.
fn cross_validated_macro_f1(
    rows: &[(SparseVector, usize)],
    n_features: usize,
    n_labels: usize,
    epochs: u32,
    options: &TrainingOptions,
    l2_times_rows: f32,
) -> f64 {
    let mut total = 0.0;
    for fold in 0..CV_FOLDS {
        let fit: Vec<(SparseVector, usize)> = rows
            .iter()
            .enumerate()
            .filter(|(i, _)| i % CV_FOLDS != fold)
            .map(|(_, r)| r.clone())
            .collect();
        let (w, b) = sgd(&fit, n_features, n_labels, epochs, options, l2_times_rows);
        let pairs: Vec<(usize, usize)> = rows
            .iter()
            .enumerate()
            .filter(|(i, _)| i % CV_FOLDS == fold)
            .map(|(_, (x, y))| (*y, argmax(&logits(&w, &b, x))))
            .collect();
        total += macro_f1(&pairs);
    }
    total / CV_FOLDS as f64
}

fn argmax(scores: &[f32]) -> usize {
    scores
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(i, _)| i)
}

/// Macro-F1 over the labels of truth and prediction (scikit-learn's
/// `average="macro"`, `zero_division=0`) of `(truth, predicted)` pairs.
fn macro_f1(pairs: &[(usize, usize)]) -> f64 {
    // Ordered, so the sum is the same in every run (ties stay ties).
    let mut counts: BTreeMap<usize, (u32, u32, u32)> = BTreeMap::new();
    for &(truth, predicted) in pairs {
        if truth == predicted {
            counts.entry(truth).or_default().0 += 1;
        } else {
            counts.entry(predicted).or_default().1 += 1;
            counts.entry(truth).or_default().2 += 1;
        }
    }
    if counts.is_empty() {
        return 0.0;
    }
    let total: f64 = counts
        .values()
        .map(|&(tp, fp, fn_)| {
            let denominator = f64::from(2 * tp + fp + fn_);
            if denominator == 0.0 {
                0.0
            } else {
                f64::from(2 * tp) / denominator
            }
        })
        .sum();
    total / counts.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learning::features::FeatureExtractor;
    use crate::learning::training::TrainingExample;
    use crate::learning::training::tests::two_services;

    #[test]
    fn macro_f1_is_scikit_learns() {
        // y_true = [0, 0, 1, 2], y_pred = [0, 1, 1, 1]: F1 per label 2/3, 1/2, 0.
        let pairs = [(0, 0), (0, 1), (1, 1), (2, 1)];
        assert!((macro_f1(&pairs) - (2.0 / 3.0 + 0.5 + 0.0) / 3.0).abs() < 1e-12);
        assert_eq!(macro_f1(&[]), 0.0);
    }

    fn chosen(examples: &[TrainingExample], options: &TrainingOptions) -> Settings {
        let mut extractor = FeatureExtractor::default();
        let counts: Vec<_> = examples
            .iter()
            .map(|e| extractor.extract(&e.text))
            .collect();
        let texts: Vec<(&FeatureCounts, usize)> = counts
            .iter()
            .zip(examples)
            .map(|(c, e)| (c, usize::from(e.label == "streetlight")))
            .collect();
        choose_settings(&texts, 2, 10, options)
    }

    #[test]
    fn blocks_and_penalty_are_chosen_on_the_training_rows() {
        // Two labels told apart by one word each, with noise words shared:
        // any candidate separates them; the choice is one of the candidates.
        let options = TrainingOptions::default();
        let settings = chosen(&two_services(240), &options);
        assert!(
            L2_TIMES_ROWS_CANDIDATES.contains(&settings.l2_times_rows),
            "{settings:?}"
        );
        assert!(BLOCK_CANDIDATES.contains(&settings.blocks), "{settings:?}");
        // Too few rows to split: the defaults.
        let defaults = Settings {
            blocks: BlockWeights::BOTH,
            l2_times_rows: DEFAULT_L2_TIMES_ROWS,
        };
        assert_eq!(chosen(&two_services(50), &options), defaults);
        // What the options fix is kept.
        let fixed = TrainingOptions {
            blocks: Some(BlockWeights::CHARS_ONLY),
            ..TrainingOptions::default()
        };
        assert_eq!(
            chosen(&two_services(240), &fixed).blocks,
            BlockWeights::CHARS_ONLY
        );
    }
}
