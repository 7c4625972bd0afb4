//! The city's address list, for offline geocoding: an `address_string` such as
//! "ul. Długa 10, Kraków" becomes a point, and a point gets the nearest address.
//!
//! Matching forgives case, diacritics, punctuation and the street-type words
//! people add or drop ("ul.", "ulica", "al.", "aleja", "os.", "pl."…): "DLUGA 10"
//! and "ulica Długa 10" both find "ul. Długa 10". A number the list does not
//! have falls back to the nearest number of that street; an unknown street finds
//! nothing (no guessing across streets).

use std::collections::HashMap;

use rstar::{AABB, PointDistance, RTree, RTreeObject};
use serde::{Deserialize, Serialize};

use crate::location::GeoPoint;
use crate::rules::text::fold;

/// One line of the city's address list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Address {
    /// As the city writes it, e.g. `ul. Długa`.
    pub street: String,
    /// House number, e.g. `10`, `10a`.
    pub number: String,
    pub lat: f64,
    pub long: f64,
}

impl Address {
    pub fn label(&self) -> String {
        format!("{} {}", self.street, self.number)
    }
    pub fn point(&self) -> GeoPoint {
        GeoPoint {
            lat: self.lat,
            long: self.long,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AddressListError {
    #[error("addresses.csv line {line}: {reason}")]
    Line { line: usize, reason: String },
    #[error("addresses.csv: the header must be street,number,lat,long (found {0:?})")]
    Header(String),
}

/// Parses `street,number,lat,long` rows (header first).
pub fn parse_address_csv(text: &str) -> Result<Vec<Address>, AddressListError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| AddressListError::Header(e.to_string()))?
        .iter()
        .collect::<Vec<_>>()
        .join(",");
    if header != "street,number,lat,long" {
        return Err(AddressListError::Header(header));
    }
    let mut out = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let line = i + 2;
        let fail = |reason: String| AddressListError::Line { line, reason };
        let row = row.map_err(|e| fail(e.to_string()))?;
        let field = |n: usize| row.get(n).unwrap_or("").to_owned();
        let coordinate = |n: usize, name: &str| {
            field(n)
                .parse::<f64>()
                .map_err(|_| fail(format!("{name} {:?} is not a number", field(n))))
        };
        let (lat, long) = (coordinate(2, "lat")?, coordinate(3, "long")?);
        GeoPoint::parse(lat, long).map_err(|e| fail(e.to_string()))?;
        if field(0).is_empty() || field(1).is_empty() {
            return Err(fail("street and number are required".into()));
        }
        out.push(Address {
            street: field(0),
            number: field(1),
            lat,
            long,
        });
    }
    Ok(out)
}

/// Words that name the kind of street, dropped when comparing names.
const STREET_TYPES: &[&str] = &[
    "ul", "ulica", "al", "aleja", "aleje", "os", "osiedle", "pl", "plac", "street", "st", "avenue",
    "ave",
];

