//! Routing of `/open311/v2/…`: the resource's extension picks the format.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use citydesk_core::catalogue::Catalogue;
use citydesk_core::ids::{JurisdictionId, RequestId, ServiceCode};
use citydesk_core::language::Language;
use citydesk_core::media::{MediaError, MediaRef, parse_link, prepare_photo};
use citydesk_core::request::ServiceRequest;

use crate::Deps;
use crate::format::{Format, Node, Open311Error};
use crate::key_service::{KEY_SERVICE_PAGE, key_service_page};
use crate::params::Params;
use crate::representation as repr;
use crate::searches::{dependency, find, list_requests, list_updates, public_request};
use crate::submissions::post_resource;

/// Largest form body accepted.
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024;
/// How long a photo's link stays valid.
pub(crate) const MEDIA_LINK_SECS: u64 = 3600;

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

pub(crate) fn format_of(resource: &str) -> Result<(&str, Format), (Open311Error, Format)> {
    Format::split(resource).ok_or_else(|| {
        (
            Open311Error::not_found(
                "unknown resource; name it with .xml or .json, e.g. services.json",
            ),
            Format::Json,
        )
    })
}

pub(crate) fn reply(result: Reply) -> Response {
    result.unwrap_or_else(|(err, format)| err.render(format))
}

async fn unknown() -> Response {
    Open311Error::not_found("no such Open311 resource; start at discovery.json")
        .render(Format::Json)
}

/// The language of names: the one `Accept-Language` prefers among those the
/// catalogue is written in (Polish when it names neither).
pub(crate) fn language(headers: &HeaderMap) -> Language {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Language::preferred)
        .unwrap_or_default()
}

/// A `jurisdiction_id` other than this deployment's city is a missing resource.
/// The city a call is about: `jurisdiction_id` when given (an unknown one is a
/// missing resource), else the only city this deployment serves.
pub(crate) fn jurisdiction<'a>(
    deps: &'a Deps,
    params: &Params,
) -> Result<&'a Catalogue, Open311Error> {
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
            if resource == KEY_SERVICE_PAGE {
                return Ok(key_service_page(&deps, &headers));
            }
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
                    Node::List(
                        "service_requests",
                        vec![
                            public_request(
                                &deps,
                                catalogue,
                                &request,
                                lang,
                                params.flag("extensions"),
                            )
                            .await
                            .map_err(fail)?,
                        ],
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

/// The request's photos: an uploaded `media` file (checked by content, its
/// location always removed, stored under a key the server chooses)
/// and any `media_url` links the client hosts.
pub(crate) async fn media(
    deps: &Deps,
    catalogue: &Catalogue,
    p: &Params,
    photo: Option<bytes::Bytes>,
) -> Result<Vec<MediaRef>, Open311Error> {
    let mut refs = Vec::new();
    if let Some(bytes) = photo {
        let (kind, body) = prepare_photo(&bytes).map_err(|e| match e {
            MediaError::CannotRemoveLocation(_) | MediaError::NotAnImage => {
                Open311Error::unsupported_media(format!("media: {e}"))
            }
            other => Open311Error::bad_request(format!("media: {other}")),
        })?;
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
