//! Sparse text features shared by training and prediction, in two blocks each
//! hashed into a space of its own: the *word* block (folded words, pairs of
//! neighbouring words, and tags) and the *character* block (the character
//! n-grams of each word).
//!
//! Character n-grams (2 to 5, with token boundaries) let `dziura`, `dziurę` and
//! `dziury` share most of their features, so Polish inflection needs no stemmer;
//! word pairs tell `street light` from `street` and `light`; folding makes
//! `Długiej` and `dlugiej` the same word. The blocks are kept apart so that the
//! classifier can weigh them (see [`Block`]): a word has one word feature and a
//! dozen character n-grams, which would otherwise drown the words. The hash is
//! FNV-1a, fixed here: a model's features are only meaningful with the same
//! scheme, which is why [`FEATURE_SCHEME`] is stored in every model.

use crate::rules::text::fold;

/// Name of this feature scheme; a model trained under another one is refused.
pub const FEATURE_SCHEME: &str = "fnv1a32/words1-2+chars2-5/two-blocks/buckets2^20/v2";

/// Each block's hashed ids span this many values: the word block
/// `0..FEATURE_SPACE`, the character block `FEATURE_SPACE..2 * FEATURE_SPACE`.
pub const FEATURE_SPACE: u32 = 1 << 20;

const MIN_NGRAM: usize = 2;
const MAX_NGRAM: usize = 5;

/// The two kinds of feature a text has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    /// Words, pairs of neighbouring words, tags.
    Words = 0,
    /// Character n-grams of the whitespace-separated tokens, punctuation kept.
    Chars = 1,
}

impl Block {
    /// The block a hashed feature id belongs to.
    pub fn of(id: u32) -> Self {
        if id < FEATURE_SPACE {
            Self::Words
        } else {
            Self::Chars
        }
    }
}

/// A text's features: (hashed id, count), sorted by id, each id once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeatureCounts(pub Vec<(u32, f32)>);

/// Extracts features, reusing its buffers between texts.
#[derive(Debug, Default)]
pub struct FeatureExtractor {
    chars: Vec<char>,
    ids: Vec<u32>,
    folded: String,
}

impl FeatureExtractor {
    pub fn extract(&mut self, text: &str) -> FeatureCounts {
        let mut out = FeatureCounts::default();
        self.extract_into(text, &mut out);
        out
    }

    /// A text's features with whole-value tags beside them (`service=pothole`,
    /// `district=east`): each tag one feature of its own kind, no n-grams, so
    /// a tag never shares a feature with a word.
    pub fn extract_tagged<'t>(
        &mut self,
        text: &str,
        tags: impl IntoIterator<Item = &'t str>,
    ) -> FeatureCounts {
        let mut out = FeatureCounts::default();
        self.ids.clear();
        self.push_text(text);
        for tag in tags {
            self.ids.push(hash_parts(b't', tag.as_bytes()));
        }
        self.count_into(&mut out);
        out
    }

    pub fn extract_into(&mut self, text: &str, out: &mut FeatureCounts) {
        self.ids.clear();
        self.push_text(text);
        self.count_into(out);
    }

    fn push_text(&mut self, text: &str) {
        self.folded.clear();
        self.folded.push_str(&fold(text));
        let mut previous: Option<&str> = None;
        for word in self
            .folded
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().nth(1).is_some())
        {
            self.ids.push(hash_parts(b'w', word.as_bytes()));
            if let Some(previous) = previous {
                self.ids.push(hash_pair(previous, word));
            }
            previous = Some(word);
        }
        // Character n-grams run over whitespace-separated tokens with their
        // punctuation (`misc.`, `btdt:`, `/`): a title's punctuation is often
        // as telling as its words.
        for token in self.folded.split_whitespace() {
            self.chars.clear();
            self.chars.push('<');
            self.chars.extend(token.chars());
            self.chars.push('>');
            let n_chars = self.chars.len();
            for n in MIN_NGRAM..=MAX_NGRAM {
                if n > n_chars {
                    break;
                }
                for window in self.chars.windows(n) {
                    self.ids.push(hash_chars(n as u8, window));
                }
            }
        }
    }

    fn count_into(&mut self, out: &mut FeatureCounts) {
        self.ids.sort_unstable();
        out.0.clear();
        for &id in &self.ids {
            match out.0.last_mut() {
                Some((last, count)) if *last == id => *count += 1.0,
                _ => out.0.push((id, 1.0)),
            }
        }
    }
}

