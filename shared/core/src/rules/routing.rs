//! The routing rule: which department handles a service (a district may have its
//! own), and when it is due (the service's SLA in hours).

use jiff::Timestamp;

use crate::catalogue::{Catalogue, Department};
use crate::ids::ServiceCode;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoutingError {
    #[error("service {0} is not in the catalogue")]
    UnknownService(ServiceCode),
    #[error("the catalogue names department {0}, which does not exist")]
    UnknownDepartment(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoutingDecision<'a> {
    pub department: &'a Department,
    pub due_at: Timestamp,
}

/// Decides department and due time for a service in an (optional) district.
pub fn route<'a>(
    catalogue: &'a Catalogue,
    service_code: &ServiceCode,
    district: Option<&str>,
    received_at: Timestamp,
) -> Result<RoutingDecision<'a>, RoutingError> {
    let service = catalogue
        .service(service_code)
        .ok_or_else(|| RoutingError::UnknownService(service_code.clone()))?;
    let code = district
        .and_then(|d| {
            service
                .district_departments
                .iter()
                .find(|o| o.district == d)
        })
        .map_or(&service.department, |o| &o.department);
    let department = catalogue
        .department(code)
        .ok_or_else(|| RoutingError::UnknownDepartment(code.to_string()))?;
    // Business time when the city has a calendar (see rules::calendar).
    let due_at = catalogue.due_after(received_at, service.sla_hours);
    Ok(RoutingDecision { department, due_at })
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
        let west = route(&c, &pothole, Some("west"), at).unwrap();
        assert_eq!(west.department.code.as_str(), "roads");
        assert_eq!(west.due_at.to_string(), "2026-11-05T08:00:00Z");
        let east = route(&c, &pothole, Some("east"), at).unwrap();
        assert_eq!(east.department.code.as_str(), "east-roads");
        let none = route(&c, &pothole, None, at).unwrap();
        assert_eq!(none.department.code.as_str(), "roads");
    }

    #[test]
    fn unknown_service_is_an_error() {
        let c = catalogue();
        let at = Timestamp::UNIX_EPOCH;
        let code = ServiceCode::parse("graffiti").unwrap();
        assert_eq!(
            route(&c, &code, None, at),
            Err(RoutingError::UnknownService(code))
        );
    }
}
