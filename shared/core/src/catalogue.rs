//! The city's service catalogue: services, departments and districts, loaded from data files.
//!
//! Source files (see `infra/demo-city/`): `catalogue.toml` (city, departments, services)
//! and `districts.geojson` (a FeatureCollection of polygons with `code` and `name`
//! properties). They are combined into one [`CatalogueDocument`] that is published as
//! JSON and validated into a [`Catalogue`] once per cold start.

use std::collections::{BTreeMap, HashMap};

use geo::{Intersects, MultiPolygon, Point};
use serde::{Deserialize, Serialize};

use crate::ids::{DepartmentCode, JurisdictionId, ServiceCode};
use crate::language::Translated;
use crate::location::GeoPoint;
use crate::rules::routing::explicit::{CompiledRule, RoutingRule};

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("catalogue.toml: {0}")]
    Toml(String),
    #[error("districts GeoJSON: {0}")]
    GeoJson(String),
    #[error("catalogue JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("service {service}: unknown department {department}")]
    UnknownDepartment { service: String, department: String },
    #[error("service {service}: unknown district {district} in a district override")]
    UnknownDistrict { service: String, district: String },
    #[error("duplicate {what} code {code}")]
    Duplicate { what: &'static str, code: String },
    #[error("district feature #{index}: {reason}")]
    District { index: usize, reason: String },
    #[error("service {0}: sla_hours must be between 1 and 8760")]
    Sla(String),
    #[error("city calendar: {0}")]
    Calendar(#[from] crate::rules::calendar::CalendarError),
    #[error("city timezone {0} is unknown")]
    TimeZone(String),
    #[error("service {service}: attributes: {reason}")]
    Attribute { service: String, reason: String },
    #[error("routing rule #{index}: {reason}")]
    RoutingRule { index: usize, reason: String },
    #[error("service {service}: duplicates: {reason}")]
    Duplicates { service: String, reason: String },
    #[error("city sla_warning_share must be above 0 and below 1")]
    SlaWarningShare,
    #[error(transparent)]
    Addresses(#[from] crate::places::AddressListError),
    #[error("city triage_department {0} is not one of the departments")]
    TriageDepartment(String),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keywords {
    #[serde(default)]
    pub pl: Vec<String>,
    #[serde(default)]
    pub en: Vec<String>,
}

/// Two years after closure, unless the city says otherwise.
pub const DEFAULT_CONTACT_RETENTION_DAYS: u32 = 730;

impl City {
    /// How long after closure a request's contact is kept.
    pub fn contact_retention(&self) -> jiff::SignedDuration {
        let days = self
            .contact_retention_days
            .unwrap_or(DEFAULT_CONTACT_RETENTION_DAYS);
        jiff::SignedDuration::from_hours(i64::from(days) * 24)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct City {
    pub jurisdiction_id: JurisdictionId,
    pub name: Translated,
    pub timezone: String,
    pub centre: GeoPoint,
    /// Working hours and days off for SLA clocks; without it they run around the clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<crate::rules::calendar::CalendarConfig>,
    /// Share of an SLA after which the department is warned (default 0.8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_warning_share: Option<f64>,
    /// Days a request's contact details are kept after it is closed (RODO
    /// storage limitation); default [`DEFAULT_CONTACT_RETENTION_DAYS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_retention_days: Option<u32>,
    /// The department whose staff triage what the classifier is unsure of
    /// (the contact centre's operators).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triage_department: Option<DepartmentCode>,
}

/// The longest duplicate window: the open reports a new one may follow are
/// the ones of the last month at most.
pub const MAX_DUPLICATE_WINDOW_HOURS: u32 = 720;
/// The widest duplicate radius: candidates are looked up in the place index's
/// cell and its neighbours, which cover at least this far from any point.
pub const MAX_DUPLICATE_RADIUS_M: f64 = 500.0;

/// When a new request is another report of an open one: same service, within
/// `radius_m` metres and `window_hours` hours of it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DuplicateSettings {
    pub radius_m: f64,
    pub window_hours: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    pub code: DepartmentCode,
    pub name: Translated,
    /// Name of the department's own queue, without the deployment's prefix.
    pub queue: String,
    /// Working hours in which its experts owe the first line an answer.
    #[serde(default = "default_answer_hours")]
    pub answer_hours: u32,
}

/// Without a setting: one working day.
fn default_answer_hours() -> u32 {
    8
}

/// A district-specific department for a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistrictOverride {
    pub district: String,
    pub department: DepartmentCode,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub code: ServiceCode,
    pub name: Translated,
    pub group: String,
    pub department: DepartmentCode,
    pub sla_hours: u32,
    #[serde(default)]
    pub keywords: Keywords,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub district_departments: Vec<DistrictOverride>,
    /// The service's form: extra questions (Open311 service definition).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<crate::service_form::ServiceAttribute>,
    /// Without it, no request of this service is linked as a duplicate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicates: Option<DuplicateSettings>,
    /// Whether anybody may read its reports (a pothole) or only the reporter
    /// and staff (a neighbour's noise, social help): see `visibility`.
    #[serde(default, skip_serializing_if = "ReportVisibility::is_public")]
    pub reports: ReportVisibility,
    /// The exact place tells too much (someone's home): the public sees it
    /// coarsened, without the address.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sensitive_location: bool,
}

/// Who may read a service's reports besides the reporter and staff.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportVisibility {
    #[default]
    Public,
    Private,
}

impl ReportVisibility {
    pub fn is_public(&self) -> bool {
        *self == ReportVisibility::Public
    }
}

/// The published, serialisable catalogue.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CatalogueDocument {
    pub city: City,
    pub departments: Vec<Department>,
    pub services: Vec<Service>,
    pub districts: geojson::FeatureCollection,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routing_rules: Vec<RoutingRule>,
    /// The city's address list (`addresses.csv`), for offline geocoding.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<crate::places::Address>,
    #[serde(default)]
    pub classification: ClassificationSettings,
}

/// What the classifier learns besides the services' names and keywords.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClassificationSettings {
    /// Phrases that ask for no service in particular ("proszę o kontakt"): a
    /// text like them is doubtful and goes to a person.
    #[serde(default)]
    pub not_a_service: Keywords,
}

