//! What a department's work list shows, and one case as its staff read it.

use jiff::{SignedDuration, Timestamp};
use tracing::instrument;

use super::{DepartmentError, OPEN_WORK_STATUSES};
use crate::catalogue::Catalogues;
use crate::ids::{CaseNumber, DepartmentCode, ServiceCode};
use crate::paging::{Listing, Page, PageRequest};
use crate::ports::{RequestQueries, RequestStore};
use crate::request::{HistoryEvent, ServiceRequest};
use crate::status::Status;
use crate::visibility::{Audience, disclose};

/// How far ahead "due soon" looks when a case has no SLA warning time.
pub const DUE_SOON_WITHOUT_WARNING: SignedDuration = SignedDuration::from_hours(24);

/// At most this many index pages are read for one filtered page: a narrow
/// filter over a long backlog answers a shorter page with a cursor to go on
/// from, never an unbounded read.
pub const MAX_PAGES_SCANNED: usize = 8;

/// Which of the department's open work a list shows. Every field narrows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkFilter {
    pub status: Option<Status>,
    pub due: Option<DueFilter>,
    /// A district code of the city's map.
    pub district: Option<String>,
    pub service: Option<ServiceCode>,
    pub assignee: Option<AssigneeFilter>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueFilter {
    /// The due time has passed.
    Overdue,
    /// Not due yet, but the SLA warning time has passed (or, without one,
    /// due within [`DUE_SOON_WITHOUT_WARNING`]). A paused clock is never soon.
    Soon,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssigneeFilter {
    /// Nobody in particular works it yet.
    Nobody,
    /// This staff subject works it.
    Is(String),
}

impl WorkFilter {
    pub fn matches(&self, request: &ServiceRequest, now: Timestamp) -> bool {
        let status = self.status.is_none_or(|s| request.status == s);
        let district = self
            .district
            .as_ref()
            .is_none_or(|d| request.location.district.as_ref() == Some(d));
        let service = self
            .service
            .as_ref()
            .is_none_or(|s| request.service_code.as_ref() == Some(s));
        let assignee = match &self.assignee {
            None => true,
            Some(AssigneeFilter::Nobody) => request.assignee.is_none(),
            Some(AssigneeFilter::Is(who)) => request.assignee.as_ref() == Some(who),
        };
        let due = match self.due {
            None => true,
            Some(DueFilter::Overdue) => request.breached_sla(now),
            Some(DueFilter::Soon) => is_due_soon(request, now),
        };
        status && district && service && assignee && due
    }

    /// Whether anything beyond the status narrows the list (read page by page).
    fn narrows_beyond_status(&self) -> bool {
        self.due.is_some()
            || self.district.is_some()
            || self.service.is_some()
            || self.assignee.is_some()
    }
}

/// How a case stands against its due time, as the work list highlights it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueState {
    /// Past its due time (the SLA is breached).
    Overdue,
    /// Past the SLA warning, not yet due.
    Soon,
    /// The clock is paused (waiting for the citizen).
    Paused,
    OnTime,
}

pub fn due_state(request: &ServiceRequest, now: Timestamp) -> DueState {
    if request.sla_paused_at.is_some() {
        DueState::Paused
    } else if request.breached_sla(now) {
        DueState::Overdue
    } else if is_due_soon(request, now) {
        DueState::Soon
    } else {
        DueState::OnTime
    }
}

fn is_due_soon(request: &ServiceRequest, now: Timestamp) -> bool {
    let Some(due) = request.due_at else {
        return false;
    };
    if request.sla_paused_at.is_some() || now >= due || request.status.is_closed() {
        return false;
    }
    match request.sla_warning_at {
        Some(warning) => now >= warning,
        None => due.duration_since(now) <= DUE_SOON_WITHOUT_WARNING,
    }
}

/// One page of the department's open work: by status (new work first), then
/// due time, narrowed by `filter`. The status is read from the index; the
/// other filters are applied to at most [`MAX_PAGES_SCANNED`] index pages, so
/// a page may hold fewer than `limit` items and still have a `next` cursor.
#[instrument(skip(queries, filter, page), fields(department = %department, limit = page.limit))]
pub async fn list_assignments(
    queries: &dyn RequestQueries,
    department: &DepartmentCode,
    filter: &WorkFilter,
    page: &PageRequest,
    now: Timestamp,
) -> Result<Page<ServiceRequest>, DepartmentError> {
    if filter
        .status
        .is_some_and(|s| !OPEN_WORK_STATUSES.contains(&s))
    {
        return Err(DepartmentError::StatusFilter);
    }
    let listing = Listing::DepartmentWork {
        department: department.clone(),
        status: filter.status,
    };
    if !filter.narrows_beyond_status() {
        return Ok(queries.page(&listing, page).await?);
    }
    let mut items = Vec::new();
    let mut after = page.after.clone();
    for _ in 0..MAX_PAGES_SCANNED {
        // Ask for what is still missing, so a page read is used whole and
        // its cursor is where the next call goes on.
        let read = queries
            .page(
                &listing,
                &PageRequest {
                    limit: page.limit - items.len(),
                    after: after.take(),
                },
            )
            .await?;
        items.extend(read.items.into_iter().filter(|r| filter.matches(r, now)));
        after = read.next;
        if after.is_none() || items.len() >= page.limit {
            break;
        }
    }
    Ok(Page { items, next: after })
}

/// One of the department's cases as its staff see it, with its history.
#[instrument(skip(store, catalogues), fields(department = %department, case_number = %case_number))]
pub async fn read_assignment(
    store: &dyn RequestStore,
    catalogues: &Catalogues,
    department: &DepartmentCode,
    case_number: &CaseNumber,
) -> Result<(ServiceRequest, Vec<HistoryEvent>), DepartmentError> {
    let request = store
        .find_by_case_number(case_number)
        .await?
        .filter(|r| r.department.as_ref() == Some(department))
        .ok_or_else(|| DepartmentError::NotFound(case_number.clone()))?;
    let history = store.history(&request.id).await?;
    let catalogue = catalogues
        .get(&request.jurisdiction)
        .unwrap_or_else(|| catalogues.default_catalogue());
    let shown = disclose(catalogue, Audience::Staff, &request, &history);
    Ok((shown.request, shown.history))
}