/// A street name folded for comparison: `ul. Długa` → `dluga`.
pub fn street_key(street: &str) -> String {
    fold(street)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !STREET_TYPES.contains(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `10`, `10A`, `10/2` → `10a`-style key of the building (flat numbers dropped).
fn number_key(number: &str) -> String {
    fold(number.split('/').next().unwrap_or(number))
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect()
}

fn leading_number(number: &str) -> Option<u32> {
    let digits: String = number.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Splits "ul. Długa 10, Kraków" into (`dluga`, `10`): the part before the first
/// comma, its last word a house number when it starts with a digit.
fn split_address(text: &str) -> Option<(String, String)> {
    let first = text.split(',').next()?.trim();
    let (street, number) = first.rsplit_once(char::is_whitespace)?;
    if !number.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let street = street_key(street);
    (!street.is_empty()).then(|| (street, number_key(number)))
}

#[derive(Debug, Clone)]
struct Located {
    /// Projected: x = long · cos(reference lat), y = lat (degrees), so that
    /// Euclidean nearest is nearest on the ground within a city.
    xy: [f64; 2],
    index: usize,
}

impl RTreeObject for Located {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        AABB::from_point(self.xy)
    }
}

impl PointDistance for Located {
    fn distance_2(&self, point: &[f64; 2]) -> f64 {
        let dx = self.xy[0] - point[0];
        let dy = self.xy[1] - point[1];
        dx * dx + dy * dy
    }
}

/// The address list, indexed by street and by place.
#[derive(Debug, Clone, Default)]
pub struct AddressBook {
    addresses: Vec<Address>,
    by_street: HashMap<String, Vec<usize>>,
    tree: RTree<Located>,
    cos_lat: f64,
}

/// Metres per degree of latitude.
const METRES_PER_DEGREE: f64 = 111_195.0;

/// How far a missing house number may be from the nearest listed one.
const NEAREST_NUMBER_GAP: u32 = 10;

impl AddressBook {
    pub fn new(addresses: Vec<Address>) -> Self {
        let reference_lat = if addresses.is_empty() {
            0.0
        } else {
            addresses.iter().map(|a| a.lat).sum::<f64>() / addresses.len() as f64
        };
        let cos_lat = reference_lat.to_radians().cos();
        let mut by_street: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, a) in addresses.iter().enumerate() {
            by_street.entry(street_key(&a.street)).or_default().push(i);
        }
        let tree = RTree::bulk_load(
            addresses
                .iter()
                .enumerate()
                .map(|(index, a)| Located {
                    xy: [a.long * cos_lat, a.lat],
                    index,
                })
                .collect(),
        );
        Self {
            addresses,
            by_street,
            tree,
            cos_lat,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.addresses.is_empty()
    }

    pub fn len(&self) -> usize {
        self.addresses.len()
    }

    /// The address a citizen typed: exact building, else the nearest number on
    /// the same street; `None` for a street the list does not have.
    pub fn geocode(&self, text: &str) -> Option<&Address> {
        let (street, number) = split_address(text)?;
        let candidates = self.by_street.get(&street)?;
        if let Some(&exact) = candidates
            .iter()
            .find(|&&i| number_key(&self.addresses[i].number) == number)
        {
            return Some(&self.addresses[exact]);
        }
        let wanted = leading_number(&number)?;
        candidates
            .iter()
            .filter_map(|&i| {
                Some((
                    leading_number(&self.addresses[i].number)?.abs_diff(wanted),
                    i,
                ))
            })
            .min()
            // A neighbouring building, not the other end of the street: its
            // point would be wrong enough to link unrelated reports as duplicates.
            .filter(|(gap, _)| *gap <= NEAREST_NUMBER_GAP)
            .map(|(_, i)| &self.addresses[i])
    }

    /// An address written somewhere in a sentence ("dziura przed ul. Długa
    /// 10, od rana"): a house number with the one to three words before it
    /// that name a listed street. `None` when no such pair is there.
    pub fn find_in(&self, text: &str) -> Option<&Address> {
        let words: Vec<&str> = text
            .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
            .filter(|w| !w.is_empty())
            .collect();
        for (end, word) in words.iter().enumerate() {
            if !word.starts_with(|c: char| c.is_ascii_digit()) {
                continue;
            }
            for start in (end.saturating_sub(3)..end).rev() {
                let candidate = words[start..=end].join(" ");
                if let Some(found) = self.geocode(candidate.trim_end_matches(['.', '!', '?'])) {
                    return Some(found);
                }
            }
        }
        None
    }

    /// Addresses for what a resident is typing ("dlug", "Długa 1", "ul. dluga 2"):
    /// streets whose words start with the typed words, then buildings whose
    /// number starts with the typed number, in list order, at most `limit`.
    pub fn suggest(&self, typed: &str, limit: usize) -> Vec<&Address> {
        let typed = typed.split(',').next().unwrap_or("").trim();
        let (street_part, number_part) = match typed.rsplit_once(char::is_whitespace) {
            Some((street, number)) if number.starts_with(|c: char| c.is_ascii_digit()) => {
                (street, number_key(number))
            }
            _ => (typed, String::new()),
        };
        let wanted = street_key(street_part);
        if wanted.is_empty() {
            return Vec::new();
        }
        let wanted: Vec<&str> = wanted.split(' ').collect();
        self.addresses
            .iter()
            .filter(|a| {
                let street = street_key(&a.street);
                let words: Vec<&str> = street.split(' ').collect();
                // Every typed word begins one of the street's words, in order.
                let mut from = 0;
                let street_matches = wanted.iter().all(|w| {
                    match words[from..].iter().position(|s| s.starts_with(w)) {
                        Some(at) => {
                            from += at + 1;
                            true
                        }
                        None => false,
                    }
                });
                street_matches && number_key(&a.number).starts_with(&number_part)
            })
            .take(limit)
            .collect()
    }

    /// The nearest address to a point, with its distance in metres, if one is
    /// within `max_metres`.
    pub fn nearest(&self, point: GeoPoint, max_metres: f64) -> Option<(&Address, f64)> {
        let xy = [point.long * self.cos_lat, point.lat];
        let found = self.tree.nearest_neighbor(&xy)?;
        let metres = found.distance_2(&xy).sqrt() * METRES_PER_DEGREE;
        (metres <= max_metres).then(|| (&self.addresses[found.index], metres))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = "street,number,lat,long
ul. Długa,10,50.0700,19.9350
ul. Długa,20,50.0712,19.9348
al. Adama Mickiewicza,30,50.0660,19.9220
Rynek Główny,1,50.0617,19.9373
";

    #[test]
    fn suggests_streets_and_numbers_as_typed() {
        let book = AddressBook::new(parse_address_csv(LIST).unwrap());
        let labels = |typed: &str| -> Vec<String> {
            book.suggest(typed, 5)
                .into_iter()
                .map(Address::label)
                .collect()
        };
        assert_eq!(labels("dlu"), ["ul. Długa 10", "ul. Długa 20"]);
        assert_eq!(labels("ulica Długa 2"), ["ul. Długa 20"]);
        assert_eq!(labels("mick"), ["al. Adama Mickiewicza 30"]);
        assert_eq!(labels("adama mick"), ["al. Adama Mickiewicza 30"]);
        assert_eq!(labels("rynek g"), ["Rynek Główny 1"]);
        assert!(labels("ul.").is_empty());
        assert!(labels("Zielona").is_empty());
        assert_eq!(book.suggest("dlu", 1).len(), 1);
    }

    #[test]
    fn finds_an_address_inside_a_sentence() {
        let book = AddressBook::new(parse_address_csv(LIST).unwrap());
        let found = |text: &str| book.find_in(text).map(Address::label);
        assert_eq!(
            found("Ogromna dziura w jezdni przed ul. Długa 10, od rana").as_deref(),
            Some("ul. Długa 10")
        );
        assert_eq!(
            found("lampa nie świeci, Adama Mickiewicza 30.").as_deref(),
            Some("al. Adama Mickiewicza 30")
        );
        assert_eq!(found("Rynek Główny 1").as_deref(), Some("Rynek Główny 1"));
        assert_eq!(found("dziura w jezdni od 3 dni"), None);
        assert_eq!(found("Zielona 5"), None);
    }

    #[test]
    fn forgives_case_diacritics_and_street_types() {
        let book = AddressBook::new(parse_address_csv(LIST).unwrap());
        for typed in [
            "ul. Długa 10",
            "ULICA DLUGA 10, Kraków",
            "Długa 10/4",
            "dluga 10",
        ] {
            assert_eq!(
                book.geocode(typed).map(Address::label),
                Some("ul. Długa 10".into()),
                "{typed}"
            );
        }
        assert_eq!(
            book.geocode("Aleja Adama Mickiewicza 30")
                .map(Address::label),
            Some("al. Adama Mickiewicza 30".into())
        );
        // A number the list lacks: the nearest one on that street.
        assert_eq!(
            book.geocode("Długa 18").map(Address::label),
            Some("ul. Długa 20".into())
        );
        assert!(book.geocode("ul. Krótka 5").is_none());
        // The far end of the street is not guessed.
        assert!(book.geocode("Długa 250").is_none());
        assert!(book.geocode("Długa").is_none());
    }

    #[test]
    fn nearest_address_to_a_point() {
        let book = AddressBook::new(parse_address_csv(LIST).unwrap());
        let (near, metres) = book
            .nearest(
                GeoPoint {
                    lat: 50.0702,
                    long: 19.9351,
                },
                100.0,
            )
            .unwrap();
        assert_eq!(near.label(), "ul. Długa 10");
        assert!(metres < 30.0, "{metres}");
        assert!(
            book.nearest(
                GeoPoint {
                    lat: 50.09,
                    long: 19.90
                },
                100.0
            )
            .is_none()
        );
    }

    #[test]
    fn bad_lines_are_named() {
        let err =
            parse_address_csv("street,number,lat,long\nul. Długa,10,north,19.9\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "addresses.csv line 2: lat \"north\" is not a number"
        );
        assert!(parse_address_csv("name,lat\n").is_err());
    }
}
