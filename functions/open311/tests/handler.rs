//! The Open311 router over in-memory ports, as clients call it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use axum::body::Body;
use citydesk_core::catalogue::{Catalogue, CatalogueDocument};
use citydesk_core::ids::sha256_hex;
use citydesk_core::memory::{ManualClock, MemoryStore, SequentialIds};
use citydesk_open311::{Deps, router};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

const KEY: &str = "test-client-key";

fn app() -> (axum::Router, Arc<ManualClock>) {
    let (router, clock, _) = app_with_store();
    (router, clock)
}

fn app_with_store() -> (axum::Router, Arc<ManualClock>, Arc<MemoryStore>) {
    let (router, clock, store, _) = app_with_media();
    (router, clock, store)
}

fn app_with_media() -> (
    axum::Router,
    Arc<ManualClock>,
    Arc<MemoryStore>,
    Arc<citydesk_core::memory::MemoryBlobs>,
) {
    let catalogue = Catalogue::new(
        CatalogueDocument::from_sources(
            include_str!("../../../infra/demo-city/catalogue.toml"),
            include_str!("../../../infra/demo-city/districts.geojson"),
        )
        .unwrap(),
    )
    .unwrap();
    let store = Arc::new(MemoryStore::default());
    store.add_client_key(&sha256_hex(KEY.as_bytes()), "tests");
    let clock = Arc::new(ManualClock::at("2026-11-27T09:30:00Z".parse().unwrap()));
    let media = Arc::new(citydesk_core::memory::MemoryBlobs::default());
    let deps = Deps {
        store: store.clone(),
        queries: store.clone(),
        keys: store.clone(),
        ledger: store.clone(),
        media: media.clone(),
        clock: clock.clone(),
        ids: Arc::new(SequentialIds::default()),
        catalogues: citydesk_core::catalogue::Catalogues::single(catalogue),
        public_base_url: "https://311.krakow.example".into(),
    };
    (router(Arc::new(deps)), clock, store, media)
}

async fn send(app: &axum::Router, req: http::Request<Body>) -> (u16, String, String) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let ctype = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    (status, ctype, body)
}

