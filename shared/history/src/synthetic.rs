//! [`write_synthetic_nyc`]: as many NYC-shaped rows as a scale test needs,
//! the same bytes for the same seed, never committed to the repository.

use std::io::{self, Write};

use crate::schema::NYC_COLUMNS;

/// The first `Unique Key` written; keys count up from it.
const FIRST_UNIQUE_KEY: u64 = 60_000_000;
const SECONDS_PER_DAY: u64 = 86_400;
/// Days of 2022, the year every synthetic request is created in.
const DAYS_IN_2022: u64 = 365;
const DAYS_PER_MONTH_2022: [u64; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/// Longest time a synthetic request stays open before it is closed.
const LONGEST_OPEN_SECONDS: u64 = 6 * SECONDS_PER_DAY;
/// Share of rows, in percent, that are closed.
const CLOSED_PERCENT: u64 = 55;
/// One row in this many has no coordinates, as in the real export.
const ONE_WITHOUT_LOCATION_IN: u64 = 50;

/// Writes a header and `rows` rows in the NYC open-data schema: 33 complaint
/// types with their descriptors and agencies, five boroughs with coordinates
/// and ZIP codes inside them, creation dates throughout 2022 (local time),
/// about half of the requests closed. Every row is valid; the same `seed`
/// always gives the same bytes.
pub fn write_synthetic_nyc(out: impl Write, rows: u64, seed: u64) -> io::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(NYC_COLUMNS)?;
    let mut random = SplitMix64::new(seed);
    for index in 0..rows {
        let row = SyntheticRow::generate(&mut random, FIRST_UNIQUE_KEY + index);
        writer.write_record(row.cells())?;
    }
    writer.flush()?;
    Ok(())
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough to make
/// test data look varied.
struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut mixed = self.state;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        mixed ^ (mixed >> 31)
    }

    /// A number in `0..bound` (`bound` > 0).
    fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }

    /// A number in `low..high`, with 2⁻⁵³ resolution.
    fn between(&mut self, low: f64, high: f64) -> f64 {
        let unit = (self.next_u64() >> 11) as f64 / (1_u64 << 53) as f64;
        low + unit * (high - low)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        let len = u64::try_from(items.len()).ok()?;
        let index = usize::try_from(self.below(len)).ok()?;
        items.get(index)
    }

    fn pick_str(&mut self, items: &[&'static str]) -> &'static str {
        self.pick(items).copied().unwrap_or_default()
    }
}

struct ComplaintType {
    name: &'static str,
    agency: &'static str,
    descriptors: &'static [&'static str],
    location_types: &'static [&'static str],
}

const HOME: &[&str] = &["Residential Building/House", "RESIDENTIAL BUILDING"];
const STREET: &[&str] = &["Street/Sidewalk", "Street", "Sidewalk"];
const PUBLIC: &[&str] = &[
    "Street/Sidewalk",
    "Store/Commercial",
    "Club/Bar/Restaurant",
    "Park/Playground",
];
const NONE: &[&str] = &[];

