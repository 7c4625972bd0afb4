//! Runs a step once per SQS record and reports partial batch failures, so one
//! bad record never fails the others (`ReportBatchItemFailures`).

use std::future::Future;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use citydesk_core::messages::PipelineMessage;
use citydesk_core::usecases::StepError;
use serde::de::DeserializeOwned;

/// Parses each record's body as `M` and runs `step` on it. Records whose body
/// does not parse or whose step fails are returned as batch item failures
/// (after `maxReceiveCount` deliveries the queue moves them to its DLQ).
pub async fn process_batch<M, F, Fut>(event: SqsEvent, step: F) -> SqsBatchResponse
where
    M: DeserializeOwned,
    F: Fn(M) -> Fut,
    Fut: Future<Output = Result<(), StepError>>,
{
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let message_id = record.message_id.clone().unwrap_or_default();
        let outcome = match serde_json::from_str::<M>(record.body.as_deref().unwrap_or("")) {
            Ok(message) => step(message).await,
            Err(e) => Err(StepError::Poison(format!(
                "body is not a valid message: {e}"
            ))),
        };
        if let Err(err) = outcome {
            match &err {
                StepError::Retry(_) => {
                    tracing::warn!(message_id, error = %err, "record will be retried")
                }
                StepError::Poison(_) => {
                    tracing::error!(message_id, error = %err, "record cannot be processed; it will reach the DLQ")
                }
            }
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = message_id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

/// Pipeline steps take one message type each; anything else on their queue is poison.
pub fn unexpected(message: &PipelineMessage, expected: &str) -> StepError {
    StepError::Poison(format!("expected a {expected} message, got {message:?}"))
}
