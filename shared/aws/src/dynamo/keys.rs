//! Key builders: the only place that knows how items are addressed.

use citydesk_core::ids::{CaseNumber, DepartmentCode, JurisdictionId, RequestId, ServiceCode};
use citydesk_core::location::GeoPoint;
use citydesk_core::request::{HistoryEvent, ServiceRequest};
use citydesk_core::rules::duplicates::is_open_original;
use jiff::Timestamp;

pub const REQUEST_PREFIX: &str = "REQ#";
pub const REQUEST_SK: &str = "REQUEST";
pub const CONTACT_SK: &str = "CONTACT";
pub const EVENT_PREFIX: &str = "EVENT#";
pub const CASE_SK: &str = "CASE";
pub const IDEMPOTENCY_SK: &str = "IDEMPOTENCY";
pub const API_KEY_SK: &str = "APIKEY";
pub const CLIENT_KEY_SK: &str = "CLIENTKEY";
pub const ONCE_SK: &str = "ONCE";
/// The SLA sweep's place, when a run stopped before going round.
pub const SWEEP_PK: &str = "SWEEP#sla";
pub const SWEEP_SK: &str = "SWEEP";
/// Attribute of a history event item: the request's public fields after it
/// (`citydesk_core::outbox::RequestSnapshot`), read by the stream's dispatcher.
pub const SNAPSHOT_ATTRIBUTE: &str = "snapshot";

pub const DEPARTMENT_INDEX: &str = "DepartmentOpenWork";
pub const PLACE_INDEX: &str = "OpenByPlace";
/// Geohash length of the place index's cells: about 0.6 × 0.6-1.2 km, so a
/// cell and its eight neighbours cover more than the widest duplicate radius
/// (`citydesk_core::catalogue::MAX_DUPLICATE_RADIUS_M`) around any point.
pub const PLACE_CELL_PRECISION: usize = 6;
pub const DAY_INDEX: &str = "CreatedByDay";
pub const CHANGES_INDEX: &str = "ChangesByDay";

/// Open work of one department is spread over this many index partitions.
pub const DEPARTMENT_SHARDS: u8 = 8;

pub fn request_pk(id: &RequestId) -> String {
    format!("{REQUEST_PREFIX}{id}")
}
pub fn event_sk(seq: u64) -> String {
    format!("{EVENT_PREFIX}{seq:010}")
}
pub fn case_pk(case: &CaseNumber) -> String {
    format!("CASE#{case}")
}
pub fn idempotency_pk(key: &str) -> String {
    format!("IDEMPOTENCY#{key}")
}
pub fn api_key_pk(key_hash: &str) -> String {
    format!("APIKEY#{key_hash}")
}
/// A department's list of its keys (ids and hashes, never the keys).
pub fn department_keys_pk(department: &DepartmentCode) -> String {
    format!("DEPTKEYS#{department}")
}
/// A person's requests: one item per request under the HMAC of one of their
/// identifiers (`ContactKey`), never the identifier itself.
pub fn person_pk(person_key: &str) -> String {
    format!("PERSON#{person_key}")
}
pub fn client_key_pk(key_hash: &str) -> String {
    format!("CLIENTKEY#{key_hash}")
}
pub fn once_pk(key: &str) -> String {
    format!("ONCE#{key}")
}

/// The creation-day and change-day partitions are spread over this many
/// shards each, so a storm's writes never land on one key.
pub const TIME_SHARDS: u8 = 4;

/// A stable shard in `0..shards` for a request id (FNV-1a over its bytes).
pub fn shard_of(id: &RequestId, shards: u8) -> u8 {
    let hash = id.as_str().bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (hash % u64::from(shards.max(1))) as u8
}

/// The request's shard of its department's (or city's triage) partitions.
pub fn department_shard(id: &RequestId) -> u8 {
    shard_of(id, DEPARTMENT_SHARDS)
}

pub fn department_pk(department: &DepartmentCode, shard: u8) -> String {
    format!("DEPT#{department}#{shard}")
}

fn utc_date(at: Timestamp) -> jiff::civil::Date {
    at.to_zoned(jiff::tz::TimeZone::UTC).date()
}
/// A request's creation-day partition.
pub fn day_pk(at: Timestamp, id: &RequestId) -> String {
    day_pk_for(utc_date(at), shard_of(id, TIME_SHARDS))
}
pub fn day_pk_for(date: jiff::civil::Date, shard: u8) -> String {
    format!("DAY#{date}#{shard}")
}
pub fn changes_pk_for(date: jiff::civil::Date, shard: u8) -> String {
    format!("CHG#{date}#{shard}")
}
/// Every shard partition of one day (creation or change, by `pk_for`).
pub fn day_partitions(
    date: jiff::civil::Date,
    pk_for: fn(jiff::civil::Date, u8) -> String,
) -> Vec<String> {
    (0..TIME_SHARDS).map(|shard| pk_for(date, shard)).collect()
}
/// The UTC dates a half-open window touches, in order.
pub fn days_of(from: Timestamp, to: Timestamp) -> Vec<jiff::civil::Date> {
    let last = utc_date(
        to.saturating_sub(jiff::SignedDuration::from_nanos(1))
            .unwrap_or(to),
    );
    let mut day = utc_date(from);
    let mut days = Vec::new();
    while day <= last {
        days.push(day);
        day = match day.tomorrow() {
            Ok(d) => d,
            Err(_) => break,
        };
    }
    days
}

