//! What the city lets its SMS cost: texts go only to the countries it
//! allows, at most so many to one number a day and about one request in
//! all. A refused text is not lost: the e-mail is written instead when
//! there is one, and the reason is logged (without the number).

use jiff::Timestamp;

use crate::contact::PhoneNumber;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundLimits {
    /// Calling codes texts may go to (`+48`, `+380`); empty allows every country.
    pub countries: Vec<String>,
    /// Texts one number may be sent in a UTC day.
    pub per_number_per_day: u32,
    /// Texts about one request (or one question) in all.
    pub per_request: u32,
}

impl Default for OutboundLimits {
    /// Poland only; 20 a number a day; 15 a request (a request's life is
    /// about five notices, so 15 leaves room for notes without a runaway).
    fn default() -> Self {
        Self {
            countries: vec!["+48".into()],
            per_number_per_day: 20,
            per_request: 15,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Country,
    NumberCap,
    RequestCap,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Country => "destination country not allowed",
            Refusal::NumberCap => "the number's daily cap is reached",
            Refusal::RequestCap => "the request's cap is reached",
        }
    }
}

/// How long a request's count is kept: longer than any request stays open.
pub const REQUEST_COUNT_KEEP_SECS: i64 = 400 * 24 * 3600;
/// A day's count is kept two days.
pub const DAY_COUNT_KEEP_SECS: i64 = 2 * 24 * 3600;

impl OutboundLimits {
    /// Parses `+48,+380` (spaces allowed); `*` or nothing allows every country.
    pub fn parse_countries(raw: &str) -> Result<Vec<String>, String> {
        let mut codes = Vec::new();
        for code in raw.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            if code == "*" {
                return Ok(Vec::new());
            }
            let digits = code.strip_prefix('+').unwrap_or(code);
            if digits.is_empty() || digits.len() > 4 || !digits.chars().all(|c| c.is_ascii_digit())
            {
                return Err(format!("{code} is not a calling code such as +48"));
            }
            codes.push(format!("+{digits}"));
        }
        Ok(codes)
    }

    pub fn country_allowed(&self, phone: &PhoneNumber) -> bool {
        self.countries.is_empty()
            || self
                .countries
                .iter()
                .any(|c| phone.as_str().starts_with(c.as_str()))
    }
}

/// The start of `now`'s UTC day, the window of the per-number cap.
pub fn day_window(now: Timestamp) -> Timestamp {
    let s = now.as_second();
    Timestamp::from_second(s - s.rem_euclid(86_400)).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_are_calling_codes() {
        assert_eq!(
            OutboundLimits::parse_countries("+48, 380").unwrap(),
            ["+48", "+380"]
        );
        assert!(OutboundLimits::parse_countries("*").unwrap().is_empty());
        assert!(OutboundLimits::parse_countries("PL").is_err());
        let limits = OutboundLimits::default();
        assert!(limits.country_allowed(&PhoneNumber::parse("+48600100200").unwrap()));
        assert!(!limits.country_allowed(&PhoneNumber::parse("+4475501234567").unwrap()));
        assert_eq!(
            day_window("2026-12-04T18:30:00Z".parse().unwrap()),
            "2026-12-04T00:00:00Z".parse::<Timestamp>().unwrap()
        );
    }
}
