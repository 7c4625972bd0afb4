//! The knowledge base ("Baza Wiedzy"): info cards per service and topic, in
//! Polish and English, that operators answer from and residents read before
//! they report. A city keeps them as one TOML file per article in its
//! folder's `kb/` (see `infra/demo-city/kb/README.md`); `city publish`
//! checks them against the catalogue and publishes them as one document.
//!
//! Who sees which article is [`Reader::may_see`]: the public published
//! ones, staff drafts too; a retired article is kept for the record and
//! found by nobody's search.

use std::collections::BTreeMap;
use std::fmt;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::catalogue::Catalogue;
use crate::ids::{DepartmentCode, JurisdictionId, ServiceCode};
use crate::language::Language;

/// An article's id: lower-case ASCII words joined by `-` (`dog-registration`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ArticleId(String);

impl ArticleId {
    pub const MAX_CHARS: usize = 80;

    pub fn parse(raw: &str) -> Result<Self, KnowledgeError> {
        let ok = !raw.is_empty()
            && raw.len() <= Self::MAX_CHARS
            && raw.split('-').all(|w| {
                !w.is_empty()
                    && w.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(KnowledgeError::Id(raw.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ArticleId {
    type Error = KnowledgeError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<ArticleId> for String {
    fn from(id: ArticleId) -> Self {
        id.0
    }
}

impl fmt::Display for ArticleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where an article is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArticleStatus {
    /// Written, not yet reviewed: staff see it, the public does not.
    Draft,
    Published,
    /// No longer true; kept for the record.
    Retired,
}

/// An article's text in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArticleText {
    pub title: String,
    pub summary: String,
    pub body: String,
}

/// One info card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Article {
    pub id: ArticleId,
    pub topic: String,
    /// The department that keeps it true (and is told when its review is due).
    pub owner: DepartmentCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_code: Option<ServiceCode>,
    pub status: ArticleStatus,
    pub version: u32,
    /// Staff logins of who wrote and who reviewed this version.
    pub author: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewer: Option<String>,
    pub next_review: Date,
    /// Extra words it is found by, in any language.
    #[serde(default)]
    pub keywords: Vec<String>,
    pub pl: ArticleText,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<ArticleText>,
}

impl Article {
    /// The text in `language`, else the Polish one.
    pub fn text(&self, language: Language) -> &ArticleText {
        match language {
            Language::En => self.en.as_ref().unwrap_or(&self.pl),
            Language::Pl => &self.pl,
        }
    }

    /// The languages it is written in.
    pub fn languages(&self) -> Vec<Language> {
        let mut found = vec![Language::Pl];
        if self.en.is_some() {
            found.push(Language::En);
        }
        found
    }
}

/// Who is reading the knowledge base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    Public,
    Staff,
}

impl Reader {
    /// Whether this reader finds `article` in a search.
    pub fn finds(self, article: &Article) -> bool {
        match article.status {
            ArticleStatus::Published => true,
            ArticleStatus::Draft => self == Reader::Staff,
            ArticleStatus::Retired => false,
        }
    }

    /// Whether this reader may open `article` by its id.
    pub fn may_see(self, article: &Article) -> bool {
        self.finds(article) || (self == Reader::Staff && article.status == ArticleStatus::Retired)
    }
}

/// A city's published knowledge base.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnowledgeBase {
    pub jurisdiction: JurisdictionId,
    /// By id.
    pub articles: BTreeMap<ArticleId, Article>,
    /// Synonyms from the catalogue: a service's keywords, per service, so an
    /// article about a service is found by the words residents use for it.
    #[serde(default)]
    pub service_keywords: BTreeMap<ServiceCode, Vec<String>>,
}

/// Longest title, summary and body (characters).
pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_SUMMARY_CHARS: usize = 600;
pub const MAX_BODY_CHARS: usize = 20_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KnowledgeError {
    #[error(
        "{0:?} is not an article id: lower-case letters and digits in words joined by '-', at most 80 characters"
    )]
    Id(String),
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error("{file}: the id {id} does not match the file name")]
    FileName { file: String, id: ArticleId },
    #[error("{id}: owner {owner} is not a department of the catalogue")]
    UnknownOwner {
        id: ArticleId,
        owner: DepartmentCode,
    },
    #[error("{id}: service {service} is not in the catalogue")]
    UnknownService { id: ArticleId, service: ServiceCode },
    #[error("{id}: {field} is empty or longer than {max} characters")]
    Text {
        id: ArticleId,
        field: &'static str,
        max: usize,
    },
    #[error("{id}: a published article needs a reviewer")]
    NoReviewer { id: ArticleId },
    #[error("article {0} is there twice")]
    Duplicate(ArticleId),
}

