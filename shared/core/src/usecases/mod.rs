//! Use cases: plain async functions over port traits. Trigger adapters (Lambda
//! handlers, the local runner, the Worker) call these and map their errors.

pub mod build_report;
pub mod citizen_follow_up;
pub mod classify_request;
pub mod department_work;
pub mod dispatch_change;
pub mod erase_person;
pub mod notify_citizen;
pub mod publish_city;
pub mod route_request;
pub mod search_requests;
pub mod submit_request;
pub mod tell_followers;
pub mod triage;
pub mod watch_sla;

use crate::ports::PortError;

/// What a queue consumer does with a message whose step failed.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// A dependency failed or another writer won a race: let the queue deliver again.
    #[error("retry later: {0}")]
    Retry(String),
    /// The message can never succeed (unknown request, broken catalogue): retrying
    /// would only fill the DLQ later, so it goes there now.
    #[error("cannot be processed: {0}")]
    Poison(String),
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
