//! Date cells: the layouts each schema uses, local times read in the city's
//! time zone, values with an offset kept as they are.

use jiff::fmt::strtime;
use jiff::tz::TimeZone;
use jiff::{Timestamp, civil};

/// The moment every example in an error message shows: 2022-05-01 13:47:09.
const EXAMPLE_UNIX_SECONDS: i64 = 1_651_412_829;

/// Socrata's CSV export layout, used by NYC and San Francisco open data.
const SOCRATA_LAYOUT: &str = "%m/%d/%Y %I:%M:%S %p";

/// Layouts a mapping file without `[formats] datetime` accepts besides ISO
/// 8601. Slashed dates are left out on purpose: 03/04/2022 is March in one
/// city and April in the next, so such a file must say which it means.
const MAPPING_DEFAULT_LAYOUTS: [&str; 3] = ["%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y"];

/// The layouts one schema accepts for its date cells, tried in order, then
/// ISO 8601 / RFC 3339 (with or without an offset).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DateLayouts {
    strftime: Vec<String>,
    /// How a good value looks, for the rejection message.
    example: String,
}

impl DateLayouts {
    pub(crate) fn nyc() -> Self {
        DateLayouts {
            strftime: vec![SOCRATA_LAYOUT.to_owned()],
            example: "05/01/2022 12:00:03 AM".to_owned(),
        }
    }

    pub(crate) fn san_francisco() -> Self {
        DateLayouts {
            strftime: vec![SOCRATA_LAYOUT.to_owned()],
            example: "2019-01-01T00:00:00.000".to_owned(),
        }
    }

    pub(crate) fn boston() -> Self {
        DateLayouts {
            strftime: Vec::new(),
            example: "2022-01-21 13:47:00".to_owned(),
        }
    }

    pub(crate) fn open311() -> Self {
        DateLayouts {
            strftime: Vec::new(),
            example: "2022-01-21T13:47:00-05:00".to_owned(),
        }
    }

    pub(crate) fn mapping_default() -> Self {
        DateLayouts {
            strftime: MAPPING_DEFAULT_LAYOUTS
                .iter()
                .map(|&layout| layout.to_owned())
                .collect(),
            example: "2022-05-01 13:47:09 or 01.05.2022 13:47 \
                      (set [formats] datetime in the mapping file for other layouts)"
                .to_owned(),
        }
    }

    /// The layouts a mapping file names, each checked to describe a date and
    /// a time that can be read back.
    pub(crate) fn from_mapping(layouts: Vec<String>) -> Result<Self, (String, String)> {
        let mut examples = Vec::with_capacity(layouts.len());
        for layout in &layouts {
            examples.push(example_of(layout).map_err(|problem| (layout.clone(), problem))?);
        }
        Ok(DateLayouts {
            strftime: layouts,
            example: examples.join(" or "),
        })
    }

    pub(crate) fn example(&self) -> &str {
        &self.example
    }

    /// The moment a trimmed, non-empty cell names, or `None` when no layout
    /// fits. Local values are read in `time_zone`; in a gap or overlap of a
    /// daylight-saving change the earlier reading is taken, like most systems
    /// that wrote such files.
    pub(crate) fn parse(&self, value: &str, time_zone: &TimeZone) -> Option<Timestamp> {
        self.strftime
            .iter()
            .find_map(|layout| parse_with_layout(layout, value, time_zone))
            .or_else(|| parse_iso(value, time_zone))
    }
}

fn parse_with_layout(layout: &str, value: &str, time_zone: &TimeZone) -> Option<Timestamp> {
    let parsed = strtime::parse(layout, value).ok()?;
    if parsed.timestamp().is_some() || parsed.offset().is_some() {
        parsed.to_timestamp().ok()
    } else {
        time_zone.to_timestamp(parsed.to_datetime().ok()?).ok()
    }
}

fn parse_iso(value: &str, time_zone: &TimeZone) -> Option<Timestamp> {
    if let Ok(with_offset) = value.parse::<Timestamp>() {
        return Some(with_offset);
    }
    let local: civil::DateTime = value.parse().ok()?;
    time_zone.to_timestamp(local).ok()
}

