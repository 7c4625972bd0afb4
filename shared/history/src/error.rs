//! What can stop an import as a whole. A bad row never does: it becomes a
//! [`crate::RejectedRow`].

/// The header, the schema or the mapping file cannot be used: nothing is
/// read until the operator fixes the file or the mapping.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("the file is empty: there is no header row")]
    NoHeader,

    #[error("the header row could not be read")]
    HeaderUnreadable(#[source] csv::Error),

    #[error("header column {position} is not valid UTF-8; save the file as UTF-8")]
    HeaderNotUtf8 { position: usize },

    #[error(
        "no known schema (nyc, sf, boston, open311) matches a header starting with {first_columns}; \
         write a mapping file for this export (a file with another delimiter than a comma needs one too)"
    )]
    Unrecognised { first_columns: String },

    #[error("the {schema} schema needs the column(s) {} but the header has no such column", .missing.join(", "))]
    MissingColumns {
        schema: String,
        missing: Vec<String>,
    },

    #[error("the mapping file is not valid TOML for a mapping")]
    MappingSyntax(#[source] toml::de::Error),

    #[error("the mapping file's {key} {problem}")]
    MappingValue { key: &'static str, problem: String },

    #[error("the mapping file's datetime format {format:?} cannot be used: {problem}")]
    DateFormat { format: String, problem: String },
}

/// Reading the file failed part-way (an I/O error of the underlying reader).
/// The rows before it were delivered; nothing after it can be trusted.
#[derive(Debug, thiserror::Error)]
#[error("reading the CSV failed near line {line}")]
pub struct ReadError {
    pub line: u64,
    #[source]
    pub source: csv::Error,
}
