//! The SLA sweep: for every department's open work, a warning once the city's
//! share of the SLA has passed and a breach once the due time has. Each is
//! recorded once per assignment (a history event, conditional on the request's
//! version); the alert on the department's queue follows from that committed
//! event through the outbox, keyed by `(request_id, seq)`.
//!
//! `now` is the schedule's time, not the machine's clock, so a sweep can be
//! replayed for any moment (and tests control it). Each department's work is
//! read a page at a time; a run that is running out of time keeps its place
//! and the next run goes on from there, so the sweep always ends inside its
//! timeout and still reaches every department.

use jiff::Timestamp;
use tracing::instrument;

use crate::catalogue::Catalogues;
use crate::ids::{DepartmentCode, JurisdictionId};
use crate::messages::SlaAlert;
use crate::paging::{Listing, PageKey, PageRequest};
use crate::ports::{ApplyOutcome, RequestQueries, RequestStore, SweepPosition, SweepProgress};
use crate::request::{EventKind, ServiceRequest};
use crate::usecases::StepError;

pub struct WatchSla<'a> {
    pub store: &'a dyn RequestStore,
    /// Each department's open work, a page at a time.
    pub queries: &'a dyn RequestQueries,
    /// Where a sweep that ran out of time stopped.
    pub progress: &'a dyn SweepProgress,
    pub catalogues: &'a Catalogues,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepSummary {
    pub open_requests: usize,
    pub warnings: usize,
    pub breaches: usize,
    /// Requests changed by someone else during the sweep: looked at next time.
    pub skipped: usize,
    /// Requests whose alert or record failed: looked at next time.
    pub failed: usize,
    /// False when the time ran short: the next run goes on from where this stopped.
    pub finished: bool,
}

pub const ACTOR: &str = "system:sla";

/// Open work read per page.
const SWEEP_PAGE: usize = 100;

/// Sweeps every department of every city, starting where the last run
/// stopped; stops before `time_is_short` says the invocation's time is up,
/// and keeps its place for the next run.
#[instrument(skip(deps, time_is_short))]
pub async fn watch_sla(
    deps: &WatchSla<'_>,
    now: Timestamp,
    time_is_short: &(dyn Fn() -> bool + Sync),
) -> Result<SweepSummary, StepError> {
    let departments: Vec<(JurisdictionId, DepartmentCode)> = deps
        .catalogues
        .iter()
        .flat_map(|c| {
            c.departments()
                .iter()
                .map(|d| (c.city().jurisdiction_id.clone(), d.code.clone()))
        })
        .collect();
    let resume = deps.progress.load().await?;
    // Start at the department the last run stopped in (all of them when it is gone).
    let start = resume
        .as_ref()
        .and_then(|p| {
            departments
                .iter()
                .position(|(j, d)| *j == p.jurisdiction && *d == p.department)
        })
        .unwrap_or(0);
    let mut after = resume
        .filter(|p| {
            departments
                .get(start)
                .is_some_and(|(j, d)| *j == p.jurisdiction && *d == p.department)
        })
        .and_then(|p| p.after)
        .map(|c| PageKey::from_cursor(&c))
        .transpose()
        .map_err(|e| StepError::Poison(e.to_string()))?;
    let mut summary = SweepSummary::default();
    let order = departments[start..].iter().chain(&departments[..start]);
    for (jurisdiction, department) in order {
        loop {
            if time_is_short() {
                let position = SweepPosition {
                    jurisdiction: jurisdiction.clone(),
                    department: department.clone(),
                    after: after.as_ref().map(PageKey::cursor),
                };
                deps.progress.save(Some(&position)).await?;
                tracing::info!(open = summary.open_requests, department = %department, "sla sweep out of time; the next run goes on from here");
                return Ok(summary);
            }
            let page = deps
                .queries
                .page(
                    &Listing::DepartmentWork {
                        department: department.clone(),
                        status: None,
                    },
                    &PageRequest {
                        limit: SWEEP_PAGE,
                        after: after.take(),
                    },
                )
                .await?;
            for request in &page.items {
                summary.open_requests += 1;
                let Some(alert) = alert_due(request, now) else {
                    continue;
                };
                // One request's failure does not stop the sweep of the others.
                match emit(deps, request, alert, now).await {
                    Ok(true) if alert == SlaAlert::Warning => summary.warnings += 1,
                    Ok(true) => summary.breaches += 1,
                    Ok(false) => summary.skipped += 1,
                    Err(error) => {
                        tracing::warn!(request_id = %request.id, %error, "sla alert failed; next sweep");
                        summary.failed += 1;
                    }
                }
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    deps.progress.save(None).await?;
    summary.finished = true;
    tracing::info!(
        open = summary.open_requests,
        warnings = summary.warnings,
        breaches = summary.breaches,
        failed = summary.failed,
        "sla sweep done"
    );
    Ok(summary)
}

/// The alert this request should get at `now`, if one is still owed.
pub fn alert_due(request: &ServiceRequest, now: Timestamp) -> Option<SlaAlert> {
    let due = request.due_at?;
    // Closed, or paused while the citizen is asked for information.
    if request.status.is_closed() || request.sla_paused_at.is_some() {
        return None;
    }
    if now >= due {
        return (!request.sla_breach_noted).then_some(SlaAlert::Breached);
    }
    let warning_at = request.sla_warning_at?;
    (now >= warning_at && !request.sla_warned).then_some(SlaAlert::Warning)
}

/// Records the alert (the department hears of it from the outbox); `false`
/// when another writer got there first.
async fn emit(
    deps: &WatchSla<'_>,
    request: &ServiceRequest,
    alert: SlaAlert,
    now: Timestamp,
) -> Result<bool, StepError> {
    let Some(due_at) = request.due_at else {
        return Ok(false);
    };
    let kind = match alert {
        SlaAlert::Warning => EventKind::SlaWarning { due_at },
        SlaAlert::Breached => EventKind::SlaBreached { due_at },
    };
    let mut change = request.record(kind, now, ACTOR);
    change.request.sla_warned = true;
    if alert == SlaAlert::Breached {
        change.request.sla_breach_noted = true;
    }
    if matches!(deps.store.apply(&change).await?, ApplyOutcome::Conflict) {
        // Someone changed it meanwhile; the next sweep decides again.
        return Ok(false);
    }
    tracing::info!(request_id = %request.id, alert = ?alert, "sla alert");
    Ok(true)
}