#[derive(Deserialize)]
struct CatalogueToml {
    city: City,
    departments: Vec<Department>,
    services: Vec<Service>,
    #[serde(default)]
    routing_rules: Vec<RoutingRule>,
    #[serde(default)]
    classification: ClassificationSettings,
}

impl CatalogueDocument {
    /// Combines `catalogue.toml` and `districts.geojson` texts.
    pub fn from_sources(
        catalogue_toml: &str,
        districts_geojson: &str,
    ) -> Result<Self, CatalogueError> {
        let parsed: CatalogueToml =
            toml::from_str(catalogue_toml).map_err(|e| CatalogueError::Toml(e.to_string()))?;
        let districts: geojson::FeatureCollection = districts_geojson
            .parse::<geojson::GeoJson>()
            .map_err(|e| CatalogueError::GeoJson(e.to_string()))
            .and_then(|g| {
                geojson::FeatureCollection::try_from(g)
                    .map_err(|e| CatalogueError::GeoJson(e.to_string()))
            })?;
        Ok(Self {
            city: parsed.city,
            departments: parsed.departments,
            services: parsed.services,
            districts,
            routing_rules: parsed.routing_rules,
            addresses: Vec::new(),
            classification: parsed.classification,
        })
    }

    /// Adds the city's address list (`street,number,lat,long` CSV).
    pub fn with_addresses_csv(mut self, csv: &str) -> Result<Self, CatalogueError> {
        self.addresses = crate::places::parse_address_csv(csv)?;
        Ok(self)
    }
}

/// A district with its shape, ready for point-in-polygon.
#[derive(Debug, Clone)]
pub struct District {
    pub code: String,
    pub name: String,
    shape: MultiPolygon<f64>,
}

/// The validated catalogue, built once per cold start.
#[derive(Debug, Clone)]
pub struct Catalogue {
    document: CatalogueDocument,
    calendar: Option<crate::rules::calendar::BusinessCalendar>,
    timezone: jiff::tz::TimeZone,
    departments: HashMap<DepartmentCode, Department>,
    services: BTreeMap<ServiceCode, Service>,
    districts: Vec<District>,
    routing_rules: Vec<CompiledRule>,
    addresses: crate::places::AddressBook,
}

impl Catalogue {
    pub fn from_json(json: &[u8]) -> Result<Self, CatalogueError> {
        Self::new(serde_json::from_slice(json)?)
    }