const FNV_OFFSET: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;

/// 32-bit FNV-1a: fixed here forever, as models and the evaluation split depend on it.
pub(crate) fn fnv1a32<'a>(bytes: impl IntoIterator<Item = &'a u8>) -> u32 {
    let mut h = FNV_OFFSET;
    for &b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

fn hash_parts(kind: u8, bytes: &[u8]) -> u32 {
    fnv1a32(std::iter::once(&kind).chain(bytes)) % FEATURE_SPACE
}

/// Two neighbouring words (word block).
fn hash_pair(first: &str, second: &str) -> u32 {
    fnv1a32(
        std::iter::once(&b'b')
            .chain(first.as_bytes())
            .chain(std::iter::once(&b' '))
            .chain(second.as_bytes()),
    ) % FEATURE_SPACE
}

/// A character n-gram (character block).
fn hash_chars(kind: u8, chars: &[char]) -> u32 {
    let mut h = FNV_OFFSET ^ u32::from(kind);
    h = h.wrapping_mul(FNV_PRIME);
    for &c in chars {
        let mut buf = [0u8; 4];
        for &b in c.encode_utf8(&mut buf).as_bytes() {
            h ^= u32::from(b);
            h = h.wrapping_mul(FNV_PRIME);
        }
    }
    h % FEATURE_SPACE + FEATURE_SPACE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inflections_share_most_features() {
        let mut x = FeatureExtractor::default();
        let a = x.extract("dziura");
        let b = x.extract("Dziurę");
        let shared =
            a.0.iter()
                .filter(|(id, _)| b.0.iter().any(|(j, _)| j == id))
                .count();
        assert!(shared * 2 > a.0.len(), "{shared} of {}", a.0.len());
        assert_eq!(x.extract("Długiej"), x.extract("dlugiej"));
    }

    #[test]
    fn repeated_words_count_and_ids_are_sorted_and_unique() {
        let mut x = FeatureExtractor::default();
        let f = x.extract("hole hole");
        assert!(f.0.windows(2).all(|w| w[0].0 < w[1].0));
        // Every feature twice but the one pair "hole hole".
        assert_eq!(f.0.iter().filter(|(_, c)| *c == 1.0).count(), 1);
        assert_eq!(f.0.len(), x.extract("hole").0.len() + 1);
        assert!(f.0.iter().all(|(_, c)| *c == 2.0 || *c == 1.0));
        assert!(x.extract("").0.is_empty());
    }

    #[test]
    fn tags_are_features_of_their_own() {
        let mut x = FeatureExtractor::default();
        let plain = x.extract("east");
        let tagged = x.extract_tagged("east", ["east"]);
        assert_eq!(tagged.0.len(), plain.0.len() + 1);
        assert_eq!(x.extract_tagged("east", []), plain);
        let tag = tagged.0.iter().find(|f| !plain.0.contains(f)).unwrap();
        assert_eq!(Block::of(tag.0), Block::Words);
    }

    #[test]
    fn words_pairs_and_ngrams_fall_in_their_blocks() {
        // One-character words carry no word feature (as scikit-learn's
        // default tokens), only character n-grams.
        let mut x = FeatureExtractor::default();
        let words_of = |f: &FeatureCounts| {
            f.0.iter()
                .filter(|(id, _)| Block::of(*id) == Block::Words)
                .count()
        };
        assert_eq!(words_of(&x.extract("w")), 0);
        assert_eq!(x.extract("w").0.len(), 3);
        let mut x = FeatureExtractor::default();
        let one = x.extract("street");
        let two = x.extract("street light");
        let words = |f: &FeatureCounts| {
            f.0.iter()
                .filter(|(id, _)| Block::of(*id) == Block::Words)
                .count()
        };
        // "street": one word; "street light": two words and their pair.
        assert_eq!(words(&one), 1);
        assert_eq!(words(&two), 3);
        // "<street>" has 7 + 6 + 5 + 4 n-grams of 2 to 5 characters.
        assert_eq!(one.0.len() - words(&one), 22);
        assert_ne!(x.extract("light street"), two);
        // Punctuation stays in the character n-grams, not in the words.
        let dotted = x.extract("misc.");
        let plain = x.extract("misc");
        assert_ne!(dotted, plain);
        assert_eq!(words(&dotted), words(&plain));
    }
}
