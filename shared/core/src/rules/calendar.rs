//! Business time: SLA clocks run during a city's working hours only, not at
//! weekends or on public holidays (Poland's, including the movable feasts
//! derived from Easter), so "72 hours" means 72 working hours.

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

/// A city's working calendar as written in its catalogue (`[city.calendar]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarConfig {
    /// Opening and closing time, e.g. `["07:30", "15:30"]`.
    pub working_hours: [String; 2],
    /// Working days, e.g. `["mon", "tue", "wed", "thu", "fri"]`.
    pub workdays: Vec<String>,
    /// Which country's public holidays apply (`"pl"`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_holidays: Option<String>,
    /// Further days off, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_holidays: Vec<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("working_hours must be two times like \"07:30\", the first before the second")]
    Hours,
    #[error("workdays must be names like mon, tue … sun; {0:?} is not one")]
    Workday(String),
    #[error("public_holidays {0:?} is not known (known: pl)")]
    Holidays(String),
}

/// The validated calendar, in the city's time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct BusinessCalendar {
    open: Time,
    close: Time,
    workdays: Vec<Weekday>,
    polish_holidays: bool,
    extra_holidays: Vec<Date>,
}

fn weekday(name: &str) -> Option<Weekday> {
    Some(match name.trim().to_ascii_lowercase().as_str() {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => return None,
    })
}

/// Easter Sunday in the Gregorian calendar (the anonymous algorithm).
pub fn easter_sunday(year: i16) -> Option<Date> {
    let y = i32::from(year);
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    Date::new(year, i8::try_from(month).ok()?, i8::try_from(day).ok()?).ok()
}

/// Poland's public holidays (Dz.U. 1951 nr 4 poz. 28, with Christmas Eve from 2025).
pub fn is_polish_holiday(date: Date) -> bool {
    let fixed = [
        (1, 1),
        (1, 6),
        (5, 1),
        (5, 3),
        (8, 15),
        (11, 1),
        (11, 11),
        (12, 25),
        (12, 26),
    ];
    if fixed.contains(&(date.month(), date.day())) {
        return true;
    }
    if date.year() >= 2025 && (date.month(), date.day()) == (12, 24) {
        return true;
    }
    let Some(easter) = easter_sunday(date.year()) else {
        return false;
    };
    // Easter Sunday and Monday, Pentecost Sunday (+49), Corpus Christi (+60).
    [0, 1, 49, 60]
        .iter()
        .filter_map(|days| easter.checked_add(days.days()).ok())
        .any(|d| d == date)
}

impl BusinessCalendar {
    pub fn new(config: &CalendarConfig) -> Result<Self, CalendarError> {
        let open: Time = config.working_hours[0]
            .parse()
            .map_err(|_| CalendarError::Hours)?;
        let close: Time = config.working_hours[1]
            .parse()
            .map_err(|_| CalendarError::Hours)?;
        if open >= close {
            return Err(CalendarError::Hours);
        }
        let workdays = config
            .workdays
            .iter()
            .map(|w| weekday(w).ok_or_else(|| CalendarError::Workday(w.clone())))
            .collect::<Result<Vec<_>, _>>()?;
        let polish_holidays = match config.public_holidays.as_deref() {
            None => false,
            Some("pl") => true,
            Some(other) => return Err(CalendarError::Holidays(other.to_owned())),
        };
        Ok(Self {
            open,
            close,
            workdays,
            polish_holidays,
            extra_holidays: config.extra_holidays.clone(),
        })
    }

    /// Whether the city works on that day.
    pub fn is_working_day(&self, date: Date) -> bool {
        self.workdays.contains(&date.weekday())
            && !(self.polish_holidays && is_polish_holiday(date))
            && !self.extra_holidays.contains(&date)
    }

    /// The moment `hours` working hours after `start`, in the city's zone `tz`.
    /// Without any working day in the next ten years, `start` plus wall-clock hours.
    pub fn add_working_hours(&self, start: Timestamp, hours: u32, tz: &TimeZone) -> Timestamp {
        let wall_clock = start
            .saturating_add(SignedDuration::from_hours(i64::from(hours)))
            .unwrap_or(start);
        let mut left = SignedDuration::from_hours(i64::from(hours));
        let local = start.to_zoned(tz.clone());
        let mut date = local.date();
        let mut from = local.time();
        for _ in 0..3660 {
            if self.is_working_day(date) {
                let begin = from.max(self.open);
                if begin < self.close {
                    let available = self.close.duration_since(begin);
                    if left <= available {
                        let end = begin.checked_add(left).unwrap_or(self.close);
                        return date
                            .to_datetime(end)
                            .to_zoned(tz.clone())
                            .map(|z| z.timestamp())
                            .unwrap_or(wall_clock);
                    }
                    left -= available;
                }
            }
            date = match date.tomorrow() {
                Ok(d) => d,
                Err(_) => return wall_clock,
            };
            from = Time::midnight();
        }
        wall_clock
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn krakow() -> (BusinessCalendar, TimeZone) {
        let config = CalendarConfig {
            working_hours: ["07:30".into(), "15:30".into()],
            workdays: ["mon", "tue", "wed", "thu", "fri"]
                .map(String::from)
                .to_vec(),
            public_holidays: Some("pl".into()),
            extra_holidays: vec![],
        };
        (
            BusinessCalendar::new(&config).unwrap(),
            TimeZone::get("Europe/Warsaw").unwrap(),
        )
    }

    #[test]
    fn easter_and_the_feasts_that_follow_it() {
        assert_eq!(easter_sunday(2026).unwrap().to_string(), "2026-04-05");
        assert_eq!(easter_sunday(2024).unwrap().to_string(), "2024-03-31");
        for day in [
            "2026-04-06",
            "2026-05-24",
            "2026-06-04",
            "2026-11-11",
            "2026-12-24",
            "2027-03-29",
        ] {
            assert!(is_polish_holiday(day.parse().unwrap()), "{day}");
        }
        for day in ["2026-04-07", "2026-06-05", "2024-12-24"] {
            assert!(!is_polish_holiday(day.parse().unwrap()), "{day}");
        }
    }

    #[test]
    fn working_hours_skip_nights_weekends_and_holidays() {
        let (cal, tz) = krakow();
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        // Friday 27 Nov 2026, 14:30 in Kraków: 1 hour left today, 7 on Monday.
        assert_eq!(
            cal.add_working_hours(at("2026-11-27T13:30:00Z"), 8, &tz)
                .to_string(),
            "2026-11-30T13:30:00Z"
        );
        // Saturday evening: the clock starts on Monday at 07:30.
        assert_eq!(
            cal.add_working_hours(at("2026-11-28T19:00:00Z"), 2, &tz)
                .to_string(),
            "2026-11-30T08:30:00Z"
        );
        // Tuesday 10 Nov, 15:00: Wednesday 11 Nov is Independence Day.
        assert_eq!(
            cal.add_working_hours(at("2026-11-10T14:00:00Z"), 1, &tz)
                .to_string(),
            "2026-11-12T07:00:00Z"
        );
        assert!(
            BusinessCalendar::new(&CalendarConfig {
                working_hours: ["16:00".into(), "08:00".into()],
                workdays: vec!["mon".into()],
                public_holidays: None,
                extra_holidays: vec![]
            })
            .is_err()
        );
    }
}