const COMPLAINT_TYPES: &[ComplaintType] = &[
    complaint(
        "Noise - Residential",
        "NYPD",
        &[
            "Loud Music/Party",
            "Banging/Pounding",
            "Loud Talking",
            "Loud Television",
        ],
        HOME,
    ),
    complaint(
        "Noise - Street/Sidewalk",
        "NYPD",
        &["Loud Music/Party", "Loud Talking"],
        STREET,
    ),
    complaint(
        "Noise - Commercial",
        "NYPD",
        &["Loud Music/Party", "Banging/Pounding", "Loud Talking"],
        PUBLIC,
    ),
    complaint(
        "Noise - Vehicle",
        "NYPD",
        &["Car/Truck Music", "Car/Truck Horn", "Engine Idling"],
        STREET,
    ),
    complaint(
        "Illegal Parking",
        "NYPD",
        &[
            "Blocked Hydrant",
            "Double Parked Blocking Traffic",
            "Blocked Sidewalk",
            "Posted Parking Sign Violation",
            "Commercial Overnight Parking",
        ],
        STREET,
    ),
    complaint(
        "Blocked Driveway",
        "NYPD",
        &["No Access", "Partial Access"],
        STREET,
    ),
    complaint(
        "Abandoned Vehicle",
        "NYPD",
        &["With License Plate", "No License Plate"],
        STREET,
    ),
    complaint(
        "Non-Emergency Police Matter",
        "NYPD",
        &["Trespassing", "Other (complaint details)", "Panhandling"],
        PUBLIC,
    ),
    complaint(
        "Noise",
        "DEP",
        &[
            "Noise: Construction Before/After Hours (NM1)",
            "Noise: Jack Hammering (NC2)",
            "Noise: Alarms (NR3)",
        ],
        PUBLIC,
    ),
    complaint(
        "Water System",
        "DEP",
        &[
            "Hydrant Running (WC3)",
            "No Water (WNW)",
            "Leak (Use Comments) (WA2)",
        ],
        STREET,
    ),
    complaint(
        "Sewer",
        "DEP",
        &[
            "Sewer Backup (Use Comments) (SA)",
            "Catch Basin Clogged/Flooding (Use Comments) (SC)",
            "Manhole Cover Missing (Emergency) (SA3)",
        ],
        STREET,
    ),
    complaint(
        "HEAT/HOT WATER",
        "HPD",
        &["ENTIRE BUILDING", "APARTMENT ONLY"],
        HOME,
    ),
    complaint(
        "PLUMBING",
        "HPD",
        &["WATER SUPPLY", "LEAKY FAUCET", "TOILET", "BATHTUB/SHOWER"],
        HOME,
    ),
    complaint("PAINT/PLASTER", "HPD", &["WALL", "CEILING"], HOME),
    complaint(
        "UNSANITARY CONDITION",
        "HPD",
        &["PESTS", "MOLD", "GARBAGE"],
        HOME,
    ),
    complaint(
        "DOOR/WINDOW",
        "HPD",
        &["DOOR", "WINDOW GLASS", "WINDOW FRAME"],
        HOME,
    ),
    complaint(
        "Street Condition",
        "DOT",
        &[
            "Pothole",
            "Cave-in",
            "Defective Hardware",
            "Rough, Pitted or Cracked Roads",
        ],
        STREET,
    ),
    complaint(
        "Street Light Condition",
        "DOT",
        &[
            "Street Light Out",
            "Street Light Cycling",
            "Lamppost Damaged",
        ],
        NONE,
    ),
    complaint(
        "Traffic Signal Condition",
        "DOT",
        &["Controller", "Ped Flasher", "Veh Signal Lamp"],
        NONE,
    ),
    complaint(
        "Sidewalk Condition",
        "DOT",
        &["Broken Sidewalk", "Sidewalk Collapsed"],
        STREET,
    ),
    complaint(
        "Dirty Condition",
        "DSNY",
        &["Trash", "Litter", "Dumping - Illegal"],
        STREET,
    ),
    complaint(
        "Missed Collection",
        "DSNY",
        &[
            "Trash",
            "Recycling - Paper",
            "Recycling - Metal/Glass/Plastic",
        ],
        HOME,
    ),
    complaint(
        "Derelict Vehicles",
        "DSNY",
        &["Derelict Vehicles", "Derelict Vehicle - No Plates"],
        STREET,
    ),
    complaint(
        "Illegal Dumping",
        "DSNY",
        &["Removal Request", "Surveillance Request"],
        STREET,
    ),
    complaint(
        "Rodent",
        "DOHMH",
        &[
            "Rat Sighting",
            "Mouse Sighting",
            "Condition Attracting Rodents",
        ],
        HOME,
    ),
    complaint(
        "Food Establishment",
        "DOHMH",
        &[
            "Food Contaminated",
            "Rodents/Insects/Garbage",
            "Food Worker Illness",
        ],
        PUBLIC,
    ),
    complaint(
        "Damaged Tree",
        "DPR",
        &[
            "Branch Cracked and Will Fall",
            "Tree Leaning/Uprooted",
            "Entire Tree Has Fallen Down",
        ],
        STREET,
    ),
    complaint(
        "Overgrown Tree/Branches",
        "DPR",
        &["Blocking Street", "Hitting Building", "Blocking Sign"],
        STREET,
    ),
    complaint(
        "Taxi Complaint",
        "TLC",
        &[
            "Driver Complaint - Passenger",
            "Car Service Company Complaint",
        ],
        STREET,
    ),
    complaint(
        "Homeless Person Assistance",
        "DHS",
        &["Chronic", "Non-Chronic"],
        PUBLIC,
    ),
    complaint(
        "Elevator",
        "DOB",
        &[
            "Elevator - Defective/Not Working",
            "Elevator - Dangerous Condition",
        ],
        HOME,
    ),
    complaint(
        "Building/Use",
        "DOB",
        &[
            "Illegal Conversion Of Residential Building/Space",
            "Illegal Conversion Of Commercial Bldg/Space",
        ],
        HOME,
    ),
    complaint(
        "Consumer Complaint",
        "DCWP",
        &["Overcharge", "False Advertising", "Non-Delivery Goods"],
        PUBLIC,
    ),
];

