//! Adapter tests against the AWS-API emulator `make test` starts
//! (`CITYDESK_TEST_ENDPOINT`). Every test uses its own table, queue or bucket.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};
use citydesk_aws::config::Clients;
use citydesk_aws::dynamo::DynamoStore;
use citydesk_aws::s3::S3Blobs;
use citydesk_aws::system::RandomIds;
use citydesk_core::contact::{Contact, PhoneNumber};
use citydesk_core::ids::DepartmentCode;
use citydesk_core::language::Language;
use citydesk_core::location::Location;
use citydesk_core::ports::*;
use citydesk_core::request::{Channel, EventKind, HistoryEvent, ServiceRequest};
use citydesk_core::status::Status;
use jiff::{SignedDuration, Timestamp};

fn endpoint() -> String {
    std::env::var("CITYDESK_TEST_ENDPOINT")
        .expect("CITYDESK_TEST_ENDPOINT is not set: run the tests with `make test`, which starts the emulator")
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", ulid::Ulid::new().to_string().to_lowercase())
}

async fn clients() -> Clients {
    Clients::for_emulator(&endpoint()).await.unwrap()
}

fn key(name: &str, kind: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .unwrap()
}

/// The `Table` resource of template.yaml, so the tests' tables cannot drift
/// from the deployed one (keys, indexes, projections, stream).
fn template_table() -> serde_norway::Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml"))
        .unwrap();
    let template: serde_norway::Value = serde_norway::from_str(&text).unwrap();
    template["Resources"]["Table"]["Properties"].clone()
}

fn text(v: &serde_norway::Value) -> &str {
    v.as_str()
        .unwrap_or_else(|| panic!("template.yaml Table: {v:?} is not a string"))
}

fn key_schema(keys: &serde_norway::Value) -> Vec<KeySchemaElement> {
    keys.as_sequence()
        .unwrap()
        .iter()
        .map(|k| {
            key(
                text(&k["AttributeName"]),
                KeyType::from(text(&k["KeyType"])),
            )
        })
        .collect()
}

/// A fresh table shaped like template.yaml's `Table`.
async fn fresh_store() -> DynamoStore {
    let c = clients().await;
    let table = unique("table");
    let spec = template_table();
    let mut create = c
        .dynamodb
        .create_table()
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(key_schema(&spec["KeySchema"])));
    for index in spec["GlobalSecondaryIndexes"].as_sequence().unwrap() {
        create = create.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(text(&index["IndexName"]))
                .set_key_schema(Some(key_schema(&index["KeySchema"])))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(text(
                            &index["Projection"]["ProjectionType"],
                        )))
                        .build(),
                )
                .build()
                .unwrap(),
        );
    }
    for attribute in spec["AttributeDefinitions"].as_sequence().unwrap() {
        create = create.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(text(&attribute["AttributeName"]))
                .attribute_type(ScalarAttributeType::from(text(&attribute["AttributeType"])))
                .build()
                .unwrap(),
        );
    }
    if let Some(view) = spec["StreamSpecification"]["StreamViewType"].as_str() {
        create = create.stream_specification(
            aws_sdk_dynamodb::types::StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(aws_sdk_dynamodb::types::StreamViewType::from(view))
                .build()
                .unwrap(),
        );
    }
    create.send().await.unwrap();
    DynamoStore::new(c.dynamodb, table)
}

