//! Which columns of an export become which fields of a
//! [`crate::HistoricalRequest`]: the four open-data exports citydesk knows,
//! recognised from their header row, and the [`Mapping`] file a city writes
//! for anything else.

use std::collections::HashSet;

use serde::Deserialize;

use crate::dates::DateLayouts;
use crate::error::SchemaError;

/// The layout of one CSV export.
#[derive(Debug, Clone, PartialEq)]
pub enum Schema {
    /// NYC Open Data "311 Service Requests from 2010 to Present".
    Nyc,
    /// San Francisco 311 open data.
    SanFrancisco,
    /// City of Boston 311 open data.
    Boston,
    /// An Open311 GeoReport v2 bulk export.
    Open311Bulk,
    /// Any other export, described by the city's mapping file.
    Mapped(Mapping),
}

impl Schema {
    /// The schema whose signature columns the header has, compared without
    /// regard to case, spaces or punctuation (`Unique Key` = `unique_key`).
    /// A mapping is never detected: the caller names it.
    pub fn detect<'a>(header: impl IntoIterator<Item = &'a str>) -> Option<Schema> {
        let present: HashSet<String> = header.into_iter().map(normalize_column_name).collect();
        BUILT_INS
            .iter()
            .find(|built_in| {
                built_in
                    .signature
                    .iter()
                    .all(|column| present.contains(&normalize_column_name(column)))
            })
            .map(|built_in| built_in.schema.clone())
    }

    /// A built-in schema by its name (`nyc`, `sf`, `boston`, `open311`), for
    /// an operator who forces one.
    pub fn built_in(name: &str) -> Option<Schema> {
        BUILT_INS
            .iter()
            .find(|built_in| built_in.name.eq_ignore_ascii_case(name.trim()))
            .map(|built_in| built_in.schema.clone())
    }

    /// The names [`Schema::built_in`] knows.
    pub fn built_in_names() -> impl Iterator<Item = &'static str> {
        BUILT_INS.iter().map(|built_in| built_in.name)
    }

    /// The name records carry as their `source`: `nyc`, `sf`, `boston`,
    /// `open311` or the mapping's name.
    pub fn name(&self) -> &str {
        match self {
            Schema::Mapped(mapping) => &mapping.name,
            built_in => built_in.spec().map_or("", |spec| spec.name),
        }
    }

    pub(crate) fn delimiter(&self) -> u8 {
        match self {
            Schema::Mapped(mapping) => mapping.delimiter,
            _ => b',',
        }
    }

    /// Which columns feed which field.
    pub(crate) fn field_columns(&self) -> FieldColumns {
        match self {
            Schema::Mapped(mapping) => (*mapping.columns).clone(),
            built_in => built_in
                .spec()
                .map_or_else(FieldColumns::default, BuiltIn::field_columns),
        }
    }

    /// A mapping's columns must all be in the header; a built-in schema
    /// needs only its id and service columns and leaves the fields of other
    /// missing columns empty (exports let people pick columns).
    pub(crate) fn needs_every_named_column(&self) -> bool {
        matches!(self, Schema::Mapped(_))
    }

    /// Columns the schema knows, used or deliberately ignored; any other
    /// header column is reported as unknown.
    pub(crate) fn known_columns(&self) -> Vec<String> {
        match self {
            Schema::Mapped(mapping) => mapping.columns.all_names(),
            built_in => built_in.spec().map_or_else(Vec::new, |spec| {
                spec.known.iter().map(|&name| name.to_owned()).collect()
            }),
        }
    }

    pub(crate) fn date_layouts(&self) -> DateLayouts {
        match self {
            Schema::Mapped(mapping) => mapping.dates.clone(),
            built_in => built_in
                .spec()
                .map_or_else(DateLayouts::mapping_default, |spec| (spec.dates)()),
        }
    }

    /// Cell values that mean "no value" in this export.
    pub(crate) fn empty_markers(&self) -> &'static [&'static str] {
        self.spec().map_or(&[], |spec| spec.empty_markers)
    }

    fn spec(&self) -> Option<&'static BuiltIn> {
        BUILT_INS.iter().find(|built_in| built_in.schema == *self)
    }
}

