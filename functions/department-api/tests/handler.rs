//! The department router on API Gateway fixtures over in-memory ports.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use axum::body::Body;
use citydesk_core::catalogue::{Catalogue, CatalogueDocument};
use citydesk_core::ids::{DepartmentCode, sha256_hex};
use citydesk_core::language::Language;
use citydesk_core::location::Location;
use citydesk_core::memory::{ManualClock, MemoryStore, SequentialIds};
use citydesk_core::messages::PipelineMessage;
use citydesk_core::ports::RequestStore;
use citydesk_core::request::Channel;
use citydesk_core::usecases::submit_request::{Intake, RequestSubmission, submit_request};
use citydesk_department_api::{Deps, router};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

const FIXTURE_CASE: &str = "7H3K-9QX2";

fn catalogue() -> Catalogue {
    Catalogue::new(
        CatalogueDocument::from_sources(
            include_str!("../../../infra/demo-city/catalogue.toml"),
            include_str!("../../../infra/demo-city/districts.geojson"),
        )
        .unwrap(),
    )
    .unwrap()
}

/// A store with one request assigned to roads under the fixtures' case number.
async fn world() -> (Arc<MemoryStore>, axum::Router) {
    let store = Arc::new(MemoryStore::default());
    let clock = Arc::new(ManualClock::at("2026-11-27T09:30:00Z".parse().unwrap()));
    let catalogue = catalogue();
    let ids = SequentialIds::default();
    let intake = Intake {
        store: store.as_ref(),
        clock: clock.as_ref(),
        ids: &ids,
        catalogue: &catalogue,
    };
    let submission = RequestSubmission {
        channel: Channel::Phone,
        service_code: citydesk_core::ids::ServiceCode::parse("pothole").ok(),
        description: "Dziura".into(),
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
    let mut request = submit_request(&intake, submission).await.unwrap().request;
    // Re-key it to the fixture's case number through the store's own create path.
    request.case_number = citydesk_core::ids::CaseNumber::parse(FIXTURE_CASE).unwrap();
    let fresh = citydesk_core::ports::NewRequest {
        created: store.history(&request.id).await.unwrap()[0].clone(),
        request: citydesk_core::request::ServiceRequest {
            id: citydesk_core::ids::RequestId::parse("01JDQ3V5Y8K9M2N4P6R8T0W2X4").unwrap(),
            ..request
        },
        contact: None,
        person_keys: Vec::new(),
        idempotency: None,
    };
    store.create(&fresh).await.unwrap();
    let roads = DepartmentCode::parse("roads").unwrap();
    let assign = fresh
        .request
        .assign(
            roads.clone(),
            "2026-11-30T09:30:00Z".parse().unwrap(),
            "2026-11-30T08:00:00Z".parse().unwrap(),
            clock_now(),
            "test",
        )
        .unwrap();
    store.apply(&assign).await.unwrap();
    store.add_department_key(&sha256_hex(b"cdk_demo-roads-key"), roads);
    store.add_department_key(
        &sha256_hex(b"cdk_demo-water-key"),
        DepartmentCode::parse("water").unwrap(),
    );
    store.take_pipeline_reactions();
    let deps = Deps {
        store: store.clone(),
        queries: store.clone(),
        auth: citydesk_http_api::caller::Authenticator::new(None, Some(store.clone())),
        clock,
        examples: Arc::new(citydesk_core::memory::MemoryTrainingExamples::default()),
        catalogues: citydesk_core::catalogue::Catalogues::single(catalogue),
    };
    (store, router(Arc::new(deps)))
}

fn clock_now() -> jiff::Timestamp {
    "2026-11-27T09:31:00Z".parse().unwrap()
}

fn event(json: &str) -> http::Request<Body> {
    let req = lambda_http::request::from_str(json).unwrap();
    let (parts, body) = req.into_parts();
    http::Request::from_parts(parts, Body::from(body.to_vec()))
}

async fn call(app: &axum::Router, req: http::Request<Body>) -> (u16, Value) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn list_and_resolve_from_fixtures() {
    let (store, app) = world().await;
    let (status, list) = call(
        &app,
        event(include_str!(
            "../../../events/http/department-list-assignments.json"
        )),
    )
    .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["department"], "roads");
    assert_eq!(list["assignments"][0]["case_number"], FIXTURE_CASE);

    let (status, resolved) = call(
        &app,
        event(include_str!("../../../events/http/department-resolve.json")),
    )
    .await;
    assert_eq!(status, 200, "{resolved}");
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["resolution"], "Ubytek załatany.");
    assert!(matches!(
        store.take_pipeline_reactions()[..],
        [PipelineMessage::StatusChanged { seq: 3, .. }]
    ));

    // The same call again is answered the same, and the notification is offered again.
    let (status, again) = call(
        &app,
        event(include_str!("../../../events/http/department-resolve.json")),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(again["status"], "resolved");
    let (_, list) = call(
        &app,
        event(include_str!(
            "../../../events/http/department-list-assignments.json"
        )),
    )
    .await;
    assert_eq!(list["count"], 0);
}

