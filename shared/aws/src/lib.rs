//! AWS adapters for citydesk's ports, and the small amount of glue every
//! Lambda function shares (configuration, telemetry, SQS batch handling).
//!
//! | module | what |
//! |---|---|
//! | [`audit`] | the audit trail in a bucket with Object Lock (append only) |
//! | [`config`] | environment → typed settings; SDK configuration with endpoint override |
//! | [`dynamo`] | the one table: requests, history, contacts, idempotency, keys |
//! | [`sqs`] | pipeline queues and the departments' own queues |
//! | [`s3`] | catalogue document, create-only archive writes |
//! | [`secrets`] | provider secrets from SSM SecureString parameters |
//! | [`sqs_batch`] | runs a use case per SQS record, reports partial batch failures |
//! | [`stream_batch`] | runs a use case per committed event of the table's stream, reports the first failure |
//! | [`messaging`] | texts and mails to residents: End User Messaging SMS and SES by default, Twilio- and Postmark-compatible APIs as options |
//! | [`knowledge`] | a city's knowledge base: read from its folder, published to and loaded from the bucket |
//! | [`eventbridge`] | the city's event bus |
//! | [`deadline`] | the time an invocation has left |
//! | [`city_publisher`] | publishes a city: catalogue document, department queues with DLQs, tags and alarms, first keys, departments that left |
//! | [`system`] | the real clock and id source |
//! | [`telemetry`] | tracing set-up honouring Lambda's log settings |

pub mod audit;
pub mod city_publisher;
pub mod config;
pub mod deadline;
pub mod dynamo;
pub mod eventbridge;
pub mod knowledge;
pub mod messaging;
pub mod s3;
pub mod secrets;
pub mod sqs;
pub mod sqs_batch;
pub mod stream_batch;
pub mod system;
pub mod telemetry;

use citydesk_core::ports::PortError;

/// Maps an SDK error to a port error. Throttling, timeouts and 5xx are retryable;
/// validation and missing resources are configuration faults that retries won't fix.
pub(crate) fn sdk_error<E>(operation: &'static str, err: &E) -> PortError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error,
{
    let code = err.code().unwrap_or("");
    let message = format!(
        "{} ({})",
        err.message().unwrap_or("no message"),
        if code.is_empty() { "no code" } else { code }
    );
    match code {
        "ValidationException"
        | "ResourceNotFoundException"
        | "AccessDeniedException"
        | "NoSuchBucket"
        | "AWS.SimpleQueueService.NonExistentQueue"
        | "QueueDoesNotExist" => PortError::permanent(operation, message),
        _ => PortError::retryable(operation, format!("{message}: {}", error_chain(err))),
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
