//! The routing rule: which department handles a request (explicit rules, a
//! district's own department, routes learned from history, the service's
//! default), and when it is due (the service's SLA in business hours). The
//! catalogue's explicit rules are in [`explicit`], which the catalogue
//! compiles when it loads.

pub mod explicit;

use jiff::Timestamp;

use crate::catalogue::{Catalogue, Department};
use crate::ids::{DepartmentCode, ServiceCode};
use crate::learning::routing_table::{LearnedRoutes, RouteQuery};
use explicit::{CompiledRule, RoutingRule};

/// The first explicit rule of the catalogue matching service, district and
/// the city's local time of `at`, if any.
pub fn rule_for<'a>(
    catalogue: &'a Catalogue,
    service: &ServiceCode,
    district: Option<&str>,
    at: Timestamp,
) -> Option<&'a RoutingRule> {
    let local = at.to_zoned(catalogue.time_zone().clone()).time();
    catalogue
        .routing_rules()
        .iter()
        .find(|r| r.matches(service, district, local))
        .map(CompiledRule::rule)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoutingError {
    #[error("service {0} is not in the catalogue")]
    UnknownService(ServiceCode),
    #[error("the catalogue names department {0}, which does not exist")]
    UnknownDepartment(String),
    #[error("every department that could take service {0} has handed it back")]
    EveryoneDeclined(ServiceCode),
}

/// Why a department was chosen (for logs and for the routing evaluation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteBasis {
    /// An explicit rule of the catalogue (service × district × time of day).
    Rule,
    /// The service's department for that district.
    DistrictOverride,
    /// Who handled cases like this one in the city's history.
    Learned,
    /// The service's own department.
    ServiceDefault,
    /// A department transferred it to this one by name.
    Transfer,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoutingDecision<'a> {
    pub department: &'a Department,
    pub due_at: Timestamp,
    pub basis: RouteBasis,
}

/// What routing reads of a request.
#[derive(Debug, Clone, Copy)]
pub struct RoutingCase<'r> {
    pub service: &'r ServiceCode,
    pub district: Option<&'r str>,
    /// The request's words (routes learned from history read them).
    pub text: &'r str,
    /// When its clock starts: explicit rules match its local time of day and
    /// the due time counts from it.
    pub received_at: Timestamp,
}