async fn get(app: &axum::Router, uri: &str) -> (u16, String, String) {
    send(app, http::Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn get_json(app: &axum::Router, uri: &str) -> (u16, Value) {
    let (status, _, body) = get(app, uri).await;
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

async fn post(app: &axum::Router, uri: &str, form: &str) -> (u16, String) {
    let req = http::Request::post(uri)
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body(Body::from(form.to_owned()))
        .unwrap();
    let (status, _, body) = send(app, req).await;
    (status, body)
}

#[tokio::test]
async fn discovery_services_and_definitions_in_both_formats() {
    let (app, _) = app();
    let (status, discovery) = get_json(&app, "/open311/v2/discovery.json").await;
    assert_eq!(status, 200);
    assert_eq!(
        discovery["endpoints"][0]["specification"],
        "http://wiki.open311.org/GeoReport_v2"
    );
    assert_eq!(
        discovery["endpoints"][0]["formats"],
        serde_json::json!(["text/xml", "application/json"])
    );

    let (status, services) = get_json(&app, "/open311/v2/services.json").await;
    assert_eq!(status, 200);
    let list = services.as_array().expect("a bare array");
    assert_eq!(list.len(), 20);
    let pothole = list
        .iter()
        .find(|s| s["service_code"] == "pothole")
        .unwrap();
    assert_eq!(pothole["metadata"], true);
    assert_eq!(pothole["type"], "realtime");
    assert_eq!(pothole["service_name"], "Dziura w jezdni");

    let (status, ctype, xml) = get(&app, "/open311/v2/services.xml").await;
    assert_eq!(status, 200);
    assert!(ctype.starts_with("text/xml"), "{ctype}");
    assert!(
        xml.starts_with(
            r#"<?xml version="1.0" encoding="utf-8"?><services><service><service_code>"#
        ),
        "{xml}"
    );

    let english = http::Request::get("/open311/v2/services.json")
        .header("accept-language", "en-GB,en;q=0.8")
        .body(Body::empty())
        .unwrap();
    let (_, _, body) = send(&app, english).await;
    assert!(body.contains(r#""service_name":"Pothole""#), "{body}");

    for uri in [
        "/open311/v2/services/pothole.json",
        "/open311/v2/service/pothole.json",
    ] {
        let (status, def) = get_json(&app, uri).await;
        assert_eq!(status, 200, "{uri}");
        assert_eq!(def["service_code"], "pothole");
        let size = &def["attributes"][0];
        assert_eq!(size["code"], "size");
        assert_eq!(size["datatype"], "singlevaluelist");
        assert_eq!(size["required"], false);
        assert_eq!(size["order"], 1);
        assert_eq!(size["values"][2]["key"], "large");
    }
    let (_, _, xml) = get(&app, "/open311/v2/services/abandoned-vehicle.xml").await;
    assert!(xml.contains("<attribute><variable>true</variable><code>plate</code><datatype>string</datatype><required>true</required>"), "{xml}");

    let (status, err) = get_json(&app, "/open311/v2/services/teleport.json").await;
    assert_eq!(status, 404);
    assert_eq!(err[0]["code"], 404);
    let (status, _, xml) = get(&app, "/open311/v2/services.xml?jurisdiction_id=gdansk").await;
    assert_eq!(status, 404);
    assert!(xml.contains("<errors><error><code>404</code><description>unknown jurisdiction_id gdansk</description></error></errors>"), "{xml}");
    let (status, _) = get_json(&app, "/open311/v2/services.json?jurisdiction_id=krakow").await;
    assert_eq!(status, 200);

    // The whole Accept-Language list counts: German first, then English.
    let german_then_english = http::Request::get("/open311/v2/services.json")
        .header("accept-language", "de-DE,de;q=0.9,en;q=0.7,pl;q=0.3")
        .body(Body::empty())
        .unwrap();
    let (_, _, body) = send(&app, german_then_english).await;
    assert!(body.contains(r#""service_name":"Pothole""#), "{body}");

    // key_service leads to a page that says how to get a key, and discovery
    // names the zone of date-times given without an offset.
    let key_service = discovery["key_service"].as_str().unwrap();
    assert_eq!(key_service, "https://311.krakow.example/open311/v2/keys");
    assert_eq!(discovery["time_zone"], "Europe/Warsaw");
    let path = key_service.trim_start_matches("https://311.krakow.example");
    let (status, ctype, page) = get(&app, path).await;
    assert_eq!(status, 200);
    assert!(ctype.starts_with("text/html"), "{ctype}");
    assert!(
        page.contains("lang=\"pl\"") && page.contains("Jak otrzymać klucz"),
        "{page}"
    );
    assert!(
        page.contains("citydesk api-key create") && page.contains("Europe/Warsaw"),
        "{page}"
    );
    let in_english = http::Request::get(path)
        .header("accept-language", "en")
        .body(Body::empty())
        .unwrap();
    let (status, _, page) = send(&app, in_english).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("How to get a key") && page.contains("never in the URL"),
        "{page}"
    );
}

#[tokio::test]
async fn post_validates_like_the_spec_and_answers_a_one_element_list() {
    let (app, _) = app();
    let ok = format!(
        "api_key={KEY}&service_code=pothole&lat=50.07&long=19.935&description=Dziura&attribute[size]=large&attribute[hazards][]=cars&attribute[hazards][]=cyclists"
    );
    let cases: Vec<(String, u16, &str)> = vec![
        (
            "service_code=pothole&lat=50.07&long=19.93".into(),
            403,
            "api_key is required",
        ),
        (
            "api_key=wrong&service_code=pothole&lat=50.07&long=19.93".into(),
            403,
            "Invalid api_key",
        ),
        (
            format!("api_key={KEY}&lat=50.07&long=19.93"),
            400,
            "service_code is required",
        ),
        (
            format!("api_key={KEY}&service_code=teleport&lat=50.07&long=19.93"),
            404,
            "unknown service_code",
        ),
        (
            format!("api_key={KEY}&service_code=pothole"),
            400,
            "a location is required",
        ),
        (
            format!("api_key={KEY}&service_code=pothole&lat=50.07"),
            400,
            "long is required",
        ),
        (
            format!("api_key={KEY}&service_code=pothole&lat=north&long=19.9"),
            400,
            "lat must be a number",
        ),
        (
            format!("api_key={KEY}&service_code=pothole&lat=95&long=19.9"),
            400,
            "lat must be",
        ),
        (
            format!(
                "api_key={KEY}&service_code=pothole&lat=50.07&long=19.93&description={}",
                "a".repeat(4001)
            ),
            400,
            "at most 4000",
        ),
        (
            format!(
                "api_key={KEY}&service_code=abandoned-vehicle&address_string=ul.%20D%C5%82uga%2010"
            ),
            400,
            "attribute[plate] is required",
        ),
        (
            format!("api_key={KEY}&service_code=pothole&lat=50.07&long=19.93&attribute[size]=huge"),
            400,
            "attribute[size] must be one of",
        ),
        (
            format!("api_key={KEY}&service_code=pothole&lat=50.07&long=19.93&phone=12"),
            400,
            "phone",
        ),
        (
            format!("api_key={KEY}&service_code=pothole&lat=52.23&long=21.01"),
            400,
            "outside Kraków",
        ),
        (
            format!("api_key={KEY}&service_code=pothole&lat=19.935&long=50.07"),
            400,
            "lat and long look swapped",
        ),
    ];
    for (form, status, message) in cases {
        let (got, body) = post(&app, "/open311/v2/requests.json", &form).await;
        assert_eq!(got, status, "{form}: {body}");
        let err: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(err[0]["code"], status);
        assert!(
            err[0]["description"].as_str().unwrap().contains(message),
            "{form}: {body}"
        );
    }
    let (status, body) = post(&app, "/open311/v2/requests.json", &ok).await;
    assert_eq!(status, 201, "{body}");
    let created: Value = serde_json::from_str(&body).unwrap();
    let id = created[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 9);

    // The same request as XML, by its id: a one-element list.
    let (status, _, xml) = get(&app, &format!("/open311/v2/requests/{id}.xml")).await;
    assert_eq!(status, 200);
    assert!(xml.contains(&format!("<service_requests><request><service_request_id>{id}</service_request_id><status>open</status>")), "{xml}");
    assert!(
        xml.contains("<requested_datetime>2026-11-27T10:30:00+01:00</requested_datetime>"),
        "{xml}"
    );

    // The token from the answer leads back to the request.
    let token = created[0]["token"].as_str().unwrap();
    let (status, tokens) = get_json(&app, &format!("/open311/v2/tokens/{token}.json")).await;
    assert_eq!(status, 200);
    assert_eq!(tokens[0]["service_request_id"], id.as_str());
}

#[tokio::test]
async fn fixmystreet_shaped_requests_are_accepted() {
    let (app, _) = app();
    let form = format!(
        "api_key={KEY}&service_code=fallen-tree&lat=50.02&long=20.1&description=Tree%20down&first_name=Jan&last_name=Kowalski\
         &email=jan%40example.org&attribute[fixmystreet_id]=4711&attribute[title]=Tree&attribute[report_url]=https%3A%2F%2Ffms.example%2Freport%2F4711\
         &attribute[easting]=&attribute[northing]=&attribute[closest_address]=&deviceid=abc&media_url=https%3A%2F%2Ffms.example%2Fphoto%2F1.jpeg&jurisdiction_id=krakow"
    );
    let (status, body) = post(&app, "/open311/v2/requests.xml", &form).await;
    assert_eq!(status, 201, "{body}");
    assert!(body.contains("<service_request_id>"), "{body}");
    let id = body
        .split("<service_request_id>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    let (_, one) = get_json(
        &app,
        &format!("/open311/v2/requests/{id}.json?extensions=true"),
    )
    .await;
    // FixMyStreet's own fields are kept for staff, but are not the city's
    // form: the public does not see them (a title may name someone).
    let attrs = one[0]["extended_attributes"]["attributes"]
        .as_array()
        .unwrap();
    assert!(attrs.is_empty(), "{one}");
    assert_eq!(one[0]["extended_attributes"]["channel"], "open311");
    let text = one.to_string();
    assert!(
        !text.contains("Kowalski") && !text.contains("jan@example.org"),
        "no contact details: {text}"
    );
}

#[tokio::test]
async fn list_filters_and_pages_return_exactly_the_expected_sets() {
    let (app, clock) = app();
    let mut created = Vec::new();
    for (i, code) in ["pothole", "pothole", "fallen-tree", "noise", "pothole"]
        .iter()
        .enumerate()
    {
        clock.set(format!("2026-11-2{}T09:30:00Z", i + 1).parse().unwrap());
        let form = format!("api_key={KEY}&service_code={code}&lat=50.07&long=19.935");
        let (status, body) = post(&app, "/open311/v2/requests.json", &form).await;
        assert_eq!(status, 201, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        created.push(v[0]["service_request_id"].as_str().unwrap().to_owned());
    }
    clock.set("2026-11-28T12:00:00Z".parse().unwrap());
    let ids = |v: &Value| {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["service_request_id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };

    let (_, all) = get_json(&app, "/open311/v2/requests.json").await;
    assert_eq!(
        ids(&all),
        created.iter().rev().cloned().collect::<Vec<_>>(),
        "newest first"
    );
    let (_, potholes) = get_json(&app, "/open311/v2/requests.json?service_code=pothole").await;
    assert_eq!(
        ids(&potholes),
        vec![created[4].clone(), created[1].clone(), created[0].clone()]
    );
    let (_, two) = get_json(
        &app,
        "/open311/v2/requests.json?service_code=pothole,noise&page_size=2&page=2",
    )
    .await;
    assert_eq!(ids(&two), vec![created[1].clone(), created[0].clone()]);
    let (_, window) = get_json(&app, "/open311/v2/requests.json?start_date=2026-11-22T00:00:00Z&end_date=2026-11-24T00:00:00%2B01:00").await;
    assert_eq!(ids(&window), vec![created[2].clone(), created[1].clone()]);
    // A downloader's date-times without an offset are Kraków's (UTC+1 in November):
    // 10:30:01 local is after the 22nd's 09:30Z, 10:29 local before the 24th's.
    let (status, local) = get_json(
        &app,
        "/open311/v2/requests.json?start_date=2026-11-22T10:30:01&end_date=2026-11-24T10:29:00",
    )
    .await;
    assert_eq!(status, 200, "{local}");
    assert_eq!(ids(&local), vec![created[2].clone()]);
    let (status, by_day) = get_json(
        &app,
        "/open311/v2/requests.json?start_date=2026-11-23&end_date=2026-11-24",
    )
    .await;
    assert_eq!(status, 200, "{by_day}");
    assert_eq!(ids(&by_day), vec![created[2].clone()]);
    let (_, by_id) = get_json(
        &app,
        &format!(
            "/open311/v2/requests.json?service_request_id={},{}&service_code=noise",
            created[0], created[3]
        ),
    )
    .await;
    assert_eq!(
        ids(&by_id),
        vec![created[0].clone(), created[3].clone()],
        "ids override the other filters"
    );
    let (_, closed) = get_json(&app, "/open311/v2/requests.json?status=closed").await;
    assert!(ids(&closed).is_empty());
    let (_, open) = get_json(&app, "/open311/v2/requests.json?status=open").await;
    assert_eq!(ids(&open).len(), 5);

    for (query, message) in [
        (
            "start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z",
            "at most 90 days",
        ),
        ("start_date=yesterday", "W3C date-time"),
        ("status=pending", "status must be"),
        ("page_size=0", "page_size"),
    ] {
        let (status, err) = get_json(&app, &format!("/open311/v2/requests.json?{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert!(
            err[0]["description"].as_str().unwrap().contains(message),
            "{query}: {err}"
        );
    }
    let (status, _) = get_json(&app, "/open311/v2/requests/2222-2222.json").await;
    assert_eq!(status, 404);
    let (status, _) = get_json(&app, "/open311/v2/requests.csv").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn updated_filters_and_service_request_updates() {
    use citydesk_core::ports::RequestStore;
    let (app, clock, store) = app_with_store();
    let mut cases = Vec::new();
    for day in ["2026-11-21T09:30:00Z", "2026-11-22T09:30:00Z"] {
        clock.set(day.parse().unwrap());
        let (status, body) = post(
            &app,
            "/open311/v2/requests.json",
            &format!("api_key={KEY}&service_code=pothole&lat=50.07&long=19.935"),
        )
        .await;
        assert_eq!(status, 201);
        cases.push(
            serde_json::from_str::<Value>(&body).unwrap()[0]["service_request_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    // The first is assigned, then acknowledged, on the 27th.
    let first = store
        .find_by_case_number(&case(&cases[0]))
        .await
        .unwrap()
        .unwrap();
    let at: jiff::Timestamp = "2026-11-27T08:00:00Z".parse().unwrap();
    let assign = first
        .assign(
            citydesk_core::ids::DepartmentCode::parse("roads").unwrap(),
            at,
            at,
            at,
            "test",
        )
        .unwrap();
    store.apply(&assign).await.unwrap();
    let ack = assign
        .request
        .move_to(
            citydesk_core::status::Status::Acknowledged,
            Some("Ekipa w drodze".into()),
            at,
            "test",
        )
        .unwrap();
    store.apply(&ack).await.unwrap();
    clock.set("2026-11-28T12:00:00Z".parse().unwrap());

    let (status, updated) = get_json(
        &app,
        "/open311/v2/requests.json?updated_after=2026-11-26T00:00:00Z",
    )
    .await;
    assert_eq!(status, 200, "{updated}");
    let ids: Vec<&str> = updated
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["service_request_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![cases[0].as_str()]);
    let (_, before) = get_json(
        &app,
        "/open311/v2/requests.json?updated_before=2026-11-26T00:00:00Z",
    )
    .await;
    let ids: Vec<&str> = before
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["service_request_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![cases[1].as_str()],
        "the first one's latest change is after the window"
    );

    let (status, updates) = get_json(
        &app,
        "/open311/v2/servicerequestupdates.json?start_date=2026-11-26T00:00:00Z",
    )
    .await;
    assert_eq!(status, 200, "{updates}");
    let statuses: Vec<&str> = updates
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, vec!["open", "investigating"]);
    assert_eq!(updates[1]["service_request_id"], cases[0].as_str());
    assert_eq!(updates[1]["description"], "Ekipa w drodze");
    assert_eq!(updates[1]["updated_datetime"], "2026-11-27T09:00:00+01:00");
    let (_, _, xml) = get(
        &app,
        "/open311/v2/servicerequestupdates.xml?start_date=2026-11-26T00:00:00Z",
    )
    .await;
    assert!(
        xml.contains("<service_request_updates><request_update><update_id>"),
        "{xml}"
    );
}

fn case(raw: &str) -> citydesk_core::ids::CaseNumber {
    citydesk_core::ids::CaseNumber::parse(raw).unwrap()
}

#[tokio::test]
async fn citizen_updates_relayed_by_a_client() {
    use citydesk_core::ports::RequestStore;
    use citydesk_core::status::Status;
    let (app, _, store) = app_with_store();
    let (_, body) = post(
        &app,
        "/open311/v2/requests.json",
        &format!("api_key={KEY}&service_code=pothole&lat=50.07&long=19.935"),
    )
    .await;
    let id = serde_json::from_str::<Value>(&body).unwrap()[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let update = |form: String| {
        let app = app.clone();
        async move { post(&app, "/open311/v2/servicerequestupdates.json", &form).await }
    };

    // A comment on an open request, sent twice with the same update_id: recorded once.
    for _ in 0..2 {
        let (status, body) = update(format!("api_key={KEY}&service_request_id={id}&update_id=fms-1&status=OPEN&description=Coraz%20wi%C4%99ksza")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap()[0]["update_id"],
            format!("{id}-fms-1")
        );
    }
    let request = store
        .find_by_case_number(&case(&id))
        .await
        .unwrap()
        .unwrap();
    let history = store.history(&request.id).await.unwrap();
    assert_eq!(
        history.len(),
        2,
        "created + one citizen update: {history:?}"
    );

    // Resolved; the reporter says it is still there (OPEN): reopened.
    let at: jiff::Timestamp = "2026-11-27T12:00:00Z".parse().unwrap();
    let assigned = request
        .assign(
            citydesk_core::ids::DepartmentCode::parse("roads").unwrap(),
            at,
            at,
            at,
            "t",
        )
        .unwrap();
    store.apply(&assigned).await.unwrap();
    let resolved = assigned
        .request
        .move_to(Status::Resolved, Some("done".into()), at, "t")
        .unwrap();
    store.apply(&resolved).await.unwrap();
    let (status, body) = update(format!(
        "api_key={KEY}&service_request_id={id}&update_id=fms-2&status=OPEN&description=Nadal%20jest"
    ))
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        store.get(&request.id).await.unwrap().unwrap().status,
        Status::Reopened
    );

    for (form, status) in [
        (
            format!("service_request_id={id}&status=OPEN&description=x"),
            403,
        ),
        (format!("api_key={KEY}&status=OPEN&description=x"), 400),
        (
            format!("api_key={KEY}&service_request_id=2222-2222&description=x"),
            404,
        ),
        (
            format!("api_key={KEY}&service_request_id={id}&status=MAYBE&description=x"),
            400,
        ),
        (format!("api_key={KEY}&service_request_id={id}"), 400),
    ] {
        let (got, body) = update(form.clone()).await;
        assert_eq!(got, status, "{form}: {body}");
    }

    // Another client application may not update a request it did not file.
    store.add_client_key(&sha256_hex(b"other-client-key"), "another-app");
    let (got, body) = update(format!(
        "api_key=other-client-key&service_request_id={id}&description=Nie%20moje"
    ))
    .await;
    assert_eq!(got, 404, "{body}");
    assert!(body.contains("only the requests it filed"), "{body}");

    // The key travels in the POST body only: in a URL it would be logged.
    for resource in ["servicerequestupdates.json", "requests.json"] {
        let (got, body) = post(
            &app,
            &format!("/open311/v2/{resource}?api_key={KEY}"),
            &format!(
                "service_request_id={id}&service_code=pothole&lat=50.07&long=19.935&description=x"
            ),
        )
        .await;
        assert_eq!(got, 400, "{resource}: {body}");
        assert!(body.contains("never in the URL"), "{body}");
    }
}

/// A tiny JPEG whose EXIF segment carries the marker "GPS!".
fn jpeg_with_location() -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8];
    let payload: Vec<u8> = b"Exif\0\0II*\0\x08\0\0\0GPS!".to_vec();
    v.extend([0xFF, 0xE1]);
    v.extend(((payload.len() + 2) as u16).to_be_bytes());
    v.extend(payload);
    v.extend([
        0xFF, 0xDB, 0x00, 0x04, 0x00, 0x01, 0xFF, 0xDA, 0x00, 0x02, 0x11, 0x22, 0xFF, 0xD9,
    ]);
    v
}

fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "citydesk-test-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some((filename, bytes)) = file {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"media\"; filename=\"{filename}\"\r\nContent-Type: image/jpeg\r\n\r\n")
                .as_bytes(),
        );
        body.extend(bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn media_upload_on_post() {
    let (app, _, _, media) = app_with_media();
    let send_form = |ctype: String, body: Vec<u8>| {
        let app = app.clone();
        async move {
            let req = http::Request::post("/open311/v2/requests.json")
                .header("content-type", ctype)
                .body(Body::from(body))
                .unwrap();
            send(&app, req).await
        }
    };
    let fields = [
        ("api_key", KEY),
        ("service_code", "pothole"),
        ("lat", "50.07"),
        ("long", "19.935"),
        ("strip_location", "true"),
    ];
    let photo = jpeg_with_location();
    let (ctype, body) = multipart(&fields, Some(("IMG_0001.jpg", &photo)));
    let (status, _, answer) = send_form(ctype, body).await;
    assert_eq!(status, 201, "{answer}");
    let id = serde_json::from_str::<Value>(&answer).unwrap()[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Stored under a key the server chose, without its location; linked as media_url.
    let objects = media.objects.lock().unwrap().clone();
    let (key, (content_type, stored)) = objects.iter().next().unwrap();
    assert!(
        key.starts_with("media/krakow/") && key.ends_with(".jpg") && !key.contains("IMG_0001"),
        "{key}"
    );
    assert_eq!(content_type, "image/jpeg");
    assert!(
        !stored.windows(4).any(|w| w == b"GPS!"),
        "location removed on request"
    );
    let (_, one) = get_json(&app, &format!("/open311/v2/requests/{id}.json")).await;
    assert!(
        one[0]["media_url"].as_str().unwrap().contains(key.as_str()),
        "{one}"
    );

    // Without strip_location the location goes all the same: on every path.
    let (ctype, body) = multipart(&fields[..4], Some(("b.jpg", &photo)));
    assert_eq!(send_form(ctype, body).await.0, 201);
    let objects = media.objects.lock().unwrap().clone();
    assert_eq!(objects.len(), 2);
    assert!(
        objects
            .values()
            .all(|(_, b)| !b.windows(4).any(|w| w == b"GPS!")),
        "no stored photo keeps its position"
    );

    // Not an image, or HEIC (whose location cannot be removed): a 415 in
    // Open311's format; too large: a 400.
    let (ctype, body) = multipart(&fields, Some(("x.jpg", b"%PDF-1.7 pretending")));
    let (status, _, err) = send_form(ctype, body).await;
    assert_eq!(status, 415);
    assert!(err.contains("JPEG, PNG"), "{err}");
    let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heicGPS!".to_vec();
    let (ctype, body) = multipart(&fields, Some(("IMG_0002.HEIC", &heic)));
    let (status, _, err) = send_form(ctype, body).await;
    assert_eq!(status, 415, "{err}");
    assert!(
        err.contains("cannot be stripped of their location"),
        "{err}"
    );
    let big = vec![0xFF_u8; citydesk_core::media::MAX_MEDIA_BYTES + 10];
    let (ctype, body) = multipart(&fields, Some(("big.jpg", &big)));
    let (status, _, err) = send_form(ctype, body).await;
    assert_eq!(status, 400, "{err}");
    assert!(err.contains("at most"), "{err}");

    // A client's own photo link is kept for staff, but not published: the
    // server cannot vouch that it carries no position.
    let (status, body) = post(&app, "/open311/v2/requests.json", &format!("api_key={KEY}&service_code=pothole&lat=50.07&long=19.93&media_url=https%3A%2F%2Ffms.example%2Fp%2F1.jpeg")).await;
    assert_eq!(status, 201, "{body}");
    let id = serde_json::from_str::<Value>(&body).unwrap()[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, one) = get_json(&app, &format!("/open311/v2/requests/{id}.json")).await;
    assert_eq!(one[0]["media_url"], Value::Null, "{one}");
}