/// The header names that feed each field of a record.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct FieldColumns {
    pub(crate) source_id: String,
    pub(crate) service: String,
    /// Joined with a space, empty cells skipped.
    pub(crate) text: Vec<String>,
    pub(crate) created_at: Option<String>,
    pub(crate) closed_at: Option<String>,
    pub(crate) due_at: Option<String>,
    pub(crate) status: Option<String>,
    pub(crate) department: Option<String>,
    /// The first non-empty one wins.
    pub(crate) district: Vec<String>,
    /// Latitude and longitude columns.
    pub(crate) coordinates: Option<(String, String)>,
    pub(crate) channel: Option<String>,
    /// The old system's finer category within the service (routes are
    /// learned by it); often also one of the text columns.
    pub(crate) subtype: Option<String>,
}

impl FieldColumns {
    fn all_names(&self) -> Vec<String> {
        let mut names = vec![self.source_id.clone(), self.service.clone()];
        names.extend(self.text.iter().cloned());
        names.extend(self.district.iter().cloned());
        for single in [
            &self.created_at,
            &self.closed_at,
            &self.due_at,
            &self.status,
            &self.department,
            &self.channel,
            &self.subtype,
        ] {
            names.extend(single.iter().cloned());
        }
        if let Some((lat, long)) = &self.coordinates {
            names.push(lat.clone());
            names.push(long.clone());
        }
        names
    }
}

/// `Unique Key`, `unique_key` and `UNIQUE-KEY` are one column: lower case,
/// runs of anything but letters and digits become one `_`.
pub(crate) fn normalize_column_name(name: &str) -> String {
    let mut normalized = String::with_capacity(name.len());
    let mut separator_pending = false;
    for character in name.chars() {
        if character.is_alphanumeric() {
            if separator_pending && !normalized.is_empty() {
                normalized.push('_');
            }
            separator_pending = false;
            normalized.extend(character.to_lowercase());
        } else {
            separator_pending = true;
        }
    }
    normalized
}

/// One open-data export citydesk reads without a mapping file.
struct BuiltIn {
    schema: Schema,
    name: &'static str,
    /// Columns whose presence identifies the export.
    signature: &'static [&'static str],
    /// Every column of the export, used or not.
    known: &'static [&'static str],
    source_id: &'static str,
    service: &'static str,
    text: &'static [&'static str],
    created_at: Option<&'static str>,
    closed_at: Option<&'static str>,
    due_at: Option<&'static str>,
    status: Option<&'static str>,
    department: Option<&'static str>,
    district: &'static [&'static str],
    coordinates: Option<(&'static str, &'static str)>,
    channel: Option<&'static str>,
    subtype: Option<&'static str>,
    dates: fn() -> DateLayouts,
    empty_markers: &'static [&'static str],
}

impl BuiltIn {
    fn field_columns(&self) -> FieldColumns {
        let owned = |name: &&str| (*name).to_owned();
        FieldColumns {
            source_id: self.source_id.to_owned(),
            service: self.service.to_owned(),
            text: self.text.iter().map(owned).collect(),
            created_at: self.created_at.as_ref().map(owned),
            closed_at: self.closed_at.as_ref().map(owned),
            due_at: self.due_at.as_ref().map(owned),
            status: self.status.as_ref().map(owned),
            department: self.department.as_ref().map(owned),
            district: self.district.iter().map(owned).collect(),
            coordinates: self
                .coordinates
                .map(|(lat, long)| (lat.to_owned(), long.to_owned())),
            channel: self.channel.as_ref().map(owned),
            subtype: self.subtype.as_ref().map(owned),
        }
    }
}

/// Detection tries these in order; no header has two signatures (NYC has
/// `agency` and no `category`, San Francisco the other way round).
static BUILT_INS: [BuiltIn; 4] = [NYC, SAN_FRANCISCO, BOSTON, OPEN311_BULK];

/// Every column of the NYC export, in its order.
pub(crate) const NYC_COLUMNS: [&str; 41] = [
    "Unique Key",
    "Created Date",
    "Closed Date",
    "Agency",
    "Agency Name",
    "Complaint Type",
    "Descriptor",
    "Location Type",
    "Incident Zip",
    "Incident Address",
    "Street Name",
    "Cross Street 1",
    "Cross Street 2",
    "Intersection Street 1",
    "Intersection Street 2",
    "Address Type",
    "City",
    "Landmark",
    "Facility Type",
    "Status",
    "Due Date",
    "Resolution Description",
    "Resolution Action Updated Date",
    "Community Board",
    "BBL",
    "Borough",
    "X Coordinate (State Plane)",
    "Y Coordinate (State Plane)",
    "Open Data Channel Type",
    "Park Facility Name",
    "Park Borough",
    "Vehicle Type",
    "Taxi Company Borough",
    "Taxi Pick Up Location",
    "Bridge Highway Name",
    "Bridge Highway Direction",
    "Road Ramp",
    "Bridge Highway Segment",
    "Latitude",
    "Longitude",
    "Location",
];

