//! Lists that do not grow with the day: a page of at most `limit` items and
//! an opaque cursor for the next one. A cursor is the store's sort key of the
//! last item given out, so paging on returns every item present throughout
//! exactly once, in order, even while new work arrives.

use crate::ids::{DepartmentCode, JurisdictionId};
use crate::status::Status;

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 200;
const CURSOR_PREFIX: &str = "c1.";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PagingError {
    #[error("limit must be a whole number from 1 to {MAX_LIMIT}")]
    Limit,
    #[error(
        "cursor is not one this API gave out: pass the \"next\" of the previous page, or leave it out to start again"
    )]
    Cursor,
}

impl PagingError {
    /// The query parameter to fix.
    pub fn field(&self) -> &'static str {
        match self {
            PagingError::Limit => "limit",
            PagingError::Cursor => "cursor",
        }
    }
}

/// Where the previous page ended: the store's sort key of its last item.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PageKey(String);

impl PageKey {
    pub fn new(sort_key: impl Into<String>) -> Self {
        Self(sort_key.into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The opaque form clients get (`next`) and send back (`cursor`).
    pub fn cursor(&self) -> String {
        format!("{CURSOR_PREFIX}{}", hex::encode(self.0.as_bytes()))
    }
    pub fn from_cursor(raw: &str) -> Result<Self, PagingError> {
        let bytes = raw
            .trim()
            .strip_prefix(CURSOR_PREFIX)
            .and_then(|h| hex::decode(h).ok())
            .filter(|b| !b.is_empty() && b.len() <= 512)
            .ok_or(PagingError::Cursor)?;
        String::from_utf8(bytes)
            .map(Self)
            .map_err(|_| PagingError::Cursor)
    }
}

/// Which page a caller wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: usize,
    pub after: Option<PageKey>,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            limit: DEFAULT_LIMIT,
            after: None,
        }
    }
}

impl PageRequest {
    /// From the query parameters `limit` and `cursor` (absent or empty: the defaults).
    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> Result<Self, PagingError> {
        let limit = match limit.map(str::trim).filter(|l| !l.is_empty()) {
            None => DEFAULT_LIMIT,
            Some(raw) => raw
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or(PagingError::Limit)?,
        };
        let after = cursor
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(PageKey::from_cursor)
            .transpose()?;
        Ok(Self { limit, after })
    }
}

/// One page, and where the next starts (`None` on the last).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<PageKey>,
}

/// A half-open time window `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    pub from: jiff::Timestamp,
    pub to: jiff::Timestamp,
}

impl TimeWindow {
    pub fn contains(&self, at: jiff::Timestamp) -> bool {
        at >= self.from && at < self.to
    }
}

/// Which end of a time-ordered list comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    OldestFirst,
    NewestFirst,
}

/// Open reports a new one may repeat: same city and service, open, created
/// since `created_from`, near `point` (at least `radius_m` around it).
#[derive(Debug, Clone, PartialEq)]
pub struct NearbyOpen {
    pub jurisdiction: JurisdictionId,
    pub service_code: crate::ids::ServiceCode,
    pub point: crate::location::GeoPoint,
    pub radius_m: f64,
    pub created_from: jiff::Timestamp,
}

/// The lists a page can be read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listing {
    /// A department's open work, by status then due time; one status when given.
    DepartmentWork {
        department: DepartmentCode,
        status: Option<Status>,
    },
    /// A city's requests waiting for a person, oldest first.
    Triage { jurisdiction: JurisdictionId },
    /// The reports that follow an open request, oldest first.
    Followers { original: crate::ids::RequestId },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_bad_input_names_its_field() {
        let key = PageKey::new("assigned#2026-12-10T09:30:00Z#01J0000");
        assert_eq!(PageKey::from_cursor(&key.cursor()), Ok(key.clone()));
        let page = PageRequest::parse(Some("10"), Some(&key.cursor())).unwrap();
        assert_eq!((page.limit, page.after), (10, Some(key)));
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, DEFAULT_LIMIT);
        for bad in ["0", "201", "-1", "ten"] {
            let err = PageRequest::parse(Some(bad), None).unwrap_err();
            assert_eq!(err.field(), "limit", "{bad}");
        }
        for bad in ["abc", "c1.zz", "c1.", "c2.6162"] {
            let err = PageRequest::parse(None, Some(bad)).unwrap_err();
            assert_eq!(err.field(), "cursor", "{bad}");
        }
    }
}