    pub fn new(document: CatalogueDocument) -> Result<Self, CatalogueError> {
        let mut departments = HashMap::new();
        for d in &document.departments {
            if departments.insert(d.code.clone(), d.clone()).is_some() {
                return Err(CatalogueError::Duplicate {
                    what: "department",
                    code: d.code.to_string(),
                });
            }
        }
        let mut districts = Vec::new();
        for (index, feature) in document.districts.features.iter().enumerate() {
            districts.push(district_from_feature(index, feature)?);
        }
        let mut services = BTreeMap::new();
        for s in &document.services {
            if !(1..=8760).contains(&s.sla_hours) {
                return Err(CatalogueError::Sla(s.code.to_string()));
            }
            for department in std::iter::once(&s.department)
                .chain(s.district_departments.iter().map(|o| &o.department))
            {
                if !departments.contains_key(department) {
                    return Err(CatalogueError::UnknownDepartment {
                        service: s.code.to_string(),
                        department: department.to_string(),
                    });
                }
            }
            if let Some(o) = s
                .district_departments
                .iter()
                .find(|o| !districts.iter().any(|d: &District| d.code == o.district))
            {
                return Err(CatalogueError::UnknownDistrict {
                    service: s.code.to_string(),
                    district: o.district.clone(),
                });
            }
            if let Some(d) = &s.duplicates
                && !(d.radius_m > 0.0
                    && d.radius_m <= MAX_DUPLICATE_RADIUS_M
                    && (1..=MAX_DUPLICATE_WINDOW_HOURS).contains(&d.window_hours))
            {
                return Err(CatalogueError::Duplicates {
                    service: s.code.to_string(),
                    reason: format!(
                        "radius_m must be in (0, {MAX_DUPLICATE_RADIUS_M}] and window_hours in 1..={MAX_DUPLICATE_WINDOW_HOURS}"
                    ),
                });
            }
            crate::service_form::check_definition(&s.attributes).map_err(|reason| {
                CatalogueError::Attribute {
                    service: s.code.to_string(),
                    reason,
                }
            })?;
            if services.insert(s.code.clone(), s.clone()).is_some() {
                return Err(CatalogueError::Duplicate {
                    what: "service",
                    code: s.code.to_string(),
                });
            }
        }
        let calendar = document
            .city
            .calendar
            .as_ref()
            .map(crate::rules::calendar::BusinessCalendar::new)
            .transpose()?;
        let timezone = jiff::tz::TimeZone::get(&document.city.timezone)
            .map_err(|_| CatalogueError::TimeZone(document.city.timezone.clone()))?;
        if let Some(share) = document.city.sla_warning_share
            && !(share > 0.0 && share < 1.0)
        {
            return Err(CatalogueError::SlaWarningShare);
        }
        if let Some(triage) = &document.city.triage_department
            && !departments.contains_key(triage)
        {
            return Err(CatalogueError::TriageDepartment(triage.to_string()));
        }
        let mut routing_rules = Vec::new();
        for (index, rule) in document.routing_rules.iter().enumerate() {
            let fail = |reason: String| CatalogueError::RoutingRule {
                index: index + 1,
                reason,
            };
            if !departments.contains_key(&rule.department) {
                return Err(fail(format!("unknown department {}", rule.department)));
            }
            if let Some(service) = &rule.service
                && !services.contains_key(service)
            {
                return Err(fail(format!("unknown service {service}")));
            }
            if let Some(district) = &rule.district
                && !districts.iter().any(|d| &d.code == district)
            {
                return Err(fail(format!("unknown district {district}")));
            }
            routing_rules.push(CompiledRule::compile(rule).map_err(fail)?);
        }
        let addresses = crate::places::AddressBook::new(document.addresses.clone());
        Ok(Self {
            calendar,
            timezone,
            document,
            departments,
            services,
            districts,
            routing_rules,
            addresses,
        })
    }

    /// The city's address list (empty when it has none).
    pub fn addresses(&self) -> &crate::places::AddressBook {
        &self.addresses
    }

    /// The explicit routing rules, in order (matched by `rules::routing`).
    pub fn routing_rules(&self) -> &[CompiledRule] {
        &self.routing_rules
    }

    /// Share of an SLA after which a warning goes out.
    pub fn sla_warning_share(&self) -> f64 {
        self.document.city.sla_warning_share.unwrap_or(0.8)
    }

    pub fn time_zone(&self) -> &jiff::tz::TimeZone {
        &self.timezone
    }

