//! The two real open-data samples, read end to end.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use citydesk_history::{HistoricalRequest, HistoryReader, ImportSummary, RowResult, Schema};
use jiff::Timestamp;
use jiff::tz::TimeZone;

const NYC_SAMPLE: &[u8] = include_bytes!("fixtures/nyc311-2022-05-01.csv");
const BOSTON_SAMPLE: &[u8] = include_bytes!("fixtures/boston311-100.csv");

fn zone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap()
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// Every row of `input`, with the summary and the reader's final byte count.
fn read_all(input: &[u8], time_zone: &str) -> (Vec<RowResult>, ImportSummary, u64) {
    let mut reader = HistoryReader::new(input, None, zone(time_zone)).unwrap();
    let mut summary = ImportSummary::for_reader(&reader);
    let mut rows = Vec::new();
    for row in reader.by_ref() {
        let row = row.unwrap();
        summary.record(&row);
        rows.push(row);
    }
    (rows, summary, reader.bytes_read())
}

fn taken(rows: &[RowResult]) -> Vec<&HistoricalRequest> {
    rows.iter()
        .filter_map(|row| match row {
            RowResult::Taken(request) => Some(request),
            RowResult::Rejected(_) => None,
        })
        .collect()
}

#[test]
fn nyc_sample_is_detected_and_every_row_is_taken() {
    let reader = HistoryReader::new(NYC_SAMPLE, None, zone("America/New_York")).unwrap();
    assert_eq!(reader.schema(), &Schema::Nyc);
    assert_eq!(reader.schema().name(), "nyc");
    assert!(
        reader.unknown_columns().is_empty(),
        "{:?}",
        reader.unknown_columns()
    );
    assert!(
        reader.absent_columns().is_empty(),
        "{:?}",
        reader.absent_columns()
    );

    let (rows, summary, bytes_read) = read_all(NYC_SAMPLE, "America/New_York");
    assert_eq!(rows.len(), 924);
    assert_eq!(summary.taken, 924, "{}", summary.render());
    assert_eq!(summary.rejected, 0, "{}", summary.render());
    assert_eq!(bytes_read, u64::try_from(NYC_SAMPLE.len()).unwrap());
    assert_eq!(summary.services.len(), 37);
    assert_eq!(summary.services.get("Noise - Residential"), Some(&379));
}

#[test]
fn nyc_first_row_becomes_this_record() {
    let (rows, _, _) = read_all(NYC_SAMPLE, "America/New_York");
    let expected = HistoricalRequest {
        source: "nyc".to_owned(),
        source_id: "54049402".to_owned(),
        // 05/01/2022 12:00:03 AM, New York summer time (UTC−4).
        created_at: Some(at("2022-05-01T04:00:03Z")),
        closed_at: None,
        due_at: None,
        status: Some("In Progress".to_owned()),
        service: "Noise - Residential".to_owned(),
        text: "Loud Music/Party Residential Building/House".to_owned(),
        subtype: Some("Loud Music/Party".to_owned()),
        department: Some("NYPD".to_owned()),
        district: Some("BRONX".to_owned()),
        lat: Some(40.83065331987539),
        long: Some(-73.92308231033165),
        channel: Some("ONLINE".to_owned()),
    };
    assert_eq!(rows.first(), Some(&RowResult::Taken(expected)));
}

#[test]
fn nyc_closed_dates_and_missing_locations_are_read() {
    let (rows, _, _) = read_all(NYC_SAMPLE, "America/New_York");
    let requests = taken(&rows);

    let second = requests[1];
    assert_eq!(second.source_id, "54046813");
    assert_eq!(second.closed_at, Some(at("2022-05-01T04:07:46Z")));
    assert_eq!(second.status.as_deref(), Some("Closed"));

    // Eleven rows of the day have no coordinates: both stay empty.
    let without_location = requests
        .iter()
        .filter(|request| request.lat.is_none())
        .count();
    assert_eq!(without_location, 11);
    assert!(
        requests
            .iter()
            .all(|request| request.lat.is_some() == request.long.is_some())
    );
    // Every created_at falls on 2022-05-01 in New York.
    let day_start = at("2022-05-01T04:00:00Z");
    let day_end = at("2022-05-02T04:00:00Z");
    assert!(requests.iter().all(|request| {
        request
            .created_at
            .is_some_and(|created| created >= day_start && created < day_end)
    }));
}

#[test]
fn nyc_records_round_trip_through_json_lines() {
    let (rows, _, _) = read_all(NYC_SAMPLE, "America/New_York");
    let first = taken(&rows)[0].clone();
    let line = serde_json::to_string(&first).unwrap();
    assert!(
        line.contains(r#""created_at":"2022-05-01T04:00:03Z""#),
        "{line}"
    );
    let back: HistoricalRequest = serde_json::from_str(&line).unwrap();
    assert_eq!(back, first);
}

#[test]
fn boston_sample_is_detected_and_every_row_is_taken() {
    let reader = HistoryReader::new(BOSTON_SAMPLE, None, zone("America/New_York")).unwrap();
    assert_eq!(reader.schema(), &Schema::Boston);
    assert!(
        reader.unknown_columns().is_empty(),
        "{:?}",
        reader.unknown_columns()
    );

    let (rows, summary, bytes_read) = read_all(BOSTON_SAMPLE, "America/New_York");
    assert_eq!(rows.len(), 100);
    assert_eq!(summary.taken, 100, "{}", summary.render());
    assert_eq!(summary.rejected, 0);
    assert_eq!(bytes_read, u64::try_from(BOSTON_SAMPLE.len()).unwrap());
    assert_eq!(summary.services.len(), 36);
    assert_eq!(summary.services.get("Parking Enforcement"), Some(&20));
    // January in Boston is UTC−5.
    assert_eq!(summary.earliest_created, Some(at("2022-01-01T05:16:00Z")));
    assert_eq!(summary.latest_created, Some(at("2022-01-31T16:46:00Z")));
}

#[test]
fn boston_rows_become_these_records() {
    let (rows, _, _) = read_all(BOSTON_SAMPLE, "America/New_York");
    let requests = taken(&rows);

    assert_eq!(
        *requests[0],
        HistoricalRequest {
            source: "boston".to_owned(),
            source_id: "101004143000".to_owned(),
            created_at: Some(at("2022-01-21T18:47:00Z")),
            closed_at: None,
            due_at: Some(at("2022-02-04T18:47:30Z")),
            status: Some("Open".to_owned()),
            service: "General Comments For a Program or Policy".to_owned(),
            text: "BTDT: Complaint".to_owned(),
            subtype: Some("BTDT: Complaint".to_owned()),
            department: Some("Mayor's 24 Hour Hotline".to_owned()),
            // The cell is a single space: no neighborhood.
            district: None,
            lat: Some(42.3594),
            long: Some(-71.0587),
            channel: Some("Constituent Call".to_owned()),
        }
    );

    let snow = requests
        .iter()
        .find(|request| request.source_id == "101004155594")
        .unwrap();
    assert_eq!(snow.service, "Misc. Snow Complaint");
    assert_eq!(snow.department.as_deref(), Some("Public Works Department"));
    assert_eq!(snow.district.as_deref(), Some("Roslindale"));
    assert_eq!(snow.created_at, Some(at("2022-01-31T16:46:00Z")));

    let needle = requests[1];
    assert_eq!(needle.closed_at, Some(at("2022-01-19T16:42:16Z")));
    assert_eq!(needle.due_at, None);
}
