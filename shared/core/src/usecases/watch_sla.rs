//! The SLA sweep: for every department's open work, a warning once the city's
//! share of the SLA has passed and a breach once the due time has. Each is
//! recorded once per assignment (a history event, conditional on the request's
//! version); the alert on the department's queue follows from that committed
//! event through the outbox, keyed by `(request_id, seq)`.
//!
//! `now` is the schedule's time, not the machine's clock, so a sweep can be
//! replayed for any moment (and tests control it).

use jiff::Timestamp;
use tracing::instrument;

use crate::catalogue::Catalogues;
use crate::messages::SlaAlert;
use crate::ports::{ApplyOutcome, RequestStore};
use crate::request::{EventKind, ServiceRequest};
use crate::usecases::StepError;

pub struct WatchSla<'a> {
    pub store: &'a dyn RequestStore,
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
}

pub const ACTOR: &str = "system:sla";

#[instrument(skip(deps))]
pub async fn watch_sla(deps: &WatchSla<'_>, now: Timestamp) -> Result<SweepSummary, StepError> {
    let mut summary = SweepSummary::default();
    for catalogue in deps.catalogues.iter() {
        for department in catalogue.departments() {
            let open = deps.store.open_assignments(&department.code, None).await?;
            for request in open {
                summary.open_requests += 1;
                let Some(alert) = alert_due(&request, now) else {
                    continue;
                };
                // One request's failure does not stop the sweep of the others.
                match emit(deps, &request, alert, now).await {
                    Ok(true) if alert == SlaAlert::Warning => summary.warnings += 1,
                    Ok(true) => summary.breaches += 1,
                    Ok(false) => summary.skipped += 1,
                    Err(error) => {
                        tracing::warn!(request_id = %request.id, %error, "sla alert failed; next sweep");
                        summary.failed += 1;
                    }
                }
            }
        }
    }
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
    if request.status.is_closed() {
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
