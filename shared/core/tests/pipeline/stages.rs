//! Each stage, and the whole way, with repeated deliveries.

use super::world::*;
use citydesk_core::contact::{Contact, PhoneNumber};
use citydesk_core::ids::{CaseNumber, DepartmentCode, ServiceCode};
use citydesk_core::memory::*;
use citydesk_core::messages::PipelineMessage;
use citydesk_core::ports::{Clock, IdempotencyClaim, RequestStore};
use citydesk_core::status::Status;
use citydesk_core::usecases::build_report::{Reporting, build_daily_report};
use citydesk_core::usecases::classify_request::{Classify, ClassifyOutcome, classify_request};
use citydesk_core::usecases::department_work::{
    DepartmentError, StatusUpdate, list_assignments, update_status,
};
use citydesk_core::usecases::notify_citizen::{NotifyOutcome, notify_citizen};
use citydesk_core::usecases::route_request::{RouteOutcome, route_request};
use citydesk_core::usecases::submit_request::{SubmitError, submit_request};
use futures_executor::block_on;

#[test]
fn a_request_goes_all_the_way_and_repeats_are_harmless() {
    let w = World::new();
    let submitted = block_on(submit_request(&w.intake(), pothole_text(Some("k1")))).unwrap();
    assert!(submitted.created);
    assert_eq!(submitted.request.status, Status::New);
    let id = submitted.request.id.clone();
    assert_eq!(
        w.sent(),
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

    // The confirmation carries the citizen's tracking link, and the token in it works.
    assert_eq!(
        block_on(notify_citizen(&w.notify(), &id, 1)).unwrap(),
        NotifyOutcome::SentSms
    );
    let confirmation = w.messenger.sent().pop().unwrap();
    let link = format!(
        "https://311.krakow.example/v1/requests/{}?token={}",
        submitted.request.case_number,
        submitted.tracking_token.expose()
    );
    assert!(confirmation.body.contains(&link), "{}", confirmation.body);
    w.messenger.sent.lock().unwrap().clear();

    // Same key, same payload: the same request and token, nothing new stored.
    let again = block_on(submit_request(&w.intake(), pothole_text(Some("k1")))).unwrap();
    assert!(!again.created);
    assert_eq!(again.request.id, id);
    assert_eq!(
        again.tracking_token.expose(),
        submitted.tracking_token.expose()
    );
    assert_eq!(w.store.request_count(), 1);
    w.sent();

    // Classification finds the pothole service; a second delivery changes nothing.
    let outcome = block_on(classify_request(&w.classify(), &id)).unwrap();
    assert_eq!(outcome, ClassifyOutcome::Classified);
    let stored = block_on(w.store.get(&id)).unwrap().unwrap();
    assert_eq!(
        stored.service_code.as_ref().map(|s| s.as_str()),
        Some("pothole")
    );
    let version = stored.version;
    block_on(classify_request(&w.classify(), &id)).unwrap();
    assert_eq!(
        block_on(w.store.get(&id)).unwrap().unwrap().version,
        version
    );
    w.sent();

    // Routing assigns to the roads department of the district, sends to its queue.
    let routed = block_on(route_request(&w.route(), &id)).unwrap();
    assert_eq!(
        routed,
        RouteOutcome::Assigned {
            department: "roads".into()
        }
    );
    let assigned = block_on(w.store.get(&id)).unwrap().unwrap();
    assert_eq!(assigned.status, Status::Assigned);
    // 72 working hours from Friday 10:30 in Kraków: office days only, 07:30-15:30.
    assert_eq!(assigned.due_at.unwrap().to_string(), "2026-12-10T09:30:00Z");
    let dept_msgs = w.department_messages();
    assert_eq!(dept_msgs.len(), 1);
    assert_eq!(dept_msgs[0].0, "roads");
    let notify_msgs = w.sent();
    let PipelineMessage::StatusChanged { seq, .. } = notify_msgs[0] else {
        panic!("expected a status change, got {notify_msgs:?}");
    };

    // The citizen is told once, even when the message comes twice.
    assert_eq!(
        block_on(notify_citizen(&w.notify(), &id, seq)).unwrap(),
        NotifyOutcome::SentSms
    );
    assert_eq!(
        block_on(notify_citizen(&w.notify(), &id, seq)).unwrap(),
        NotifyOutcome::AlreadySent
    );
    let sent = w.messenger.sent();
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].body.contains(assigned.case_number.as_str()),
        "{}",
        sent[0].body
    );
    assert!(sent[0].body.contains("Zarząd Dróg"), "{}", sent[0].body);

    // The department works it; another department cannot see or touch it.
    let roads = DepartmentCode::parse("roads").unwrap();
    let parks = DepartmentCode::parse("greenery").unwrap();
    assert_eq!(
        block_on(list_assignments(
            &w.store,
            &roads,
            &Default::default(),
            &Default::default(),
            w.clock.now(),
        ))
        .unwrap()
        .items
        .len(),
        1
    );
    assert!(
        block_on(list_assignments(
            &w.store,
            &parks,
            &Default::default(),
            &Default::default(),
            w.clock.now(),
        ))
        .unwrap()
        .items
        .is_empty()
    );
    let update = |status, note: Option<&str>| StatusUpdate {
        case_number: assigned.case_number.clone(),
        status,
        note: note.map(Into::into),
    };
    let foreign = block_on(update_status(
        &w.dept(),
        &parks,
        update(Status::Acknowledged, None),
    ));
    assert!(matches!(foreign, Err(DepartmentError::NotFound(_))));
    let missing = block_on(update_status(
        &w.dept(),
        &roads,
        StatusUpdate {
            case_number: CaseNumber::parse("2222-2222").unwrap(),
            status: Status::Acknowledged,
            note: None,
        },
    ));
    assert!(matches!(missing, Err(DepartmentError::NotFound(_))));
    block_on(update_status(
        &w.dept(),
        &roads,
        update(Status::Acknowledged, None),
    ))
    .unwrap();
    let no_note = block_on(update_status(
        &w.dept(),
        &roads,
        update(Status::Resolved, None),
    ));
    assert!(matches!(
        no_note,
        Err(DepartmentError::StatusNoteMissing(Status::Resolved, _))
    ));
    let resolved = block_on(update_status(
        &w.dept(),
        &roads,
        update(Status::Resolved, Some("Ubytek załatany.")),
    ))
    .unwrap();
    assert_eq!(resolved.status, Status::Resolved);
    assert!(
        block_on(list_assignments(
            &w.store,
            &roads,
            &Default::default(),
            &Default::default(),
            w.clock.now(),
        ))
        .unwrap()
        .items
        .is_empty()
    );
    let illegal = block_on(update_status(
        &w.dept(),
        &roads,
        update(Status::InProgress, None),
    ));
    assert!(matches!(illegal, Err(DepartmentError::Illegal(_))));

    // Closed: the contact is kept for the city's retention after closure
    // (two years by default), then readers treat it as gone.
    w.sent();
    // The clerk's two changes are in the audit trail, once each, without
    // the resolution's text; the system's own steps are not.
    let audited: Vec<_> = w
        .audit
        .all()
        .into_iter()
        .filter(|r| r.case_numbers == [assigned.case_number.clone()])
        .collect();
    assert_eq!(
        audited
            .iter()
            .map(|r| (r.subject.as_str(), r.detail.as_str()))
            .collect::<Vec<_>>(),
        [
            ("clerk-1", "assigned → acknowledged"),
            ("clerk-1", "acknowledged → resolved")
        ]
    );
    assert!(audited.iter().all(|r| !r.detail.contains("Ubytek")));
    let kept_until = w
        .store
        .contact_retained_until(&id)
        .expect("a retention date");
    let resolved_at = resolved.resolved_at.unwrap();
    assert_eq!(
        kept_until,
        resolved_at
            .checked_add(jiff::SignedDuration::from_hours(730 * 24))
            .unwrap()
    );

    // The resolution reaches the citizen.
    let last = block_on(w.store.history(&id)).unwrap().last().unwrap().seq;
    block_on(notify_citizen(&w.notify(), &id, last)).unwrap();
    assert!(
        w.messenger
            .sent()
            .last()
            .unwrap()
            .body
            .contains("Ubytek załatany.")
    );

    // The report for the day counts it, once.
    let reporting = Reporting {
        store: &w.store,
        contacts: Some(&w.store),
        blobs: &w.blobs,
        clock: &w.clock,
        catalogue: &w.catalogue,
    };
    let date = "2026-11-27".parse().unwrap();
    let written = block_on(build_daily_report(&reporting, date)).unwrap();
    assert!(written.created);
    assert_eq!(written.json_key, "reports/krakow/daily/2026-11-27.json");
    let report: serde_json::Value =
        serde_json::from_slice(&w.blobs.get(&written.json_key).unwrap()).unwrap();
    assert_eq!(report["total"], 1);
    assert_eq!(report["by_department"]["roads"], 1);
    assert_eq!(report["by_status"]["resolved"], 1);
    assert!(
        !block_on(build_daily_report(&reporting, date))
            .unwrap()
            .created
    );
    let csv = String::from_utf8(w.blobs.get(&written.csv_key).unwrap()).unwrap();
    assert!(csv.contains("service,pothole,1"), "{csv}");
}

