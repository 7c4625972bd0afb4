//! The normalized record every schema is read into.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// One past request, whatever system it came from.
///
/// Invariants kept by [`crate::HistoryReader`]: `source_id` and `service` are
/// never empty; every text value is trimmed and an empty cell is `None`;
/// `lat` and `long` are both set or both `None`, inside ±90/±180 and never
/// the 0,0 placeholder some exports use for "unknown".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoricalRequest {
    /// Which schema the row came from: `nyc`, `sf`, `boston`, `open311` or a
    /// mapping file's name.
    pub source: String,
    /// The old system's id of the request.
    pub source_id: String,
    pub created_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    /// When the old system promised it done (its SLA).
    pub due_at: Option<Timestamp>,
    pub status: Option<String>,
    /// The old system's category: the label a classifier learns.
    pub service: String,
    /// The free-text fields of the request, joined with a space; may be empty.
    pub text: String,
    /// The first of the text fields on its own: the old system's sub-type
    /// where its first text column is one (NYC's descriptor, SF's complaint
    /// type, Boston's service subtype), which routes may be learned by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtype: Option<String>,
    /// Who actually handled it.
    pub department: Option<String>,
    pub district: Option<String>,
    pub lat: Option<f64>,
    pub long: Option<f64>,
    /// How it came in (phone, app, web…), in the old system's words.
    pub channel: Option<String>,
}
