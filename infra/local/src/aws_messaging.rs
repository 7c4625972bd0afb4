//! AWS End User Messaging SMS and Amazon SES (v2) as this machine plays
//! them (local only, never deployed): the functions' SDK clients are pointed
//! here by endpoint alone (`AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2`,
//! `AWS_ENDPOINT_URL_SESV2`), and what they send lands in `/_local/outbox`
//! beside the HTTP providers' messages.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use jiff::Timestamp;
use serde::Deserialize;

use crate::provider::{Outbox, OutboxMessage};

/// The prefixes the runner gives the functions as the two services' endpoints.
pub const SMS_VOICE_PREFIX: &str = "/_local/aws/sms-voice";
pub const SES_PREFIX: &str = "/_local/aws/ses";

pub fn routes(outbox: Outbox) -> Router {
    Router::new()
        .route(SMS_VOICE_PREFIX, post(sms_voice))
        .route(&format!("{SMS_VOICE_PREFIX}/"), post(sms_voice))
        .route(
            &format!("{SES_PREFIX}/v2/email/outbound-emails"),
            post(ses_send),
        )
        .with_state(outbox)
}

/// An AWS error as the SDKs read it (`__type` or `x-amzn-errortype`, and a message).
fn aws_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        [("x-amzn-errortype", code)],
        axum::Json(serde_json::json!({"__type": code, "message": message})),
    )
        .into_response()
}

/// Only SigV4-signed calls, as the service takes them (the signature itself
/// is not checked here: the emulator's credentials are dummies).
fn signed(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("AWS4-HMAC-SHA256 "))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SendTextMessage {
    destination_phone_number: String,
    #[serde(default)]
    origination_identity: Option<String>,
    message_body: String,
}

/// `PinpointSMSVoiceV2.SendTextMessage` (JSON 1.0 protocol).
async fn sms_voice(State(outbox): State<Outbox>, headers: HeaderMap, body: Bytes) -> Response {
    if !signed(&headers) {
        return aws_error(
            StatusCode::FORBIDDEN,
            "AccessDeniedException",
            "the call is not signed",
        );
    }
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if target != "PinpointSMSVoiceV2.SendTextMessage" {
        return aws_error(
            StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            &format!("the local End User Messaging plays SendTextMessage only, not {target:?}"),
        );
    }
    let message: SendTextMessage = match serde_json::from_slice(&body) {
        Ok(m) => m,
        Err(e) => {
            return aws_error(
                StatusCode::BAD_REQUEST,
                "ValidationException",
                &e.to_string(),
            );
        }
    };
    outbox.push(OutboxMessage {
        channel: "sms",
        via: "end-user-messaging",
        to: message.destination_phone_number,
        from: message.origination_identity.unwrap_or_default(),
        subject: None,
        reply_to: None,
        body: message.message_body,
        received_at: Timestamp::now(),
    });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/x-amz-json-1.0")],
        axum::Json(serde_json::json!({"MessageId": format!("local-{}", ulid::Ulid::new())})),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SendEmail {
    from_email_address: String,
    #[serde(default)]
    reply_to_addresses: Vec<String>,
    destination: Destination,
    content: EmailContent,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Destination {
    #[serde(default)]
    to_addresses: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EmailContent {
    simple: Option<SimpleMessage>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SimpleMessage {
    subject: TextPart,
    body: MessageBody,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MessageBody {
    text: Option<TextPart>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TextPart {
    data: String,
}

/// SES v2's `SendEmail` (`POST /v2/email/outbound-emails`), simple content.
async fn ses_send(State(outbox): State<Outbox>, headers: HeaderMap, body: Bytes) -> Response {
    if !signed(&headers) {
        return aws_error(
            StatusCode::FORBIDDEN,
            "AccessDeniedException",
            "the call is not signed",
        );
    }
    let mail: SendEmail = match serde_json::from_slice(&body) {
        Ok(m) => m,
        Err(e) => {
            return aws_error(
                StatusCode::BAD_REQUEST,
                "BadRequestException",
                &e.to_string(),
            );
        }
    };
    let Some(simple) = mail.content.simple else {
        return aws_error(
            StatusCode::BAD_REQUEST,
            "BadRequestException",
            "the local SES plays simple content only",
        );
    };
    for to in mail.destination.to_addresses {
        outbox.push(OutboxMessage {
            channel: "email",
            via: "ses",
            to,
            from: mail.from_email_address.clone(),
            subject: Some(simple.subject.data.clone()),
            reply_to: mail.reply_to_addresses.first().cloned(),
            body: simple
                .body
                .text
                .as_ref()
                .map(|t| t.data.clone())
                .unwrap_or_default(),
            received_at: Timestamp::now(),
        });
    }
    axum::Json(serde_json::json!({"MessageId": format!("local-{}", ulid::Ulid::new())}))
        .into_response()
}