#[tokio::test]
async fn other_departments_and_bad_input_are_refused() {
    let (_store, app) = world().await;
    let post = |key: Option<&str>, body: &str, content_type: &str| {
        let mut b =
            http::Request::post(format!("/v1/department/assignments/{FIXTURE_CASE}/status"))
                .header("content-type", content_type);
        if let Some(k) = key {
            b = b.header("authorization", format!("Bearer {k}"));
        }
        b.body(Body::from(body.to_owned())).unwrap()
    };
    let roads = Some("cdk_demo-roads-key");
    let cases = [
        (
            post(None, r#"{"status":"acknowledged"}"#, "application/json"),
            401,
            None,
        ),
        (
            post(
                Some("wrong"),
                r#"{"status":"acknowledged"}"#,
                "application/json",
            ),
            401,
            None,
        ),
        (
            post(
                Some("cdk_demo-water-key"),
                r#"{"status":"acknowledged"}"#,
                "application/json",
            ),
            404,
            None,
        ),
        (
            post(roads, r#"{"status":"closed"}"#, "application/json"),
            400,
            Some("status"),
        ),
        (
            post(roads, r#"{"status":"flying"}"#, "application/json"),
            400,
            Some("status"),
        ),
        (
            post(roads, r#"{"status":"resolved"}"#, "application/json"),
            400,
            Some("note"),
        ),
        (
            post(
                roads,
                r#"{"status":"acknowledged","department":"water"}"#,
                "application/json",
            ),
            400,
            Some("department"),
        ),
        (
            post(
                roads,
                "status=acknowledged",
                "application/x-www-form-urlencoded",
            ),
            415,
            None,
        ),
    ];
    for (req, want, field) in cases {
        let (status, body) = call(&app, req).await;
        assert_eq!(status, want, "{body}");
        if let Some(f) = field {
            assert_eq!(body["error"]["field"], f, "{body}");
        }
    }
    // The list filters by an open-work status, and refuses others.
    let filtered = |q: &str| {
        http::Request::get(format!("/v1/department/assignments?{q}"))
            .header("authorization", "Bearer cdk_demo-roads-key")
            .body(Body::empty())
            .unwrap()
    };
    let (status, body) = call(&app, filtered("status=assigned")).await;
    assert_eq!((status, body["count"].as_u64()), (200, Some(1)), "{body}");
    let (status, body) = call(&app, filtered("status=acknowledged")).await;
    assert_eq!((status, body["count"].as_u64()), (200, Some(0)), "{body}");
    for q in ["status=resolved", "status=nonsense", "owner=me"] {
        let (status, body) = call(&app, filtered(q)).await;
        assert_eq!(status, 400, "{q}: {body}");
    }
    // A foreign department's list is empty; the missing case and the foreign one look alike.
    let list = http::Request::get("/v1/department/assignments")
        .header("authorization", "Bearer cdk_demo-water-key")
        .body(Body::empty())
        .unwrap();
    let (_, body) = call(&app, list).await;
    assert_eq!(body["count"], 0);
    let (_, missing) = call(
        &app,
        http::Request::post("/v1/department/assignments/2222-2222/status")
            .header("authorization", "Bearer cdk_demo-water-key")
            .header("content-type", "application/json")
            .body(Body::from(r#"{"status":"acknowledged"}"#))
            .unwrap(),
    )
    .await;
    let (_, foreign) = call(
        &app,
        post(
            Some("cdk_demo-water-key"),
            r#"{"status":"acknowledged"}"#,
            "application/json",
        ),
    )
    .await;
    assert_eq!(missing["error"]["code"], foreign["error"]["code"]);
}

#[tokio::test]
async fn the_list_comes_a_page_at_a_time_and_bad_paging_names_its_field() {
    let (_store, app) = world().await;
    let get = |query: &str| {
        http::Request::get(format!("/v1/department/assignments{query}"))
            .header("authorization", "Bearer cdk_demo-roads-key")
            .body(Body::empty())
            .unwrap()
    };
    let (status, whole) = call(&app, get("")).await;
    assert_eq!(status, 200, "{whole}");
    assert_eq!(whole["count"], 1);
    assert_eq!(whole["next"], Value::Null, "one page holds it all");
    for (query, field) in [
        ("?limit=0", "limit"),
        ("?limit=201", "limit"),
        ("?limit=ten", "limit"),
        ("?cursor=not-one-of-ours", "cursor"),
    ] {
        let (status, body) = call(&app, get(query)).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
    }
}
