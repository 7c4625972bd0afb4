//! AWS throttling, injected by a fault endpoint on loopback between the SDK
//! and the emulator: a throttled call is retried with backoff and succeeds; a
//! call throttled past its retries becomes a batch item failure (never a
//! panic), and the record is processed when it comes again; a transaction
//! cancelled for throttling is a 503 to a citizen, not a 409.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use citydesk_aws::config::Clients;
use citydesk_aws::deadline::Deadline;
use citydesk_aws::dynamo::DynamoStore;
use citydesk_core::catalogue::{Catalogue, CatalogueDocument, Catalogues};
use citydesk_core::language::Language;
use citydesk_core::location::Location;
use citydesk_core::memory::{ManualClock, MemoryBlobs};
use citydesk_core::messages::PipelineMessage;
use citydesk_core::ports::RequestStore;
use citydesk_core::request::Channel;
use citydesk_core::usecases::submit_request::{Intake, RequestSubmission, submit_request};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// How the fault endpoint answers the next transactions.
#[derive(Clone, Copy)]
enum Fault {
    /// `ThrottlingException` (the SDK retries it).
    Throttle,
    /// A transaction cancelled because an item was throttled (not retried by the SDK).
    CancelledThrottled,
}

#[derive(Clone)]
struct Proxy {
    upstream: String,
    http: reqwest::Client,
    /// Transactions still to fail, and how.
    to_fail: Arc<AtomicUsize>,
    fault: Arc<std::sync::Mutex<Fault>>,
    failed: Arc<AtomicUsize>,
}

async fn forward(State(p): State<Proxy>, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if target.ends_with("TransactWriteItems")
        && p.to_fail
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    {
        p.failed.fetch_add(1, Ordering::SeqCst);
        let answer = match *p.fault.lock().unwrap() {
            Fault::Throttle => serde_json::json!({
                "__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
                "message": "Rate of requests exceeds the allowed throughput."
            }),
            Fault::CancelledThrottled => serde_json::json!({
                "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                "message": "Transaction cancelled, please refer cancellation reasons for specific reasons [ThrottlingError, None]",
                "CancellationReasons": [
                    {"Code": "ThrottlingError", "Message": "Throughput exceeds the current capacity."},
                    {"Code": "None"}
                ]
            }),
        };
        return Response::builder()
            .status(400)
            .header("content-type", "application/x-amz-json-1.0")
            .body(Body::from(answer.to_string()))
            .unwrap();
    }
    let mut upstream = p.http.request(
        parts.method.clone(),
        format!(
            "{}{}",
            p.upstream,
            parts.uri.path_and_query().map_or("/", |q| q.as_str())
        ),
    );
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            upstream = upstream.header(name, value);
        }
    }
    let answer = upstream.body(body).send().await.unwrap();
    let status = answer.status();
    let headers = answer.headers().clone();
    let bytes = answer.bytes().await.unwrap();
    let mut response = Response::builder().status(status);
    for (name, value) in &headers {
        if name != "content-length" && name != "transfer-encoding" {
            response = response.header(name, value);
        }
    }
    response.body(Body::from(bytes)).unwrap()
}

async fn start_proxy(upstream: String) -> (String, Proxy) {
    let proxy = Proxy {
        upstream,
        http: reqwest::Client::new(),
        to_fail: Arc::new(AtomicUsize::new(0)),
        fault: Arc::new(std::sync::Mutex::new(Fault::Throttle)),
        failed: Arc::new(AtomicUsize::new(0)),
    };
    let app = axum::Router::new()
        .fallback(forward)
        .with_state(proxy.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (format!("http://{address}"), proxy)
}

fn catalogue() -> Catalogue {
    Catalogue::new(
        CatalogueDocument::from_sources(
            include_str!("../../demo-city/catalogue.toml"),
            include_str!("../../demo-city/districts.geojson"),
        )
        .unwrap(),
    )
    .unwrap()
}

async fn table(direct: &Clients) -> String {
    let name = format!("throttle-{}", ulid::Ulid::new().to_string().to_lowercase());
    let key = |n: &str, k| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(k)
            .build()
            .unwrap()
    };
    let mut create = direct
        .dynamodb
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range));
    for attr in ["pk", "sk"] {
        create = create.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attr)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        );
    }
    create.send().await.unwrap();
    name
}

