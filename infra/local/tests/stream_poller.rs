//! The local DynamoDB stream mapping on a real emulator table: the filter
//! keeps other items away, a reported failure is retried from that record
//! while the records before it are not repeated, a record that keeps failing
//! ends on the on-failure queue and the shard goes on, and a restarted poller
//! resumes from its checkpoint.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType, StreamSpecification, StreamViewType,
};
use citydesk_aws::config::Clients;
use citydesk_local::functions::StreamHandler;
use citydesk_local::stack::StreamSource;
use citydesk_local::stream_poller::{Checkpoints, StreamPoller};

async fn clients() -> Clients {
    let endpoint = std::env::var("CITYDESK_TEST_ENDPOINT")
        .expect("CITYDESK_TEST_ENDPOINT is not set: run the tests with `make test`, which starts the emulator");
    Clients::for_emulator(&endpoint).await.unwrap()
}

fn key(name: &str, kind: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .unwrap()
}

/// A table with a stream, its stream ARN, and an on-failure queue.
async fn table_with_stream(c: &Clients) -> (String, String, String) {
    let name = format!("stream-{}", ulid::Ulid::new().to_string().to_lowercase());
    let mut create = c
        .dynamodb
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewImage)
                .build()
                .unwrap(),
        );
    for attr in ["pk", "sk"] {
        create = create.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attr)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        );
    }
    let arn = create
        .send()
        .await
        .unwrap()
        .table_description
        .unwrap()
        .latest_stream_arn
        .unwrap();
    let queue = c
        .sqs
        .create_queue()
        .queue_name(format!("{name}-failures"))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    (name, arn, queue)
}

async fn put(c: &Clients, table: &str, sk: &str) {
    c.dynamodb
        .put_item()
        .table_name(table)
        .item("pk", AttributeValue::S("REQ#1".into()))
        .item("sk", AttributeValue::S(sk.into()))
        .send()
        .await
        .unwrap();
}

/// Records every delivery by sort key; fails `failing_sk` on its first `fail_times` deliveries.
fn handler(
    deliveries: Arc<Mutex<Vec<String>>>,
    failing_sk: &'static str,
    fail_times: usize,
) -> StreamHandler {
    let attempts = Arc::new(Mutex::new(BTreeMap::<String, usize>::new()));
    Arc::new(move |event, _deadline| {
        let deliveries = deliveries.clone();
        let attempts = attempts.clone();
        Box::pin(async move {
            let mut response = DynamoDbEventResponse::default();
            for record in event.records {
                let sk = match record.change.keys.into_inner().get("sk") {
                    Some(serde_dynamo::AttributeValue::S(s)) => s.clone(),
                    other => panic!("no sort key: {other:?}"),
                };
                deliveries.lock().unwrap().push(sk.clone());
                let mut tried = attempts.lock().unwrap();
                let n = tried.entry(sk.clone()).or_default();
                *n += 1;
                if sk == failing_sk && *n <= fail_times {
                    let mut failure = DynamoDbBatchItemFailure::default();
                    failure.item_identifier = record.change.sequence_number.clone();
                    response.batch_item_failures.push(failure);
                    return response;
                }
            }
            response
        })
    })
}

fn source(arn: &str, table: &str, queue: &str, retries: i64) -> StreamSource {
    serde_json::from_value(serde_json::json!({
        "function": "DispatchFunction",
        "table_name": table,
        "stream_arn": arn,
        "starting_position": "TRIM_HORIZON",
        "batch_size": 10,
        "report_batch_item_failures": true,
        "maximum_retry_attempts": retries,
        "on_failure_queue_url": queue,
        "filter_patterns": [{"eventName": ["INSERT"], "dynamodb": {"Keys": {"sk": {"S": [{"prefix": "EVENT#"}]}}}}]
    }))
    .unwrap()
}

async fn run_until(poller: StreamPoller, seconds: u64, done: impl Fn() -> bool) {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(poller.run(stop_rx));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    while !done() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A moment more: nothing further may arrive.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = stop_tx.send(true);
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_record_is_retried_from_itself_and_a_hopeless_one_is_set_aside() {
    let c = clients().await;
    let (table, arn, failures) = table_with_stream(&c).await;
    for sk in ["EVENT#1", "CONTACT", "EVENT#2", "EVENT#3"] {
        put(&c, &table, sk).await;
    }
    let dir = std::env::temp_dir().join(&table);
    std::fs::create_dir_all(&dir).unwrap();
    let poller = |retries: i64, deliveries: Arc<Mutex<Vec<String>>>, failing, times| StreamPoller {
        streams: aws_sdk_dynamodbstreams::Client::new(&c.sdk),
        sqs: c.sqs.clone(),
        source: source(&arn, &table, &failures, retries),
        region: "eu-central-1".into(),
        handler: handler(deliveries, failing, times),
        checkpoints: Checkpoints::at(dir.join("checkpoints.json")),
        function_timeout: Duration::from_secs(10),
    };

    // EVENT#2 fails twice, then succeeds: delivered three times, EVENT#1 once.
    let deliveries = Arc::new(Mutex::new(Vec::new()));
    let seen = deliveries.clone();
    run_until(poller(5, deliveries.clone(), "EVENT#2", 2), 20, move || {
        seen.lock().unwrap().iter().any(|sk| sk == "EVENT#3")
    })
    .await;
    let got = deliveries.lock().unwrap().clone();
    assert_eq!(
        got,
        vec!["EVENT#1", "EVENT#2", "EVENT#2", "EVENT#2", "EVENT#3"],
        "retried from the failed record only; the contact item never reaches the function"
    );

    // A restarted poller resumes after its checkpoint: nothing is delivered again.
    let again = Arc::new(Mutex::new(Vec::new()));
    // (Two seconds of polling: twenty idle polls of the shard.)
    run_until(poller(5, again.clone(), "", 0), 2, || false).await;
    assert!(
        again.lock().unwrap().is_empty(),
        "{:?}",
        again.lock().unwrap()
    );

    // New records; EVENT#5 fails every time: after 2 retries it is described on
    // the on-failure queue and EVENT#6 is still delivered.
    for sk in ["EVENT#5", "EVENT#6"] {
        put(&c, &table, sk).await;
    }
    let later = Arc::new(Mutex::new(Vec::new()));
    let seen = later.clone();
    run_until(
        poller(2, later.clone(), "EVENT#5", usize::MAX),
        20,
        move || seen.lock().unwrap().iter().any(|sk| sk == "EVENT#6"),
    )
    .await;
    assert_eq!(
        later.lock().unwrap().clone(),
        vec!["EVENT#5", "EVENT#5", "EVENT#5", "EVENT#6"],
        "one try and two retries, then the shard goes on"
    );
    let set_aside = c
        .sqs
        .receive_message()
        .queue_url(&failures)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert_eq!(set_aside.len(), 1);
    let body: serde_json::Value =
        serde_json::from_str(set_aside[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(
        body["requestContext"]["condition"],
        "RetryAttemptsExhausted"
    );
    assert_eq!(body["DDBStreamBatchInfo"]["streamArn"], arn.as_str());
}
