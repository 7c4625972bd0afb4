//! Duplicates (a nearby report follows the open one, a flood is one item)
//! and the SLA sweep (warning and breach once each, resumable).

use super::world::*;
use citydesk_core::contact::{Contact, PhoneNumber};
use citydesk_core::ids::DepartmentCode;
use citydesk_core::memory::*;
use citydesk_core::messages::PipelineMessage;
use citydesk_core::ports::RequestStore;
use citydesk_core::status::Status;
use citydesk_core::usecases::department_work::{StatusUpdate, update_status};
use citydesk_core::usecases::notify_citizen::{NotifyOutcome, notify_citizen};
use citydesk_core::usecases::route_request::{RouteOutcome, route_request};
use futures_executor::block_on;

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
fn me_too_follows_the_chosen_report_however_far_and_only_while_it_is_open() {
    let w = World::new();
    // Potholes have no duplicate settings: only the resident's choice links them.
    let (first, _) = submit_and_route(&w, report("pothole", 50.0700, 19.9350));
    assert_eq!(first.status, Status::Assigned);
    // About 200 m away, "me too" on the first.
    let mut me_too = report("pothole", 50.0718, 19.9350);
    me_too.follows = Some(first.case_number.clone());
    let (second, outcome) = submit_and_route(&w, me_too);
    assert_eq!(
        outcome,
        RouteOutcome::Duplicate {
            original: first.case_number.to_string()
        }
    );
    assert!(second.follows.is_none(), "the choice is spent once linked");
    assert_eq!(second.duplicate_of.unwrap().case_number, first.case_number);
    // "Me too" on the follower follows the original it follows.
    let mut third = report("pothole", 50.0701, 19.9351);
    third.follows = Some(second.case_number.clone());
    let (third, _) = submit_and_route(&w, third);
    assert_eq!(third.duplicate_of.unwrap().case_number, first.case_number);
    let original = block_on(w.store.get(&first.id)).unwrap().unwrap();
    assert_eq!(original.follower_count, 2);
    // Without a choice, the same place makes a new case.
    let (apart, _) = submit_and_route(&w, report("pothole", 50.0718, 19.9350));
    assert_eq!(apart.status, Status::Assigned);
    // Another service's case, or one closed meanwhile, is not followed: routed as new.
    let mut other = report("streetlight", 50.0718, 19.9350);
    other.follows = Some(first.case_number.clone());
    let (other, _) = submit_and_route(&w, other);
    assert_eq!(other.status, Status::Assigned);
    block_on(update_status(
        &w.dept(),
        &DepartmentCode::parse("roads").unwrap(),
        StatusUpdate {
            case_number: apart.case_number.clone(),
            status: Status::Rejected,
            note: Some("Nie nasza droga.".into()),
        },
    ))
    .unwrap();
    let mut late = report("pothole", 50.0718, 19.9350);
    late.follows = Some(apart.case_number.clone());
    let (late, _) = submit_and_route(&w, late);
    assert_eq!(late.status, Status::Assigned);
    assert!(late.duplicate_of.is_none());
    // A report of a service whose reports are private is never shown, so
    // it cannot be followed, even by a form naming its case number.
    let (noise, _) = submit_and_route(&w, report("noise", 50.0700, 19.9350));
    let mut crafted = report("noise", 50.0700, 19.9350);
    crafted.follows = Some(noise.case_number.clone());
    let (crafted, _) = submit_and_route(&w, crafted);
    assert!(crafted.duplicate_of.is_none());
    assert_eq!(crafted.status, Status::Assigned);
}

#[test]
fn open_problems_nearby_are_the_public_ones_nearest_first() {
    use citydesk_core::location::GeoPoint;
    use citydesk_core::ports::Clock;
    use citydesk_core::usecases::citizen_portal::open_nearby;
    let w = World::new();
    let (near, _) = submit_and_route(&w, report("pothole", 50.0701, 19.9350));
    let (nearer, _) = submit_and_route(&w, report("pothole", 50.0700, 19.9351));
    let mut private = report("pothole", 50.0700, 19.9350);
    private.privacy_requested = true;
    let (private, _) = submit_and_route(&w, private);
    let (_far, _) = submit_and_route(&w, report("pothole", 50.0800, 19.9350));
    let (_noise, _) = submit_and_route(&w, report("noise", 50.0700, 19.9350));
    let here = GeoPoint {
        lat: 50.0700,
        long: 19.9350,
    };
    let pothole = citydesk_core::ids::ServiceCode::parse("pothole").unwrap();
    let shown = block_on(open_nearby(
        &w.store,
        &w.catalogue,
        &pothole,
        here,
        w.clock.now(),
    ))
    .unwrap();
    let cases: Vec<_> = shown.iter().map(|r| r.case_number.clone()).collect();
    // Nearest first; the one 1 km away is not near; the private one is shown without its words.
    assert_eq!(
        cases,
        [
            private.case_number.clone(),
            nearer.case_number,
            near.case_number
        ]
    );
    assert_eq!(shown[0].description, "");
    assert_eq!(shown[1].description, "Zgłoszenie");
    // A service whose reports are private shows none.
    let noise = citydesk_core::ids::ServiceCode::parse("noise").unwrap();
    assert!(
        block_on(open_nearby(
            &w.store,
            &w.catalogue,
            &noise,
            here,
            w.clock.now()
        ))
        .unwrap()
        .is_empty()
    );
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
