//! Routing of `/open311/v2/…`: the resource's extension picks the format.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use citydesk_core::catalogue::Catalogue;
use citydesk_core::contact::{Contact, Email, PersonName, PhoneNumber};
use citydesk_core::ids::{CaseNumber, JurisdictionId, RequestId, ServiceCode, sha256_hex};
use citydesk_core::media::{MediaRef, parse_link, prepare_photo};
use citydesk_core::paging::TimeWindow;
use citydesk_core::ports::Claim;
use citydesk_core::request::{Channel, Language, Location, LocationError, ServiceRequest};
use citydesk_core::status::Status;
use citydesk_core::usecases::citizen_follow_up::{
    CitizenUpdate, FollowUp, FollowUpError, follow_up_by_client,
};
use citydesk_core::usecases::search_requests::{
    Openness, RequestSearch, request_updates, search_requests,
};
use citydesk_core::usecases::submit_request::{
    Intake, RequestSubmission, SubmitError, submit_request,
};
use jiff::{SignedDuration, Timestamp};

use crate::Deps;
use crate::format::{Format, Node, Open311Error};
use crate::params::Params;
use crate::representation as repr;

/// Largest form body accepted.
const MAX_BODY_BYTES: usize = 64 * 1024;
/// The spec's limits on a list of requests.
const MAX_WINDOW_DAYS: i64 = 90;
const DEFAULT_LIMIT: usize = 1000;
const MAX_PAGE_SIZE: usize = 1000;
/// How long a photo's link stays valid.
const MEDIA_LINK_SECS: u64 = 3600;

pub fn router(deps: Arc<Deps>) -> Router {
    Router::new()
        .route(
            "/open311/v2/{resource}",
            get(get_resource).post(post_resource),
        )
        .route("/open311/v2/{collection}/{item}", get(get_item))
        .fallback(unknown)
        // Room for one photo (checked again, with a clear error, when read).
        .layer(axum::extract::DefaultBodyLimit::max(
            citydesk_core::media::MAX_MEDIA_BYTES + MAX_BODY_BYTES,
        ))
        .with_state(deps)
}

type Reply = Result<Response, (Open311Error, Format)>;

fn format_of(resource: &str) -> Result<(&str, Format), (Open311Error, Format)> {
    Format::split(resource).ok_or_else(|| {
        (
            Open311Error::not_found(
                "unknown resource; name it with .xml or .json, e.g. services.json",
            ),
            Format::Json,
        )
    })
}

fn reply(result: Reply) -> Response {
    result.unwrap_or_else(|(err, format)| err.render(format))
}

async fn unknown() -> Response {
    Open311Error::not_found("no such Open311 resource; start at discovery.json")
        .render(Format::Json)
}

/// The language of names: `Accept-Language` (Polish unless English comes first).
fn language(headers: &HeaderMap) -> Language {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .and_then(|tag| Language::parse(tag.split(';').next().unwrap_or("").trim()))
        .unwrap_or_default()
}

/// A `jurisdiction_id` other than this deployment's city is a missing resource.
/// The city a call is about: `jurisdiction_id` when given (an unknown one is a
/// missing resource), else the only city this deployment serves.
fn jurisdiction<'a>(deps: &'a Deps, params: &Params) -> Result<&'a Catalogue, Open311Error> {
    match params.get("jurisdiction_id") {
        Some(j) => JurisdictionId::parse(j)
            .ok()
            .and_then(|id| deps.catalogues.get(&id))
            .ok_or_else(|| Open311Error::not_found(format!("unknown jurisdiction_id {j}"))),
        None if deps.catalogues.count() == 1 => Ok(deps.catalogues.default_catalogue()),
        None => Err(Open311Error::bad_request(format!(
            "jurisdiction_id is required: this endpoint serves {}",
            deps.catalogues.ids().join(", ")
        ))),
    }
}

async fn get_resource(
    State(deps): State<Arc<Deps>>,
    Path(resource): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    reply(
        async {
            let (name, format) = format_of(&resource)?;
            let params = Params::parse(query.as_deref(), b"");
            let catalogue = jurisdiction(&deps, &params).map_err(|e| (e, format))?;
            let lang = language(&headers);
            let doc = match name {
                "discovery" => repr::discovery(&deps.public_base_url, catalogue),
                "services" => Node::List(
                    "services",
                    catalogue
                        .services()
                        .map(|s| repr::service(s, lang))
                        .collect(),
                ),
                "requests" => list_requests(&deps, catalogue, &params, lang)
                    .await
                    .map_err(|e| (e, format))?,
                "servicerequestupdates" => list_updates(&deps, catalogue, &params)
                    .await
                    .map_err(|e| (e, format))?,
                _ => {
                    return Err((
                        Open311Error::not_found(format!("unknown resource {name}")),
                        format,
                    ));
                }
            };
            Ok(doc.render(format, StatusCode::OK))
        }
        .await,
    )
}

