//! The classifier trained from the demo city's catalogue alone (no history), as
//! a city gets it on day one: it places clear Polish and English free text, and
//! leaves to a person what asks for no service.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use citydesk_core::catalogue::{Catalogue, CatalogueDocument};
use citydesk_core::learning::artifact::Model;
use citydesk_core::learning::training::{TrainingOptions, catalogue_examples, train};
use citydesk_core::rules::classification::TrainedClassifier;

const TOML: &str = include_str!("../../../infra/demo-city/catalogue.toml");
const GEOJSON: &str = include_str!("../../../infra/demo-city/districts.geojson");

fn classifier() -> TrainedClassifier {
    let catalogue =
        Catalogue::new(CatalogueDocument::from_sources(TOML, GEOJSON).unwrap()).unwrap();
    let examples = catalogue_examples(&catalogue);
    let model = Model {
        jurisdiction: "krakow".into(),
        version: "test".into(),
        history_examples: 0,
        catalogue_examples: examples.len() as u64,
        classifier: train(&examples, &TrainingOptions::default()).unwrap(),
        routes: Default::default(),
    };
    TrainedClassifier::new(&model, &catalogue)
}

/// The classify step's default threshold.
const THRESHOLD: f64 = 0.35;

#[test]
fn clear_free_text_is_placed_with_confidence() {
    let c = classifier();
    for (text, service) in [
        (
            "Na ulicy Długiej przy szkole jest ogromna dziura w jezdni",
            "pothole",
        ),
        (
            "There is a huge pothole in the road outside the school",
            "pothole",
        ),
        (
            "Od tygodnia nie świeci latarnia przed blokiem",
            "streetlight",
        ),
        ("Loud music and a party next door", "noise"),
        ("Ktoś porzucił gruz i opony w lesie", "illegal-dumping"),
    ] {
        let top = c.top(text, 3);
        assert_eq!(top[0].service_code.as_str(), service, "{text}: {top:?}");
        assert!(top[0].confidence >= THRESHOLD, "{text}: {top:?}");
        assert!(
            top.len() == 3
                && top[0].confidence >= top[1].confidence
                && top[1].confidence >= top[2].confidence
        );
    }
}

#[test]
fn text_that_asks_for_no_service_is_left_to_a_person() {
    let c = classifier();
    for text in [
        "Proszę o pilny kontakt",
        "Dzień dobry, chciałabym porozmawiać z kimś z urzędu",
        "Hello, can somebody call me back please",
    ] {
        let top = c.top(text, 3);
        assert!(
            top.first().is_none_or(|t| t.confidence < THRESHOLD),
            "{text}: {top:?}"
        );
    }
}