#[test]
fn idempotency_key_with_another_payload_is_refused() {
    let w = World::new();
    block_on(submit_request(&w.intake(), pothole_text(Some("k2")))).unwrap();
    let mut other = pothole_text(Some("k2"));
    other.idempotency = Some(IdempotencyClaim {
        key: "k2".into(),
        payload_hash: "hash-b".into(),
    });
    let err = block_on(submit_request(&w.intake(), other)).unwrap_err();
    assert!(matches!(err, SubmitError::IdempotencyKeyReused));
}

#[test]
fn unclear_text_is_triaged_and_unknown_service_refused() {
    let w = World::new();
    let mut vague = pothole_text(None);
    vague.description = "Proszę o kontakt w sprawie".into();
    let id = block_on(submit_request(&w.intake(), vague))
        .unwrap()
        .request
        .id;
    assert_eq!(
        block_on(classify_request(&w.classify(), &id)).unwrap(),
        ClassifyOutcome::Triaged
    );
    assert_eq!(
        block_on(w.store.get(&id)).unwrap().unwrap().status,
        Status::Triaged
    );
    // The citizen hears it is with a person; a repeated delivery changes nothing.
    let notice = w.sent().pop().unwrap();
    assert!(
        matches!(notice, PipelineMessage::StatusChanged { seq: 2, .. }),
        "{notice:?}"
    );
    assert_eq!(
        block_on(classify_request(&w.classify(), &id)).unwrap(),
        ClassifyOutcome::NothingToDo(Status::Triaged)
    );
    assert!(w.sent().is_empty());

    let mut unknown = pothole_text(None);
    unknown.service_code = Some(ServiceCode::parse("teleport").unwrap());
    let err = block_on(submit_request(&w.intake(), unknown)).unwrap_err();
    assert!(matches!(err, SubmitError::UnknownService(_)));
}

