//! Open311's writes: `POST requests` (a new request, with an `api_key`) and
//! `POST servicerequestupdates` (a citizen's update relayed by a client).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use citydesk_core::catalogue::Catalogue;
use citydesk_core::contact::{Contact, Email, PersonName, PhoneNumber};
use citydesk_core::ids::{CaseNumber, ServiceCode, sha256_hex};
use citydesk_core::language::Language;
use citydesk_core::location::{Location, LocationError};
use citydesk_core::ports::Claim;
use citydesk_core::request::Channel;
use citydesk_core::status::Status;
use citydesk_core::usecases::citizen_follow_up::{
    CitizenUpdate, FollowUp, FollowUpError, follow_up_by_client,
};
use citydesk_core::usecases::submit_request::{
    Intake, RequestSubmission, SubmitError, submit_request,
};
use jiff::SignedDuration;

use crate::Deps;
use crate::format::{Node, Open311Error};
use crate::params::Params;

use crate::routes::{MAX_BODY_BYTES, format_of, jurisdiction, language, media, reply};
use crate::searches::{dependency, find};

pub(crate) async fn post_resource(
    State(deps): State<Arc<Deps>>,
    Path(resource): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    reply(
        async {
            let (name, format) = format_of(&resource)?;
            let fail = |e| (e, format);
            if name != "requests" && name != "servicerequestupdates" {
                return Err(fail(Open311Error::not_found(format!(
                    "cannot POST to {name}"
                ))));
            }
            let content_type = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/x-www-form-urlencoded")
                .to_owned();
            let (params, photo) = if content_type.to_ascii_lowercase().starts_with("multipart/form-data") {
                // The v2.1 draft: the same fields as parts, and the photo as a `media` file part.
                let (pairs, photo) = crate::multipart::read(&content_type, body).await.map_err(fail)?;
                (Params::parse(query.as_deref(), b"").with(pairs), photo)
            } else if content_type.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded") {
                if body.len() > MAX_BODY_BYTES {
                    return Err(fail(Open311Error::bad_request(format!(
                        "the body must be at most {MAX_BODY_BYTES} bytes"
                    ))));
                }
                (Params::parse(query.as_deref(), &body), None)
            } else {
                return Err(fail(Open311Error::bad_request(
                    "send the request as application/x-www-form-urlencoded; charset=utf-8 (or multipart/form-data with a media file)",
                )));
            };
            if Params::parse(query.as_deref(), b"").get("api_key").is_some() {
                return Err(fail(Open311Error::bad_request(
                    "send api_key in the POST body, never in the URL (URLs end up in logs and browser histories); this key should now be replaced",
                )));
            }
            let catalogue = jurisdiction(&deps, &params).map_err(fail)?;
            let client = check_api_key(&deps, &params).await.map_err(fail)?;
            if name == "servicerequestupdates" {
                let doc = post_update(&deps, catalogue, &params, &client).await.map_err(fail)?;
                return Ok(doc.render(format, StatusCode::OK));
            }
            let mut submission = submission(catalogue, &params, language(&headers)).map_err(fail)?;
            submission.open311_client = Some(client);
            submission.media = media(&deps, catalogue, &params, photo).await.map_err(fail)?;
            let intake = Intake {
                store: deps.store.as_ref(),
                clock: deps.clock.as_ref(),
                ids: deps.ids.as_ref(),
                catalogue,
            };
            let submitted = submit_request(&intake, submission).await.map_err(|e| {
                fail(match e {
                    SubmitError::UnknownService(code) => {
                        Open311Error::not_found(format!("unknown service_code {code}"))
                    }
                    SubmitError::Port(p) => Open311Error::dependency(p.retryable, &p),
                    SubmitError::Answer(a) => Open311Error::bad_request(a.to_string()),
                    other => Open311Error::bad_request(other.to_string()),
                })
            })?;
            let doc = Node::List(
                "service_requests",
                vec![Node::Object(
                    "request",
                    vec![
                        Node::text("service_request_id", submitted.request.case_number.as_str()),
                        Node::text("token", submitted.request.id.as_str()),
                        Node::opt("service_notice", None::<String>),
                        Node::opt("account_id", params.get("account_id").map(str::to_owned)),
                    ],
                )],
            );
            Ok(doc.render(format, StatusCode::CREATED))
        }
        .await,
    )
}

