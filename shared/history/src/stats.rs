//! What a city's history says about its service levels: per service, how many
//! requests, how fast they were closed, how many were closed by the old
//! system's due time, who handled them, and how often a report came within a
//! radius and window of an earlier open one of the same service (the share the
//! catalogue's duplicate settings would link).
//!
//! Fed record by record; memory grows with one `f32` per closed request (for
//! the medians) and the reports still inside the duplicate window.

use std::collections::{BTreeMap, HashMap, VecDeque};

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::HistoricalRequest;

/// The radius and window a report is compared with earlier ones in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DuplicateProbe {
    pub radius_m: f64,
    pub window_hours: u32,
}

/// A report still inside the window: created, lat, long, closed.
type RecentReport = (Timestamp, f64, f64, Option<Timestamp>);

#[derive(Debug, Default)]
struct ServiceAccumulator {
    rows: u64,
    hours_to_close: Vec<f32>,
    with_due: u64,
    closed_by_due: u64,
    departments: BTreeMap<String, u64>,
    near_earlier: u64,
    /// Grid cell → reports still inside the window (time, lat, long, closed at).
    recent: HashMap<(i64, i64), VecDeque<RecentReport>>,
    latest: Option<Timestamp>,
}

/// Statistics of one service, as reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceStats {
    pub service: String,
    pub rows: u64,
    pub closed: u64,
    pub median_hours_to_close: Option<f64>,
    pub p90_hours_to_close: Option<f64>,
    /// Closed by the old system's due time, of the rows that had one.
    pub on_time_share: Option<f64>,
    pub main_department: Option<String>,
    /// Share of rows reported within the probe's radius and window of an
    /// earlier report of the same service that was still open.
    pub duplicate_share: f64,
}

#[derive(Debug)]
pub struct HistoryStats {
    probe: DuplicateProbe,
    services: BTreeMap<String, ServiceAccumulator>,
    out_of_order: u64,
    /// cos of the first row's latitude: one projection for the whole city, so
    /// the same longitude always falls in the same grid column.
    cos_reference: Option<f64>,
    added: u64,
}

/// Every this many rows, reports that left the window are dropped everywhere.
const PRUNE_EVERY: u64 = 50_000;

/// Metres per degree of latitude.
const METRES_PER_DEGREE: f64 = 111_195.0;

impl HistoryStats {
    pub fn new(probe: DuplicateProbe) -> Self {
        Self {
            probe,
            services: BTreeMap::new(),
            out_of_order: 0,
            cos_reference: None,
            added: 0,
        }
    }

    pub fn add(&mut self, r: &HistoricalRequest) {
        self.added += 1;
        if self.added.is_multiple_of(PRUNE_EVERY) {
            self.prune();
        }
        let probe = self.probe;
        let s = self.services.entry(r.service.clone()).or_default();
        s.rows += 1;
        if let Some(d) = &r.department {
            *s.departments.entry(d.clone()).or_default() += 1;
        }
        if let (Some(created), Some(closed)) = (r.created_at, r.closed_at)
            && closed >= created
        {
            s.hours_to_close
                .push((closed.duration_since(created).as_secs_f64() / 3600.0) as f32);
            if let Some(due) = r.due_at {
                s.with_due += 1;
                if closed <= due {
                    s.closed_by_due += 1;
                }
            }
        } else if r.due_at.is_some() && r.closed_at.is_none() {
            // Still open: it has a due time and was not closed by it (yet).
            s.with_due += 1;
        }
        let (Some(created), Some(lat), Some(long)) = (r.created_at, r.lat, r.long) else {
            return;
        };
        // Exports are sorted by creation time; a row out of order is not compared.
        if s.latest.is_some_and(|l| created < l) {
            self.out_of_order += 1;
            return;
        }
        s.latest = Some(created);
        let window = SignedDuration::from_hours(i64::from(probe.window_hours));
        let earliest = created.saturating_sub(window).unwrap_or(created);
        let cell_deg = probe.radius_m / METRES_PER_DEGREE;
        let cos = *self
            .cos_reference
            .get_or_insert_with(|| lat.to_radians().cos().max(0.01));
        let cell = |lat: f64, long: f64| {
            (
                (lat / cell_deg).floor() as i64,
                (long * cos / cell_deg).floor() as i64,
            )
        };
        let (cy, cx) = cell(lat, long);
        let mut near = false;
        for dy in -1..=1 {
            for dx in -1..=1 {
                let Some(queue) = s.recent.get_mut(&(cy + dy, cx + dx)) else {
                    continue;
                };
                while queue.front().is_some_and(|(t, ..)| *t < earliest) {
                    queue.pop_front();
                }
                near |= queue.iter().any(|(_, la, lo, closed)| {
                    closed.is_none_or(|c| c > created)
                        && metres(lat, long, *la, *lo) <= probe.radius_m
                });
            }
        }
        if near {
            s.near_earlier += 1;
        }
        s.recent
            .entry((cy, cx))
            .or_default()
            .push_back((created, lat, long, r.closed_at));
    }

