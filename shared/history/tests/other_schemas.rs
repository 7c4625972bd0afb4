//! San Francisco, Open311 bulk and a city's mapping file, on small
//! handwritten fixtures.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use citydesk_history::{HistoricalRequest, HistoryReader, Mapping, RowResult, Schema};
use jiff::Timestamp;
use jiff::tz::TimeZone;

const SF_SAMPLE: &[u8] = include_bytes!("fixtures/sf311-sample.csv");
const OPEN311_SAMPLE: &[u8] = include_bytes!("fixtures/open311-bulk-sample.csv");
const GDANSK_CSV: &[u8] = include_bytes!("fixtures/gdansk-legacy.csv");
const GDANSK_MAPPING: &str = include_str!("fixtures/gdansk-legacy.toml");

fn zone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap()
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// The records of `input`; fails the test on any rejected row.
fn records(reader: HistoryReader<&[u8]>) -> Vec<HistoricalRequest> {
    reader
        .map(|row| match row.unwrap() {
            RowResult::Taken(request) => request,
            RowResult::Rejected(rejected) => panic!("unexpected rejection: {rejected}"),
        })
        .collect()
}

#[test]
fn san_francisco_rows_are_read() {
    let reader = HistoryReader::new(SF_SAMPLE, None, zone("America/Los_Angeles")).unwrap();
    assert_eq!(reader.schema(), &Schema::SanFrancisco);
    assert_eq!(reader.schema().name(), "sf");
    assert!(reader.unknown_columns().is_empty());
    let requests = records(reader);
    assert_eq!(requests.len(), 3);

    assert_eq!(
        requests[0],
        HistoricalRequest {
            source: "sf".to_owned(),
            source_id: "10000001".to_owned(),
            created_at: Some(at("2019-01-01T08:00:00Z")),
            closed_at: Some(at("2019-01-02T17:15:00Z")),
            due_at: None,
            status: Some("Closed".to_owned()),
            service: "Street and Sidewalk Cleaning".to_owned(),
            // status_notes is the city's answer and stays out of the text.
            text: "Bulky Items Mattress, couch".to_owned(),
            subtype: Some("Bulky Items".to_owned()),
            department: Some("Recology_Abandoned".to_owned()),
            district: Some("6".to_owned()),
            lat: Some(37.7901),
            long: Some(-122.3965),
            channel: Some("Mobile/Open311".to_owned()),
        }
    );

    // Space-separated ISO date; no supervisor district, so the neighborhood.
    assert_eq!(requests[1].created_at, Some(at("2019-01-01T15:42:10Z")));
    assert_eq!(requests[1].closed_at, None);
    assert_eq!(requests[1].district.as_deref(), Some("Mission"));

    // Socrata's 12-hour layout; an empty descriptor; 0,0 means no location.
    assert_eq!(requests[2].created_at, Some(at("2019-01-02T23:05:00Z")));
    assert_eq!(requests[2].text, "request_for_service");
    assert_eq!((requests[2].lat, requests[2].long), (None, None));
}

#[test]
fn open311_bulk_rows_keep_their_offsets() {
    // The zone is deliberately not Baltimore's: values with an offset must
    // not depend on it, local ones must.
    let reader = HistoryReader::new(OPEN311_SAMPLE, None, zone("Europe/Berlin")).unwrap();
    assert_eq!(reader.schema(), &Schema::Open311Bulk);
    let requests = records(reader);
    assert_eq!(requests.len(), 3);

    assert_eq!(
        requests[0],
        HistoricalRequest {
            source: "open311".to_owned(),
            source_id: "638344".to_owned(),
            created_at: Some(at("2022-03-14T13:30:00Z")),
            closed_at: Some(at("2022-03-15T15:00:00Z")),
            due_at: None,
            status: Some("closed".to_owned()),
            service: "Street Defect".to_owned(),
            text: "Pothole Deep pothole in the right lane".to_owned(),
            subtype: Some("Pothole".to_owned()),
            department: Some("Department of Public Works".to_owned()),
            district: None,
            lat: Some(39.3045),
            long: Some(-76.6163),
            channel: Some("iPhone".to_owned()),
        }
    );
    // A local value is read in the zone the caller gave (Berlin, UTC+1).
    assert_eq!(requests[1].created_at, Some(at("2022-03-14T09:00:00Z")));
    assert_eq!(requests[1].text, "Bags of trash left in the alley, smells");
    assert_eq!(requests[2].created_at, Some(at("2022-03-15T02:00:00Z")));
    assert_eq!(requests[2].text, "");
    assert_eq!((requests[2].lat, requests[2].long), (None, None));
}

