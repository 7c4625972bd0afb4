//! The outbox: every history event a writer commits is read back from the
//! table's change stream (never sent by the writer itself) and sets off what
//! follows it. [`reactions`] says which pipeline step or department queue a
//! committed event goes to; [`bus_events`] turns it into the versioned domain
//! event the city's other systems receive on the event bus.

pub mod bus_events;
pub mod reactions;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ids::{CaseNumber, DepartmentCode, JurisdictionId, RequestId, ServiceCode};
use crate::request::{HistoryEvent, ServiceRequest};
use crate::status::Status;

/// The public fields of a request as a change left it, stored with the
/// history event in the same write, so the dispatcher needs no second read
/// and sees the request as it was at that moment (not as it is later).
/// No personal data: no contact, no description, no exact point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestSnapshot {
    pub case_number: CaseNumber,
    pub jurisdiction: JurisdictionId,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_code: Option<ServiceCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<DepartmentCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<Timestamp>,
    /// How many reports follow this one (their citizens hear how it ends).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub follower_count: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl RequestSnapshot {
    pub fn of(request: &ServiceRequest) -> Self {
        Self {
            case_number: request.case_number.clone(),
            jurisdiction: request.jurisdiction.clone(),
            status: request.status,
            service_code: request.service_code.clone(),
            department: request.department.clone(),
            district: request.location.district.clone(),
            due_at: request.due_at,
            follower_count: request.followers_total(),
        }
    }
}

/// One committed change as the change stream delivers it.
#[derive(Debug, Clone, PartialEq)]
pub struct CommittedEvent {
    pub request_id: RequestId,
    pub event: HistoryEvent,
    pub snapshot: RequestSnapshot,
}

impl CommittedEvent {
    /// The business key every consumer de-duplicates on: `<request id>/<seq>`.
    pub fn event_id(&self) -> String {
        format!("{}/{}", self.request_id, self.event.seq)
    }
}
