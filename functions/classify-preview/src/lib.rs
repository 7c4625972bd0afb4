//! `POST /v1/classify` with `{"description", "lat"?, "long"?, "language"?,
//! "jurisdiction_id"?}`: the services the text may be about, most probable
//! first, each with the department routing would choose (the point picks the
//! district's) and the due time it would set, and whether the first is sure
//! enough to be placed without a person. Creates nothing and stores nothing:
//! the residents' form suggests a service as they type, the operator console
//! puts the suggestions first.
//!
//! Public and rate-limited: API Gateway throttles the route as a whole
//! (`template.yaml`), and each instance allows one client address
//! `CLASSIFY_PREVIEW_PER_MINUTE` a minute (`CLASSIFY_PREVIEW_BURST` at once);
//! past that, 429 with `Retry-After`. Its own function, so a flood of previews
//! cannot take the concurrency that filing requests needs.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `CLASSIFY_CONFIDENCE_THRESHOLD` | below this, a person would decide (as in the classify step) | 0.35 |
//! | `CLASSIFY_PREVIEW_PER_MINUTE` | previews a minute per client address | 30 |
//! | `CLASSIFY_PREVIEW_BURST` | of which at once | 10 |

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::routing::post;
use citydesk_aws::config::{Clients, CommonConfig, ConfigError, Env};
use citydesk_aws::system::SystemClock;
use citydesk_core::catalogue::Catalogues;
use citydesk_core::ids::JurisdictionId;
use citydesk_core::language::Language;
use citydesk_core::location::GeoPoint;
use citydesk_core::ports::{Clock, PortError};
use citydesk_core::rules::classification::Classifiers;
use citydesk_core::usecases::preview_service::{ServicePreview, preview_service};
use citydesk_http_api::rate_limit::ClientRateLimit;
use citydesk_http_api::{ApiError, JsonBody, method_not_allowed, route_not_found};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub const DEFAULT_THRESHOLD: f64 = 0.35;
/// Previews a minute per client address, and of those at once.
pub const DEFAULT_PER_MINUTE: NonZeroU32 = NonZeroU32::MIN.saturating_add(29);
pub const DEFAULT_BURST: NonZeroU32 = NonZeroU32::MIN.saturating_add(9);

#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    pub threshold: f64,
    pub per_minute: NonZeroU32,
    pub burst: NonZeroU32,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let threshold = env.parsed("CLASSIFY_CONFIDENCE_THRESHOLD", DEFAULT_THRESHOLD)?;
        if !(0.0..=1.0).contains(&threshold) {
            return Err(ConfigError::Invalid {
                name: "CLASSIFY_CONFIDENCE_THRESHOLD",
                reason: "must be between 0 and 1".into(),
            });
        }
        Ok(Self {
            common: CommonConfig::from_env(env)?,
            threshold,
            per_minute: env.parsed("CLASSIFY_PREVIEW_PER_MINUTE", DEFAULT_PER_MINUTE)?,
            burst: env.parsed("CLASSIFY_PREVIEW_BURST", DEFAULT_BURST)?,
        })
    }
}

pub struct Deps {
    /// Every served city, the default first.
    pub catalogues: Catalogues,
    pub classifiers: Classifiers,
    pub threshold: f64,
    pub clock: Arc<dyn Clock>,
    pub limit: ClientRateLimit,
}

impl Deps {
    pub async fn init(config: &Config) -> Result<Self, PortError> {
        let clients = Clients::new(&config.common).await;
        let (catalogues, models) = tokio::try_join!(
            clients.load_catalogues(&config.common),
            clients.load_models(&config.common),
        )?;
        Ok(Self {
            classifiers: Classifiers::with_models(&catalogues, &models),
            catalogues,
            threshold: config.threshold,
            clock: Arc::new(SystemClock),
            limit: ClientRateLimit::new(config.per_minute, config.burst),
        })
    }
}

pub fn router(deps: Arc<Deps>) -> Router {
    Router::new()
        .route("/v1/classify", post(classify))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(deps)
}

/// A request within its client's rate (429 otherwise, before the body is read).
struct WithinRate;

impl FromRequestParts<Arc<Deps>> for WithinRate {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, deps: &Arc<Deps>) -> Result<Self, ApiError> {
        deps.limit.check(parts).map(|()| WithinRate)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PreviewBody {
    description: String,
    #[serde(default)]
    lat: Option<f64>,
    #[serde(default)]
    long: Option<f64>,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    jurisdiction_id: Option<String>,
}

#[derive(Debug, Serialize)]
struct PreviewAnswer {
    jurisdiction_id: String,
    suggestions: Vec<SuggestionView>,
    /// The first suggestion is sure enough to be placed without a person.
    confident: bool,
}

#[derive(Debug, Serialize)]
struct SuggestionView {
    service_code: String,
    service_name: String,
    group: String,
    department: String,
    department_name: String,
    confidence: f64,
    /// When it would be due if filed now.
    due_at: Timestamp,
}

async fn classify(
    State(deps): State<Arc<Deps>>,
    _: WithinRate,
    body: JsonBody<PreviewBody>,
) -> Result<axum::Json<PreviewAnswer>, ApiError> {
    let body = body.value;
    let catalogue = match body.jurisdiction_id.as_deref().map(str::trim) {
        None | Some("") => deps.catalogues.default_catalogue(),
        Some(raw) => JurisdictionId::parse(raw)
            .ok()
            .and_then(|j| deps.catalogues.get(&j))
            .ok_or_else(|| {
                ApiError::invalid_field(
                    "jurisdiction_id",
                    format!(
                        "jurisdiction_id must be one of {}",
                        deps.catalogues.ids().join(", ")
                    ),
                )
            })?,
    };
    let language = match body.language.as_deref().map(str::trim) {
        None | Some("") => Language::Pl,
        Some(raw) => Language::parse(raw)
            .ok_or_else(|| ApiError::invalid_field("language", "language must be pl or en"))?,
    };
    let point = match (body.lat, body.long) {
        (None, None) => None,
        (Some(lat), Some(long)) => Some(
            GeoPoint::parse(lat, long)
                .map_err(|e| ApiError::invalid_field("lat", e.to_string()))?,
        ),
        _ => {
            return Err(ApiError::invalid_field(
                "long",
                "lat and long come together, or neither",
            ));
        }
    };
    let jurisdiction = catalogue.city().jurisdiction_id.clone();
    let classifier = deps
        .classifiers
        .get(&jurisdiction)
        .ok_or_else(|| ApiError::internal(&format!("no classifier for {jurisdiction}")))?;
    let ServicePreview {
        suggestions,
        confident,
    } = preview_service(
        catalogue,
        classifier,
        &body.description,
        point,
        language,
        deps.threshold,
        deps.clock.now(),
    )
    .map_err(|e| ApiError::invalid_field("description", e.to_string()))?;
    Ok(axum::Json(PreviewAnswer {
        jurisdiction_id: jurisdiction.to_string(),
        suggestions: suggestions
            .into_iter()
            .map(|s| SuggestionView {
                service_code: s.service_code.to_string(),
                service_name: s.service_name,
                group: s.group,
                department: s.department.to_string(),
                department_name: s.department_name,
                confidence: s.confidence,
                due_at: s.due_at,
            })
            .collect(),
        confident,
    }))
}
