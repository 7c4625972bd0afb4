//! The knowledge base's API ("Baza Wiedzy"):
//! - `GET /v1/kb/search?q=…&lang=pl|en&limit=…`: the best articles, `{"items":
//!   [{"id", "title", "summary", "service_code"?, "url"}], "count", ...}`;
//! - `GET /v1/kb/articles/{id}?lang=…`: one article;
//! - `GET /v1/kb/review-due` (staff): articles past their review date that
//!   the caller's departments own (every department's for managers, admins).
//!
//! Without credentials the reader is the public: published articles only.
//! With a staff token the reader is staff: drafts too (marked), and who
//! wrote and reviewed each. A bad token answers 401, not the public view.
//! The index is built from the published knowledge base at cold start.
//!
//! | variable | meaning |
//! |---|---|
//! | `STAFF_ISSUER`, `STAFF_AUDIENCE`, `STAFF_JWKS_URL`, `STAFF_GROUPS_CLAIM` | staff sign-in ([`citydesk_aws::config::StaffSignIn`]) |

use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::routing::get;
use citydesk_aws::config::{Clients, CommonConfig, ConfigError, Env, StaffSignIn};
use citydesk_aws::knowledge::load_knowledge;
use citydesk_aws::s3::S3Blobs;
use citydesk_aws::system::SystemClock;
use citydesk_core::knowledge::{KnowledgeBase, Reader};
use citydesk_core::language::Language;
use citydesk_core::ports::{Clock, KnowledgeIndex, PortError};
use citydesk_core::usecases::knowledge_base::{
    ArticleSummary, ArticleView, KnowledgeQueryError, MAX_RESULTS, article_url,
    articles_due_for_review, read_article, search_articles,
};
use citydesk_core::usecases::staff_access::Caller;
use citydesk_http_api::caller::Authenticator;
use citydesk_http_api::{ApiError, method_not_allowed, route_not_found};
use citydesk_knowledge_search::ArticleIndex;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    pub staff: Option<StaffSignIn>,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env(env)?,
            staff: StaffSignIn::from_env(env)?,
        })
    }
}

pub struct Deps {
    /// The deployment's city's published knowledge base.
    pub kb: KnowledgeBase,
    pub index: Arc<dyn KnowledgeIndex>,
    /// Staff tokens only (department keys have no business here).
    pub auth: Authenticator,
    pub clock: Arc<dyn Clock>,
}

impl Deps {
    pub async fn init(config: &Config) -> Result<Self, PortError> {
        let clients = Clients::new(&config.common).await;
        let blobs = S3Blobs::new(clients.s3.clone(), &config.common.bucket_name);
        let kb = load_knowledge(&blobs, &config.common.jurisdiction).await?;
        Self::over(
            kb,
            Authenticator::new(config.staff.as_ref().map(StaffSignIn::tokens), None),
        )
    }

    /// The API over `kb`, its index built here.
    pub fn over(kb: KnowledgeBase, auth: Authenticator) -> Result<Self, PortError> {
        let index = ArticleIndex::build(&kb)
            .map_err(|e| PortError::permanent("build knowledge index", e.to_string()))?;
        Ok(Self {
            kb,
            index: Arc::new(index),
            auth,
            clock: Arc::new(SystemClock),
        })
    }
}

pub fn router(deps: Arc<Deps>) -> Router {
    Router::new()
        .route("/v1/kb/search", get(search))
        .route("/v1/kb/articles/{id}", get(article))
        .route("/v1/kb/review-due", get(review_due))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(deps)
}

/// The public without credentials; staff with a valid token; 401 otherwise.
async fn reader(deps: &Deps, headers: &HeaderMap) -> Result<(Reader, Option<Caller>), ApiError> {
    if !headers.contains_key(header::AUTHORIZATION) {
        return Ok((Reader::Public, None));
    }
    let caller = deps.auth.caller(headers).await?;
    Ok((Reader::Staff, Some(caller)))
}

