//! The synthetic NYC generator: reproducible, valid, NYC-like.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use citydesk_history::{
    HistoryReader, ImportSummary, RowResult, Schema, content_digest, write_synthetic_nyc,
};
use jiff::Timestamp;
use jiff::tz::TimeZone;

fn generate(rows: u64, seed: u64) -> Vec<u8> {
    let mut out = Vec::new();
    write_synthetic_nyc(&mut out, rows, seed).unwrap();
    out
}

#[test]
fn the_same_seed_gives_the_same_bytes() {
    let first = generate(500, 42);
    assert_eq!(first, generate(500, 42));
    assert_ne!(first, generate(500, 43));
    // A longer run starts with the same rows.
    let longer = generate(600, 42);
    assert!(longer.starts_with(&first));
}

#[test]
fn generated_rows_read_as_nyc_without_a_single_rejection() {
    let rows = 20_000;
    let file = generate(rows, 7);
    let mut reader = HistoryReader::new(
        file.as_slice(),
        None,
        TimeZone::get("America/New_York").unwrap(),
    )
    .unwrap();
    assert_eq!(reader.schema(), &Schema::Nyc);
    assert!(reader.unknown_columns().is_empty());
    assert!(reader.absent_columns().is_empty());

    let mut summary = ImportSummary::for_reader(&reader);
    let mut agencies = BTreeSet::new();
    let mut boroughs = BTreeSet::new();
    let mut located = 0_u64;
    let mut closed = 0_u64;
    let year_start: Timestamp = "2022-01-01T05:00:00Z".parse().unwrap();
    let year_end: Timestamp = "2023-01-01T05:00:00Z".parse().unwrap();
    for row in reader.by_ref() {
        let row = row.unwrap();
        summary.record(&row);
        let RowResult::Taken(request) = &row else {
            panic!("synthetic rows must all be valid: {row:?}");
        };
        agencies.insert(request.department.clone().unwrap());
        boroughs.insert(request.district.clone().unwrap());
        let created = request.created_at.unwrap();
        assert!(created >= year_start && created < year_end, "{created}");
        if let Some(closed_at) = request.closed_at {
            closed += 1;
            assert!(closed_at > created);
        }
        assert!(!request.text.is_empty());
        if let (Some(lat), Some(long)) = (request.lat, request.long) {
            located += 1;
            assert!((40.49..=40.92).contains(&lat), "{lat}");
            assert!((-74.26..=-73.69).contains(&long), "{long}");
        }
    }

    assert_eq!(summary.taken, rows);
    assert_eq!(summary.rejected, 0, "{}", summary.render());
    assert!(
        (20..=40).contains(&summary.services.len()),
        "{}",
        summary.services.len()
    );
    assert_eq!(
        boroughs.into_iter().collect::<Vec<_>>(),
        ["BRONX", "BROOKLYN", "MANHATTAN", "QUEENS", "STATEN ISLAND"]
    );
    assert!(agencies.len() >= 8, "{agencies:?}");
    // About 1 in 50 has no location, about 55 % are closed.
    assert!(located > rows * 95 / 100 && located < rows, "{located}");
    assert!(
        closed > rows * 50 / 100 && closed < rows * 60 / 100,
        "{closed}"
    );
    assert_eq!(reader.bytes_read(), u64::try_from(file.len()).unwrap());
}

#[test]
fn the_generator_streams_into_a_digest_without_a_file() {
    // A reproducible corpus can be named by its digest like a real upload.
    let digest = content_digest(generate(1_000, 1).as_slice()).unwrap();
    assert_eq!(
        digest,
        content_digest(generate(1_000, 1).as_slice()).unwrap()
    );
    assert_eq!(digest.len(), 64);
}
