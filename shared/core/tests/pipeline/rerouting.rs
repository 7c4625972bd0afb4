//! A request routed again: handed back, unlinked, decided by an operator,
//! and routed by what history taught.

use super::world::*;
use citydesk_core::ids::{DepartmentCode, ServiceCode};
use citydesk_core::memory::*;
use citydesk_core::messages::PipelineMessage;
use citydesk_core::ports::{Clock, RequestStore};
use citydesk_core::status::Status;
use citydesk_core::usecases::classify_request::{ClassifyOutcome, classify_request};
use citydesk_core::usecases::department_work::{DepartmentError, list_assignments};
use citydesk_core::usecases::route_request::{RouteOutcome, route_request};
use citydesk_core::usecases::submit_request::submit_request;
use futures_executor::block_on;

#[test]
fn a_department_hands_a_request_back_and_it_goes_elsewhere() {
    use citydesk_core::usecases::department_work::hand_back;
    let w = World::new();
    // Graffiti in the Old Town goes to the heritage conservator first.
    let (request, outcome) = submit_and_route(&w, report("graffiti", 50.0614, 19.9366));
    assert_eq!(
        outcome,
        RouteOutcome::Assigned {
            department: "heritage".into()
        }
    );
    let heritage = DepartmentCode::parse("heritage").unwrap();
    w.sent();
    let handed = block_on(hand_back(
        &w.dept(),
        &heritage,
        &request.case_number,
        Some("Not a listed building".into()),
    ))
    .unwrap();
    assert_eq!(handed.status, Status::Triaged);
    assert_eq!(handed.declined_departments, vec![heritage.clone()]);
    assert_eq!(
        w.sent(),
        vec![PipelineMessage::RequestClassified {
            request_id: request.id.clone()
        }]
    );
    // The clerk's retry is harmless; the department no longer sees it.
    block_on(hand_back(&w.dept(), &heritage, &request.case_number, None)).unwrap();
    assert!(
        block_on(list_assignments(
            &w.store,
            &heritage,
            &Default::default(),
            &Default::default(),
            w.clock.now(),
        ))
        .unwrap()
        .items
        .is_empty()
    );
    assert_eq!(
        block_on(route_request(&w.route(), &request.id)).unwrap(),
        RouteOutcome::Assigned {
            department: "waste".into()
        }
    );
    // When the last department hands it back too, a person decides.
    let waste = DepartmentCode::parse("waste").unwrap();
    block_on(hand_back(&w.dept(), &waste, &request.case_number, None)).unwrap();
    assert_eq!(
        block_on(route_request(&w.route(), &request.id)).unwrap(),
        RouteOutcome::Triaged
    );
    let stored = block_on(w.store.get(&request.id)).unwrap().unwrap();
    assert_eq!(stored.status, Status::Triaged);
    assert_eq!(stored.department, None);
    // Another department cannot hand back what is not theirs.
    let roads = DepartmentCode::parse("roads").unwrap();
    assert!(matches!(
        block_on(hand_back(&w.dept(), &roads, &request.case_number, None)),
        Err(DepartmentError::NotFound(_))
    ));
    // The contact centre decides it is graffiti after all: a person's choice
    // stands over the refusals, and the request is routed again.
    let examples = MemoryTrainingExamples::default();
    let triage = citydesk_core::usecases::triage::Triage {
        store: &w.store,
        clock: &w.clock,
        examples: &examples,
        catalogues: &w.catalogues,
        staff: &CLERK,
    };
    let operators = DepartmentCode::parse("contact-centre").unwrap();
    block_on(citydesk_core::usecases::triage::choose_service(
        &triage,
        &operators,
        &request.case_number,
        ServiceCode::parse("graffiti").unwrap(),
    ))
    .unwrap();
    assert_eq!(
        block_on(route_request(&w.route(), &request.id)).unwrap(),
        RouteOutcome::Assigned {
            department: "heritage".into()
        }
    );
}

#[test]
fn an_unlink_routes_the_follower_and_a_retry_is_harmless() {
    use citydesk_core::usecases::department_work::unlink_follower;
    let w = World::new();
    let (first, _) = submit_and_route(&w, report("fallen-tree", 50.0614, 19.9366));
    let (second, outcome) = submit_and_route(&w, report("fallen-tree", 50.0615, 19.9366));
    assert!(matches!(outcome, RouteOutcome::Duplicate { .. }));
    let greenery = DepartmentCode::parse("greenery").unwrap();
    w.sent();
    block_on(unlink_follower(
        &w.dept(),
        &greenery,
        &first.case_number,
        &second.case_number,
    ))
    .unwrap();
    // The clerk's retry after a lost answer changes nothing.
    let original = block_on(unlink_follower(
        &w.dept(),
        &greenery,
        &first.case_number,
        &second.case_number,
    ))
    .unwrap();
    assert!(original.followers.is_empty());
    assert_eq!(
        w.sent(),
        vec![PipelineMessage::RequestClassified {
            request_id: second.id.clone()
        }]
    );
    assert!(matches!(
        block_on(route_request(&w.route(), &second.id)).unwrap(),
        RouteOutcome::Assigned { .. }
    ));
    // The original's own timeline does not look reopened.
    let last = block_on(w.store.history(&first.id)).unwrap().pop().unwrap();
    assert!(
        matches!(
            last.kind,
            citydesk_core::request::EventKind::FollowerRemoved { .. }
        ),
        "{last:?}"
    );
}

