//! Each stage, and the whole way, with repeated deliveries.

use super::world::*;
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
        "https://311.krakow.example/track/{}?token={}",
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
