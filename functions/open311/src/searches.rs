//! Open311's reads of many requests: `GET requests` (ids, filters, window,
//! page) and `servicerequestupdates`, over the core's search use cases.

use axum::http::StatusCode;
use citydesk_core::catalogue::Catalogue;
use citydesk_core::ids::{CaseNumber, ServiceCode};
use citydesk_core::language::Language;
use citydesk_core::paging::TimeWindow;
use citydesk_core::request::ServiceRequest;
use citydesk_core::usecases::search_requests::{
    Openness, RequestSearch, request_updates, search_requests,
};
use citydesk_core::visibility::{Audience, disclose};
use jiff::{SignedDuration, Timestamp};

use crate::Deps;
use crate::format::{Node, Open311Error};
use crate::params::Params;
use crate::representation as repr;

use crate::routes::media_url;

pub(crate) const MAX_PAGE_SIZE: usize = 1000;

pub(crate) const DEFAULT_LIMIT: usize = 1000;

/// The spec's limits on a list of requests.
pub(crate) const MAX_WINDOW_DAYS: i64 = 90;

pub(crate) async fn find(
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

pub(crate) async fn list_requests(
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
        items.push(public_request(deps, catalogue, &r, lang, extensions).await?);
    }
    Ok(Node::List("service_requests", items))
}

/// One request as the public may see it (`citydesk_core::visibility`), with
/// its notes and public answers when `extensions` is asked for.
pub(crate) async fn public_request(
    deps: &Deps,
    catalogue: &Catalogue,
    r: &ServiceRequest,
    lang: Language,
    extensions: bool,
) -> Result<Node, Open311Error> {
    let history = match extensions {
        true => deps.store.history(&r.id).await.map_err(dependency)?,
        false => Vec::new(),
    };
    let shown = disclose(catalogue, Audience::Public, r, &history);
    let media = media_url(deps, &shown.request).await?;
    Ok(repr::request(catalogue, &shown, lang, extensions, media))
}

/// The search a `GET requests` asks for: service codes, status, and the
/// creation or update window (at most 90 days, the last 90 by default);
/// `None` when only service codes that cannot exist were asked for.
pub(crate) fn search(
    deps: &Deps,
    catalogue: &Catalogue,
    params: &Params,
    page: usize,
    page_size: usize,
) -> Result<Option<RequestSearch>, Open311Error> {
    let now = deps.clock.now();
    let tz = repr::city_tz(catalogue);
    let (start, end) = (
        params.datetime("start_date", &tz)?,
        params.datetime("end_date", &tz)?,
    );
    let (after, before) = (
        params.datetime("updated_after", &tz)?,
        params.datetime("updated_before", &tz)?,
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

pub(crate) fn dependency(e: citydesk_core::ports::PortError) -> Open311Error {
    Open311Error::dependency(e.retryable, &e)
}

/// `status=open`, `closed` or both.
pub(crate) fn status_filter(params: &Params) -> Result<Option<Vec<String>>, Open311Error> {
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
pub(crate) async fn list_updates(
    deps: &Deps,
    catalogue: &Catalogue,
    params: &Params,
) -> Result<Node, Open311Error> {
    let tz = repr::city_tz(catalogue);
    let (from, to) = window(
        deps.clock.now(),
        params.datetime("start_date", &tz)?,
        params.datetime("end_date", &tz)?,
    )?;
    let page_size = params
        .count("page_size", 1, MAX_PAGE_SIZE)?
        .unwrap_or(DEFAULT_LIMIT);
    let page = params.count("page", 1, usize::MAX)?.unwrap_or(1);
    let updates = request_updates(
        deps.store.as_ref(),
        deps.queries.as_ref(),
        catalogue,
        &TimeWindow { from, to },
        |e| repr::update_status(e).is_some(),
        page,
        page_size,
    )
    .await
    .map_err(dependency)?;
    let items = updates
        .iter()
        .filter_map(|(case, event)| {
            repr::update_status(event).map(|status| repr::request_update(case, event, status, &tz))
        })
        .collect();
    Ok(Node::List("service_request_updates", items))
}

/// The date window: at most 90 days, the last 90 days by default.
pub(crate) fn window(
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