#[test]
fn an_operator_decides_a_triaged_request_and_the_choice_is_kept_for_training() {
    use citydesk_core::usecases::triage::{Triage, TriageError, choose_service, triage_queue};
    let w = World::new();
    let examples = MemoryTrainingExamples::default();
    let triage = Triage {
        store: &w.store,
        clock: &w.clock,
        examples: &examples,
        catalogues: &w.catalogues,
        staff: &CLERK,
    };
    let mut vague = pothole_text(None);
    vague.description = "Proszę o kontakt w sprawie hałasu i dziury".into();
    let request = block_on(submit_request(&w.intake(), vague))
        .unwrap()
        .request;
    assert_eq!(
        block_on(classify_request(&w.classify(), &request.id)).unwrap(),
        ClassifyOutcome::Triaged
    );
    let operators = DepartmentCode::parse("contact-centre").unwrap();
    let waiting = block_on(triage_queue(
        &triage,
        &w.store,
        &operators,
        &Default::default(),
    ))
    .unwrap()
    .items;
    assert_eq!(waiting.len(), 1);
    assert!(
        !waiting[0].suggestions.is_empty(),
        "the operator sees the classifier's suggestions"
    );
    // Only the city's triage department works the queue.
    let roads = DepartmentCode::parse("roads").unwrap();
    assert!(matches!(
        block_on(triage_queue(&triage, &w.store, &roads, &Default::default())),
        Err(TriageError::NotTriageDepartment)
    ));
    assert!(matches!(
        block_on(choose_service(
            &triage,
            &operators,
            &request.case_number,
            ServiceCode::parse("teleport").unwrap()
        )),
        Err(TriageError::UnknownService(_))
    ));
    w.sent();
    let noise = ServiceCode::parse("noise").unwrap();
    block_on(choose_service(
        &triage,
        &operators,
        &request.case_number,
        noise.clone(),
    ))
    .unwrap();
    // Repeating the same choice changes nothing but is answered alike; the
    // committed choice alone sends it to routing.
    block_on(choose_service(
        &triage,
        &operators,
        &request.case_number,
        noise.clone(),
    ))
    .unwrap();
    assert_eq!(
        w.sent(),
        vec![PipelineMessage::RequestClassified {
            request_id: request.id.clone()
        }]
    );
    assert_eq!(
        block_on(route_request(&w.route(), &request.id)).unwrap(),
        RouteOutcome::Assigned {
            department: "city-guard".into()
        }
    );
    let kept = examples.examples.lock().unwrap().clone();
    assert_eq!(kept.len(), 1);
    assert_eq!(
        (kept[0].service_code.as_str(), kept[0].text.as_str()),
        ("noise", "Proszę o kontakt w sprawie hałasu i dziury")
    );
    assert!(
        block_on(triage_queue(
            &triage,
            &w.store,
            &operators,
            &Default::default()
        ))
        .unwrap()
        .items
        .is_empty()
    );
}

#[test]
fn the_route_step_uses_routes_learned_from_history_under_the_rules() {
    use citydesk_core::learning::artifact::Model;
    use citydesk_core::learning::routing_table::{HandledCase, LearnedRoutes};
    use citydesk_core::learning::training::{TrainingOptions, catalogue_examples, train};
    let mut w = World::new();
    // In the city's history, the roads authority cleared fallen trees in the Old Town.
    // Elsewhere (Nowa Huta, more often) the greenery authority did.
    let case = |district: &str, department: &str| HandledCase {
        service: "fallen-tree".into(),
        subtype: None,
        text: "drzewo przewrócone".into(),
        district: Some(district.into()),
        received_at: None,
        department: department.into(),
    };
    let history: Vec<HandledCase> = std::iter::repeat_n(case("stare-miasto", "roads"), 3)
        .chain(std::iter::repeat_n(case("nowa-huta", "greenery"), 4))
        .collect();
    let examples = catalogue_examples(&w.catalogue);
    w.models = citydesk_core::learning::CityModels::new(vec![Model {
        jurisdiction: "krakow".into(),
        version: "test".into(),
        history_examples: 7,
        catalogue_examples: examples.len() as u64,
        classifier: train(&examples, &TrainingOptions::default()).unwrap(),
        routes: LearnedRoutes::learn(&history),
    }]);
    let (_, outcome) = submit_and_route(&w, report("fallen-tree", 50.0614, 19.9366));
    assert_eq!(
        outcome,
        RouteOutcome::Assigned {
            department: "roads".into()
        }
    );
    let (_, outcome) = submit_and_route(&w, report("fallen-tree", 50.09, 20.1));
    assert_eq!(
        outcome,
        RouteOutcome::Assigned {
            department: "greenery".into()
        }
    );
}
