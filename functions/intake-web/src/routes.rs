//! HTTP routes of the web intake.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use citydesk_core::ids::{CaseNumber, sha256_hex};
use citydesk_core::ports::IdempotencyClaim;
use citydesk_core::service_form::AnswerError;
use citydesk_core::usecases::submit_request::{Intake, SubmitError, submit_request};
use citydesk_http_api::{ApiError, JsonBody, method_not_allowed, route_not_found};
use serde_json::json;

use crate::Deps;
use crate::dto::{CreateRequestBody, Created, PublicView};

/// The longest `Idempotency-Key` accepted.
const MAX_IDEMPOTENCY_KEY: usize = 255;

pub fn router(deps: Arc<Deps>) -> Router {
    Router::new()
        .route("/v1/requests", post(create_request))
        .route("/v1/requests/{case_number}", get(public_view))
        .route("/health", get(health))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(deps)
}

async fn health(State(deps): State<Arc<Deps>>) -> impl IntoResponse {
    axum::Json(json!({
        "status": "ok",
        "jurisdiction_id": deps.catalogue.city().jurisdiction_id.as_str(),
        "services": deps.catalogue.services().count(),
    }))
}

fn idempotency_claim(
    headers: &HeaderMap,
    raw_body: &[u8],
) -> Result<Option<IdempotencyClaim>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| {
            !k.is_empty()
                && k.len() <= MAX_IDEMPOTENCY_KEY
                && k.chars().all(|c| c.is_ascii_graphic())
        })
        .ok_or_else(|| {
            ApiError::invalid_field(
                "Idempotency-Key",
                format!(
                    "Idempotency-Key must be 1-{MAX_IDEMPOTENCY_KEY} printable ASCII characters"
                ),
            )
        })?;
    Ok(Some(IdempotencyClaim {
        key: format!("web#{key}"),
        payload_hash: sha256_hex(raw_body),
    }))
}

async fn create_request(
    State(deps): State<Arc<Deps>>,
    headers: HeaderMap,
    body: JsonBody<CreateRequestBody>,
) -> Result<Response, ApiError> {
    let claim = idempotency_claim(&headers, &body.raw)?;
    let submission = body.value.into_submission(claim)?;
    let intake = Intake {
        store: deps.store.as_ref(),
        queue: deps.queue.as_ref(),
        clock: deps.clock.as_ref(),
        ids: deps.ids.as_ref(),
        catalogue: &deps.catalogue,
    };
    let submitted = submit_request(&intake, submission).await.map_err(|e| match e {
        SubmitError::UnknownService(_) => ApiError::unprocessable(
            Some("service_code"),
            "unknown_service",
            format!("{e}; GET the service list for valid codes, or leave service_code out to have it chosen"),
        ),
        SubmitError::EmptyDescription | SubmitError::DescriptionTooLong => {
            ApiError::invalid_field("description", e.to_string())
        }
        SubmitError::Answer(a) => {
            let field = match &a {
                AnswerError::TooMany => "attributes".to_owned(),
                _ => format!("attributes.{}", a.field().trim_start_matches("attribute[").trim_end_matches(']')),
            };
            ApiError::invalid_field(field, a.to_string())
        }
        SubmitError::IdempotencyKeyReused => {
            ApiError::unprocessable(Some("Idempotency-Key"), "idempotency_key_reused", e.to_string())
        }
        SubmitError::Port(p) => ApiError::dependency(p.retryable, &p),
    })?;
    let request = &submitted.request;
    let status = if submitted.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut response = (
        status,
        axum::Json(Created {
            id: request.id.to_string(),
            case_number: request.case_number.to_string(),
            status: request.status.to_string(),
            tracking_token: submitted.tracking_token.expose().to_owned(),
        }),
    )
        .into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/v1/requests/{}", request.case_number)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

async fn public_view(
    State(deps): State<Arc<Deps>>,
    Path(case_number): Path<String>,
) -> Result<axum::Json<PublicView>, ApiError> {
    let case = CaseNumber::parse(&case_number)
        .map_err(|e| ApiError::invalid_field("case_number", e.to_string()))?;
    let request = deps
        .store
        .find_by_case_number(&case)
        .await
        .map_err(|e| ApiError::dependency(e.retryable, &e))?
        .ok_or_else(|| ApiError::not_found(format!("no request with case number {case}")))?;
    let history = deps
        .store
        .history(&request.id)
        .await
        .map_err(|e| ApiError::dependency(e.retryable, &e))?;
    Ok(axum::Json(PublicView::new(
        &deps.catalogue,
        &request,
        &history,
    )))
}
