//! `citydesk history-report`: service levels of the imported history (how
//! fast each service was closed, how often on time, who handled it, how often
//! a report repeated an open one nearby), archived to
//! `reports/<city>/history/services.{json,csv}` and printed.

use citydesk_aws::s3::S3Blobs;
use citydesk_history::stats::stats_csv;
use citydesk_history::{DuplicateProbe, HistoryStats, ServiceStats};

use crate::model_training::{LabelMap, for_each_record};

pub struct HistoryReport {
    pub records: u64,
    pub services: Vec<ServiceStats>,
    pub json_key: String,
    pub csv_key: String,
    /// Rows the duplicate probe skipped (out of time order).
    pub out_of_order: u64,
}

pub async fn history_report(
    blobs: &S3Blobs,
    city: &str,
    labels: &LabelMap,
    probe: DuplicateProbe,
) -> anyhow::Result<HistoryReport> {
    let mut stats = HistoryStats::new(probe);
    let records = for_each_record(blobs, city, |mut record| {
        record.service = labels.apply(std::mem::take(&mut record.service));
        stats.add(&record);
        true
    })
    .await?;
    if records == 0 {
        anyhow::bail!("no imported history for {city}: run `citydesk import` first");
    }
    let out_of_order = stats.out_of_order();
    let services = stats.finish();
    let json_key = format!("reports/{city}/history/services.json");
    let csv_key = format!("reports/{city}/history/services.csv");
    blobs
        .put(
            &json_key,
            "application/json",
            serde_json::to_vec(&serde_json::json!({
                "city": city,
                "records": records,
                "duplicate_probe": {"radius_m": probe.radius_m, "window_hours": probe.window_hours},
                "services": services,
            }))?,
        )
        .await?;
    blobs
        .put(
            &csv_key,
            "text/csv; charset=utf-8",
            stats_csv(&services)?.into_bytes(),
        )
        .await?;
    Ok(HistoryReport {
        records,
        services,
        json_key,
        csv_key,
        out_of_order,
    })
}

impl HistoryReport {
    /// The busiest `top` services as a table.
    pub fn render(&self, city: &str, probe: DuplicateProbe, top: usize) -> String {
        let hours = |v: Option<f64>| v.map_or("-".to_owned(), |h| format!("{h:.1}"));
        let share = |v: Option<f64>| v.map_or("-".to_owned(), |s| format!("{:.0}%", s * 100.0));
        let mut out = vec![
            format!(
                "history of {city}: {} records, {} services (duplicates: within {} m and {} h of an open report of the same service)",
                self.records,
                self.services.len(),
                probe.radius_m,
                probe.window_hours
            ),
            format!(
                "  {:<32} {:>7} {:>7} {:>9} {:>9} {:>8} {:>6}  {}",
                "service", "rows", "closed", "median h", "p90 h", "on time", "dupl.", "handled by"
            ),
        ];
        for s in self.services.iter().take(top) {
            out.push(format!(
                "  {:<32} {:>7} {:>7} {:>9} {:>9} {:>8} {:>6}  {}",
                s.service.chars().take(32).collect::<String>(),
                s.rows,
                s.closed,
                hours(s.median_hours_to_close),
                hours(s.p90_hours_to_close),
                share(s.on_time_share),
                share(Some(s.duplicate_share)),
                s.main_department.as_deref().unwrap_or("-")
            ));
        }
        if self.services.len() > top {
            out.push(format!(
                "  … {} more in the archived report",
                self.services.len() - top
            ));
        }
        if self.out_of_order > 0 {
            out.push(format!(
                "  {} rows out of time order were not compared for duplicates",
                self.out_of_order
            ));
        }
        out.join("\n")
    }
}