async fn get_item(
    State(deps): State<Arc<Deps>>,
    Path((collection, item)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    reply(
        async {
            let (id, format) = format_of(&item)?;
            let params = Params::parse(query.as_deref(), b"");
            let catalogue = jurisdiction(&deps, &params).map_err(|e| (e, format))?;
            let lang = language(&headers);
            let fail = |e| (e, format);
            let doc = match collection.as_str() {
                // `service/` is a common client mistake for `services/`.
                "services" | "service" => {
                    let service = ServiceCode::parse(id)
                        .ok()
                        .and_then(|c| catalogue.service(&c))
                        .ok_or_else(|| {
                            fail(Open311Error::not_found(format!(
                                "unknown service_code {id}"
                            )))
                        })?;
                    repr::service_definition(service, lang)
                }
                "requests" => {
                    let request = find(&deps, catalogue, id).await.map_err(fail)?;
                    let history = deps
                        .store
                        .history(&request.id)
                        .await
                        .map_err(|e| fail(Open311Error::dependency(e.retryable, &e)))?;
                    Node::List(
                        "service_requests",
                        vec![repr::request(
                            catalogue,
                            &request,
                            lang,
                            params.flag("extensions").then_some(&history[..]),
                            media_url(&deps, &request).await.map_err(fail)?,
                        )],
                    )
                }
                "tokens" => {
                    let request = match RequestId::parse(id) {
                        Ok(rid) => deps
                            .store
                            .get(&rid)
                            .await
                            .map_err(|e| fail(Open311Error::dependency(e.retryable, &e)))?,
                        Err(_) => None,
                    }
                    .filter(|r| r.jurisdiction == catalogue.city().jurisdiction_id)
                    .ok_or_else(|| fail(Open311Error::not_found(format!("unknown token {id}"))))?;
                    Node::List(
                        "service_requests",
                        vec![Node::Object(
                            "request",
                            vec![
                                Node::text("service_request_id", request.case_number.as_str()),
                                Node::text("token", id),
                            ],
                        )],
                    )
                }
                _ => {
                    return Err(fail(Open311Error::not_found(format!(
                        "unknown resource {collection}"
                    ))));
                }
            };
            Ok(doc.render(format, StatusCode::OK))
        }
        .await,
    )
}

async fn find(
    deps: &Deps,
    catalogue: &Catalogue,
    id: &str,
) -> Result<ServiceRequest, Open311Error> {
    let missing = || Open311Error::not_found(format!("unknown service_request_id {id}"));
    let case = CaseNumber::parse(id).map_err(|_| missing())?;
    deps.store
        .find_by_case_number(&case)
        .await
        .map_err(|e| Open311Error::dependency(e.retryable, &e))?
        // Another city's request is not found in this one.
        .filter(|r| r.jurisdiction == catalogue.city().jurisdiction_id)
        .ok_or_else(missing)
}

async fn list_requests(
    deps: &Deps,
    catalogue: &Catalogue,
    params: &Params,
    lang: Language,
) -> Result<Node, Open311Error> {
    let extensions = params.flag("extensions");
    let ids = params.list("service_request_id");
    let page_size = params
        .count("page_size", 1, MAX_PAGE_SIZE)?
        .unwrap_or(DEFAULT_LIMIT);
    let page = params.count("page", 1, usize::MAX)?.unwrap_or(1);
    let found: Vec<ServiceRequest> = if !ids.is_empty() {
        // A list of ids overrides every other filter.
        let mut found = Vec::new();
        for id in ids.iter().take(DEFAULT_LIMIT) {
            match find(deps, catalogue, id).await {
                Ok(r) => found.push(r),
                Err(e) if e.status == StatusCode::NOT_FOUND => {}
                Err(e) => return Err(e),
            }
        }
        found
            .into_iter()
            .skip((page - 1).saturating_mul(page_size))
            .take(page_size)
            .collect()
    } else {
        match search(deps, catalogue, params, page, page_size)? {
            Some(search) => search_requests(deps.store.as_ref(), deps.queries.as_ref(), &search)
                .await
                .map_err(dependency)?,
            // Only service codes that cannot exist: nothing matches.
            None => Vec::new(),
        }
    };
    let mut items = Vec::new();
    for r in found {
        let history = match extensions {
            true => Some(deps.store.history(&r.id).await.map_err(dependency)?),
            false => None,
        };
        let media = media_url(deps, &r).await?;
        items.push(repr::request(
            catalogue,
            &r,
            lang,
            history.as_deref(),
            media,
        ));
    }
    Ok(Node::List("service_requests", items))
}

/// The search a `GET requests` asks for: service codes, status, and the
/// creation or update window (at most 90 days, the last 90 by default);
/// `None` when only service codes that cannot exist were asked for.
fn search(
    deps: &Deps,
    catalogue: &Catalogue,
    params: &Params,
    page: usize,
    page_size: usize,
) -> Result<Option<RequestSearch>, Open311Error> {
    let now = deps.clock.now();
    let (start, end) = (params.datetime("start_date")?, params.datetime("end_date")?);
    let (after, before) = (
        params.datetime("updated_after")?,
        params.datetime("updated_before")?,
    );
    // A code that is not a valid service code matches no request.
    let asked = params.list("service_code");
    let service_codes = asked
        .iter()
        .filter_map(|c| ServiceCode::parse(c).ok())
        .collect::<Vec<_>>();
    if !asked.is_empty() && service_codes.is_empty() {
        return Ok(None);
    }
    let openness = status_filter(params)?.map(|wanted| {
        wanted
            .iter()
            .map(|w| match w.as_str() {
                "closed" => Openness::Closed,
                _ => Openness::Open,
            })
            .collect()
    });
    let (from, to) = window(now, start, end)?;
    let updated = match after.is_some() || before.is_some() {
        true => {
            let (from, to) = window(now, after, before)?;
            Some(TimeWindow { from, to })
        }
        false => None,
    };
    Ok(Some(RequestSearch {
        jurisdiction: catalogue.city().jurisdiction_id.clone(),
        service_codes,
        openness,
        created: TimeWindow { from, to },
        created_given: start.is_some() || end.is_some(),
        updated,
        page,
        page_size,
    }))
}

fn dependency(e: citydesk_core::ports::PortError) -> Open311Error {
    Open311Error::dependency(e.retryable, &e)
}

/// `status=open`, `closed` or both.
fn status_filter(params: &Params) -> Result<Option<Vec<String>>, Open311Error> {
    let Some(raw) = params.get("status") else {
        return Ok(None);
    };
    let wanted: Vec<String> = raw.split(',').map(|w| w.trim().to_owned()).collect();
    if wanted
        .iter()
        .any(|w| !matches!(w.as_str(), "open" | "closed"))
    {
        return Err(Open311Error::bad_request(
            "status must be open, closed, or open,closed",
        ));
    }
    Ok(Some(wanted))
}

/// mySociety's `servicerequestupdates`: what happened to requests in a window,
/// oldest first, with the richer statuses (a page of them: `page`, `page_size`).
async fn list_updates(
    deps: &Deps,
    catalogue: &Catalogue,
    params: &Params,
) -> Result<Node, Open311Error> {
    let (from, to) = window(
        deps.clock.now(),
        params.datetime("start_date")?,
        params.datetime("end_date")?,
    )?;
    let page_size = params
        .count("page_size", 1, MAX_PAGE_SIZE)?
        .unwrap_or(DEFAULT_LIMIT);
    let page = params.count("page", 1, usize::MAX)?.unwrap_or(1);
    let updates = request_updates(
        deps.store.as_ref(),
        deps.queries.as_ref(),
        &catalogue.city().jurisdiction_id,
        &TimeWindow { from, to },
        |e| repr::update_status(e).is_some(),
        page,
        page_size,
    )
    .await
    .map_err(dependency)?;
    let tz = repr::city_tz(catalogue);
    let items = updates
        .iter()
        .filter_map(|(case, event)| {
            repr::update_status(event).map(|status| repr::request_update(case, event, status, &tz))
        })
        .collect();
    Ok(Node::List("service_request_updates", items))
}

/// The date window: at most 90 days, the last 90 days by default.
fn window(
    now: Timestamp,
    start: Option<Timestamp>,
    end: Option<Timestamp>,
) -> Result<(Timestamp, Timestamp), Open311Error> {
    let span = SignedDuration::from_hours(24 * MAX_WINDOW_DAYS);
    let (from, to) = match (start, end) {
        (Some(s), Some(e)) => (s, e),
        (Some(s), None) => (s, s.saturating_add(span).unwrap_or(now).min(now)),
        (None, Some(e)) => (e.saturating_sub(span).unwrap_or(e), e),
        (None, None) => (now.saturating_sub(span).unwrap_or(now), now),
    };
    if to < from {
        return Err(Open311Error::bad_request(
            "end_date must not be before start_date",
        ));
    }
    if to.duration_since(from) > span {
        return Err(Open311Error::bad_request(
            "start_date and end_date may be at most 90 days apart",
        ));
    }
    // `end_date` is inclusive in the spec; the store's window is half-open.
    Ok((
        from,
        to.saturating_add(SignedDuration::from_nanos(1))
            .unwrap_or(to),
    ))
}

async fn post_resource(
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
            let catalogue = jurisdiction(&deps, &params).map_err(fail)?;
            check_api_key(&deps, &params).await.map_err(fail)?;
            if name == "servicerequestupdates" {
                let doc = post_update(&deps, catalogue, &params).await.map_err(fail)?;
                return Ok(doc.render(format, StatusCode::OK));
            }
            let mut submission = submission(catalogue, &params, language(&headers)).map_err(fail)?;
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
async fn post_update(deps: &Deps, catalogue: &Catalogue, p: &Params) -> Result<Node, Open311Error> {
    let id = p
        .get("service_request_id")
        .ok_or_else(|| Open311Error::bad_request("service_request_id is required"))?;
    let case = CaseNumber::parse(id)
        .map_err(|_| Open311Error::not_found(format!("unknown service_request_id {id}")))?;
    let status = p.get("status").map(str::to_ascii_uppercase);
    let request = find(deps, catalogue, id).await?;
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

fn update_answer(case: &CaseNumber, client_update: Option<&str>) -> Node {
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

/// The request's photos: an uploaded `media` file (checked by content, location
/// removed when `strip_location=true`, stored under a key the server chooses)
/// and any `media_url` links the client hosts.
async fn media(
    deps: &Deps,
    catalogue: &Catalogue,
    p: &Params,
    photo: Option<bytes::Bytes>,
) -> Result<Vec<MediaRef>, Open311Error> {
    let mut refs = Vec::new();
    if let Some(bytes) = photo {
        let (kind, body) = prepare_photo(&bytes, p.flag("strip_location"))
            .map_err(|e| Open311Error::bad_request(format!("media: {e}")))?;
        let key = format!(
            "media/{}/{}.{}",
            catalogue.city().jurisdiction_id,
            deps.ids.request_id().as_str().to_ascii_lowercase(),
            kind.extension
        );
        let size = body.len() as u64;
        deps.media
            .put_media(&key, kind.mime, body)
            .await
            .map_err(dependency)?;
        refs.push(MediaRef::Stored {
            key,
            content_type: kind.mime.to_owned(),
            bytes: size,
        });
    }
    for url in p.list_raw("media_url") {
        refs.push(parse_link(&url).map_err(|e| Open311Error::bad_request(e.to_string()))?);
    }
    Ok(refs)
}

/// The link Open311 clients get for a request's first photo (stored ones expire).
pub(crate) async fn media_url(
    deps: &Deps,
    r: &ServiceRequest,
) -> Result<Option<String>, Open311Error> {
    match r.media.first() {
        None => Ok(None),
        Some(MediaRef::Link { url }) => Ok(Some(url.clone())),
        Some(MediaRef::Stored { key, .. }) => Ok(Some(
            deps.media
                .read_link(key, MEDIA_LINK_SECS)
                .await
                .map_err(dependency)?,
        )),
    }
}

async fn check_api_key(deps: &Deps, params: &Params) -> Result<(), Open311Error> {
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
            Ok(())
        }
        None => Err(Open311Error::forbidden("Invalid api_key")),
    }
}

/// The Open311 POST parameters as a submission on the common intake path.
fn submission(
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_defaults_and_limits() {
        let now: Timestamp = "2026-11-28T12:00:00Z".parse().unwrap();
        let (from, to) = window(now, None, None).unwrap();
        assert_eq!(from.to_string(), "2026-08-30T12:00:00Z");
        assert!(to > now);
        let start: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let end: Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
        assert!(window(now, Some(start), Some(end)).is_err());
        assert!(window(now, Some(end), Some(start)).is_err());
    }
}
