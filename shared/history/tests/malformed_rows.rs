//! Bad rows are rejected with the physical line they start on, and the rows
//! after them are still read.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{self, Read};

use citydesk_history::{
    HistoryReader, ImportSummary, RejectReason, RejectedRow, RowResult, Schema,
};
use jiff::tz::TimeZone;

const HEADER: &str = "Unique Key,Created Date,Agency,Complaint Type,Descriptor,Location Type,Borough,Latitude,Longitude\n";

/// An NYC-shaped file whose ids are the line each row starts on.
fn malformed_file() -> Vec<u8> {
    let mut file = Vec::new();
    file.extend_from_slice(HEADER.as_bytes()); // line 1
    file.extend_from_slice(
        b"2,05/01/2022 12:00:03 AM,NYPD,Noise - Residential,Loud Music/Party,Residential Building/House,BRONX,40.83,-73.92\n",
    );
    // A quoted cell with a line break: lines 3 and 4.
    file.extend_from_slice(
        b"3,05/01/2022 01:00:00 AM,NYPD,Noise - Residential,\"Loud Music\nParty\",Residential Building/House,BROOKLYN,40.65,-73.95\n",
    );
    file.extend_from_slice(b"5,05/01/2022 01:00:00 AM,NYPD,Noise - Residential\n");
    file.extend_from_slice(
        b"6,13/45/2022,NYPD,Noise - Residential,Loud Music/Party,Street/Sidewalk,BRONX,40.83,-73.92\n",
    );
    file.extend_from_slice(b"7,05/01/2022 01:00:00 AM,NYPD,Noise - Residential,Loud \xff\xfe Music,Street/Sidewalk,BRONX,40.83,-73.92\n");
    file.extend_from_slice(
        b",05/01/2022 01:00:00 AM,NYPD,Noise - Residential,Loud Music/Party,Street/Sidewalk,BRONX,40.83,-73.92\n",
    );
    file.extend_from_slice(
        b"9,05/01/2022 01:00:00 AM,NYPD,   ,Loud Music/Party,Street/Sidewalk,BRONX,40.83,-73.92\n",
    );
    file.extend_from_slice(
        b"10,05/01/2022 01:00:00 AM,NYPD,Noise - Residential,Loud Music/Party,Street/Sidewalk,BRONX,140.5,-73.92\n",
    );
    file.extend_from_slice(b"\n"); // line 11: blank, skipped
    file.extend_from_slice(
        b"12,05/01/2022 01:00:00 AM,NYPD,Noise - Residential,Loud Music/Party,Street/Sidewalk,BRONX,40.83,\n",
    );
    file.extend_from_slice(
        b"13,05/01/2022 01:00:00 AM,NYPD,Noise - Residential,Loud Music/Party,Street/Sidewalk,BRONX,north,-73.92\n",
    );
    file.extend_from_slice(
        b"14,05/01/2022 02:00:00 AM,DOT,Street Condition,Pothole,,Unspecified,0,0\n",
    );
    // The last row has no line break after it.
    file.extend_from_slice(
        b"15,05/01/2022 03:00:00 PM,DSNY,Dirty Condition,Trash,Street,QUEENS,40.7,-73.8",
    );
    file
}

fn new_york() -> TimeZone {
    TimeZone::get("America/New_York").unwrap()
}

