//! Publishes a city's catalogue: the document to S3, each department's queue
//! (with its DLQ) and, on request, a fresh API key per department.

use std::collections::BTreeMap;

use aws_sdk_sqs::types::QueueAttributeName;
use base64::Engine;
use citydesk_core::catalogue::Catalogue;
use citydesk_core::ids::sha256_hex;
use citydesk_core::ports::PortError;
use rand::RngCore;

use crate::dynamo::DynamoStore;
use crate::s3::{S3Blobs, catalogue_key};
use crate::sdk_error;

/// What the department queues look like (matches the template's queues).
const VISIBILITY_TIMEOUT_SECS: &str = "60";
const MAX_RECEIVE_COUNT: u32 = 5;
const DLQ_RETENTION_SECS: &str = "1209600";

#[derive(Debug)]
pub struct Published {
    pub catalogue_key: String,
    /// Department code → queue URL.
    pub department_queues: BTreeMap<String, String>,
    /// Department code → the new API key (shown once; only its hash is stored).
    pub department_keys: BTreeMap<String, String>,
}

#[derive(Debug)]
pub struct CataloguePublisher<'a> {
    pub blobs: &'a S3Blobs,
    pub store: &'a DynamoStore,
    pub sqs: &'a aws_sdk_sqs::Client,
    pub department_queue_prefix: &'a str,
}

impl CataloguePublisher<'_> {
    pub async fn publish(
        &self,
        catalogue: &Catalogue,
        issue_keys: bool,
    ) -> Result<Published, PortError> {
        let json = serde_json::to_vec(catalogue.document())
            .map_err(|e| PortError::permanent("encode catalogue", e.to_string()))?;
        let key = catalogue_key(&catalogue.city().jurisdiction_id);
        self.blobs.put(&key, "application/json", json).await?;
        let mut department_queues = BTreeMap::new();
        let mut department_keys = BTreeMap::new();
        for dept in catalogue.departments() {
            let url = self.ensure_queue(&dept.queue).await?;
            department_queues.insert(dept.code.to_string(), url);
            if issue_keys {
                let api_key = new_api_key();
                self.store
                    .put_department_key(&sha256_hex(api_key.as_bytes()), &dept.code)
                    .await?;
                department_keys.insert(dept.code.to_string(), api_key);
            }
        }
        Ok(Published {
            catalogue_key: key,
            department_queues,
            department_keys,
        })
    }

    async fn create_queue(
        &self,
        name: &str,
        attributes: Vec<(QueueAttributeName, String)>,
    ) -> Result<String, PortError> {
        let mut req = self.sqs.create_queue().queue_name(name);
        for (k, v) in attributes {
            req = req.attributes(k, v);
        }
        let out = req
            .send()
            .await
            .map_err(|e| sdk_error("create queue", &e.into_service_error()))?;
        out.queue_url
            .ok_or_else(|| PortError::permanent("create queue", "no URL returned"))
    }

    /// Creates `<prefix><queue>` and its DLQ if missing (CreateQueue is idempotent).
    async fn ensure_queue(&self, queue: &str) -> Result<String, PortError> {
        let name = format!("{}{queue}", self.department_queue_prefix);
        let dlq_url = self
            .create_queue(
                &format!("{name}-dlq"),
                vec![
                    (
                        QueueAttributeName::MessageRetentionPeriod,
                        DLQ_RETENTION_SECS.into(),
                    ),
                    (QueueAttributeName::SqsManagedSseEnabled, "true".into()),
                ],
            )
            .await?;
        let dlq_arn = crate::sqs::queue_arn(self.sqs, &dlq_url).await?;
        let redrive = serde_json::json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT}).to_string();
        self.create_queue(
            &name,
            vec![
                (
                    QueueAttributeName::VisibilityTimeout,
                    VISIBILITY_TIMEOUT_SECS.into(),
                ),
                (QueueAttributeName::RedrivePolicy, redrive),
                (QueueAttributeName::SqsManagedSseEnabled, "true".into()),
            ],
        )
        .await
    }
}

/// A new random API key (`cdk_` and 256 random bits); only its hash is ever stored.
pub fn new_api_key() -> String {
    let mut bytes = [0_u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "cdk_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}
