//! Authorisation is the acceptance test: every (role, department, object,
//! operation) of the department API, on its real router with real signed
//! staff tokens, checked against the access rules written out here once more.
//!
//! The space is small enough to walk whole (10 callers × 8 operations × 3
//! objects, each on a fresh world), which is stronger than sampling it:
//! - a clerk or head of one department never lists, reads, changes,
//!   transfers or annotates another's work, and a foreign case answers
//!   exactly as a missing one (404, same code);
//! - a manager reads (naming the department) and changes nothing; operators,
//!   experts, quality, admin and a token without a role get 403;
//! - no body sets a server-owned field: unknown fields are refused with 400.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use axum::body::Body;
use citydesk_core::catalogue::{Catalogue, CatalogueDocument, Catalogues};
use citydesk_core::ids::{DepartmentCode, ServiceCode, sha256_hex};
use citydesk_core::language::Language;
use citydesk_core::learning::CityModels;
use citydesk_core::location::Location;
use citydesk_core::memory::{ManualClock, MemoryStore, MemoryTrainingExamples, SequentialIds};
use citydesk_core::ports::DepartmentKeys;
use citydesk_core::request::Channel;
use citydesk_core::usecases::route_request::{Route, route_request};
use citydesk_core::usecases::submit_request::{Intake, RequestSubmission, submit_request};
use citydesk_department_api::{Deps, router};
use citydesk_http_api::caller::Authenticator;
use citydesk_staff_auth::testing::{test_token, test_verifier};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

const ROADS_KEY: &str = "cdk_roads_integration_key_for_tests";
const MISSING_CASE: &str = "ZZZZ-ZZZZ";

