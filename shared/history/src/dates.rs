//! Date cells: the layouts real exports write, detected per column from the
//! file's own values; local times read in the city's time zone, values with
//! an offset (or `Z`, `UTC`, `GMT`) kept as they are.

use jiff::fmt::strtime;
use jiff::tz::TimeZone;
use jiff::{Timestamp, civil};

/// The moment every example in an error message shows: 2022-05-01 13:47:09.
const EXAMPLE_UNIX_SECONDS: i64 = 1_651_412_829;

/// Layouts tried, besides ISO 8601 / RFC 3339, when a column's layout is
/// detected: the US (Socrata) layouts, day-first slashed, dotted European
/// and slashed year-first, each with and without seconds and time.
const DETECTED_PATTERNS: [&str; 16] = [
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y%m%d %H%M%S",
    "%Y%m%d",
];

/// What a column gets when none of its sampled values reads.
const GENERIC_EXAMPLE: &str = "2022-05-01 13:47:09, 2022-05-01T13:47:09Z, 2022-05-01 13:47:09 UTC, 05/01/2022 01:47:09 PM or 01.05.2022 13:47";

/// How a file's slashed dates are read when every sampled value fits both
/// orders (03/04/2022: March or April?).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum WhenSlashesAreAmbiguous {
    /// US exports (NYC, San Francisco, Boston, Open311 bulk) write month first.
    MonthFirst,
    /// Anything else must say which it means in its mapping file.
    Refuse,
}

/// How one schema reads its date cells: a fixed list (a mapping file's
/// `[formats] datetime`) or layouts detected per column.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum DateLayouts {
    Detected(WhenSlashesAreAmbiguous),
    Fixed {
        patterns: Vec<String>,
        /// How a good value looks, for the rejection message.
        example: String,
    },
}

/// One layout a date cell may have.
#[derive(Debug, Clone, PartialEq)]
enum Layout {
    Iso,
    Pattern(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum SlashOrder {
    MonthFirst,
    DayFirst,
}

impl Layout {
    fn parse(&self, value: &str, time_zone: &TimeZone) -> Option<Timestamp> {
        match self {
            Layout::Iso => parse_iso(value, time_zone),
            Layout::Pattern(pattern) => parse_with_layout(pattern, value, time_zone),
        }
    }

    fn slash_order(&self) -> Option<SlashOrder> {
        match self {
            Layout::Pattern(p) if p.starts_with("%m/%d") => Some(SlashOrder::MonthFirst),
            Layout::Pattern(p) if p.starts_with("%d/%m") => Some(SlashOrder::DayFirst),
            _ => None,
        }
    }
}

/// How one column's cells are read, settled from the column's first values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ColumnDates {
    /// Tried in order: the layout the sampled values use comes first.
    order: Vec<Layout>,
    /// How a good value looks, for the rejection message: one of the
    /// column's own values when any was read.
    example: String,
}

impl DateLayouts {
    pub(crate) fn nyc() -> Self {
        DateLayouts::Detected(WhenSlashesAreAmbiguous::MonthFirst)
    }

    pub(crate) fn san_francisco() -> Self {
        DateLayouts::Detected(WhenSlashesAreAmbiguous::MonthFirst)
    }

    pub(crate) fn boston() -> Self {
        DateLayouts::Detected(WhenSlashesAreAmbiguous::MonthFirst)
    }

    pub(crate) fn open311() -> Self {
        DateLayouts::Detected(WhenSlashesAreAmbiguous::MonthFirst)
    }

    /// A mapping file without `[formats] datetime`: detected, but slashed
    /// dates that fit both orders are refused rather than guessed.
    pub(crate) fn mapping_default() -> Self {
        DateLayouts::Detected(WhenSlashesAreAmbiguous::Refuse)
    }

    /// The layouts a mapping file names, each checked to describe a date and
    /// a time that can be read back.
    pub(crate) fn from_mapping(layouts: Vec<String>) -> Result<Self, (String, String)> {
        let mut examples = Vec::with_capacity(layouts.len());
        for layout in &layouts {
            examples.push(example_of(layout).map_err(|problem| (layout.clone(), problem))?);
        }
        Ok(DateLayouts::Fixed {
            patterns: layouts,
            example: examples.join(" or "),
        })
    }

