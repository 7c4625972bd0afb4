//! The body of a new request (`POST /v1/requests`, and an operator's
//! `POST /v1/operator/requests`), its conversion into the core's submission,
//! and the answer to each way a submission can fail.

use std::collections::BTreeMap;

use citydesk_core::contact::{Contact, Email, PersonName, PhoneNumber};
use citydesk_core::ids::ServiceCode;
use citydesk_core::ids::sha256_hex;
use citydesk_core::language::Language;
use citydesk_core::location::Location;
use citydesk_core::ports::IdempotencyClaim;
use citydesk_core::request::Channel;
use citydesk_core::service_form::AnswerError;
use citydesk_core::usecases::submit_request::{RequestSubmission, SubmitError};
use serde::Deserialize;

use crate::ApiError;

/// The longest `Idempotency-Key` accepted.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

/// `POST /v1/requests`. Server-owned fields (status, department…) cannot be sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRequestBody {
    #[serde(default)]
    pub service_code: Option<String>,
    pub description: String,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub long: Option<f64>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub contact: Option<ContactBody>,
    #[serde(default)]
    pub language: Option<String>,
    /// Answers to the service's form: code → a value or a list of values.
    #[serde(default)]
    pub attributes: BTreeMap<String, AnswerBody>,
    /// Keys of photos uploaded first through `POST /v1/uploads`.
    #[serde(default)]
    pub media: Vec<String>,
    /// The reporter asks that their words and photos are not shown publicly.
    #[serde(default)]
    pub private: bool,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum AnswerBody {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactBody {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

impl ContactBody {
    /// The contact, each part checked (400 naming `<field>.phone`…).
    pub fn into_contact(self, field: &str) -> Result<Contact, ApiError> {
        Ok(Contact {
            name: optional(
                &format!("{field}.name"),
                self.name.as_deref(),
                PersonName::parse,
            )?,
            phone: optional(
                &format!("{field}.phone"),
                self.phone.as_deref(),
                PhoneNumber::parse,
            )?,
            email: optional(
                &format!("{field}.email"),
                self.email.as_deref(),
                Email::parse,
            )?,
        })
    }
}

fn optional<T, E: std::fmt::Display>(
    field: &str,
    raw: Option<&str>,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Option<T>, ApiError> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(r) => parse(r)
            .map(Some)
            .map_err(|e| ApiError::invalid_field(field, e.to_string())),
    }
}

impl CreateRequestBody {
    /// The submission this body asks for, as it came in through `channel`.
    pub fn into_submission(
        self,
        channel: Channel,
        idempotency: Option<IdempotencyClaim>,
    ) -> Result<RequestSubmission, ApiError> {
        let service_code = optional(
            "service_code",
            self.service_code.as_deref(),
            ServiceCode::parse,
        )?;
        let location =
            Location::parse(self.lat, self.long, self.address.as_deref()).map_err(|e| {
                let field = match e {
                    citydesk_core::location::LocationError::Longitude => "long",
                    citydesk_core::location::LocationError::AddressTooLong => "address",
                    citydesk_core::location::LocationError::HalfPoint if self.lat.is_some() => {
                        "long"
                    }
                    _ => "lat",
                };
                ApiError::invalid_field(field, e.to_string())
            })?;
        let contact = self
            .contact
            .map(|c| c.into_contact("contact"))
            .transpose()?;
        let language = match self.language.as_deref() {
            None => Language::default(),
            Some(raw) => Language::parse(raw)
                .ok_or_else(|| ApiError::invalid_field("language", "language must be pl or en"))?,
        };
        Ok(RequestSubmission {
            channel,
            service_code,
            description: self.description,
            location,
            contact,
            language,
            answers: self
                .attributes
                .into_iter()
                .map(|(code, v)| match v {
                    AnswerBody::One(one) => (code, vec![one]),
                    AnswerBody::Many(many) => (code, many),
                })
                .collect(),
            media: Vec::new(),
            idempotency,
            privacy_requested: self.private,
            open311_client: None,
            registered_by: None,
            follows: None,
        })
    }
}

/// The answer to a submission that failed: 400 naming the field, 422 when
/// it is well formed but cannot be (unknown service, outside the city).
pub fn submit_error(e: SubmitError) -> ApiError {
    match e {
        SubmitError::UnknownService(_) => ApiError::unprocessable(
            Some("service_code"),
            "unknown_service",
            format!(
                "{e}; GET the service list for valid codes, or leave service_code out to have it chosen"
            ),
        ),
        SubmitError::EmptyDescription | SubmitError::DescriptionTooLong => {
            ApiError::invalid_field("description", e.to_string())
        }
        SubmitError::Answer(a) => {
            let field = match &a {
                AnswerError::TooMany | AnswerError::BadCode(_) => "attributes".to_owned(),
                _ => format!(
                    "attributes.{}",
                    a.field()
                        .trim_start_matches("attribute[")
                        .trim_end_matches(']')
                ),
            };
            ApiError::invalid_field(field, a.to_string())
        }
        SubmitError::Media(m) => ApiError::invalid_field("media", m.to_string()),
        SubmitError::OutsideCity { .. } => {
            ApiError::unprocessable(Some("lat"), "outside_city", e.to_string())
        }
        SubmitError::IdempotencyKeyReused => ApiError::unprocessable(
            Some("Idempotency-Key"),
            "idempotency_key_reused",
            e.to_string(),
        ),
        SubmitError::Port(p) => ApiError::dependency(p.retryable, &p),
    }
}

/// The client's `Idempotency-Key` (1-255 printable ASCII characters) as
/// a claim scoped to `surface` (`web`, `operator`), fingerprinting the body.
pub fn idempotency_claim(
    headers: &http::HeaderMap,
    surface: &str,
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
        key: format!("{surface}#{key}"),
        payload_hash: sha256_hex(raw_body),
    }))
}