const NYC: BuiltIn = BuiltIn {
    schema: Schema::Nyc,
    name: "nyc",
    signature: &["Unique Key", "Complaint Type", "Descriptor", "Agency"],
    known: &NYC_COLUMNS,
    source_id: "Unique Key",
    service: "Complaint Type",
    text: &["Descriptor", "Location Type"],
    created_at: Some("Created Date"),
    closed_at: Some("Closed Date"),
    due_at: Some("Due Date"),
    status: Some("Status"),
    department: Some("Agency"),
    district: &["Borough"],
    coordinates: Some(("Latitude", "Longitude")),
    channel: Some("Open Data Channel Type"),
    subtype: Some("Descriptor"),
    dates: DateLayouts::nyc,
    // NYC writes "Unspecified" where it knows no borough, park, etc.
    empty_markers: &["Unspecified"],
};

const SAN_FRANCISCO: BuiltIn = BuiltIn {
    schema: Schema::SanFrancisco,
    name: "sf",
    signature: &["unique_key", "created_date", "category", "agency_name"],
    known: &[
        "unique_key",
        "created_date",
        "closed_date",
        "resolution_action_updated_date",
        "status",
        "status_notes",
        "agency_name",
        "category",
        "complaint_type",
        "descriptor",
        "incident_address",
        "supervisor_district",
        "neighborhood",
        "location",
        "source",
        "media_url",
        "latitude",
        "longitude",
        "police_district",
    ],
    source_id: "unique_key",
    service: "category",
    // status_notes is the city's reply, not what the citizen wrote.
    text: &["complaint_type", "descriptor"],
    created_at: Some("created_date"),
    closed_at: Some("closed_date"),
    due_at: None,
    status: Some("status"),
    department: Some("agency_name"),
    district: &["supervisor_district", "neighborhood"],
    coordinates: Some(("latitude", "longitude")),
    channel: Some("source"),
    subtype: Some("complaint_type"),
    dates: DateLayouts::san_francisco,
    empty_markers: &[],
};

const BOSTON: BuiltIn = BuiltIn {
    schema: Schema::Boston,
    name: "boston",
    signature: &["case_enquiry_id", "open_dt", "type", "case_title"],
    known: &[
        "case_enquiry_id",
        "open_dt",
        "target_dt",
        "closed_dt",
        "ontime",
        "case_status",
        "closure_reason",
        "case_title",
        "subject",
        "reason",
        "type",
        "queue",
        "department",
        "submittedphoto",
        "closedphoto",
        "location",
        "fire_district",
        "pwd_district",
        "city_council_district",
        "police_district",
        "neighborhood",
        "neighborhood_services_district",
        "ward",
        "precinct",
        "location_street_name",
        "location_zipcode",
        "latitude",
        "longitude",
        "source",
    ],
    source_id: "case_enquiry_id",
    service: "type",
    text: &["case_title"],
    created_at: Some("open_dt"),
    closed_at: Some("closed_dt"),
    due_at: Some("target_dt"),
    status: Some("case_status"),
    // `subject` names the department ("Public Works Department"); the
    // `department` column holds a queue prefix such as "PWDx".
    department: Some("subject"),
    district: &["neighborhood"],
    coordinates: Some(("latitude", "longitude")),
    channel: Some("source"),
    subtype: Some("case_title"),
    dates: DateLayouts::boston,
    empty_markers: &[],
};

