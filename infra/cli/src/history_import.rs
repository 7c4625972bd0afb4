//! `citydesk import`: a city's past requests from a CSV export into the
//! bucket, as normalised JSON lines under `history/{city}/`.
//!
//! The file is streamed: one row in memory at a time, the JSON lines written
//! to a temporary file and uploaded from it. The object is named by the
//! file's SHA-256, and written create-only, so importing the same file again
//! stores nothing twice and says so.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;

use anyhow::Context;
use citydesk_aws::s3::S3Blobs;
use citydesk_history::{HistoryReader, ImportSummary, RowResult, Schema, content_digest};
use indicatif::{ProgressBar, ProgressStyle};

pub const HISTORY_PREFIX: &str = "history";

/// Where one imported file's records live.
pub fn history_key(city: &str, digest: &str) -> String {
    format!("{HISTORY_PREFIX}/{city}/{digest}.jsonl")
}

fn summary_key(city: &str, digest: &str) -> String {
    format!("{HISTORY_PREFIX}/{city}/{digest}.summary.txt")
}

pub struct ImportOptions<'a> {
    pub file: &'a Path,
    pub city: &'a str,
    /// `None`: detected from the header.
    pub schema: Option<Schema>,
    pub time_zone: jiff::tz::TimeZone,
    /// Read and report only; store nothing.
    pub dry_run: bool,
    pub show_progress: bool,
}

#[derive(Debug)]
pub struct ImportOutcome {
    /// The summary as the operator reads it (for a repeated import: the first one's).
    pub summary: String,
    /// `None` for a dry run.
    pub stored_as: Option<String>,
    /// The same file was imported before: nothing was written.
    pub already_imported: bool,
}

pub async fn import(blobs: &S3Blobs, options: ImportOptions<'_>) -> anyhow::Result<ImportOutcome> {
    let open =
        || File::open(options.file).with_context(|| format!("opening {}", options.file.display()));
    let digest = content_digest(BufReader::new(open()?))
        .with_context(|| format!("reading {}", options.file.display()))?;
    let key = history_key(options.city, &digest);
    if !options.dry_run && blobs.list(&key).await?.iter().any(|k| k == &key) {
        let summary = blobs
            .get(&summary_key(options.city, &digest))
            .await?
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default();
        return Ok(ImportOutcome {
            summary,
            stored_as: Some(key),
            already_imported: true,
        });
    }
    let size = open()?.metadata().map(|m| m.len()).unwrap_or(0);
    let mut reader = HistoryReader::new(
        BufReader::with_capacity(1 << 16, open()?),
        options.schema,
        options.time_zone,
    )
    .with_context(|| format!("{}", options.file.display()))?;
    let mut summary = ImportSummary::for_reader(&reader);
    let progress = if options.show_progress {
        ProgressBar::new(size)
    } else {
        ProgressBar::hidden()
    };
    progress.set_style(
        ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let temp = tempfile::NamedTempFile::new().context("creating a temporary file")?;
    {
        let mut out = BufWriter::with_capacity(1 << 16, temp.as_file());
        let mut rows = 0u64;
        while let Some(row) = reader.next() {
            let row = row.with_context(|| format!("{}", options.file.display()))?;
            if let RowResult::Taken(record) = &row
                && !options.dry_run
            {
                serde_json::to_writer(&mut out, record)?;
                out.write_all(b"\n")?;
            }
            summary.record(&row);
            rows += 1;
            if rows.is_multiple_of(8192) {
                progress.set_position(reader.bytes_read());
                progress.set_message(format!("{} rows", summary.taken + summary.rejected));
            }
        }
        out.flush()?;
    }
    progress.finish_and_clear();
    let taken = summary.taken;
    let summary = summary.render();
    if taken == 0 {
        anyhow::bail!(
            "no row of {} could be taken, so nothing was stored:\n{summary}",
            options.file.display()
        );
    }
    if options.dry_run {
        return Ok(ImportOutcome {
            summary,
            stored_as: None,
            already_imported: false,
        });
    }
    let created = blobs
        .put_new_file(&key, "application/x-ndjson", temp.path())
        .await?;
    blobs
        .put(
            &summary_key(options.city, &digest),
            "text/plain; charset=utf-8",
            summary.clone().into_bytes(),
        )
        .await?;
    Ok(ImportOutcome {
        summary,
        stored_as: Some(key),
        already_imported: !created,
    })
}

/// The schema named on the command line (`nyc`, `sf`, `boston`, `open311`) or
/// described by a mapping file.
pub fn schema_from_args(
    name: Option<&str>,
    mapping: Option<&Path>,
) -> anyhow::Result<Option<Schema>> {
    match (name, mapping) {
        (Some(_), Some(_)) => anyhow::bail!("give either --schema or --mapping, not both"),
        (Some(name), None) => Schema::built_in(name).map(Some).with_context(|| {
            format!(
                "unknown schema {name:?}; known: {}",
                Schema::built_in_names().collect::<Vec<_>>().join(", ")
            )
        }),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let mapping = citydesk_history::Mapping::from_toml(&text)
                .with_context(|| format!("{}", path.display()))?;
            Ok(Some(Schema::Mapped(mapping)))
        }
        (None, None) => Ok(None),
    }
}
