//! The e-mail intake on an SES receipt event (`events/email/ses-receipt.json`)
//! with the raw messages of `events/email/` in an in-memory bucket.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use citydesk_core::catalogue::{Catalogue, CatalogueDocument};
use citydesk_core::contact::ContactKey;
use citydesk_core::memory::{
    ManualClock, MemoryBlobs, MemoryQueues, MemoryStore, SequentialIds, TEST_TRACKING_KEY,
};
use citydesk_core::messages::PipelineMessage;
use citydesk_core::ports::{MediaStore, RequestStore};
use citydesk_core::request::Channel;
use citydesk_intake_email::{Deps, handle};
use serde_json::Value;

const MESSAGE_ID: &str = "o3vrnil0e2ic28trm7dfhrc2v0clambda4nbp0g01";

struct World {
    store: Arc<MemoryStore>,
    bucket: Arc<MemoryBlobs>,
    queues: Arc<MemoryQueues>,
    deps: Deps,
}

fn world() -> World {
    let mut doc = CatalogueDocument::from_sources(
        include_str!("../../../infra/demo-city/catalogue.toml"),
        include_str!("../../../infra/demo-city/districts.geojson"),
    )
    .unwrap();
    doc.addresses = citydesk_core::places::parse_address_csv(include_str!(
        "../../../infra/demo-city/addresses.csv"
    ))
    .unwrap();
    let store = Arc::new(MemoryStore::default());
    let bucket = Arc::new(MemoryBlobs::default());
    let queues = Arc::new(MemoryQueues::default());
    let deps = Deps {
        store: store.clone(),
        people: store.clone(),
        ledger: store.clone(),
        raw_mail: bucket.clone(),
        media: bucket.clone(),
        queue: queues.clone(),
        clock: Arc::new(ManualClock::at("2026-12-04T18:00:00Z".parse().unwrap())),
        ids: Arc::new(SequentialIds::default()),
        catalogue: Catalogue::new(doc).unwrap(),
        contact_key: ContactKey::new(TEST_TRACKING_KEY),
        inbound_prefix: "inbound-mail/".into(),
        own_addresses: vec!["311@krakow.example".into()],
        reply_local_part: "requests".into(),
        fax_senders: vec!["fax@fax-gateway.example".into()],
    };
    World {
        store,
        bucket,
        queues,
        deps,
    }
}

impl World {
    /// SES stores `raw` and invokes the function for it.
    async fn receive(&self, raw: &[u8]) -> Result<(), citydesk_intake_email::IntakeError> {
        self.bucket
            .put_media(
                &format!("inbound-mail/{MESSAGE_ID}"),
                "message/rfc822",
                raw.to_vec(),
            )
            .await
            .unwrap();
        handle(&self.deps, event()).await
    }

    async fn requests(&self) -> Vec<citydesk_core::request::ServiceRequest> {
        self.store
            .created_between(jiff::Timestamp::MIN, jiff::Timestamp::MAX)
            .await
            .unwrap()
    }
}

fn event() -> Value {
    serde_json::from_str(include_str!("../../../events/email/ses-receipt.json")).unwrap()
}

#[tokio::test]
async fn a_message_is_read_from_the_bucket_and_taken_once() {
    let w = world();
    w.receive(include_bytes!("../../../events/email/plain-utf8.eml"))
        .await
        .unwrap();
    // SES invokes again: nothing more.
    handle(&w.deps, event()).await.unwrap();
    let requests = w.requests().await;
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].channel, Channel::Email);
    assert!(requests[0].has_contact);
}

#[tokio::test]
async fn attachments_not_kept_are_told_through_the_notify_queue() {
    let w = world();
    w.receive(include_bytes!(
        "../../../events/email/photo-and-program.eml"
    ))
    .await
    .unwrap();
    let request = &w.requests().await[0];
    assert_eq!(request.media.len(), 1);
    let sent = w.queues.take_pipeline();
    assert!(
        sent.contains(&PipelineMessage::AttachmentsDropped {
            request_id: request.id.clone(),
            count: 1
        }),
        "{sent:?}"
    );
}

#[tokio::test]
async fn ses_verdicts_unreadable_mail_and_a_missing_object() {
    let w = world();
    let mut spam = event();
    spam["Records"][0]["ses"]["receipt"]["spamVerdict"]["status"] = Value::String("FAIL".into());
    w.bucket
        .put_media(
            &format!("inbound-mail/{MESSAGE_ID}"),
            "message/rfc822",
            include_bytes!("../../../events/email/plain-utf8.eml").to_vec(),
        )
        .await
        .unwrap();
    handle(&w.deps, spam).await.unwrap();
    assert!(w.requests().await.is_empty(), "SES said spam");

    let forged = world();
    let mut failing = event();
    failing["Records"][0]["ses"]["receipt"]["dmarcVerdict"]["status"] =
        Value::String("FAIL".into());
    failing["Records"][0]["ses"]["receipt"]["spfVerdict"]["status"] = Value::String("FAIL".into());
    forged
        .bucket
        .put_media(
            &format!("inbound-mail/{MESSAGE_ID}"),
            "message/rfc822",
            include_bytes!("../../../events/email/plain-utf8.eml").to_vec(),
        )
        .await
        .unwrap();
    handle(&forged.deps, failing).await.unwrap();
    let taken = forged.requests().await;
    assert_eq!(taken.len(), 1, "the words are taken");
    assert!(
        !taken[0].has_contact,
        "but no notice goes to an unverified sender"
    );

    let other = world();
    // Kept in the bucket and reported; the invocation does not fail forever.
    other
        .receive(include_bytes!("../../../events/email/not-mime.eml"))
        .await
        .unwrap();
    assert!(other.requests().await.is_empty());

    let empty = world();
    let missing = handle(&empty.deps, event()).await;
    assert!(missing.is_err(), "not stored yet: failed, so SES retries");
    assert!(
        handle(&empty.deps, serde_json::json!({"hello": 1}))
            .await
            .is_err()
    );
}
