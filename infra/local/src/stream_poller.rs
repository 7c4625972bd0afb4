//! Lambda's DynamoDB stream event source mapping, locally: read each shard of
//! the table's stream in order, keep the records the mapping's filter lets
//! through, invoke the function with a real-shaped event, and move on only
//! past what succeeded. A reported batch item failure is retried from that
//! record (with backoff) up to the mapping's retry limit; then the record is
//! described on the on-failure queue, as Lambda does, and the shard goes on.
//! The position in each shard is kept in a checkpoint file, so a restarted
//! runner neither loses nor repeats work.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use aws_lambda_events::event::dynamodb::{Event as DynamoDbEvent, EventRecord};
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use tokio::sync::watch;

use crate::event_filter;
use crate::functions::StreamHandler;
use crate::stack::StreamSource;

/// Pause when a shard has nothing new.
const IDLE_WAIT: Duration = Duration::from_millis(100);
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const LONGEST_BACKOFF: Duration = Duration::from_secs(5);

/// Where each shard was left: stream ARN → shard id → last sequence number done.
#[derive(Debug, Clone)]
pub struct Checkpoints {
    path: PathBuf,
}

type Positions = BTreeMap<String, BTreeMap<String, String>>;

impl Checkpoints {
    pub fn at(path: PathBuf) -> Self {
        Self { path }
    }
    fn read(&self) -> Positions {
        std::fs::read(&self.path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }
    fn last_done(&self, stream: &str, shard: &str) -> Option<String> {
        self.read().get(stream).and_then(|s| s.get(shard)).cloned()
    }
    fn save(&self, stream: &str, shard: &str, sequence_number: &str) {
        let mut all = self.read();
        all.entry(stream.to_owned())
            .or_default()
            .insert(shard.to_owned(), sequence_number.to_owned());
        let written = serde_json::to_vec_pretty(&all)
            .map_err(std::io::Error::other)
            .and_then(|bytes| {
                let tmp = self.path.with_extension("tmp");
                std::fs::write(&tmp, bytes)?;
                std::fs::rename(&tmp, &self.path)
            });
        if let Err(error) = written {
            tracing::warn!(path = %self.path.display(), %error, "stream checkpoint not saved");
        }
    }
}

pub struct StreamPoller {
    pub streams: aws_sdk_dynamodbstreams::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub source: StreamSource,
    pub region: String,
    pub handler: StreamHandler,
    pub checkpoints: Checkpoints,
    /// The function's timeout: each invocation gets this much time.
    pub function_timeout: Duration,
}

impl StreamPoller {
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut iterators: BTreeMap<String, Option<String>> = BTreeMap::new();
        let mut attempts: BTreeMap<String, u32> = BTreeMap::new();
        loop {
            if *stop.borrow() {
                return;
            }
            let mut busy = false;
            match self.shard_ids().await {
                Ok(shards) => {
                    for shard in shards {
                        let iterator = iterators.entry(shard.clone()).or_insert(None);
                        match self.poll_shard(&shard, iterator, &mut attempts).await {
                            Ok(had_records) => busy |= had_records,
                            Err(error) => {
                                tracing::warn!(stream = %self.source.stream_arn, %error, "stream read failed; retrying");
                                *iterator = None;
                            }
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(stream = %self.source.stream_arn, %error, "describe stream failed; retrying")
                }
            }
            if !busy {
                tokio::select! {
                    _ = tokio::time::sleep(IDLE_WAIT) => {}
                    _ = stop.changed() => return,
                }
            }
        }
    }

    async fn shard_ids(&self) -> anyhow::Result<Vec<String>> {
        let out = self
            .streams
            .describe_stream()
            .stream_arn(&self.source.stream_arn)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.into_service_error()))?;
        Ok(out
            .stream_description
            .map(|d| d.shards.unwrap_or_default())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|s| s.shard_id)
            .collect())
    }

    async fn iterator_for(
        &self,
        shard: &str,
        at_sequence: Option<&str>,
    ) -> anyhow::Result<Option<String>> {
        let mut request = self
            .streams
            .get_shard_iterator()
            .stream_arn(&self.source.stream_arn)
            .shard_id(shard);
        request = match (
            at_sequence,
            self.checkpoints.last_done(&self.source.stream_arn, shard),
        ) {
            (Some(seq), _) => request
                .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
                .sequence_number(seq),
            (None, Some(done)) => request
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .sequence_number(done),
            (None, None) if self.source.starting_position.as_deref() == Some("LATEST") => {
                request.shard_iterator_type(ShardIteratorType::Latest)
            }
            (None, None) => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
        };
        let out = request
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.into_service_error()))?;
        Ok(out.shard_iterator)
    }

    /// Reads one batch of a shard and hands it to the function; `true` when
    /// there were records.
    async fn poll_shard(
        &self,
        shard: &str,
        iterator: &mut Option<String>,
        attempts: &mut BTreeMap<String, u32>,
    ) -> anyhow::Result<bool> {
        if iterator.is_none() {
            *iterator = self.iterator_for(shard, None).await?;
        }
        let Some(current) = iterator.clone() else {
            return Ok(false);
        };
        let out = self
            .streams
            .get_records()
            .shard_iterator(current)
            .limit(self.source.batch_size.clamp(1, 1000))
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.into_service_error()))?;
        let records = out.records.unwrap_or_default();
        if records.is_empty() {
            *iterator = out.next_shard_iterator;
            return Ok(false);
        }
        let Some(last) = records.last().and_then(sequence_number) else {
            *iterator = out.next_shard_iterator;
            return Ok(true);
        };
        let batch: Vec<(String, EventRecord)> = records
            .iter()
            .filter_map(|r| Some((sequence_number(r)?, self.lambda_record(r))))
            .filter(|(_, r)| {
                serde_json::to_value(r)
                    .is_ok_and(|json| event_filter::passes(&self.source.filter_patterns, &json))
            })
            .collect();
        if batch.is_empty() {
            self.checkpoints.save(&self.source.stream_arn, shard, &last);
            *iterator = out.next_shard_iterator;
            return Ok(true);
        }
        let mut event = DynamoDbEvent::default();
        event.records = batch.iter().map(|(_, r)| r.clone()).collect();
        let deadline = citydesk_aws::deadline::Deadline::after(self.function_timeout);
        let response = (self.handler)(event, deadline).await;
        match first_failure(&batch, &response, self.source.report_batch_item_failures) {
            None => {
                attempts.remove(shard);
                self.checkpoints.save(&self.source.stream_arn, shard, &last);
                *iterator = out.next_shard_iterator;
            }
            Some(index) => {
                let failed_seq = batch[index].0.clone();
                if index > 0 {
                    self.checkpoints
                        .save(&self.source.stream_arn, shard, &batch[index - 1].0);
                }
                let tries = attempts.entry(shard.to_owned()).or_insert(0);
                *tries += 1;
                let limit = self.source.maximum_retry_attempts.filter(|n| *n >= 0);
                if limit.is_some_and(|limit| i64::from(*tries) > limit) {
                    self.give_up(shard, &batch[index]).await?;
                    attempts.remove(shard);
                    self.checkpoints
                        .save(&self.source.stream_arn, shard, &failed_seq);
                    *iterator = self.iterator_for(shard, None).await?;
                } else {
                    let backoff = FIRST_BACKOFF
                        .saturating_mul(2_u32.saturating_pow(tries.saturating_sub(1)))
                        .min(LONGEST_BACKOFF);
                    tracing::warn!(shard, sequence_number = %failed_seq, attempt = *tries, "stream batch failed; retrying from the failed record");
                    tokio::time::sleep(backoff).await;
                    *iterator = self.iterator_for(shard, Some(&failed_seq)).await?;
                }
            }
        }
        Ok(true)
    }

    /// Describes a record the function gave up on to the on-failure queue
    /// (Lambda sends the same kind of description, not the record itself).
    async fn give_up(
        &self,
        shard: &str,
        (seq, record): &(String, EventRecord),
    ) -> anyhow::Result<()> {
        tracing::error!(shard, sequence_number = %seq, "stream record failed every retry; sent to the on-failure destination");
        let Some(url) = &self.source.on_failure_queue_url else {
            return Ok(());
        };
        let description = serde_json::json!({
            "requestContext": {"condition": "RetryAttemptsExhausted", "functionArn": self.source.function},
            "DDBStreamBatchInfo": {
                "shardId": shard,
                "startSequenceNumber": seq,
                "endSequenceNumber": seq,
                "batchSize": 1,
                "streamArn": self.source.stream_arn,
                "approximateArrivalOfFirstRecord": record.change.approximate_creation_date_time,
            }
        });
        self.sqs
            .send_message()
            .queue_url(url)
            .message_body(description.to_string())
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.into_service_error()))?;
        Ok(())
    }

    /// The record as Lambda puts it in the event.
    fn lambda_record(&self, record: &Record) -> EventRecord {
        let mut out = EventRecord::default();
        out.aws_region = self.region.clone();
        out.event_id = record.event_id.clone().unwrap_or_default();
        out.event_name = record
            .event_name
            .as_ref()
            .map(|n| n.as_str().to_owned())
            .unwrap_or_default();
        out.event_source = Some("aws:dynamodb".into());
        out.event_version = record.event_version.clone();
        out.event_source_arn = Some(self.source.stream_arn.clone());
        if let Some(change) = &record.dynamodb {
            out.change.keys = change.keys.clone().unwrap_or_default().into();
            out.change.new_image = change.new_image.clone().unwrap_or_default().into();
            out.change.old_image = change.old_image.clone().unwrap_or_default().into();
            out.change.sequence_number = change.sequence_number.clone();
            out.change.size_bytes = change.size_bytes.unwrap_or(0);
        }
        out
    }
}

fn sequence_number(record: &Record) -> Option<String> {
    record.dynamodb.as_ref()?.sequence_number.clone()
}

/// The index of the first record to retry from, as Lambda reads the answer:
/// the lowest reported sequence number; an empty or unknown identifier, or a
/// failure without `ReportBatchItemFailures`, means the whole batch.
fn first_failure(
    batch: &[(String, EventRecord)],
    response: &DynamoDbEventResponse,
    partial: bool,
) -> Option<usize> {
    if response.batch_item_failures.is_empty() {
        return None;
    }
    if !partial {
        return Some(0);
    }
    response
        .batch_item_failures
        .iter()
        .map(|f| {
            f.item_identifier
                .as_deref()
                .and_then(|id| batch.iter().position(|(seq, _)| seq == id))
        })
        .try_fold(usize::MAX, |lowest, found| found.map(|i| lowest.min(i)))
        .or(Some(0))
}