#[test]
fn a_failed_dispatch_is_retried_not_lost_and_not_doubled() {
    let w = World::new();
    let id = block_on(submit_request(&w.intake(), pothole_text(None)))
        .unwrap()
        .request
        .id;
    block_on(classify_request(&w.classify(), &id)).unwrap();
    w.sent();
    block_on(route_request(&w.route(), &id)).unwrap();
    w.queues
        .failing
        .store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(w.dispatch().is_err());
    w.queues
        .failing
        .store(false, std::sync::atomic::Ordering::SeqCst);
    // The stream delivers the assignment again; a redelivered route message changes nothing.
    assert_eq!(w.department_messages().len(), 1);
    assert_eq!(
        block_on(route_request(&w.route(), &id)).unwrap(),
        RouteOutcome::NothingToDo(Status::Assigned)
    );
    w.dispatch().unwrap();
    assert_eq!(w.department_messages().len(), 1);
    // Every committed change reached the bus once, under its own event id.
    let ids: Vec<String> = w
        .bus
        .published()
        .iter()
        .map(|e| e.detail.event_id.clone())
        .collect();
    assert_eq!(
        ids,
        vec![format!("{id}/1"), format!("{id}/2"), format!("{id}/3")]
    );
}

#[test]
fn failed_sms_releases_the_claim_for_the_retry() {
    let w = World::new();
    let id = block_on(submit_request(&w.intake(), pothole_text(None)))
        .unwrap()
        .request
        .id;
    block_on(classify_request(&w.classify(), &id)).unwrap();
    block_on(route_request(&w.route(), &id)).unwrap();
    let seq = block_on(w.store.get(&id)).unwrap().unwrap().version;
    w.messenger
        .failing
        .store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(block_on(notify_citizen(&w.notify(), &id, seq)).is_err());
    w.messenger
        .failing
        .store(false, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        block_on(notify_citizen(&w.notify(), &id, seq)).unwrap(),
        NotifyOutcome::SentSms
    );
    assert_eq!(w.messenger.sent().len(), 1);
}

