//! The classify handler on the SQS fixture over in-memory ports: one poison
//! record fails alone, the good one is classified and sent on.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use citydesk_classify::{Deps, handle};
use citydesk_core::catalogue::{Catalogue, CatalogueDocument};
use citydesk_core::language::Language;
use citydesk_core::location::Location;
use citydesk_core::memory::{ManualClock, MemoryStore, SequentialIds};
use citydesk_core::messages::PipelineMessage;
use citydesk_core::ports::RequestStore;
use citydesk_core::request::Channel;
use citydesk_core::usecases::submit_request::{Intake, RequestSubmission, submit_request};

#[tokio::test]
async fn poison_record_fails_alone() {
    let catalogue = Catalogue::new(
        CatalogueDocument::from_sources(
            include_str!("../../../infra/demo-city/catalogue.toml"),
            include_str!("../../../infra/demo-city/districts.geojson"),
        )
        .unwrap(),
    )
    .unwrap();
    let store = Arc::new(MemoryStore::default());
    let clock = Arc::new(ManualClock::at("2026-11-27T09:30:00Z".parse().unwrap()));
    let intake = Intake {
        store: store.as_ref(),
        clock: clock.as_ref(),
        ids: &SequentialIds::default(),
        catalogue: &catalogue,
    };
    let submission = RequestSubmission {
        channel: Channel::Web,
        service_code: None,
        description: "Wielka dziura w jezdni na ulicy Długiej".into(),
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
    let id = submit_request(&intake, submission)
        .await
        .unwrap()
        .request
        .id;
    store.take_pipeline_reactions();

    // The fixture's first record names a request; point it at ours. The second is not JSON.
    let fixture = include_str!("../../../events/sqs/classify-batch.json")
        .replace("01JDQ3V5Y8K9M2N4P6R8T0W2X4", id.as_str());
    let event: SqsEvent = serde_json::from_str(&fixture).unwrap();
    let poison_id = event.records[1].message_id.clone().unwrap();

    let deps = Deps {
        store: store.clone(),
        clock,
        classifiers: citydesk_core::rules::classification::Classifiers::new(
            &citydesk_core::catalogue::Catalogues::single(catalogue.clone()),
        ),
        threshold: 0.35,
    };
    let response = handle(&deps, event, citydesk_aws::deadline::Deadline::none()).await;
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, vec![poison_id]);
    let request = store.get(&id).await.unwrap().unwrap();
    assert_eq!(request.service_code.unwrap().as_str(), "pothole");
    assert_eq!(
        store.take_pipeline_reactions(),
        vec![PipelineMessage::RequestClassified { request_id: id }]
    );
}
