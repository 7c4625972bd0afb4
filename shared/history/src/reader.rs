//! [`HistoryReader`]: one CSV file, row by row, into records or rejections.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet, VecDeque};
use std::io::Read;

use csv::ByteRecord;
use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::dates::{ColumnDates, DateLayouts};
use crate::error::{ReadError, SchemaError};
use crate::line_tracker::LineTracker;
use crate::record::HistoricalRequest;
use crate::reject::{RejectReason, RejectedRow, quoted_value};
use crate::schema::{FieldColumns, Schema, normalize_column_name};

/// How many header columns an unrecognised-header error quotes.
const COLUMNS_QUOTED_IN_ERRORS: usize = 6;

/// Rows read ahead to settle each date column's layout from its own values.
const DATE_SAMPLE_ROWS: usize = 500;

/// What one data row became.
#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "nearly every row is Taken, so the size is not wasted; boxing would allocate once per row"
)]
pub enum RowResult {
    Taken(HistoricalRequest),
    Rejected(RejectedRow),
}

/// Streams the rows of one CSV export as [`RowResult`]s.
///
/// Memory stays flat: one row is held at a time. A row that cannot become a
/// record (wrong number of fields, bytes that are not UTF-8, no id, a date
/// or coordinate that does not parse) is yielded as
/// [`RowResult::Rejected`] with its physical line number, and reading goes
/// on. Only a failure of the underlying reader ends the stream early, as an
/// `Err` item after which the iterator yields nothing more.
pub struct HistoryReader<R: Read> {
    csv: csv::Reader<LineTracker<R>>,
    schema: Schema,
    plan: RowPlan,
    unknown_columns: Vec<String>,
    absent_columns: Vec<String>,
    row: ByteRecord,
    /// Rows read ahead while the date layouts were settled, with their lines.
    read_ahead: VecDeque<(ByteRecord, u64)>,
    /// A failure met while reading ahead, reported after those rows.
    read_ahead_error: Option<ReadError>,
    finished: bool,
}

impl<R: Read> HistoryReader<R> {
    /// Reads the header row and settles the schema: `schema` when given,
    /// otherwise the one the header matches. Local date values are read in
    /// `time_zone`, the city's.
    pub fn new(input: R, schema: Option<Schema>, time_zone: TimeZone) -> Result<Self, SchemaError> {
        let delimiter = schema.as_ref().map_or(b',', Schema::delimiter);
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(LineTracker::new(input));

        let mut header_record = ByteRecord::new();
        let has_header = csv
            .read_byte_record(&mut header_record)
            .map_err(SchemaError::HeaderUnreadable)?;
        if !has_header {
            return Err(SchemaError::NoHeader);
        }
        let header = Header::from_record(&header_record)?;

        let schema = match schema {
            Some(schema) => schema,
            None => Schema::detect(header.names.iter().map(String::as_str)).ok_or_else(|| {
                SchemaError::Unrecognised {
                    first_columns: header.first_columns(),
                }
            })?,
        };
        let (mut plan, absent_columns) = RowPlan::resolve(&schema, &header, time_zone)?;
        let unknown_columns = header.unknown_to(&schema);

        let mut read_ahead = VecDeque::new();
        let mut read_ahead_error = None;
        let mut row = ByteRecord::new();
        while read_ahead.len() < DATE_SAMPLE_ROWS {
            match read_record(&mut csv, &mut row) {
                Ok(Some(line)) => read_ahead.push_back((row.clone(), line)),
                Ok(None) => break,
                Err(error) => {
                    read_ahead_error = Some(error);
                    break;
                }
            }
        }
        plan.settle_dates(
            &schema.date_layouts(),
            read_ahead.iter().map(|(row, _)| row),
        );

        Ok(HistoryReader {
            csv,
            schema,
            plan,
            unknown_columns,
            absent_columns,
            row,
            read_ahead,
            read_ahead_error,
            finished: false,
        })
    }

    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Header columns the schema neither uses nor knows to ignore. Worth
    /// showing the operator (a renamed column lands here), never fatal.
    pub fn unknown_columns(&self) -> &[String] {
        &self.unknown_columns
    }

    /// Columns a built-in schema would use that this header lacks: their
    /// fields stay empty in every record.
    pub fn absent_columns(&self) -> &[String] {
        &self.absent_columns
    }

    /// Bytes of the input consumed so far, for a progress bar.
    pub fn bytes_read(&self) -> u64 {
        self.csv.position().byte()
    }
}

