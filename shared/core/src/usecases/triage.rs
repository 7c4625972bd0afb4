//! Triage: the contact centre's operators see what the classifier was unsure
//! of, with its suggestions, and choose the service. The request is then routed
//! like any other, and the choice is kept as a training example for the next
//! `citydesk train`.

use tracing::instrument;

use crate::catalogue::{Catalogue, Catalogues};
use crate::ids::{CaseNumber, DepartmentCode, ServiceCode};
use crate::ports::{
    ApplyOutcome, Clock, OperatorExample, PortError, RequestStore, TrainingExamples,
};
use crate::request::{EventKind, ServiceRequest};
use crate::status::Status;

pub struct Triage<'a> {
    pub store: &'a dyn RequestStore,
    pub clock: &'a dyn Clock,
    pub examples: &'a dyn TrainingExamples,
    pub catalogues: &'a Catalogues,
    /// Who is choosing: the change carries it into the audit trail.
    pub staff: &'a crate::audit::StaffStamp,
}

#[derive(Debug, thiserror::Error)]
pub enum TriageError {
    #[error("only the city's triage department (its contact centre) works the triage queue")]
    NotTriageDepartment,
    #[error("no request {0} waiting for triage in your city")]
    NotFound(CaseNumber),
    #[error("service {0} is not in the catalogue")]
    UnknownService(ServiceCode),
    #[error("the request was changed by someone else at the same time; reload and try again")]
    Conflict,
    #[error(transparent)]
    Port(#[from] PortError),
}

/// The catalogue of the city whose triage department `department` is.
pub fn city_of<'a>(
    catalogues: &'a Catalogues,
    department: &DepartmentCode,
) -> Result<&'a Catalogue, TriageError> {
    catalogues
        .iter()
        .find(|c| c.city().triage_department.as_ref() == Some(department))
        .ok_or(TriageError::NotTriageDepartment)
}

/// One page of the city's triage queue, oldest first.
#[instrument(skip(deps, queries, page), fields(department = %department, limit = page.limit))]
pub async fn triage_queue(
    deps: &Triage<'_>,
    queries: &dyn crate::ports::RequestQueries,
    department: &DepartmentCode,
    page: &crate::paging::PageRequest,
) -> Result<crate::paging::Page<ServiceRequest>, TriageError> {
    let catalogue = city_of(deps.catalogues, department)?;
    let listing = crate::paging::Listing::Triage {
        jurisdiction: catalogue.city().jurisdiction_id.clone(),
    };
    Ok(queries.page(&listing, page).await?)
}

/// An operator chooses the service of a triaged request: it goes to routing,
/// and the choice becomes a training example. Repeating the same choice is harmless.
#[instrument(skip(deps), fields(department = %department, case_number = %case_number, service = %service_code))]
pub async fn choose_service(
    deps: &Triage<'_>,
    department: &DepartmentCode,
    case_number: &CaseNumber,
    service_code: ServiceCode,
) -> Result<ServiceRequest, TriageError> {
    let catalogue = city_of(deps.catalogues, department)?;
    if catalogue.service(&service_code).is_none() {
        return Err(TriageError::UnknownService(service_code));
    }
    let request = deps
        .store
        .find_by_case_number(case_number)
        .await?
        .filter(|r| r.jurisdiction == catalogue.city().jurisdiction_id)
        .filter(|r| r.status == Status::Triaged)
        .ok_or_else(|| TriageError::NotFound(case_number.clone()))?;
    let actor = format!("operator:{department}");
    let history = deps.store.history(&request.id).await?;
    let already_chosen = history.last().is_some_and(|e| {
        e.actor == actor
            && matches!(&e.kind, EventKind::Classified { service_code: s, .. } if *s == service_code)
    });
    let request = if already_chosen {
        request
    } else {
        // Departments that said "not ours" stay passed over.
        let change = request
            .classify(service_code.clone(), 1.0, deps.clock.now(), &actor)
            .by(deps.staff);
        match deps.store.apply(&change).await? {
            ApplyOutcome::Applied => change.request,
            ApplyOutcome::Conflict => return Err(TriageError::Conflict),
        }
    };
    deps.examples
        .record(&OperatorExample {
            jurisdiction: request.jurisdiction.clone(),
            request_id: request.id.clone(),
            text: request.description.clone(),
            service_code,
            operator: department.to_string(),
            at: deps.clock.now(),
        })
        .await?;
    // The committed choice routes it (outbox).
    Ok(request)
}