/// Decides department and due time for a request.
///
/// Explicit rules first, then the district's department, then the route learned
/// from history, then the service's own department; departments that handed
/// the request back (`declined`) are passed over.
pub fn route<'a>(
    catalogue: &'a Catalogue,
    case: &RoutingCase<'_>,
    learned: Option<&LearnedRoutes>,
    declined: &[DepartmentCode],
) -> Result<RoutingDecision<'a>, RoutingError> {
    let service_code = case.service;
    let district = case.district;
    let service = catalogue
        .service(service_code)
        .ok_or_else(|| RoutingError::UnknownService(service_code.clone()))?;
    let rule = rule_for(catalogue, service_code, district, case.received_at)
        .map(|r| (r.department.clone(), RouteBasis::Rule));
    let district_override = district
        .and_then(|d| {
            service
                .district_departments
                .iter()
                .find(|o| o.district == d)
        })
        .map(|o| (o.department.clone(), RouteBasis::DistrictOverride));
    let learned = learned
        .and_then(|l| {
            l.department(&RouteQuery {
                service: service_code.as_str(),
                subtype: None,
                text: case.text,
                district,
                received_at: Some(case.received_at),
            })
        })
        .and_then(|d| DepartmentCode::parse(&d).ok())
        .filter(|d| catalogue.department(d).is_some())
        .map(|d| (d, RouteBasis::Learned));
    let default = Some((service.department.clone(), RouteBasis::ServiceDefault));
    let (code, basis) = [rule, district_override, learned, default]
        .into_iter()
        .flatten()
        .find(|(d, _)| !declined.contains(d))
        .ok_or_else(|| RoutingError::EveryoneDeclined(service_code.clone()))?;
    let department = catalogue
        .department(&code)
        .ok_or_else(|| RoutingError::UnknownDepartment(code.to_string()))?;
    // Business time when the city has a calendar (see rules::calendar).
    let due_at = catalogue.due_after(case.received_at, service.sla_hours);
    Ok(RoutingDecision {
        department,
        due_at,
        basis,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::tests::catalogue;

    fn case<'r>(
        service: &'r ServiceCode,
        district: Option<&'r str>,
        at: Timestamp,
    ) -> RoutingCase<'r> {
        RoutingCase {
            service,
            district,
            text: "",
            received_at: at,
        }
    }

    #[test]
    fn default_and_district_override() {
        let c = catalogue();
        let at: Timestamp = "2026-11-02T08:00:00Z".parse().unwrap();
        let pothole = ServiceCode::parse("pothole").unwrap();
        let west = route(&c, &case(&pothole, Some("west"), at), None, &[]).unwrap();
        assert_eq!(west.department.code.as_str(), "roads");
        assert_eq!(west.due_at.to_string(), "2026-11-05T08:00:00Z");
        let east = route(&c, &case(&pothole, Some("east"), at), None, &[]).unwrap();
        assert_eq!(east.department.code.as_str(), "east-roads");
        let none = route(&c, &case(&pothole, None, at), None, &[]).unwrap();
        assert_eq!(none.department.code.as_str(), "roads");
    }

    #[test]
    fn unknown_service_is_an_error() {
        let c = catalogue();
        let at = Timestamp::UNIX_EPOCH;
        let code = ServiceCode::parse("graffiti").unwrap();
        assert_eq!(
            route(&c, &case(&code, None, at), None, &[]),
            Err(RoutingError::UnknownService(code))
        );
    }

    #[test]
    fn explicit_rule_by_time_of_day_wraps_midnight() {
        let c = catalogue();
        let tree = ServiceCode::parse("fallen-tree").unwrap();
        // 23:30 and 05:59 in Warsaw (UTC+1 in November) are night duty; 06:00 is not.
        for (at, expected, basis) in [
            ("2026-11-02T22:30:00Z", "east-roads", RouteBasis::Rule),
            ("2026-11-03T04:59:00Z", "east-roads", RouteBasis::Rule),
            (
                "2026-11-03T05:00:00Z",
                "greenery",
                RouteBasis::ServiceDefault,
            ),
        ] {
            let d = route(
                &c,
                &case(&tree, Some("east"), at.parse().unwrap()),
                None,
                &[],
            )
            .unwrap();
            assert_eq!(
                (d.department.code.as_str(), d.basis),
                (expected, basis),
                "{at}"
            );
        }
        let night = "2026-11-02T22:30:00Z".parse().unwrap();
        let west = route(&c, &case(&tree, Some("west"), night), None, &[]);
        assert_eq!(west.unwrap().department.code.as_str(), "greenery");
    }

    #[test]
    fn learned_routes_sit_between_rules_and_the_default() {
        use crate::learning::routing_table::HandledCase;
        let handled = |service: &str, district: Option<&str>, department: &str| HandledCase {
            service: service.into(),
            subtype: None,
            text: String::new(),
            district: district.map(Into::into),
            received_at: None,
            department: department.into(),
        };
        let c = catalogue();
        let at: Timestamp = "2026-11-02T08:00:00Z".parse().unwrap();
        let tree = ServiceCode::parse("fallen-tree").unwrap();
        let pothole = ServiceCode::parse("pothole").unwrap();
        let history = [
            handled("fallen-tree", Some("west"), "roads"),
            handled("pothole", Some("east"), "roads"),
            handled("pothole", None, "no-such-department"),
        ];
        let learned = LearnedRoutes::learn(&history);
        let d = route(&c, &case(&tree, Some("west"), at), Some(&learned), &[]).unwrap();
        assert_eq!(
            (d.department.code.as_str(), d.basis),
            ("roads", RouteBasis::Learned)
        );
        // The catalogue's district override beats what history learned.
        let d = route(&c, &case(&pothole, Some("east"), at), Some(&learned), &[]).unwrap();
        assert_eq!(d.basis, RouteBasis::DistrictOverride);
        // A learned department the catalogue does not have is ignored.
        let d = route(&c, &case(&pothole, Some("west"), at), Some(&learned), &[]).unwrap();
        assert_eq!(d.basis, RouteBasis::ServiceDefault);
    }

    #[test]
    fn a_department_that_handed_back_is_passed_over() {
        let c = catalogue();
        let at: Timestamp = "2026-11-02T08:00:00Z".parse().unwrap();
        let pothole = ServiceCode::parse("pothole").unwrap();
        let east = DepartmentCode::parse("east-roads").unwrap();
        let roads = DepartmentCode::parse("roads").unwrap();
        let d = route(
            &c,
            &case(&pothole, Some("east"), at),
            None,
            std::slice::from_ref(&east),
        )
        .unwrap();
        assert_eq!(d.department.code.as_str(), "roads");
        assert_eq!(
            route(&c, &case(&pothole, Some("east"), at), None, &[east, roads]),
            Err(RoutingError::EveryoneDeclined(pothole))
        );
    }
}
