//! [`ImportSummary`]: what an import took and rejected, in bounded memory.

use std::collections::BTreeMap;
use std::io::Read;

use jiff::Timestamp;
use serde::Serialize;

use crate::reader::{HistoryReader, RowResult};
use crate::reject::RejectedRow;

/// Rejected rows kept with their line numbers; the rest are only counted.
pub const MAX_FIRST_REJECTIONS: usize = 20;
/// Distinct services counted by name; rows of further services are counted
/// in [`ImportSummary::rows_of_uncounted_services`].
pub const MAX_SERVICES: usize = 2_000;
/// Distinct rejection kinds counted by name; further kinds count as
/// [`OTHER_REJECTIONS`].
pub const MAX_REJECTION_KINDS: usize = 200;
/// The bucket for rejection kinds past [`MAX_REJECTION_KINDS`].
pub const OTHER_REJECTIONS: &str = "other reasons";
/// Longest service name kept as a key; longer ones are cut.
const MAX_SERVICE_NAME_CHARS: usize = 120;
/// Services listed by [`ImportSummary::render`].
const SERVICES_RENDERED: usize = 15;

/// Counts of one import, fed row by row with [`ImportSummary::record`].
/// Whatever the file's size, it holds at most [`MAX_FIRST_REJECTIONS`] rows,
/// [`MAX_SERVICES`] service names and [`MAX_REJECTION_KINDS`] reasons.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportSummary {
    pub schema: String,
    pub taken: u64,
    pub rejected: u64,
    /// Rejections by [`crate::RejectReason::kind`], e.g. `bad date in Created Date`.
    pub rejected_by_reason: BTreeMap<String, u64>,
    /// The first rejected rows, in file order.
    pub first_rejections: Vec<RejectedRow>,
    pub unknown_columns: Vec<String>,
    pub absent_columns: Vec<String>,
    /// Rows taken per service (the labels a classifier will learn).
    pub services: BTreeMap<String, u64>,
    /// Rows taken whose service arrived after [`MAX_SERVICES`] were counted.
    pub rows_of_uncounted_services: u64,
    pub earliest_created: Option<Timestamp>,
    pub latest_created: Option<Timestamp>,
}

impl ImportSummary {
    /// An empty summary naming the reader's schema and its column findings.
    pub fn for_reader<R: Read>(reader: &HistoryReader<R>) -> Self {
        ImportSummary {
            schema: reader.schema().name().to_owned(),
            unknown_columns: reader.unknown_columns().to_vec(),
            absent_columns: reader.absent_columns().to_vec(),
            ..ImportSummary::default()
        }
    }

    pub fn record(&mut self, row: &RowResult) {
        match row {
            RowResult::Taken(request) => {
                self.taken += 1;
                self.count_service(&request.service);
                if let Some(created) = request.created_at {
                    self.earliest_created = Some(
                        self.earliest_created
                            .map_or(created, |seen| seen.min(created)),
                    );
                    self.latest_created = Some(
                        self.latest_created
                            .map_or(created, |seen| seen.max(created)),
                    );
                }
            }
            RowResult::Rejected(rejected) => {
                self.rejected += 1;
                let kind = rejected.reason.kind();
                let bucket = if self.rejected_by_reason.contains_key(&kind)
                    || self.rejected_by_reason.len() < MAX_REJECTION_KINDS
                {
                    kind
                } else {
                    OTHER_REJECTIONS.to_owned()
                };
                *self.rejected_by_reason.entry(bucket).or_insert(0) += 1;
                if self.first_rejections.len() < MAX_FIRST_REJECTIONS {
                    self.first_rejections.push(rejected.clone());
                }
            }
        }
    }

    fn count_service(&mut self, service: &str) {
        let key = match service.char_indices().nth(MAX_SERVICE_NAME_CHARS) {
            Some((cut, _)) => &service[..cut],
            None => service,
        };
        if let Some(count) = self.services.get_mut(key) {
            *count += 1;
        } else if self.services.len() < MAX_SERVICES {
            self.services.insert(key.to_owned(), 1);
        } else {
            self.rows_of_uncounted_services += 1;
        }
    }

    /// The summary as lines for the operator's terminal.
    pub fn render(&self) -> String {
        let mut lines = Vec::new();
        lines.push(format!(
            "schema {}: {} rows taken, {} rejected",
            self.schema, self.taken, self.rejected
        ));
        if let (Some(earliest), Some(latest)) = (self.earliest_created, self.latest_created) {
            lines.push(format!("created from {earliest} to {latest}"));
        }
        if !self.rejected_by_reason.is_empty() {
            lines.push("rejected rows by reason:".to_owned());
            let mut reasons: Vec<(&String, &u64)> = self.rejected_by_reason.iter().collect();
            reasons.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
            for (reason, count) in reasons {
                lines.push(format!("  {count:>8}  {reason}"));
            }
        }
        if !self.first_rejections.is_empty() {
            let shown = self.first_rejections.len();
            let heading = if u64::try_from(shown).unwrap_or(u64::MAX) < self.rejected {
                format!("first {shown} rejected rows:")
            } else {
                "rejected rows:".to_owned()
            };
            lines.push(heading);
            for rejected in &self.first_rejections {
                lines.push(format!("  {rejected}"));
            }
        }
        if !self.unknown_columns.is_empty() {
            lines.push(format!(
                "columns ignored (unknown to the {} schema): {}",
                self.schema,
                self.unknown_columns.join(", ")
            ));
        }
        if !self.absent_columns.is_empty() {
            lines.push(format!(
                "columns missing from the file (those fields stay empty): {}",
                self.absent_columns.join(", ")
            ));
        }
        if !self.services.is_empty() {
            let more = if self.rows_of_uncounted_services > 0 {
                format!(
                    ", and {} rows of services past the first {MAX_SERVICES}",
                    self.rows_of_uncounted_services
                )
            } else {
                String::new()
            };
            lines.push(format!(
                "{} services{more}; the most frequent:",
                self.services.len()
            ));
            let mut services: Vec<(&String, &u64)> = self.services.iter().collect();
            services.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
            for (service, count) in services.into_iter().take(SERVICES_RENDERED) {
                lines.push(format!("  {count:>8}  {service}"));
            }
        }
        lines.push(String::new());
        lines.join("\n")
    }
}
