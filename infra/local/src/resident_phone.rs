//! A resident's phone, played by this machine (local only): `POST
//! /_local/sms/inbound` with form fields `From` and `Body` (and, as the
//! provider would send them, `MessageSid`, `Latitude`/`Longitude`,
//! `MediaUrl0`/`MediaContentType0`, or `From=whatsapp:+48…`) delivers the
//! text to the SMS webhook exactly as the provider does (signed with the
//! account's auth token over the webhook URL) and puts the service's reply
//! in `/_local/outbox`, as the provider would text it back.

use axum::extract::State;
use axum::routing::post;
use axum::{Form, Json, Router};
use citydesk_core::channels::webhook_signature::{SignatureAlgorithm, sign};
use citydesk_http_api::ApiError;
use jiff::Timestamp;

use crate::provider::{
    LOCAL_SMS_ACCOUNT, LOCAL_SMS_FROM, LOCAL_SMS_TOKEN, Outbox, OutboxMessage, SMS_WEBHOOK_PATH,
};

#[derive(Clone)]
struct Phone {
    outbox: Outbox,
    webhook_url: String,
    http: reqwest::Client,
}

pub fn routes(outbox: Outbox, local_url: &str) -> Router {
    Router::new()
        .route("/_local/sms/inbound", post(deliver))
        .with_state(Phone {
            outbox,
            webhook_url: format!("{local_url}{SMS_WEBHOOK_PATH}"),
            http: reqwest::Client::new(),
        })
}

/// The text inside TwiML's `<Message>`, if the answer has one.
pub fn twiml_message(twiml: &str) -> Option<String> {
    let start = twiml.find("<Message>")? + "<Message>".len();
    let end = twiml[start..].find("</Message>")? + start;
    quick_xml::escape::unescape(&twiml[start..end])
        .ok()
        .map(|t| t.into_owned())
}

async fn deliver(
    State(phone): State<Phone>,
    Form(mut fields): Form<Vec<(String, String)>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let from = fields
        .iter()
        .find(|(k, _)| k == "From")
        .map(|(_, v)| v.clone())
        .ok_or_else(|| {
            ApiError::invalid_field("From", "From (the resident's number) is required")
        })?;
    let has = |fields: &[(String, String)], name: &str| fields.iter().any(|(k, _)| k == name);
    if !has(&fields, "MessageSid") {
        let sid = format!("SM{}", ulid::Ulid::new().to_string().to_lowercase());
        fields.push(("MessageSid".into(), sid));
    }
    for (name, value) in [
        ("AccountSid", LOCAL_SMS_ACCOUNT),
        ("To", LOCAL_SMS_FROM),
        ("NumSegments", "1"),
    ] {
        if !has(&fields, name) {
            fields.push((name.into(), value.into()));
        }
    }
    if !has(&fields, "NumMedia") {
        let media = fields
            .iter()
            .filter(|(k, _)| k.starts_with("MediaUrl"))
            .count();
        fields.push(("NumMedia".into(), media.to_string()));
    }
    let signature = sign(
        LOCAL_SMS_TOKEN,
        SignatureAlgorithm::HmacSha1,
        &phone.webhook_url,
        &fields,
    );
    let response = phone
        .http
        .post(&phone.webhook_url)
        .header("X-Twilio-Signature", signature)
        .form(&fields)
        .send()
        .await
        .map_err(|e| ApiError::unavailable(&e.without_url()))?;
    let status = response.status().as_u16();
    let answer = response
        .text()
        .await
        .map_err(|e| ApiError::unavailable(&e.without_url()))?;
    let reply = twiml_message(&answer);
    if let Some(body) = &reply {
        phone.outbox.push(OutboxMessage {
            channel: "sms",
            to: from,
            from: LOCAL_SMS_FROM.to_owned(),
            subject: None,
            body: body.clone(),
            received_at: Timestamp::now(),
        });
    }
    Ok(Json(serde_json::json!({
        "webhook_status": status,
        "reply": reply,
        "webhook_answer": answer,
    })))
}