/// The example moment written in `layout`, after checking that the text
/// reads back as that day (so the layout has a full date; the time may be
/// coarse or absent, some old systems kept only the day).
fn example_of(layout: &str) -> Result<String, String> {
    let moment = Timestamp::from_second(EXAMPLE_UNIX_SECONDS)
        .map_err(|error| error.to_string())?
        .to_zoned(TimeZone::UTC);
    let example = strtime::format(layout, &moment).map_err(|error| error.to_string())?;
    match parse_with_layout(layout, &example, &TimeZone::UTC) {
        Some(read_back) if read_back.to_zoned(TimeZone::UTC).date() == moment.date() => Ok(example),
        Some(read_back) => Err(format!(
            "{example:?}, written for 2022-05-01 13:47:09, reads back as {read_back}"
        )),
        None => Err(format!(
            "{example:?}, written for 2022-05-01 13:47:09, does not read back as a date"
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn new_york() -> TimeZone {
        TimeZone::get("America/New_York").unwrap()
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn socrata_layout_is_read_in_the_city_time_zone() {
        let layouts = DateLayouts::nyc();
        assert_eq!(
            layouts.parse("05/01/2022 12:00:03 AM", &new_york()),
            Some(at("2022-05-01T04:00:03Z"))
        );
        assert_eq!(
            layouts.parse("01/15/2022 01:30:00 PM", &new_york()),
            Some(at("2022-01-15T18:30:00Z"))
        );
        assert_eq!(layouts.parse("13/45/2022 12:00:03 AM", &new_york()), None);
        assert_eq!(layouts.parse("not a date", &new_york()), None);
    }

    #[test]
    fn iso_values_with_an_offset_keep_it_and_local_ones_take_the_city_zone() {
        let layouts = DateLayouts::open311();
        let zone = new_york();
        assert_eq!(
            layouts.parse("2022-01-21T13:47:00-05:00", &TimeZone::UTC),
            Some(at("2022-01-21T18:47:00Z"))
        );
        assert_eq!(
            layouts.parse("2022-01-21T13:47:00Z", &zone),
            Some(at("2022-01-21T13:47:00Z"))
        );
        assert_eq!(
            layouts.parse("2022-01-21 13:47:00", &zone),
            Some(at("2022-01-21T18:47:00Z"))
        );
        assert_eq!(
            layouts.parse("2019-01-01T00:00:00.000", &zone),
            Some(at("2019-01-01T05:00:00Z"))
        );
    }

    #[test]
    fn a_local_time_skipped_by_daylight_saving_still_reads() {
        // 02:30 did not exist in New York on 2022-03-13.
        assert_eq!(
            DateLayouts::boston().parse("2022-03-13 02:30:00", &new_york()),
            Some(at("2022-03-13T07:30:00Z"))
        );
    }

    #[test]
    fn mapping_layouts_are_checked_and_give_their_example() {
        let layouts = DateLayouts::from_mapping(vec!["%d.%m.%Y %H:%M".to_owned()]).unwrap();
        assert_eq!(layouts.example(), "01.05.2022 13:47");
        assert_eq!(
            layouts.parse("03.02.2021 08:05", &TimeZone::UTC),
            Some(at("2021-02-03T08:05:00Z"))
        );

        let (layout, problem) = DateLayouts::from_mapping(vec!["%H:%M".to_owned()]).unwrap_err();
        assert_eq!(layout, "%H:%M");
        assert!(problem.contains("does not read back"), "{problem}");
        let (_, problem) = DateLayouts::from_mapping(vec!["%m.%Y".to_owned()]).unwrap_err();
        assert!(problem.contains("does not read back"), "{problem}");
        assert!(DateLayouts::from_mapping(vec!["%d.%m.%Y %".to_owned()]).is_err());

        // A day without a time is allowed: midnight, local.
        let layouts = DateLayouts::from_mapping(vec!["%Y%m%d".to_owned()]).unwrap();
        assert_eq!(layouts.example(), "20220501");
        assert_eq!(
            layouts.parse("20210203", &TimeZone::UTC),
            Some(at("2021-02-03T00:00:00Z"))
        );
    }

    #[test]
    fn mapping_default_takes_dotted_and_iso_but_not_slashed_dates() {
        let layouts = DateLayouts::mapping_default();
        assert_eq!(
            layouts.parse("03.02.2021 08:05", &TimeZone::UTC),
            Some(at("2021-02-03T08:05:00Z"))
        );
        assert_eq!(
            layouts.parse("2021-02-03", &TimeZone::UTC),
            Some(at("2021-02-03T00:00:00Z"))
        );
        assert_eq!(layouts.parse("03/02/2021", &TimeZone::UTC), None);
    }
}