#[test]
fn a_second_report_nearby_follows_the_open_one_and_its_citizen_is_told() {
    let w = World::new();
    let (first, outcome) = submit_and_route(&w, report("fallen-tree", 50.0614, 19.9366));
    assert!(
        matches!(outcome, RouteOutcome::Assigned { .. }),
        "{outcome:?}"
    );
    w.clock.set("2026-11-27T12:00:00Z".parse().unwrap());
    // About 22 m away, three hours later: the same fallen tree, from someone else.
    let mut again = report("fallen-tree", 50.0616, 19.9366);
    again.contact = Some(Contact {
        phone: PhoneNumber::parse("+48600100299").ok(),
        ..Contact::default()
    });
    let (second, outcome) = submit_and_route(&w, again);
    assert_eq!(
        outcome,
        RouteOutcome::Duplicate {
            original: first.case_number.to_string()
        }
    );
    assert_eq!(second.status, Status::Duplicate);
    assert_eq!(
        second.duplicate_of.as_ref().unwrap().case_number,
        first.case_number
    );
    let original = block_on(w.store.get(&first.id)).unwrap().unwrap();
    assert_eq!(original.followers.len(), 1);
    assert_eq!(original.followers[0].request_id, second.id);
    assert_eq!(original.status, Status::Assigned);
    // The follower's citizen is told which case they follow.
    assert_eq!(
        block_on(notify_citizen(&w.notify(), &second.id, second.version)).unwrap(),
        NotifyOutcome::SentSms
    );
    let told = w.messenger.sent().pop().unwrap();
    assert!(
        told.body.contains(first.case_number.as_str()),
        "{}",
        told.body
    );
    // A repeated delivery changes nothing, and adds no second follower.
    assert_eq!(
        block_on(route_request(&w.route(), &second.id)).unwrap(),
        RouteOutcome::NothingToDo(Status::Duplicate)
    );
    assert_eq!(
        block_on(w.store.get(&first.id))
            .unwrap()
            .unwrap()
            .followers
            .len(),
        1
    );
    // 200 m away is another tree; another service at the same spot is another problem.
    let (_, far) = submit_and_route(&w, report("fallen-tree", 50.0632, 19.9366));
    assert!(matches!(far, RouteOutcome::Assigned { .. }), "{far:?}");
    let (_, other) = submit_and_route(&w, report("streetlight", 50.0614, 19.9366));
    assert!(matches!(other, RouteOutcome::Assigned { .. }), "{other:?}");

    // When the original is resolved, its follower hears it too, once.
    let greenery = DepartmentCode::parse("greenery").unwrap();
    let resolved = block_on(update_status(
        &w.dept(),
        &greenery,
        StatusUpdate {
            case_number: first.case_number.clone(),
            status: Status::Resolved,
            note: Some("Drzewo usunięte.".into()),
        },
    ))
    .unwrap();
    assert_eq!(resolved.follower_count, 1);
    w.sent();
    w.messenger.sent.lock().unwrap().clear();
    // The resolution's committed event sets off the citizen's notice and the
    // followers' fan-out; delivered twice, each citizen still hears it once.
    let resolution = citydesk_core::outbox::CommittedEvent {
        request_id: first.id.clone(),
        event: block_on(w.store.history(&first.id)).unwrap().pop().unwrap(),
        snapshot: citydesk_core::outbox::RequestSnapshot::of(&resolved),
    };
    for _ in 0..2 {
        for reaction in citydesk_core::outbox::reactions::reactions(&resolution).unwrap() {
            if let citydesk_core::outbox::reactions::Reaction::Pipeline(m) = reaction {
                block_on(citydesk_core::ports::PipelineQueue::send(&w.queues, &m)).unwrap();
            }
        }
    }
    w.deliver_notifications();
    let sent = w.messenger.sent();
    let to_follower: Vec<_> = sent.iter().filter(|m| m.to == "+48600100299").collect();
    assert_eq!(to_follower.len(), 1, "{sent:?}");
    assert!(to_follower[0].body.contains(first.case_number.as_str()));
    assert!(to_follower[0].body.contains(second.case_number.as_str()));
    assert!(to_follower[0].body.contains("Drzewo usunięte."));
    assert_eq!(sent.iter().filter(|m| m.to == "+48600100200").count(), 1);
}