impl<R: Read> Iterator for HistoryReader<R> {
    type Item = Result<RowResult, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        if let Some((row, line)) = self.read_ahead.pop_front() {
            return Some(Ok(self.plan.result(&row, line)));
        }
        if let Some(error) = self.read_ahead_error.take() {
            self.finished = true;
            return Some(Err(error));
        }
        match read_record(&mut self.csv, &mut self.row) {
            Ok(Some(line)) => Some(Ok(self.plan.result(&self.row, line))),
            Ok(None) => {
                self.finished = true;
                None
            }
            Err(error) => {
                self.finished = true;
                Some(Err(error))
            }
        }
    }
}

/// The next record into `row`, and the line it starts on; `None` at the end.
fn read_record<R: Read>(
    csv: &mut csv::Reader<LineTracker<R>>,
    row: &mut ByteRecord,
) -> Result<Option<u64>, ReadError> {
    match csv.read_byte_record(row) {
        Ok(true) => {
            let line = row.position().map_or(0, |start| {
                csv.get_ref().line_of_content_at(start.byte(), start.line())
            });
            let next_record_starts_at = csv.position().byte();
            csv.get_mut().forget_before(next_record_starts_at);
            Ok(Some(line))
        }
        Ok(false) => Ok(None),
        Err(source) => Err(ReadError {
            line: csv.position().line(),
            source,
        }),
    }
}

/// The header row: trimmed names, a UTF-8 byte order mark dropped.
struct Header {
    names: Vec<String>,
    exact: HashMap<String, usize>,
    normalized: HashMap<String, usize>,
}

impl Header {
    fn from_record(record: &ByteRecord) -> Result<Self, SchemaError> {
        let mut names = Vec::with_capacity(record.len());
        for (position, bytes) in record.iter().enumerate() {
            let name = std::str::from_utf8(bytes).map_err(|_| SchemaError::HeaderNotUtf8 {
                position: position + 1,
            })?;
            names.push(name.trim_start_matches('\u{feff}').trim().to_owned());
        }
        let mut exact = HashMap::with_capacity(names.len());
        let mut normalized = HashMap::with_capacity(names.len());
        for (index, name) in names.iter().enumerate() {
            // The first of two same-named columns wins.
            exact.entry(name.clone()).or_insert(index);
            normalized
                .entry(normalize_column_name(name))
                .or_insert(index);
        }
        Ok(Header {
            names,
            exact,
            normalized,
        })
    }

    /// The column called `name`, exactly or after normalizing case and
    /// punctuation.
    fn find(&self, name: &str) -> Option<Column> {
        let index = self
            .exact
            .get(name)
            .or_else(|| self.normalized.get(&normalize_column_name(name)))
            .copied()?;
        Some(Column {
            index,
            name: self.names.get(index).cloned().unwrap_or_default(),
        })
    }

    fn first_columns(&self) -> String {
        let mut quoted: Vec<String> = self
            .names
            .iter()
            .take(COLUMNS_QUOTED_IN_ERRORS)
            .map(|name| format!("{:?}", quoted_value(name)))
            .collect();
        if self.names.len() > COLUMNS_QUOTED_IN_ERRORS {
            quoted.push(format!("… ({} columns)", self.names.len()));
        }
        quoted.join(", ")
    }

    fn unknown_to(&self, schema: &Schema) -> Vec<String> {
        let known: HashSet<String> = schema
            .known_columns()
            .iter()
            .map(|name| normalize_column_name(name))
            .collect();
        self.names
            .iter()
            .enumerate()
            .filter(|(_, name)| !known.contains(&normalize_column_name(name)))
            .map(|(index, name)| {
                if name.is_empty() {
                    format!("(column {} has no name)", index + 1)
                } else {
                    name.clone()
                }
            })
            .collect()
    }
}

/// A header column: where it is and what the file calls it.
#[derive(Debug, Clone)]
struct Column {
    index: usize,
    name: String,
}

/// The schema's columns found in this header, and how to read their cells.
struct RowPlan {
    source: String,
    field_count: usize,
    source_id: Column,
    service: Column,
    text: Vec<Column>,
    created_at: Option<DateColumn>,
    closed_at: Option<DateColumn>,
    due_at: Option<DateColumn>,
    status: Option<Column>,
    department: Option<Column>,
    district: Vec<Column>,
    coordinates: Option<(Column, Column)>,
    channel: Option<Column>,
    subtype: Option<Column>,
    empty_markers: &'static [&'static str],
    time_zone: TimeZone,
}

/// A date column and how its cells are read (settled from its first values).
struct DateColumn {
    column: Column,
    dates: ColumnDates,
}

