//! Runs a step once per committed history event of a DynamoDB stream batch
//! and reports the first failure as the batch item failure, so Lambda resumes
//! the shard from that record (`ReportBatchItemFailures`; with bisection and
//! finite retries a record that can never succeed ends on the on-failure
//! destination, and the shard goes on). Records that are not history events
//! are passed over.

use std::future::Future;

use aws_lambda_events::event::dynamodb::Event as DynamoDbEvent;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use citydesk_core::outbox::CommittedEvent;
use citydesk_core::usecases::StepError;

use crate::deadline::Deadline;
use crate::dynamo::stream::committed_event;

pub async fn process_stream<F, Fut>(
    event: DynamoDbEvent,
    deadline: Deadline,
    step: F,
) -> DynamoDbEventResponse
where
    F: Fn(CommittedEvent) -> Fut,
    Fut: Future<Output = Result<(), StepError>>,
{
    let mut response = DynamoDbEventResponse::default();
    for record in event.records {
        let sequence_number = record.change.sequence_number.clone().unwrap_or_default();
        let fail = |response: &mut DynamoDbEventResponse| {
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = Some(sequence_number.clone());
            response.batch_item_failures.push(failure);
        };
        if deadline.is_near() {
            // Stop before the function's time runs out: the rest comes again.
            tracing::warn!(
                sequence_number,
                "time is short; the rest of the batch is handed back"
            );
            fail(&mut response);
            return response;
        }
        if record.event_name != "INSERT" {
            continue;
        }
        let outcome = match committed_event(record.change.new_image) {
            Ok(None) => continue,
            Ok(Some(committed)) => crate::sqs_batch::guarded(step(committed)).await,
            Err(e) => Err(StepError::Poison(e.to_string())),
        };
        if let Err(err) = outcome {
            match &err {
                StepError::Retry(_) | StepError::Conflict(_) => {
                    tracing::warn!(sequence_number, error = %err, "stream record will be retried")
                }
                StepError::Poison(_) => {
                    tracing::error!(sequence_number, error = %err, "stream record cannot be processed; after its retries it goes to the on-failure destination")
                }
            }
            fail(&mut response);
            return response;
        }
    }
    response
}