fn read_all(input: &[u8]) -> Vec<RowResult> {
    HistoryReader::new(input, None, new_york())
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn rejections(rows: &[RowResult]) -> Vec<&RejectedRow> {
    rows.iter()
        .filter_map(|row| match row {
            RowResult::Rejected(rejected) => Some(rejected),
            RowResult::Taken(_) => None,
        })
        .collect()
}

#[test]
fn each_bad_row_is_rejected_at_its_physical_line() {
    let rows = read_all(&malformed_file());
    let rejected: Vec<(u64, String)> = rejections(&rows)
        .into_iter()
        .map(|rejected| (rejected.line, rejected.reason.to_string()))
        .collect();
    let expected: Vec<(u64, String)> = [
        (5, "has 4 fields where the header has 9"),
        (
            6,
            r#"Created Date: "13/45/2022" is not a date like 05/01/2022 12:00:03 AM"#,
        ),
        (7, "Descriptor: not valid UTF-8"),
        (8, "Unique Key: empty, and every request needs an id"),
        (
            9,
            "Complaint Type: empty, and every request needs a service category",
        ),
        (
            10,
            "Latitude, Longitude: 140.5, -73.92 is not on Earth \
             (latitude must be within ±90, longitude within ±180)",
        ),
        (
            12,
            "Latitude has a value but Longitude is empty: a location needs both",
        ),
        (13, r#"Latitude: "north" is not a number"#),
    ]
    .into_iter()
    .map(|(line, reason)| (line, reason.to_owned()))
    .collect();
    assert_eq!(rejected, expected);
}

#[test]
fn line_numbers_hold_for_windows_line_endings_and_leading_blank_lines() {
    let lf = malformed_file();
    let lf_lines: Vec<u64> = rejections(&read_all(&lf))
        .iter()
        .map(|row| row.line)
        .collect();

    let mut crlf = Vec::new();
    for &byte in &lf {
        if byte == b'\n' {
            crlf.push(b'\r');
        }
        crlf.push(byte);
    }
    let crlf_rows = read_all(&crlf);
    let crlf_lines: Vec<u64> = rejections(&crlf_rows).iter().map(|row| row.line).collect();
    assert_eq!(crlf_lines, lf_lines);
    assert_eq!(crlf_lines, [5, 6, 7, 8, 9, 10, 12, 13]);

    // Two blank lines before the header push every row down by two.
    let mut shifted = b"\n\r\n".to_vec();
    shifted.extend_from_slice(&lf);
    let shifted_lines: Vec<u64> = rejections(&read_all(&shifted))
        .iter()
        .map(|row| row.line)
        .collect();
    assert_eq!(shifted_lines, [7, 8, 9, 10, 11, 12, 14, 15]);
}

#[test]
fn good_rows_around_bad_ones_are_taken() {
    let rows = read_all(&malformed_file());
    let taken: Vec<_> = rows
        .iter()
        .filter_map(|row| match row {
            RowResult::Taken(request) => Some(request),
            RowResult::Rejected(_) => None,
        })
        .collect();
    let ids: Vec<&str> = taken
        .iter()
        .map(|request| request.source_id.as_str())
        .collect();
    assert_eq!(ids, ["2", "3", "14", "15"]);

    // The line break inside the quoted cell is kept in the text.
    assert_eq!(
        taken[1].text,
        "Loud Music\nParty Residential Building/House"
    );
    // "Unspecified" borough and 0,0 coordinates mean unknown.
    assert_eq!(taken[2].district, None);
    assert_eq!((taken[2].lat, taken[2].long), (None, None));
    assert_eq!(taken[2].text, "Pothole");
    assert_eq!(taken[3].district.as_deref(), Some("QUEENS"));
    assert_eq!(
        taken[3].created_at,
        Some("2022-05-01T19:00:00Z".parse().unwrap())
    );
}

#[test]
fn columns_this_header_lacks_leave_their_fields_empty() {
    let reader = HistoryReader::new(io::Cursor::new(malformed_file()), None, new_york()).unwrap();
    assert_eq!(reader.schema(), &Schema::Nyc);
    assert_eq!(
        reader.absent_columns(),
        [
            "Closed Date",
            "Due Date",
            "Status",
            "Open Data Channel Type"
        ]
    );
    assert!(reader.unknown_columns().is_empty());
}

#[test]
fn the_summary_counts_rejections_by_kind_and_keeps_their_lines() {
    let mut reader =
        HistoryReader::new(io::Cursor::new(malformed_file()), None, new_york()).unwrap();
    let mut summary = ImportSummary::for_reader(&reader);
    for row in reader.by_ref() {
        summary.record(&row.unwrap());
    }
    assert_eq!(summary.taken, 4);
    assert_eq!(summary.rejected, 8);
    assert_eq!(
        summary.rejected_by_reason.get("bad date in Created Date"),
        Some(&1)
    );
    assert_eq!(
        summary
            .rejected_by_reason
            .get("invalid UTF-8 in Descriptor"),
        Some(&1)
    );
    assert_eq!(
        summary.rejected_by_reason.get("wrong number of fields"),
        Some(&1)
    );
    assert_eq!(summary.rejected_by_reason.values().sum::<u64>(), 8);
    let lines: Vec<u64> = summary
        .first_rejections
        .iter()
        .map(|row| row.line)
        .collect();
    assert_eq!(lines, [5, 6, 7, 8, 9, 10, 12, 13]);

    let rendered = summary.render();
    assert!(
        rendered.starts_with("schema nyc: 4 rows taken, 8 rejected\n"),
        "{rendered}"
    );
    assert!(
        rendered.contains(
            r#"  line 6: Created Date: "13/45/2022" is not a date like 05/01/2022 12:00:03 AM"#
        ),
        "{rendered}"
    );
    assert!(
        rendered.contains("columns missing from the file (those fields stay empty): Closed Date"),
        "{rendered}"
    );
}

#[test]
fn bad_bytes_in_a_column_nobody_reads_do_not_reject_the_row() {
    let input = b"Unique Key,Complaint Type,Descriptor,Agency,Notes\n\
                  1,Rodent,Rat Sighting,DOHMH,caf\xe9 on the corner\n";
    let mut reader = HistoryReader::new(&input[..], None, new_york()).unwrap();
    assert_eq!(reader.unknown_columns(), ["Notes"]);
    let Some(Ok(RowResult::Taken(request))) = reader.next() else {
        panic!("the row should be taken");
    };
    assert_eq!(request.service, "Rodent");
    assert_eq!(request.text, "Rat Sighting");
}

#[test]
fn rejection_reasons_serialize_with_their_kind() {
    let rows = read_all(&malformed_file());
    let first = rejections(&rows)[0];
    let json = serde_json::to_value(first).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "line": 5,
            "reason": {"kind": "wrong_field_count", "expected": 9, "found": 4}
        })
    );
    assert_eq!(
        first.reason,
        RejectReason::WrongFieldCount {
            expected: 9,
            found: 4
        }
    );
}

