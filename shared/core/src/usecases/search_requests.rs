//! Searching a city's requests (Open311's `GET requests` and
//! `servicerequestupdates`): filters, order and page-number paging over the
//! time-ordered query port. The store is read a bounded page at a time and
//! only the asked-for page is kept, so a 90-day window never has to fit in
//! memory.

use std::collections::{HashMap, HashSet};

use tracing::instrument;

use crate::catalogue::Catalogue;
use crate::ids::{CaseNumber, JurisdictionId, RequestId, ServiceCode};
use crate::paging::{Order, PageRequest, TimeWindow};
use crate::ports::{PortError, RequestQueries, RequestStore};
use crate::request::{HistoryEvent, ServiceRequest};
use crate::visibility::{Audience, disclose, disclose_event};

/// How many items one read of the store takes while searching.
const READ_PAGE: usize = 200;

/// Open or closed, as Open311 groups the statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Openness {
    Open,
    Closed,
}

impl Openness {
    pub fn of(request: &ServiceRequest) -> Self {
        if request.status.is_closed() {
            Openness::Closed
        } else {
            Openness::Open
        }
    }
}

/// Which page of which requests (everything parsed at the edge).
#[derive(Debug, Clone)]
pub struct RequestSearch {
    pub jurisdiction: JurisdictionId,
    /// Any of these services; empty: every service.
    pub service_codes: Vec<ServiceCode>,
    /// Any of these; `None`: open and closed.
    pub openness: Option<Vec<Openness>>,
    /// Created in this window.
    pub created: TimeWindow,
    /// When given, last changed in this window (newest change first) and
    /// `created` only narrows; otherwise newest created first.
    pub updated: Option<TimeWindow>,
    /// Whether `created` narrows an `updated` search (it was given explicitly).
    pub created_given: bool,
    /// 1-based page number and its size.
    pub page: usize,
    pub page_size: usize,
}

/// The requests on the asked-for page, newest first.
#[instrument(skip_all, fields(jurisdiction = %search.jurisdiction, page = search.page))]
pub async fn search_requests(
    store: &dyn RequestStore,
    queries: &dyn RequestQueries,
    search: &RequestSearch,
) -> Result<Vec<ServiceRequest>, PortError> {
    let skip = search
        .page
        .saturating_sub(1)
        .saturating_mul(search.page_size);
    let mut kept = Kept::new(skip, search.page_size);
    let matches = |r: &ServiceRequest| {
        r.jurisdiction == search.jurisdiction
            && (search.service_codes.is_empty()
                || r.service_code
                    .as_ref()
                    .is_some_and(|c| search.service_codes.contains(c)))
            && search
                .openness
                .as_ref()
                .is_none_or(|o| o.contains(&Openness::of(r)))
    };
    let mut read = PageRequest {
        limit: READ_PAGE,
        after: None,
    };
    match search.updated {
        None => loop {
            let page = queries
                .created_in(&search.created, Order::NewestFirst, &read)
                .await?;
            for r in page.items.into_iter().filter(|r| matches(r)) {
                if kept.offer(r) {
                    return Ok(kept.items);
                }
            }
            match page.next {
                Some(next) => read.after = Some(next),
                None => return Ok(kept.items),
            }
        },
        Some(updated) => {
            // Newest change first: a request is met first at its latest change
            // in the window, and counts when that is its latest change of all.
            let mut seen: HashSet<RequestId> = HashSet::new();
            loop {
                let page = queries
                    .changed_in(&updated, Order::NewestFirst, &read)
                    .await?;
                for (id, _) in page.items {
                    if !seen.insert(id.clone()) {
                        continue;
                    }
                    let Some(r) = store.get(&id).await? else {
                        continue;
                    };
                    let wanted = updated.contains(r.updated_at)
                        && (!search.created_given || search.created.contains(r.created_at))
                        && matches(&r);
                    if wanted && kept.offer(r) {
                        return Ok(kept.items);
                    }
                }
                match page.next {
                    Some(next) => read.after = Some(next),
                    None => return Ok(kept.items),
                }
            }
        }
    }
}

/// What happened to the city's requests in a window, oldest first: the
/// events `wanted` keeps, with their case number, one page of them, each as
/// the public may see it (`visibility`).
#[instrument(skip_all, fields(jurisdiction = %catalogue.city().jurisdiction_id, page))]
pub async fn request_updates(
    store: &dyn RequestStore,
    queries: &dyn RequestQueries,
    catalogue: &Catalogue,
    window: &TimeWindow,
    wanted: impl Fn(&HistoryEvent) -> bool,
    page: usize,
    page_size: usize,
) -> Result<Vec<(CaseNumber, HistoryEvent)>, PortError> {
    let skip = page.saturating_sub(1).saturating_mul(page_size);
    let mut kept = Kept::new(skip, page_size);
    let jurisdiction = &catalogue.city().jurisdiction_id;
    // Case numbers of the requests met so far (only this city's are `Some`),
    // and whether their service's reports are private.
    let mut cases: HashMap<RequestId, Option<(CaseNumber, bool)>> = HashMap::new();
    let mut read = PageRequest {
        limit: READ_PAGE,
        after: None,
    };
    loop {
        let found = queries
            .changed_in(window, Order::OldestFirst, &read)
            .await?;
        for (id, event) in found.items {
            if !wanted(&event) {
                continue;
            }
            if !cases.contains_key(&id) {
                let case = store
                    .get(&id)
                    .await?
                    .filter(|r| &r.jurisdiction == jurisdiction)
                    .map(|r| {
                        let private = disclose(catalogue, Audience::Public, &r, &[]).private_report;
                        (r.case_number, private)
                    });
                cases.insert(id.clone(), case);
            }
            if let Some(Some((case, private_report))) = cases.get(&id)
                && let Some(shown) = disclose_event(Audience::Public, *private_report, &event)
                && kept.offer((case.clone(), shown))
            {
                return Ok(kept.items);
            }
        }
        match found.next {
            Some(next) => read.after = Some(next),
            None => return Ok(kept.items),
        }
    }
}

/// Page-number paging: skips the earlier pages' items, keeps one page.
struct Kept<T> {
    skip: usize,
    size: usize,
    items: Vec<T>,
}

impl<T> Kept<T> {
    fn new(skip: usize, size: usize) -> Self {
        Self {
            skip,
            size,
            items: Vec::with_capacity(size.min(READ_PAGE)),
        }
    }
    /// Takes a matching item; `true` once the page is full.
    fn offer(&mut self, item: T) -> bool {
        if self.skip > 0 {
            self.skip -= 1;
        } else {
            self.items.push(item);
        }
        self.items.len() >= self.size
    }
}
