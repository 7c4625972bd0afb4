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
/// When the invocation's time runs short, the records not yet taken are
/// handed back as failures too, before any of them is started: a slow
/// provider delays them, it does not dead-letter them.
pub async fn process_batch<M, F, Fut>(
    event: SqsEvent,
    deadline: crate::deadline::Deadline,
    step: F,
) -> SqsBatchResponse
where
    M: DeserializeOwned,
    F: Fn(M) -> Fut,
    Fut: Future<Output = Result<(), StepError>>,
{
    let mut response = SqsBatchResponse::default();
    let mut records = event.records.into_iter();
    for record in records.by_ref() {
        let message_id = record.message_id.clone().unwrap_or_default();
        if deadline.is_near() {
            tracing::warn!(
                message_id,
                "time is short; the rest of the batch is handed back"
            );
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = message_id;
            response.batch_item_failures.push(failure);
            break;
        }
        let outcome = match serde_json::from_str::<M>(record.body.as_deref().unwrap_or("")) {
            Ok(message) => guarded(step(message)).await,
            Err(e) => Err(StepError::Poison(format!(
                "body is not a valid message: {e}"
            ))),
        };
        if let Err(err) = outcome {
            match &err {
                StepError::Retry(_) | StepError::Conflict(_) => {
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
    // Anything left after a short-time break.
    for record in records {
        let mut failure = BatchItemFailure::default();
        failure.item_identifier = record.message_id.unwrap_or_default();
        response.batch_item_failures.push(failure);
    }
    response
}

/// Runs one record's step; a panic in it fails that record only (the
/// release profile unwinds so this can catch it), not its batchmates, and
/// not the sandbox.
pub(crate) async fn guarded<Fut>(step: Fut) -> Result<(), StepError>
where
    Fut: Future<Output = Result<(), StepError>>,
{
    use futures::FutureExt;
    match std::panic::AssertUnwindSafe(step).catch_unwind().await {
        Ok(outcome) => outcome,
        Err(_) => Err(StepError::Retry(
            "the step panicked (a bug); the record will come again".into(),
        )),
    }
}

/// Pipeline steps take one message type each; anything else on their queue is poison.
pub fn unexpected(message: &PipelineMessage, expected: &str) -> StepError {
    StepError::Poison(format!("expected a {expected} message, got {message:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(ids: &[&str]) -> SqsEvent {
        // Record "b" carries a body its step panics on.
        let records: Vec<_> = ids
            .iter()
            .map(|id| {
                let body = if *id == "b" { r#"{"boom": 1}"# } else { "{}" };
                serde_json::json!({"messageId": id, "body": body})
            })
            .collect();
        serde_json::from_value(serde_json::json!({ "Records": records })).unwrap_or_default()
    }

    #[tokio::test]
    async fn with_no_time_left_every_record_is_handed_back_untried() {
        let tried = std::sync::atomic::AtomicUsize::new(0);
        let response = process_batch(
            event(&["a", "b", "c"]),
            crate::deadline::Deadline::after(std::time::Duration::ZERO),
            |_: serde_json::Value| {
                tried.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                async { Ok(()) }
            },
        )
        .await;
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, ["a", "b", "c"]);
        assert_eq!(tried.load(std::sync::atomic::Ordering::SeqCst), 0);
        // With time, every record is tried and none fails.
        let ok = process_batch(
            event(&["a", "b"]),
            crate::deadline::Deadline::none(),
            |_: serde_json::Value| async { Ok(()) },
        )
        .await;
        assert!(ok.batch_item_failures.is_empty());
    }

    #[tokio::test]
    async fn a_panicking_record_fails_alone() {
        let response = process_batch(
            event(&["a", "b", "c"]),
            crate::deadline::Deadline::none(),
            |m: serde_json::Value| async move {
                #[allow(clippy::panic)]
                if m.get("boom").is_some() {
                    panic!("a bug in one step");
                }
                Ok(())
            },
        )
        .await;
        // Only "b" carries the poison (see below): a and c succeed.
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, ["b"]);
    }
}
