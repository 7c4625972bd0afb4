//! Where a problem is: a checked WGS84 point, an address, the district the
//! catalogue derives from the point.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    #[error("lat must be a number between -90 and 90")]
    Latitude,
    #[error("long must be a number between -180 and 180")]
    Longitude,
    #[error("lat and long must be given together")]
    HalfPoint,
    #[error("address must be at most 300 characters")]
    AddressTooLong,
}

/// A WGS84 point, checked for range.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    pub lat: f64,
    pub long: f64,
}

impl GeoPoint {
    pub fn parse(lat: f64, long: f64) -> Result<Self, LocationError> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(LocationError::Latitude);
        }
        if !long.is_finite() || !(-180.0..=180.0).contains(&long) {
            return Err(LocationError::Longitude);
        }
        Ok(Self { lat, long })
    }
}

/// Where the problem is. The district is derived from the point by the catalogue.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Location {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point: Option<GeoPoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
}

impl Location {
    pub fn parse(
        lat: Option<f64>,
        long: Option<f64>,
        address: Option<&str>,
    ) -> Result<Self, LocationError> {
        let point = match (lat, long) {
            (Some(lat), Some(long)) => Some(GeoPoint::parse(lat, long)?),
            (None, None) => None,
            _ => return Err(LocationError::HalfPoint),
        };
        let address = address.map(str::trim).filter(|a| !a.is_empty());
        if address.is_some_and(|a| a.chars().count() > 300) {
            return Err(LocationError::AddressTooLong);
        }
        Ok(Self {
            point,
            address: address.map(str::to_owned),
            district: None,
        })
    }
}
