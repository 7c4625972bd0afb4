//! HTTP routes of the operator API.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use citydesk_core::contact::{Email, PhoneNumber};
use citydesk_core::language::Language;
use citydesk_core::request::ServiceRequest;
use citydesk_core::usecases::operator_desk::{
    AnsweredContact, CallerIdentifier, OperatorDesk, OperatorError, look_up_caller,
    operator_channel, operator_stamp, record_answered_contact,
};
use citydesk_core::usecases::submit_request::{Intake, submit_request};
use citydesk_http_api::citizen_request::{CreateRequestBody, idempotency_claim, submit_error};
use citydesk_http_api::{ApiError, JsonBody, method_not_allowed, parse_json, route_not_found};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::Deps;

/// How the audit trail names this API.
const AUDIT_VIA: &str = "operator-api";

pub fn router(deps: Arc<Deps>) -> Router {
    Router::new()
        .route("/v1/operator/callers/lookup", post(lookup))
        .route("/v1/operator/requests", post(register))
        .route("/v1/operator/contacts", post(answered_contact))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(deps)
}

fn operator_error(e: OperatorError) -> ApiError {
    match e {
        OperatorError::NotOperator => ApiError::forbidden(e.to_string()),
        OperatorError::Channel => ApiError::invalid_field("channel", e.to_string()),
        OperatorError::UnknownArticle(_) => {
            ApiError::unprocessable(Some("articles"), "unknown_article", e.to_string())
        }
        OperatorError::NoArticle => ApiError::invalid_field("articles", e.to_string()),
        OperatorError::Port(p) => ApiError::dependency(p.retryable, &p),
    }
}

