//! What every citydesk HTTP function shares at its edge: one JSON error shape
//! that says what to fix, a JSON body extractor that checks content type and
//! size and names the offending field, and JSON fallbacks for unknown routes.
//!
//! Error body: `{"error": {"status": 400, "code": "invalid_field", "field": "lat", "message": "…"}}`.

pub mod caller;
pub mod citizen_request;
pub mod rate_limit;

use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Largest JSON body accepted by the public API.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// An error an HTTP client can act on. 5xx errors never carry internal detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub field: Option<String>,
    pub message: String,
    /// A stale write (409 `stale_version`): the version the object has now,
    /// also sent as its `ETag`.
    pub current_version: Option<u64>,
    /// Seconds after which a retry may succeed (`Retry-After`; 429 and 503).
    pub retry_after: Option<u64>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    status: u16,
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    current_version: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            field: None,
            message: message.into(),
            current_version: None,
            retry_after: None,
        }
    }
    /// 400: a field is missing, mistyped or out of range.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: Some(field.into()),
            ..Self::new(StatusCode::BAD_REQUEST, "invalid_field", message)
        }
    }
    /// 422: well-formed, but refers to something that does not exist or conflicts.
    pub fn unprocessable(
        field: Option<&str>,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            field: field.map(str::to_owned),
            ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
        }
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }
    /// 409: `If-Match` named a version the object no longer has.
    pub fn stale(current_version: u64, message: impl Into<String>) -> Self {
        Self {
            current_version: Some(current_version),
            ..Self::new(StatusCode::CONFLICT, "stale_version", message)
        }
    }
    /// 500/503: the cause is logged here, the client only learns to retry.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on our side; please retry",
        )
    }
    /// A failed dependency: 503 (retry) when the failure is transient, else 500.
    pub fn dependency(retryable: bool, cause: &dyn std::fmt::Display) -> Self {
        if retryable {
            Self::unavailable(cause)
        } else {
            Self::internal(cause)
        }
    }
    pub fn unavailable(cause: &dyn std::fmt::Display) -> Self {
        tracing::warn!(error = %cause, "dependency unavailable");
        Self {
            retry_after: Some(2),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the service is busy; please retry in a moment",
            )
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                status: self.status.as_u16(),
                code: self.code,
                field: self.field.as_deref(),
                message: &self.message,
                current_version: self.current_version,
            },
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(version) = self.current_version
            && let Ok(etag) = header::HeaderValue::from_str(&etag_of(version))
        {
            response.headers_mut().insert(header::ETAG, etag);
        }
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        response
    }
}

/// The `ETag` of an object at `version` (a strong validator: `"7"`).
pub fn etag_of(version: u64) -> String {
    format!("\"{version}\"")
}

/// The version an `If-Match` header names: `None` without the header, 400
/// when it is not one `ETag` this API gave (`"7"`; `W/` and `*` are refused).
pub fn if_match_version(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let Some(raw) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    raw.to_str()
        .ok()
        .map(str::trim)
        .and_then(|v| v.strip_prefix('"')?.strip_suffix('"'))
        .and_then(|v| v.parse::<u64>().ok())
        .map(Some)
        .ok_or_else(|| {
            ApiError::invalid_field(
                "If-Match",
                "If-Match must be the ETag this API returned for the object, e.g. \"7\"",
            )
        })
}

/// A JSON body: `application/json` (415 otherwise), at most [`MAX_BODY_BYTES`]
/// (413), and a 400 naming the field when it does not fit `T`.
#[derive(Debug)]
pub struct JsonBody<T> {
    pub value: T,
    /// The raw bytes, e.g. to fingerprint the payload for idempotency.
    pub raw: bytes::Bytes,
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().eq_ignore_ascii_case("application/json"))
        .unwrap_or(false)
}

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        let raw = axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES)
            .await
            .map_err(|_| {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!("the body must be at most {MAX_BODY_BYTES} bytes"),
                )
            })?;
        let value = parse_json(&raw)?;
        Ok(Self { value, raw })
    }
}

/// Parses JSON, naming the field that is missing, unknown or of the wrong type.
pub fn parse_json<T: DeserializeOwned>(raw: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(raw);
    serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = inner.to_string();
        let field = if path == "." {
            // serde names the missing or unknown field in its message: `missing field `description``.
            message.split('`').nth(1).map(str::to_owned)
        } else {
            Some(path)
        };
        let message = if inner.is_syntax() || inner.is_eof() {
            format!("the body is not valid JSON: {message}")
        } else {
            message
        };
        ApiError {
            field,
            ..ApiError::new(StatusCode::BAD_REQUEST, "invalid_field", message)
        }
    })
}

/// 404 for routes nobody serves.
pub async fn route_not_found() -> ApiError {
    ApiError::not_found("no such endpoint; see the API documentation for the routes")
}

/// 405 for a known path with the wrong method (axum's own text response replaced).
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not accept that method",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Probe {
        description: String,
        lat: Option<f64>,
    }

    #[test]
    fn names_the_field() {
        let err = parse_json::<Probe>(br#"{"description": "x", "lat": "north"}"#).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("lat"));
        let err = parse_json::<Probe>(br#"{"lat": 1.0}"#).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("description"));
        let err = parse_json::<Probe>(br#"{"description": "x", "status": "closed"}"#).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("status"));
        let err = parse_json::<Probe>(b"{not json").unwrap_err();
        assert!(err.message.contains("not valid JSON"));
    }
}