fn new_request(at: Timestamp, idempotency: Option<&str>) -> NewRequest {
    let ids = RandomIds::new(
        citydesk_core::ids::TrackingKey::new(b"tests"),
        citydesk_core::contact::ContactKey::new(b"tests"),
    );
    let id = ids.request_id();
    let token = ids.tracking_token(&id);
    let request = ServiceRequest {
        id,
        case_number: ids.case_number(),
        jurisdiction: citydesk_core::ids::JurisdictionId::parse("krakow").unwrap(),
        channel: Channel::Web,
        language: Language::Pl,
        service_code: Some(citydesk_core::ids::ServiceCode::parse("pothole").unwrap()),
        classification_confidence: None,
        description: "Dziura w jezdni".into(),
        location: Location::parse(Some(50.07), Some(19.935), None).unwrap(),
        status: Status::New,
        department: None,
        due_at: None,
        created_at: at,
        updated_at: at,
        resolved_at: None,
        resolution: None,
        privacy_requested: false,
        public_description: None,
        open311_client: None,
        tracking_token_hash: token.hash(),
        has_contact: true,
        attributes: Default::default(),
        media: Vec::new(),
        suggestions: Vec::new(),
        declined_departments: Vec::new(),
        duplicate_of: None,
        followers: Vec::new(),
        follower_count: 0,
        sla_warning_at: None,
        sla_warned: false,
        sla_breach_noted: false,
        version: 1,
    };
    NewRequest {
        created: HistoryEvent {
            seq: 1,
            at,
            actor: "citizen".into(),
            kind: EventKind::Created {
                channel: Channel::Web,
            },
        },
        request,
        contact: Some(Contact {
            phone: PhoneNumber::parse("+48600100200").ok(),
            ..Contact::default()
        }),
        person_keys: Vec::new(),
        idempotency: idempotency.map(|k| IdempotencyClaim {
            key: k.into(),
            payload_hash: "h1".into(),
        }),
    }
}

fn now() -> Timestamp {
    Timestamp::now()
}

#[tokio::test]
async fn create_is_atomic_idempotent_and_keeps_contact_apart() {
    let store = fresh_store().await;
    let new = new_request(now(), Some("web#k1"));
    assert!(matches!(
        store.create(&new).await.unwrap(),
        CreateOutcome::Created
    ));

    let got = store.get(&new.request.id).await.unwrap().unwrap();
    assert_eq!(got, new.request);
    let by_case = store
        .find_by_case_number(&new.request.case_number)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_case.id, new.request.id);
    assert_eq!(
        store.history(&new.request.id).await.unwrap(),
        vec![new.created.clone()]
    );
    let contact = store.contact(&new.request.id).await.unwrap().unwrap();
    assert_eq!(contact.phone.unwrap().as_str(), "+48600100200");

    // The same key again: the first request, nothing written.
    let again = new_request(now(), Some("web#k1"));
    match store.create(&again).await.unwrap() {
        CreateOutcome::AlreadyExists {
            request_id,
            payload_hash,
        } => {
            assert_eq!(request_id, new.request.id);
            assert_eq!(payload_hash, "h1");
        }
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    assert!(store.get(&again.request.id).await.unwrap().is_none());

    // A taken case number is reported, and nothing of the second request is written.
    let mut clash = new_request(now(), None);
    clash.request.case_number = new.request.case_number.clone();
    assert!(matches!(
        store.create(&clash).await.unwrap(),
        CreateOutcome::CaseNumberTaken
    ));
    assert!(store.get(&clash.request.id).await.unwrap().is_none());
    assert!(store.contact(&clash.request.id).await.unwrap().is_none());
}

/// The SDK retries an attempt whose answer was lost (a timeout, a 500 after
/// the commit); DynamoDB answers a retry with the same token as the first,
/// an emulator fails its every condition. Either way it is the creation that
/// committed, not a clash that would draw a new case number and file the
/// request twice.
#[tokio::test]
async fn a_retried_creation_that_had_committed_is_created_once() {
    let store = fresh_store().await;
    for idempotency in [None, Some("web#retried")] {
        let new = new_request(now(), idempotency);
        for attempt in 0..2 {
            match store.create(&new).await.unwrap() {
                CreateOutcome::Created => {}
                other => panic!("attempt {attempt}: expected Created, got {other:?}"),
            }
        }
        assert_eq!(
            store.history(&new.request.id).await.unwrap(),
            vec![new.created.clone()]
        );
        let by_case = store
            .find_by_case_number(&new.request.case_number)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(by_case, new.request);
    }
}

