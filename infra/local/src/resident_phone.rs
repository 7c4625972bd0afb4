//! A resident's phone, played by this machine (local only): `POST
//! /_local/sms/inbound` with form fields `From` and `Body` (and, as the
//! provider would send them, `MessageSid`, `Latitude`/`Longitude`,
//! `MediaUrl0`/`MediaContentType0`, or `From=whatsapp:+48…`) delivers the
//! text to the SMS webhook exactly as the provider does (signed with the
//! account's auth token over the webhook URL) and puts the service's reply
//! in `/_local/outbox`, as the provider would text it back.
//!
//! `POST /_local/sms/inbound/end-user-messaging` (`From`, `Body`, and
//! optionally `InboundMessageId`) is the same text to a number at AWS End
//! User Messaging: it is published to the stack's inbound-SMS topic as that
//! service publishes it, and the answer, sent with `SendTextMessage`,
//! arrives in the outbox a moment later.

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
    /// The emulator's SNS and the topic End User Messaging publishes texts to.
    end_user_messaging: Option<(aws_sdk_sns::Client, String)>,
}

pub fn routes(
    outbox: Outbox,
    local_url: &str,
    end_user_messaging: Option<(aws_sdk_sns::Client, String)>,
) -> Router {
    Router::new()
        .route("/_local/sms/inbound", post(deliver))
        .route(
            "/_local/sms/inbound/end-user-messaging",
            post(publish_to_topic),
        )
        .with_state(Phone {
            outbox,
            webhook_url: format!("{local_url}{SMS_WEBHOOK_PATH}"),
            http: reqwest::Client::new(),
            end_user_messaging,
        })
}

/// A text to the city's End User Messaging number: published to its topic
/// with the fields that service gives it.
async fn publish_to_topic(
    State(phone): State<Phone>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Some((sns, topic)) = &phone.end_user_messaging else {
        return Err(ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "not_found",
            "the stack subscribes no intake-sms-sns function to a topic",
        ));
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let from = field("From").ok_or_else(|| {
        ApiError::invalid_field("From", "From (the resident's number) is required")
    })?;
    let inbound_message_id =
        field("InboundMessageId").unwrap_or_else(|| ulid::Ulid::new().to_string().to_lowercase());
    let message = serde_json::json!({
        "originationNumber": from,
        "destinationNumber": LOCAL_SMS_FROM,
        "messageKeyword": "KEYWORD_000000000000",
        "messageBody": field("Body").unwrap_or_default(),
        "inboundMessageId": inbound_message_id,
        "previousPublishedMessageId": "",
    });
    let published = sns
        .publish()
        .topic_arn(topic)
        .message(message.to_string())
        .send()
        .await
        .map_err(|e| ApiError::unavailable(&e.into_service_error()))?;
    Ok(Json(serde_json::json!({
        "inbound_message_id": inbound_message_id,
        "sns_message_id": published.message_id,
    })))
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
            via: "twiml",
            to: from,
            from: LOCAL_SMS_FROM.to_owned(),
            subject: None,
            reply_to: None,
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
