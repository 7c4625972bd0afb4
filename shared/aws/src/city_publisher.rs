//! Publishes a city into a deployment (`citydesk city publish`, and the local
//! runner at start): reads what the deployment holds, asks the core for the
//! plan (`usecases::publish_city`), and carries it out: the catalogue
//! document, each department's queue with its dead-letter queue, tags and
//! alarms, first keys, and the removal of departments that left.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, Statistic};
use aws_sdk_sqs::types::QueueAttributeName;
use base64::Engine;
use citydesk_core::catalogue::{Catalogue, CatalogueDocument};
use citydesk_core::ids::{DepartmentCode, sha256_hex};
use citydesk_core::ports::PortError;
use citydesk_core::usecases::publish_city::{
    Change, DepartmentState, PublishedState, plan_publication,
};
use jiff::Timestamp;
use rand::RngCore;

use crate::dynamo::DynamoStore;
use crate::s3::{S3Blobs, catalogue_key};
use crate::sdk_error;

/// A city's folder could not be read as a catalogue.
#[derive(Debug, thiserror::Error)]
pub enum CityFolderError {
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Catalogue {
        path: String,
        source: citydesk_core::catalogue::CatalogueError,
    },
    #[error("{path}: {source}")]
    Knowledge {
        path: String,
        source: citydesk_core::knowledge::KnowledgeError,
    },
}

/// A city's folder as `city publish` and the local runner read it:
/// `catalogue.toml` (city, calendar, departments, services, routing rules),
/// `districts.geojson`, and optionally `addresses.csv`.
pub fn read_city_folder(dir: &std::path::Path) -> Result<Catalogue, CityFolderError> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read_to_string(&path).map_err(|source| CityFolderError::Read {
            path: path.display().to_string(),
            source,
        })
    };
    let invalid = |source| CityFolderError::Catalogue {
        path: dir.display().to_string(),
        source,
    };
    let mut document =
        CatalogueDocument::from_sources(&read("catalogue.toml")?, &read("districts.geojson")?)
            .map_err(invalid)?;
    if dir.join("addresses.csv").exists() {
        document = document
            .with_addresses_csv(&read("addresses.csv")?)
            .map_err(invalid)?;
    }
    Catalogue::new(document).map_err(invalid)
}

/// What the department queues look like (matches the template's queues).
const VISIBILITY_TIMEOUT_SECS: &str = "60";
const MAX_RECEIVE_COUNT: u32 = 5;
const DLQ_RETENTION_SECS: &str = "1209600";
/// A department system that has not taken a message for a day is down.
const OLDEST_MESSAGE_ALARM_SECS: f64 = 86_400.0;

#[derive(Debug, Default)]
pub struct Published {
    pub catalogue_key: String,
    /// Department code → queue URL (every department of the catalogue).
    pub department_queues: BTreeMap<String, String>,
    /// Department code → a key issued by this publication (shown once; only
    /// its hash is stored).
    pub department_keys: BTreeMap<String, String>,
    /// What the publication changed (or would change, for a dry run).
    pub changes: Vec<Change>,
    /// Articles of the city's knowledge base checked (and, unless a dry
    /// run, published) beside the catalogue.
    pub knowledge_articles: usize,
}

#[derive(Debug)]
pub struct CityPublisher<'a> {
    pub blobs: &'a S3Blobs,
    pub store: &'a DynamoStore,
    pub sqs: &'a aws_sdk_sqs::Client,
    pub cloudwatch: &'a aws_sdk_cloudwatch::Client,
    /// The stack: department queues are `<stack>-dept-<queue>`, and tagged with it.
    pub stack_name: &'a str,
    /// Where the department queues' alarms notify (the stack's `AlarmTopicArn`).
    pub alarm_topic_arn: Option<&'a str>,
}