impl RowPlan {
    /// Finds the schema's columns in the header. Returns the plan and the
    /// optional columns that are missing, or an error naming every missing
    /// column the schema cannot do without.
    fn resolve(
        schema: &Schema,
        header: &Header,
        time_zone: TimeZone,
    ) -> Result<(RowPlan, Vec<String>), SchemaError> {
        let columns: FieldColumns = schema.field_columns();
        let mut required_missing = Vec::new();
        let mut absent = Vec::new();

        let mut required = |name: &str| {
            let found = header.find(name);
            if found.is_none() {
                required_missing.push(name.to_owned());
            }
            found
        };
        let source_id = required(&columns.source_id);
        let service = required(&columns.service);

        let every_named_column_needed = schema.needs_every_named_column();
        let mut optional = |name: &str| {
            let found = header.find(name);
            if found.is_none() {
                if every_named_column_needed {
                    required_missing.push(name.to_owned());
                } else {
                    absent.push(name.to_owned());
                }
            }
            found
        };
        let text: Vec<Column> = columns
            .text
            .iter()
            .filter_map(|name| optional(name))
            .collect();
        let unsettled = schema.date_layouts().settle(&[], &time_zone);
        let mut date_column = |name: Option<&str>| {
            name.and_then(&mut optional).map(|column| DateColumn {
                column,
                dates: unsettled.clone(),
            })
        };
        let created_at = date_column(columns.created_at.as_deref());
        let closed_at = date_column(columns.closed_at.as_deref());
        let due_at = date_column(columns.due_at.as_deref());
        let status = columns.status.as_deref().and_then(&mut optional);
        let department = columns.department.as_deref().and_then(&mut optional);
        let district: Vec<Column> = columns
            .district
            .iter()
            .filter_map(|name| optional(name))
            .collect();
        let coordinates = match &columns.coordinates {
            Some((lat, long)) => match (optional(lat), optional(long)) {
                (Some(lat), Some(long)) => Some((lat, long)),
                // One without the other cannot make a location.
                _ => None,
            },
            None => None,
        };
        let channel = columns.channel.as_deref().and_then(&mut optional);
        let subtype = columns.subtype.as_deref().and_then(&mut optional);

        let (Some(source_id), Some(service), true) =
            (source_id, service, required_missing.is_empty())
        else {
            return Err(SchemaError::MissingColumns {
                schema: schema.name().to_owned(),
                missing: required_missing,
            });
        };

        let plan = RowPlan {
            source: schema.name().to_owned(),
            field_count: header.names.len(),
            source_id,
            service,
            text,
            created_at,
            closed_at,
            due_at,
            status,
            department,
            district,
            coordinates,
            channel,
            subtype,
            empty_markers: schema.empty_markers(),
            time_zone,
        };
        Ok((plan, absent))
    }

