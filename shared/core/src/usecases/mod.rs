//! Use cases: plain async functions over port traits. Trigger adapters (Lambda
//! handlers, the local runner, the Worker) call these and map their errors.

pub mod audit_trail;
pub mod build_report;
pub mod citizen_follow_up;
pub mod citizen_portal;
pub mod classify_request;
pub mod department_work;
pub mod dispatch_change;
pub mod email_intake;
pub mod erase_person;
pub mod knowledge_base;
pub mod notify_citizen;
pub mod operator_desk;
pub mod phone_ivr;
pub mod preview_service;
pub mod publish_city;
pub mod route_request;
pub mod search_requests;
pub mod second_line;
pub mod staff_access;
pub mod submit_request;
pub mod tell_followers;
pub mod text_conversation;
pub mod triage;
pub mod watch_sla;

use crate::ports::PortError;

/// What a queue consumer does with a message whose step failed.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// A dependency failed: let the queue deliver again.
    #[error("retry later: {0}")]
    Retry(String),
    /// Another writer changed the request between this step's read and its
    /// write (a citizen's note a moment after the request came in): read it
    /// again ([`again_on_conflict`]), or let the queue deliver again.
    #[error("retry later: {0}")]
    Conflict(String),
    /// The message can never succeed (unknown request, broken catalogue): retrying
    /// would only fill the DLQ later, so it goes there now.
    #[error("cannot be processed: {0}")]
    Poison(String),
}

/// Reads before a step that keeps losing races leaves the message to the
/// queue's next delivery (a visibility timeout away).
const CONFLICT_ATTEMPTS: u32 = 3;

/// Runs a read-decide-write step again, from a fresh read, when its
/// conditional write lost to another writer; at most [`CONFLICT_ATTEMPTS`] times.
pub(crate) async fn again_on_conflict<T, F, Fut>(mut step: F) -> Result<T, StepError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StepError>>,
{
    let mut attempt = 1;
    loop {
        match step().await {
            Err(StepError::Conflict(reason)) if attempt < CONFLICT_ATTEMPTS => {
                tracing::info!(attempt, %reason, "changed concurrently: reading it again");
                attempt += 1;
            }
            other => return other,
        }
    }
}

impl From<PortError> for StepError {
    fn from(err: PortError) -> Self {
        if err.retryable {
            StepError::Retry(err.to_string())
        } else {
            StepError::Poison(err.to_string())
        }
    }
}
