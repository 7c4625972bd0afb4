//! The report handler on the schedule fixtures over in-memory ports.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use citydesk_core::catalogue::{Catalogue, CatalogueDocument};
use citydesk_core::language::Language;
use citydesk_core::location::Location;
use citydesk_core::memory::{ManualClock, MemoryBlobs, MemoryStore, SequentialIds};
use citydesk_core::request::Channel;
use citydesk_core::usecases::submit_request::{Intake, RequestSubmission, submit_request};
use citydesk_report::{Deps, TriggerError, handle};

#[tokio::test]
async fn fixtures_report_the_right_day_once() {
    let catalogue = Catalogue::new(
        CatalogueDocument::from_sources(
            include_str!("../../../infra/demo-city/catalogue.toml"),
            include_str!("../../../infra/demo-city/districts.geojson"),
        )
        .unwrap(),
    )
    .unwrap();
    let store = Arc::new(MemoryStore::default());
    // 23:30 UTC on 26 Nov is 00:30 on 27 Nov in Kraków: it belongs to the 27th.
    let clock = Arc::new(ManualClock::at("2026-11-26T23:30:00Z".parse().unwrap()));
    let ids = SequentialIds::default();
    let intake = Intake {
        store: store.as_ref(),
        clock: clock.as_ref(),
        ids: &ids,
        catalogue: &catalogue,
    };
    for channel in [Channel::Web, Channel::Sms, Channel::Phone] {
        let submission = RequestSubmission {
            channel,
            service_code: citydesk_core::ids::ServiceCode::parse("noise").ok(),
            description: "Głośna muzyka".into(),
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
        submit_request(&intake, submission).await.unwrap();
    }
    // Three contacts the operators answered from the knowledge base: two on
    // the 27th in Kraków (one of them 23:40 UTC on the 26th), one on the 28th.
    for (id, at) in [
        ("call-1", "2026-11-26T23:40:00Z"),
        ("call-2", "2026-11-27T15:00:00Z"),
        ("call-3", "2026-11-27T23:10:00Z"),
    ] {
        citydesk_core::ports::ContactLog::record(
            store.as_ref(),
            &citydesk_core::usecases::operator_desk::ContactRecord {
                id: id.into(),
                at: at.parse().unwrap(),
                channel: Channel::Phone,
                language: Language::Pl,
                articles: vec![
                    citydesk_core::knowledge::ArticleId::parse("dog-registration").unwrap(),
                ],
                service_code: None,
                outcome:
                    citydesk_core::usecases::operator_desk::ContactOutcome::ResolvedAtFirstContact,
                operator: "operator-1".into(),
            },
        )
        .await
        .unwrap();
    }
    clock.set(
        "2026-11-28T00:05:00+01:00"
            .parse::<jiff::Timestamp>()
            .unwrap(),
    );
    let blobs = Arc::new(MemoryBlobs::default());
    let deps = Deps {
        store: store.clone(),
        blobs: blobs.clone(),
        clock,
        catalogues: citydesk_core::catalogue::Catalogues::single(catalogue),
        contacts: store.clone(),
    };

    // The nightly input (no date) reports the previous day in the city's time zone.
    let nightly: serde_json::Value =
        serde_json::from_str(include_str!("../../../events/schedule/daily-report.json")).unwrap();
    let out = handle(&deps, nightly.clone()).await.unwrap();
    assert_eq!(out["reports"][0]["date"], "2026-11-27");
    assert_eq!(out["reports"][0]["created"], true);
    let report: serde_json::Value =
        serde_json::from_slice(&blobs.get("reports/krakow/daily/2026-11-27.json").unwrap())
            .unwrap();
    assert_eq!(report["total"], 3);
    assert_eq!(report["by_channel"]["sms"], 1);
    assert_eq!(report["by_service"]["noise"], 3);
    // Two answered at first contact, one registered by phone: two thirds.
    assert_eq!(report["first_contact"]["answered"], 2);
    assert_eq!(report["first_contact"]["registered"], 1);
    let rate = report["first_contact"]["resolution_rate"].as_f64().unwrap();
    assert!((rate - 2.0 / 3.0).abs() < 1e-9, "{rate}");
    let csv = String::from_utf8(blobs.get("reports/krakow/daily/2026-11-27.csv").unwrap()).unwrap();
    assert!(csv.contains("first_contact,resolution_rate,0.667"), "{csv}");
    assert_eq!(
        handle(&deps, nightly).await.unwrap()["reports"][0]["created"],
        false
    );

    let dated: serde_json::Value = serde_json::from_str(include_str!(
        "../../../events/schedule/report-for-date.json"
    ))
    .unwrap();
    assert_eq!(
        handle(&deps, dated).await.unwrap()["reports"][0]["created"],
        false,
        "the same day, already archived"
    );

    let bad = handle(&deps, serde_json::json!({"date": "27.11.2026"}))
        .await
        .unwrap_err();
    assert!(matches!(bad, TriggerError::Input(_)), "{bad}");
}