    /// Settles each date column's layout from its non-empty values in `rows`.
    fn settle_dates<'r>(
        &mut self,
        layouts: &DateLayouts,
        rows: impl Iterator<Item = &'r ByteRecord> + Clone,
    ) {
        let time_zone = self.time_zone.clone();
        for date_column in [&mut self.created_at, &mut self.closed_at, &mut self.due_at]
            .into_iter()
            .flatten()
        {
            let sample: Vec<&str> = rows
                .clone()
                .filter_map(|row| cell(row, &date_column.column).ok().flatten())
                .collect();
            date_column.dates = layouts.settle(&sample, &time_zone);
        }
    }

    fn result(&self, row: &ByteRecord, line: u64) -> RowResult {
        match self.read(row) {
            Ok(request) => RowResult::Taken(request),
            Err(reason) => RowResult::Rejected(RejectedRow { line, reason }),
        }
    }

    fn read(&self, row: &ByteRecord) -> Result<HistoricalRequest, RejectReason> {
        if row.len() != self.field_count {
            return Err(RejectReason::WrongFieldCount {
                expected: self.field_count,
                found: row.len(),
            });
        }
        let source_id = cell(row, &self.source_id)?.ok_or_else(|| RejectReason::MissingId {
            column: self.source_id.name.clone(),
        })?;
        let service = cell(row, &self.service)?.ok_or_else(|| RejectReason::MissingService {
            column: self.service.name.clone(),
        })?;

        let mut text = String::new();
        for column in &self.text {
            if let Some(part) = self.optional(row, Some(column))? {
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(part);
            }
        }
        let mut district = None;
        for column in &self.district {
            district = self.optional(row, Some(column))?;
            if district.is_some() {
                break;
            }
        }
        let (lat, long) = self.coordinates(row)?;

        Ok(HistoricalRequest {
            source: self.source.clone(),
            source_id: source_id.to_owned(),
            created_at: self.date(row, self.created_at.as_ref())?,
            closed_at: self.date(row, self.closed_at.as_ref())?,
            due_at: self.date(row, self.due_at.as_ref())?,
            status: self.optional(row, self.status.as_ref())?.map(str::to_owned),
            service: service.to_owned(),
            text,
            subtype: self
                .optional(row, self.subtype.as_ref())?
                .map(str::to_owned),
            department: self
                .optional(row, self.department.as_ref())?
                .map(str::to_owned),
            district: district.map(str::to_owned),
            lat,
            long,
            channel: self
                .optional(row, self.channel.as_ref())?
                .map(str::to_owned),
        })
    }

    /// A descriptive cell: empty, or one of the export's "no value" markers,
    /// is `None`.
    fn optional<'r>(
        &self,
        row: &'r ByteRecord,
        column: Option<&Column>,
    ) -> Result<Option<&'r str>, RejectReason> {
        let Some(column) = column else {
            return Ok(None);
        };
        Ok(cell(row, column)?.filter(|value| {
            !self
                .empty_markers
                .iter()
                .any(|marker| value.eq_ignore_ascii_case(marker))
        }))
    }

    fn date(
        &self,
        row: &ByteRecord,
        column: Option<&DateColumn>,
    ) -> Result<Option<Timestamp>, RejectReason> {
        let Some(DateColumn { column, dates }) = column else {
            return Ok(None);
        };
        let Some(value) = cell(row, column)? else {
            return Ok(None);
        };
        match dates.parse(value, &self.time_zone) {
            Some(moment) => Ok(Some(moment)),
            None => Err(RejectReason::BadDate {
                column: column.name.clone(),
                value: quoted_value(value),
                example: dates.example().to_owned(),
            }),
        }
    }

    fn coordinates(&self, row: &ByteRecord) -> Result<(Option<f64>, Option<f64>), RejectReason> {
        let Some((lat_column, long_column)) = &self.coordinates else {
            return Ok((None, None));
        };
        let (lat, long) = match (cell(row, lat_column)?, cell(row, long_column)?) {
            (None, None) => return Ok((None, None)),
            (Some(_), None) => {
                return Err(RejectReason::HalfCoordinate {
                    present: lat_column.name.clone(),
                    missing: long_column.name.clone(),
                });
            }
            (None, Some(_)) => {
                return Err(RejectReason::HalfCoordinate {
                    present: long_column.name.clone(),
                    missing: lat_column.name.clone(),
                });
            }
            (Some(lat), Some(long)) => (number(lat, lat_column)?, number(long, long_column)?),
        };
        if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&long) {
            return Err(RejectReason::CoordinateOutOfRange {
                lat_column: lat_column.name.clone(),
                long_column: long_column.name.clone(),
                lat,
                long,
            });
        }
        // 0,0 is in the Gulf of Guinea: exports write it for "unknown".
        if lat == 0.0 && long == 0.0 {
            return Ok((None, None));
        }
        Ok((Some(lat), Some(long)))
    }
}

/// A cell as trimmed text; an empty one is `None`.
fn cell<'r>(row: &'r ByteRecord, column: &Column) -> Result<Option<&'r str>, RejectReason> {
    let bytes = row.get(column.index).unwrap_or_default();
    let text = std::str::from_utf8(bytes).map_err(|_| RejectReason::NotUtf8 {
        column: column.name.clone(),
    })?;
    let trimmed = text.trim();
    Ok((!trimmed.is_empty()).then_some(trimmed))
}

/// A coordinate; a decimal comma (`54,3521`, common in `;`-separated
/// European exports) is read like a decimal point.
fn number(value: &str, column: &Column) -> Result<f64, RejectReason> {
    let with_point = if !value.contains('.') && value.matches(',').count() == 1 {
        Cow::Owned(value.replace(',', "."))
    } else {
        Cow::Borrowed(value)
    };
    with_point
        .parse::<f64>()
        .ok()
        .filter(|number| number.is_finite())
        .ok_or_else(|| RejectReason::BadCoordinate {
            column: column.name.clone(),
            value: quoted_value(value),
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::write_synthetic_nyc;

    #[test]
    fn only_the_unfinished_part_of_the_input_is_kept() {
        let mut file = Vec::new();
        write_synthetic_nyc(&mut file, 5_000, 3).unwrap();
        let mut reader = HistoryReader::new(file.as_slice(), None, TimeZone::UTC).unwrap();
        let mut most_kept = 0;
        let mut rows = 0;
        while let Some(row) = reader.next() {
            assert!(matches!(row, Ok(RowResult::Taken(_))));
            rows += 1;
            most_kept = most_kept.max(reader.csv.get_ref().kept.len());
        }
        assert_eq!(rows, 5_000);
        assert!(file.len() > 1_000_000, "{}", file.len());
        // One parser buffer (8 KiB) and at most one row.
        assert!(most_kept < 16 * 1024, "{most_kept} bytes kept");
    }
}
