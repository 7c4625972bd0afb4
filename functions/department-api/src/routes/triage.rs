//! The city's triage queue (its contact centre's): what the classifier was
//! unsure of, with its suggestions, and the operator's choice.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use citydesk_core::audit::StaffStamp;
use citydesk_core::ids::ServiceCode;
use citydesk_core::usecases::triage::{Triage, TriageError, choose_service, triage_queue};
use citydesk_http_api::{ApiError, JsonBody};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Acting, TriageWork, page_request, parse_case};
use crate::Deps;

fn triage<'a>(deps: &'a Deps, staff: &'a StaffStamp) -> Triage<'a> {
    Triage {
        store: deps.store.as_ref(),
        clock: deps.clock.as_ref(),
        examples: deps.examples.as_ref(),
        catalogues: &deps.catalogues,
        staff,
    }
}

/// A request waiting for an operator, with the classifier's suggestions.
#[derive(Debug, Serialize)]
pub(super) struct TriageItem {
    case_number: String,
    description: String,
    address: Option<String>,
    district: Option<String>,
    channel: String,
    created_at: Timestamp,
    suggestions: Vec<SuggestionView>,
    handed_back_by: Vec<String>,
}

#[derive(Debug, Serialize)]
pub(super) struct SuggestionView {
    service_code: String,
    service_name: Option<String>,
    probability: f64,
}

#[derive(Debug, Serialize)]
pub(super) struct TriageList {
    count: usize,
    requests: Vec<TriageItem>,
    /// The cursor of the following page; `null` on the last.
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PageQuery {
    /// Read by [`Acting`].
    #[serde(default)]
    #[allow(dead_code)]
    department: Option<String>,
    #[serde(default)]
    limit: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

pub(super) async fn list(
    State(deps): State<Arc<Deps>>,
    Acting {
        department, stamp, ..
    }: Acting<TriageWork>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<axum::Json<TriageList>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::invalid_field("query", e.body_text()))?;
    let page = page_request(query.limit.as_deref(), query.cursor.as_deref())?;
    let waiting = triage_queue(
        &triage(&deps, &stamp),
        deps.queries.as_ref(),
        &department,
        &page,
    )
    .await
    .map_err(triage_error)?;
    let next = waiting.next.map(|k| k.cursor());
    let items: Vec<TriageItem> = waiting
        .items
        .iter()
        .map(|r| TriageItem {
            case_number: r.case_number.to_string(),
            description: r.description.clone(),
            address: r.location.address.clone(),
            district: r.location.district.clone(),
            channel: r.channel.as_str().to_owned(),
            created_at: r.created_at,
            suggestions: r
                .suggestions
                .iter()
                .map(|s| SuggestionView {
                    service_code: s.service_code.to_string(),
                    service_name: deps
                        .catalogues
                        .get(&r.jurisdiction)
                        .and_then(|c| c.service(&s.service_code))
                        .map(|x| x.name.get(r.language).to_owned()),
                    probability: s.probability,
                })
                .collect(),
            handed_back_by: r
                .declined_departments
                .iter()
                .map(ToString::to_string)
                .collect(),
        })
        .collect();
    Ok(axum::Json(TriageList {
        count: items.len(),
        requests: items,
        next,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TriageBody {
    service_code: String,
}

#[derive(Debug, Serialize)]
pub(super) struct TriageDecision {
    case_number: String,
    service_code: String,
    /// Routing follows at once; the request's own view shows where it went.
    status: String,
}

pub(super) async fn choose(
    State(deps): State<Arc<Deps>>,
    Acting {
        department, stamp, ..
    }: Acting<TriageWork>,
    Path(case_number): Path<String>,
    body: JsonBody<TriageBody>,
) -> Result<axum::Json<TriageDecision>, ApiError> {
    let case_number = parse_case(&case_number, "case_number")?;
    let service_code = ServiceCode::parse(body.value.service_code.trim())
        .map_err(|e| ApiError::invalid_field("service_code", e.to_string()))?;
    let request = choose_service(
        &triage(&deps, &stamp),
        &department,
        &case_number,
        service_code.clone(),
    )
    .await
    .map_err(triage_error)?;
    Ok(axum::Json(TriageDecision {
        case_number: request.case_number.to_string(),
        service_code: service_code.to_string(),
        status: request.status.to_string(),
    }))
}

fn triage_error(e: TriageError) -> ApiError {
    match e {
        TriageError::NotTriageDepartment => ApiError::forbidden(e.to_string()),
        TriageError::NotFound(_) => ApiError::not_found(e.to_string()),
        TriageError::UnknownService(_) => ApiError::invalid_field("service_code", e.to_string()),
        TriageError::Conflict => ApiError::conflict(e.to_string()),
        TriageError::Port(p) => ApiError::dependency(p.retryable, &p),
    }
}