#[test]
fn a_mapping_file_reads_a_semicolon_export_with_polish_text() {
    let mapping = Mapping::from_toml(GDANSK_MAPPING).unwrap();
    assert_eq!(mapping.name(), "gdansk-legacy");
    assert_eq!(mapping.delimiter(), b';');

    let reader = HistoryReader::new(
        GDANSK_CSV,
        Some(Schema::Mapped(mapping)),
        zone("Europe/Warsaw"),
    )
    .unwrap();
    assert_eq!(reader.schema().name(), "gdansk-legacy");
    assert_eq!(reader.unknown_columns(), ["Uwagi"]);
    let requests = records(reader);
    assert_eq!(requests.len(), 3);

    assert_eq!(
        requests[0],
        HistoricalRequest {
            source: "gdansk-legacy".to_owned(),
            source_id: "GD/2021/0001".to_owned(),
            // 03.02.2021 08:05 in Warsaw, winter time (UTC+1).
            created_at: Some(at("2021-02-03T07:05:00Z")),
            closed_at: Some(at("2021-02-04T13:30:00Z")),
            due_at: None,
            status: Some("zamknięte".to_owned()),
            service: "Drogi i chodniki".to_owned(),
            text:
                "Głęboka dziura na ul. Grunwaldzkiej; niebezpieczna dla rowerzystów Dziura w jezdni"
                    .to_owned(),
            subtype: None,
            department: Some("Zarząd Dróg i Zieleni".to_owned()),
            district: Some("Wrzeszcz Górny".to_owned()),
            // Decimal commas.
            lat: Some(54.379),
            long: Some(18.6094),
            channel: None,
        }
    );

    assert_eq!(requests[1].text, "Złamana gałąź zwisa nad chodnikiem");
    assert_eq!(requests[1].district, None);
    assert_eq!((requests[1].lat, requests[1].long), (None, None));
    assert_eq!(requests[1].closed_at, None);

    // ISO 8601 with an offset is accepted besides the mapping's layout.
    assert_eq!(requests[2].created_at, Some(at("2021-07-01T08:00:00Z")));
    assert_eq!(requests[2].text, "Nie świeci latarnia");
}

#[test]
fn a_mapping_date_in_another_layout_is_rejected_naming_the_layout() {
    let mapping = Mapping::from_toml(GDANSK_MAPPING).unwrap();
    let input = "ID;Data zgłoszenia;Data zamknięcia;Status;Kategoria;Tytuł;Opis;Jednostka;Dzielnica;Szer;Dł\n\
                 GD/1;2021/02/03;;;Drogi;;;;;;\n";
    let mut reader = HistoryReader::new(
        input.as_bytes(),
        Some(Schema::Mapped(mapping)),
        zone("Europe/Warsaw"),
    )
    .unwrap();
    let Some(Ok(RowResult::Rejected(rejected))) = reader.next() else {
        panic!("the row should be rejected");
    };
    assert_eq!(rejected.line, 2);
    assert_eq!(
        rejected.reason.to_string(),
        r#"Data zgłoszenia: "2021/02/03" is not a date like 01.05.2022 13:47"#
    );
}