/// mySociety's `POST servicerequestupdates`: a citizen's update relayed by a
/// client (FixMyStreet). `status=CLOSED` on a resolved request confirms the fix;
/// `status=OPEN` on a resolved or closed one reopens it; the description is the
/// citizen's note. A repeated `update_id` is answered without a second change.
pub(crate) async fn post_update(
    deps: &Deps,
    catalogue: &Catalogue,
    p: &Params,
    client: &str,
) -> Result<Node, Open311Error> {
    let id = p
        .get("service_request_id")
        .ok_or_else(|| Open311Error::bad_request("service_request_id is required"))?;
    let case = CaseNumber::parse(id)
        .map_err(|_| Open311Error::not_found(format!("unknown service_request_id {id}")))?;
    let status = p.get("status").map(str::to_ascii_uppercase);
    // A client relays updates only for the requests it filed.
    let request = find(deps, catalogue, id).await?;
    if request.open311_client.as_deref() != Some(client) {
        return Err(Open311Error::not_found(format!(
            "unknown service_request_id {id} (a client updates only the requests it filed)"
        )));
    }
    let fixed = match status.as_deref() {
        None => None,
        Some("CLOSED") if request.status == Status::Resolved => Some(true),
        Some("OPEN") if matches!(request.status, Status::Resolved | Status::Closed) => Some(false),
        Some("OPEN" | "CLOSED") => None,
        Some(other) => {
            return Err(Open311Error::bad_request(format!(
                "status must be OPEN or CLOSED, not {other}"
            )));
        }
    };
    let mut note = p.get("description").map(str::to_owned);
    if note.is_none() && fixed.is_none() && status.as_deref() == Some("CLOSED") {
        note = Some("The reporter says the problem is fixed.".to_owned());
    }
    let claim_key = p
        .get("update_id")
        .map(|u| format!("open311-update#{case}#{u}"));
    if let Some(key) = &claim_key {
        let now = deps.clock.now();
        let lock = now
            .saturating_add(SignedDuration::from_secs(60))
            .unwrap_or(now);
        match deps
            .ledger
            .claim(key, now, lock)
            .await
            .map_err(dependency)?
        {
            Claim::Acquired => {}
            Claim::AlreadyDone => return Ok(update_answer(&case, p.get("update_id"))),
            Claim::InProgress => {
                return Err(Open311Error::dependency(
                    true,
                    &"the same update is being applied",
                ));
            }
        }
    }
    let follow = FollowUp {
        store: deps.store.as_ref(),
        clock: deps.clock.as_ref(),
    };
    let result = follow_up_by_client(&follow, &case, CitizenUpdate { note, fixed }).await;
    if let Some(key) = &claim_key {
        match &result {
            Ok(_) => deps.ledger.complete(key).await.map_err(dependency)?,
            Err(_) => deps.ledger.release(key).await.map_err(dependency)?,
        }
    }
    let updated = result.map_err(|e| match e {
        FollowUpError::NotFound(_) => Open311Error::not_found(e.to_string()),
        FollowUpError::Port(p) => Open311Error::dependency(p.retryable, &p),
        FollowUpError::Empty => {
            Open311Error::bad_request("send a description, or a status that changes the request")
        }
        other => Open311Error::bad_request(other.to_string()),
    })?;
    Ok(update_answer(
        &updated.case_number,
        p.get("update_id").or(Some(&updated.version.to_string())),
    ))
}

pub(crate) fn update_answer(case: &CaseNumber, client_update: Option<&str>) -> Node {
    Node::List(
        "service_request_updates",
        vec![Node::Object(
            "request_update",
            vec![Node::text(
                "update_id",
                format!("{case}-{}", client_update.unwrap_or("0")),
            )],
        )],
    )
}

/// The client application the `api_key` belongs to.
pub(crate) async fn check_api_key(deps: &Deps, params: &Params) -> Result<String, Open311Error> {
    let key = params
        .get("api_key")
        .ok_or_else(|| Open311Error::forbidden("api_key is required to submit requests"))?;
    let client = deps
        .keys
        .client_for_key_hash(&sha256_hex(key.as_bytes()))
        .await
        .map_err(|e| Open311Error::dependency(e.retryable, &e))?;
    match client {
        Some(name) => {
            tracing::info!(client = %name, "open311 submission");
            Ok(name)
        }
        None => Err(Open311Error::forbidden("Invalid api_key")),
    }
}

/// The Open311 POST parameters as a submission on the common intake path.
pub(crate) fn submission(
    catalogue: &Catalogue,
    p: &Params,
    lang: Language,
) -> Result<RequestSubmission, Open311Error> {
    let code = p
        .get("service_code")
        .ok_or_else(|| Open311Error::bad_request("service_code is required"))?;
    let service_code = ServiceCode::parse(code)
        .map_err(|e| Open311Error::bad_request(format!("service_code: {e}")))?;
    let (lat, long) = (p.number("lat")?, p.number("long")?);
    let address = p.get("address_string").or(p.get("address_id"));
    if lat.is_none() && long.is_none() && address.is_none() {
        return Err(Open311Error::bad_request(
            "a location is required: lat and long, or address_string, or address_id",
        ));
    }
    let location = Location::parse(lat, long, address).map_err(|e| {
        Open311Error::bad_request(match e {
            LocationError::HalfPoint if lat.is_some() => "long is required with lat".to_owned(),
            LocationError::HalfPoint => "lat is required with long".to_owned(),
            other => other.to_string(),
        })
    })?;
    let name = match (p.get("first_name"), p.get("last_name")) {
        (None, None) => None,
        (first, last) => Some(
            PersonName::parse(&[first.unwrap_or(""), last.unwrap_or("")].join(" "))
                .map_err(|e| Open311Error::bad_request(format!("first_name/last_name: {e}")))?,
        ),
    };
    let contact = Contact {
        name,
        phone: p
            .get("phone")
            .map(PhoneNumber::parse)
            .transpose()
            .map_err(|e| Open311Error::bad_request(format!("phone: {e}")))?,
        email: p
            .get("email")
            .map(Email::parse)
            .transpose()
            .map_err(|e| Open311Error::bad_request(format!("email: {e}")))?,
    };
    // Open311 makes the description optional; the service's name then describes it.
    let description = match p.get("description") {
        Some(d) => d.to_owned(),
        None => catalogue
            .service(&service_code)
            .map(|s| s.name.get(lang).to_owned())
            .unwrap_or_else(|| service_code.to_string()),
    };
    Ok(RequestSubmission {
        channel: Channel::Open311,
        service_code: Some(service_code),
        description,
        location,
        contact: Some(contact),
        language: lang,
        answers: p.attributes(),
        media: Vec::new(),
        idempotency: None,
        // An extension: the reporter asks that their words and photos stay unpublished.
        privacy_requested: p.flag("private"),
        open311_client: None,
        registered_by: None,
        follows: None,
    })
}
