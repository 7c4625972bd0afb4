//! Headers and mapping files that cannot be used are refused before any row
//! is read, with a message that says what to fix.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use citydesk_history::{HistoryReader, Mapping, RowResult, Schema, SchemaError};
use jiff::tz::TimeZone;

const NYC_SAMPLE: &[u8] = include_bytes!("fixtures/nyc311-2022-05-01.csv");
const GDANSK_CSV: &[u8] = include_bytes!("fixtures/gdansk-legacy.csv");

fn open(input: &[u8], schema: Option<Schema>) -> Result<HistoryReader<&[u8]>, SchemaError> {
    HistoryReader::new(input, schema, TimeZone::UTC)
}

fn mapping(columns: &str) -> String {
    format!("name = \"gdansk-legacy\"\n[columns]\n{columns}\n[formats]\ndelimiter = \";\"\n")
}

#[test]
fn a_header_no_schema_matches_is_refused_naming_its_first_columns() {
    let error = open(b"id,when,what,where\n1,2,3,4\n", None).err().unwrap();
    assert!(
        matches!(error, SchemaError::Unrecognised { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.starts_with(
            r#"no known schema (nyc, sf, boston, open311) matches a header starting with "id", "when", "what", "where";"#
        ),
        "{message}"
    );
    assert!(message.contains("mapping file"), "{message}");
}

#[test]
fn a_long_unknown_header_is_quoted_only_in_part() {
    let header = (1..=30)
        .map(|n| format!("column{n}"))
        .collect::<Vec<_>>()
        .join(",");
    let error = open(header.as_bytes(), None).err().unwrap();
    let message = error.to_string();
    assert!(
        message.contains(r#""column6", … (30 columns)"#),
        "{message}"
    );
    assert!(!message.contains("column7"), "{message}");
}

#[test]
fn a_semicolon_file_without_a_mapping_is_not_guessed() {
    let error = open(GDANSK_CSV, None).err().unwrap();
    assert!(
        matches!(error, SchemaError::Unrecognised { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("another delimiter"), "{error}");
}

#[test]
fn an_empty_file_has_no_header() {
    assert!(matches!(open(b"", None), Err(SchemaError::NoHeader)));
}

#[test]
fn a_header_that_is_not_utf8_is_refused() {
    let error = open(b"Unique Key,Complaint \xff Type\n", None)
        .err()
        .unwrap();
    assert!(
        matches!(error, SchemaError::HeaderNotUtf8 { position: 2 }),
        "{error:?}"
    );
}

#[test]
fn a_byte_order_mark_is_tolerated() {
    let mut input = b"\xef\xbb\xbf".to_vec();
    input.extend_from_slice(NYC_SAMPLE);
    let mut reader = open(&input, None).unwrap();
    assert_eq!(reader.schema(), &Schema::Nyc);
    assert!(
        reader.unknown_columns().is_empty(),
        "{:?}",
        reader.unknown_columns()
    );
    let Some(Ok(RowResult::Taken(first))) = reader.next() else {
        panic!("the first row should be taken");
    };
    assert_eq!(first.source_id, "54049402");
}

#[test]
fn a_forced_schema_must_find_its_id_and_service_columns() {
    let error = open(NYC_SAMPLE, Schema::built_in("boston")).err().unwrap();
    assert_eq!(
        error.to_string(),
        "the boston schema needs the column(s) case_enquiry_id, type but the header has no such column"
    );
}

#[test]
fn built_in_schemas_are_found_by_name() {
    assert_eq!(Schema::built_in("NYC"), Some(Schema::Nyc));
    assert_eq!(Schema::built_in("sf"), Some(Schema::SanFrancisco));
    assert_eq!(Schema::built_in("open311"), Some(Schema::Open311Bulk));
    assert_eq!(Schema::built_in("gdansk"), None);
    assert_eq!(
        Schema::built_in_names().collect::<Vec<_>>(),
        ["nyc", "sf", "boston", "open311"]
    );
}

#[test]
fn extra_columns_are_reported_not_fatal() {
    let input = "Unique Key,Complaint Type,Descriptor,Agency,Photo URL,\n\
                 1,Rodent,Rat Sighting,DOHMH,http://example.invalid/1.jpg,\n";
    let reader = open(input.as_bytes(), None).unwrap();
    assert_eq!(
        reader.unknown_columns(),
        ["Photo URL", "(column 6 has no name)"]
    );
    let rows: Vec<_> = reader.map(Result::unwrap).collect();
    assert!(matches!(rows.as_slice(), [RowResult::Taken(_)]), "{rows:?}");
}

#[test]
fn a_mapping_naming_a_missing_column_is_refused_before_reading() {
    let mapping = Mapping::from_toml(&mapping(
        "source_id = \"ID\"\nservice = \"Kategoria\"\ndepartment = \"Jednostka organizacyjna\"\nchannel = \"Kanał\"",
    ))
    .unwrap();
    let error = open(GDANSK_CSV, Some(Schema::Mapped(mapping)))
        .err()
        .unwrap();
    assert!(
        matches!(&error, SchemaError::MissingColumns { schema, missing }
            if schema == "gdansk-legacy" && missing == &["Jednostka organizacyjna", "Kanał"]),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "the gdansk-legacy schema needs the column(s) Jednostka organizacyjna, Kanał \
         but the header has no such column"
    );
}

#[test]
fn a_mapping_without_source_id_or_service_is_refused() {
    let error = Mapping::from_toml(&mapping("service = \"Kategoria\"")).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the mapping file's columns.source_id is missing; every record needs it"
    );
    let error = Mapping::from_toml(&mapping("source_id = \"ID\"")).unwrap_err();
    assert!(
        matches!(
            error,
            SchemaError::MappingValue {
                key: "columns.service",
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn a_mapping_with_a_misspelt_key_is_refused() {
    let error = Mapping::from_toml(&mapping(
        "source_id = \"ID\"\nservice = \"Kategoria\"\ndepartmnet = \"Jednostka\"",
    ))
    .unwrap_err();
    assert!(matches!(error, SchemaError::MappingSyntax(_)), "{error:?}");
    let source = std::error::Error::source(&error).unwrap().to_string();
    assert!(source.contains("departmnet"), "{source}");
}

#[test]
fn a_mapping_with_lat_but_no_long_is_refused() {
    let error = Mapping::from_toml(&mapping(
        "source_id = \"ID\"\nservice = \"Kategoria\"\nlat = \"Szer\"",
    ))
    .unwrap_err();
    assert!(
        matches!(
            error,
            SchemaError::MappingValue {
                key: "columns.lat",
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn a_mapping_datetime_format_without_a_date_is_refused() {
    let text = "name = \"x\"\n[columns]\nsource_id = \"ID\"\nservice = \"S\"\n[formats]\ndatetime = \"%H:%M\"\n";
    let error = Mapping::from_toml(text).unwrap_err();
    assert!(
        matches!(&error, SchemaError::DateFormat { format, .. } if format == "%H:%M"),
        "{error:?}"
    );
}

#[test]
fn a_mapping_cannot_take_a_built_in_name_or_a_long_delimiter() {
    let error =
        Mapping::from_toml("name = \"nyc\"\n[columns]\nsource_id = \"ID\"\nservice = \"S\"\n")
            .unwrap_err();
    assert!(
        matches!(error, SchemaError::MappingValue { key: "name", .. }),
        "{error:?}"
    );

    let error = Mapping::from_toml(
        "name = \"x\"\n[columns]\nsource_id = \"ID\"\nservice = \"S\"\n[formats]\ndelimiter = \";;\"\n",
    )
    .unwrap_err();
    assert!(
        matches!(
            error,
            SchemaError::MappingValue {
                key: "formats.delimiter",
                ..
            }
        ),
        "{error:?}"
    );
}
