//! The knowledge base's search: a tantivy index in memory, built from the
//! published articles when a function starts (a city's few hundred
//! articles index in milliseconds; `make bench-kb` prints how long).
//!
//! Polish is hard on a plain word index: `pies`, `psa`, `psem` are one dog,
//! residents type without diacritics and with typos. So each article
//! (one document per language) is indexed three ways:
//! - folded words (lower case, no diacritics: `gałąź` → `galaz`), queried
//!   exactly and, for longer words, within one edit (typos);
//! - character trigrams of those words with the word's edges marked
//!   (`^sm`, `smi`, … `ci$`), which match inflected forms (`śmieci`,
//!   `śmieciach`) and typos by what the words share;
//! - the article's keywords and its service's catalogue keywords (synonyms),
//!   weighted like the title.
//!
//! BM25 ranks the sum; the reader's visibility (drafts for staff only,
//! retired for nobody) and the language filter the results.

use citydesk_core::knowledge::{ArticleId, KnowledgeBase, Reader};
use citydesk_core::language::Language;
use citydesk_core::ports::{KnowledgeIndex, PortError};
use citydesk_core::rules::text::{fold, tokens};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::{Index, IndexReader, TantivyDocument, Term};

/// Longest query read (characters); the rest is ignored.
pub const MAX_QUERY_CHARS: usize = 200;

/// Words too common to say anything (Polish and English), left out of queries.
const STOP_WORDS: &[&str] = &[
    "a", "aby", "albo", "ale", "an", "and", "are", "as", "at", "by", "can", "co", "czy", "do",
    "for", "gdzie", "how", "i", "in", "is", "it", "jak", "jaki", "jakie", "jest", "mam", "mi",
    "mnie", "moge", "my", "na", "nie", "o", "od", "of", "on", "or", "po", "przez", "sie", "the",
    "to", "w", "we", "what", "where", "z", "za", "ze",
];

/// How much each field weighs in the ranking.
const TITLE_WEIGHT: f32 = 3.0;
const KEYWORDS_WEIGHT: f32 = 3.0;
const SUMMARY_WEIGHT: f32 = 1.5;
const BODY_WEIGHT: f32 = 1.0;
/// Matching by trigrams or within one edit counts less than the word itself.
const GRAM_WEIGHT: f32 = 0.35;
const FUZZY_WEIGHT: f32 = 0.5;
/// Words at least this long are also matched within one edit.
const FUZZY_MIN_CHARS: usize = 5;

#[derive(Debug, thiserror::Error)]
#[error("knowledge index: {0}")]
pub struct IndexError(#[from] tantivy::TantivyError);

struct Fields {
    id: Field,
    language: Field,
    visibility: Field,
    /// (words, trigrams, weight) per part of the article.
    parts: Vec<(Field, Field, f32)>,
}

/// Which of the ways of matching a query word are used (all, unless a
/// bench compares them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Matching {
    pub trigrams: bool,
    pub fuzzy: bool,
    /// The catalogue's keywords of the article's service (synonyms).
    pub service_keywords: bool,
}

impl Default for Matching {
    fn default() -> Self {
        Self {
            trigrams: true,
            fuzzy: true,
            service_keywords: true,
        }
    }
}

/// The search index of one city's knowledge base.
pub struct ArticleIndex {
    reader: IndexReader,
    fields: Fields,
    matching: Matching,
}

impl ArticleIndex {
    /// Indexes every article of `kb` that somebody may find (drafts and
    /// published ones), one document per language it is written in.
    pub fn build(kb: &KnowledgeBase) -> Result<Self, IndexError> {
        Self::build_with(kb, Matching::default())
    }