#[tokio::test]
async fn optimistic_locking_loses_nothing_under_concurrent_updates() {
    let store = Arc::new(fresh_store().await);
    let new = new_request(now(), None);
    store.create(&new).await.unwrap();
    let dept = DepartmentCode::parse("roads").unwrap();
    let assign = new
        .request
        .assign(dept.clone(), now(), now(), now(), "test")
        .unwrap();
    assert!(matches!(
        store.apply(&assign).await.unwrap(),
        ApplyOutcome::Applied
    ));

    // Eight writers race from the same version: exactly one wins.
    let base = assign.request.clone();
    let attempts = (0..8).map(|i| {
        let store = store.clone();
        let change = base
            .move_to(
                Status::Acknowledged,
                Some(format!("writer {i}")),
                now(),
                "test",
            )
            .unwrap();
        async move { store.apply(&change).await.unwrap() }
    });
    let outcomes = futures::future::join_all(attempts).await;
    let applied = outcomes
        .iter()
        .filter(|o| matches!(o, ApplyOutcome::Applied))
        .count();
    assert_eq!(applied, 1, "{outcomes:?}");
    let history = store.history(&base.id).await.unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(
        history.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(store.get(&base.id).await.unwrap().unwrap().version, 3);
}

/// Every item of a department's open work, paged through (status, then due time).
async fn open_work(
    store: &DynamoStore,
    department: &DepartmentCode,
    status: Option<Status>,
) -> Result<Vec<ServiceRequest>, PortError> {
    let listing = citydesk_core::paging::Listing::DepartmentWork {
        department: department.clone(),
        status,
    };
    let mut page = citydesk_core::paging::PageRequest::default();
    let mut all = Vec::new();
    loop {
        let got = store.page(&listing, &page).await?;
        all.extend(got.items);
        match got.next {
            Some(next) => page.after = Some(next),
            None => return Ok(all),
        }
    }
}

#[tokio::test]
async fn department_work_and_time_window_queries() {
    let store = fresh_store().await;
    let roads = DepartmentCode::parse("roads").unwrap();
    let water = DepartmentCode::parse("water").unwrap();
    let day: Timestamp = "2026-11-27T10:00:00Z".parse().unwrap();
    let mut ids = Vec::new();
    // Twelve requests spread over the shards, two days, two departments.
    for i in 0..12_i64 {
        let at = day + SignedDuration::from_hours(i * 3);
        let new = new_request(at, None);
        store.create(&new).await.unwrap();
        let dept = if i % 3 == 0 {
            water.clone()
        } else {
            roads.clone()
        };
        let due = at + SignedDuration::from_hours(72 - i);
        let change = new.request.assign(dept, due, due, at, "test").unwrap();
        store.apply(&change).await.unwrap();
        ids.push(change.request);
    }
    let open = open_work(&store, &roads, None).await.unwrap();
    assert_eq!(open.len(), 8);
    assert!(
        open.windows(2).all(|w| w[0].due_at <= w[1].due_at),
        "due first"
    );
    assert!(open.iter().all(|r| r.department.as_ref() == Some(&roads)));

    // Resolved work leaves the department's list.
    let first = open[0].clone();
    let ack = first
        .move_to(Status::Resolved, Some("done".into()), now(), "test")
        .unwrap();
    store.apply(&ack).await.unwrap();
    assert_eq!(open_work(&store, &roads, None).await.unwrap().len(), 7);
    // Filtered by status through the index's sort key.
    let second = open[1]
        .move_to(Status::Acknowledged, None, now(), "test")
        .unwrap();
    store.apply(&second).await.unwrap();
    let acknowledged = open_work(&store, &roads, Some(Status::Acknowledged))
        .await
        .unwrap();
    assert_eq!(
        acknowledged
            .iter()
            .map(|r| r.id.clone())
            .collect::<Vec<_>>(),
        vec![second.request.id.clone()]
    );
    assert_eq!(
        open_work(&store, &roads, Some(Status::Assigned))
            .await
            .unwrap()
            .len(),
        6
    );
    assert_eq!(open_work(&store, &water, None).await.unwrap().len(), 4);

    // 27 Nov 10:00 .. 28 Nov 10:00 holds i = 0..=7 (every three hours).
    let from = day;
    let to = day + SignedDuration::from_hours(24);
    let window = store.created_between(from, to).await.unwrap();
    assert_eq!(window.len(), 8);
    assert!(
        window
            .iter()
            .all(|r| r.created_at >= from && r.created_at < to)
    );
}

#[tokio::test]
async fn department_work_pages_through_every_item_once_while_work_arrives() {
    use citydesk_core::paging::{Listing, PageRequest};
    let store = fresh_store().await;
    let roads = DepartmentCode::parse("roads").unwrap();
    let day: Timestamp = "2026-11-27T10:00:00Z".parse().unwrap();
    let assign = |i: i64| {
        let store = store.clone();
        let roads = roads.clone();
        async move {
            let at = day + SignedDuration::from_mins(i);
            let new = new_request(at, None);
            store.create(&new).await.unwrap();
            let due = at + SignedDuration::from_hours(72);
            let change = new.request.assign(roads, due, due, at, "test").unwrap();
            store.apply(&change).await.unwrap();
            change.request.id
        }
    };
    let mut present = Vec::new();
    for i in 0..23 {
        present.push(assign(i).await);
    }
    let listing = Listing::DepartmentWork {
        department: roads.clone(),
        status: None,
    };
    let mut seen = Vec::new();
    let mut page = PageRequest {
        limit: 5,
        after: None,
    };
    let mut pages = 0;
    let mut arrived = Vec::new();
    loop {
        let before = store.items_read();
        let got = store.page(&listing, &page).await.unwrap();
        // Eight shards, at most limit + 1 items each, however long the list.
        assert!(
            store.items_read() - before <= 8 * 6,
            "a page reads a bounded number of items"
        );
        assert!(got.items.len() <= 5);
        seen.extend(got.items.iter().map(|r| r.id.clone()));
        pages += 1;
        if pages == 2 {
            // New work arrives while the clerk pages: due later, so after the cursor.
            for i in 100..104 {
                arrived.push(assign(i).await);
            }
        }
        match got.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    let unique: std::collections::BTreeSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "no item twice");
    for id in present.iter().chain(&arrived) {
        assert!(unique.contains(id), "{id} missing");
    }
    assert_eq!(seen.len(), 27);
    // A status filter pages within that status only.
    let acknowledged = Listing::DepartmentWork {
        department: roads,
        status: Some(Status::Acknowledged),
    };
    let none = store
        .page(&acknowledged, &PageRequest::default())
        .await
        .unwrap();
    assert!(none.items.is_empty() && none.next.is_none());
}

#[tokio::test]
async fn once_ledger_claims_once_and_recovers_expired_locks() {
    let store = fresh_store().await;
    let t0: Timestamp = now();
    let lock = t0 + SignedDuration::from_secs(60);
    assert_eq!(
        store.claim("notify#a#3", t0, lock).await.unwrap(),
        Claim::Acquired
    );
    assert_eq!(
        store.claim("notify#a#3", t0, lock).await.unwrap(),
        Claim::InProgress
    );
    // A crashed sender's lock expires; the next delivery takes over.
    let later = t0 + SignedDuration::from_secs(120);
    assert_eq!(
        store
            .claim("notify#a#3", later, later + SignedDuration::from_secs(60))
            .await
            .unwrap(),
        Claim::Acquired
    );
    store.complete("notify#a#3").await.unwrap();
    assert_eq!(
        store.claim("notify#a#3", later, later).await.unwrap(),
        Claim::AlreadyDone
    );
    // A released claim can be taken again at once.
    assert_eq!(
        store.claim("notify#b#3", t0, lock).await.unwrap(),
        Claim::Acquired
    );
    store.release("notify#b#3").await.unwrap();
    assert_eq!(
        store.claim("notify#b#3", t0, lock).await.unwrap(),
        Claim::Acquired
    );
}

#[tokio::test]
async fn department_keys_resolve_by_hash() {
    let store = fresh_store().await;
    let roads = DepartmentCode::parse("roads").unwrap();
    store
        .put_department_key("abc123", &roads, jiff::Timestamp::now())
        .await
        .unwrap();
    assert_eq!(
        store.department_for_key_hash("abc123").await.unwrap(),
        Some(roads)
    );
    assert_eq!(store.department_for_key_hash("other").await.unwrap(), None);
}

#[tokio::test]
async fn s3_create_only_writes_once() {
    let c = clients().await;
    let bucket = unique("bucket");
    c.s3.create_bucket()
        .bucket(&bucket)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuCentral1)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let blobs = S3Blobs::new(c.s3, &bucket);
    assert!(
        blobs
            .put_new("reports/x.json", "application/json", b"first".to_vec())
            .await
            .unwrap()
    );
    assert!(
        !blobs
            .put_new("reports/x.json", "application/json", b"second".to_vec())
            .await
            .unwrap()
    );
    assert_eq!(
        blobs.get("reports/x.json").await.unwrap().unwrap(),
        b"first"
    );
    assert!(blobs.get("reports/none.json").await.unwrap().is_none());
}

