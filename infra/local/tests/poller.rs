//! The local event source mapping on a real emulator queue: a poison record is
//! redriven to the DLQ while the other nine of its batch succeed, and a
//! duplicate delivery changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;
use citydesk_aws::config::Clients;
use citydesk_core::catalogue::{Catalogue, CatalogueDocument};
use citydesk_core::language::Language;
use citydesk_core::location::Location;
use citydesk_core::memory::{ManualClock, MemoryStore, SequentialIds};
use citydesk_core::messages::PipelineMessage;
use citydesk_core::ports::RequestStore;
use citydesk_core::request::Channel;
use citydesk_core::usecases::submit_request::{Intake, RequestSubmission, submit_request};
use citydesk_local::functions::SqsHandler;
use citydesk_local::stack::QueueSource;

async fn sqs() -> aws_sdk_sqs::Client {
    let endpoint = std::env::var("CITYDESK_TEST_ENDPOINT")
        .expect("CITYDESK_TEST_ENDPOINT is not set: run the tests with `make test`, which starts the emulator");
    Clients::for_emulator(&endpoint).await.unwrap().sqs
}

async fn depth(sqs: &aws_sdk_sqs::Client, url: &str) -> usize {
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap_or_default();
    [
        QueueAttributeName::ApproximateNumberOfMessages,
        QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
    ]
    .iter()
    .map(|k| {
        attrs
            .get(k)
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0)
    })
    .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_goes_to_the_dlq_and_the_rest_of_the_batch_succeeds() {
    let sqs = sqs().await;
    let name = format!("poller-{}", ulid::Ulid::new().to_string().to_lowercase());
    let dlq_url = sqs
        .create_queue()
        .queue_name(format!("{name}-dlq"))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let dlq_arn = citydesk_aws::sqs::queue_arn(&sqs, &dlq_url).await.unwrap();
    let url = sqs
        .create_queue()
        .queue_name(&name)
        .attributes(QueueAttributeName::VisibilityTimeout, "1")
        .attributes(
            QueueAttributeName::RedrivePolicy,
            serde_json::json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}).to_string(),
        )
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();

    // Nine real requests (in memory) and one poison message, in one batch.
    let catalogue = Catalogue::new(
        CatalogueDocument::from_sources(
            include_str!("../../demo-city/catalogue.toml"),
            include_str!("../../demo-city/districts.geojson"),
        )
        .unwrap(),
    )
    .unwrap();
    let store = Arc::new(MemoryStore::default());
    let clock = Arc::new(ManualClock::at("2026-11-27T09:30:00Z".parse().unwrap()));
    let ids = SequentialIds::default();
    let intake = Intake {
        store: store.as_ref(),
        clock: clock.as_ref(),
        ids: &ids,
        catalogue: &catalogue,
    };
    let mut request_ids = Vec::new();
    for _ in 0..9 {
        let submission = RequestSubmission {
            channel: Channel::Sms,
            service_code: None,
            description: "Powalone drzewo blokuje chodnik".into(),
            location: Location::default(),
            contact: None,
            language: Language::Pl,
            answers: Default::default(),
            media: Vec::new(),
            idempotency: None,
            privacy_requested: false,
            open311_client: None,
            registered_by: None,
            follows: None,
        };
        request_ids.push(
            submit_request(&intake, submission)
                .await
                .unwrap()
                .request
                .id,
        );
    }
    store.take_committed();
    for (i, id) in request_ids.iter().enumerate() {
        let body = serde_json::to_string(&PipelineMessage::RequestCreated {
            request_id: id.clone(),
        })
        .unwrap();
        sqs.send_message()
            .queue_url(&url)
            .message_body(body)
            .send()
            .await
            .unwrap();
        if i == 4 {
            sqs.send_message()
                .queue_url(&url)
                .message_body(r#"{"type":"request_created","request_id":"nope"}"#)
                .send()
                .await
                .unwrap();
        }
    }
    // One of the nine again: SQS delivers twice sometimes.
    let duplicate = serde_json::to_string(&PipelineMessage::RequestCreated {
        request_id: request_ids[0].clone(),
    })
    .unwrap();
    sqs.send_message()
        .queue_url(&url)
        .message_body(duplicate)
        .send()
        .await
        .unwrap();

    let deps = Arc::new(citydesk_classify::Deps {
        store: store.clone(),
        clock,
        classifiers: citydesk_core::rules::classification::Classifiers::new(
            &citydesk_core::catalogue::Catalogues::single(catalogue.clone()),
        ),
        threshold: 0.35,
    });
    let handler: SqsHandler = Arc::new(move |event, deadline| {
        let deps = deps.clone();
        Box::pin(async move { citydesk_classify::handle(&deps, event, deadline).await })
    });
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let source = QueueSource {
        function: "ClassifyFunction".into(),
        queue_url: url.clone(),
        batch_size: 10,
        maximum_batching_window_seconds: None,
        report_batch_item_failures: true,
    };
    let poller = tokio::spawn(citydesk_local::poller::run(
        sqs.clone(),
        source,
        "eu-central-1".into(),
        handler,
        Duration::from_secs(10),
        stop_rx,
    ));

    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while tokio::time::Instant::now() < deadline
        && (depth(&sqs, &url).await > 0 || depth(&sqs, &dlq_url).await == 0)
    {
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let _ = stop_tx.send(true);
    poller.await.unwrap();

    assert_eq!(depth(&sqs, &url).await, 0, "source queue drained");
    let dead = sqs
        .receive_message()
        .queue_url(&dlq_url)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert_eq!(dead.len(), 1, "only the poison message is in the DLQ");
    assert!(dead[0].body.as_deref().unwrap().contains("nope"));
    for id in &request_ids {
        let r = store.get(id).await.unwrap().unwrap();
        assert_eq!(
            r.service_code.map(|s| s.to_string()).as_deref(),
            Some("fallen-tree")
        );
        // Classified once: created + classified, even for the duplicate.
        assert_eq!(r.version, 2, "{id}");
    }
    // Each of the nine classified once (the duplicate delivery committed nothing).
    let committed = store.take_committed();
    assert_eq!(committed.len(), 9, "{committed:?}");
}
