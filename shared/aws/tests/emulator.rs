//! Adapter tests against the AWS-API emulator `make test` starts
//! (`CITYDESK_TEST_ENDPOINT`): writes and what they keep (creation,
//! optimistic locking, ledgers, keys, create-only objects, retention). Every
//! test uses its own table, queue or bucket; the reads are in
//! `emulator_queries.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod emulator_support;

use emulator_support::*;
use std::sync::Arc;

use citydesk_aws::dynamo::DynamoStore;
use citydesk_aws::s3::S3Blobs;
use citydesk_aws::system::RandomIds;
use citydesk_core::ids::DepartmentCode;
use citydesk_core::ports::*;
use citydesk_core::status::Status;
use jiff::{SignedDuration, Timestamp};

#[tokio::test]
async fn create_is_atomic_idempotent_and_keeps_contact_apart() {
    let store = fresh_store().await;
    let new = new_request(now(), Some("web#k1"));
    assert!(matches!(
        store.create(&new).await.unwrap(),
        CreateOutcome::Created
    ));

    let got = store.get(&new.request.id).await.unwrap().unwrap();
    assert_eq!(got, new.request);
    let by_case = store
        .find_by_case_number(&new.request.case_number)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_case.id, new.request.id);
    assert_eq!(
        store.history(&new.request.id).await.unwrap(),
        vec![new.created.clone()]
    );
    let contact = store.contact(&new.request.id).await.unwrap().unwrap();
    assert_eq!(contact.phone.unwrap().as_str(), "+48600100200");

    // The same key again: the first request, nothing written.
    let again = new_request(now(), Some("web#k1"));
    match store.create(&again).await.unwrap() {
        CreateOutcome::AlreadyExists {
            request_id,
            payload_hash,
        } => {
            assert_eq!(request_id, new.request.id);
            assert_eq!(payload_hash, "h1");
        }
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    assert!(store.get(&again.request.id).await.unwrap().is_none());

    // A taken case number is reported, and nothing of the second request is written.
    let mut clash = new_request(now(), None);
    clash.request.case_number = new.request.case_number.clone();
    assert!(matches!(
        store.create(&clash).await.unwrap(),
        CreateOutcome::CaseNumberTaken
    ));
    assert!(store.get(&clash.request.id).await.unwrap().is_none());
    assert!(store.contact(&clash.request.id).await.unwrap().is_none());
}

/// The SDK retries an attempt whose answer was lost (a timeout, a 500 after
/// the commit); DynamoDB answers a retry with the same token as the first,
/// an emulator fails its every condition. Either way it is the creation that
/// committed, not a clash that would draw a new case number and file the
/// request twice.
#[tokio::test]
async fn a_retried_creation_that_had_committed_is_created_once() {
    let store = fresh_store().await;
    for idempotency in [None, Some("web#retried")] {
        let new = new_request(now(), idempotency);
        for attempt in 0..2 {
            match store.create(&new).await.unwrap() {
                CreateOutcome::Created => {}
                other => panic!("attempt {attempt}: expected Created, got {other:?}"),
            }
        }
        assert_eq!(
            store.history(&new.request.id).await.unwrap(),
            vec![new.created.clone()]
        );
        let by_case = store
            .find_by_case_number(&new.request.case_number)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(by_case, new.request);
    }
}