#[tokio::test]
async fn missing_table_is_a_permanent_error() {
    let c = clients().await;
    let store = DynamoStore::new(c.dynamodb, unique("no-such-table"));
    let err = store
        .get(
            &RandomIds::new(
                citydesk_core::ids::TrackingKey::new(b"tests"),
                citydesk_core::contact::ContactKey::new(b"tests"),
            )
            .request_id(),
        )
        .await
        .unwrap_err();
    assert!(!err.retryable, "{err}");
}

#[tokio::test]
async fn a_change_is_all_or_nothing() {
    let store = fresh_store().await;
    let new = new_request(now(), None);
    store.create(&new).await.unwrap();
    let roads = DepartmentCode::parse("roads").unwrap();
    let mut change = new
        .request
        .assign(roads, now(), now(), now(), "test")
        .unwrap();
    // Its history slot is already taken (seq 1 is the creation): the whole change is refused.
    change.event.seq = 1;
    assert!(matches!(
        store.apply(&change).await.unwrap(),
        ApplyOutcome::Conflict
    ));
    let stored = store.get(&new.request.id).await.unwrap().unwrap();
    assert_eq!(
        stored.status,
        Status::New,
        "the request was not changed either"
    );
    assert_eq!(stored.version, 1);
}

#[tokio::test]
async fn an_expired_idempotency_record_is_invisible() {
    let store = fresh_store().await;
    // A submission two days ago (its record's TTL has passed, but TTL deletes lazily).
    let old = new_request(now() - SignedDuration::from_hours(48), Some("web#reused"));
    store.create(&old).await.unwrap();
    let fresh = new_request(now(), Some("web#reused"));
    assert!(matches!(
        store.create(&fresh).await.unwrap(),
        CreateOutcome::Created
    ));
    assert!(store.get(&fresh.request.id).await.unwrap().is_some());
}

