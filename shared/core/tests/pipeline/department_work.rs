//! A department works its cases: filters, who works it, internal notes,
//! waiting for the citizen with the clock paused, transfer, reject, reopen,
//! and stale writes refused.

use citydesk_core::audit::StaffStamp;
use citydesk_core::ids::{DepartmentCode, ServiceCode};
use citydesk_core::paging::PageRequest;
use citydesk_core::ports::{Clock, RequestStore};
use citydesk_core::request::EventKind;
use citydesk_core::status::Status;
use citydesk_core::usecases::citizen_follow_up::{CitizenUpdate, FollowUp, follow_up_by_client};
use citydesk_core::usecases::department_work::{
    AssignRight, AssigneeFilter, DepartmentError, DepartmentWork, DueFilter, StatusUpdate,
    WorkFilter, assign_work, internal_note, list_assignments, read_assignment, transfer,
    update_status,
};
use citydesk_core::usecases::route_request::{RouteOutcome, route_request};
use citydesk_core::usecases::watch_sla::alert_due;
use citydesk_core::visibility::{Audience, disclose};
use futures_executor::block_on;
use jiff::SignedDuration;

use super::world::*;

fn roads() -> DepartmentCode {
    DepartmentCode::parse("roads").unwrap()
}

fn status(w: &World, case: &citydesk_core::ids::CaseNumber, to: Status, note: Option<&str>) {
    block_on(update_status(
        &w.dept(),
        &roads(),
        StatusUpdate {
            case_number: case.clone(),
            status: to,
            note: note.map(str::to_owned),
        },
    ))
    .unwrap();
}

fn listed(w: &World, filter: &WorkFilter) -> Vec<String> {
    block_on(list_assignments(
        &w.store,
        &roads(),
        filter,
        &PageRequest::default(),
        w.clock.now(),
    ))
    .unwrap()
    .items
    .iter()
    .map(|r| r.case_number.to_string())
    .collect()
}

#[test]
fn waiting_for_the_citizen_pauses_the_clock_and_their_answer_restarts_it() {
    let w = World::new();
    let (request, _) = submit_and_route(&w, report("pothole", 50.0614, 19.9366));
    let due = request.due_at.unwrap();
    let refused = block_on(update_status(
        &w.dept(),
        &roads(),
        StatusUpdate {
            case_number: request.case_number.clone(),
            status: Status::WaitingForCitizen,
            note: None,
        },
    ));
    assert!(
        matches!(
            refused,
            Err(DepartmentError::StatusNoteMissing(
                Status::WaitingForCitizen,
                _
            ))
        ),
        "{refused:?}"
    );
    status(
        &w,
        &request.case_number,
        Status::WaitingForCitizen,
        Some("Prosimy o zdjęcie ubytku"),
    );
    // Three days of waiting, long past the due time: no alert, not overdue.
    let waited = SignedDuration::from_hours(24 * 20);
    w.clock.set(w.clock.now().checked_add(waited).unwrap());
    let waiting = block_on(w.store.get(&request.id)).unwrap().unwrap();
    assert_eq!(alert_due(&waiting, w.clock.now()), None);
    let overdue = WorkFilter {
        due: Some(DueFilter::Overdue),
        ..Default::default()
    };
    assert!(listed(&w, &overdue).is_empty());
    // The citizen answers: work goes on, the due time moved by the wait.
    let answered = block_on(follow_up_by_client(
        &FollowUp {
            store: &w.store,
            clock: &w.clock,
        },
        &request.case_number,
        CitizenUpdate {
            note: Some("Zdjęcie w załączniku, dziura ma 30 cm".into()),
            fixed: None,
        },
    ))
    .unwrap();
    assert_eq!(answered.status, Status::InProgress);
    assert_eq!(answered.sla_paused_at, None);
    assert_eq!(answered.due_at, due.checked_add(waited).ok());
}