const fn complaint(
    name: &'static str,
    agency: &'static str,
    descriptors: &'static [&'static str],
    location_types: &'static [&'static str],
) -> ComplaintType {
    ComplaintType {
        name,
        agency,
        descriptors,
        location_types,
    }
}

fn agency_name(agency: &str) -> &'static str {
    match agency {
        "NYPD" => "New York City Police Department",
        "DEP" => "Department of Environmental Protection",
        "HPD" => "Department of Housing Preservation and Development",
        "DOT" => "Department of Transportation",
        "DSNY" => "Department of Sanitation",
        "DOHMH" => "Department of Health and Mental Hygiene",
        "DPR" => "Department of Parks and Recreation",
        "TLC" => "Taxi and Limousine Commission",
        "DHS" => "Department of Homeless Services",
        "DOB" => "Department of Buildings",
        "DCWP" => "Department of Consumer and Worker Protection",
        _ => "",
    }
}

struct Borough {
    name: &'static str,
    /// What NYC writes in `City` for addresses there.
    city: &'static str,
    latitude: (f64, f64),
    longitude: (f64, f64),
    zip: (u64, u64),
    community_boards: u64,
    streets: &'static [&'static str],
}

/// Boxes inside each borough; all of them lie within NYC's bounds
/// (latitude 40.49–40.92, longitude −74.26–−73.69).
const BOROUGHS: &[Borough] = &[
    Borough {
        name: "MANHATTAN",
        city: "NEW YORK",
        latitude: (40.71, 40.86),
        longitude: (-74.01, -73.93),
        zip: (10001, 10040),
        community_boards: 12,
        streets: &[
            "BROADWAY",
            "AMSTERDAM AVENUE",
            "WEST 127 STREET",
            "LEXINGTON AVENUE",
            "EAST 86 STREET",
            "ST NICHOLAS AVENUE",
        ],
    },
    Borough {
        name: "BROOKLYN",
        city: "BROOKLYN",
        latitude: (40.59, 40.70),
        longitude: (-74.00, -73.87),
        zip: (11201, 11239),
        community_boards: 18,
        streets: &[
            "FLATBUSH AVENUE",
            "OCEAN PARKWAY",
            "FULTON STREET",
            "ATLANTIC AVENUE",
            "EASTERN PARKWAY",
            "BEDFORD AVENUE",
        ],
    },
    Borough {
        name: "QUEENS",
        city: "QUEENS",
        latitude: (40.58, 40.78),
        longitude: (-73.90, -73.72),
        zip: (11354, 11436),
        community_boards: 14,
        streets: &[
            "QUEENS BOULEVARD",
            "NORTHERN BOULEVARD",
            "JAMAICA AVENUE",
            "ROOSEVELT AVENUE",
            "HILLSIDE AVENUE",
        ],
    },
    Borough {
        name: "BRONX",
        city: "BRONX",
        latitude: (40.81, 40.89),
        longitude: (-73.91, -73.80),
        zip: (10451, 10475),
        community_boards: 12,
        streets: &[
            "GRAND CONCOURSE",
            "GERARD AVENUE",
            "EAST TREMONT AVENUE",
            "WHITE PLAINS ROAD",
            "FORDHAM ROAD",
        ],
    },
    Borough {
        name: "STATEN ISLAND",
        city: "STATEN ISLAND",
        latitude: (40.53, 40.63),
        longitude: (-74.20, -74.07),
        zip: (10301, 10314),
        community_boards: 3,
        streets: &[
            "RICHMOND AVENUE",
            "HYLAN BOULEVARD",
            "VICTORY BOULEVARD",
            "FOREST AVENUE",
        ],
    },
];

