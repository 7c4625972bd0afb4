//! HTTP routes of the web intake.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use citydesk_core::ids::CaseNumber;
use citydesk_core::request::Channel;
use citydesk_core::usecases::submit_request::{Intake, submit_request};
use citydesk_http_api::citizen_request::{idempotency_claim, submit_error};
use citydesk_http_api::{ApiError, JsonBody, method_not_allowed, route_not_found};
use serde_json::json;

use crate::Deps;
use crate::dto::{
    CitizenUpdateBody, CreateRequestBody, Created, PrivateView, PublicView, UploadBody,
    UploadTicket,
};
use citydesk_core::media::{
    MAX_MEDIA_PER_REQUEST, MediaError, MediaRef, sniff_image, without_location,
};
use citydesk_core::usecases::citizen_follow_up::{
    CitizenUpdate, FollowUp, FollowUpError, follow_up, private_view,
};

pub fn router(deps: Arc<Deps>) -> Router {
    Router::new()
        .route("/v1/requests", post(create_request))
        .route("/v1/requests/{case_number}", get(view))
        .route("/v1/requests/{case_number}/updates", post(citizen_update))
        .route("/v1/uploads", post(upload_ticket))
        .route("/health", get(health))
        .route("/v1/city", get(city))
        .route(
            "/openapi.json",
            get(|| async { axum::Json(crate::openapi::document()) }),
        )
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(deps)
}

/// What a map needs: the city's name, centre, bounding box and districts.
async fn city(State(deps): State<Arc<Deps>>) -> impl IntoResponse {
    let catalogue = &deps.catalogue;
    let city = catalogue.city();
    axum::Json(json!({
        "jurisdiction_id": city.jurisdiction_id.as_str(),
        "name": {"pl": city.name.pl, "en": city.name.en},
        "timezone": city.timezone,
        "centre": {"lat": city.centre.lat, "long": city.centre.long},
        "bbox": catalogue.bounding_box(),
        "districts": catalogue.document().districts,
    }))
}

async fn health(State(deps): State<Arc<Deps>>) -> impl IntoResponse {
    axum::Json(json!({
        "status": "ok",
        "jurisdiction_id": deps.catalogue.city().jurisdiction_id.as_str(),
        "services": deps.catalogue.services().count(),
    }))
}

