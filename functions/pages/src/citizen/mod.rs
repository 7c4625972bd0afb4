//! The residents' portal: the start page, answers from the knowledge base,
//! reporting a problem (`report`) and following it (`track`).

pub(crate) mod report;
mod track;

pub(crate) use track::status_text;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use citydesk_core::knowledge::Reader;
use citydesk_core::usecases::knowledge_base::{
    KnowledgeQueryError, MAX_QUERY_CHARS, read_article, search_articles,
};
use serde::Serialize;

use crate::Deps;
use crate::cookies::csrf_token;
use crate::locale::{LANG_COOKIE, Locale};
use crate::render::html;

pub fn router(deps: Arc<Deps>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/answers", get(answers))
        .route("/answers/{id}", get(article))
        .route("/report", get(report::start).post(report::step))
        .route("/report/places", get(report::places))
        .route("/track/{case_number}", get(track::show).post(track::update))
        .layer(DefaultBodyLimit::max(crate::forms::MAX_FORM_BYTES))
        .fallback(not_found)
        .with_state(deps)
}

/// What each page request starts with: its language, the query's other
/// parameters, the anti-forgery token, and the cookies to set.
pub(crate) struct Visit {
    pub locale: Locale,
    pub query: Vec<(String, String)>,
    pub csrf: String,
    pub set_cookies: Vec<String>,
}

impl Visit {
    pub fn new(deps: &Deps, raw_query: Option<&str>, headers: &HeaderMap) -> Self {
        let query: Vec<(String, String)> = raw_query
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let asked = query
            .iter()
            .rev()
            .find(|(k, _)| k == "lang")
            .map(|(_, v)| v.as_str());
        let locale = Locale::of_request(asked, headers);
        let mut set_cookies = Vec::new();
        if asked.and_then(Locale::parse).is_some() {
            set_cookies.push(deps.cookies.set(
                LANG_COOKIE,
                locale.code(),
                cookie::SameSite::Lax,
                Some(jiff::SignedDuration::from_hours(24 * 365)),
            ));
        }
        let (csrf, new_cookie) = csrf_token(deps.cookies, headers);
        set_cookies.extend(new_cookie);
        Self {
            locale,
            query,
            csrf,
            set_cookies,
        }
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// `path` with this visit's query but its language, for the language links.
    pub fn path_without_lang(&self, path: &str) -> String {
        let rest: Vec<(&str, &str)> = self
            .query
            .iter()
            .filter(|(k, _)| k != "lang")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        if rest.is_empty() {
            path.to_owned()
        } else {
            let encoded: String = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(rest)
                .finish();
            format!("{path}?{encoded}")
        }
    }

    pub fn text<'a>(&self, deps: &'a Deps, key: &'a str) -> &'a str {
        deps.renderer.texts().get(self.locale, key)
    }

    /// A rendered page, or the error page when the template fails.
    pub fn render(
        &self,
        deps: &Deps,
        status: StatusCode,
        template: &str,
        path: &str,
        page: impl Serialize,
    ) -> Response {
        let path = self.path_without_lang(path);
        match deps.renderer.page(template, self.locale, &path, page) {
            Ok(body) => html(status, body, &self.set_cookies),
            Err(e) => {
                tracing::error!(error = %e, "a page could not be rendered");
                html(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "<!doctype html><title>Error</title><p>The page could not be shown.</p>".into(),
                    &[],
                )
            }
        }
    }

    /// The error page with a heading and an explanation.
    pub fn error(&self, deps: &Deps, status: StatusCode, heading: &str, message: &str) -> Response {
        #[derive(Serialize)]
        struct ErrorPage<'a> {
            heading: &'a str,
            message: &'a str,
        }
        self.render(
            deps,
            status,
            "error.html",
            "/",
            ErrorPage { heading, message },
        )
    }