#[test]
fn a_sweep_out_of_time_keeps_its_place_and_the_next_one_finishes_it() {
    use citydesk_core::usecases::watch_sla::{WatchSla, watch_sla};
    let w = World::new();
    // Open work in two departments, all overdue.
    let mut due = Vec::new();
    for (service, lat) in [
        ("pothole", 50.0614),
        ("pothole", 50.0620),
        ("fallen-tree", 50.0700),
    ] {
        let (request, _) = submit_and_route(&w, report(service, lat, 19.9366));
        due.push(request.due_at.unwrap());
    }
    let late = due.iter().max().copied().unwrap() + jiff::SignedDuration::from_hours(1);
    let progress = MemorySweepProgress::default();
    let sweep = WatchSla {
        store: &w.store,
        queries: &w.store,
        progress: &progress,
        catalogues: &w.catalogues,
    };
    // The first run has time for two pages only.
    let pages = std::sync::atomic::AtomicUsize::new(0);
    let short = || pages.fetch_add(1, std::sync::atomic::Ordering::SeqCst) >= 2;
    let first = block_on(watch_sla(&sweep, late, &short)).unwrap();
    assert!(!first.finished);
    // Departments in catalogue order: the contact centre, roads (both
    // potholes), then out of time before greenery (the tree).
    assert_eq!(first.breaches, 2, "{first:?}");
    assert_eq!(
        progress
            .position
            .lock()
            .unwrap()
            .as_ref()
            .map(|p| p.department.to_string()),
        Some("greenery".to_owned()),
        "its place is kept"
    );
    // The next run goes on from there and goes round.
    let second = block_on(watch_sla(&sweep, late, &|| false)).unwrap();
    assert!(second.finished);
    assert!(progress.position.lock().unwrap().is_none());
    // Every overdue request got its breach, once, across the two runs.
    assert_eq!(second.breaches, 1, "{second:?}");
    let third = block_on(watch_sla(&sweep, late, &|| false)).unwrap();
    assert_eq!(third.breaches, 0);
}

