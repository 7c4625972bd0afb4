//! What SNS does on this machine for a function the template subscribes to
//! a topic (`Type: SNS`): the runner subscribes a queue of its own to that
//! topic in the emulator (SNS → SQS is delivered there), and hands each
//! notification to the function with the event Lambda's SNS trigger sends.
//! An invocation that keeps failing is given up after [`ATTEMPTS`], as
//! Lambda's two retries and then its on-failure destination do in AWS.

use std::time::Duration;

use anyhow::Context;
use tokio::sync::watch;

use crate::functions::ScheduledHandler;
use crate::stack::SnsSource;

/// Deliveries of one notification before it is given up.
pub const ATTEMPTS: i32 = 3;

pub struct SnsDelivery {
    pub sqs: aws_sdk_sqs::Client,
    pub function: String,
    pub queue_url: String,
    pub subscription_arn: String,
    pub handler: ScheduledHandler,
}

/// The runner's queue for one subscription, subscribed to the topic.
pub async fn subscribe(
    sqs: &aws_sdk_sqs::Client,
    sns: &aws_sdk_sns::Client,
    stack_name: &str,
    source: &SnsSource,
    handler: ScheduledHandler,
) -> anyhow::Result<SnsDelivery> {
    let mut name = format!("{stack_name}-local-sns-{}", source.function);
    name.truncate(80);
    let queue_url = sqs
        .create_queue()
        .queue_name(&name)
        .send()
        .await
        .with_context(|| format!("creating the runner's queue {name}"))?
        .queue_url
        .with_context(|| format!("the emulator gave queue {name} no URL"))?;
    let queue_arn = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .context("reading the runner's queue ARN")?
        .attributes
        .and_then(|a| {
            a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                .cloned()
        })
        .context("the runner's queue has no ARN")?;
    // Subscribe answers the existing subscription when there is one.
    let subscription_arn = sns
        .subscribe()
        .topic_arn(&source.topic_arn)
        .protocol("sqs")
        .endpoint(&queue_arn)
        .return_subscription_arn(true)
        .send()
        .await
        .with_context(|| format!("subscribing the runner to {}", source.topic_arn))?
        .subscription_arn
        .unwrap_or_default();
    Ok(SnsDelivery {
        sqs: sqs.clone(),
        function: source.function.clone(),
        queue_url,
        subscription_arn,
        handler,
    })
}

/// Lambda's SNS event for one notification as SNS wrote it to a queue.
pub fn lambda_event(notification: &serde_json::Value, subscription_arn: &str) -> serde_json::Value {
    let field = |name: &str| notification.get(name).cloned().unwrap_or_default();
    serde_json::json!({"Records": [{
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription_arn,
        "Sns": {
            "Type": field("Type"),
            "MessageId": field("MessageId"),
            "TopicArn": field("TopicArn"),
            "Subject": field("Subject"),
            "Message": field("Message"),
            "Timestamp": field("Timestamp"),
            "SignatureVersion": field("SignatureVersion"),
            "Signature": field("Signature"),
            "SigningCertUrl": field("SigningCertURL"),
            "UnsubscribeUrl": field("UnsubscribeURL"),
            "MessageAttributes": notification.get("MessageAttributes").cloned().unwrap_or_else(|| serde_json::json!({})),
        },
    }]})
}

impl SnsDelivery {
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        loop {
            let received = tokio::select! {
                r = self
                    .sqs
                    .receive_message()
                    .queue_url(&self.queue_url)
                    .max_number_of_messages(10)
                    .wait_time_seconds(1)
                    .message_system_attribute_names(
                        aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount,
                    )
                    .send() => r,
                _ = stop.changed() => return,
            };
            let messages = match received {
                Ok(out) => out.messages.unwrap_or_default(),
                Err(e) => {
                    tracing::warn!(function = %self.function, error = %e.into_service_error(), "cannot read the runner's SNS queue");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
            };
            for message in messages {
                self.deliver(message).await;
            }
        }
    }

    async fn deliver(&self, message: aws_sdk_sqs::types::Message) {
        let receipt = message.receipt_handle().unwrap_or_default().to_owned();
        let attempt: i32 = message
            .attributes()
            .and_then(|a| {
                a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount)
            })
            .and_then(|n| n.parse().ok())
            .unwrap_or(1);
        let outcome = match serde_json::from_str::<serde_json::Value>(message.body().unwrap_or(""))
        {
            Ok(notification) => {
                (self.handler)(lambda_event(&notification, &self.subscription_arn)).await
            }
            Err(e) => Err(format!("not an SNS notification: {e}")),
        };
        let done = match outcome {
            Ok(_) => true,
            Err(e) if attempt >= ATTEMPTS => {
                tracing::error!(function = %self.function, attempt, error = %e, "notification given up (in AWS: the on-failure destination)");
                true
            }
            Err(e) => {
                tracing::warn!(function = %self.function, attempt, error = %e, "SNS invocation failed; retried");
                // Soon again, as Lambda's retry would be (else after the queue's timeout).
                if let Err(e) = self
                    .sqs
                    .change_message_visibility()
                    .queue_url(&self.queue_url)
                    .receipt_handle(&receipt)
                    .visibility_timeout(1)
                    .send()
                    .await
                {
                    tracing::warn!(function = %self.function, error = %e.into_service_error(), "cannot hasten the retry");
                }
                false
            }
        };
        if done
            && let Err(e) = self
                .sqs
                .delete_message()
                .queue_url(&self.queue_url)
                .receipt_handle(&receipt)
                .send()
                .await
        {
            tracing::warn!(function = %self.function, error = %e.into_service_error(), "cannot delete a delivered notification");
        }
    }
}