    /// The refusal of a form post that may come from another site (`None`: it is this site's).
    pub fn forged(
        &self,
        deps: &Deps,
        headers: &HeaderMap,
        form: &crate::forms::PostedForm,
    ) -> Option<Response> {
        let host = headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        // Behind API Gateway the site is HTTPS; locally it is plain HTTP.
        let origins = [format!("https://{host}"), format!("http://{host}")];
        let sent = headers
            .get(axum::http::header::ORIGIN)
            .and_then(|v| v.to_str().ok());
        let expected = sent
            .and_then(|o| origins.iter().find(|x| x.eq_ignore_ascii_case(o)))
            .unwrap_or(&origins[0]);
        let checked = crate::cookies::check_form(
            deps.cookies,
            headers,
            Some(expected),
            form.text(crate::cookies::CSRF_FIELD),
        );
        checked.err().map(|forgery| {
            self.error(
                deps,
                StatusCode::FORBIDDEN,
                self.text(deps, "forgery_title"),
                &forgery.to_string(),
            )
        })
    }

    /// The page for a dependency that failed: try again shortly.
    pub fn unavailable(&self, deps: &Deps, e: &dyn std::fmt::Display) -> Response {
        tracing::error!(error = %e, "a dependency failed while serving a page");
        self.error(
            deps,
            StatusCode::SERVICE_UNAVAILABLE,
            self.text(deps, "unavailable_title"),
            self.text(deps, "unavailable_text"),
        )
    }
}

async fn not_found(
    State(deps): State<Arc<Deps>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let visit = Visit::new(&deps, query.as_deref(), &headers);
    visit.error(
        &deps,
        StatusCode::NOT_FOUND,
        visit.text(&deps, "not_found_title"),
        visit.text(&deps, "not_found_text"),
    )
}

#[derive(Serialize)]
struct Home {
    query: String,
}

async fn home(
    State(deps): State<Arc<Deps>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let visit = Visit::new(&deps, query.as_deref(), &headers);
    visit.render(
        &deps,
        StatusCode::OK,
        "citizen/home.html",
        "/",
        Home {
            query: String::new(),
        },
    )
}

/// An answer as the search lists it.
#[derive(Debug, Serialize)]
pub(crate) struct AnswerLink {
    pub title: String,
    pub summary: String,
    pub href: String,
}

/// Up to `limit` public answers for a resident's words (none for blank or overlong words).
pub(crate) fn answers_for(
    deps: &Deps,
    words: &str,
    locale: Locale,
    limit: usize,
) -> Vec<AnswerLink> {
    let words: String = words.chars().take(MAX_QUERY_CHARS).collect();
    match search_articles(
        &deps.kb,
        deps.kb_index.as_ref(),
        Reader::Public,
        &words,
        locale.data_language(),
        Some(limit),
    ) {
        Ok(found) => found
            .into_iter()
            .map(|a| AnswerLink {
                href: format!("/answers/{}?lang={}", a.id, locale.code()),
                title: a.title,
                summary: a.summary,
            })
            .collect(),
        Err(KnowledgeQueryError::QueryMissing) => Vec::new(),
        Err(e) => {
            tracing::warn!(error = %e, "knowledge search failed");
            Vec::new()
        }
    }
}

#[derive(Serialize)]
struct AnswersPage {
    query: String,
    searched: bool,
    results: Vec<AnswerLink>,
}

async fn answers(
    State(deps): State<Arc<Deps>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let visit = Visit::new(&deps, query.as_deref(), &headers);
    let words = visit.param("q").unwrap_or("").to_owned();
    let results = answers_for(&deps, &words, visit.locale, 10);
    visit.render(
        &deps,
        StatusCode::OK,
        "citizen/answers.html",
        "/answers",
        AnswersPage {
            searched: !words.is_empty(),
            query: words,
            results,
        },
    )
}

#[derive(Serialize)]
struct ArticlePage {
    title: String,
    summary: String,
    paragraphs: Vec<String>,
    service_code: Option<String>,
}

async fn article(
    State(deps): State<Arc<Deps>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let visit = Visit::new(&deps, query.as_deref(), &headers);
    match read_article(&deps.kb, Reader::Public, &id, visit.locale.data_language()) {
        Ok(a) => visit.render(
            &deps,
            StatusCode::OK,
            "citizen/article.html",
            &format!("/answers/{id}"),
            ArticlePage {
                title: a.title,
                summary: a.summary,
                paragraphs: a
                    .body
                    .split("\n\n")
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect(),
                service_code: a.service_code.map(|c| c.to_string()),
            },
        ),
        Err(_) => visit.error(
            &deps,
            StatusCode::NOT_FOUND,
            visit.text(&deps, "not_found_title"),
            visit.text(&deps, "article_not_found"),
        ),
    }
}