#[test]
fn a_thousand_reports_of_one_flood_are_one_item_and_their_notices_fan_out() {
    use citydesk_core::request::MAX_LISTED_FOLLOWERS;
    use citydesk_core::usecases::tell_followers::{FOLLOWERS_PER_MESSAGE, tell_followers};
    let w = World::new();
    let (first, _) = submit_and_route(&w, report("fallen-tree", 50.0614, 19.9366));
    let followers = 60;
    for i in 0..followers {
        let mut again = report("fallen-tree", 50.0615, 19.9366);
        again.contact = Some(Contact {
            phone: PhoneNumber::parse(&format!("+486001{i:05}")).ok(),
            ..Contact::default()
        });
        let (_, outcome) = submit_and_route(&w, again);
        assert!(
            matches!(outcome, RouteOutcome::Duplicate { .. }),
            "{outcome:?}"
        );
    }
    let original = block_on(w.store.get(&first.id)).unwrap().unwrap();
    assert_eq!(original.follower_count, followers);
    assert_eq!(
        original.followers.len(),
        MAX_LISTED_FOLLOWERS,
        "the item stops growing"
    );
    // One fan-out message covers one page of followers and hands on the rest.
    let seq = original.version;
    w.sent();
    let noticed = block_on(tell_followers(&w.notify(), &first.id, seq, None)).unwrap();
    assert_eq!(noticed, FOLLOWERS_PER_MESSAGE);
    let handed_on: Vec<_> = w
        .sent()
        .into_iter()
        .filter(|m| matches!(m, PipelineMessage::TellFollowers { after: Some(_), .. }))
        .collect();
    assert_eq!(handed_on.len(), 1, "the next page is its own message");
    // Resolved: every follower hears it once, through the fan-out.
    let greenery = DepartmentCode::parse("greenery").unwrap();
    w.messenger.sent.lock().unwrap().clear();
    block_on(update_status(
        &w.dept(),
        &greenery,
        StatusUpdate {
            case_number: first.case_number.clone(),
            status: Status::Resolved,
            note: Some("Woda odpompowana.".into()),
        },
    ))
    .unwrap();
    w.deliver_notifications();
    let told: std::collections::BTreeSet<String> = w
        .messenger
        .sent()
        .into_iter()
        .filter(|m| m.body.contains("Woda odpompowana.") && m.to != "+48600100200")
        .map(|m| m.to)
        .collect();
    assert_eq!(told.len() as u64, followers);
}

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
fn the_sla_sweep_warns_then_reports_the_breach_once_each() {
    use citydesk_core::messages::SlaAlert;
    use citydesk_core::usecases::watch_sla::{WatchSla, watch_sla};
    let w = World::new();
    let (request, _) = submit_and_route(&w, report("pothole", 50.0614, 19.9366));
    let due = request.due_at.unwrap();
    let warning_at = request.sla_warning_at.unwrap();
    assert!(request.created_at < warning_at && warning_at < due);
    w.department_messages();
    let progress = MemorySweepProgress::default();
    let sweep = WatchSla {
        store: &w.store,
        queries: &w.store,
        progress: &progress,
        catalogues: &w.catalogues,
    };
    let at = |t: jiff::Timestamp| block_on(watch_sla(&sweep, t, &|| false)).unwrap();
    let before = at(warning_at
        .checked_sub(jiff::SignedDuration::from_secs(1))
        .unwrap());
    assert_eq!(
        (before.open_requests, before.warnings, before.breaches),
        (1, 0, 0)
    );
    let warned = at(warning_at);
    assert_eq!((warned.warnings, warned.breaches), (1, 0));
    assert_eq!(at(warning_at).warnings, 0, "a warning goes out once");
    let breached = at(due);
    assert_eq!((breached.warnings, breached.breaches), (0, 1));
    assert_eq!(at(due).breaches, 0, "a breach goes out once");
    let alerts: Vec<_> = w
        .department_messages()
        .into_iter()
        .filter_map(|(queue, m)| m.sla_alert.map(|a| (queue, a, m.case_number)))
        .collect();
    assert_eq!(
        alerts,
        vec![
            (
                "roads".to_owned(),
                SlaAlert::Warning,
                request.case_number.clone()
            ),
            (
                "roads".to_owned(),
                SlaAlert::Breached,
                request.case_number.clone()
            ),
        ]
    );
    let history = block_on(w.store.history(&request.id)).unwrap();
    let kinds: Vec<_> = history
        .iter()
        .map(|e| serde_json::to_value(&e.kind).unwrap()["kind"].clone())
        .collect();
    assert!(
        kinds.contains(&"sla_warning".into()) && kinds.contains(&"sla_breached".into()),
        "{kinds:?}"
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

/// A store whose first write loses to a citizen's note written a moment
/// before it (the race of a note sent right after the request).
struct NoteLandsFirst<'a> {
    inner: &'a MemoryStore,
    raced: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl RequestStore for NoteLandsFirst<'_> {
    async fn create(
        &self,
        new: &citydesk_core::ports::NewRequest,
    ) -> Result<citydesk_core::ports::CreateOutcome, citydesk_core::ports::PortError> {
        self.inner.create(new).await
    }
    async fn get(
        &self,
        id: &citydesk_core::ids::RequestId,
    ) -> Result<Option<citydesk_core::request::ServiceRequest>, citydesk_core::ports::PortError>
    {
        self.inner.get(id).await
    }
    async fn find_by_case_number(
        &self,
        case_number: &CaseNumber,
    ) -> Result<Option<citydesk_core::request::ServiceRequest>, citydesk_core::ports::PortError>
    {
        self.inner.find_by_case_number(case_number).await
    }
    async fn history(
        &self,
        id: &citydesk_core::ids::RequestId,
    ) -> Result<Vec<citydesk_core::request::HistoryEvent>, citydesk_core::ports::PortError> {
        self.inner.history(id).await
    }
    async fn apply(
        &self,
        change: &citydesk_core::request::Change,
    ) -> Result<citydesk_core::ports::ApplyOutcome, citydesk_core::ports::PortError> {
        if !self.raced.swap(true, std::sync::atomic::Ordering::SeqCst) {
            let current = self.inner.get(&change.request.id).await?.unwrap();
            let note = current.record(
                citydesk_core::request::EventKind::CitizenUpdate {
                    note: "Jeszcze jedno: dziura jest głęboka".into(),
                },
                current.updated_at,
                "citizen",
            );
            self.inner.apply(&note).await?;
        }
        self.inner.apply(change).await
    }
    async fn changes_between(
        &self,
        from: jiff::Timestamp,
        to: jiff::Timestamp,
    ) -> Result<
        Vec<(
            citydesk_core::ids::RequestId,
            citydesk_core::request::HistoryEvent,
        )>,
        citydesk_core::ports::PortError,
    > {
        self.inner.changes_between(from, to).await
    }
    async fn created_between(
        &self,
        from: jiff::Timestamp,
        to: jiff::Timestamp,
    ) -> Result<Vec<citydesk_core::request::ServiceRequest>, citydesk_core::ports::PortError> {
        self.inner.created_between(from, to).await
    }
}

#[test]
fn a_note_sent_right_after_the_request_does_not_hold_up_classification() {
    let w = World::new();
    let submitted = block_on(submit_request(&w.intake(), pothole_text(None))).unwrap();
    let id = submitted.request.id.clone();
    let racing = NoteLandsFirst {
        inner: &w.store,
        raced: Default::default(),
    };
    let classify = Classify {
        store: &racing,
        ..w.classify()
    };
    // The first write loses to the note; the step reads again and wins,
    // without waiting for the queue's next delivery.
    assert_eq!(
        block_on(classify_request(&classify, &id)).unwrap(),
        ClassifyOutcome::Classified
    );
    let history = block_on(w.store.history(&id)).unwrap();
    let kinds: Vec<_> = history
        .iter()
        .map(|e| match &e.kind {
            citydesk_core::request::EventKind::CitizenUpdate { .. } => "note",
            citydesk_core::request::EventKind::Classified { .. } => "classified",
            citydesk_core::request::EventKind::Created { .. } => "created",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["created", "note", "classified"]);
    let request = block_on(w.store.get(&id)).unwrap().unwrap();
    assert_eq!(request.service_code.unwrap().as_str(), "pothole");
}