impl CityPublisher<'_> {
    /// The prefix of department queue names (the dispatcher's `DEPARTMENT_QUEUE_PREFIX`).
    pub fn queue_prefix(&self) -> String {
        format!("{}-dept-", self.stack_name)
    }

    /// Makes the deployment hold `catalogue`; with `dry_run`, only says what
    /// that would change.
    pub async fn publish(
        &self,
        catalogue: &Catalogue,
        dry_run: bool,
    ) -> Result<Published, PortError> {
        let document = catalogue.document();
        let key = catalogue_key(&catalogue.city().jurisdiction_id);
        let state = self.state(&key, document).await?;
        let city = catalogue.city().jurisdiction_id.as_str();
        let changes = plan_publication(document, &state);
        let mut published = Published {
            catalogue_key: key.clone(),
            ..Published::default()
        };
        if !dry_run {
            for change in &changes {
                self.apply(change, document, city, &key, &mut published)
                    .await?;
            }
            for department in &document.departments {
                if let Some(url) = self.queue_url(&self.queue_name(&department.queue)).await? {
                    published
                        .department_queues
                        .insert(department.code.to_string(), url);
                }
            }
        }
        published.changes = changes;
        Ok(published)
    }

    /// A new key for `department`; only its hash is stored.
    pub async fn issue_key(&self, department: &DepartmentCode) -> Result<String, PortError> {
        let api_key = new_api_key();
        self.store
            .put_department_key(
                &sha256_hex(api_key.as_bytes()),
                department,
                Timestamp::now(),
            )
            .await?;
        Ok(api_key)
    }

    async fn state(
        &self,
        key: &str,
        next: &CatalogueDocument,
    ) -> Result<PublishedState, PortError> {
        let catalogue = match self.blobs.get(key).await? {
            None => None,
            Some(bytes) => Some(
                serde_json::from_slice::<CatalogueDocument>(&bytes)
                    .map_err(|e| PortError::permanent("read published catalogue", e.to_string()))?,
            ),
        };
        let mut departments = BTreeMap::new();
        let staying: Vec<&DepartmentCode> = next.departments.iter().map(|d| &d.code).collect();
        let mut known: Vec<(DepartmentCode, String)> = next
            .departments
            .iter()
            .chain(catalogue.iter().flat_map(|c| &c.departments))
            .map(|d| (d.code.clone(), d.queue.clone()))
            .collect();
        // This city's departments that left before and still have their queue here.
        known.extend(
            self.departments_with_queues(next.city.jurisdiction_id.as_str())
                .await?,
        );
        for (code, queue) in known {
            if departments.contains_key(&code) {
                continue;
            }
            let name = self.queue_name(&queue);
            let queue_exists = self.queue_url(&name).await?.is_some()
                && self.queue_url(&format!("{name}-dlq")).await?.is_some();
            let alarms = self
                .cloudwatch
                .describe_alarms()
                .set_alarm_names(Some(alarm_names(&name).to_vec()))
                .send()
                .await
                .map_err(|e| sdk_error("describe alarms", &e.into_service_error()))?
                .metric_alarms()
                .len()
                == 2;
            let active_keys = self
                .store
                .department_keys(&code)
                .await?
                .iter()
                .filter(|k| k.is_active())
                .count();
            // Only a department that leaves needs its open work counted.
            let open_work = if staying.contains(&&code) {
                0
            } else {
                self.store.count_open_work(&code).await?
            };
            departments.insert(
                code.clone(),
                DepartmentState {
                    queue_name: queue,
                    queue: queue_exists,
                    alarms,
                    active_keys,
                    open_work,
                },
            );
        }
        Ok(PublishedState {
            catalogue,
            departments,
        })
    }

    async fn apply(
        &self,
        change: &Change,
        document: &CatalogueDocument,
        city: &str,
        key: &str,
        published: &mut Published,
    ) -> Result<(), PortError> {
        match change {
            Change::WriteCatalogue(_) => {
                let json = serde_json::to_vec(document)
                    .map_err(|e| PortError::permanent("encode catalogue", e.to_string()))?;
                self.blobs.put(key, "application/json", json).await?;
            }
            Change::CreateDelivery {
                department, queue, ..
            } => {
                let name = self.queue_name(queue);
                self.ensure_queues(&name, city, department).await?;
                self.put_alarms(&name, department).await?;
            }
            Change::IssueFirstKey { department } => {
                let api_key = self.issue_key(department).await?;
                published
                    .department_keys
                    .insert(department.to_string(), api_key);
            }
            Change::KeepRetiringDepartment { .. } => {}
            Change::RemoveDepartment { department, queue } => {
                let name = self.queue_name(queue);
                for queue in [name.clone(), format!("{name}-dlq")] {
                    if let Some(url) = self.queue_url(&queue).await? {
                        self.sqs
                            .delete_queue()
                            .queue_url(url)
                            .send()
                            .await
                            .map_err(|e| sdk_error("delete queue", &e.into_service_error()))?;
                    }
                }
                self.cloudwatch
                    .delete_alarms()
                    .set_alarm_names(Some(alarm_names(&name).to_vec()))
                    .send()
                    .await
                    .map_err(|e| sdk_error("delete alarms", &e.into_service_error()))?;
                for key in self.store.department_keys(department).await? {
                    if key.is_active() {
                        self.store
                            .revoke_department_key(department, &key.key_id, Timestamp::now())
                            .await?;
                    }
                }
            }
        }
        Ok(())
    }

    /// The departments of `city` (by their queues' tags) that have a queue
    /// in this deployment; another city's are never touched.
    async fn departments_with_queues(
        &self,
        city: &str,
    ) -> Result<Vec<(DepartmentCode, String)>, PortError> {
        let prefix = self.queue_prefix();
        let mut found = Vec::new();
        let mut next_token = None;
        loop {
            let out = self
                .sqs
                .list_queues()
                .queue_name_prefix(&prefix)
                .set_next_token(next_token)
                .send()
                .await
                .map_err(|e| sdk_error("list queues", &e.into_service_error()))?;
            for url in out.queue_urls() {
                let Some(name) = url.rsplit('/').next() else {
                    continue;
                };
                let Some(queue) = name.strip_prefix(&prefix).filter(|q| !q.ends_with("-dlq"))
                else {
                    continue;
                };
                let tags = self
                    .sqs
                    .list_queue_tags()
                    .queue_url(url)
                    .send()
                    .await
                    .map_err(|e| sdk_error("list queue tags", &e.into_service_error()))?;
                let tag = |name: &str| tags.tags().and_then(|t| t.get(name));
                if tag("citydesk:city").map(String::as_str) != Some(city) {
                    continue;
                }
                if let Some(code) =
                    tag("citydesk:department").and_then(|c| DepartmentCode::parse(c).ok())
                {
                    found.push((code, queue.to_owned()));
                }
            }
            match out.next_token {
                Some(token) => next_token = Some(token),
                None => return Ok(found),
            }
        }
    }

    fn queue_name(&self, queue: &str) -> String {
        format!("{}{queue}", self.queue_prefix())
    }

    async fn queue_url(&self, name: &str) -> Result<Option<String>, PortError> {
        match self.sqs.get_queue_url().queue_name(name).send().await {
            Ok(out) => Ok(out.queue_url),
            Err(e) => {
                let err = e.into_service_error();
                if err.is_queue_does_not_exist() {
                    Ok(None)
                } else {
                    Err(sdk_error("find queue", &err))
                }
            }
        }
    }

    async fn create_queue(
        &self,
        name: &str,
        city: &str,
        department: &DepartmentCode,
        attributes: Vec<(QueueAttributeName, String)>,
    ) -> Result<String, PortError> {
        let mut req = self
            .sqs
            .create_queue()
            .queue_name(name)
            .tags("citydesk:stack", self.stack_name)
            .tags("citydesk:city", city)
            .tags("citydesk:department", department.as_str());
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

    /// Creates `name` and its DLQ if missing (CreateQueue is idempotent).
    async fn ensure_queues(
        &self,
        name: &str,
        city: &str,
        department: &DepartmentCode,
    ) -> Result<(), PortError> {
        let dlq_url = self
            .create_queue(
                &format!("{name}-dlq"),
                city,
                department,
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
            name,
            city,
            department,
            vec![
                (
                    QueueAttributeName::VisibilityTimeout,
                    VISIBILITY_TIMEOUT_SECS.into(),
                ),
                (QueueAttributeName::RedrivePolicy, redrive),
                (QueueAttributeName::SqsManagedSseEnabled, "true".into()),
            ],
        )
        .await?;
        Ok(())
    }

    /// A message in the DLQ, or one waiting a day in the queue, notifies the
    /// alarm topic (PutMetricAlarm overwrites: idempotent).
    async fn put_alarms(&self, name: &str, department: &DepartmentCode) -> Result<(), PortError> {
        let [dlq_alarm, age_alarm] = alarm_names(name);
        for (alarm, queue, metric, threshold, what) in [
            (
                dlq_alarm,
                format!("{name}-dlq"),
                "ApproximateNumberOfMessagesVisible",
                0.0,
                "messages the department's system could not take",
            ),
            (
                age_alarm,
                name.to_owned(),
                "ApproximateAgeOfOldestMessage",
                OLDEST_MESSAGE_ALARM_SECS,
                "a message has waited a day for the department's system",
            ),
        ] {
            let actions: Vec<String> = self
                .alarm_topic_arn
                .map(str::to_owned)
                .into_iter()
                .collect();
            self.cloudwatch
                .put_metric_alarm()
                .alarm_name(&alarm)
                .alarm_description(format!("department {department}: {what}"))
                .namespace("AWS/SQS")
                .metric_name(metric)
                .dimensions(Dimension::builder().name("QueueName").value(queue).build())
                .statistic(Statistic::Maximum)
                .period(300)
                .evaluation_periods(1)
                .threshold(threshold)
                .comparison_operator(ComparisonOperator::GreaterThanThreshold)
                .treat_missing_data("notBreaching")
                .set_alarm_actions(Some(actions.clone()))
                .set_ok_actions(Some(actions))
                .tags(
                    aws_sdk_cloudwatch::types::Tag::builder()
                        .key("citydesk:stack")
                        .value(self.stack_name)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| sdk_error("put alarm", &e.into_service_error()))?;
        }
        Ok(())
    }
}

/// The two alarms of a department queue: its DLQ's depth, its oldest message.
fn alarm_names(queue_name: &str) -> [String; 2] {
    [
        format!("{queue_name}-dlq-depth"),
        format!("{queue_name}-oldest-message"),
    ]
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

/// The CloudWatch client the publisher's alarms need (only the admin tools
/// build one; the functions never do).
pub fn cloudwatch_client(sdk: &aws_config::SdkConfig) -> aws_sdk_cloudwatch::Client {
    aws_sdk_cloudwatch::Client::new(sdk)
}
