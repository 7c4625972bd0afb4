//! The SLA sweep's trigger: the schedule's time, a chosen time, or bad input.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use citydesk_aws::deadline::Deadline;
use citydesk_core::catalogue::{Catalogue, CatalogueDocument, Catalogues};
use citydesk_core::memory::{ManualClock, MemoryStore};
use citydesk_sla_watch::{Deps, TriggerError, handle};

fn deps() -> Deps {
    let catalogue = Catalogue::new(
        CatalogueDocument::from_sources(
            include_str!("../../../infra/demo-city/catalogue.toml"),
            include_str!("../../../infra/demo-city/districts.geojson"),
        )
        .unwrap(),
    )
    .unwrap();
    let store = Arc::new(MemoryStore::default());
    Deps {
        store: store.clone(),
        queries: store,
        progress: Arc::new(citydesk_core::memory::MemorySweepProgress::default()),
        clock: Arc::new(ManualClock::at("2026-11-30T08:00:00Z".parse().unwrap())),
        catalogues: Catalogues::single(catalogue),
    }
}

#[tokio::test]
async fn judges_the_time_it_is_given_or_its_clock() {
    let deps = deps();
    let out = handle(
        &deps,
        serde_json::json!({"now": "2026-12-01T10:15:00Z"}),
        Deadline::none(),
    )
    .await
    .unwrap();
    assert_eq!(out["now"], "2026-12-01T10:15:00Z");
    assert_eq!(out["open_requests"], 0);
    let out = handle(&deps, serde_json::Value::Null, Deadline::none())
        .await
        .unwrap();
    assert_eq!(out["now"], "2026-11-30T08:00:00Z");
}

#[tokio::test]
async fn a_time_that_is_not_one_is_refused_with_the_expected_shape() {
    let err = handle(
        &deps(),
        serde_json::json!({"now": "yesterday"}),
        Deadline::none(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, TriggerError::Input(_)));
    assert!(err.to_string().contains("2026-11-30T08:00:00Z"), "{err}");
}