    /// Drops the reports that left the window of their service's latest one.
    fn prune(&mut self) {
        let window = SignedDuration::from_hours(i64::from(self.probe.window_hours));
        for s in self.services.values_mut() {
            let Some(earliest) = s.latest.and_then(|l| l.checked_sub(window).ok()) else {
                continue;
            };
            s.recent.retain(|_, queue| {
                while queue.front().is_some_and(|(t, ..)| *t < earliest) {
                    queue.pop_front();
                }
                !queue.is_empty()
            });
        }
    }

    /// Rows skipped by the duplicate probe because they came out of time order.
    pub fn out_of_order(&self) -> u64 {
        self.out_of_order
    }

    /// Per service, most rows first.
    pub fn finish(self) -> Vec<ServiceStats> {
        let mut out: Vec<ServiceStats> = self
            .services
            .into_iter()
            .map(|(service, mut s)| {
                s.hours_to_close.sort_by(f32::total_cmp);
                let quantile = |q: f64| {
                    (!s.hours_to_close.is_empty()).then(|| {
                        let i = ((s.hours_to_close.len() - 1) as f64 * q).round() as usize;
                        f64::from(s.hours_to_close[i])
                    })
                };
                ServiceStats {
                    median_hours_to_close: quantile(0.5),
                    p90_hours_to_close: quantile(0.9),
                    closed: s.hours_to_close.len() as u64,
                    on_time_share: (s.with_due > 0)
                        .then(|| s.closed_by_due as f64 / s.with_due as f64),
                    main_department: s
                        .departments
                        .iter()
                        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
                        .map(|(d, _)| d.clone()),
                    duplicate_share: s.near_earlier as f64 / s.rows.max(1) as f64,
                    rows: s.rows,
                    service,
                }
            })
            .collect();
        out.sort_by(|a, b| b.rows.cmp(&a.rows).then_with(|| a.service.cmp(&b.service)));
        out
    }
}

/// Equirectangular distance in metres (exact enough within a city).
fn metres(lat1: f64, long1: f64, lat2: f64, long2: f64) -> f64 {
    let x = (long2 - long1) * ((lat1 + lat2) / 2.0).to_radians().cos();
    let y = lat2 - lat1;
    (x * x + y * y).sqrt() * METRES_PER_DEGREE
}

/// The statistics as CSV (one row per service).
pub fn stats_csv(stats: &[ServiceStats]) -> Result<String, csv::Error> {
    let num = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_default();
    let mut out = csv::Writer::from_writer(Vec::new());
    let rows = std::iter::once(
        [
            "service",
            "rows",
            "closed",
            "median_hours_to_close",
            "p90_hours_to_close",
            "on_time_share",
            "main_department",
            "duplicate_share",
        ]
        .map(str::to_owned),
    )
    .chain(stats.iter().map(|s| {
        [
            s.service.clone(),
            s.rows.to_string(),
            s.closed.to_string(),
            num(s.median_hours_to_close),
            num(s.p90_hours_to_close),
            num(s.on_time_share),
            s.main_department.clone().unwrap_or_default(),
            format!("{:.4}", s.duplicate_share),
        ]
    }));
    for row in rows {
        out.write_record(&row)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?;
    // Every field came from a `String`.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