/// A staff token for these groups, signed by the test identity provider.
fn token(subject: &str, groups: &[&str]) -> String {
    test_token(subject, groups).unwrap()
}

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Clerk(&'static str),
    Head(&'static str),
    Expert(&'static str),
    Key(&'static str),
    Operator,
    Manager,
    Quality,
    Admin,
    NoRole,
}

const CALLERS: [Who; 10] = [
    Who::Clerk("roads"),
    Who::Head("roads"),
    Who::Clerk("greenery"),
    Who::Expert("roads"),
    Who::Key("roads"),
    Who::Operator,
    Who::Manager,
    Who::Quality,
    Who::Admin,
    Who::NoRole,
];

impl Who {
    fn credential(self) -> String {
        match self {
            Who::Clerk(d) => token(&format!("clerk-of-{d}"), &[&format!("clerk:{d}")]),
            Who::Head(d) => token(&format!("head-of-{d}"), &[&format!("head:{d}")]),
            Who::Expert(d) => token(&format!("expert-of-{d}"), &[&format!("expert:{d}")]),
            Who::Key(_) => ROADS_KEY.to_owned(),
            Who::Operator => token("operator-1", &["operator"]),
            Who::Manager => token("manager-1", &["manager"]),
            Who::Quality => token("quality-1", &["quality"]),
            Who::Admin => token("admin-1", &["admin"]),
            Who::NoRole => token("someone", &["Domain Users"]),
        }
    }
    /// The department whose work they do, if any.
    fn works_for(self) -> Option<&'static str> {
        match self {
            Who::Clerk(d) | Who::Head(d) | Who::Key(d) => Some(d),
            _ => None,
        }
    }
}

/// What is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    Read,
    Status,
    NoteToCitizen,
    InternalNote,
    Claim,
    Transfer,
    HandBack,
}

const OPERATIONS: [Operation; 7] = [
    Operation::Read,
    Operation::Status,
    Operation::NoteToCitizen,
    Operation::InternalNote,
    Operation::Claim,
    Operation::Transfer,
    Operation::HandBack,
];

impl Operation {
    fn request(self, case: &str) -> (&'static str, String, Option<Value>) {
        let path = format!("/v1/department/assignments/{case}");
        match self {
            Operation::Read => ("GET", path, None),
            Operation::Status => (
                "POST",
                format!("{path}/status"),
                Some(json!({"status": "acknowledged"})),
            ),
            Operation::NoteToCitizen => (
                "POST",
                format!("{path}/notes"),
                Some(json!({"note": "Ekipa będzie w czwartek"})),
            ),
            Operation::InternalNote => (
                "POST",
                format!("{path}/internal-notes"),
                Some(json!({"note": "Sprawdzić w czwartek"})),
            ),
            Operation::Claim => (
                "POST",
                format!("{path}/assignee"),
                Some(json!({"assignee": "me"})),
            ),
            Operation::Transfer => (
                "POST",
                format!("{path}/transfer"),
                Some(json!({"department": "waste", "reason": "Śmieci, nie jezdnia"})),
            ),
            Operation::HandBack => (
                "POST",
                format!("{path}/hand-back"),
                Some(json!({"reason": "Nie nasze"})),
            ),
        }
    }
}

/// A fresh world: one open case of roads and one of greenery.
struct World {
    app: axum::Router,
    roads_case: String,
    greenery_case: String,
}

fn catalogue() -> Catalogue {
    let toml = include_str!("../../../infra/demo-city/catalogue.toml");
    let districts = include_str!("../../../infra/demo-city/districts.geojson");
    Catalogue::new(CatalogueDocument::from_sources(toml, districts).unwrap()).unwrap()
}

async fn world() -> World {
    let catalogue = catalogue();
    let catalogues = Catalogues::single(catalogue.clone());
    let store = Arc::new(MemoryStore::default());
    store.add_department_key(
        &sha256_hex(ROADS_KEY.as_bytes()),
        DepartmentCode::parse("roads").unwrap(),
    );
    let clock = Arc::new(ManualClock::at("2026-12-02T09:30:00Z".parse().unwrap()));
    let ids = SequentialIds::default();
    let models = CityModels::default();
    let mut cases = Vec::new();
    for (service, lat, long) in [
        ("pothole", 50.0614, 19.9366),
        ("park-maintenance", 50.0640, 19.9230),
    ] {
        let intake = Intake {
            store: store.as_ref(),
            clock: clock.as_ref(),
            ids: &ids,
            catalogue: &catalogue,
        };
        let created = submit_request(&intake, submission(service, lat, long))
            .await
            .unwrap();
        let route = Route {
            store: store.as_ref(),
            queries: store.as_ref(),
            clock: clock.as_ref(),
            catalogues: &catalogues,
            models: &models,
        };
        route_request(&route, &created.request.id).await.unwrap();
        cases.push(created.request.case_number.to_string());
    }
    let verifier = test_verifier().unwrap();
    let deps = Deps {
        store: store.clone(),
        queries: store.clone(),
        auth: Authenticator::new(
            Some(Arc::new(verifier)),
            Some(store as Arc<dyn DepartmentKeys>),
        ),
        clock,
        examples: Arc::new(MemoryTrainingExamples::default()),
        catalogues,
    };
    World {
        app: router(Arc::new(deps)),
        greenery_case: cases.pop().unwrap(),
        roads_case: cases.pop().unwrap(),
    }
}

fn submission(service: &str, lat: f64, long: f64) -> RequestSubmission {
    RequestSubmission {
        channel: Channel::Web,
        service_code: Some(ServiceCode::parse(service).unwrap()),
        description: "Zgłoszenie mieszkańca".into(),
        location: Location::parse(Some(lat), Some(long), None).unwrap(),
        contact: Some(citydesk_core::contact::Contact {
            email: citydesk_core::contact::Email::parse("anna@example.org").ok(),
            ..Default::default()
        }),
        language: Language::Pl,
        answers: Default::default(),
        media: Vec::new(),
        idempotency: None,
        privacy_requested: false,
        open311_client: None,
        registered_by: None,
        follows: None,
    }
}

async fn call(
    app: &axum::Router,
    who: Who,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {}", who.credential()));
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let request = request
        .body(Body::from(body.map(|b| b.to_string()).unwrap_or_default()))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Which department an object belongs to (`None`: no such case).
#[derive(Debug, Clone, Copy)]
enum Object {
    Roads,
    Greenery,
    Missing,
}

impl Object {
    fn department(self) -> Option<&'static str> {
        match self {
            Object::Roads => Some("roads"),
            Object::Greenery => Some("greenery"),
            Object::Missing => None,
        }
    }
    fn case(self, w: &World) -> String {
        match self {
            Object::Roads => w.roads_case.clone(),
            Object::Greenery => w.greenery_case.clone(),
            Object::Missing => MISSING_CASE.to_owned(),
        }
    }
}

/// The rule, written out independently of the code under test: the status
/// (and error code) an operation on an object answers for a caller.
fn expected(who: Who, operation: Operation, object: Object) -> (u16, Option<&'static str>) {
    match (who.works_for(), who) {
        (Some(mine), _) if object.department() == Some(mine) => (200, None),
        (Some(_), _) => (404, Some("not_found")),
        (None, Who::Manager) if operation == Operation::Read => {
            // Managers read any department's work, naming it.
            (400, Some("invalid_field"))
        }
        _ => (403, Some("forbidden")),
    }
}

#[tokio::test]
async fn every_role_acts_only_on_its_own_departments_work() {
    let mut checked = 0;
    for who in CALLERS {
        for operation in OPERATIONS {
            for object in [Object::Roads, Object::Greenery, Object::Missing] {
                let w = world().await;
                let (method, path, body) = operation.request(&object.case(&w));
                let (status, answer) = call(&w.app, who, method, &path, body).await;
                let (want, code) = expected(who, operation, object);
                assert_eq!(
                    (status, answer["error"]["code"].as_str()),
                    (want, code),
                    "{who:?} {operation:?} on {object:?}: {answer}"
                );
                if status == 200 {
                    let text = answer.to_string();
                    assert!(!text.contains("anna@example.org"), "contact shown: {text}");
                    assert_eq!(answer["case_number"], object.case(&w).as_str());
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 10 * 7 * 3);
}

#[tokio::test]
async fn lists_hold_only_the_callers_department_and_the_manager_names_one() {
    let w = world().await;
    for who in CALLERS {
        let (status, answer) = call(&w.app, who, "GET", "/v1/department/assignments", None).await;
        let listed: Vec<&str> = answer["assignments"]
            .as_array()
            .map(|a| a.iter().filter_map(|x| x["case_number"].as_str()).collect())
            .unwrap_or_default();
        match (who.works_for(), who) {
            (Some("roads"), _) => assert_eq!((status, listed), (200, vec![w.roads_case.as_str()])),
            (Some(_), _) => assert_eq!((status, listed), (200, vec![w.greenery_case.as_str()])),
            (None, Who::Manager) => assert_eq!(status, 400, "{answer}"),
            _ => assert_eq!(status, 403, "{who:?}: {answer}"),
        }
        // Naming another department does not widen anybody's view but the manager's.
        let (status, answer) = call(
            &w.app,
            who,
            "GET",
            "/v1/department/assignments?department=greenery",
            None,
        )
        .await;
        let sees_greenery = matches!(who, Who::Manager | Who::Clerk("greenery"));
        assert_eq!(status == 200, sees_greenery, "{who:?}: {answer}");
        if status == 200 {
            assert!(!answer.to_string().contains(&w.roads_case), "{answer}");
        }
    }
    // The manager reads a case by naming its department, and changes nothing.
    let read = format!(
        "/v1/department/assignments/{}?department=roads",
        w.roads_case
    );
    assert_eq!(call(&w.app, Who::Manager, "GET", &read, None).await.0, 200);
    let change = format!(
        "/v1/department/assignments/{}/status?department=roads",
        w.roads_case
    );
    let body = Some(json!({"status": "acknowledged"}));
    assert_eq!(
        call(&w.app, Who::Manager, "POST", &change, body).await.0,
        403
    );
}

#[tokio::test]
async fn no_body_sets_a_server_owned_field() {
    let w = world().await;
    let clerk = Who::Clerk("roads");
    for operation in OPERATIONS.into_iter().filter(|o| *o != Operation::Read) {
        let (method, path, body) = operation.request(&w.roads_case);
        for field in [
            "status",
            "department",
            "created_by",
            "priority",
            "version",
            "assignee",
        ] {
            let mut body = body.clone().unwrap();
            if body.get(field).is_some() {
                continue;
            }
            body[field] = json!("roads");
            let (status, answer) = call(&w.app, clerk, method, &path, Some(body)).await;
            assert_eq!(status, 400, "{operation:?} with {field}: {answer}");
            assert!(
                answer["error"]["message"].as_str().unwrap().contains(field),
                "{answer}"
            );
        }
    }
    // And nothing changed.
    let (_, case) = call(
        &w.app,
        clerk,
        "GET",
        &format!("/v1/department/assignments/{}", w.roads_case),
        None,
    )
    .await;
    assert_eq!(case["status"], "assigned", "{case}");
    assert_eq!(case["history"].as_array().unwrap().len(), 2, "{case}");
}
