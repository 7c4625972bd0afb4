//! Sparse text features shared by training and prediction: folded words and the
//! character n-grams of each word, hashed into a fixed space.
//!
//! Character n-grams (3 to 5, with word boundaries) let `dziura`, `dziurę` and
//! `dziury` share most of their features, so Polish inflection needs no stemmer,
//! and folding makes `Długiej` and `dlugiej` the same word. The hash is FNV-1a,
//! fixed here: a model's features are only meaningful with the same scheme, which
//! is why [`FEATURE_SCHEME`] is stored in every model.

use crate::rules::text::fold;

/// Name of this feature scheme; a model trained under another one is refused.
pub const FEATURE_SCHEME: &str = "fnv1a32/words+chars3-5/buckets2^20/v1";

/// Hashed feature ids are below this.
pub const FEATURE_SPACE: u32 = 1 << 20;

const MIN_NGRAM: usize = 3;
const MAX_NGRAM: usize = 5;

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
        for word in self
            .folded
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            self.ids.push(hash_parts(b'w', word.as_bytes()));
            self.chars.clear();
            self.chars.push('<');
            self.chars.extend(word.chars());
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
    h % FEATURE_SPACE
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
        assert!(f.0.iter().all(|(_, c)| *c == 2.0));
        assert!(x.extract("").0.is_empty());
    }

    #[test]
    fn tags_are_features_of_their_own() {
        let mut x = FeatureExtractor::default();
        let plain = x.extract("east");
        let tagged = x.extract_tagged("east", ["east"]);
        assert_eq!(tagged.0.len(), plain.0.len() + 1);
        assert_eq!(x.extract_tagged("east", []), plain);
    }
}