const OPEN311_BULK: BuiltIn = BuiltIn {
    schema: Schema::Open311Bulk,
    name: "open311",
    signature: &["service_request_id", "service_name", "requested_datetime"],
    known: &[
        "service_request_id",
        "requested_datetime",
        "updated_datetime",
        "closed_date",
        "status_description",
        "status_notes",
        "source",
        "service_name",
        "service_subtype",
        "description",
        "agency_responsible",
        "address",
        "lat",
        "long",
    ],
    source_id: "service_request_id",
    service: "service_name",
    text: &["service_subtype", "description"],
    created_at: Some("requested_datetime"),
    closed_at: Some("closed_date"),
    due_at: None,
    status: Some("status_description"),
    department: Some("agency_responsible"),
    district: &[],
    coordinates: Some(("lat", "long")),
    channel: Some("source"),
    subtype: Some("service_subtype"),
    dates: DateLayouts::open311,
    empty_markers: &[],
};

/// A city's description of an export citydesk does not know, read from a
/// small TOML file:
///
/// ```toml
/// name = "gdansk-legacy"
/// [columns]
/// source_id = "ID"                 # required
/// service = "Kategoria"            # required: the label to learn
/// text = ["Opis", "Tytul"]         # one column or several, joined
/// created_at = "Data zgloszenia"   # also closed_at, due_at
/// status = "Status"
/// department = "Jednostka"
/// district = "Dzielnica"           # one column or several: first non-empty
/// lat = "Szer"                     # lat and long go together
/// long = "Dl"
/// channel = "Kanal"
/// subtype = "Podkategoria"         # the finer category, routes learn by it
/// [formats]
/// datetime = "%d.%m.%Y %H:%M"      # strftime; one or several; ISO 8601 always works
/// delimiter = ";"                  # default ","
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Mapping {
    name: String,
    /// Boxed: it is most of a mapping's size, and a [`Schema`] is usually built-in.
    columns: Box<FieldColumns>,
    dates: DateLayouts,
    delimiter: u8,
}

impl Mapping {
    /// Parses and checks a mapping file: required keys, lat with long, a
    /// one-byte delimiter, datetime formats that describe a date and time.
    /// Whether the columns exist is checked against the header when reading.
    pub fn from_toml(text: &str) -> Result<Self, SchemaError> {
        let file: MappingFile = toml::from_str(text).map_err(SchemaError::MappingSyntax)?;

        let name = file.name.trim().to_owned();
        if name.is_empty() {
            return Err(SchemaError::MappingValue {
                key: "name",
                problem: "is empty".to_owned(),
            });
        }
        if Schema::built_in(&name).is_some() {
            return Err(SchemaError::MappingValue {
                key: "name",
                problem: format!(
                    "is {name:?}, the name of a built-in schema; records would be mistaken for that export's"
                ),
            });
        }

        let columns = file.columns;
        let source_id = required_column("columns.source_id", columns.source_id)?;
        let service = required_column("columns.service", columns.service)?;
        let coordinates = match (columns.lat, columns.long) {
            (Some(lat), Some(long)) => Some((
                column_name("columns.lat", lat)?,
                column_name("columns.long", long)?,
            )),
            (None, None) => None,
            (Some(_), None) => {
                return Err(SchemaError::MappingValue {
                    key: "columns.lat",
                    problem: "is set without columns.long; name both or neither".to_owned(),
                });
            }
            (None, Some(_)) => {
                return Err(SchemaError::MappingValue {
                    key: "columns.long",
                    problem: "is set without columns.lat; name both or neither".to_owned(),
                });
            }
        };
        let columns = FieldColumns {
            source_id,
            service,
            text: column_list("columns.text", columns.text)?,
            created_at: optional_column("columns.created_at", columns.created_at)?,
            closed_at: optional_column("columns.closed_at", columns.closed_at)?,
            due_at: optional_column("columns.due_at", columns.due_at)?,
            status: optional_column("columns.status", columns.status)?,
            department: optional_column("columns.department", columns.department)?,
            district: column_list("columns.district", columns.district)?,
            coordinates,
            channel: optional_column("columns.channel", columns.channel)?,
            subtype: optional_column("columns.subtype", columns.subtype)?,
        };

        let dates = match file.formats.datetime {
            None => DateLayouts::mapping_default(),
            Some(layouts) => {
                let layouts = layouts.into_vec();
                if layouts.is_empty() {
                    return Err(SchemaError::MappingValue {
                        key: "formats.datetime",
                        problem: "is an empty list; leave it out to accept the default layouts"
                            .to_owned(),
                    });
                }
                DateLayouts::from_mapping(layouts)
                    .map_err(|(format, problem)| SchemaError::DateFormat { format, problem })?
            }
        };

        let delimiter = match file.formats.delimiter {
            None => b',',
            Some(delimiter) => parse_delimiter(&delimiter)?,
        };

        Ok(Mapping {
            name,
            columns: Box::new(columns),
            dates,
            delimiter,
        })
    }

