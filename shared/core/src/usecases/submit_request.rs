//! A citizen submits a request (any channel): stored with its contact apart,
//! idempotent on the client's key. Classification and the confirmation follow
//! from the committed creation through the outbox (nothing is sent from here).

use tracing::instrument;

use crate::catalogue::Catalogue;
use crate::contact::Contact;
use crate::ids::{RequestId, ServiceCode, TrackingToken};
use crate::language::Language;
use crate::location::{GeoPoint, Location};
use crate::ports::{
    Clock, CreateOutcome, IdSource, IdempotencyClaim, NewRequest, PortError, RequestStore,
};
use crate::request::{Channel, EventKind, HistoryEvent, ServiceRequest};
use crate::service_form::{AnswerError, check_answers};
use crate::status::Status;
use std::collections::BTreeMap;

/// Longest description accepted (Open311's limit).
pub const MAX_DESCRIPTION_CHARS: usize = 4000;

/// A request as parsed at the edge; server-owned fields cannot appear here.
#[derive(Debug, Clone)]
pub struct RequestSubmission {
    pub channel: Channel,
    pub service_code: Option<ServiceCode>,
    pub description: String,
    pub location: Location,
    pub contact: Option<Contact>,
    pub language: Language,
    /// Answers to the service's form: attribute code → values (one for most types).
    pub answers: BTreeMap<String, Vec<String>>,
    /// Photos already checked and stored (or linked) by the channel's adapter.
    pub media: Vec<crate::media::MediaRef>,
    /// Client's idempotency key and a fingerprint of the payload.
    pub idempotency: Option<IdempotencyClaim>,
    /// The reporter asked that their words and photos not be shown publicly.
    pub privacy_requested: bool,
    /// The Open311 client application that filed it (only it may post updates).
    pub open311_client: Option<String>,
    /// The operator who registered it on the caller's behalf (the audit
    /// trail records it); `None` when the resident filed it.
    pub registered_by: Option<crate::audit::StaffStamp>,
    /// The open report the resident said this one repeats ("me too" on the
    /// map of open problems nearby): routing links it there.
    pub follows: Option<crate::ids::CaseNumber>,
}