#[test]
fn a_residents_note_delivered_twice_is_added_once() {
    let w = World::new();
    let (request, _) = submit_and_route(&w, report("pothole", 50.0614, 19.9366));
    let follow = FollowUp {
        store: &w.store,
        clock: &w.clock,
    };
    let note = |text: &str| CitizenUpdate {
        note: Some(text.into()),
        fixed: None,
    };
    // A text taken again after a failure between its note and its ledger.
    for _ in 0..2 {
        block_on(follow_up_by_client(
            &follow,
            &request.case_number,
            note("Jest coraz większa"),
        ))
        .unwrap();
    }
    block_on(follow_up_by_client(
        &follow,
        &request.case_number,
        note("I druga obok"),
    ))
    .unwrap();
    // The same words a day later are a new note.
    w.clock.set(
        w.clock
            .now()
            .checked_add(SignedDuration::from_hours(24))
            .unwrap(),
    );
    block_on(follow_up_by_client(
        &follow,
        &request.case_number,
        note("I druga obok"),
    ))
    .unwrap();
    let notes: Vec<String> = block_on(w.store.history(&request.id))
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::CitizenUpdate { note } => Some(note),
            _ => None,
        })
        .collect();
    assert_eq!(
        notes,
        ["Jest coraz większa", "I druga obok", "I druga obok"]
    );
}

#[test]
fn clerks_claim_their_own_work_and_the_head_assigns_it() {
    let w = World::new();
    let (first, _) = submit_and_route(&w, report("pothole", 50.0614, 19.9366));
    let (second, _) = submit_and_route(&w, report("pothole", 50.0620, 19.9370));
    let clerk = AssignRight::Themselves("clerk-1".into());
    // A clerk cannot give a case to a colleague…
    let refused = block_on(assign_work(
        &w.dept(),
        &roads(),
        &first.case_number,
        Some("clerk-2".into()),
        &clerk,
    ));
    assert!(matches!(
        refused,
        Err(DepartmentError::AssignOthersNotAllowed)
    ));
    // …but claims one; the head gives the other to a colleague.
    let claimed = block_on(assign_work(
        &w.dept(),
        &roads(),
        &first.case_number,
        Some("clerk-1".into()),
        &clerk,
    ))
    .unwrap();
    assert_eq!(claimed.assignee.as_deref(), Some("clerk-1"));
    block_on(assign_work(
        &w.dept(),
        &roads(),
        &second.case_number,
        Some("clerk-2".into()),
        &AssignRight::Anyone,
    ))
    .unwrap();
    let mine = WorkFilter {
        assignee: Some(AssigneeFilter::Is("clerk-1".into())),
        ..Default::default()
    };
    assert_eq!(listed(&w, &mine), vec![first.case_number.to_string()]);
    let nobody = WorkFilter {
        assignee: Some(AssigneeFilter::Nobody),
        ..Default::default()
    };
    assert!(listed(&w, &nobody).is_empty());
    // The clerk cannot take a colleague's case away either.
    let taken = block_on(assign_work(
        &w.dept(),
        &roads(),
        &second.case_number,
        None,
        &clerk,
    ));
    assert!(matches!(
        taken,
        Err(DepartmentError::AssignOthersNotAllowed)
    ));
    // Nor claim it over them.
    let claimed_over = block_on(assign_work(
        &w.dept(),
        &roads(),
        &second.case_number,
        Some("clerk-1".into()),
        &clerk,
    ));
    assert!(matches!(
        claimed_over,
        Err(DepartmentError::AssignOthersNotAllowed)
    ));
}