pub fn time_sk(at: Timestamp, id: &RequestId) -> String {
    format!("{}#{id}", time_key(at))
}

/// Index attributes of a history event: the day it happened, for "what changed when".
pub fn event_index_attributes(id: &RequestId, event: &HistoryEvent) -> [(&'static str, String); 2] {
    [
        (
            "chg_pk",
            changes_pk_for(utc_date(event.at), shard_of(id, TIME_SHARDS)),
        ),
        (
            "chg_sk",
            format!("{}#{id}#{:010}", time_key(event.at), event.seq),
        ),
    ]
}

/// A timestamp as a sortable key (fixed width, UTC).
pub fn time_key(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Index attributes for a request: department work (sparse) and creation day.
pub fn index_attributes(request: &ServiceRequest) -> Vec<(&'static str, String)> {
    let mut attrs = vec![
        ("day_pk", day_pk(request.created_at, &request.id)),
        ("day_sk", time_sk(request.created_at, &request.id)),
    ];
    if let (Some(dept), true) = (&request.department, request.status.is_department_work()) {
        let due = request
            .due_at
            .map(|d| d.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default();
        attrs.push((
            "dept_pk",
            department_pk(dept, department_shard(&request.id)),
        ));
        attrs.push((
            "dept_sk",
            format!("{}#{due}#{}", request.status, request.id),
        ));
    } else if let (citydesk_core::status::Status::Duplicate, Some(original)) =
        (request.status, &request.duplicate_of)
    {
        // The original's followers share the sparse index, under their own keys.
        attrs.push((
            "dept_pk",
            followers_pk(&original.request_id, department_shard(&request.id)),
        ));
        attrs.push(("dept_sk", time_sk(request.created_at, &request.id)));
    } else if request.status == citydesk_core::status::Status::Triaged {
        // The city's triage queue shares the sparse index, under its own keys.
        attrs.push((
            "dept_pk",
            triage_pk(&request.jurisdiction, department_shard(&request.id)),
        ));
        attrs.push(("dept_sk", time_sk(request.created_at, &request.id)));
    }
    // Open originals with a place and a service: the candidates a new report may repeat.
    if let (Some(point), Some(service), true) = (
        request.location.point,
        &request.service_code,
        is_open_original(request.status),
    ) && let Some(cell) = place_cell(point)
    {
        attrs.push(("place_pk", place_pk(&request.jurisdiction, service, &cell)));
        attrs.push(("place_sk", time_sk(request.created_at, &request.id)));
    }
    attrs
}

/// The place index's cell of a point (a geohash), `None` for a point it cannot encode.
pub fn place_cell(point: GeoPoint) -> Option<String> {
    geohash::encode(
        geohash::Coord {
            x: point.long,
            y: point.lat,
        },
        PLACE_CELL_PRECISION,
    )
    .ok()
}

/// The cell and its eight neighbours.
pub fn place_cells_around(point: GeoPoint) -> Vec<String> {
    let Some(cell) = place_cell(point) else {
        return Vec::new();
    };
    let mut cells = vec![cell.clone()];
    if let Ok(n) = geohash::neighbors(&cell) {
        cells.extend([n.n, n.ne, n.e, n.se, n.s, n.sw, n.w, n.nw]);
    }
    cells.sort();
    cells.dedup();
    cells
}

/// Partition of the place index: one city's open reports of one service in one cell.
pub fn place_pk(jurisdiction: &JurisdictionId, service: &ServiceCode, cell: &str) -> String {
    format!("PLACE#{jurisdiction}#{service}#{cell}")
}

/// Partition of one shard of a request's followers in the `DepartmentOpenWork` index.
pub fn followers_pk(original: &RequestId, shard: u8) -> String {
    format!("FOLLOWS#{original}#{shard}")
}

/// Partition of one shard of a city's triage queue in the `DepartmentOpenWork` index.
pub fn triage_pk(jurisdiction: &citydesk_core::ids::JurisdictionId, shard: u8) -> String {
    format!("TRIAGE#{jurisdiction}#{shard}")
}