#[derive(Debug)]
pub struct Submitted {
    pub request: ServiceRequest,
    /// The secret the citizen uses to follow the request; kept with the
    /// idempotency record so a retried submission gets the same one back.
    pub tracking_token: TrackingToken,
    /// False when an earlier submission with the same idempotency key answered.
    pub created: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("service_code {0} is not in this city's catalogue")]
    UnknownService(ServiceCode),
    #[error("description must not be empty")]
    EmptyDescription,
    #[error("description must be at most {MAX_DESCRIPTION_CHARS} characters")]
    DescriptionTooLong,
    #[error("this Idempotency-Key was already used with a different request body")]
    IdempotencyKeyReused,
    #[error(transparent)]
    Answer(#[from] AnswerError),
    #[error(transparent)]
    Media(#[from] crate::media::MediaError),
    #[error("the location is outside {city}{}", if *swapped { "; lat and long look swapped: lat is north-south (about 50 here), long east-west" } else { "" })]
    OutsideCity { city: String, swapped: bool },
    #[error(transparent)]
    Port(#[from] PortError),
}

pub struct Intake<'a> {
    pub store: &'a dyn RequestStore,
    pub clock: &'a dyn Clock,
    pub ids: &'a dyn IdSource,
    pub catalogue: &'a Catalogue,
}

const CASE_NUMBER_ATTEMPTS: usize = 5;

#[instrument(skip_all, fields(channel = submission.channel.as_str()))]
pub async fn submit_request(
    deps: &Intake<'_>,
    submission: RequestSubmission,
) -> Result<Submitted, SubmitError> {
    let description = submission.description.trim().to_owned();
    if description.is_empty() {
        return Err(SubmitError::EmptyDescription);
    }
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(SubmitError::DescriptionTooLong);
    }
    let service = match &submission.service_code {
        Some(code) => Some(
            deps.catalogue
                .service(code)
                .ok_or_else(|| SubmitError::UnknownService(code.clone()))?,
        ),
        None => None,
    };
    // Without a service yet, answers are kept as given (classification picks the form later).
    if submission.media.len() > crate::media::MAX_MEDIA_PER_REQUEST {
        return Err(crate::media::MediaError::TooMany.into());
    }
    let form = service.map_or(&[][..], |s| &s.attributes[..]);
    let attributes = check_answers(form, &submission.answers)?;
    let mut location = submission.location;
    place(deps.catalogue, &mut location);
    location.district = match location.point {
        None => None,
        Some(point) => district_of(deps.catalogue, point)?,
    };

    let now = deps.clock.now();
    let id = deps.ids.request_id();
    let token = deps.ids.tracking_token(&id);
    let contact = submission.contact.filter(|c| !c.is_empty());
    let public_description = crate::rules::redaction::redact(&description, contact.as_ref());
    let mut request = ServiceRequest {
        id: id.clone(),
        case_number: deps.ids.case_number(),
        jurisdiction: deps.catalogue.city().jurisdiction_id.clone(),
        channel: submission.channel,
        language: submission.language,
        service_code: submission.service_code,
        classification_confidence: None,
        description,
        location,
        status: Status::New,
        department: None,
        due_at: None,
        created_at: now,
        updated_at: now,
        resolved_at: None,
        resolution: None,
        privacy_requested: submission.privacy_requested,
        public_description: Some(public_description),
        open311_client: submission.open311_client,
        tracking_token_hash: token.hash(),
        has_contact: contact.is_some(),
        attributes,
        media: submission.media,
        suggestions: Vec::new(),
        declined_departments: Vec::new(),
        duplicate_of: None,
        follows: submission.follows,
        followers: Vec::new(),
        follower_count: 0,
        sla_warning_at: None,
        sla_warned: false,
        sla_breach_noted: false,
        assignee: None,
        sla_paused_at: None,
        transfer_to: None,
        version: 1,
    };
    let created = HistoryEvent {
        seq: 1,
        at: now,
        actor: if submission.registered_by.is_some() {
            "operator".to_owned()
        } else {
            "citizen".to_owned()
        },
        by: submission.registered_by.clone(),
        kind: EventKind::Created {
            channel: submission.channel,
        },
    };
    for _ in 0..CASE_NUMBER_ATTEMPTS {
        let new = NewRequest {
            request: request.clone(),
            created: created.clone(),
            contact: contact.clone(),
            person_keys: contact
                .as_ref()
                .map(|c| deps.ids.person_keys(c))
                .unwrap_or_default(),
            idempotency: submission.idempotency.clone(),
        };
        match deps.store.create(&new).await? {
            CreateOutcome::Created => {
                tracing::info!(request_id = %id, case_number = %request.case_number, "request created");
                return Ok(Submitted {
                    request,
                    tracking_token: token,
                    created: true,
                });
            }
            CreateOutcome::CaseNumberTaken => {
                request.case_number = deps.ids.case_number();
            }
            CreateOutcome::AlreadyExists {
                request_id,
                payload_hash,
            } => {
                let same_payload = submission
                    .idempotency
                    .as_ref()
                    .is_some_and(|c| c.payload_hash == payload_hash);
                if !same_payload {
                    return Err(SubmitError::IdempotencyKeyReused);
                }
                return replay_earlier(deps, &request_id).await;
            }
        }
    }
    Err(PortError::retryable(
        "create request",
        "no free case number after several attempts",
    )
    .into())
}

/// How far the nearest address may be to name a point that came without one.
const NEAREST_ADDRESS_METRES: f64 = 75.0;

/// Completes a location from the city's address list: an address without a
/// point is geocoded; a point without an address gets the nearest one.
fn place(catalogue: &Catalogue, location: &mut crate::location::Location) {
    let book = catalogue.addresses();
    if book.is_empty() {
        return;
    }
    match (&location.point, &location.address) {
        (None, Some(text)) => {
            if let Some(found) = book.geocode(text) {
                location.point = Some(found.point());
            }
        }
        (Some(point), None) => {
            if let Some((near, _)) = book.nearest(*point, NEAREST_ADDRESS_METRES) {
                location.address = Some(near.label());
            }
        }
        _ => {}
    }
}

/// The district of a point; a point outside every district is refused, with a
/// hint when lat and long look swapped. A city without districts takes any point.
fn district_of(catalogue: &Catalogue, point: GeoPoint) -> Result<Option<String>, SubmitError> {
    if catalogue.districts().is_empty() {
        return Ok(None);
    }
    if let Some(d) = catalogue.district_at(point) {
        return Ok(Some(d.code.clone()));
    }
    let swapped = GeoPoint::parse(point.long, point.lat)
        .ok()
        .and_then(|p| catalogue.district_at(p))
        .is_some();
    Err(SubmitError::OutsideCity {
        city: catalogue.city().name.en.clone(),
        swapped,
    })
}

/// Answers a repeated submission like the first one (the creation it
/// committed already went on through the outbox).
async fn replay_earlier(
    deps: &Intake<'_>,
    request_id: &RequestId,
) -> Result<Submitted, SubmitError> {
    let request = deps.store.get(request_id).await?.ok_or_else(|| {
        PortError::retryable(
            "replay request",
            "idempotency record points to a missing request",
        )
    })?;
    // The token is derived from the request id: the same answer as the first time.
    let tracking_token = deps.ids.tracking_token(&request.id);
    Ok(Submitted {
        request,
        tracking_token,
        created: false,
    })
}