    /// How a column is read, given its first non-empty values (trimmed).
    /// The layout that reads most of them is tried first; for slashed dates
    /// the order the values prove (a first part above 12 is a day) wins, and
    /// when they prove neither the schema's rule decides.
    pub(crate) fn settle(&self, sample: &[&str], time_zone: &TimeZone) -> ColumnDates {
        let refuse_ambiguous = match self {
            DateLayouts::Fixed { patterns, example } => {
                let mut order: Vec<Layout> =
                    patterns.iter().cloned().map(Layout::Pattern).collect();
                order.push(Layout::Iso);
                return ColumnDates {
                    order,
                    example: example.clone(),
                };
            }
            DateLayouts::Detected(rule) => *rule == WhenSlashesAreAmbiguous::Refuse,
        };
        let candidates: Vec<Layout> = std::iter::once(Layout::Iso)
            .chain(
                DETECTED_PATTERNS
                    .iter()
                    .map(|&pattern| Layout::Pattern(pattern.to_owned())),
            )
            .collect();
        let reads: Vec<usize> = candidates
            .iter()
            .map(|layout| {
                sample
                    .iter()
                    .filter(|value| layout.parse(value, time_zone).is_some())
                    .count()
            })
            .collect();
        let most_for = |order: SlashOrder| {
            candidates
                .iter()
                .zip(&reads)
                .filter(|(layout, _)| layout.slash_order() == Some(order))
                .map(|(_, &count)| count)
                .max()
                .unwrap_or(0)
        };
        let (month_first, day_first) = (
            most_for(SlashOrder::MonthFirst),
            most_for(SlashOrder::DayFirst),
        );
        let ambiguous = month_first == day_first;
        let dropped: &[SlashOrder] = if month_first > day_first {
            &[SlashOrder::DayFirst]
        } else if day_first > month_first {
            &[SlashOrder::MonthFirst]
        } else if refuse_ambiguous {
            &[SlashOrder::MonthFirst, SlashOrder::DayFirst]
        } else {
            &[SlashOrder::DayFirst]
        };
        let mut ranked: Vec<(Layout, usize)> = candidates
            .into_iter()
            .zip(reads)
            .filter(|(layout, _)| {
                layout
                    .slash_order()
                    .is_none_or(|order| !dropped.contains(&order))
            })
            .collect();
        // Stable: equally good layouts keep the list's order.
        ranked.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
        let example = ranked
            .first()
            .filter(|(_, count)| *count > 0)
            .and_then(|(best, _)| {
                sample
                    .iter()
                    .find(|value| best.parse(value, time_zone).is_some())
            })
            .map_or_else(
                || {
                    if ambiguous && refuse_ambiguous && month_first > 0 {
                        format!(
                            "{GENERIC_EXAMPLE} (slashed dates such as 03/04/2022 are March in one city and April in the next: set [formats] datetime in the mapping file)"
                        )
                    } else {
                        GENERIC_EXAMPLE.to_owned()
                    }
                },
                |value| (*value).to_owned(),
            );
        ColumnDates {
            order: ranked.into_iter().map(|(layout, _)| layout).collect(),
            example,
        }
    }
}

impl ColumnDates {
    pub(crate) fn example(&self) -> &str {
        &self.example
    }