async fn new_request(store: &DynamoStore, catalogue: &Catalogue) -> citydesk_core::ids::RequestId {
    let clock = ManualClock::at("2026-11-27T09:30:00Z".parse().unwrap());
    let intake = Intake {
        store,
        clock: &clock,
        ids: &citydesk_aws::system::RandomIds::new(
            citydesk_core::ids::TrackingKey::new(b"t"),
            citydesk_core::contact::ContactKey::new(b"t"),
        ),
        catalogue,
    };
    let submission = RequestSubmission {
        channel: Channel::Web,
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
    submit_request(&intake, submission)
        .await
        .unwrap()
        .request
        .id
}

fn batch(id: &citydesk_core::ids::RequestId) -> SqsEvent {
    let body = serde_json::to_string(&PipelineMessage::RequestCreated {
        request_id: id.clone(),
    })
    .unwrap();
    serde_json::from_value(serde_json::json!({"Records": [{"messageId": "m-1", "body": body}]}))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_retried_then_a_batch_item_failure_and_never_a_conflict() {
    let endpoint = std::env::var("CITYDESK_TEST_ENDPOINT")
        .expect("CITYDESK_TEST_ENDPOINT is not set: run the tests with `make test`, which starts the emulator");
    let direct = Clients::for_emulator(&endpoint).await.unwrap();
    let (proxy_url, proxy) = start_proxy(endpoint.clone()).await;
    let faulty = Clients::for_emulator(&proxy_url).await.unwrap();
    let name = table(&direct).await;
    let direct_store = DynamoStore::new(direct.dynamodb.clone(), &name);
    let store = Arc::new(DynamoStore::new(faulty.dynamodb.clone(), &name));
    let catalogue = catalogue();
    let deps = citydesk_classify::Deps {
        store: store.clone(),
        clock: Arc::new(ManualClock::at("2026-11-27T09:31:00Z".parse().unwrap())),
        classifiers: citydesk_core::rules::classification::Classifiers::new(&Catalogues::single(
            catalogue.clone(),
        )),
        threshold: 0.35,
    };

    // Two throttles, four attempts: the SDK's backoff absorbs them.
    let first = new_request(&direct_store, &catalogue).await;
    proxy.to_fail.store(2, Ordering::SeqCst);
    let response = citydesk_classify::handle(&deps, batch(&first), Deadline::none()).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(
        proxy.failed.load(Ordering::SeqCst),
        2,
        "both throttles were met"
    );
    assert_eq!(direct_store.get(&first).await.unwrap().unwrap().version, 2);

    // Throttled past every retry: a batch item failure, nothing written, no panic.
    let second = new_request(&direct_store, &catalogue).await;
    proxy.to_fail.store(1000, Ordering::SeqCst);
    let response = citydesk_classify::handle(&deps, batch(&second), Deadline::none()).await;
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, vec!["m-1".to_owned()]);
    assert_eq!(direct_store.get(&second).await.unwrap().unwrap().version, 1);
    // The queue delivers it again once the table keeps up: not lost.
    proxy.to_fail.store(0, Ordering::SeqCst);
    let response = citydesk_classify::handle(&deps, batch(&second), Deadline::none()).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(direct_store.get(&second).await.unwrap().unwrap().version, 2);

    // A transaction cancelled because an item was throttled is not a lost
    // race: the clerk (or citizen) is asked to retry (503), not told of a conflict (409).
    let third = new_request(&direct_store, &catalogue).await;
    let roads = citydesk_core::ids::DepartmentCode::parse("roads").unwrap();
    let request = direct_store.get(&third).await.unwrap().unwrap();
    let at = request.created_at;
    let assigned = request.assign(roads.clone(), at, at, at, "test").unwrap();
    direct_store.apply(&assigned).await.unwrap();
    *proxy.fault.lock().unwrap() = Fault::CancelledThrottled;
    proxy.to_fail.store(1000, Ordering::SeqCst);
    let work = citydesk_core::usecases::department_work::DepartmentWork {
        store: store.as_ref(),
        clock: deps.clock.as_ref(),
        staff: &citydesk_core::audit::StaffStamp {
            subject: "clerk-1".into(),
            roles: "clerk:roads".into(),
            via: "test".into(),
        },
        seen_version: None,
    };
    let refused = citydesk_core::usecases::department_work::update_status(
        &work,
        &roads,
        citydesk_core::usecases::department_work::StatusUpdate {
            case_number: assigned.request.case_number.clone(),
            status: citydesk_core::status::Status::Acknowledged,
            note: None,
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            &refused,
            citydesk_core::usecases::department_work::DepartmentError::Port(p) if p.retryable
        ),
        "{refused:?}"
    );
    // And over HTTP, a new request whose transaction is cancelled so answers 503.
    let web = citydesk_intake_web::router(Arc::new(citydesk_intake_web::Deps {
        store: store.clone(),
        catalogue: catalogue.clone(),
        clock: Arc::new(ManualClock::at("2026-11-27T09:32:00Z".parse().unwrap())),
        ids: Arc::new(citydesk_aws::system::RandomIds::new(
            citydesk_core::ids::TrackingKey::new(b"t"),
            citydesk_core::contact::ContactKey::new(b"t"),
        )),
        media: Arc::new(MemoryBlobs::default()),
    }));
    let post = http::Request::post("/v1/requests")
        .header("content-type", "application/json")
        .body(Body::from(
            r#"{"description": "Dziura w jezdni na ulicy Długiej"}"#,
        ))
        .unwrap();
    let answer = web.oneshot(post).await.unwrap();
    assert_eq!(answer.status().as_u16(), 503);
    proxy.to_fail.store(0, Ordering::SeqCst);
}
