//! The scheduled report: counts of a period's requests by status, service,
//! department and channel, SLA breaches, and the share of the contact
//! centre's work resolved at first contact, archived as JSON and CSV.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::Serialize;
use tracing::instrument;

use crate::catalogue::Catalogue;
use crate::ports::{BlobStore, Clock, ContactLog, PortError, RequestStore};
use crate::request::ServiceRequest;

pub struct Reporting<'a> {
    pub store: &'a dyn RequestStore,
    /// The contact centre's log of contacts answered without a request (the
    /// deployment's default city's; `None` for the other cities' reports).
    pub contacts: Option<&'a dyn ContactLog>,
    pub blobs: &'a dyn BlobStore,
    pub clock: &'a dyn Clock,
    pub catalogue: &'a Catalogue,
}

/// A report over one calendar day in the city's time zone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DailyReport {
    pub jurisdiction_id: String,
    pub date: Date,
    pub from: Timestamp,
    pub to: Timestamp,
    pub generated_at: Timestamp,
    pub total: u64,
    pub by_status: BTreeMap<String, u64>,
    pub by_service: BTreeMap<String, u64>,
    pub by_department: BTreeMap<String, u64>,
    pub by_channel: BTreeMap<String, u64>,
    /// Requests whose due time passed before they were resolved (or before `generated_at`).
    pub sla_breaches: u64,
    pub first_contact: FirstContact,
}

/// How much of the contact centre's work ended at the first contact.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FirstContact {
    /// Contacts answered from the knowledge base, no request needed.
    pub answered: u64,
    /// Requests operators registered (phone, in person, letter, fax).
    pub registered: u64,
    /// `answered / (answered + registered)`; `null` without either.
    pub resolution_rate: Option<f64>,
}

impl FirstContact {
    fn of(answered: u64, registered: u64) -> Self {
        let all = answered + registered;
        Self {
            answered,
            registered,
            resolution_rate: (all > 0).then(|| answered as f64 / all as f64),
        }
    }
}

impl DailyReport {
    /// One row per counted value: `dimension,key,count`.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("dimension,key,count\n");
        out.push_str(&format!("total,all,{}\n", self.total));
        out.push_str(&format!("sla,breached,{}\n", self.sla_breaches));
        let fc = &self.first_contact;
        out.push_str(&format!("first_contact,answered,{}\n", fc.answered));
        out.push_str(&format!("first_contact,registered,{}\n", fc.registered));
        if let Some(rate) = fc.resolution_rate {
            out.push_str(&format!("first_contact,resolution_rate,{rate:.3}\n"));
        }
        for (dimension, counts) in [
            ("status", &self.by_status),
            ("service", &self.by_service),
            ("department", &self.by_department),
            ("channel", &self.by_channel),
        ] {
            for (key, count) in counts {
                out.push_str(&format!("{dimension},{},{count}\n", csv_field(key)));
            }
        }
        out
    }
}

