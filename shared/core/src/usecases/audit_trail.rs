//! The audit trail: appending a read of personal data before it is shown,
//! and the quality team's view of a day (JSON or CSV). Staff changes reach
//! the trail through the dispatcher ([`crate::usecases::dispatch_change`]).

use jiff::civil::Date;
use tracing::instrument;

use crate::audit::{AuditRecord, CSV_COLUMNS, StaffStamp};
use crate::ids::CaseNumber;
use crate::ports::{AuditLog, AuditTrail, Clock, PortError};
use crate::staff::Role;
use crate::usecases::staff_access::Caller;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("the audit trail is read by the quality role only")]
    NotQuality,
    #[error("day must be a date as YYYY-MM-DD (a UTC day), not {0:?}")]
    Day(String),
    #[error("day {0} has not begun yet")]
    FutureDay(Date),
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Appends the read of personal data (`what`: `caller_lookup`) before the
/// caller sees it: if the trail cannot take it, the data is not shown.
#[instrument(skip_all, fields(what = what, requests = case_numbers.len()))]
pub async fn record_personal_data_read(
    trail: &dyn AuditTrail,
    clock: &dyn Clock,
    stamp: &StaffStamp,
    what: &str,
    case_numbers: Vec<CaseNumber>,
    read_id: String,
    detail: String,
) -> Result<(), PortError> {
    let record = AuditRecord::of_read(stamp, clock.now(), what, case_numbers, read_id, detail);
    trail.append(&record).await
}

/// Every record of a UTC day, for the quality role only.
#[instrument(skip(log, caller, clock))]
pub async fn audit_day(
    log: &dyn AuditLog,
    clock: &dyn Clock,
    caller: &Caller,
    day: &str,
) -> Result<Vec<AuditRecord>, AuditError> {
    let is_quality = matches!(caller, Caller::Staff(s) if s.has(&Role::Quality));
    if !is_quality {
        return Err(AuditError::NotQuality);
    }
    let day: Date = day
        .trim()
        .parse()
        .map_err(|_| AuditError::Day(day.to_owned()))?;
    let today = clock.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    if day > today {
        return Err(AuditError::FutureDay(day));
    }
    let mut records = log.day(day).await?;
    records.sort_by(|a, b| {
        a.at.cmp(&b.at)
            .then_with(|| a.object_key().cmp(&b.object_key()))
    });
    Ok(records)
}

/// The records as CSV with a header row ([`CSV_COLUMNS`]).
pub fn audit_csv(records: &[AuditRecord]) -> Result<String, PortError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| PortError::permanent("write audit CSV", e.to_string());
    writer.write_record(CSV_COLUMNS).map_err(fail)?;
    for record in records {
        writer.write_record(record.csv_fields()).map_err(fail)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| PortError::permanent("write audit CSV", e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| PortError::permanent("write audit CSV", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{ManualClock, MemoryAuditTrail};
    use crate::staff::StaffIdentity;
    use futures_executor::block_on;

    fn staff(groups: &[&str]) -> Caller {
        Caller::Staff(StaffIdentity::from_groups("u-9", groups.iter().copied()))
    }

    fn clock() -> ManualClock {
        ManualClock::at("2026-12-03T12:00:00Z".parse().unwrap())
    }

    #[test]
    fn a_read_is_listed_for_quality_and_for_nobody_else() {
        let trail = MemoryAuditTrail::default();
        let stamp = staff(&["operator"]).stamp("operator-api");
        block_on(record_personal_data_read(
            &trail,
            &clock(),
            &stamp,
            "caller_lookup",
            vec![CaseNumber::from_entropy(5)],
            "r-1".into(),
            "by phone".into(),
        ))
        .unwrap();
        let listed = block_on(audit_day(
            &trail,
            &clock(),
            &staff(&["quality"]),
            "2026-12-03",
        ))
        .unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].subject, "u-9");
        for other in [
            &["operator"][..],
            &["manager"],
            &["admin"],
            &["clerk:roads"],
        ] {
            let refused = block_on(audit_day(&trail, &clock(), &staff(other), "2026-12-03"));
            assert!(matches!(refused, Err(AuditError::NotQuality)), "{other:?}");
        }
        let csv = audit_csv(&listed).unwrap();
        assert!(csv.starts_with("at,subject,roles,via,action,what"), "{csv}");
        assert!(csv.contains("read_personal_data,caller_lookup"), "{csv}");
    }

    #[test]
    fn a_day_is_a_date_that_has_begun() {
        let trail = MemoryAuditTrail::default();
        let quality = staff(&["quality"]);
        assert!(matches!(
            block_on(audit_day(&trail, &clock(), &quality, "03.12.2026")),
            Err(AuditError::Day(_))
        ));
        assert!(matches!(
            block_on(audit_day(&trail, &clock(), &quality, "2026-12-04")),
            Err(AuditError::FutureDay(_))
        ));
    }
}
