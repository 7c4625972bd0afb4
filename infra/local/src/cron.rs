//! EventBridge schedule expressions: `rate(5 minutes)` and the six-field
//! `cron(min hour day-of-month month day-of-week year)`, enough to fire the
//! template's schedules locally. `L`, `W` and `#` are not supported: such a
//! schedule is listed and can be run by hand, but does not fire by itself.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan, Zoned};

#[derive(Debug, Clone, PartialEq)]
pub enum Expression {
    Rate(SignedDuration),
    Cron(Box<Cron>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cron {
    minutes: Vec<bool>,
    hours: Vec<bool>,
    days: Vec<bool>,
    months: Vec<bool>,
    weekdays: Vec<bool>,
    any_day: bool,
    any_weekday: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported schedule expression {0:?}")]
pub struct ExpressionError(pub String);

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

fn value(raw: &str, names: &[&str], offset: u32) -> Option<u32> {
    raw.parse().ok().or_else(|| {
        names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(raw))
            .map(|i| i as u32 + offset)
    })
}

/// Allowed values of one field, indexed `min..=max`.
fn field(spec: &str, min: u32, max: u32, names: &[&str]) -> Option<Vec<bool>> {
    let mut allowed = vec![false; (max + 1) as usize];
    for part in spec.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().ok().filter(|s| *s > 0)?),
            None => (part, 1),
        };
        let (lo, hi) = if range == "*" || range == "?" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (value(a, names, min)?, value(b, names, min)?)
        } else {
            let v = value(range, names, min)?;
            (v, if part.contains('/') { max } else { v })
        };
        if lo < min || hi > max || lo > hi {
            return None;
        }
        let mut v = lo;
        while v <= hi {
            allowed[v as usize] = true;
            v += step;
        }
    }
    Some(allowed)
}

impl Expression {
    pub fn parse(raw: &str) -> Result<Self, ExpressionError> {
        let err = || ExpressionError(raw.to_owned());
        let raw_trim = raw.trim();
        if let Some(inner) = raw_trim
            .strip_prefix("rate(")
            .and_then(|r| r.strip_suffix(')'))
        {
            let (n, unit) = inner.trim().split_once(' ').ok_or_else(err)?;
            let n: i64 = n.parse().map_err(|_| err())?;
            let secs = match unit.trim().trim_end_matches('s') {
                "minute" => 60,
                "hour" => 3600,
                "day" => 86_400,
                _ => return Err(err()),
            };
            return Ok(Expression::Rate(SignedDuration::from_secs(n * secs)));
        }
        let inner = raw_trim
            .strip_prefix("cron(")
            .and_then(|r| r.strip_suffix(')'))
            .ok_or_else(err)?;
        let f: Vec<&str> = inner.split_whitespace().collect();
        if f.len() != 6 || f.iter().any(|x| x.contains(['L', 'W', '#'])) {
            return Err(err());
        }
        Ok(Expression::Cron(Box::new(Cron {
            minutes: field(f[0], 0, 59, &[]).ok_or_else(err)?,
            hours: field(f[1], 0, 23, &[]).ok_or_else(err)?,
            days: field(f[2], 1, 31, &[]).ok_or_else(err)?,
            months: field(f[3], 1, 12, &MONTHS).ok_or_else(err)?,
            weekdays: field(f[4], 1, 7, &WEEKDAYS).ok_or_else(err)?,
            any_day: f[2] == "*" || f[2] == "?",
            any_weekday: f[4] == "*" || f[4] == "?",
        })))
    }

    /// The next firing strictly after `after`, in time zone `tz`.
    pub fn next_after(&self, after: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        match self {
            Expression::Rate(d) => after.checked_add(*d).ok(),
            Expression::Cron(c) => {
                let start = after.to_zoned(tz.clone());
                let mut t: Zoned = start
                    .with()
                    .second(0)
                    .subsec_nanosecond(0)
                    .build()
                    .ok()?
                    .checked_add(1.minute())
                    .ok()?;
                // At most a year and a bit of minutes: cheap, and simple to trust.
                for _ in 0..(60 * 24 * 370) {
                    if c.matches(&t) {
                        return Some(t.timestamp());
                    }
                    t = t.checked_add(1.minute()).ok()?;
                }
                None
            }
        }
    }
}

impl Cron {
    fn matches(&self, t: &Zoned) -> bool {
        let day_ok = self.days[t.day() as usize];
        // AWS numbers weekdays 1 (Sunday) to 7 (Saturday).
        let weekday_ok = self.weekdays[(t.weekday().to_sunday_zero_offset() + 1) as usize];
        let date_ok = match (self.any_day, self.any_weekday) {
            (true, true) => true,
            (true, false) => weekday_ok,
            (false, true) => day_ok,
            (false, false) => day_ok && weekday_ok,
        };
        self.minutes[t.minute() as usize]
            && self.hours[t.hour() as usize]
            && self.months[t.month() as usize]
            && date_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daily_cron_in_warsaw() {
        let e = Expression::parse("cron(5 0 * * ? *)").unwrap();
        let tz = TimeZone::get("Europe/Warsaw").unwrap();
        let after: Timestamp = "2026-11-27T12:00:00Z".parse().unwrap();
        // 00:05 in Warsaw on 28 November is 23:05 UTC on the 27th (CET, +01:00).
        assert_eq!(
            e.next_after(after, &tz).unwrap().to_string(),
            "2026-11-27T23:05:00Z"
        );
    }

    #[test]
    fn weekdays_steps_and_rates() {
        let e = Expression::parse("cron(0/15 8-9 ? * MON-FRI *)").unwrap();
        let utc = TimeZone::UTC;
        let saturday: Timestamp = "2026-11-28T10:00:00Z".parse().unwrap();
        assert_eq!(
            e.next_after(saturday, &utc).unwrap().to_string(),
            "2026-11-30T08:00:00Z"
        );
        let r = Expression::parse("rate(5 minutes)").unwrap();
        assert_eq!(
            r.next_after(saturday, &utc).unwrap().to_string(),
            "2026-11-28T10:05:00Z"
        );
        assert!(Expression::parse("cron(0 12 L * ? *)").is_err());
        assert!(Expression::parse("every day").is_err());
    }
}
