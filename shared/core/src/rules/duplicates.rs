//! The duplicate rule: a new request of the same service within the service's
//! radius and time window of an open one is another report of it.

use geo::{Distance, Haversine, Point};

use crate::catalogue::DuplicateSettings;
use crate::request::ServiceRequest;
use crate::status::Status;

/// The open request `new` most likely repeats: same city and service, open,
/// not itself a duplicate, created within the window before it, within the
/// radius; the nearest wins, then the oldest.
pub fn original_of<'a>(
    new: &ServiceRequest,
    candidates: &'a [ServiceRequest],
    settings: &DuplicateSettings,
) -> Option<&'a ServiceRequest> {
    let point = new.location.point?;
    let here = Point::new(point.long, point.lat);
    let window = jiff::SignedDuration::from_hours(i64::from(settings.window_hours));
    let earliest = new.created_at.saturating_sub(window).ok()?;
    candidates
        .iter()
        .filter(|c| {
            c.id != new.id
                && c.jurisdiction == new.jurisdiction
                && c.service_code.is_some()
                && c.service_code == new.service_code
                && is_open_original(c.status)
                && c.created_at >= earliest
                && c.created_at <= new.created_at
        })
        .filter_map(|c| {
            let p = c.location.point?;
            let metres = Haversine.distance(here, Point::new(p.long, p.lat));
            (metres <= settings.radius_m).then_some((metres, c))
        })
        .min_by(|(a, x), (b, y)| a.total_cmp(b).then(x.created_at.cmp(&y.created_at)))
        .map(|(_, c)| c)
}

/// Open work a new report can follow (what the place index keeps).
pub fn is_open_original(status: Status) -> bool {
    matches!(
        status,
        Status::Assigned | Status::Acknowledged | Status::InProgress | Status::Reopened
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::location::GeoPoint;

    fn request(seed: u64, minutes: i64, lat: f64, long: f64, status: Status) -> ServiceRequest {
        let created = jiff::Timestamp::from_second(1_800_000_000 + minutes * 60).unwrap();
        serde_json::from_value(serde_json::json!({
            "id": format!("01J{seed:023}"),
            "case_number": crate::ids::CaseNumber::from_entropy(seed),
            "jurisdiction": "testville",
            "channel": "web",
            "language": "pl",
            "service_code": "fallen-tree",
            "description": "Drzewo",
            "location": { "point": GeoPoint { lat, long } },
            "status": status,
            "created_at": created,
            "updated_at": created,
            "tracking_token_hash": "x",
            "has_contact": false,
            "version": 1
        }))
        .unwrap()
    }

    #[test]
    fn nearest_open_report_within_radius_and_window() {
        let settings = DuplicateSettings {
            radius_m: 50.0,
            window_hours: 48,
        };
        let new = request(1, 600, 50.06, 19.94, Status::New);
        // ~22 m north, ~33 m north, ~111 m north (outside), a resolved one nearby.
        let near = request(2, 100, 50.0602, 19.94, Status::Assigned);
        let farther = request(3, 50, 50.0603, 19.94, Status::InProgress);
        let outside = request(4, 10, 50.061, 19.94, Status::Assigned);
        let resolved = request(5, 10, 50.06, 19.94, Status::Resolved);
        let candidates = vec![
            farther.clone(),
            outside,
            resolved,
            near.clone(),
            new.clone(),
        ];
        assert_eq!(
            original_of(&new, &candidates, &settings).map(|r| &r.id),
            Some(&near.id)
        );
        // Outside the window: too old.
        let old = request(6, 600 - 49 * 60, 50.06, 19.94, Status::Assigned);
        assert!(original_of(&new, &[old], &settings).is_none());
        // Another service is never a duplicate.
        let mut other = near;
        other.service_code = Some(crate::ids::ServiceCode::parse("pothole").unwrap());
        assert!(original_of(&new, &[other], &settings).is_none());
        // Without a point there is nothing to compare.
        let mut pointless = new.clone();
        pointless.location.point = None;
        assert!(original_of(&pointless, &[farther], &settings).is_none());
    }
}