    pub fn document(&self) -> &CatalogueDocument {
        &self.document
    }
    pub fn city(&self) -> &City {
        &self.document.city
    }
    pub fn service(&self, code: &ServiceCode) -> Option<&Service> {
        self.services.get(code)
    }
    pub fn services(&self) -> impl Iterator<Item = &Service> {
        self.services.values()
    }
    pub fn department(&self, code: &DepartmentCode) -> Option<&Department> {
        self.departments.get(code)
    }
    pub fn departments(&self) -> &[Department] {
        &self.document.departments
    }
    pub fn districts(&self) -> &[District] {
        &self.districts
    }

    /// The box around every district: `[min long, min lat, max long, max lat]`
    /// (GeoJSON's `bbox` order), `None` for a city without districts.
    pub fn bounding_box(&self) -> Option<[f64; 4]> {
        use geo::BoundingRect;
        self.districts
            .iter()
            .filter_map(|d| d.shape.bounding_rect())
            .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y])
            .reduce(|a, b| {
                [
                    a[0].min(b[0]),
                    a[1].min(b[1]),
                    a[2].max(b[2]),
                    a[3].max(b[3]),
                ]
            })
    }

    /// When an SLA of `hours` started at `start` ends: in working hours when the
    /// city has a calendar, around the clock otherwise.
    pub fn due_after(&self, start: jiff::Timestamp, hours: u32) -> jiff::Timestamp {
        match &self.calendar {
            Some(calendar) => calendar.add_working_hours(start, hours, &self.timezone),
            None => start
                .saturating_add(jiff::SignedDuration::from_hours(i64::from(hours)))
                .unwrap_or(start),
        }
    }

    /// The district containing the point, if any.
    pub fn district_at(&self, point: GeoPoint) -> Option<&District> {
        let p = Point::new(point.long, point.lat);
        // A point on a border belongs to the first district listed.
        self.districts.iter().find(|d| d.shape.intersects(&p))
    }
}

/// The catalogues of every city one deployment serves; the first is the default.
#[derive(Debug, Clone)]
pub struct Catalogues {
    first: Catalogue,
    others: Vec<Catalogue>,
}

impl Catalogues {
    /// Checks that cities, their departments and department queues do not share
    /// codes: a department's API key and queue must never reach another city's work.
    pub fn new(mut catalogues: Vec<Catalogue>) -> Result<Self, CatalogueError> {
        if catalogues.is_empty() {
            return Err(CatalogueError::Toml("no catalogue given".into()));
        }
        let mut cities = std::collections::HashSet::new();
        let mut departments = std::collections::HashSet::new();
        let mut queues = std::collections::HashSet::new();
        for c in &catalogues {
            if !cities.insert(c.city().jurisdiction_id.clone()) {
                return Err(CatalogueError::Duplicate {
                    what: "jurisdiction",
                    code: c.city().jurisdiction_id.to_string(),
                });
            }
            for d in c.departments() {
                if !departments.insert(d.code.clone()) || !queues.insert(d.queue.clone()) {
                    return Err(CatalogueError::Duplicate {
                        what: "department or queue (across cities)",
                        code: d.code.to_string(),
                    });
                }
            }
        }
        let first = catalogues.remove(0);
        Ok(Self {
            first,
            others: catalogues,
        })
    }

    pub fn single(catalogue: Catalogue) -> Self {
        Self {
            first: catalogue,
            others: Vec::new(),
        }
    }

    pub fn get(&self, jurisdiction: &JurisdictionId) -> Option<&Catalogue> {
        self.iter()
            .find(|c| &c.city().jurisdiction_id == jurisdiction)
    }

    /// The deployment's own city (`JURISDICTION_ID`).
    pub fn default_catalogue(&self) -> &Catalogue {
        &self.first
    }

    pub fn iter(&self) -> impl Iterator<Item = &Catalogue> {
        std::iter::once(&self.first).chain(self.others.iter())
    }

    /// How many cities (never none).
    pub fn count(&self) -> usize {
        1 + self.others.len()
    }

    pub fn ids(&self) -> Vec<&str> {
        self.iter()
            .map(|c| c.city().jurisdiction_id.as_str())
            .collect()
    }
}