#[tokio::test]
async fn changes_in_a_window_across_days() {
    let store = fresh_store().await;
    let t0: Timestamp = "2026-11-26T23:00:00Z".parse().unwrap();
    let new = new_request(t0, None);
    store.create(&new).await.unwrap();
    let roads = DepartmentCode::parse("roads").unwrap();
    let at = t0 + SignedDuration::from_hours(2); // the next UTC day
    let assign = new.request.assign(roads, at, at, at, "test").unwrap();
    store.apply(&assign).await.unwrap();
    let all = store
        .changes_between(t0, at + SignedDuration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(
        all.iter()
            .map(|(id, e)| (id.clone(), e.seq))
            .collect::<Vec<_>>(),
        vec![(new.request.id.clone(), 1), (new.request.id.clone(), 2)]
    );
    let later = store
        .changes_between(
            t0 + SignedDuration::from_secs(1),
            at + SignedDuration::from_secs(1),
        )
        .await
        .unwrap();
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].1.seq, 2);
}

/// A request of `service` at a point, assigned (open work), created at `at`.
async fn open_report(store: &DynamoStore, service: &str, lat: f64, long: f64, at: Timestamp) {
    let mut new = new_request(at, None);
    new.request.service_code = Some(citydesk_core::ids::ServiceCode::parse(service).unwrap());
    new.request.location = Location::parse(Some(lat), Some(long), None).unwrap();
    store.create(&new).await.unwrap();
    let due = at + SignedDuration::from_hours(24);
    let dept = DepartmentCode::parse("greenery").unwrap();
    let change = new.request.assign(dept, due, due, at, "test").unwrap();
    store.apply(&change).await.unwrap();
}

