//! Rendering pages: minijinja templates from `templates/` (built into the
//! binary, auto-escaped, strict: an unknown variable fails the render, and a
//! test renders every page in every language), with the page's texts as `t`,
//! `asset(name)` for fingerprinted asset URLs and `when(ts)` for the city's
//! local time.

use std::sync::Arc;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::{Environment, UndefinedBehavior, Value, context};
use serde::Serialize;

use crate::assets::Assets;
use crate::locale::{Locale, Texts};

/// Every template, by the name pages render it with.
const TEMPLATES: [(&str, &str); 14] = [
    ("base.html", include_str!("../templates/base.html")),
    ("macros.html", include_str!("../templates/macros.html")),
    ("error.html", include_str!("../templates/error.html")),
    (
        "citizen/home.html",
        include_str!("../templates/citizen/home.html"),
    ),
    (
        "citizen/answers.html",
        include_str!("../templates/citizen/answers.html"),
    ),
    (
        "citizen/article.html",
        include_str!("../templates/citizen/article.html"),
    ),
    (
        "citizen/report.html",
        include_str!("../templates/citizen/report.html"),
    ),
    (
        "citizen/track.html",
        include_str!("../templates/citizen/track.html"),
    ),
    (
        "staff/work.html",
        include_str!("../templates/staff/work.html"),
    ),
    (
        "staff/case.html",
        include_str!("../templates/staff/case.html"),
    ),
    (
        "staff/questions.html",
        include_str!("../templates/staff/questions.html"),
    ),
    (
        "staff/question.html",
        include_str!("../templates/staff/question.html"),
    ),
    (
        "staff/desk.html",
        include_str!("../templates/staff/desk.html"),
    ),
    (
        "staff/triage.html",
        include_str!("../templates/staff/triage.html"),
    ),
];

/// What every page knows besides its own data.
#[derive(Debug, Clone, Serialize)]
pub struct Site {
    /// The city's name in each page language's data language.
    pub city_pl: String,
    pub city_en: String,
    /// Map tiles (`{z}/{x}/{y}` template); empty: districts only.
    pub tile_url: String,
    pub tile_attribution: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template {name}: {source}")]
    Template {
        name: String,
        #[source]
        source: minijinja::Error,
    },
}

pub struct Renderer {
    env: Environment<'static>,
    texts: Texts,
    site: Site,
    zone: jiff::tz::TimeZone,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer").finish_non_exhaustive()
    }
}

impl Renderer {
    pub fn new(
        assets: Arc<Assets>,
        texts: Texts,
        site: Site,
        zone: jiff::tz::TimeZone,
    ) -> Result<Self, RenderError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .map_err(|source| RenderError::Template {
                    name: name.to_owned(),
                    source,
                })?;
        }
        env.add_function(
            "asset",
            move |name: &str| -> Result<String, minijinja::Error> {
                assets.url(name).map(str::to_owned).ok_or_else(|| {
                    minijinja::Error::new(
                        minijinja::ErrorKind::InvalidOperation,
                        format!("no asset named {name}"),
                    )
                })
            },
        );
        Ok(Self {
            env,
            texts,
            site,
            zone,
        })
    }

    pub fn texts(&self) -> &Texts {
        &self.texts
    }

    /// The city's local time of a timestamp, as pages show it.
    pub fn local_time(&self, at: jiff::Timestamp) -> String {
        at.to_zoned(self.zone.clone())
            .strftime("%d.%m.%Y %H:%M")
            .to_string()
    }

    /// A page: `template` with `page` as its data, in `locale`.
    pub fn page(
        &self,
        template: &str,
        locale: Locale,
        path: &str,
        page: impl Serialize,
    ) -> Result<String, RenderError> {
        let t = Value::from_serialize(self.texts.of(locale));
        let city = match locale.data_language() {
            citydesk_core::language::Language::Pl => &self.site.city_pl,
            citydesk_core::language::Language::En => &self.site.city_en,
        };
        let locales: Vec<Value> = Locale::ALL
            .iter()
            .map(|l| {
                context! {
                    code => l.code(),
                    name => self.texts.get(*l, "language_name"),
                    current => *l == locale,
                }
            })
            .collect();
        let ctx = context! {
            t => t,
            lang => locale.code(),
            path => path,
            city => city,
            site => Value::from_serialize(&self.site),
            locales => locales,
            ..Value::from_serialize(&page)
        };
        self.env
            .get_template(template)
            .and_then(|tmpl| tmpl.render(ctx))
            .map_err(|source| RenderError::Template {
                name: template.to_owned(),
                source,
            })
    }
}

/// An HTML response: not cached (pages show live state and may carry a
/// tracking token), no referrer sent onwards, scripts only from this site.
pub fn html(status: StatusCode, body: String, set_cookies: &[String]) -> Response {
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data: blob: http: https:; script-src 'self'; \
             style-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    );
    for cookie in set_cookies {
        if let Ok(v) = HeaderValue::from_str(cookie) {
            h.append(header::SET_COOKIE, v);
        }
    }
    response
}
