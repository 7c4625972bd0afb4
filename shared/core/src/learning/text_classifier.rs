//! The trained text classifier: multinomial logistic regression over TF-IDF
//! weighted [features](super::features), each block normalised on its own and
//! weighed, with a temperature that calibrates its probabilities. Prediction
//! touches only the rows of the features a text has.

use serde::{Deserialize, Serialize};

use super::features::{Block, FeatureCounts, FeatureExtractor};

/// How much each [`Block`] of features counts: a text's TF-IDF vector is
/// L2-normalised block by block, each block then multiplied by its weight
/// (scikit-learn's `FeatureUnion` of two normalised vectorisers, weighed).
/// A block weighed 0 is not used at all.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BlockWeights {
    pub words: f32,
    pub chars: f32,
}

impl BlockWeights {
    /// Words and character n-grams alike.
    pub const BOTH: Self = Self {
        words: std::f32::consts::FRAC_1_SQRT_2,
        chars: std::f32::consts::FRAC_1_SQRT_2,
    };
    pub const WORDS_ONLY: Self = Self {
        words: 1.0,
        chars: 0.0,
    };
    pub const CHARS_ONLY: Self = Self {
        words: 0.0,
        chars: 1.0,
    };

    pub fn of(&self, block: Block) -> f32 {
        match block {
            Block::Words => self.words,
            Block::Chars => self.chars,
        }
    }

    /// Whether features of `id`'s block are used.
    pub fn uses(&self, id: u32) -> bool {
        self.of(Block::of(id)) > 0.0
    }
}

/// A label (for a city's catalogue: a service code) with its probability.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate<'a> {
    pub label: &'a str,
    pub probability: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextClassifier {
    pub(super) labels: Vec<String>,
    /// Hashed feature ids the model knows, sorted; row `i` of `weights` and
    /// `idf[i]` belong to `features[i]`.
    pub(super) features: Vec<u32>,
    pub(super) idf: Vec<f32>,
    /// Chosen in training, by cross-validation on the training rows.
    pub(super) blocks: BlockWeights,
    /// `features.len() × labels.len()`, row-major.
    pub(super) weights: Vec<f32>,
    pub(super) bias: Vec<f32>,
    /// Logits are divided by this before the softmax (fitted on held-out rows).
    pub(super) temperature: f32,
}

/// Sparse TF-IDF vector: (row in the model, value), L2-normalised.
pub(super) type SparseVector = Vec<(u32, f32)>;

impl TextClassifier {
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    pub fn feature_count(&self) -> usize {
        self.features.len()
    }

    pub fn temperature(&self) -> f32 {
        self.temperature
    }

    pub fn block_weights(&self) -> BlockWeights {
        self.blocks
    }

    /// The `k` most probable labels, most probable first.
    pub fn top<'a>(
        &'a self,
        extractor: &mut FeatureExtractor,
        text: &str,
        k: usize,
    ) -> Vec<Candidate<'a>> {
        self.top_of(&extractor.extract(text), k)
    }

    /// The `k` most probable labels for features already extracted (a text
    /// with tags, see [`FeatureExtractor::extract_tagged`]).
    pub fn top_of(&self, counts: &FeatureCounts, k: usize) -> Vec<Candidate<'_>> {
        let x = self.vectorise(counts);
        let mut probabilities = self.logits(&x);
        softmax_in_place(&mut probabilities, self.temperature);
        let mut order: Vec<usize> = (0..probabilities.len()).collect();
        let k = k.min(order.len());
        if k == 0 {
            return Vec::new();
        }
        order.select_nth_unstable_by(k - 1, |a, b| {
            probabilities[*b].total_cmp(&probabilities[*a])
        });
        order.truncate(k);
        order.sort_by(|a, b| probabilities[*b].total_cmp(&probabilities[*a]));
        order
            .into_iter()
            .map(|i| Candidate {
                label: &self.labels[i],
                probability: f64::from(probabilities[i]),
            })
            .collect()
    }

    /// The most probable label.
    pub fn best<'a>(
        &'a self,
        extractor: &mut FeatureExtractor,
        text: &str,
    ) -> Option<Candidate<'a>> {
        self.top(extractor, text, 1).into_iter().next()
    }

    /// Whether the parts agree in size and every number is finite (a model
    /// file is checked with this before use).
    pub(super) fn is_consistent(&self) -> bool {
        self.features.len() == self.idf.len()
            && self.weights.len() == self.features.len() * self.labels.len()
            && self.bias.len() == self.labels.len()
            && self.features.windows(2).all(|w| w[0] < w[1])
            && self.temperature.is_finite()
            && self.temperature > 0.0
            && [self.blocks.words, self.blocks.chars]
                .iter()
                .all(|w| w.is_finite() && *w >= 0.0)
            && self
                .weights
                .iter()
                .chain(&self.bias)
                .chain(&self.idf)
                .all(|v| v.is_finite())
    }

    pub(super) fn vectorise(&self, counts: &FeatureCounts) -> SparseVector {
        vectorise(&self.features, &self.idf, self.blocks, counts)
    }

    pub(super) fn logits(&self, x: &SparseVector) -> Vec<f32> {
        logits(&self.weights, &self.bias, x)
    }
}

/// A text's sparse vector: sublinear TF × IDF of each known feature, each
/// block L2-normalised on its own and multiplied by its weight.
pub(super) fn vectorise(
    features: &[u32],
    idf: &[f32],
    blocks: BlockWeights,
    counts: &FeatureCounts,
) -> SparseVector {
    let mut squares = [0.0f32; 2];
    let mut x: SparseVector = counts
        .0
        .iter()
        .filter(|(id, _)| blocks.uses(*id))
        .filter_map(|(id, count)| {
            let row = features.binary_search(id).ok()?;
            let value = (1.0 + count.ln()) * idf[row];
            squares[Block::of(*id) as usize] += value * value;
            Some((row as u32, value))
        })
        .collect();
    let scales = [Block::Words, Block::Chars].map(|block| {
        let norm = squares[block as usize].sqrt();
        if norm > 0.0 {
            blocks.of(block) / norm
        } else {
            0.0
        }
    });
    for (row, value) in &mut x {
        *value *= scales[Block::of(features[*row as usize]) as usize];
    }
    x
}

pub(super) fn logits(weights: &[f32], bias: &[f32], x: &SparseVector) -> Vec<f32> {
    let classes = bias.len();
    let mut scores = bias.to_vec();
    for &(row, value) in x {
        let start = row as usize * classes;
        for (s, w) in scores.iter_mut().zip(&weights[start..start + classes]) {
            *s += value * w;
        }
    }
    scores
}

pub(super) fn softmax_in_place(scores: &mut [f32], temperature: f32) {
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for s in scores.iter_mut() {
        *s = ((*s - max) / temperature).exp();
        sum += *s;
    }
    if sum > 0.0 {
        for s in scores.iter_mut() {
            *s /= sum;
        }
    }
}