    /// The same, matching only as `matching` says.
    pub fn build_with(kb: &KnowledgeBase, matching: Matching) -> Result<Self, IndexError> {
        let mut schema = Schema::builder();
        let text = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer("whitespace")
                .set_index_option(IndexRecordOption::WithFreqs),
        );
        let id = schema.add_text_field("id", STRING | STORED);
        let language = schema.add_text_field("language", STRING);
        let visibility = schema.add_text_field("visibility", STRING);
        let mut parts = Vec::new();
        for (name, weight) in [
            ("title", TITLE_WEIGHT),
            ("keywords", KEYWORDS_WEIGHT),
            ("summary", SUMMARY_WEIGHT),
            ("body", BODY_WEIGHT),
        ] {
            let words = schema.add_text_field(&format!("{name}_words"), text.clone());
            let grams = schema.add_text_field(&format!("{name}_grams"), text.clone());
            parts.push((words, grams, weight));
        }
        let fields = Fields {
            id,
            language,
            visibility,
            parts,
        };
        let index = Index::create_in_ram(schema.build());
        let mut writer = index.writer_with_num_threads(1, 15_000_000)?;
        for article in kb.articles.values() {
            let visibility = if Reader::Public.finds(article) {
                "public"
            } else if Reader::Staff.finds(article) {
                "staff"
            } else {
                continue;
            };
            let keywords = if matching.service_keywords {
                kb.search_keywords(article)
            } else {
                article.keywords.clone()
            }
            .join(" ");
            for lang in article.languages() {
                let text = article.text(lang);
                let mut doc = TantivyDocument::default();
                doc.add_text(fields.id, article.id.as_str());
                doc.add_text(fields.language, lang.as_str());
                doc.add_text(fields.visibility, visibility);
                for ((words, grams, _), source) in fields.parts.iter().zip([
                    text.title.as_str(),
                    keywords.as_str(),
                    text.summary.as_str(),
                    text.body.as_str(),
                ]) {
                    let folded = tokens(source);
                    doc.add_text(*words, folded.join(" "));
                    doc.add_text(*grams, trigrams(&folded).join(" "));
                }
                writer.add_document(doc)?;
            }
        }
        writer.commit()?;
        let reader = index.reader()?;
        Ok(Self {
            reader,
            fields,
            matching,
        })
    }

    fn query(&self, query: &str, language: Language, reader: Reader) -> Option<BooleanQuery> {
        let cut: String = query.chars().take(MAX_QUERY_CHARS).collect();
        let words: Vec<String> = tokens(&cut)
            .into_iter()
            .filter(|w| !STOP_WORDS.contains(&w.as_str()))
            .collect();
        if words.is_empty() {
            return None;
        }
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for &(words_field, grams_field, weight) in &self.fields.parts {
            for word in &words {
                let term = Term::from_field_text(words_field, word);
                should.push((
                    Occur::Should,
                    boosted(
                        TermQuery::new(term.clone(), IndexRecordOption::WithFreqs),
                        weight,
                    ),
                ));
                if self.matching.fuzzy && word.chars().count() >= FUZZY_MIN_CHARS {
                    should.push((
                        Occur::Should,
                        boosted(FuzzyTermQuery::new(term, 1, true), weight * FUZZY_WEIGHT),
                    ));
                }
            }
            let grams = if self.matching.trigrams {
                trigrams(&words)
            } else {
                Vec::new()
            };
            for gram in grams {
                let term = Term::from_field_text(grams_field, &gram);
                should.push((
                    Occur::Should,
                    boosted(
                        TermQuery::new(term, IndexRecordOption::WithFreqs),
                        weight * GRAM_WEIGHT,
                    ),
                ));
            }
        }
        let mut visible: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Should, exact(self.fields.visibility, "public"))];
        if reader == Reader::Staff {
            visible.push((Occur::Should, exact(self.fields.visibility, "staff")));
        }
        Some(BooleanQuery::new(vec![
            (Occur::Must, Box::new(BooleanQuery::new(should))),
            (Occur::Must, exact(self.fields.language, language.as_str())),
            (Occur::Must, Box::new(BooleanQuery::new(visible))),
        ]))
    }
}

impl KnowledgeIndex for ArticleIndex {
    fn search(
        &self,
        query: &str,
        language: Language,
        reader: Reader,
        limit: usize,
    ) -> Result<Vec<ArticleId>, PortError> {
        let Some(query) = self.query(query, language, reader) else {
            return Ok(Vec::new());
        };
        let fail =
            |e: tantivy::TantivyError| PortError::permanent("search knowledge base", e.to_string());
        let searcher = self.reader.searcher();
        let top = searcher
            .search(&query, &TopDocs::with_limit(limit.max(1)).order_by_score())
            .map_err(fail)?;
        let mut found = Vec::with_capacity(top.len());
        for (_, address) in top {
            let doc: TantivyDocument = searcher.doc(address).map_err(fail)?;
            let id = doc
                .get_first(self.fields.id)
                .and_then(|v| v.as_str())
                .and_then(|raw| ArticleId::parse(raw).ok())
                .ok_or_else(|| {
                    PortError::permanent(
                        "search knowledge base",
                        "a document without an article id",
                    )
                })?;
            found.push(id);
        }
        Ok(found)
    }
}

fn boosted(query: impl Query + 'static, weight: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(Box::new(query), weight))
}

fn exact(field: Field, value: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, value),
        IndexRecordOption::Basic,
    ))
}

/// Character trigrams of folded words, with `^` and `$` marking a word's
/// start and end (`psa` → `^ps`, `psa`, `sa$`).
pub fn trigrams(words: &[String]) -> Vec<String> {
    let mut grams = Vec::new();
    for word in words {
        let chars: Vec<char> = std::iter::once('^')
            .chain(fold(word).chars())
            .chain(std::iter::once('$'))
            .collect();
        for window in chars.windows(3) {
            grams.push(window.iter().collect());
        }
    }
    grams
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigrams_mark_the_edges_of_words() {
        assert_eq!(trigrams(&["psa".to_owned()]), ["^ps", "psa", "sa$"]);
        assert!(trigrams(&["a".to_owned()]).contains(&"^a$".to_owned()));
    }
}
