//! Routes learned from history: which department actually handled a service in
//! an area. Rules in the catalogue override these; the service's own department
//! is the default when neither knows.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One past case: its service, its district (if known), who handled it.
#[derive(Debug, Clone, PartialEq)]
pub struct HandledCase {
    pub service: String,
    pub district: Option<String>,
    pub department: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LearnedRoutes {
    /// service → district → the department that handled it most often.
    by_district: BTreeMap<String, BTreeMap<String, String>>,
    /// service → the department that handled it most often anywhere.
    by_service: BTreeMap<String, String>,
}

impl LearnedRoutes {
    pub fn learn<'a>(cases: impl IntoIterator<Item = &'a HandledCase>) -> Self {
        type Counts = BTreeMap<String, u64>;
        let mut by_district: BTreeMap<(String, String), Counts> = BTreeMap::new();
        let mut by_service: BTreeMap<String, Counts> = BTreeMap::new();
        for case in cases {
            if let Some(d) = &case.district {
                *by_district
                    .entry((case.service.clone(), d.clone()))
                    .or_default()
                    .entry(case.department.clone())
                    .or_default() += 1;
            }
            *by_service
                .entry(case.service.clone())
                .or_default()
                .entry(case.department.clone())
                .or_default() += 1;
        }
        let mut routes = Self::default();
        for ((service, district), counts) in by_district {
            if let Some(d) = most_common(&counts) {
                routes
                    .by_district
                    .entry(service)
                    .or_default()
                    .insert(district, d);
            }
        }
        for (service, counts) in by_service {
            if let Some(d) = most_common(&counts) {
                routes.by_service.insert(service, d);
            }
        }
        routes
    }

    /// The department that handled this service in this district most often,
    /// else anywhere; `None` for a service history never saw.
    pub fn department(&self, service: &str, district: Option<&str>) -> Option<&str> {
        district
            .and_then(|d| self.by_district.get(service)?.get(d))
            .or_else(|| self.by_service.get(service))
            .map(String::as_str)
    }

    /// The baseline: the most common department for the service, ignoring place.
    pub fn service_default(&self, service: &str) -> Option<&str> {
        self.by_service.get(service).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.by_service.is_empty()
    }
}

/// Highest count; ties go to the alphabetically first name (deterministic).
fn most_common(counts: &BTreeMap<String, u64>) -> Option<String> {
    counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(d, _)| d.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(service: &str, district: Option<&str>, department: &str) -> HandledCase {
        HandledCase {
            service: service.into(),
            district: district.map(Into::into),
            department: department.into(),
        }
    }

    #[test]
    fn district_specific_route_beats_the_service_default() {
        let cases = [
            case("graffiti", Some("north"), "parks"),
            case("graffiti", Some("north"), "parks"),
            case("graffiti", Some("south"), "sanitation"),
            case("graffiti", Some("south"), "sanitation"),
            case("graffiti", Some("south"), "sanitation"),
            case("graffiti", None, "sanitation"),
        ];
        let routes = LearnedRoutes::learn(&cases);
        assert_eq!(routes.department("graffiti", Some("north")), Some("parks"));
        assert_eq!(
            routes.department("graffiti", Some("south")),
            Some("sanitation")
        );
        assert_eq!(
            routes.department("graffiti", Some("east")),
            Some("sanitation")
        );
        assert_eq!(routes.service_default("graffiti"), Some("sanitation"));
        assert_eq!(routes.department("noise", None), None);
    }
}