async fn create_request(
    State(deps): State<Arc<Deps>>,
    headers: HeaderMap,
    body: JsonBody<CreateRequestBody>,
) -> Result<Response, ApiError> {
    let claim = idempotency_claim(&headers, "web", &body.raw)?;
    let keys = body.value.media.clone();
    let mut submission = body.value.into_submission(Channel::Web, claim)?;
    submission.media = uploaded_media(&deps, &keys).await?;
    let intake = Intake {
        store: deps.store.as_ref(),
        clock: deps.clock.as_ref(),
        ids: deps.ids.as_ref(),
        catalogue: &deps.catalogue,
    };
    let submitted = submit_request(&intake, submission)
        .await
        .map_err(submit_error)?;
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

/// The tracking token, from `Authorization: Bearer …`.
fn tracking_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

fn parse_case(raw: &str) -> Result<CaseNumber, ApiError> {
    CaseNumber::parse(raw).map_err(|e| ApiError::invalid_field("case_number", e.to_string()))
}

fn follow_up_error(e: FollowUpError) -> ApiError {
    match e {
        FollowUpError::NotFound(_) => ApiError::not_found(e.to_string()),
        FollowUpError::WrongToken => ApiError::unauthorized(format!(
            "{e}; use the tracking_token you received when you submitted it"
        )),
        FollowUpError::Empty => ApiError::invalid_field("note", e.to_string()),
        FollowUpError::NoteTooLong => ApiError::invalid_field("note", e.to_string()),
        FollowUpError::NotResolved(_) | FollowUpError::Illegal(_) => {
            ApiError::unprocessable(Some("fixed"), "not_allowed_now", e.to_string())
        }
        FollowUpError::Conflict => ApiError::conflict(e.to_string()),
        FollowUpError::Port(p) => ApiError::dependency(p.retryable, &p),
    }
}

/// The public view, or with the request's tracking token the citizen's private view.
async fn view(
    State(deps): State<Arc<Deps>>,
    Path(case_number): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let case = parse_case(&case_number)?;
    // The link in the confirmation message carries the token as `?token=`.
    let from_link = query
        .as_deref()
        .and_then(|q| q.split('&').find_map(|pair| pair.strip_prefix("token=")))
        .filter(|t| !t.is_empty());
    if let Some(token) = tracking_token(&headers).or(from_link) {
        let (request, history) = private_view(deps.store.as_ref(), &case, token)
            .await
            .map_err(follow_up_error)?;
        let mut private = PrivateView::new(&deps.catalogue, &request, &history);
        private.media_urls = media_links(&deps, &request).await?;
        return Ok(axum::Json(private).into_response());
    }
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
    Ok(axum::Json(PublicView::new(&deps.catalogue, &request, &history)).into_response())
}

/// The citizen adds information, or says whether the problem is fixed.
async fn citizen_update(
    State(deps): State<Arc<Deps>>,
    Path(case_number): Path<String>,
    headers: HeaderMap,
    body: JsonBody<CitizenUpdateBody>,
) -> Result<Response, ApiError> {
    let case = parse_case(&case_number)?;
    let token = tracking_token(&headers).ok_or_else(|| {
        ApiError::unauthorized(
            "send the request's tracking token as Authorization: Bearer <tracking_token>",
        )
    })?;
    let follow = FollowUp {
        store: deps.store.as_ref(),
        clock: deps.clock.as_ref(),
    };
    let update = CitizenUpdate {
        note: body.value.note,
        fixed: body.value.fixed,
    };
    let request = follow_up(&follow, &case, token, update)
        .await
        .map_err(follow_up_error)?;
    let history = deps
        .store
        .history(&request.id)
        .await
        .map_err(|e| ApiError::dependency(e.retryable, &e))?;
    let mut private = PrivateView::new(&deps.catalogue, &request, &history);
    private.media_urls = media_links(&deps, &request).await?;
    Ok(axum::Json(private).into_response())
}

/// Photos larger than a request body can hold go straight to storage.
const MAX_UPLOAD_BYTES: u64 = 15 * 1024 * 1024;
const UPLOAD_LINK_SECS: u64 = 900;
const MEDIA_LINK_SECS: u64 = 3600;
/// Photo types whose location metadata the server removes (HEIC cannot be).
const IMAGE_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];

/// Where to PUT a photo: a server-chosen key and an expiring upload link.
async fn upload_ticket(
    State(deps): State<Arc<Deps>>,
    body: JsonBody<UploadBody>,
) -> Result<(StatusCode, axum::Json<UploadTicket>), ApiError> {
    let content_type = body.value.content_type.trim().to_ascii_lowercase();
    if citydesk_core::media::UNSTRIPPABLE_TYPES.contains(&content_type.as_str()) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            MediaError::CannotRemoveLocation("HEIC").to_string(),
        ));
    }
    let Some(extension) = IMAGE_TYPES
        .iter()
        .position(|t| *t == content_type)
        .map(|i| ["jpg", "png", "gif", "webp"][i])
    else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("content_type must be one of {}", IMAGE_TYPES.join(", ")),
        ));
    };
    if body.value.bytes == 0 {
        return Err(ApiError::invalid_field(
            "bytes",
            "bytes must be the photo's size, more than 0",
        ));
    }
    if body.value.bytes > MAX_UPLOAD_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("a photo must be at most {MAX_UPLOAD_BYTES} bytes"),
        ));
    }
    // The size is in the key, so what arrives is checked against it too.
    let key = format!(
        "uploads/{}/{}.{}.{extension}",
        deps.catalogue.city().jurisdiction_id,
        deps.ids.request_id().as_str().to_ascii_lowercase(),
        body.value.bytes
    );
    let now = deps.clock.now();
    let upload_url = deps
        .media
        .upload_link(&key, &content_type, body.value.bytes, UPLOAD_LINK_SECS)
        .await
        .map_err(|e| ApiError::dependency(e.retryable, &e))?;
    Ok((
        StatusCode::CREATED,
        axum::Json(UploadTicket {
            media_key: key,
            upload_url,
            method: "PUT",
            content_type,
            bytes: body.value.bytes,
            expires_at: now
                .saturating_add(jiff::SignedDuration::from_secs(UPLOAD_LINK_SECS as i64))
                .unwrap_or(now),
        }),
    ))
}

