//! The audit trail's API, for the `quality` role (a staff sign-in token;
//! department API keys are not accepted):
//! - `GET /v1/audit/records?day=YYYY-MM-DD` lists a UTC day's records (every
//!   staff change, every staff read of personal data) in time order, as JSON;
//! - with `&format=csv` the same as a CSV download (`audit-YYYY-MM-DD.csv`).
//!
//! The records live in a bucket with S3 Object Lock in compliance mode; this
//! function may only read it.
//!
//! | variable | meaning |
//! |---|---|
//! | `AUDIT_BUCKET_NAME` | the audit trail's bucket |
//! | `STAFF_ISSUER`, `STAFF_AUDIENCE`, `STAFF_JWKS_URL`, `STAFF_GROUPS_CLAIM` | staff sign-in ([`citydesk_aws::config::StaffSignIn`]) |

use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use citydesk_aws::audit::S3AuditTrail;
use citydesk_aws::config::{Clients, CommonConfig, ConfigError, Env, StaffSignIn};
use citydesk_aws::system::SystemClock;
use citydesk_core::audit::AuditRecord;
use citydesk_core::ports::{AuditLog, Clock};
use citydesk_core::usecases::audit_trail::{AuditError, audit_csv, audit_day};
use citydesk_http_api::caller::Authenticator;
use citydesk_http_api::{ApiError, method_not_allowed, route_not_found};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    pub audit_bucket_name: String,
    pub staff: Option<StaffSignIn>,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env(env)?,
            audit_bucket_name: env.required("AUDIT_BUCKET_NAME")?,
            staff: StaffSignIn::from_env(env)?,
        })
    }
}

pub struct Deps {
    pub log: Arc<dyn AuditLog>,
    /// Staff tokens only.
    pub auth: Authenticator,
    pub clock: Arc<dyn Clock>,
}

impl Deps {
    pub async fn init(config: &Config) -> Self {
        let clients = Clients::new(&config.common).await;
        Self {
            log: Arc::new(S3AuditTrail::new(
                clients.s3.clone(),
                config.audit_bucket_name.clone(),
            )),
            auth: Authenticator::new(config.staff.as_ref().map(StaffSignIn::tokens), None),
            clock: Arc::new(SystemClock),
        }
    }
}

pub fn router(deps: Arc<Deps>) -> Router {
    Router::new()
        .route("/v1/audit/records", get(records))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(deps)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordsQuery {
    day: Option<String>,
    format: Option<String>,
}

#[derive(Debug, Serialize)]
struct RecordList<'a> {
    day: &'a str,
    count: usize,
    records: &'a [AuditRecord],
}

async fn records(
    State(deps): State<Arc<Deps>>,
    headers: HeaderMap,
    query: Result<Query<RecordsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let caller = deps.auth.caller(&headers).await?;
    let Query(query) = query.map_err(|e| ApiError::invalid_field("query", e.body_text()))?;
    let day = query
        .day
        .ok_or_else(|| ApiError::invalid_field("day", "day is required: a date as YYYY-MM-DD"))?;
    let csv = match query.format.as_deref().map(str::trim) {
        None | Some("" | "json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::invalid_field(
                "format",
                format!("format must be json or csv, not {other:?}"),
            ));
        }
    };
    let records = audit_day(deps.log.as_ref(), deps.clock.as_ref(), &caller, &day)
        .await
        .map_err(|e| match e {
            AuditError::NotQuality => ApiError::forbidden(e.to_string()),
            AuditError::Day(_) | AuditError::FutureDay(_) => {
                ApiError::invalid_field("day", e.to_string())
            }
            AuditError::Port(p) => ApiError::dependency(p.retryable, &p),
        })?;
    let day = day.trim();
    if !csv {
        return Ok(axum::Json(RecordList {
            day,
            count: records.len(),
            records: &records,
        })
        .into_response());
    }
    let body = audit_csv(&records).map_err(|e| ApiError::internal(&e))?;
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"audit-{day}.csv\""))
        .map_err(|e| ApiError::internal(&e))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}
