//! Open311 parameters: from the query string and the form body alike, where an
//! empty value means absent and `attribute[code][]` may repeat.

use std::collections::BTreeMap;

use jiff::tz::TimeZone;
use jiff::{Timestamp, civil};

use crate::format::Open311Error;

/// Every name/value pair a client sent, query first, then body.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(query: Option<&str>, body: &[u8]) -> Self {
        let mut pairs: Vec<(String, String)> = query
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        pairs.extend(form_urlencoded::parse(body).into_owned());
        Self(pairs)
    }

    /// Adds pairs (from a multipart body).
    pub fn with(mut self, pairs: Vec<(String, String)>) -> Self {
        self.0.extend(pairs);
        self
    }

    /// Every non-empty value of `name` as sent (`media_url` may repeat; commas are kept).
    pub fn list_raw(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name || k.strip_suffix("[]") == Some(name))
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// The first non-empty value of `name`, trimmed.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .find(|v| !v.is_empty())
    }

    /// Comma-separated lists (`service_code=a,b`), possibly repeated.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// `attribute[code]=v` and `attribute[code][]=v1&attribute[code][]=v2`.
    pub fn attributes(&self) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in &self.0 {
            let Some(rest) = k.strip_prefix("attribute[") else {
                continue;
            };
            let code = rest.strip_suffix("][]").or_else(|| rest.strip_suffix(']'));
            if let Some(code) = code.filter(|c| !c.is_empty() && !c.contains(['[', ']'])) {
                out.entry(code.to_owned()).or_default().push(v.clone());
            }
        }
        out
    }

    pub fn number(&self, name: &str) -> Result<Option<f64>, Open311Error> {
        self.get(name)
            .map(|v| {
                v.parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite())
                    .ok_or_else(|| Open311Error::bad_request(format!("{name} must be a number")))
            })
            .transpose()
    }

    pub fn count(&self, name: &str, min: usize, max: usize) -> Result<Option<usize>, Open311Error> {
        self.get(name)
            .map(|v| {
                v.parse::<usize>()
                    .ok()
                    .filter(|n| (min..=max).contains(n))
                    .ok_or_else(|| {
                        Open311Error::bad_request(format!(
                            "{name} must be a whole number from {min} to {max}"
                        ))
                    })
            })
            .transpose()
    }

    /// A W3C date-time; one without an offset (`2026-11-30T00:00:00`, as
    /// many downloaders send) or a bare date is read in the city's time zone.
    pub fn datetime(
        &self,
        name: &str,
        city_time_zone: &TimeZone,
    ) -> Result<Option<Timestamp>, Open311Error> {
        self.get(name)
            .map(|v| {
                let v = v.trim();
                v.parse::<Timestamp>()
                    .ok()
                    .or_else(|| {
                        let local: civil::DateTime = v.parse().ok()?;
                        city_time_zone.to_timestamp(local).ok()
                    })
                    .ok_or_else(|| {
                        Open311Error::bad_request(format!(
                            "{name} must be a W3C date-time, e.g. 2026-11-27T09:30:00+01:00, 2026-11-27T08:30:00Z, or 2026-11-27T09:30:00 read in the city's time zone ({})",
                            city_time_zone.iana_name().unwrap_or("UTC")
                        ))
                    })
            })
            .transpose()
    }

    pub fn flag(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_and_body_with_repeated_attributes() {
        let p = Params::parse(
            Some("api_key=k&jurisdiction_id="),
            b"service_code=pothole&attribute[size]=large&attribute[hazards][]=cars&attribute[hazards][]=cyclists&attribute[fixmystreet_id]=77&lat=50.07",
        );
        assert_eq!(p.get("api_key"), Some("k"));
        assert_eq!(p.get("jurisdiction_id"), None, "empty means absent");
        let a = p.attributes();
        assert_eq!(a["hazards"], vec!["cars", "cyclists"]);
        assert_eq!(a["size"], vec!["large"]);
        assert_eq!(a["fixmystreet_id"], vec!["77"]);
        assert_eq!(p.number("lat").unwrap(), Some(50.07));
        assert!(Params::parse(Some("lat=north"), b"").number("lat").is_err());
        assert_eq!(
            Params::parse(Some("service_code=a,b&service_code=c"), b"").list("service_code"),
            vec!["a", "b", "c"]
        );
    }
}