#[tokio::test]
async fn optimistic_locking_loses_nothing_under_concurrent_updates() {
    let store = Arc::new(fresh_store().await);
    let new = new_request(now(), None);
    store.create(&new).await.unwrap();
    let dept = DepartmentCode::parse("roads").unwrap();
    let assign = new
        .request
        .assign(dept.clone(), now(), now(), now(), "test")
        .unwrap();
    assert!(matches!(
        store.apply(&assign).await.unwrap(),
        ApplyOutcome::Applied
    ));

    // Eight writers race from the same version: exactly one wins.
    let base = assign.request.clone();
    let attempts = (0..8).map(|i| {
        let store = store.clone();
        let change = base
            .move_to(
                Status::Acknowledged,
                Some(format!("writer {i}")),
                now(),
                "test",
            )
            .unwrap();
        async move { store.apply(&change).await.unwrap() }
    });
    let outcomes = futures::future::join_all(attempts).await;
    let applied = outcomes
        .iter()
        .filter(|o| matches!(o, ApplyOutcome::Applied))
        .count();
    assert_eq!(applied, 1, "{outcomes:?}");
    let history = store.history(&base.id).await.unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(
        history.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(store.get(&base.id).await.unwrap().unwrap().version, 3);
}

/// Every item of a department's open work, paged through (status, then due time).

#[tokio::test]
async fn once_ledger_claims_once_and_recovers_expired_locks() {
    let store = fresh_store().await;
    let t0: Timestamp = now();
    let lock = t0 + SignedDuration::from_secs(60);
    assert_eq!(
        store.claim("notify#a#3", t0, lock).await.unwrap(),
        Claim::Acquired
    );
    assert_eq!(
        store.claim("notify#a#3", t0, lock).await.unwrap(),
        Claim::InProgress
    );
    // A crashed sender's lock expires; the next delivery takes over.
    let later = t0 + SignedDuration::from_secs(120);
    assert_eq!(
        store
            .claim("notify#a#3", later, later + SignedDuration::from_secs(60))
            .await
            .unwrap(),
        Claim::Acquired
    );
    store.complete("notify#a#3").await.unwrap();
    assert_eq!(
        store.claim("notify#a#3", later, later).await.unwrap(),
        Claim::AlreadyDone
    );
    // A released claim can be taken again at once.
    assert_eq!(
        store.claim("notify#b#3", t0, lock).await.unwrap(),
        Claim::Acquired
    );
    store.release("notify#b#3").await.unwrap();
    assert_eq!(
        store.claim("notify#b#3", t0, lock).await.unwrap(),
        Claim::Acquired
    );
}

#[tokio::test]
async fn department_keys_resolve_by_hash() {
    let store = fresh_store().await;
    let roads = DepartmentCode::parse("roads").unwrap();
    store
        .put_department_key("abc123", &roads, jiff::Timestamp::now())
        .await
        .unwrap();
    assert_eq!(
        store.department_for_key_hash("abc123").await.unwrap(),
        Some(roads)
    );
    assert_eq!(store.department_for_key_hash("other").await.unwrap(), None);
}

#[tokio::test]
async fn s3_create_only_writes_once() {
    let c = clients().await;
    let bucket = unique("bucket");
    c.s3.create_bucket()
        .bucket(&bucket)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuCentral1)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let blobs = S3Blobs::new(c.s3, &bucket);
    assert!(
        blobs
            .put_new("reports/x.json", "application/json", b"first".to_vec())
            .await
            .unwrap()
    );
    assert!(
        !blobs
            .put_new("reports/x.json", "application/json", b"second".to_vec())
            .await
            .unwrap()
    );
    assert_eq!(
        blobs.get("reports/x.json").await.unwrap().unwrap(),
        b"first"
    );
    assert!(blobs.get("reports/none.json").await.unwrap().is_none());
}

#[tokio::test]
async fn missing_table_is_a_permanent_error() {
    let c = clients().await;
    let store = DynamoStore::new(c.dynamodb, unique("no-such-table"));
    let err = store
        .get(
            &RandomIds::new(
                citydesk_core::ids::TrackingKey::new(b"tests"),
                citydesk_core::contact::ContactKey::new(b"tests"),
            )
            .request_id(),
        )
        .await
        .unwrap_err();
    assert!(!err.retryable, "{err}");
}

#[tokio::test]
async fn a_change_is_all_or_nothing() {
    let store = fresh_store().await;
    let new = new_request(now(), None);
    store.create(&new).await.unwrap();
    let roads = DepartmentCode::parse("roads").unwrap();
    let mut change = new
        .request
        .assign(roads, now(), now(), now(), "test")
        .unwrap();
    // Its history slot is already taken (seq 1 is the creation): the whole change is refused.
    change.event.seq = 1;
    assert!(matches!(
        store.apply(&change).await.unwrap(),
        ApplyOutcome::Conflict
    ));
    let stored = store.get(&new.request.id).await.unwrap().unwrap();
    assert_eq!(
        stored.status,
        Status::New,
        "the request was not changed either"
    );
    assert_eq!(stored.version, 1);
}

#[tokio::test]
async fn an_expired_idempotency_record_is_invisible() {
    let store = fresh_store().await;
    // A submission two days ago (its record's TTL has passed, but TTL deletes lazily).
    let old = new_request(now() - SignedDuration::from_hours(48), Some("web#reused"));
    store.create(&old).await.unwrap();
    let fresh = new_request(now(), Some("web#reused"));
    assert!(matches!(
        store.create(&fresh).await.unwrap(),
        CreateOutcome::Created
    ));
    assert!(store.get(&fresh.request.id).await.unwrap().is_some());
}

#[tokio::test]
async fn a_contact_past_its_retention_is_gone_for_readers() {
    use citydesk_core::ports::ContactRetention;
    let store = fresh_store().await;
    let at: Timestamp = "2026-11-27T09:30:00Z".parse().unwrap();
    let new = new_request(at, None);
    store.create(&new).await.unwrap();
    let id = &new.request.id;
    assert!(store.contact(id).await.unwrap().is_some());
    // Kept two more years: still there.
    let future = Timestamp::now()
        .checked_add(jiff::SignedDuration::from_hours(730 * 24))
        .unwrap();
    store.retain_contact_until(id, Some(future)).await.unwrap();
    assert!(store.contact(id).await.unwrap().is_some());
    // Its retention passed (TTL has not run yet): readers see nothing.
    store.retain_contact_until(id, Some(at)).await.unwrap();
    assert!(store.contact(id).await.unwrap().is_none());
    // Reopened: kept again for as long as it is open.
    store.retain_contact_until(id, None).await.unwrap();
    assert!(store.contact(id).await.unwrap().is_some());
    // A request without a contact is fine.
    let other = citydesk_core::ids::RequestId::parse("01JDQ3V5Y8K9M2N4P6R8T0W2X9").unwrap();
    store.retain_contact_until(&other, Some(at)).await.unwrap();
}