#[test]
fn filters_narrow_by_district_service_and_due_time() {
    let w = World::new();
    let (old_town, _) = submit_and_route(&w, report("pothole", 50.0614, 19.9366));
    let (elsewhere, _) = submit_and_route(&w, report("pothole", 50.0800, 20.0300));
    assert_ne!(old_town.location.district, elsewhere.location.district);
    let district = WorkFilter {
        district: old_town.location.district.clone(),
        ..Default::default()
    };
    assert_eq!(
        listed(&w, &district),
        vec![old_town.case_number.to_string()]
    );
    let other_service = WorkFilter {
        service: Some(ServiceCode::parse("graffiti").unwrap()),
        ..Default::default()
    };
    assert!(listed(&w, &other_service).is_empty());
    let soon = WorkFilter {
        due: Some(DueFilter::Soon),
        ..Default::default()
    };
    assert!(listed(&w, &soon).is_empty());
    w.clock.set(old_town.sla_warning_at.unwrap());
    assert_eq!(listed(&w, &soon).len(), 2);
    w.clock.set(
        old_town
            .due_at
            .unwrap()
            .checked_add(SignedDuration::from_secs(1))
            .unwrap(),
    );
    let overdue = WorkFilter {
        due: Some(DueFilter::Overdue),
        status: Some(Status::Assigned),
        ..Default::default()
    };
    assert!(listed(&w, &overdue).contains(&old_town.case_number.to_string()));
    // A page of one with a narrow filter still finds what lies further on.
    let page = block_on(list_assignments(
        &w.store,
        &roads(),
        &WorkFilter {
            district: elsewhere.location.district.clone(),
            ..Default::default()
        },
        &PageRequest {
            limit: 1,
            after: None,
        },
        w.clock.now(),
    ))
    .unwrap();
    let mut found: Vec<String> = page
        .items
        .iter()
        .map(|r| r.case_number.to_string())
        .collect();
    if let Some(after) = page.next {
        let rest = block_on(list_assignments(
            &w.store,
            &roads(),
            &WorkFilter {
                district: elsewhere.location.district.clone(),
                ..Default::default()
            },
            &PageRequest {
                limit: 1,
                after: Some(after),
            },
            w.clock.now(),
        ))
        .unwrap();
        found.extend(rest.items.iter().map(|r| r.case_number.to_string()));
    }
    assert_eq!(found, vec![elsewhere.case_number.to_string()]);
}

#[test]
fn internal_notes_stay_among_staff() {
    let w = World::new();
    let (request, _) = submit_and_route(&w, report("pothole", 50.0614, 19.9366));
    w.sent();
    block_on(internal_note(
        &w.dept(),
        &roads(),
        &request.case_number,
        "Ekipa będzie w czwartek",
    ))
    .unwrap();
    assert!(
        w.sent().is_empty(),
        "nobody is notified of an internal note"
    );
    // The clerk's retry writes it once.
    block_on(internal_note(
        &w.dept(),
        &roads(),
        &request.case_number,
        "Ekipa będzie w czwartek",
    ))
    .unwrap();
    let (_, history) = block_on(read_assignment(
        &w.store,
        &w.catalogues,
        &roads(),
        &request.case_number,
    ))
    .unwrap();
    assert!(
        history.iter().any(
            |e| matches!(&e.kind, EventKind::InternalNote { note } if note.contains("czwartek"))
        )
    );
    let notes = history
        .iter()
        .filter(|e| matches!(e.kind, EventKind::InternalNote { .. }))
        .count();
    assert_eq!(notes, 1, "a retried note is written once");
    let stored = block_on(w.store.get(&request.id)).unwrap().unwrap();
    let full = block_on(w.store.history(&request.id)).unwrap();
    for audience in [Audience::Reporter, Audience::Public] {
        let shown = disclose(&w.catalogue, audience, &stored, &full);
        assert!(
            shown
                .history
                .iter()
                .all(|e| !matches!(e.kind, EventKind::InternalNote { .. })),
            "{audience:?}"
        );
    }
}