fn csv_field(raw: &str) -> String {
    if raw.contains([',', '"', '\n']) {
        format!("\"{}\"", raw.replace('"', "\"\""))
    } else {
        raw.to_owned()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportWritten {
    pub json_key: String,
    pub csv_key: String,
    /// False when the report for this day was already archived (a repeated run).
    pub created: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("the catalogue's time zone {0} is unknown")]
    TimeZone(String),
    #[error("date {0} has no midnight in the city's time zone")]
    Date(Date),
    #[error("report is not serialisable: {0}")]
    Serialise(#[from] serde_json::Error),
    #[error(transparent)]
    Port(#[from] PortError),
}

/// The archive keys of a day's report: deterministic, so a re-run cannot write twice.
pub fn report_keys(jurisdiction: &str, date: Date) -> (String, String) {
    let base = format!("reports/{jurisdiction}/daily/{date}");
    (format!("{base}.json"), format!("{base}.csv"))
}

/// The day before `now` in the city's time zone: what the nightly schedule reports.
pub fn previous_day(catalogue: &Catalogue, now: Timestamp) -> Result<Date, ReportError> {
    let tz = city_tz(catalogue)?;
    let today = now.to_zoned(tz).date();
    today
        .checked_sub(1.day())
        .map_err(|_| ReportError::Date(today))
}

fn city_tz(catalogue: &Catalogue) -> Result<TimeZone, ReportError> {
    let name = &catalogue.city().timezone;
    TimeZone::get(name).map_err(|_| ReportError::TimeZone(name.clone()))
}

pub fn summarise(
    catalogue: &Catalogue,
    date: Date,
    from: Timestamp,
    to: Timestamp,
    now: Timestamp,
    requests: &[ServiceRequest],
    answered_contacts: Option<u64>,
) -> DailyReport {
    let mut report = DailyReport {
        jurisdiction_id: catalogue.city().jurisdiction_id.to_string(),
        date,
        from,
        to,
        generated_at: now,
        total: 0,
        by_status: BTreeMap::new(),
        by_service: BTreeMap::new(),
        by_department: BTreeMap::new(),
        by_channel: BTreeMap::new(),
        sla_breaches: 0,
        first_contact: FirstContact::default(),
    };
    let mut registered = 0;
    let jurisdiction = &catalogue.city().jurisdiction_id;
    for r in requests
        .iter()
        .filter(|r| &r.jurisdiction == jurisdiction)
        .filter(|r| r.created_at >= from && r.created_at < to)
    {
        report.total += 1;
        *report.by_status.entry(r.status.to_string()).or_default() += 1;
        let service = r
            .service_code
            .as_ref()
            .map_or("unclassified".to_owned(), ToString::to_string);
        *report.by_service.entry(service).or_default() += 1;
        let dept = r
            .department
            .as_ref()
            .map_or("unassigned".to_owned(), ToString::to_string);
        *report.by_department.entry(dept).or_default() += 1;
        *report
            .by_channel
            .entry(r.channel.as_str().to_owned())
            .or_default() += 1;
        if r.breached_sla(now) {
            report.sla_breaches += 1;
        }
        if crate::usecases::operator_desk::OPERATOR_CHANNELS.contains(&r.channel) {
            registered += 1;
        }
    }
    report.first_contact = match answered_contacts {
        Some(answered) => FirstContact::of(answered, registered),
        // No contact log for this city: no rate to give.
        None => FirstContact {
            registered,
            ..FirstContact::default()
        },
    };
    report
}

#[instrument(skip(deps), fields(date = %date))]
pub async fn build_daily_report(
    deps: &Reporting<'_>,
    date: Date,
) -> Result<ReportWritten, ReportError> {
    let tz = city_tz(deps.catalogue)?;
    let start = date
        .to_zoned(tz.clone())
        .map_err(|_| ReportError::Date(date))?;
    let end = start.tomorrow().map_err(|_| ReportError::Date(date))?;
    let (from, to) = (start.timestamp(), end.timestamp());
    let requests = deps.store.created_between(from, to).await?;
    let answered = match deps.contacts {
        Some(log) => Some(log.recorded_between(from, to).await?.len() as u64),
        None => None,
    };
    let report = summarise(
        deps.catalogue,
        date,
        from,
        to,
        deps.clock.now(),
        &requests,
        answered,
    );
    let (json_key, csv_key) = report_keys(&report.jurisdiction_id, date);
    let json = serde_json::to_vec_pretty(&report)?;
    let created_json = deps
        .blobs
        .put_new(&json_key, "application/json", json)
        .await?;
    let created_csv = deps
        .blobs
        .put_new(
            &csv_key,
            "text/csv; charset=utf-8",
            report.to_csv().into_bytes(),
        )
        .await?;
    tracing::info!(
        total = report.total,
        created = created_json || created_csv,
        "daily report"
    );
    Ok(ReportWritten {
        json_key,
        csv_key,
        created: created_json || created_csv,
    })
}
