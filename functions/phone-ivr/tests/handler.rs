//! The IVR on Connect fixtures (`events/connect/`) over in-memory ports.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use citydesk_core::catalogue::{Catalogue, CatalogueDocument};
use citydesk_core::contact::ContactKey;
use citydesk_core::ids::{CaseNumber, RequestId};
use citydesk_core::memory::{ManualClock, MemoryStore, SequentialIds, TEST_TRACKING_KEY};
use citydesk_core::ports::{PersonIndex, PortError, RequestStore};
use citydesk_phone_ivr::{Deps, handle};
use serde_json::Value;

fn deps(people: Arc<dyn PersonIndex>, store: Arc<MemoryStore>) -> Deps {
    let doc = CatalogueDocument::from_sources(
        include_str!("../../../infra/demo-city/catalogue.toml"),
        include_str!("../../../infra/demo-city/districts.geojson"),
    )
    .unwrap();
    Deps {
        store,
        people,
        clock: Arc::new(ManualClock::at("2026-12-04T18:00:00Z".parse().unwrap())),
        ids: Arc::new(SequentialIds::default()),
        catalogue: Catalogue::new(doc).unwrap(),
        contact_key: ContactKey::new(TEST_TRACKING_KEY),
        budget: citydesk_phone_ivr::BUDGET,
    }
}

fn fixture(json: &str) -> Value {
    serde_json::from_str(json).unwrap()
}

#[tokio::test]
async fn a_caller_reports_by_bot_then_hears_their_open_case_and_its_status() {
    let store = Arc::new(MemoryStore::default());
    let deps = deps(store.clone(), store.clone());
    let report = fixture(include_str!(
        "../../../events/connect/ivr-report-from-bot.json"
    ));
    let made = handle(&deps, report.clone()).await;
    assert_eq!(made["result"], "created", "{made:?}");
    assert!(
        made["prompt"].starts_with("Przyjęliśmy zgłoszenie"),
        "{made:?}"
    );
    // Connect retries an invocation: the same contact makes no second request.
    let again = handle(&deps, report).await;
    assert_eq!(again["case_number"], made["case_number"]);
    let case = CaseNumber::parse(&made["case_number"]).unwrap();
    let request = store.find_by_case_number(&case).await.unwrap().unwrap();
    assert_eq!(request.location.address.as_deref(), Some("ul. Długa 10"));
    assert_eq!(
        request.service_code.as_ref().map(|c| c.as_str()),
        Some("pothole")
    );

    let open = handle(
        &deps,
        fixture(include_str!("../../../events/connect/ivr-open-cases.json")),
    )
    .await;
    assert_eq!(open["result"], "open_cases");
    assert_eq!(open["count"], "1");
    assert_eq!(open["case_number"], case.as_str());

    let mut keypad = fixture(include_str!(
        "../../../events/connect/ivr-status-keypad.json"
    ));
    keypad["Details"]["Parameters"]["case"] = Value::String(case.keypad());
    let status = handle(&deps, keypad).await;
    assert_eq!(status["result"], "found", "{status:?}");
    assert_eq!(status["status"], "new");
    // Every value is a string: the flow reads a flat map.
    let unknown = handle(
        &deps,
        fixture(include_str!(
            "../../../events/connect/ivr-status-execution-name.json"
        )),
    )
    .await;
    assert_eq!(unknown["result"], "not_found");
    assert!(unknown["prompt"].starts_with("We found no such request"));
}

/// A person index that answers too late.
struct Stuck;

#[async_trait::async_trait]
impl PersonIndex for Stuck {
    async fn requests_of(&self, _person_key: &str) -> Result<Vec<RequestId>, PortError> {
        tokio::time::sleep(Duration::from_secs(30)).await;
        Ok(Vec::new())
    }
}

#[tokio::test]
async fn a_slow_store_is_answered_with_the_spoken_fallback_in_time() {
    let mut deps = deps(Arc::new(Stuck), Arc::new(MemoryStore::default()));
    deps.budget = Duration::from_millis(200);
    let started = std::time::Instant::now();
    let answer = handle(
        &deps,
        fixture(include_str!("../../../events/connect/ivr-open-cases.json")),
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(answer["result"], "fallback");
    assert!(answer["prompt"].contains("konsultantem"));
    // Not a Connect event at all: the fallback too, never an error.
    let odd = handle(&deps, serde_json::json!({"hello": "world"})).await;
    assert_eq!(odd["result"], "fallback");
}
