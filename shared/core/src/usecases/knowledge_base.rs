//! Reading the knowledge base: search (the public finds published
//! articles, staff drafts too), one article by id, and the articles whose
//! review is due for the departments that own them.

use jiff::civil::Date;
use serde::Serialize;

use crate::ids::{DepartmentCode, ServiceCode};
use crate::knowledge::{Article, ArticleId, ArticleStatus, KnowledgeBase, Reader};
use crate::language::Language;
use crate::ports::{KnowledgeIndex, PortError};
use crate::staff::{Role, StaffIdentity};

/// Longest query (characters).
pub const MAX_QUERY_CHARS: usize = 200;
/// Results of one search, by default and at most.
pub const DEFAULT_RESULTS: usize = 5;
pub const MAX_RESULTS: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum KnowledgeQueryError {
    #[error("q is required: the words to search for")]
    QueryMissing,
    #[error("q must be at most {MAX_QUERY_CHARS} characters")]
    QueryTooLong,
    #[error("no article {0}")]
    NotFound(String),
    #[error("the review list is for the departments' staff, managers and admins")]
    NotOwner,
    #[error(transparent)]
    Port(#[from] PortError),
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArticleSummary {
    pub id: ArticleId,
    pub title: String,
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_code: Option<ServiceCode>,
    /// Where the whole article is read.
    pub url: String,
    /// For staff: a draft is marked so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ArticleStatus>,
}

/// An article as its reader sees it: the text in their language; staff
/// also see who wrote and reviewed it, its status and its review date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArticleView {
    pub id: ArticleId,
    pub language: Language,
    pub title: String,
    pub summary: String,
    pub body: String,
    pub topic: String,
    pub owner: DepartmentCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_code: Option<ServiceCode>,
    pub version: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub staff: Option<StaffFields>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StaffFields {
    pub status: ArticleStatus,
    pub author: String,
    pub reviewer: Option<String>,
    pub next_review: Date,
}

/// The article's address in the API.
pub fn article_url(id: &ArticleId, language: Language) -> String {
    format!("/v1/kb/articles/{id}?lang={}", language.as_str())
}

/// The best articles for `query`, as `reader` may see them.
pub fn search_articles(
    kb: &KnowledgeBase,
    index: &dyn KnowledgeIndex,
    reader: Reader,
    query: &str,
    language: Language,
    limit: Option<usize>,
) -> Result<Vec<ArticleSummary>, KnowledgeQueryError> {
    let query = query.trim();
    if query.is_empty() {
        return Err(KnowledgeQueryError::QueryMissing);
    }
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(KnowledgeQueryError::QueryTooLong);
    }
    let limit = limit.unwrap_or(DEFAULT_RESULTS).clamp(1, MAX_RESULTS);
    let found = index.search(query, language, reader, limit)?;
    Ok(found
        .iter()
        .filter_map(|id| kb.article(id))
        // The index was built with the same policy; this keeps it so if it were not.
        .filter(|a| reader.finds(a))
        .map(|a| summary(a, reader, language))
        .collect())
}

fn summary(article: &Article, reader: Reader, language: Language) -> ArticleSummary {
    let text = article.text(language);
    ArticleSummary {
        id: article.id.clone(),
        title: text.title.clone(),
        summary: text.summary.clone(),
        service_code: article.service_code.clone(),
        url: article_url(&article.id, language),
        status: (reader == Reader::Staff).then_some(article.status),
    }
}

/// One article by id; one the reader may not see answers as a missing one.
pub fn read_article(
    kb: &KnowledgeBase,
    reader: Reader,
    id: &str,
    language: Language,
) -> Result<ArticleView, KnowledgeQueryError> {
    let article = ArticleId::parse(id.trim())
        .ok()
        .and_then(|id| kb.article(&id))
        .filter(|a| reader.may_see(a))
        .ok_or_else(|| KnowledgeQueryError::NotFound(id.to_owned()))?;
    let text = article.text(language);
    let shown_in = if language == Language::En && article.en.is_none() {
        Language::Pl
    } else {
        language
    };
    Ok(ArticleView {
        id: article.id.clone(),
        language: shown_in,
        title: text.title.clone(),
        summary: text.summary.clone(),
        body: text.body.clone(),
        topic: article.topic.clone(),
        owner: article.owner.clone(),
        service_code: article.service_code.clone(),
        version: article.version,
        staff: (reader == Reader::Staff).then(|| StaffFields {
            status: article.status,
            author: article.author.clone(),
            reviewer: article.reviewer.clone(),
            next_review: article.next_review,
        }),
    })
}

/// Articles past their review date that `staff` answers for: their
/// departments' (clerk, expert or head), or every department's for
/// managers and admins.
pub fn articles_due_for_review<'k>(
    kb: &'k KnowledgeBase,
    staff: &StaffIdentity,
    today: Date,
) -> Result<Vec<&'k Article>, KnowledgeQueryError> {
    if staff.has(&Role::Manager) || staff.has(&Role::Admin) {
        return Ok(kb.review_due(today, None));
    }
    let owned: Vec<DepartmentCode> = staff
        .roles
        .iter()
        .filter_map(|r| match r {
            Role::Clerk(d) | Role::Expert(d) | Role::Head(d) => Some(d.clone()),
            _ => None,
        })
        .collect();
    if owned.is_empty() {
        return Err(KnowledgeQueryError::NotOwner);
    }
    Ok(kb.review_due(today, Some(&owned)))
}
