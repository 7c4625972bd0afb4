//! The intake router driven by API Gateway fixtures over in-memory ports.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use axum::body::Body;
use citydesk_core::catalogue::{Catalogue, CatalogueDocument};
use citydesk_core::memory::{ManualClock, MemoryStore, SequentialIds};
use citydesk_core::messages::PipelineMessage;
use citydesk_core::ports::ContactStore;
use citydesk_intake_web::{Deps, router};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

struct Harness {
    store: Arc<MemoryStore>,
    media: Arc<citydesk_core::memory::MemoryBlobs>,
    app: axum::Router,
}

fn harness() -> Harness {
    let doc = CatalogueDocument::from_sources(
        include_str!("../../../infra/demo-city/catalogue.toml"),
        include_str!("../../../infra/demo-city/districts.geojson"),
    )
    .unwrap();
    let store = Arc::new(MemoryStore::default());
    let media = Arc::new(citydesk_core::memory::MemoryBlobs::default());
    let deps = Deps {
        store: store.clone(),
        catalogue: Catalogue::new(doc).unwrap(),
        clock: Arc::new(ManualClock::at("2026-11-27T09:30:00Z".parse().unwrap())),
        ids: Arc::new(SequentialIds::default()),
        media: media.clone(),
    };
    Harness {
        store,
        media,
        app: router(Arc::new(deps)),
    }
}

/// Turns an API Gateway event into the request the router sees in Lambda.
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

fn post_json(body: &str) -> http::Request<Body> {
    http::Request::post("/v1/requests")
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

#[tokio::test]
async fn create_from_fixture_then_replay_and_view() {
    let h = harness();
    let fixture = include_str!("../../../events/http/create-request.json");
    let (status, created) = call(&h.app, event(fixture)).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["status"], "new");
    let case = created["case_number"].as_str().unwrap().to_owned();
    assert_eq!(case.len(), 9);
    assert!(created["tracking_token"].as_str().unwrap().len() >= 6);
    let id = citydesk_core::ids::RequestId::parse(created["id"].as_str().unwrap()).unwrap();
    assert_eq!(
        h.store.take_pipeline_reactions(),
        vec![
            PipelineMessage::RequestCreated {
                request_id: id.clone()
            },
            PipelineMessage::StatusChanged {
                request_id: id.clone(),
                seq: 1
            },
        ]
    );
    // The tracking link's form of the token opens the private view too.
    let link = format!(
        "/v1/requests/{case}?token={}",
        created["tracking_token"].as_str().unwrap()
    );
    let (status, private) = call(
        &h.app,
        http::Request::get(link).body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(private["description"].is_string(), "{private}");

    // The same delivery again (same Idempotency-Key and body): 200 with the same answer.
    let (status, replay) = call(&h.app, event(fixture)).await;
    assert_eq!(status, 200);
    assert_eq!(replay, created);
    assert_eq!(h.store.request_count(), 1);

    // The contact was kept apart from the request.
    let id = citydesk_core::ids::RequestId::parse(created["id"].as_str().unwrap()).unwrap();
    assert!(h.store.contact(&id).await.unwrap().unwrap().phone.is_some());

    let get = http::Request::get(format!("/v1/requests/{}", case.to_lowercase()))
        .body(Body::empty())
        .unwrap();
    let (status, view) = call(&h.app, get).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["case_number"], case);
    assert_eq!(view["district"], "stare-miasto");
    assert_eq!(view["history"][0]["event"], "created");
    let text = view.to_string();
    for private in ["Anna", "600100200", "Długiej", "tracking"] {
        assert!(
            !text.contains(private),
            "public view leaks {private}: {text}"
        );
    }
}

