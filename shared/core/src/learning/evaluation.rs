//! Held-out evaluation: the split every tool shares, accuracy, macro-F1 and the
//! pairs of labels most often confused.

use std::collections::{BTreeMap, BTreeSet};

/// The held-out fifth of a history: chosen by a hash of the row's id, so the
/// split is the same in every run and in the baseline script fed from it.
pub fn is_held_out(source_id: &str) -> bool {
    fold_of(source_id) == 0
}

/// How many folds [`fold_of`] deals rows into.
pub const FOLDS: u32 = 5;

/// The fold (below [`FOLDS`]) a row falls in, by the same hash: fold 0 is the
/// held-out fifth; benchmarks hold out each fold in turn.
pub fn fold_of(source_id: &str) -> u32 {
    super::features::fnv1a32(source_id.as_bytes()) % FOLDS
}

#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub rows: usize,
    pub accuracy: f64,
    /// Unweighted mean F1 over every label that is true or predicted somewhere
    /// (as scikit-learn's `f1_score(average="macro")`).
    pub macro_f1: f64,
    /// (true label, predicted label, count), most frequent first.
    pub confused: Vec<(String, String, usize)>,
}

/// Scores predictions against the truth: `(truth, prediction)` pairs.
pub fn evaluate<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    worst: usize,
) -> Evaluation {
    let mut rows = 0usize;
    let mut correct = 0usize;
    let mut true_positive: BTreeMap<&str, usize> = BTreeMap::new();
    let mut predicted: BTreeMap<&str, usize> = BTreeMap::new();
    let mut actual: BTreeMap<&str, usize> = BTreeMap::new();
    let mut confusion: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (truth, prediction) in pairs {
        rows += 1;
        *actual.entry(truth).or_default() += 1;
        *predicted.entry(prediction).or_default() += 1;
        if truth == prediction {
            correct += 1;
            *true_positive.entry(truth).or_default() += 1;
        } else {
            *confusion.entry((truth, prediction)).or_default() += 1;
        }
    }
    let labels: BTreeSet<&str> = actual.keys().chain(predicted.keys()).copied().collect();
    let f1_sum: f64 = labels
        .iter()
        .map(|l| {
            let tp = true_positive.get(l).copied().unwrap_or(0) as f64;
            let p = predicted.get(l).copied().unwrap_or(0) as f64;
            let a = actual.get(l).copied().unwrap_or(0) as f64;
            if p + a == 0.0 {
                0.0
            } else {
                2.0 * tp / (p + a)
            }
        })
        .sum();
    let mut confused: Vec<(String, String, usize)> = confusion
        .into_iter()
        .map(|((t, p), n)| (t.to_owned(), p.to_owned(), n))
        .collect();
    confused.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    confused.truncate(worst);
    Evaluation {
        rows,
        accuracy: if rows == 0 {
            0.0
        } else {
            correct as f64 / rows as f64
        },
        macro_f1: if labels.is_empty() {
            0.0
        } else {
            f1_sum / labels.len() as f64
        },
        confused,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_hand_computed_scores() {
        // a: tp 1, predicted 2, actual 1 -> f1 2/3; b: tp 1, predicted 1, actual 2 -> 2/3; c: 0.
        let e = evaluate([("a", "a"), ("b", "a"), ("b", "b"), ("c", "b")], 5);
        assert_eq!(e.rows, 4);
        assert!((e.accuracy - 0.5).abs() < 1e-9);
        let b_f1 = 2.0 * 1.0 / (2.0 + 2.0);
        let expected = (2.0 / 3.0 + b_f1 + 0.0) / 3.0;
        assert!((e.macro_f1 - expected).abs() < 1e-9, "{e:?}");
        assert_eq!(e.confused.len(), 2);
    }

    #[test]
    fn split_is_stable_and_about_a_fifth() {
        let held = (0..10_000).filter(|i| is_held_out(&i.to_string())).count();
        assert!((1_700..2_300).contains(&held), "{held}");
        assert_eq!(is_held_out("54049402"), is_held_out("54049402"));
    }
}
