//! A city's past 311 requests, read from CSV into [`HistoricalRequest`]s.
//!
//! `citydesk import` uses this crate to turn an open-data export (NYC, San
//! Francisco, Boston, Open311 GeoReport bulk) or any other CSV described by a
//! small TOML [`Mapping`] into normalized records, which it stores as JSON
//! lines and learns classifiers from.
//!
//! - [`schema`]: the known exports, detection from the header row, and the
//!   mapping file for everything else.
//! - [`reader`]: [`HistoryReader`], an iterator over the rows of one file that
//!   keeps memory flat however many millions of rows the file has. A row
//!   that cannot become a record is reported as a [`RejectedRow`] with its
//!   line number; it never stops the stream.
//! - [`summary`]: [`ImportSummary`], bounded counts of what was taken and
//!   rejected, rendered for the operator.
//! - [`stats`]: [`HistoryStats`], service levels and duplicate rates of the
//!   history, for the history report.
//! - [`digest`]: [`content_digest`], the file's SHA-256, so a re-run of the
//!   same file is recognised.
//! - [`synthetic`]: [`write_synthetic_nyc`], reproducible NYC-shaped rows for
//!   scale tests.
//!
//! Pure and synchronous: no tokio, no AWS SDK. The caller brings the bytes
//! (a file, an S3 body wrapped in a blocking reader) and the city's time zone.

mod dates;
pub mod digest;
mod error;
mod line_tracker;
pub mod reader;
mod record;
mod reject;
pub mod schema;
pub mod stats;
pub mod summary;
pub mod synthetic;

pub use digest::content_digest;
pub use error::{ReadError, SchemaError};
pub use reader::{HistoryReader, RowResult};
pub use record::HistoricalRequest;
pub use reject::{RejectReason, RejectedRow};
pub use schema::{Mapping, Schema};
pub use stats::{DuplicateProbe, HistoryStats, ServiceStats};
pub use summary::ImportSummary;
pub use synthetic::write_synthetic_nyc;