impl KnowledgeBase {
    /// Reads a city's articles, one `(file name, TOML text)` per article, and
    /// checks them against its catalogue.
    pub fn from_files<'f>(
        catalogue: &Catalogue,
        files: impl IntoIterator<Item = (&'f str, &'f str)>,
    ) -> Result<Self, KnowledgeError> {
        let mut articles = BTreeMap::new();
        for (file, text) in files {
            let article: Article = toml::from_str(text).map_err(|e| KnowledgeError::File {
                file: file.to_owned(),
                message: e.to_string(),
            })?;
            if file.strip_suffix(".toml") != Some(article.id.as_str()) {
                return Err(KnowledgeError::FileName {
                    file: file.to_owned(),
                    id: article.id,
                });
            }
            check(catalogue, &article)?;
            let id = article.id.clone();
            if articles.insert(id.clone(), article).is_some() {
                return Err(KnowledgeError::Duplicate(id));
            }
        }
        let service_keywords = catalogue
            .document()
            .services
            .iter()
            .map(|s| {
                let words = [s.name.pl.clone(), s.name.en.clone()]
                    .into_iter()
                    .chain(s.keywords.pl.iter().cloned())
                    .chain(s.keywords.en.iter().cloned())
                    .collect();
                (s.code.clone(), words)
            })
            .collect();
        Ok(Self {
            jurisdiction: catalogue.city().jurisdiction_id.clone(),
            articles,
            service_keywords,
        })
    }

    pub fn article(&self, id: &ArticleId) -> Option<&Article> {
        self.articles.get(id)
    }

    /// The words an article is found by beside its text: its own keywords
    /// and its service's (the catalogue's synonyms).
    pub fn search_keywords(&self, article: &Article) -> Vec<String> {
        let mut words = article.keywords.clone();
        if let Some(code) = &article.service_code {
            words.extend(
                self.service_keywords
                    .get(code)
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
        }
        words
    }

    /// Articles whose review date has passed on `today` (retired ones need none),
    /// oldest first; for `owners` only when given.
    pub fn review_due(&self, today: Date, owners: Option<&[DepartmentCode]>) -> Vec<&Article> {
        let mut due: Vec<&Article> = self
            .articles
            .values()
            .filter(|a| a.status != ArticleStatus::Retired && a.next_review < today)
            .filter(|a| owners.is_none_or(|o| o.contains(&a.owner)))
            .collect();
        due.sort_by(|a, b| a.next_review.cmp(&b.next_review).then(a.id.cmp(&b.id)));
        due
    }
}

