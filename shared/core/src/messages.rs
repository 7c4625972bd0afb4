//! Queue message bodies. They carry ids, never personal data or free text.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ids::{CaseNumber, DepartmentCode, RequestId, ServiceCode};

/// A step of the pipeline to run for a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum PipelineMessage {
    /// To the classify queue: a request was created.
    RequestCreated { request_id: RequestId },
    /// To the route queue: the request has a service and can be routed.
    RequestClassified { request_id: RequestId },
    /// To the notify queue: history event `seq` may concern the citizen.
    StatusChanged { request_id: RequestId, seq: u64 },
    /// To the notify queue: tell the followers of `request_id` how it ended
    /// (event `seq`), one page of them after `after`, then the next page.
    TellFollowers {
        request_id: RequestId,
        seq: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after: Option<String>,
    },
    /// To the notify queue: tell the follower `request_id` about event `seq`
    /// of the request it follows.
    FollowerNotice {
        request_id: RequestId,
        original_id: RequestId,
        seq: u64,
    },
    /// To the notify queue: an expert answered a question whose caller left
    /// a contact; tell them the answer.
    QuestionAnswered {
        question_id: crate::second_line::QuestionId,
    },
    /// To the notify queue: some attachments of the message that made
    /// `request_id` were not kept; tell its resident which kinds are.
    AttachmentsDropped { request_id: RequestId, count: u32 },
}

/// To a department's own queue: new work for it. Ids and public fields only:
/// the place and the citizen's words are read through the department API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssignmentMessage {
    pub request_id: RequestId,
    pub case_number: CaseNumber,
    pub service_code: ServiceCode,
    pub department: DepartmentCode,
    pub due_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    /// History sequence of the assignment: consumers de-duplicate on (request_id, seq).
    pub seq: u64,
    /// Set when this is not new work but an SLA alert about work already assigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_alert: Option<SlaAlert>,
}

/// An SLA alert on a department's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaAlert {
    /// Most of the time has passed (the city's warning share).
    Warning,
    /// The due time passed with the request still open.
    Breached,
}