    /// Records read with this mapping carry it as their `source`.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn delimiter(&self) -> u8 {
        self.delimiter
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    name: String,
    columns: MappingColumns,
    #[serde(default)]
    formats: MappingFormats,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingColumns {
    source_id: Option<String>,
    service: Option<String>,
    text: Option<OneOrMany>,
    created_at: Option<String>,
    closed_at: Option<String>,
    due_at: Option<String>,
    status: Option<String>,
    department: Option<String>,
    district: Option<OneOrMany>,
    lat: Option<String>,
    long: Option<String>,
    channel: Option<String>,
    subtype: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFormats {
    datetime: Option<OneOrMany>,
    delimiter: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(one) => vec![one],
            OneOrMany::Many(many) => many,
        }
    }
}

fn required_column(key: &'static str, name: Option<String>) -> Result<String, SchemaError> {
    match name {
        Some(name) => column_name(key, name),
        None => Err(SchemaError::MappingValue {
            key,
            problem: "is missing; every record needs it".to_owned(),
        }),
    }
}

fn optional_column(key: &'static str, name: Option<String>) -> Result<Option<String>, SchemaError> {
    name.map(|name| column_name(key, name)).transpose()
}

fn column_list(key: &'static str, names: Option<OneOrMany>) -> Result<Vec<String>, SchemaError> {
    names
        .map_or_else(Vec::new, OneOrMany::into_vec)
        .into_iter()
        .map(|name| column_name(key, name))
        .collect()
}

fn column_name(key: &'static str, name: String) -> Result<String, SchemaError> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(SchemaError::MappingValue {
            key,
            problem: "names an empty column".to_owned(),
        });
    }
    Ok(trimmed.to_owned())
}

fn parse_delimiter(delimiter: &str) -> Result<u8, SchemaError> {
    match delimiter.as_bytes() {
        [byte] if byte.is_ascii() && !matches!(byte, b'"' | b'\n' | b'\r') => Ok(*byte),
        _ => Err(SchemaError::MappingValue {
            key: "formats.delimiter",
            problem: format!(
                "is {delimiter:?}; it must be one ASCII character other than a quote or a line break"
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_compare_without_case_or_punctuation() {
        assert_eq!(normalize_column_name("Unique Key"), "unique_key");
        assert_eq!(normalize_column_name("unique_key"), "unique_key");
        assert_eq!(
            normalize_column_name(" X Coordinate (State Plane) "),
            "x_coordinate_state_plane"
        );
        assert_eq!(normalize_column_name("Data zgłoszenia"), "data_zgłoszenia");
    }

    #[test]
    fn every_built_in_is_found_by_its_name_and_its_own_columns() {
        for built_in in &BUILT_INS {
            assert_eq!(
                Schema::built_in(built_in.name),
                Some(built_in.schema.clone())
            );
            assert_eq!(built_in.schema.name(), built_in.name);
            assert_eq!(
                Schema::detect(built_in.known.iter().copied()),
                Some(built_in.schema.clone()),
                "{}",
                built_in.name
            );
            let known: HashSet<String> = built_in
                .known
                .iter()
                .map(|name| normalize_column_name(name))
                .collect();
            for used in built_in.schema.field_columns().all_names() {
                assert!(
                    known.contains(&normalize_column_name(&used)),
                    "{} uses {used} but does not list it as known",
                    built_in.name
                );
            }
        }
    }

    #[test]
    fn nyc_api_export_with_snake_case_names_is_nyc() {
        let header = [
            "unique_key",
            "created_date",
            "agency",
            "agency_name",
            "complaint_type",
            "descriptor",
        ];
        assert_eq!(Schema::detect(header), Some(Schema::Nyc));
    }

    #[test]
    fn delimiter_must_be_one_plain_byte() {
        assert_eq!(parse_delimiter(";").ok(), Some(b';'));
        assert_eq!(parse_delimiter("\t").ok(), Some(b'\t'));
        assert!(parse_delimiter(";;").is_err());
        assert!(parse_delimiter("\"").is_err());
        assert!(parse_delimiter("§").is_err());
        assert!(parse_delimiter("").is_err());
    }
}
