//! SQS adapters: the pipeline's queues and each department's own queue.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use citydesk_core::messages::{AssignmentMessage, PipelineMessage};
use citydesk_core::ports::{DepartmentQueues, PipelineQueue, PortError};
use tokio::sync::RwLock;

use crate::sdk_error;

/// Sends pipeline messages to the queue configured for their type. A function
/// is given only the queue URLs its role may send to.
#[derive(Debug, Clone, Default)]
pub struct SqsPipelineQueue {
    client: Option<Client>,
    classify_url: Option<String>,
    route_url: Option<String>,
    notify_url: Option<String>,
}

impl SqsPipelineQueue {
    pub fn new(client: Client) -> Self {
        Self {
            client: Some(client),
            ..Self::default()
        }
    }
    pub fn classify_to(mut self, url: String) -> Self {
        self.classify_url = Some(url);
        self
    }
    pub fn route_to(mut self, url: String) -> Self {
        self.route_url = Some(url);
        self
    }
    pub fn notify_to(mut self, url: String) -> Self {
        self.notify_url = Some(url);
        self
    }
}

#[async_trait]
impl PipelineQueue for SqsPipelineQueue {
    async fn send(&self, message: &PipelineMessage) -> Result<(), PortError> {
        let (url, kind) = match message {
            PipelineMessage::RequestCreated { .. } => (&self.classify_url, "classify"),
            PipelineMessage::RequestClassified { .. } => (&self.route_url, "route"),
            PipelineMessage::StatusChanged { .. }
            | PipelineMessage::TellFollowers { .. }
            | PipelineMessage::FollowerNotice { .. }
            | PipelineMessage::QuestionAnswered { .. }
            | PipelineMessage::AttachmentsDropped { .. } => (&self.notify_url, "notify"),
        };
        let (Some(client), Some(url)) = (&self.client, url) else {
            return Err(PortError::permanent(
                "send message",
                format!("no {kind} queue configured for this function"),
            ));
        };
        let body = serde_json::to_string(message)
            .map_err(|e| PortError::permanent("encode message", e.to_string()))?;
        client
            .send_message()
            .queue_url(url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| sdk_error("send message", &e.into_service_error()))?;
        Ok(())
    }
}

/// The ARN of the queue at `url` (for redrive policies and subscriptions).
pub async fn queue_arn(client: &Client, url: &str) -> Result<String, PortError> {
    client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| sdk_error("queue arn", &e.into_service_error()))?
        .attributes
        .and_then(|a| {
            a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                .cloned()
        })
        .ok_or_else(|| PortError::permanent("queue arn", "no ARN returned"))
}

/// Department queues are named `<prefix><queue>`; URLs are looked up once and cached.
#[derive(Debug)]
pub struct SqsDepartmentQueues {
    client: Client,
    prefix: String,
    urls: RwLock<HashMap<String, String>>,
}

impl SqsDepartmentQueues {
    pub fn new(client: Client, prefix: impl Into<String>) -> Self {
        Self {
            client,
            prefix: prefix.into(),
            urls: RwLock::new(HashMap::new()),
        }
    }

    pub fn queue_name(&self, queue: &str) -> String {
        format!("{}{queue}", self.prefix)
    }

    async fn url(&self, queue: &str) -> Result<String, PortError> {
        if let Some(url) = self.urls.read().await.get(queue) {
            return Ok(url.clone());
        }
        let out = self
            .client
            .get_queue_url()
            .queue_name(self.queue_name(queue))
            .send()
            .await
            .map_err(|e| sdk_error("department queue url", &e.into_service_error()))?;
        let url = out
            .queue_url
            .ok_or_else(|| PortError::permanent("department queue url", "no URL returned"))?;
        self.urls
            .write()
            .await
            .insert(queue.to_owned(), url.clone());
        Ok(url)
    }
}

#[async_trait]
impl DepartmentQueues for SqsDepartmentQueues {
    async fn send_assignment(
        &self,
        queue: &str,
        message: &AssignmentMessage,
    ) -> Result<(), PortError> {
        let url = self.url(queue).await?;
        let body = serde_json::to_string(message)
            .map_err(|e| PortError::permanent("encode assignment", e.to_string()))?;
        self.client
            .send_message()
            .queue_url(url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| sdk_error("send assignment", &e.into_service_error()))?;
        Ok(())
    }
}