fn district_from_feature(
    index: usize,
    feature: &geojson::Feature,
) -> Result<District, CatalogueError> {
    let err = |reason: &str| CatalogueError::District {
        index,
        reason: reason.to_owned(),
    };
    let prop = |key: &str| {
        feature
            .property(key)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .ok_or_else(|| err(&format!("missing string property `{key}`")))
    };
    let code = prop("code")?;
    let name = prop("name")?;
    let geometry = feature
        .geometry
        .clone()
        .ok_or_else(|| err("missing geometry"))?;
    let shape: geo::Geometry<f64> = geometry
        .try_into()
        .map_err(|e: geojson::Error| err(&e.to_string()))?;
    let shape = match shape {
        geo::Geometry::Polygon(p) => MultiPolygon::new(vec![p]),
        geo::Geometry::MultiPolygon(m) => m,
        _ => return Err(err("geometry must be a Polygon or MultiPolygon")),
    };
    Ok(District { code, name, shape })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const TOML: &str = r#"
[city]
jurisdiction_id = "testville"
name = { pl = "Testowo", en = "Testville" }
timezone = "Europe/Warsaw"
centre = { lat = 50.05, long = 19.95 }

[[departments]]
code = "roads"
name = { pl = "Drogi", en = "Roads" }
queue = "roads"

[[departments]]
code = "greenery"
name = { pl = "Zieleń", en = "Greenery" }
queue = "greenery"

[[departments]]
code = "east-roads"
name = { pl = "Drogi Wschód", en = "Roads East" }
queue = "east-roads"

[[services]]
code = "pothole"
name = { pl = "Dziura w jezdni", en = "Pothole" }
group = "roads"
department = "roads"
sla_hours = 72
keywords = { pl = ["dziura", "jezdnia", "ubytek w nawierzchni"], en = ["pothole", "hole in road"] }
district_departments = [{ district = "east", department = "east-roads" }]

[[services]]
code = "fallen-tree"
name = { pl = "Powalone drzewo", en = "Fallen tree" }
group = "greenery"
department = "greenery"
sla_hours = 24
keywords = { pl = ["drzewo", "konar", "gałąź"], en = ["tree", "branch"] }
duplicates = { radius_m = 50, window_hours = 48 }

# Night duty: the east's road crew clears fallen trees between 22:00 and 06:00.
[[routing_rules]]
service = "fallen-tree"
district = "east"
hours = ["22:00", "06:00"]
department = "east-roads"
"#;

    pub(crate) const GEOJSON: &str = r#"{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"code":"west","name":"Zachód"},
  "geometry":{"type":"Polygon","coordinates":[[[19.9,50.0],[19.95,50.0],[19.95,50.1],[19.9,50.1],[19.9,50.0]]]}},
 {"type":"Feature","properties":{"code":"east","name":"Wschód"},
  "geometry":{"type":"Polygon","coordinates":[[[19.95,50.0],[20.0,50.0],[20.0,50.1],[19.95,50.1],[19.95,50.0]]]}}
]}"#;

    pub(crate) fn catalogue() -> Catalogue {
        let doc = CatalogueDocument::from_sources(TOML, GEOJSON).unwrap();
        Catalogue::new(doc).unwrap()
    }

    #[test]
    fn loads_and_finds_districts() {
        let c = catalogue();
        assert_eq!(c.services().count(), 2);
        let east = c.district_at(GeoPoint {
            lat: 50.05,
            long: 19.97,
        });
        assert_eq!(east.map(|d| d.code.as_str()), Some("east"));
        assert!(
            c.district_at(GeoPoint {
                lat: 52.2,
                long: 21.0
            })
            .is_none()
        );
    }

    #[test]
    fn bounding_box_covers_every_district() {
        assert_eq!(catalogue().bounding_box(), Some([19.9, 50.0, 20.0, 50.1]));
    }

    #[test]
    fn json_round_trip_keeps_everything() {
        let c = catalogue();
        let json = serde_json::to_vec(c.document()).unwrap();
        let again = Catalogue::from_json(&json).unwrap();
        assert_eq!(again.districts().len(), 2);
        assert_eq!(again.city().jurisdiction_id.as_str(), "testville");
    }

    #[test]
    fn unknown_department_is_refused() {
        let bad = TOML.replace(
            "department = \"greenery\"\nsla",
            "department = \"parks\"\nsla",
        );
        let err =
            Catalogue::new(CatalogueDocument::from_sources(&bad, GEOJSON).unwrap()).unwrap_err();
        assert!(
            err.to_string().contains("unknown department parks"),
            "{err}"
        );
    }
}