fn language(raw: Option<&str>) -> Result<Language, ApiError> {
    match raw.map(str::trim).filter(|l| !l.is_empty()) {
        None => Ok(Language::Pl),
        Some(raw) => Language::parse(raw)
            .ok_or_else(|| ApiError::invalid_field("lang", "lang must be pl or en")),
    }
}

fn query_error(e: KnowledgeQueryError) -> ApiError {
    match e {
        KnowledgeQueryError::QueryMissing | KnowledgeQueryError::QueryTooLong => {
            ApiError::invalid_field("q", e.to_string())
        }
        KnowledgeQueryError::NotFound(_) => ApiError::not_found(e.to_string()),
        KnowledgeQueryError::NotOwner => ApiError::forbidden(e.to_string()),
        KnowledgeQueryError::Port(p) => ApiError::dependency(p.retryable, &p),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchQuery {
    q: Option<String>,
    lang: Option<String>,
    limit: Option<String>,
}

#[derive(Debug, Serialize)]
struct SearchResults {
    query: String,
    language: Language,
    count: usize,
    items: Vec<ArticleSummary>,
}

async fn search(
    State(deps): State<Arc<Deps>>,
    headers: HeaderMap,
    query: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<axum::Json<SearchResults>, ApiError> {
    let (reader, _) = reader(&deps, &headers).await?;
    let Query(query) = query.map_err(|e| ApiError::invalid_field("query", e.body_text()))?;
    let language = language(query.lang.as_deref())?;
    let limit = match query
        .limit
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        None => None,
        Some(raw) => Some(
            raw.parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_RESULTS).contains(n))
                .ok_or_else(|| {
                    ApiError::invalid_field(
                        "limit",
                        format!("limit must be a whole number from 1 to {MAX_RESULTS}"),
                    )
                })?,
        ),
    };
    let q = query.q.unwrap_or_default();
    let items = search_articles(&deps.kb, deps.index.as_ref(), reader, &q, language, limit)
        .map_err(query_error)?;
    Ok(axum::Json(SearchResults {
        query: q.trim().to_owned(),
        language,
        count: items.len(),
        items,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ArticleQuery {
    lang: Option<String>,
}

async fn article(
    State(deps): State<Arc<Deps>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<Query<ArticleQuery>, QueryRejection>,
) -> Result<axum::Json<ArticleView>, ApiError> {
    let (reader, _) = reader(&deps, &headers).await?;
    let Query(query) = query.map_err(|e| ApiError::invalid_field("query", e.body_text()))?;
    let language = language(query.lang.as_deref())?;
    read_article(&deps.kb, reader, &id, language)
        .map(axum::Json)
        .map_err(query_error)
}

#[derive(Debug, Serialize)]
struct ReviewItem {
    id: String,
    title: String,
    owner: String,
    next_review: jiff::civil::Date,
    url: String,
}

#[derive(Debug, Serialize)]
struct ReviewList {
    count: usize,
    items: Vec<ReviewItem>,
}

async fn review_due(
    State(deps): State<Arc<Deps>>,
    headers: HeaderMap,
) -> Result<axum::Json<ReviewList>, ApiError> {
    let caller = deps.auth.caller(&headers).await?;
    let Caller::Staff(staff) = caller else {
        return Err(ApiError::forbidden("the review list is for staff"));
    };
    let today = deps.clock.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let due = articles_due_for_review(&deps.kb, &staff, today).map_err(query_error)?;
    let items: Vec<ReviewItem> = due
        .into_iter()
        .map(|a| ReviewItem {
            id: a.id.to_string(),
            title: a.pl.title.clone(),
            owner: a.owner.to_string(),
            next_review: a.next_review,
            url: article_url(&a.id, Language::Pl),
        })
        .collect();
    Ok(axum::Json(ReviewList {
        count: items.len(),
        items,
    }))
}