    /// The moment a trimmed, non-empty cell names, or `None` when no layout
    /// fits. Local values are read in `time_zone`; in a gap or overlap of a
    /// daylight-saving change the earlier reading is taken, like most systems
    /// that wrote such files.
    pub(crate) fn parse(&self, value: &str, time_zone: &TimeZone) -> Option<Timestamp> {
        self.order
            .iter()
            .find_map(|layout| layout.parse(value, time_zone))
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

/// ISO 8601 / RFC 3339 with `T` or a space, with or without fractions, with
/// `Z`, `UTC`, `GMT` or an offset (after a space too), or local; a date alone
/// is its local midnight.
fn parse_iso(value: &str, time_zone: &TimeZone) -> Option<Timestamp> {
    if let Ok(with_offset) = value.parse::<Timestamp>() {
        return Some(with_offset);
    }
    if let Some(moment) = named_utc(value) {
        return Some(moment);
    }
    if let Some((moment, offset)) = value.rsplit_once(' ')
        && offset.starts_with(['+', '-'])
        && let Ok(with_offset) = format!("{moment}{offset}").parse::<Timestamp>()
    {
        return Some(with_offset);
    }
    let local: civil::DateTime = value.parse().ok()?;
    time_zone.to_timestamp(local).ok()
}

/// `2019-10-06 00:05:55 UTC` (or `GMT`, with or without the space).
fn named_utc(value: &str) -> Option<Timestamp> {
    let cut = value.len().checked_sub(3)?;
    let (moment, zone) = (value.get(..cut)?, value.get(cut..)?);
    if !zone.eq_ignore_ascii_case("utc") && !zone.eq_ignore_ascii_case("gmt") {
        return None;
    }
    format!("{}Z", moment.trim_end()).parse().ok()
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

    /// The column as the reader settles it from these values.
    fn column(layouts: &DateLayouts, sample: &[&str], zone: &TimeZone) -> ColumnDates {
        layouts.settle(sample, zone)
    }

    #[test]
    fn socrata_layout_is_read_in_the_city_time_zone() {
        let zone = new_york();
        let dates = column(&DateLayouts::nyc(), &["05/01/2022 12:00:03 AM"], &zone);
        assert_eq!(
            dates.parse("05/01/2022 12:00:03 AM", &zone),
            Some(at("2022-05-01T04:00:03Z"))
        );
        assert_eq!(
            dates.parse("01/15/2022 01:30:00 PM", &zone),
            Some(at("2022-01-15T18:30:00Z"))
        );
        assert_eq!(dates.parse("13/45/2022 12:00:03 AM", &zone), None);
        assert_eq!(dates.parse("not a date", &zone), None);
        assert_eq!(dates.example(), "05/01/2022 12:00:03 AM");
    }

    #[test]
    fn every_layout_real_exports_write_is_read() {
        let zone = new_york();
        let utc = TimeZone::UTC;
        for (value, zone, expected) in [
            ("2019-10-06 00:05:55 UTC", &zone, "2019-10-06T00:05:55Z"),
            ("2019-10-06 00:05:55UTC", &zone, "2019-10-06T00:05:55Z"),
            (
                "2019-10-06T00:05:55.250 GMT",
                &zone,
                "2019-10-06T00:05:55.25Z",
            ),
            ("2019-10-06T00:05:55Z", &zone, "2019-10-06T00:05:55Z"),
            ("2019-10-06 00:05:55Z", &zone, "2019-10-06T00:05:55Z"),
            (
                "2019-10-06T00:05:55.123456Z",
                &zone,
                "2019-10-06T00:05:55.123456Z",
            ),
            ("2019-10-06T02:05:55+02:00", &zone, "2019-10-06T00:05:55Z"),
            ("2019-10-06 02:05:55 +02:00", &zone, "2019-10-06T00:05:55Z"),
            ("2019-10-06T02:05:55+0200", &zone, "2019-10-06T00:05:55Z"),
            ("2019-10-06T00:05:55", &zone, "2019-10-06T04:05:55Z"),
            ("2019-10-06 00:05:55.000", &zone, "2019-10-06T04:05:55Z"),
            ("2019-10-06", &zone, "2019-10-06T04:00:00Z"),
            ("10/06/2019 12:05:55 AM", &zone, "2019-10-06T04:05:55Z"),
            ("10/06/2019 12:05 PM", &zone, "2019-10-06T16:05:00Z"),
            ("10/06/2019 00:05:55", &zone, "2019-10-06T04:05:55Z"),
            ("10/06/2019", &zone, "2019-10-06T04:00:00Z"),
            ("06.10.2019 00:05", &utc, "2019-10-06T00:05:00Z"),
            ("06.10.2019", &utc, "2019-10-06T00:00:00Z"),
            ("2019/10/06 00:05:55", &utc, "2019-10-06T00:05:55Z"),
        ] {
            let dates = column(&DateLayouts::nyc(), &[value], zone);
            assert_eq!(dates.parse(value, zone), Some(at(expected)), "{value}");
        }
    }

    #[test]
    fn slashed_dates_take_the_order_the_column_proves() {
        let utc = TimeZone::UTC;
        // 25/04 can only be day first: the whole column is read so.
        let dates = column(&DateLayouts::nyc(), &["03/04/2022", "25/04/2022"], &utc);
        assert_eq!(
            dates.parse("03/04/2022", &utc),
            Some(at("2022-04-03T00:00:00Z"))
        );
        // Nothing proves the order: a US export is month first...
        let dates = column(&DateLayouts::nyc(), &["03/04/2022", "01/02/2022"], &utc);
        assert_eq!(
            dates.parse("03/04/2022", &utc),
            Some(at("2022-03-04T00:00:00Z"))
        );
        assert_eq!(dates.parse("25/04/2022", &utc), None);
        // ...and a mapped export without [formats] must say.
        let dates = column(&DateLayouts::mapping_default(), &["03/04/2022"], &utc);
        assert_eq!(dates.parse("03/04/2022", &utc), None);
        assert!(
            dates.example().contains("[formats] datetime"),
            "{}",
            dates.example()
        );
        let dates = column(&DateLayouts::mapping_default(), &["13/04/2022"], &utc);
        assert_eq!(
            dates.parse("03/04/2022", &utc),
            Some(at("2022-04-03T00:00:00Z"))
        );
    }

    #[test]
    fn a_column_mixing_precisions_reads_every_value() {
        let utc = TimeZone::UTC;
        let sample = [
            "2022-01-21 13:47:00.123",
            "2022-01-21 13:47:00",
            "2022-01-21",
        ];
        let dates = column(&DateLayouts::boston(), &sample, &utc);
        for value in sample {
            assert!(dates.parse(value, &utc).is_some(), "{value}");
        }
        assert_eq!(dates.example(), "2022-01-21 13:47:00.123");
    }

    #[test]
    fn a_column_nothing_reads_names_the_layouts_accepted() {
        let dates = column(&DateLayouts::nyc(), &["yesterday", "soon"], &TimeZone::UTC);
        assert_eq!(dates.example(), GENERIC_EXAMPLE);
        assert_eq!(dates.parse("yesterday", &TimeZone::UTC), None);
    }

    #[test]
    fn iso_values_with_an_offset_keep_it_and_local_ones_take_the_city_zone() {
        let zone = new_york();
        let dates = column(&DateLayouts::open311(), &[], &zone);
        assert_eq!(
            dates.parse("2022-01-21T13:47:00-05:00", &TimeZone::UTC),
            Some(at("2022-01-21T18:47:00Z"))
        );
        assert_eq!(
            dates.parse("2022-01-21T13:47:00Z", &zone),
            Some(at("2022-01-21T13:47:00Z"))
        );
        assert_eq!(
            dates.parse("2022-01-21 13:47:00", &zone),
            Some(at("2022-01-21T18:47:00Z"))
        );
        assert_eq!(
            dates.parse("2019-01-01T00:00:00.000", &zone),
            Some(at("2019-01-01T05:00:00Z"))
        );
    }

    #[test]
    fn a_local_time_skipped_by_daylight_saving_still_reads() {
        // 02:30 did not exist in New York on 2022-03-13.
        let zone = new_york();
        let dates = column(&DateLayouts::boston(), &["2022-03-13 02:30:00"], &zone);
        assert_eq!(
            dates.parse("2022-03-13 02:30:00", &zone),
            Some(at("2022-03-13T07:30:00Z"))
        );
    }

    #[test]
    fn mapping_layouts_are_checked_and_give_their_example() {
        let utc = TimeZone::UTC;
        let layouts = DateLayouts::from_mapping(vec!["%d.%m.%Y %H:%M".to_owned()]).unwrap();
        let dates = column(&layouts, &["03.02.2021 08:05"], &utc);
        assert_eq!(dates.example(), "01.05.2022 13:47");
        assert_eq!(
            dates.parse("03.02.2021 08:05", &utc),
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
        let dates = column(&layouts, &[], &utc);
        assert_eq!(dates.example(), "20220501");
        assert_eq!(
            dates.parse("20210203", &utc),
            Some(at("2021-02-03T00:00:00Z"))
        );
    }

    #[test]
    fn mapping_default_takes_dotted_and_iso_but_not_ambiguous_slashed_dates() {
        let utc = TimeZone::UTC;
        let dates = column(&DateLayouts::mapping_default(), &["03.02.2021 08:05"], &utc);
        assert_eq!(
            dates.parse("03.02.2021 08:05", &utc),
            Some(at("2021-02-03T08:05:00Z"))
        );
        assert_eq!(
            dates.parse("2021-02-03", &utc),
            Some(at("2021-02-03T00:00:00Z"))
        );
        assert_eq!(dates.parse("03/02/2021", &utc), None);
    }
}