const CHANNELS: &[&str] = &["ONLINE", "MOBILE", "PHONE", "PHONE", "UNKNOWN"];
const OPEN_STATUSES: &[&str] = &["In Progress", "Open", "Assigned", "Started"];

/// One generated request, as the 41 cells of an NYC row.
struct SyntheticRow {
    cells: Vec<String>,
}

impl SyntheticRow {
    fn generate(random: &mut SplitMix64, unique_key: u64) -> Self {
        let complaint = random.pick(COMPLAINT_TYPES).unwrap_or(&COMPLAINT_TYPES[0]);
        let borough = random.pick(BOROUGHS).unwrap_or(&BOROUGHS[0]);
        let descriptor = random.pick_str(complaint.descriptors);
        let location_type = random.pick_str(complaint.location_types);

        let created = random.below(DAYS_IN_2022 * SECONDS_PER_DAY);
        let closed = (random.below(100) < CLOSED_PERCENT).then(|| {
            let open_for = 60 + random.below(LONGEST_OPEN_SECONDS);
            (created + open_for).min(DAYS_IN_2022 * SECONDS_PER_DAY - 1)
        });
        let status = match closed {
            Some(_) => "Closed",
            None => random.pick_str(OPEN_STATUSES),
        };
        let closed_text = closed.map(nyc_datetime).unwrap_or_default();
        let resolution = if closed.is_some() {
            format!(
                "The {} responded to the complaint and took action to fix the condition.",
                agency_name(complaint.agency)
            )
        } else {
            String::new()
        };

        let street = random.pick_str(borough.streets);
        let cross_streets = (
            random.pick_str(borough.streets),
            random.pick_str(borough.streets),
        );
        let house_number = 1 + random.below(2_500);
        let zip = borough.zip.0 + random.below(borough.zip.1 - borough.zip.0 + 1);
        let community_board = 1 + random.below(borough.community_boards);
        let channel = random.pick_str(CHANNELS);

        let latitude = random.between(borough.latitude.0, borough.latitude.1);
        let longitude = random.between(borough.longitude.0, borough.longitude.1);
        let located = random.below(ONE_WITHOUT_LOCATION_IN) != 0;
        let (latitude, longitude, state_plane, location) = if located {
            let (x, y) = state_plane_feet(latitude, longitude);
            (
                format!("{latitude:.8}"),
                format!("{longitude:.8}"),
                (x.to_string(), y.to_string()),
                format!("({latitude:.8}, {longitude:.8})"),
            )
        } else {
            Default::default()
        };

        let cells = vec![
            unique_key.to_string(),
            nyc_datetime(created),
            closed_text.clone(),
            complaint.agency.to_owned(),
            agency_name(complaint.agency).to_owned(),
            complaint.name.to_owned(),
            descriptor.to_owned(),
            location_type.to_owned(),
            zip.to_string(),
            format!("{house_number} {street}"),
            street.to_owned(),
            cross_streets.0.to_owned(),
            cross_streets.1.to_owned(),
            String::new(),
            String::new(),
            "ADDRESS".to_owned(),
            borough.city.to_owned(),
            street.to_owned(),
            String::new(),
            status.to_owned(),
            String::new(),
            resolution,
            closed_text,
            format!("{community_board:02} {}", borough.name),
            String::new(),
            borough.name.to_owned(),
            state_plane.0,
            state_plane.1,
            channel.to_owned(),
            "Unspecified".to_owned(),
            borough.name.to_owned(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            latitude,
            longitude,
            location,
        ];
        SyntheticRow { cells }
    }

    fn cells(&self) -> &[String] {
        &self.cells
    }
}

/// A moment of 2022, given in seconds from its start, as NYC writes local
/// times: `05/01/2022 12:00:03 AM`.
fn nyc_datetime(seconds_into_2022: u64) -> String {
    let mut day_of_year = seconds_into_2022 / SECONDS_PER_DAY;
    let mut month = 1;
    for days in DAYS_PER_MONTH_2022 {
        if day_of_year < days {
            break;
        }
        day_of_year -= days;
        month += 1;
    }
    let day = day_of_year + 1;
    let second_of_day = seconds_into_2022 % SECONDS_PER_DAY;
    let hour = second_of_day / 3_600;
    let minute = second_of_day % 3_600 / 60;
    let second = second_of_day % 60;
    let (hour_12, meridiem) = match hour {
        0 => (12, "AM"),
        1..=11 => (hour, "AM"),
        12 => (12, "PM"),
        _ => (hour - 12, "PM"),
    };
    format!("{month:02}/{day:02}/2022 {hour_12:02}:{minute:02}:{second:02} {meridiem}")
}

/// A rough New York–Long Island State Plane position in feet, good enough
/// for plausible-looking `X/Y Coordinate (State Plane)` cells.
fn state_plane_feet(latitude: f64, longitude: f64) -> (i64, i64) {
    const ORIGIN_LATITUDE: f64 = 40.7478;
    const ORIGIN_LONGITUDE: f64 = -73.9654;
    const FEET_PER_DEGREE_LATITUDE: f64 = 364_000.0;
    const FEET_PER_DEGREE_LONGITUDE: f64 = 276_100.0;
    let x = 990_000.0 + (longitude - ORIGIN_LONGITUDE) * FEET_PER_DEGREE_LONGITUDE;
    let y = 212_000.0 + (latitude - ORIGIN_LATITUDE) * FEET_PER_DEGREE_LATITUDE;
    (x.round() as i64, y.round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nyc_datetime_writes_twelve_hour_clock_and_month_ends() {
        assert_eq!(nyc_datetime(0), "01/01/2022 12:00:00 AM");
        assert_eq!(nyc_datetime(12 * 3_600 + 5), "01/01/2022 12:00:05 PM");
        assert_eq!(
            nyc_datetime(31 * SECONDS_PER_DAY + 13 * 3_600),
            "02/01/2022 01:00:00 PM"
        );
        assert_eq!(
            nyc_datetime(DAYS_IN_2022 * SECONDS_PER_DAY - 1),
            "12/31/2022 11:59:59 PM"
        );
    }

    #[test]
    fn complaint_types_are_varied_and_each_has_an_agency_and_descriptors() {
        assert!((20..=40).contains(&COMPLAINT_TYPES.len()));
        for complaint in COMPLAINT_TYPES {
            assert!(
                (2..=5).contains(&complaint.descriptors.len()),
                "{}",
                complaint.name
            );
            assert!(
                !agency_name(complaint.agency).is_empty(),
                "{}",
                complaint.agency
            );
        }
    }

    #[test]
    fn splitmix_is_seeded() {
        let first: Vec<u64> = {
            let mut random = SplitMix64::new(7);
            (0..4).map(|_| random.next_u64()).collect()
        };
        let again: Vec<u64> = {
            let mut random = SplitMix64::new(7);
            (0..4).map(|_| random.next_u64()).collect()
        };
        let other: Vec<u64> = {
            let mut random = SplitMix64::new(8);
            (0..4).map(|_| random.next_u64()).collect()
        };
        assert_eq!(first, again);
        assert_ne!(first, other);
    }
}
