//! `POST /v1/channels/sms`: the provider's webhook, checked and answered.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use citydesk_core::channels::sms_command::MAX_SMS_CHARS;
use citydesk_core::channels::webhook_signature::{SignatureAlgorithm, verify_form};
use citydesk_core::contact::PhoneNumber;
use citydesk_core::location::GeoPoint;
use citydesk_core::request::Channel;
use citydesk_core::usecases::text_conversation::{InboundText, TextError, answer_text};
use citydesk_http_api::{ApiError, method_not_allowed, route_not_found};
use secrecy::ExposeSecret;

use crate::Deps;
use crate::media::{Attachment, fetch_photos};

/// The largest webhook body taken: a message of ten segments with ten
/// attachments' URLs is a few kilobytes.
pub const MAX_WEBHOOK_BYTES: usize = 64 * 1024;
/// WhatsApp's longest message.
pub const MAX_WHATSAPP_CHARS: usize = 4096;

pub fn router(deps: Arc<Deps>) -> Router {
    Router::new()
        .route("/v1/channels/sms", post(inbound))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // The cap is checked in the handler, so it answers with its own message.
        .layer(DefaultBodyLimit::disable())
        .with_state(deps)
}

/// A message as the webhook's fields give it, checked.
#[derive(Debug)]
pub struct WebhookMessage {
    pub inbound: InboundText,
    pub attachments: Vec<Attachment>,
}

fn field<'p>(params: &'p [(String, String)], name: &str) -> Option<&'p str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// Reads the fields of a signed webhook (`MessageSid`, `From`, `Body`,
/// `Latitude`/`Longitude`, `NumMedia` with `MediaUrl{n}`).
pub fn parse_message(params: &[(String, String)]) -> Result<WebhookMessage, ApiError> {
    let message_id = field(params, "MessageSid")
        .or_else(|| field(params, "SmsMessageSid"))
        .filter(|id| id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric()))
        .ok_or_else(|| {
            ApiError::invalid_field(
                "MessageSid",
                "MessageSid must be the provider's message id (letters and digits)",
            )
        })?
        .to_owned();
    let from =
        field(params, "From").ok_or_else(|| ApiError::invalid_field("From", "From is missing"))?;
    let (channel, number) = match from.strip_prefix("whatsapp:") {
        Some(number) => (Channel::Messenger, number),
        None => (Channel::Sms, from),
    };
    let from =
        PhoneNumber::parse(number).map_err(|e| ApiError::invalid_field("From", e.to_string()))?;
    let body = field(params, "Body").unwrap_or_default().to_owned();
    // WhatsApp carries longer texts than ten SMS segments.
    let cap = if channel == Channel::Messenger {
        MAX_WHATSAPP_CHARS
    } else {
        MAX_SMS_CHARS
    };
    if body.chars().count() > cap {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("Body must be at most {cap} characters"),
        ));
    }
    let point = match (field(params, "Latitude"), field(params, "Longitude")) {
        (None, None) => None,
        (Some(lat), Some(long)) => {
            let bad =
                || ApiError::invalid_field("Latitude", "Latitude and Longitude must be degrees");
            let lat: f64 = lat.parse().map_err(|_| bad())?;
            let long: f64 = long.parse().map_err(|_| bad())?;
            Some(
                GeoPoint::parse(lat, long)
                    .map_err(|e| ApiError::invalid_field("Latitude", e.to_string()))?,
            )
        }
        _ => {
            return Err(ApiError::invalid_field(
                "Latitude",
                "a shared location needs both Latitude and Longitude",
            ));
        }
    };
    let media_count: usize = match field(params, "NumMedia") {
        None => 0,
        Some(n) => n
            .parse()
            .map_err(|_| ApiError::invalid_field("NumMedia", "NumMedia must be a number"))?,
    };
    let attachments = (0..media_count.min(10))
        .filter_map(|n| {
            Some(Attachment {
                url: field(params, &format!("MediaUrl{n}"))?.to_owned(),
                content_type: field(params, &format!("MediaContentType{n}"))
                    .unwrap_or("application/octet-stream")
                    .to_ascii_lowercase(),
            })
        })
        .collect();
    Ok(WebhookMessage {
        inbound: InboundText {
            message_id,
            channel,
            from,
            body,
            point,
            media: Vec::new(),
            dropped_attachments: 0,
        },
        attachments,
    })
}

/// The URL the provider signed: the configured public one, with the query
/// the call carried when the configured one has none.
fn signed_url(configured: &str, uri: &Uri) -> String {
    match uri.query() {
        Some(query) if !configured.contains('?') => format!("{configured}?{query}"),
        _ => configured.to_owned(),
    }
}

async fn inbound(
    State(deps): State<Arc<Deps>>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match handle(&deps, &uri, &headers, body).await {
        Ok(twiml) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
            twiml,
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

async fn handle(
    deps: &Deps,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
) -> Result<String, ApiError> {
    let bytes = axum::body::to_bytes(body, MAX_WEBHOOK_BYTES)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("a webhook body must be at most {MAX_WEBHOOK_BYTES} bytes"),
            )
        })?;
    let params: Vec<(String, String)> = form_urlencoded::parse(&bytes).into_owned().collect();
    // The signature first: nothing of the message is read before it holds.
    let header_text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let algorithm =
        SignatureAlgorithm::from_settings(header_text("x-twilio-webhooks-signature-settings"))
            .map_err(|e| ApiError::forbidden(e.to_string()))?;
    let token = deps.auth_token.as_ref().ok_or_else(|| {
        ApiError::forbidden(
            "this deployment keeps no Twilio-compatible auth token (SMS_AUTH_TOKEN_PARAMETER), so it takes no webhook",
        )
    })?;
    verify_form(
        token.expose_secret(),
        algorithm,
        &signed_url(&deps.webhook_url, uri),
        &params,
        header_text("x-twilio-signature"),
    )
    .map_err(|e| {
        ApiError::forbidden(format!(
            "{e}: the webhook is not signed by this account's provider"
        ))
    })?;

    let WebhookMessage {
        mut inbound,
        attachments,
    } = parse_message(&params)?;
    let (media, dropped) = fetch_photos(deps, &inbound.message_id, &attachments)
        .await
        .map_err(|e| ApiError::dependency(e.retryable, &e))?;
    inbound.media = media;
    inbound.dropped_attachments = dropped;
    let answer = answer_text(&deps.talk.desk(), inbound)
        .await
        .map_err(|e| match e {
            TextError::Port(p) => ApiError::dependency(p.retryable, &p),
            TextError::Submit(s) => ApiError::unprocessable(None, "not_a_request", s.to_string()),
        })?;
    Ok(crate::twiml::reply(answer.reply.as_deref()))
}
