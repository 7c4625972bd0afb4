//! The routing rule: which department handles a service (explicit rules, a
//! district's own department, routes learned from history, the service's
//! default), and when it is due (the service's SLA in business hours).

use jiff::Timestamp;

use crate::catalogue::{Catalogue, Department};
use crate::ids::{DepartmentCode, ServiceCode};
use crate::learning::routing_table::LearnedRoutes;

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
    /// Who handled this service in this area most often in the city's history.
    Learned,
    /// The service's own department.
    ServiceDefault,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoutingDecision<'a> {
    pub department: &'a Department,
    pub due_at: Timestamp,
    pub basis: RouteBasis,
}

/// Decides department and due time for a service in an (optional) district.
///
/// Explicit rules first, then the district's department, then the route learned
/// from history, then the service's own department; departments that handed
/// the request back (`declined`) are passed over.
pub fn route<'a>(
    catalogue: &'a Catalogue,
    service_code: &ServiceCode,
    district: Option<&str>,
    received_at: Timestamp,
    learned: Option<&LearnedRoutes>,
    declined: &[DepartmentCode],
) -> Result<RoutingDecision<'a>, RoutingError> {
    let service = catalogue
        .service(service_code)
        .ok_or_else(|| RoutingError::UnknownService(service_code.clone()))?;
    let rule = catalogue
        .routing_rule_for(service_code, district, received_at)
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
        .and_then(|l| l.department(service_code.as_str(), district))
        .and_then(|d| DepartmentCode::parse(d).ok())
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
    let due_at = catalogue.due_after(received_at, service.sla_hours);
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

    #[test]
    fn default_and_district_override() {
        let c = catalogue();
        let at: Timestamp = "2026-11-02T08:00:00Z".parse().unwrap();
        let pothole = ServiceCode::parse("pothole").unwrap();
        let west = route(&c, &pothole, Some("west"), at, None, &[]).unwrap();
        assert_eq!(west.department.code.as_str(), "roads");
        assert_eq!(west.due_at.to_string(), "2026-11-05T08:00:00Z");
        let east = route(&c, &pothole, Some("east"), at, None, &[]).unwrap();
        assert_eq!(east.department.code.as_str(), "east-roads");
        let none = route(&c, &pothole, None, at, None, &[]).unwrap();
        assert_eq!(none.department.code.as_str(), "roads");
    }

    #[test]
    fn unknown_service_is_an_error() {
        let c = catalogue();
        let at = Timestamp::UNIX_EPOCH;
        let code = ServiceCode::parse("graffiti").unwrap();
        assert_eq!(
            route(&c, &code, None, at, None, &[]),
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
            let d = route(&c, &tree, Some("east"), at.parse().unwrap(), None, &[]).unwrap();
            assert_eq!(
                (d.department.code.as_str(), d.basis),
                (expected, basis),
                "{at}"
            );
        }
        let west = route(
            &c,
            &tree,
            Some("west"),
            "2026-11-02T22:30:00Z".parse().unwrap(),
            None,
            &[],
        );
        assert_eq!(west.unwrap().department.code.as_str(), "greenery");
    }

    #[test]
    fn learned_routes_sit_between_rules_and_the_default() {
        use crate::learning::routing_table::HandledCase;
        let c = catalogue();
        let at: Timestamp = "2026-11-02T08:00:00Z".parse().unwrap();
        let tree = ServiceCode::parse("fallen-tree").unwrap();
        let pothole = ServiceCode::parse("pothole").unwrap();
        let history = [
            HandledCase {
                service: "fallen-tree".into(),
                district: Some("west".into()),
                department: "roads".into(),
            },
            HandledCase {
                service: "pothole".into(),
                district: Some("east".into()),
                department: "roads".into(),
            },
            HandledCase {
                service: "pothole".into(),
                district: None,
                department: "no-such-department".into(),
            },
        ];
        let learned = LearnedRoutes::learn(&history);
        let d = route(&c, &tree, Some("west"), at, Some(&learned), &[]).unwrap();
        assert_eq!(
            (d.department.code.as_str(), d.basis),
            ("roads", RouteBasis::Learned)
        );
        // The catalogue's district override beats what history learned.
        let d = route(&c, &pothole, Some("east"), at, Some(&learned), &[]).unwrap();
        assert_eq!(d.basis, RouteBasis::DistrictOverride);
        // A learned department the catalogue does not have is ignored.
        let d = route(&c, &pothole, Some("west"), at, Some(&learned), &[]).unwrap();
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
            &pothole,
            Some("east"),
            at,
            None,
            std::slice::from_ref(&east),
        )
        .unwrap();
        assert_eq!(d.department.code.as_str(), "roads");
        assert_eq!(
            route(&c, &pothole, Some("east"), at, None, &[east, roads]),
            Err(RoutingError::EveryoneDeclined(pothole))
        );
    }
}