#[test]
fn a_transfer_goes_through_routing_to_the_named_department() {
    let w = World::new();
    let (request, _) = submit_and_route(&w, report("pothole", 50.0614, 19.9366));
    let greenery = DepartmentCode::parse("greenery").unwrap();
    for (to, reason, expected) in [
        ("roads", "x", "TransferToSelf"),
        ("nowhere", "x", "UnknownDepartment"),
        ("greenery", "  ", "ReasonMissing"),
    ] {
        let err = block_on(transfer(
            &w.dept(),
            &w.catalogues,
            &roads(),
            &request.case_number,
            &DepartmentCode::parse(to).unwrap(),
            reason,
        ))
        .unwrap_err();
        assert!(format!("{err:?}").starts_with(expected), "{err:?}");
    }
    let moved = block_on(transfer(
        &w.dept(),
        &w.catalogues,
        &roads(),
        &request.case_number,
        &greenery,
        "Korzenie drzewa: to teren zieleni",
    ))
    .unwrap();
    assert_eq!(
        (moved.status, moved.department.clone()),
        (Status::Triaged, None)
    );
    // The clerk's retry is harmless; anyone else asking the same sees nothing.
    let again = block_on(transfer(
        &w.dept(),
        &w.catalogues,
        &roads(),
        &request.case_number,
        &greenery,
        "Korzenie drzewa: to teren zieleni",
    ))
    .unwrap();
    assert_eq!(again.version, moved.version);
    let prying = block_on(transfer(
        &w.dept(),
        &w.catalogues,
        &DepartmentCode::parse("waste").unwrap(),
        &request.case_number,
        &greenery,
        "x",
    ));
    assert!(
        matches!(prying, Err(DepartmentError::NotFound(_))),
        "{prying:?}"
    );
    assert_eq!(
        block_on(route_request(&w.route(), &request.id)).unwrap(),
        RouteOutcome::Assigned {
            department: "greenery".into()
        }
    );
    let assigned = block_on(w.store.get(&request.id)).unwrap().unwrap();
    assert_eq!(assigned.transfer_to, None);
    // Roads no longer sees it.
    assert!(matches!(
        block_on(read_assignment(
            &w.store,
            &w.catalogues,
            &roads(),
            &request.case_number
        )),
        Err(DepartmentError::NotFound(_))
    ));
    // The citizen is not shown the reason.
    let history = block_on(w.store.history(&request.id)).unwrap();
    let shown = disclose(&w.catalogue, Audience::Reporter, &assigned, &history);
    assert!(
        shown
            .history
            .iter()
            .any(|e| matches!(&e.kind, EventKind::Transferred { reason, .. } if reason.is_empty()))
    );
}

#[test]
fn reject_needs_a_reason_and_a_resolved_case_can_be_reopened() {
    let w = World::new();
    let (request, _) = submit_and_route(&w, report("pothole", 50.0614, 19.9366));
    let refused = block_on(update_status(
        &w.dept(),
        &roads(),
        StatusUpdate {
            case_number: request.case_number.clone(),
            status: Status::Rejected,
            note: None,
        },
    ));
    assert!(matches!(
        refused,
        Err(DepartmentError::StatusNoteMissing(Status::Rejected, _))
    ));
    status(&w, &request.case_number, Status::Resolved, Some("Załatane"));
    // The same again is a retry; another resolution over it is refused.
    status(&w, &request.case_number, Status::Resolved, Some("Załatane"));
    let over = block_on(update_status(
        &w.dept(),
        &roads(),
        StatusUpdate {
            case_number: request.case_number.clone(),
            status: Status::Resolved,
            note: Some("Inna treść".into()),
        },
    ));
    assert!(matches!(over, Err(DepartmentError::Illegal(_))), "{over:?}");
    status(&w, &request.case_number, Status::Reopened, None);
    let reopened = block_on(w.store.get(&request.id)).unwrap().unwrap();
    assert_eq!(reopened.resolution, None);
    assert_eq!(
        block_on(route_request(&w.route(), &request.id)).unwrap(),
        RouteOutcome::Assigned {
            department: "roads".into()
        }
    );
    status(
        &w,
        &request.case_number,
        Status::Rejected,
        Some("Poza pasem drogowym"),
    );
    assert_eq!(
        block_on(w.store.get(&request.id)).unwrap().unwrap().status,
        Status::Rejected
    );
}

#[test]
fn a_stale_write_is_refused_with_the_current_version() {
    let w = World::new();
    let (request, _) = submit_and_route(&w, report("pothole", 50.0614, 19.9366));
    let read_at = request.version;
    status(&w, &request.case_number, Status::Acknowledged, None);
    let staff = StaffStamp {
        subject: "clerk-2".into(),
        roles: "clerk:roads".into(),
        via: "test".into(),
    };
    let stale = DepartmentWork {
        store: &w.store,
        clock: &w.clock,
        staff: &staff,
        seen_version: Some(read_at),
    };
    let refused = block_on(internal_note(&stale, &roads(), &request.case_number, "x"));
    assert!(
        matches!(refused, Err(DepartmentError::Stale { current }) if current == read_at + 1),
        "{refused:?}"
    );
    let fresh = DepartmentWork {
        seen_version: Some(read_at + 1),
        ..stale
    };
    block_on(internal_note(&fresh, &roads(), &request.case_number, "x")).unwrap();
}