fn check(catalogue: &Catalogue, article: &Article) -> Result<(), KnowledgeError> {
    let id = &article.id;
    if catalogue.department(&article.owner).is_none() {
        return Err(KnowledgeError::UnknownOwner {
            id: id.clone(),
            owner: article.owner.clone(),
        });
    }
    if let Some(service) = &article.service_code
        && catalogue.service(service).is_none()
    {
        return Err(KnowledgeError::UnknownService {
            id: id.clone(),
            service: service.clone(),
        });
    }
    if article.status == ArticleStatus::Published
        && article
            .reviewer
            .as_deref()
            .is_none_or(|r| r.trim().is_empty())
    {
        return Err(KnowledgeError::NoReviewer { id: id.clone() });
    }
    for text in std::iter::once(&article.pl).chain(article.en.as_ref()) {
        for (field, value, max) in [
            ("title", &text.title, MAX_TITLE_CHARS),
            ("summary", &text.summary, MAX_SUMMARY_CHARS),
            ("body", &text.body, MAX_BODY_CHARS),
        ] {
            let n = value.trim().chars().count();
            if n == 0 || n > max {
                return Err(KnowledgeError::Text {
                    id: id.clone(),
                    field,
                    max,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::CatalogueDocument;

    fn catalogue() -> Catalogue {
        Catalogue::new(
            CatalogueDocument::from_sources(
                include_str!("../../../infra/demo-city/catalogue.toml"),
                include_str!("../../../infra/demo-city/districts.geojson"),
            )
            .unwrap(),
        )
        .unwrap()
    }

    const ARTICLE: &str = r#"
id = "fallen-tree"
topic = "greenery"
owner = "greenery"
service_code = "fallen-tree"
status = "published"
version = 1
author = "a.nowak"
reviewer = "m.kowalska"
next_review = "2027-06-30"
keywords = ["konar"]
[pl]
title = "Powalone drzewo"
summary = "Dzwoń 112, gdy zagraża życiu."
body = "Zgłoś je."
"#;

    #[test]
    fn an_article_is_read_and_checked_against_the_catalogue() {
        let kb = KnowledgeBase::from_files(&catalogue(), [("fallen-tree.toml", ARTICLE)]).unwrap();
        let article = kb
            .article(&ArticleId::parse("fallen-tree").unwrap())
            .unwrap();
        assert_eq!(
            article.text(Language::En).title,
            "Powalone drzewo",
            "Polish when no English"
        );
        let words = kb.search_keywords(article);
        assert!(words.contains(&"konar".to_owned()));
        assert!(words.contains(&"Fallen tree".to_owned()), "{words:?}");
    }

    #[test]
    fn a_broken_article_names_what_is_wrong() {
        let c = catalogue();
        let wrong_name = KnowledgeBase::from_files(&c, [("tree.toml", ARTICLE)]);
        assert!(matches!(wrong_name, Err(KnowledgeError::FileName { .. })));
        let owner = ARTICLE.replace("owner = \"greenery\"", "owner = \"nobody\"");
        assert!(matches!(
            KnowledgeBase::from_files(&c, [("fallen-tree.toml", owner.as_str())]),
            Err(KnowledgeError::UnknownOwner { .. })
        ));
        let unknown = ARTICLE.replace("topic =", "colour = \"red\"\ntopic =");
        assert!(matches!(
            KnowledgeBase::from_files(&c, [("fallen-tree.toml", unknown.as_str())]),
            Err(KnowledgeError::File { .. })
        ));
        let unreviewed = ARTICLE.replace("reviewer = \"m.kowalska\"\n", "");
        assert!(matches!(
            KnowledgeBase::from_files(&c, [("fallen-tree.toml", unreviewed.as_str())]),
            Err(KnowledgeError::NoReviewer { .. })
        ));
    }

    #[test]
    fn drafts_are_for_staff_and_retired_articles_for_nobody_s_search() {
        let kb = KnowledgeBase::from_files(&catalogue(), [("fallen-tree.toml", ARTICLE)]).unwrap();
        let mut article = kb.articles.values().next().unwrap().clone();
        assert!(Reader::Public.finds(&article));
        article.status = ArticleStatus::Draft;
        assert!(!Reader::Public.finds(&article) && Reader::Staff.finds(&article));
        article.status = ArticleStatus::Retired;
        assert!(!Reader::Public.finds(&article) && !Reader::Staff.finds(&article));
        assert!(Reader::Staff.may_see(&article) && !Reader::Public.may_see(&article));
    }

    #[test]
    fn the_demo_city_ships_its_articles() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/demo-city/kb");
        let files: Vec<(String, String)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .map(|p| {
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    std::fs::read_to_string(&p).unwrap(),
                )
            })
            .collect();
        let kb = KnowledgeBase::from_files(
            &catalogue(),
            files.iter().map(|(n, t)| (n.as_str(), t.as_str())),
        )
        .unwrap();
        let published = kb
            .articles
            .values()
            .filter(|a| a.status == ArticleStatus::Published && a.en.is_some())
            .count();
        assert!(
            published >= 25,
            "{published} published in Polish and English"
        );
        let today: Date = "2026-12-01".parse().unwrap();
        assert!(!kb.review_due(today, None).is_empty());
    }
}
