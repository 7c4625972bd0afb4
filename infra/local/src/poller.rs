//! Lambda's SQS event source mapping, locally: receive a batch, invoke the
//! function with a real-shaped `SqsEvent`, delete only what did not fail.
//! Failed records become visible again after the queue's visibility timeout and
//! reach the DLQ after `maxReceiveCount` (the emulator does the redrive).

use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName};
use tokio::sync::watch;

use crate::functions::SqsHandler;
use crate::stack::QueueSource;

/// Long-poll wait of one receive call.
const WAIT_SECONDS: i32 = 1;

pub async fn run(
    sqs: aws_sdk_sqs::Client,
    source: QueueSource,
    region: String,
    handler: SqsHandler,
    // Each invocation gets as long as the function's timeout.
    function_timeout: Duration,
    stop: watch::Receiver<bool>,
) {
    let queue_name = source
        .queue_url
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let arn = format!("arn:aws:sqs:{region}:123456789012:{queue_name}");
    loop {
        if *stop.borrow() {
            return;
        }
        // Not cancelled by `stop`: a long poll dropped half-way still takes
        // messages off the queue (hidden for the visibility timeout), so it
        // runs to its end (at most WAIT_SECONDS) and what it got is handled.
        let received = sqs
            .receive_message()
            .queue_url(&source.queue_url)
            .max_number_of_messages(source.batch_size.clamp(1, 10))
            .wait_time_seconds(WAIT_SECONDS)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await;
        let messages = match received {
            Ok(out) => out.messages.unwrap_or_default(),
            Err(e) => {
                tracing::warn!(queue = %queue_name, error = %e.into_service_error(), "receive failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        let event = match sqs_event(&messages, &arn, &region) {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(queue = %queue_name, error = %e, "cannot build SQS event");
                continue;
            }
        };
        let deadline = citydesk_aws::deadline::Deadline::after(function_timeout);
        let response = handler(event, deadline).await;
        let to_delete = successes(&messages, &response, source.report_batch_item_failures);
        if to_delete.is_empty() {
            continue;
        }
        let entries: Vec<_> = to_delete
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(format!("m{i}"))
                    .receipt_handle(m.receipt_handle.clone().unwrap_or_default())
                    .build()
                    .ok()
            })
            .collect();
        if let Err(e) = sqs
            .delete_message_batch()
            .queue_url(&source.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
        {
            tracing::warn!(queue = %queue_name, error = %e.into_service_error(), "delete failed; records will be delivered again");
        }
    }
}

/// The records to delete. As in Lambda: with `ReportBatchItemFailures`, all but
/// the listed ones, unless an identifier is empty or unknown (then none);
/// without it, all of them when nothing failed.
fn successes<'a>(
    messages: &'a [Message],
    response: &SqsBatchResponse,
    partial: bool,
) -> Vec<&'a Message> {
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    let known = |id: &str| messages.iter().any(|m| m.message_id.as_deref() == Some(id));
    if failed.iter().any(|id| id.is_empty() || !known(id)) || (!partial && !failed.is_empty()) {
        return Vec::new();
    }
    messages
        .iter()
        .filter(|m| !failed.contains(&m.message_id.as_deref().unwrap_or_default()))
        .collect()
}

/// The event Lambda would send, built as JSON so it has Lambda's exact shape.
fn sqs_event(messages: &[Message], arn: &str, region: &str) -> Result<SqsEvent, serde_json::Error> {
    let records: Vec<serde_json::Value> = messages
        .iter()
        .map(|m| {
            let attributes: serde_json::Map<String, serde_json::Value> = m
                .attributes
                .as_ref()
                .map(|a| {
                    a.iter()
                        .map(|(k, v)| (k.as_str().to_owned(), serde_json::Value::String(v.clone())))
                        .collect()
                })
                .unwrap_or_default();
            serde_json::json!({
                "messageId": m.message_id,
                "receiptHandle": m.receipt_handle,
                "body": m.body,
                "md5OfBody": m.md5_of_body,
                "attributes": attributes,
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": region,
            })
        })
        .collect();
    serde_json::from_value(serde_json::json!({ "Records": records }))
}
