//! Why a row did not become a record.

use serde::Serialize;

/// The longest cell value quoted in a rejection reason; longer ones are cut
/// so a garbage cell cannot blow up the summary.
const MAX_QUOTED_VALUE_CHARS: usize = 60;

/// A row of the file that was not taken, with the physical line it starts on
/// (the header is line 1; a quoted cell spanning lines counts every line).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RejectedRow {
    pub line: u64,
    pub reason: RejectReason,
}

impl std::fmt::Display for RejectedRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// What is wrong with a row, naming the column so the operator can find it.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RejectReason {
    #[error("has {found} fields where the header has {expected}")]
    WrongFieldCount { expected: usize, found: usize },

    #[error("{column}: not valid UTF-8")]
    NotUtf8 { column: String },

    #[error("{column}: empty, and every request needs an id")]
    MissingId { column: String },

    #[error("{column}: empty, and every request needs a service category")]
    MissingService { column: String },

    #[error("{column}: {value:?} is not a date like {example}")]
    BadDate {
        column: String,
        value: String,
        example: String,
    },

    #[error("{column}: {value:?} is not a number")]
    BadCoordinate { column: String, value: String },

    #[error(
        "{lat_column}, {long_column}: {lat}, {long} is not on Earth \
         (latitude must be within ±90, longitude within ±180)"
    )]
    CoordinateOutOfRange {
        lat_column: String,
        long_column: String,
        lat: f64,
        long: f64,
    },

    #[error("{present} has a value but {missing} is empty: a location needs both")]
    HalfCoordinate { present: String, missing: String },
}

impl RejectReason {
    /// The reason without the row's values, to count rejections by: e.g.
    /// `bad date in Created Date`.
    pub fn kind(&self) -> String {
        match self {
            RejectReason::WrongFieldCount { .. } => "wrong number of fields".to_owned(),
            RejectReason::NotUtf8 { column } => format!("invalid UTF-8 in {column}"),
            RejectReason::MissingId { column } => format!("missing id in {column}"),
            RejectReason::MissingService { column } => format!("missing service in {column}"),
            RejectReason::BadDate { column, .. } => format!("bad date in {column}"),
            RejectReason::BadCoordinate { column, .. } => format!("bad number in {column}"),
            RejectReason::CoordinateOutOfRange { .. } => "coordinates out of range".to_owned(),
            RejectReason::HalfCoordinate { .. } => "only one coordinate".to_owned(),
        }
    }
}

/// A cell value to quote in a reason, cut to a readable length.
pub(crate) fn quoted_value(value: &str) -> String {
    match value.char_indices().nth(MAX_QUOTED_VALUE_CHARS) {
        Some((cut, _)) => format!("{}…", &value[..cut]),
        None => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut_on_a_char_boundary() {
        let long = "ż".repeat(100);
        let quoted = quoted_value(&long);
        assert_eq!(quoted.chars().count(), MAX_QUOTED_VALUE_CHARS + 1);
        assert!(quoted.ends_with('…'));
        assert_eq!(quoted_value("05/01/2022"), "05/01/2022");
    }
}
