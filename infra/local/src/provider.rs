//! The Twilio- and Postmark-compatible providers on loopback (local only,
//! never deployed): a function configured for them talks to these exactly as
//! to the real APIs, and what every provider this machine plays received is
//! readable at `GET /_local/outbox`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use citydesk_http_api::ApiError;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize)]
pub struct OutboxMessage {
    pub channel: &'static str,
    /// Which provider carried it: `end-user-messaging`, `ses`, `twilio`,
    /// `postmark`, or `twiml` (a webhook's answer).
    pub via: &'static str,
    pub to: String,
    pub from: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Where a mail's answer should go (its Reply-To).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    pub body: String,
    pub received_at: Timestamp,
}

#[derive(Debug, Clone, Default)]
pub struct Outbox(Arc<Mutex<Vec<OutboxMessage>>>);

impl Outbox {
    pub fn messages(&self) -> Vec<OutboxMessage> {
        self.0.lock().map(|m| m.clone()).unwrap_or_default()
    }
    pub(crate) fn push(&self, m: OutboxMessage) {
        if let Ok(mut v) = self.0.lock() {
            v.push(m);
        }
    }
}

/// Credentials the local notify function is configured with.
pub const LOCAL_SMS_ACCOUNT: &str = "AClocal0000000000000000000000000000";
pub const LOCAL_SMS_TOKEN: &str = "local-sms-token";
pub const LOCAL_SMS_FROM: &str = "+48120000311";
/// Where the provider delivers residents' texts (the template's `TextMessage` route).
pub const SMS_WEBHOOK_PATH: &str = "/v1/channels/sms";
pub const LOCAL_EMAIL_TOKEN: &str = "local-email-token";
pub const LOCAL_EMAIL_FROM: &str = "311@krakow.example";

/// Points a function that sends texts and mails at the providers this
/// machine plays: End User Messaging and SES ([`crate::aws_messaging`]) by endpoint,
/// the Twilio- and Postmark-compatible ones (here) by base URL, with
/// the local senders where the template leaves them to the city.
pub(crate) fn play_providers(env: &mut HashMap<String, String>, local_url: &str) {
    env.insert(
        "AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2".into(),
        format!("{local_url}{}", crate::aws_messaging::SMS_VOICE_PREFIX),
    );
    env.insert(
        "AWS_ENDPOINT_URL_SESV2".into(),
        format!("{local_url}{}", crate::aws_messaging::SES_PREFIX),
    );
    env.insert("SMS_ORIGINATION_IDENTITY".into(), LOCAL_SMS_FROM.into());
    env.insert(
        "SMS_API_BASE_URL".into(),
        format!("{local_url}/_local/provider/sms"),
    );
    env.insert("SMS_ACCOUNT_SID".into(), LOCAL_SMS_ACCOUNT.into());
    env.insert("SMS_FROM".into(), LOCAL_SMS_FROM.into());
    env.insert(
        "EMAIL_API_BASE_URL".into(),
        format!("{local_url}/_local/provider/email"),
    );
    env.insert("EMAIL_FROM".into(), LOCAL_EMAIL_FROM.into());
}

pub fn routes(outbox: Outbox) -> Router {
    Router::new()
        .route("/_local/outbox", get(list))
        .route(
            "/_local/provider/sms/2010-04-01/Accounts/{account}/Messages.json",
            post(sms),
        )
        .route("/_local/provider/email/email", post(email))
        .with_state(outbox)
}

async fn list(State(outbox): State<Outbox>) -> Json<Vec<OutboxMessage>> {
    Json(outbox.messages())
}

fn basic_auth_ok(headers: &HeaderMap, account: &str) -> bool {
    use base64::Engine;
    let pair = format!("{account}:{LOCAL_SMS_TOKEN}");
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    );
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some(expected.as_str())
}

/// Twilio's `Messages.json`: form fields `To`, `From`, `Body`, HTTP basic auth.
async fn sms(
    State(outbox): State<Outbox>,
    Path(account): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<impl IntoResponse, ApiError> {
    if account != LOCAL_SMS_ACCOUNT || !basic_auth_ok(&headers, &account) {
        return Err(ApiError::unauthorized("wrong account or auth token"));
    }
    let field = |k: &str| {
        form.get(k)
            .cloned()
            .ok_or_else(|| ApiError::invalid_field(k, format!("{k} is required")))
    };
    outbox.push(OutboxMessage {
        channel: "sms",
        via: "twilio",
        to: field("To")?,
        from: field("From")?,
        subject: None,
        reply_to: None,
        body: field("Body")?,
        received_at: Timestamp::now(),
    });
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({"sid": "SMlocal", "status": "queued"})),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EmailBody {
    from: String,
    to: String,
    subject: String,
    text_body: String,
    #[serde(default)]
    reply_to: Option<String>,
}

/// Postmark's `/email`: JSON body, `X-Postmark-Server-Token` header.
async fn email(
    State(outbox): State<Outbox>,
    headers: HeaderMap,
    Json(body): Json<EmailBody>,
) -> Result<impl IntoResponse, ApiError> {
    if headers
        .get("x-postmark-server-token")
        .and_then(|v| v.to_str().ok())
        != Some(LOCAL_EMAIL_TOKEN)
    {
        return Err(ApiError::unauthorized("wrong server token"));
    }
    outbox.push(OutboxMessage {
        channel: "email",
        via: "postmark",
        to: body.to,
        from: body.from,
        subject: Some(body.subject),
        reply_to: body.reply_to,
        body: body.text_body,
        received_at: Timestamp::now(),
    });
    Ok(Json(
        serde_json::json!({"ErrorCode": 0, "Message": "OK", "MessageID": "local"}),
    ))
}