/// Checks photos uploaded through an upload ticket: ours, there, small enough,
/// and an image by content.
async fn uploaded_media(deps: &Deps, keys: &[String]) -> Result<Vec<MediaRef>, ApiError> {
    if keys.len() > MAX_MEDIA_PER_REQUEST {
        return Err(ApiError::invalid_field(
            "media",
            format!("at most {MAX_MEDIA_PER_REQUEST} photos per request"),
        ));
    }
    let prefix = format!("uploads/{}/", deps.catalogue.city().jurisdiction_id);
    let mut refs = Vec::new();
    for key in keys {
        let well_formed = key.strip_prefix(&prefix).is_some_and(|rest| {
            !rest.is_empty()
                && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '.')
                && !rest.contains("..")
        });
        if !well_formed {
            return Err(ApiError::invalid_field(
                "media",
                "media holds the media_key values that POST /v1/uploads returned",
            ));
        }
        let stored = deps
            .media
            .inspect(key)
            .await
            .map_err(|e| ApiError::dependency(e.retryable, &e))?
            .ok_or_else(|| {
                ApiError::invalid_field(
                    "media",
                    format!("nothing was uploaded to {key}; PUT the photo to its upload_url first"),
                )
            })?;
        let declared = key
            .rsplit('.')
            .nth(1)
            .and_then(|bytes| bytes.parse::<u64>().ok());
        if declared != Some(stored.bytes) || stored.bytes > MAX_UPLOAD_BYTES {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!(
                    "the photo at {key} is {} bytes, not the size its upload ticket was issued for",
                    stored.bytes
                ),
            ));
        }
        let unsupported = |message: String| {
            ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                message,
            )
        };
        let kind = sniff_image(&stored.head).ok_or_else(|| {
            unsupported(format!(
                "the file at {key} is not a JPEG, PNG, GIF or WebP image"
            ))
        })?;
        let uploaded = deps
            .media
            .read_upload(key)
            .await
            .map_err(|e| ApiError::dependency(e.retryable, &e))?
            .ok_or_else(|| {
                ApiError::invalid_field("media", format!("nothing was uploaded to {key}"))
            })?;
        let photo = without_location(&uploaded, kind).map_err(|e| unsupported(e.to_string()))?;
        // Kept under media/, its location removed: what stays in uploads/
        // expires with the bucket's lifecycle rule.
        let media_key = key.replacen("uploads/", "media/", 1);
        let size = photo.len() as u64;
        deps.media
            .put_media(&media_key, kind.mime, photo)
            .await
            .map_err(|e| ApiError::dependency(e.retryable, &e))?;
        refs.push(MediaRef::Stored {
            key: media_key,
            content_type: kind.mime.to_owned(),
            bytes: size,
        });
    }
    Ok(refs)
}

/// Expiring links to a request's photos, for its citizen.
async fn media_links(
    deps: &Deps,
    request: &citydesk_core::request::ServiceRequest,
) -> Result<Vec<String>, ApiError> {
    let mut links = Vec::new();
    for m in &request.media {
        links.push(match m {
            MediaRef::Link { url } => url.clone(),
            MediaRef::Stored { key, .. } => deps
                .media
                .read_link(key, MEDIA_LINK_SECS)
                .await
                .map_err(|e| ApiError::dependency(e.retryable, &e))?,
        });
    }
    Ok(links)
}
