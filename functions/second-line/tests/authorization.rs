//! Who may ask, read, list and answer the second line's questions, on the
//! real router with signed staff tokens, over every role and both questions:
//! operators ask and read every question; an expert (or head) reads, lists
//! and answers only their department's (another's answers 404 like a
//! missing one); nobody else gets in; no body sets a server-owned field.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use axum::body::Body;
use citydesk_core::catalogue::{Catalogue, CatalogueDocument};
use citydesk_core::memory::{ManualClock, MemoryBlobs, MemoryQueues, MemoryStore};
use citydesk_http_api::caller::Authenticator;
use citydesk_second_line::{Deps, router};
use citydesk_staff_auth::testing::{test_token, test_verifier};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

fn app() -> axum::Router {
    let catalogue = Catalogue::new(
        CatalogueDocument::from_sources(
            include_str!("../../../infra/demo-city/catalogue.toml"),
            include_str!("../../../infra/demo-city/districts.geojson"),
        )
        .unwrap(),
    )
    .unwrap();
    router(Arc::new(Deps {
        questions: Arc::new(MemoryStore::default()),
        drafts: Arc::new(MemoryBlobs::default()),
        notify: Arc::new(MemoryQueues::default()),
        catalogue,
        clock: Arc::new(ManualClock::at("2026-12-02T09:30:00Z".parse().unwrap())),
        auth: Authenticator::new(Some(Arc::new(test_verifier().unwrap())), None),
    }))
}

async fn call(
    app: &axum::Router,
    groups: &[&str],
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = http::Request::builder().method(method).uri(path).header(
        "authorization",
        format!("Bearer {}", test_token("someone-1", groups).unwrap()),
    );
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let response = app
        .clone()
        .oneshot(
            request
                .body(Body::from(body.map(|b| b.to_string()).unwrap_or_default()))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

const ROLES: [&[&str]; 9] = [
    &["operator"],
    &["expert:roads"],
    &["head:roads"],
    &["expert:greenery"],
    &["clerk:roads"],
    &["manager"],
    &["quality"],
    &["admin"],
    &["Domain Users"],
];

#[tokio::test]
async fn each_role_reaches_only_the_questions_it_may() {
    let app = app();
    let mut ids = Vec::new();
    for (service, department) in [("pothole", "roads"), ("park-maintenance", "greenery")] {
        let (status, asked) = call(
            &app,
            &["operator"],
            "POST",
            "/v1/operator/questions",
            Some(json!({"question": format!("Pytanie do {department}"), "service_code": service})),
        )
        .await;
        assert_eq!(status, 201, "{asked}");
        assert_eq!(asked["department"], department);
        ids.push((asked["id"].as_str().unwrap().to_owned(), department));
    }
    let missing = "q-000000000000000000000000";
    for groups in ROLES {
        let operator = groups == ["operator"];
        let answering: Option<&str> = groups.first().and_then(|g| {
            g.strip_prefix("expert:")
                .or_else(|| g.strip_prefix("head:"))
        });
        // Asking.
        let (status, _) = call(
            &app,
            groups,
            "POST",
            "/v1/operator/questions",
            Some(json!({"question": "Czy?", "department": "roads"})),
        )
        .await;
        assert_eq!(status, if operator { 201 } else { 403 }, "{groups:?} asks");
        // Listing.
        let (status, listed) = call(&app, groups, "GET", "/v1/expert/questions", None).await;
        match answering {
            Some(d) => {
                assert_eq!(status, 200, "{groups:?}: {listed}");
                for q in listed["questions"].as_array().unwrap() {
                    assert_eq!(q["department"], d, "{groups:?} lists another's: {listed}");
                }
            }
            None => assert_eq!(status, 403, "{groups:?} lists: {listed}"),
        }
        // Reading and answering each question, and a missing one.
        for (id, department) in ids
            .iter()
            .map(|(i, d)| (i.as_str(), Some(*d)))
            .chain([(missing, None)])
        {
            let (status, read) = call(
                &app,
                groups,
                "GET",
                &format!("/v1/expert/questions/{id}"),
                None,
            )
            .await;
            let expected = match (operator, answering) {
                (true, _) if department.is_some() => 200,
                (true, _) => 404,
                (false, Some(d)) if department == Some(d) => 200,
                (false, Some(_)) => 404,
                (false, None) => 403,
            };
            assert_eq!(status, expected, "{groups:?} reads {id}: {read}");
            let (status, answered) = call(
                &app,
                groups,
                "POST",
                &format!("/v1/expert/questions/{id}/answer"),
                Some(json!({"answer": format!("Odpowiedź od {groups:?}")})),
            )
            .await;
            let expected = match answering {
                Some(d) if department == Some(d) => [200, 409],
                Some(_) => [404, 404],
                None => [403, 403],
            };
            assert!(
                expected.contains(&status),
                "{groups:?} answers {id}: {status} {answered}"
            );
        }
    }
}

#[tokio::test]
async fn no_body_sets_a_server_owned_field() {
    let app = app();
    for field in [
        "status",
        "department_name",
        "asked_by",
        "due_at",
        "answer",
        "priority",
        "created_by",
    ] {
        let mut body = json!({"question": "Czy?", "department": "roads"});
        body[field] = json!("x");
        let (status, answer) = call(
            &app,
            &["operator"],
            "POST",
            "/v1/operator/questions",
            Some(body),
        )
        .await;
        assert_eq!(status, 400, "{field}: {answer}");
    }
    let (_, asked) = call(
        &app,
        &["operator"],
        "POST",
        "/v1/operator/questions",
        Some(json!({"question": "Czy?", "department": "roads"})),
    )
    .await;
    let id = asked["id"].as_str().unwrap();
    for field in ["status", "by", "department"] {
        let (status, answer) = call(
            &app,
            &["expert:roads"],
            "POST",
            &format!("/v1/expert/questions/{id}/answer"),
            Some(json!({"answer": "Tak", field: "x"})),
        )
        .await;
        assert_eq!(status, 400, "{field}: {answer}");
    }
}
