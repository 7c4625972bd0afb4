//! The dispatcher driven by a real-shaped DynamoDB stream batch
//! (`events/dynamodb/dispatch-batch.json`) over in-memory ports.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use aws_lambda_events::event::dynamodb::Event as DynamoDbEvent;
use citydesk_aws::deadline::Deadline;
use citydesk_core::catalogue::{Catalogue, CatalogueDocument, Catalogues};
use citydesk_core::memory::{MemoryBus, MemoryQueues};
use citydesk_core::messages::{PipelineMessage, SlaAlert};
use citydesk_dispatch::{Deps, handle};

struct World {
    queues: Arc<MemoryQueues>,
    bus: Arc<MemoryBus>,
    deps: Deps,
}

fn world() -> World {
    let catalogue = Catalogue::new(
        CatalogueDocument::from_sources(
            include_str!("../../../infra/demo-city/catalogue.toml"),
            include_str!("../../../infra/demo-city/districts.geojson"),
        )
        .unwrap(),
    )
    .unwrap();
    let queues = Arc::new(MemoryQueues::default());
    let bus = Arc::new(MemoryBus::default());
    let deps = Deps {
        queue: queues.clone(),
        department_queues: queues.clone(),
        bus: bus.clone(),
        catalogues: Catalogues::single(catalogue),
        contacts: Arc::new(citydesk_core::memory::MemoryStore::default()),
        audit: Arc::new(citydesk_core::memory::MemoryAuditTrail::default()),
    };
    World { queues, bus, deps }
}

fn batch() -> DynamoDbEvent {
    serde_json::from_str(include_str!("../../../events/dynamodb/dispatch-batch.json")).unwrap()
}

fn failed(response: &aws_lambda_events::event::streams::DynamoDbEventResponse) -> Vec<String> {
    response
        .batch_item_failures
        .iter()
        .filter_map(|f| f.item_identifier.clone())
        .collect()
}

#[tokio::test]
async fn each_event_goes_where_it_belongs_and_the_first_unusable_one_is_reported() {
    let w = world();
    let response = handle(&w.deps, batch(), Deadline::none()).await;
    // The fourth record (an event without its snapshot) can never be used:
    // reported, so Lambda retries it and then sends it to the on-failure queue.
    assert_eq!(failed(&response), vec!["100000000000000000004".to_owned()]);
    let id = citydesk_core::ids::RequestId::parse("01JDQ3V5Y8K9M2N4P6R8T0W2X4").unwrap();
    assert_eq!(
        w.queues.take_pipeline(),
        vec![
            PipelineMessage::RequestCreated {
                request_id: id.clone()
            },
            PipelineMessage::StatusChanged {
                request_id: id.clone(),
                seq: 1
            },
            PipelineMessage::StatusChanged {
                request_id: id.clone(),
                seq: 3
            },
        ],
        "the request item's own change (record 2) sets nothing off"
    );
    let departments = w.queues.department_messages();
    assert_eq!(departments.len(), 1);
    let (queue, assignment) = &departments[0];
    assert_eq!(queue, "roads");
    assert_eq!(
        (
            assignment.seq,
            assignment.case_number.as_str(),
            assignment.sla_alert
        ),
        (3, "QSW8-BGAF", None::<SlaAlert>)
    );
    let published: Vec<_> = w
        .bus
        .published()
        .into_iter()
        .map(|e| (e.detail_type, e.detail.event_id))
        .collect();
    assert_eq!(
        published,
        vec![
            ("citydesk.request.created.v1", format!("{id}/1")),
            ("citydesk.request.routed.v1", format!("{id}/3")),
        ]
    );
}

#[tokio::test]
async fn a_failing_dependency_stops_the_batch_at_that_record() {
    let w = world();
    w.bus
        .failing
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let response = handle(&w.deps, batch(), Deadline::none()).await;
    // Lambda resumes the shard from the first failure: nothing after it is tried.
    assert_eq!(failed(&response), vec!["100000000000000000001".to_owned()]);
    assert!(w.queues.department_messages().is_empty());
}

#[tokio::test]
async fn with_no_time_left_the_batch_is_handed_back_untouched() {
    let w = world();
    let response = handle(&w.deps, batch(), Deadline::after(std::time::Duration::ZERO)).await;
    assert_eq!(failed(&response), vec!["100000000000000000001".to_owned()]);
    assert!(w.queues.take_pipeline().is_empty());
    assert!(w.bus.published().is_empty());
}