#[tokio::test]
async fn routing_reads_a_bounded_number_of_items_however_busy_the_day() {
    use citydesk_core::usecases::route_request::{Route, RouteOutcome, route_request};
    let store = fresh_store().await;
    let catalogue = citydesk_core::catalogue::Catalogue::new(
        citydesk_core::catalogue::CatalogueDocument::from_sources(
            include_str!("../../../infra/demo-city/catalogue.toml"),
            include_str!("../../../infra/demo-city/districts.geojson"),
        )
        .unwrap(),
    )
    .unwrap();
    let catalogues = citydesk_core::catalogue::Catalogues::single(catalogue);
    let models = citydesk_core::learning::CityModels::default();
    let clock = citydesk_core::memory::ManualClock::at(now());
    let day = now() - SignedDuration::from_hours(6);
    // The tree already reported, open.
    open_report(&store, "fallen-tree", 50.0614, 19.9366, day).await;
    // Reads for routing one new report of the same tree, 20 m away.
    let route_one = |minute: i64| {
        let store = store.clone();
        let (catalogues, models, clock) = (&catalogues, &models, &clock);
        async move {
            let mut new = new_request(day + SignedDuration::from_mins(minute), None);
            new.request.service_code =
                Some(citydesk_core::ids::ServiceCode::parse("fallen-tree").unwrap());
            new.request.location = Location::parse(Some(50.0616), Some(19.9366), None).unwrap();
            store.create(&new).await.unwrap();
            let step = Route {
                store: &store,
                queries: &store,
                clock,
                catalogues,
                models,
            };
            let before = store.items_read();
            let outcome = route_request(&step, &new.request.id).await.unwrap();
            assert!(
                matches!(outcome, RouteOutcome::Duplicate { .. }),
                "{outcome:?}"
            );
            store.items_read() - before
        }
    };
    // The day's other work: other services on the same spot, the same
    // service kilometres away.
    let busy_day = |from: i64, count: i64| {
        let store = store.clone();
        async move {
            for i in from..from + count {
                let at = day + SignedDuration::from_secs(i);
                if i % 2 == 0 {
                    open_report(&store, "pothole", 50.0614, 19.9366, at).await;
                } else {
                    open_report(&store, "fallen-tree", 50.10, 19.99, at).await;
                }
            }
        }
    };
    busy_day(1, 10).await;
    let quiet = route_one(60).await;
    busy_day(11, 50).await;
    let busy = route_one(61).await;
    assert_eq!(
        quiet, busy,
        "items read per routed request: {quiet} with 10 others in the day, {busy} with 60"
    );
    assert!(busy <= 10, "{busy} items read to route one request");
    // Both new reports follow the tree, and its followers list pages them out.
    let original = store
        .created_in(
            &citydesk_core::paging::TimeWindow {
                from: day,
                to: day + SignedDuration::from_secs(1),
            },
            citydesk_core::paging::Order::OldestFirst,
            &citydesk_core::paging::PageRequest::default(),
        )
        .await
        .unwrap()
        .items
        .remove(0);
    assert_eq!(original.follower_count, 2);
    let followers = store
        .page(
            &citydesk_core::paging::Listing::Followers {
                original: original.id.clone(),
            },
            &citydesk_core::paging::PageRequest {
                limit: 1,
                after: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(followers.items.len(), 1);
    let rest = store
        .page(
            &citydesk_core::paging::Listing::Followers {
                original: original.id,
            },
            &citydesk_core::paging::PageRequest {
                limit: 1,
                after: followers.next,
            },
        )
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 1);
    assert_ne!(rest.items[0].id, followers.items[0].id);
}

#[tokio::test]
async fn time_ordered_pages_walk_days_and_shards_in_order() {
    use citydesk_core::paging::{Order, PageRequest, TimeWindow};
    let store = fresh_store().await;
    let day: Timestamp = "2026-11-25T20:00:00Z".parse().unwrap();
    let mut created = Vec::new();
    // Fifteen requests over three days (every five hours), on every shard.
    for i in 0..15_i64 {
        let new = new_request(day + SignedDuration::from_hours(i * 5), None);
        store.create(&new).await.unwrap();
        created.push((new.request.created_at, new.request.id.clone()));
    }
    let window = TimeWindow {
        from: day,
        to: day + SignedDuration::from_hours(75),
    };
    for order in [Order::NewestFirst, Order::OldestFirst] {
        let mut page = PageRequest {
            limit: 4,
            after: None,
        };
        let mut seen = Vec::new();
        loop {
            let got = store.created_in(&window, order, &page).await.unwrap();
            assert!(got.items.len() <= 4);
            seen.extend(got.items.iter().map(|r| (r.created_at, r.id.clone())));
            match got.next {
                Some(next) => page.after = Some(next),
                None => break,
            }
        }
        let mut expected = created.clone();
        if order == Order::NewestFirst {
            expected.reverse();
        }
        assert_eq!(seen, expected, "{order:?}");
        // The history events (one per creation) come the same way.
        let changes = store
            .changed_in(
                &window,
                order,
                &PageRequest {
                    limit: 50,
                    after: None,
                },
            )
            .await
            .unwrap();
        let ids: Vec<_> = changes.items.iter().map(|(id, _)| id.clone()).collect();
        assert_eq!(
            ids,
            expected
                .iter()
                .map(|(_, id)| id.clone())
                .collect::<Vec<_>>()
        );
    }
    // A window that ends at a creation leaves it out (half-open).
    let narrow = TimeWindow {
        from: day,
        to: day + SignedDuration::from_hours(5),
    };
    let first = store
        .created_in(&narrow, Order::OldestFirst, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(first.items.len(), 1);
}

#[tokio::test]
async fn the_sweep_keeps_its_place_until_it_goes_round() {
    use citydesk_core::ports::{SweepPosition, SweepProgress};
    let store = fresh_store().await;
    assert_eq!(store.load().await.unwrap(), None);
    let position = SweepPosition {
        jurisdiction: citydesk_core::ids::JurisdictionId::parse("krakow").unwrap(),
        department: DepartmentCode::parse("greenery").unwrap(),
        after: Some("c1.6162".into()),
    };
    store.save(Some(&position)).await.unwrap();
    assert_eq!(store.load().await.unwrap(), Some(position));
    store.save(None).await.unwrap();
    assert_eq!(store.load().await.unwrap(), None);
}

#[tokio::test]
async fn a_contact_past_its_retention_is_gone_for_readers() {
    use citydesk_core::ports::ContactRetention;
    let store = fresh_store().await;
    let at: Timestamp = "2026-11-27T09:30:00Z".parse().unwrap();
    let new = new_request(at, None);
    store.create(&new).await.unwrap();
    let id = &new.request.id;
    assert!(store.contact(id).await.unwrap().is_some());
    // Kept two more years: still there.
    let future = Timestamp::now()
        .checked_add(jiff::SignedDuration::from_hours(730 * 24))
        .unwrap();
    store.retain_contact_until(id, Some(future)).await.unwrap();
    assert!(store.contact(id).await.unwrap().is_some());
    // Its retention passed (TTL has not run yet): readers see nothing.
    store.retain_contact_until(id, Some(at)).await.unwrap();
    assert!(store.contact(id).await.unwrap().is_none());
    // Reopened: kept again for as long as it is open.
    store.retain_contact_until(id, None).await.unwrap();
    assert!(store.contact(id).await.unwrap().is_some());
    // A request without a contact is fine.
    let other = citydesk_core::ids::RequestId::parse("01JDQ3V5Y8K9M2N4P6R8T0W2X9").unwrap();
    store.retain_contact_until(&other, Some(at)).await.unwrap();
}