#[tokio::test]
async fn bad_input_gets_a_4xx_naming_the_field() {
    let h = harness();
    let cases: Vec<(http::Request<Body>, u16, Option<&str>)> = vec![
        (
            event(include_str!(
                "../../../events/http/create-request-bad-lat.json"
            )),
            400,
            Some("lat"),
        ),
        (
            event(include_str!(
                "../../../events/http/create-request-wrong-content-type.json"
            )),
            415,
            None,
        ),
        (
            post_json(r#"{"lat": 50.0, "long": 19.9}"#),
            400,
            Some("description"),
        ),
        (post_json(r#"{"description": 5}"#), 400, Some("description")),
        (
            post_json(r#"{"description": "x", "lat": 50.0}"#),
            400,
            Some("long"),
        ),
        (
            post_json(r#"{"description": "x", "long": 200, "lat": 50}"#),
            400,
            Some("long"),
        ),
        (
            post_json(r#"{"description": "x", "status": "closed"}"#),
            400,
            Some("status"),
        ),
        (
            post_json(r#"{"description": "x", "department": "roads"}"#),
            400,
            Some("department"),
        ),
        (
            post_json(r#"{"description": "x", "service_code": "teleport"}"#),
            422,
            Some("service_code"),
        ),
        (
            post_json(r#"{"description": "x", "contact": {"phone": "12"}}"#),
            400,
            Some("contact.phone"),
        ),
        (
            post_json(r#"{"description": "x", "contact": {"email": "nope"}}"#),
            400,
            Some("contact.email"),
        ),
        (
            post_json(r#"{"description": "x", "language": "fr"}"#),
            400,
            Some("language"),
        ),
        (
            post_json(r#"{"description": "x", "lat": 52.23, "long": 21.01}"#),
            422,
            Some("lat"),
        ),
        (
            post_json(r#"{"description": "x", "lat": 19.935, "long": 50.07}"#),
            422,
            Some("lat"),
        ),
        (
            post_json(
                r#"{"description": "x", "service_code": "pothole", "attributes": {"size": "huge"}}"#,
            ),
            400,
            Some("attributes.size"),
        ),
        (
            post_json(r#"{"description": "x", "service_code": "abandoned-vehicle"}"#),
            400,
            Some("attributes.plate"),
        ),
        (
            post_json(r#"{"description": "x", "attributes": {"size": 3}}"#),
            400,
            Some("attributes.size"),
        ),
        (
            post_json(r#"{"description": "   "}"#),
            400,
            Some("description"),
        ),
        (
            post_json(&format!(r#"{{"description": "{}"}}"#, "a".repeat(4001))),
            400,
            Some("description"),
        ),
        (
            post_json(&format!(r#"{{"description": "{}"}}"#, "a".repeat(70_000))),
            413,
            None,
        ),
        (post_json("{broken"), 400, None),
        (
            http::Request::get("/v1/requests/not-a-case")
                .body(Body::empty())
                .unwrap(),
            400,
            Some("case_number"),
        ),
        (
            http::Request::get("/v1/requests/2222-2222")
                .body(Body::empty())
                .unwrap(),
            404,
            None,
        ),
        (
            http::Request::get("/nowhere").body(Body::empty()).unwrap(),
            404,
            None,
        ),
        (
            http::Request::delete("/v1/requests")
                .body(Body::empty())
                .unwrap(),
            405,
            None,
        ),
    ];
    for (req, want_status, want_field) in cases {
        let what = format!("{} {}", req.method(), req.uri());
        let (status, body) = call(&h.app, req).await;
        assert_eq!(status, want_status, "{what}: {body}");
        assert_eq!(body["error"]["status"], want_status, "{what}: {body}");
        assert!(
            !body["error"]["message"].as_str().unwrap_or("").is_empty(),
            "{what}: {body}"
        );
        if let Some(field) = want_field {
            assert_eq!(body["error"]["field"], field, "{what}: {body}");
        }
    }
    assert_eq!(h.store.request_count(), 0);
}

#[tokio::test]
async fn answers_to_the_service_form_are_kept() {
    let h = harness();
    let body = r#"{"description": "Wrak od miesiąca", "service_code": "abandoned-vehicle",
                   "attributes": {"plate": "KR 12345", "seen_since": "2026-10-01T08:00:00+02:00"}}"#;
    let (status, created) = call(&h.app, post_json(body)).await;
    assert_eq!(status, 201, "{created}");
    let id = citydesk_core::ids::RequestId::parse(created["id"].as_str().unwrap()).unwrap();
    let stored = citydesk_core::ports::RequestStore::get(h.store.as_ref(), &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.attributes.len(), 2);
    let view = http::Request::get(format!(
        "/v1/requests/{}",
        created["case_number"].as_str().unwrap()
    ))
    .body(Body::empty())
    .unwrap();
    let (_, view) = call(&h.app, view).await;
    assert!(
        !view.to_string().contains("KR 12345"),
        "a private answer stays private: {view}"
    );
}

#[tokio::test]
async fn idempotency_key_reused_with_other_body_is_refused() {
    let h = harness();
    let with_key = |body: &str| {
        http::Request::post("/v1/requests")
            .header("content-type", "application/json")
            .header("idempotency-key", "same-key")
            .body(Body::from(body.to_owned()))
            .unwrap()
    };
    let (status, _) = call(&h.app, with_key(r#"{"description": "dziura w jezdni"}"#)).await;
    assert_eq!(status, 201);
    let (status, body) = call(&h.app, with_key(r#"{"description": "powalone drzewo"}"#)).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "Idempotency-Key");
}

#[tokio::test]
async fn the_city_for_a_map() {
    let h = harness();
    let (status, city) = call(
        &h.app,
        http::Request::get("/v1/city").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(city["jurisdiction_id"], "krakow");
    assert_eq!(city["name"]["pl"], "Kraków");
    assert_eq!(
        city["bbox"],
        serde_json::json!([19.79, 49.97, 20.22, 50.13])
    );
    let districts = city["districts"]["features"].as_array().unwrap();
    assert_eq!(districts.len(), 5);
    assert!(
        districts
            .iter()
            .any(|d| d["properties"]["code"] == "stare-miasto")
    );
    assert_eq!(city["districts"]["type"], "FeatureCollection");
}

#[tokio::test]
async fn health_answers_when_ready() {
    let h = harness();
    let (status, body) = call(
        &h.app,
        event(include_str!("../../../events/http/health.json")),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["jurisdiction_id"], "krakow");
}

#[tokio::test]
async fn the_citizen_follows_up_with_the_tracking_token() {
    use citydesk_core::ports::RequestStore;
    use citydesk_core::status::Status;
    let h = harness();
    let (_, created) = call(
        &h.app,
        post_json(r#"{"description": "Dziura w jezdni", "service_code": "pothole"}"#),
    )
    .await;
    let case = created["case_number"].as_str().unwrap().to_owned();
    let token = created["tracking_token"].as_str().unwrap().to_owned();
    let with_token =
        |req: http::request::Builder, t: &str| req.header("authorization", format!("Bearer {t}"));
    let update = |body: &str, t: &str| {
        with_token(
            http::Request::post(format!("/v1/requests/{case}/updates")),
            t,
        )
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap()
    };

    // The private view needs the right token.
    let (status, private) = call(
        &h.app,
        with_token(http::Request::get(format!("/v1/requests/{case}")), &token)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(private["description"], "Dziura w jezdni");
    let (status, body) = call(
        &h.app,
        with_token(http::Request::get(format!("/v1/requests/{case}")), "guess")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401, "{body}");

    // A note: private in full, public only as a fact.
    let (status, body) = call(
        &h.app,
        update(
            r#"{"note": "Dziura się powiększa, ma już pół metra"}"#,
            &token,
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["history"].as_array().unwrap().last().unwrap()["note"],
        "Dziura się powiększa, ma już pół metra"
    );
    let (_, public) = call(
        &h.app,
        http::Request::get(format!("/v1/requests/{case}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(
        public["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"] == "citizen_update")
    );
    assert!(!public.to_string().contains("pół metra"), "{public}");

    // Confirming a fix before there is one is refused; so is a bad body or no token.
    let (status, body) = call(&h.app, update(r#"{"fixed": true}"#, &token)).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("fixed")),
        "{body}"
    );
    let (status, _) = call(&h.app, update(r#"{}"#, &token)).await;
    assert_eq!(status, 400);
    let (status, _) = call(&h.app, update(r#"{"fixed": "yes"}"#, &token)).await;
    assert_eq!(status, 400);
    let anonymous = http::Request::post(format!("/v1/requests/{case}/updates"))
        .header("content-type", "application/json")
        .body(Body::from(r#"{"note":"x"}"#))
        .unwrap();
    assert_eq!(call(&h.app, anonymous).await.0, 401);

    // Resolved by the department; the citizen says it is not fixed: reopened and back to routing.
    let stored = h
        .store
        .find_by_case_number(&citydesk_core::ids::CaseNumber::parse(&case).unwrap())
        .await
        .unwrap()
        .unwrap();
    let now: jiff::Timestamp = "2026-11-27T10:00:00Z".parse().unwrap();
    let assigned = stored
        .assign(
            citydesk_core::ids::DepartmentCode::parse("roads").unwrap(),
            now,
            now,
            now,
            "test",
        )
        .unwrap();
    h.store.apply(&assigned).await.unwrap();
    let resolved = assigned
        .request
        .move_to(Status::Resolved, Some("Załatane".into()), now, "test")
        .unwrap();
    h.store.apply(&resolved).await.unwrap();
    h.store.take_pipeline_reactions();
    let (status, body) = call(
        &h.app,
        update(r#"{"fixed": false, "note": "Nadal jest dziura"}"#, &token),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "reopened");
    let sent = h.store.take_pipeline_reactions();
    assert!(
        sent.iter()
            .any(|m| matches!(m, PipelineMessage::RequestClassified { .. })),
        "{sent:?}"
    );
    assert!(
        sent.iter()
            .any(|m| matches!(m, PipelineMessage::StatusChanged { .. })),
        "{sent:?}"
    );
}

/// A tiny JPEG whose EXIF carries a position (the marker `GPS!`).
fn jpeg_with_gps() -> Vec<u8> {
    let exif = b"Exif\0\0II*\0\x08\0\0\0GPS!";
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xE1];
    v.extend(u16::try_from(exif.len() + 2).unwrap().to_be_bytes());
    v.extend(exif);
    v.extend([
        0xFF, 0xDB, 0x00, 0x04, 0x00, 0x01, 0xFF, 0xDA, 0x00, 0x02, 0x11, 0x22, 0xFF, 0xD9,
    ]);
    v
}

#[tokio::test]
async fn photos_go_through_an_upload_ticket() {
    use citydesk_core::ports::MediaStore;
    let h = harness();
    let ticket = |body: &str| {
        http::Request::post("/v1/uploads")
            .header("content-type", "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap()
    };
    let photo = jpeg_with_gps();
    let (status, t) = call(
        &h.app,
        ticket(&format!(
            r#"{{"content_type": "image/jpeg", "bytes": {}}}"#,
            photo.len()
        )),
    )
    .await;
    assert_eq!(status, 201, "{t}");
    let key = t["media_key"].as_str().unwrap().to_owned();
    assert!(
        key.starts_with("uploads/krakow/") && key.ends_with(".jpg"),
        "{key}"
    );
    assert_eq!(t["method"], "PUT");
    assert_eq!(
        t["bytes"],
        photo.len(),
        "the PUT must send exactly this size"
    );
    assert!(
        t["upload_url"]
            .as_str()
            .unwrap()
            .contains(&format!("bytes={}", photo.len())),
        "the link is signed for the size: {t}"
    );
    assert!(t["upload_url"].as_str().unwrap().contains(&key));
    for (body, want) in [
        (r#"{"content_type": "application/pdf", "bytes": 1000}"#, 415),
        (r#"{"content_type": "image/png", "bytes": 99000000}"#, 413),
        (r#"{"content_type": "image/png", "bytes": 0}"#, 400),
        (r#"{"content_type": "image/png"}"#, 400),
        // Its location cannot be removed here: refused, not stored with it.
        (r#"{"content_type": "image/heic", "bytes": 1000}"#, 415),
    ] {
        let (status, body) = call(&h.app, ticket(body)).await;
        assert_eq!(status, want, "{body}");
    }

    // Not uploaded yet: a clear error; uploaded: attached, and linked in the citizen's view.
    let create = |media: &str| {
        post_json(&format!(
            r#"{{"description": "Dziura", "media": [{media}]}}"#
        ))
    };
    let (status, body) = call(&h.app, create(&format!("\"{key}\""))).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (400, Some("media")),
        "{body}"
    );
    h.media
        .put_media(&key, "image/jpeg", photo.clone())
        .await
        .unwrap();
    let (status, created) = call(&h.app, create(&format!("\"{key}\""))).await;
    assert_eq!(status, 201, "{created}");
    let view = http::Request::get(format!(
        "/v1/requests/{}",
        created["case_number"].as_str().unwrap()
    ))
    .header(
        "authorization",
        format!("Bearer {}", created["tracking_token"].as_str().unwrap()),
    )
    .body(Body::empty())
    .unwrap();
    let (_, private) = call(&h.app, view).await;
    let kept = key.replacen("uploads/", "media/", 1);
    assert!(
        private["media_urls"][0].as_str().unwrap().contains(&kept),
        "{private}"
    );
    let stored = h.media.get(&kept).expect("the photo is kept under media/");
    assert!(
        !stored.windows(4).any(|w| w == b"GPS!"),
        "kept without its position"
    );
    assert!(stored.starts_with(&[0xFF, 0xD8]), "still a JPEG");

    // More bytes than the ticket was issued for are refused.
    let (_, small) = call(
        &h.app,
        ticket(r#"{"content_type": "image/jpeg", "bytes": 10}"#),
    )
    .await;
    let small_key = small["media_key"].as_str().unwrap().to_owned();
    h.media
        .put_media(&small_key, "image/jpeg", photo.clone())
        .await
        .unwrap();
    let (status, body) = call(&h.app, create(&format!("\"{small_key}\""))).await;
    assert_eq!(status, 413, "{body}");

    // Someone else's key, or a file that is not an image, is refused.
    let (status, _) = call(&h.app, create("\"media/krakow/../../etc/passwd\"")).await;
    assert_eq!(status, 400);
    h.media
        .put_media(
            "uploads/krakow/fake.8.jpg",
            "image/jpeg",
            b"%PDF-1.7".to_vec(),
        )
        .await
        .unwrap();
    let (status, body) = call(&h.app, create("\"uploads/krakow/fake.8.jpg\"")).await;
    assert_eq!(status, 415, "{body}");
}