/// Yields `good` and then fails, like a network stream cut off mid-file.
struct FailsAfter<'a> {
    good: &'a [u8],
}

impl Read for FailsAfter<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        if self.good.is_empty() {
            return Err(io::Error::new(io::ErrorKind::ConnectionReset, "stream cut"));
        }
        let count = self.good.len().min(buffer.len());
        buffer[..count].copy_from_slice(&self.good[..count]);
        self.good = &self.good[count..];
        Ok(count)
    }
}

#[test]
fn a_failing_input_ends_the_stream_with_an_error_not_silently() {
    let file = malformed_file();
    // Cut inside row 14 (the row starting "14,").
    let cut = file
        .windows(3)
        .position(|window| window == b"\n14")
        .unwrap()
        + 5;
    let mut reader =
        HistoryReader::new(FailsAfter { good: &file[..cut] }, None, new_york()).unwrap();
    let items: Vec<_> = reader.by_ref().collect();
    let (last, delivered) = items.split_last().unwrap();
    assert_eq!(delivered.len(), 10, "every complete row before the cut");
    assert!(delivered.iter().all(Result::is_ok));
    let error = last.as_ref().unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("reading the CSV failed near line {}", error.line)
    );
    assert!(error.line >= 13, "{}", error.line);
    assert!(reader.next().is_none(), "nothing after the error");
}