/// The operator behind the token: 401 without a valid one, 403 without the role.
async fn operator(
    deps: &Deps,
    headers: &HeaderMap,
) -> Result<citydesk_core::audit::StaffStamp, ApiError> {
    let caller = deps.auth.caller(headers).await?;
    operator_stamp(&caller, AUDIT_VIA).map_err(operator_error)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LookupBody {
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

#[derive(Debug, Serialize)]
struct ContactView {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
}

/// One of the caller's requests, as the operator reads it back to them.
#[derive(Debug, Serialize)]
struct CallerRequest {
    case_number: String,
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    department: Option<String>,
    channel: String,
    description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<String>,
    created_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    due_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resolution: Option<String>,
}

#[derive(Debug, Serialize)]
struct CallerView {
    contact: Option<ContactView>,
    open: Vec<CallerRequest>,
    past: Vec<CallerRequest>,
}

fn caller_request(deps: &Deps, r: &ServiceRequest) -> CallerRequest {
    CallerRequest {
        case_number: r.case_number.to_string(),
        status: r.status.to_string(),
        service_code: r.service_code.as_ref().map(|c| c.to_string()),
        service_name: r
            .service_code
            .as_ref()
            .and_then(|c| deps.catalogue.service(c))
            .map(|s| s.name.get(r.language).to_owned()),
        department: r.department.as_ref().map(|d| d.to_string()),
        channel: r.channel.as_str().to_owned(),
        description: r.description.clone(),
        address: r.location.address.clone(),
        created_at: r.created_at,
        due_at: r.due_at,
        resolution: r.resolution.clone(),
    }
}

async fn lookup(
    State(deps): State<Arc<Deps>>,
    headers: HeaderMap,
    body: JsonBody<LookupBody>,
) -> Result<axum::Json<CallerView>, ApiError> {
    let stamp = operator(&deps, &headers).await?;
    let field_error =
        |field: &str, e: &dyn std::fmt::Display| ApiError::invalid_field(field, e.to_string());
    let present = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let who = match (present(&body.value.phone), present(&body.value.email)) {
        (Some(phone), None) => CallerIdentifier::Phone(
            PhoneNumber::parse(&phone).map_err(|e| field_error("phone", &e))?,
        ),
        (None, Some(email)) => {
            CallerIdentifier::Email(Email::parse(&email).map_err(|e| field_error("email", &e))?)
        }
        _ => {
            return Err(ApiError::invalid_field(
                "phone",
                "send exactly one of phone or email",
            ));
        }
    };
    let desk = OperatorDesk {
        store: deps.store.as_ref(),
        contacts: deps.contacts.as_ref(),
        people: deps.people.as_ref(),
        audit: deps.audit.as_ref(),
        clock: deps.clock.as_ref(),
        contact_key: &deps.contact_key,
    };
    let read_id = ulid::Ulid::new().to_string();
    let found = look_up_caller(&desk, &stamp, &who, read_id)
        .await
        .map_err(operator_error)?;
    Ok(axum::Json(CallerView {
        contact: found.contact.map(|c| ContactView {
            name: c.name.map(|n| n.as_str().to_owned()),
            phone: c.phone.map(|p| p.as_str().to_owned()),
            email: c.email.map(|e| e.as_str().to_owned()),
        }),
        open: found
            .open
            .iter()
            .map(|r| caller_request(&deps, r))
            .collect(),
        past: found
            .past
            .iter()
            .map(|r| caller_request(&deps, r))
            .collect(),
    }))
}

#[derive(Debug, Serialize)]
struct Registered {
    id: String,
    case_number: String,
    status: String,
    channel: String,
}

/// The citizen's body plus `channel`; photos are not attached here.
async fn register(
    State(deps): State<Arc<Deps>>,
    headers: HeaderMap,
    body: JsonBody<serde_json::Map<String, serde_json::Value>>,
) -> Result<Response, ApiError> {
    let stamp = operator(&deps, &headers).await?;
    let mut fields = body.value;
    let channel = match fields.remove("channel") {
        Some(serde_json::Value::String(raw)) => operator_channel(&raw).map_err(operator_error)?,
        _ => {
            return Err(ApiError::invalid_field(
                "channel",
                "channel is required: phone, in_person, letter or fax",
            ));
        }
    };
    let rest = serde_json::to_vec(&fields).map_err(|e| ApiError::internal(&e))?;
    let request: CreateRequestBody = parse_json(&rest)?;
    if !request.media.is_empty() {
        return Err(ApiError::invalid_field(
            "media",
            "photos are not attached on a caller's behalf; the resident adds them from the tracking link",
        ));
    }
    let claim = idempotency_claim(&headers, "operator", &body.raw)?;
    let mut submission = request.into_submission(channel, claim)?;
    submission.registered_by = Some(stamp);
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
    Ok((
        status,
        [(
            header::LOCATION,
            format!("/v1/requests/{}", request.case_number),
        )],
        axum::Json(Registered {
            id: request.id.to_string(),
            case_number: request.case_number.to_string(),
            status: request.status.to_string(),
            channel: request.channel.as_str().to_owned(),
        }),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ContactBody {
    channel: String,
    articles: Vec<String>,
    #[serde(default)]
    language: Option<String>,
}

#[derive(Debug, Serialize)]
struct ContactRecorded {
    id: String,
    outcome: &'static str,
    channel: String,
    articles: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_code: Option<String>,
    at: Timestamp,
}

/// A contact answered from the knowledge base: resolved at first contact.
async fn answered_contact(
    State(deps): State<Arc<Deps>>,
    headers: HeaderMap,
    body: JsonBody<ContactBody>,
) -> Result<Response, ApiError> {
    let stamp = operator(&deps, &headers).await?;
    let channel = operator_channel(&body.value.channel).map_err(operator_error)?;
    let language = match body.value.language.as_deref() {
        None => Language::default(),
        Some(raw) => Language::parse(raw)
            .ok_or_else(|| ApiError::invalid_field("language", "language must be pl or en"))?,
    };
    // The business key: the client's idempotency key (scoped to the
    // operator, so two operators' keys never meet), else a new one.
    let id = match idempotency_claim(&headers, "contact", &body.raw)? {
        Some(claim) => {
            citydesk_core::ids::sha256_hex(format!("{}#{}", stamp.subject, claim.key).as_bytes())
                [..32]
                .to_owned()
        }
        None => ulid::Ulid::new().to_string(),
    };
    let (record, new) = record_answered_contact(
        deps.contact_log.as_ref(),
        deps.audit.as_ref(),
        deps.clock.as_ref(),
        &deps.knowledge,
        &stamp,
        AnsweredContact {
            id,
            channel,
            language,
            articles: body.value.articles.clone(),
        },
    )
    .await
    .map_err(operator_error)?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        axum::Json(ContactRecorded {
            id: record.id,
            outcome: record.outcome.as_str(),
            channel: record.channel.as_str().to_owned(),
            articles: record.articles.iter().map(|a| a.to_string()).collect(),
            service_code: record.service_code.map(|c| c.to_string()),
            at: record.at,
        }),
    )
        .into_response())
}
