//! The SMS webhook on API Gateway fixtures (`events/sms/`, signed as the
//! provider signs them), and End User Messaging's SNS events (`eum-*`), over
//! in-memory ports: each fixture delivered twice.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use axum::body::Body;
use citydesk_core::catalogue::{Catalogue, CatalogueDocument};
use citydesk_core::channels::webhook_signature::{SignatureAlgorithm, sign};
use citydesk_core::contact::ContactKey;
use citydesk_core::knowledge::KnowledgeBase;
use citydesk_core::memory::{
    ManualClock, MemoryBlobs, MemoryStore, MemoryTexters, SequentialIds, TEST_TRACKING_KEY,
};
use citydesk_core::ports::RequestStore;
use citydesk_core::request::{Channel, ServiceRequest};
use citydesk_intake_sms::end_user_messaging::{RecordOutcome, SnsDeps, SnsEnvelope};
use citydesk_intake_sms::{Conversations, Deps, router};
use http_body_util::BodyExt;
use tower::ServiceExt;

const TOKEN: &str = "fixture-auth-token";
const URL: &str = "https://311.krakow.example/v1/channels/sms";
const ACCOUNT: &str = "AC0fixture0000000000000000000000000";

struct World {
    store: Arc<MemoryStore>,
    media: Arc<MemoryBlobs>,
    app: axum::Router,
}

/// The conversation over in-memory ports and the demo city.
fn conversations(store: &Arc<MemoryStore>, media: &Arc<MemoryBlobs>) -> Conversations {
    let mut doc = CatalogueDocument::from_sources(
        include_str!("../../../infra/demo-city/catalogue.toml"),
        include_str!("../../../infra/demo-city/districts.geojson"),
    )
    .unwrap();
    doc.addresses = citydesk_core::places::parse_address_csv(include_str!(
        "../../../infra/demo-city/addresses.csv"
    ))
    .unwrap();
    let catalogue = Catalogue::new(doc).unwrap();
    let knowledge = KnowledgeBase::from_files(
        &catalogue,
        [(
            "bulky-waste-pickup.toml",
            include_str!("../../../infra/demo-city/kb/bulky-waste-pickup.toml"),
        )],
    )
    .unwrap();
    let index = citydesk_knowledge_search::ArticleIndex::build(&knowledge).unwrap();
    Conversations {
        store: store.clone(),
        people: store.clone(),
        texters: Arc::new(MemoryTexters::default()),
        counters: Arc::new(citydesk_core::memory::MemoryCounters::default()),
        ledger: store.clone(),
        media: media.clone(),
        clock: Arc::new(ManualClock::at("2026-12-04T18:00:00Z".parse().unwrap())),
        ids: Arc::new(SequentialIds::default()),
        catalogue,
        knowledge,
        knowledge_index: Arc::new(index),
        contact_key: ContactKey::new(TEST_TRACKING_KEY),
        public_base_url: "https://311.krakow.example".into(),
    }
}

fn world() -> World {
    let store = Arc::new(MemoryStore::default());
    let media = Arc::new(MemoryBlobs::default());
    let talk = conversations(&store, &media);
    let deps = Deps {
        talk,
        webhook_url: URL.into(),
        account_sid: ACCOUNT.into(),
        auth_token: Some(TOKEN.to_owned().into()),
        http: reqwest::Client::new(),
    };
    World {
        store,
        media,
        app: router(Arc::new(deps)),
    }
}

fn event(json: &str) -> http::Request<Body> {
    let req = lambda_http::request::from_str(json).unwrap();
    let (parts, body) = req.into_parts();
    http::Request::from_parts(parts, Body::from(body.to_vec()))
}

async fn call(app: &axum::Router, req: http::Request<Body>) -> (u16, String) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// Delivers a fixture twice: the answer to the first, and that the second
/// (a provider's retry) answers nothing.
async fn deliver(w: &World, fixture: &str) -> String {
    let (status, first) = call(&w.app, event(fixture)).await;
    assert_eq!(status, 200, "{first}");
    let (status, again) = call(&w.app, event(fixture)).await;
    assert_eq!(status, 200);
    assert!(
        again.ends_with("<Response/>"),
        "a retry is answered with nothing: {again}"
    );
    first
}

async fn all_requests(store: &MemoryStore) -> Vec<ServiceRequest> {
    store
        .created_between(jiff::Timestamp::MIN, jiff::Timestamp::MAX)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_long_polish_report_is_asked_for_its_place_then_taken_once() {
    let w = world();
    let ask = deliver(
        &w,
        include_str!("../../../events/sms/sms-report-without-place.json"),
    )
    .await;
    assert!(ask.contains("<Message>Kraków 311: gdzie to jest?"), "{ask}");
    let taken = deliver(
        &w,
        include_str!("../../../events/sms/sms-place-answer.json"),
    )
    .await;
    assert!(taken.contains("przyjęliśmy zgłoszenie"), "{taken}");
    assert!(
        taken.contains("https://311.krakow.example/track/"),
        "{taken}"
    );
    let requests = all_requests(&w.store).await;
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.channel, Channel::Sms);
    assert!(
        request.description.contains("Żółte znaki ostrzegawcze"),
        "the whole multi-segment text"
    );
    assert_eq!(request.location.address.as_deref(), Some("ul. Długa 10"));
}

#[tokio::test]
async fn status_stop_and_the_sha256_variant() {
    let w = world();
    let status = deliver(&w, include_str!("../../../events/sms/sms-status.json")).await;
    assert!(status.contains("nie ma zgłoszenia 7H3K-9QX2"), "{status}");
    let stop = deliver(&w, include_str!("../../../events/sms/sms-stop.json")).await;
    assert!(stop.contains("Odpisz START"), "{stop}");
    let english = deliver(&w, include_str!("../../../events/sms/sms-sha256.json")).await;
    assert!(english.contains("we received request"), "{english}");
}

#[tokio::test]
async fn whatsapp_takes_the_shared_location() {
    let w = world();
    let ask = deliver(&w, include_str!("../../../events/sms/whatsapp-report.json")).await;
    assert!(ask.contains("gdzie to jest"), "{ask}");
    let taken = deliver(
        &w,
        include_str!("../../../events/sms/whatsapp-location.json"),
    )
    .await;
    assert!(taken.contains("przyjęliśmy zgłoszenie"), "{taken}");
    let request = &all_requests(&w.store).await[0];
    assert_eq!(request.channel, Channel::Messenger);
    let point = request.location.point.unwrap();
    assert!((point.lat - 50.0614).abs() < 1e-9 && (point.long - 19.9366).abs() < 1e-9);
    assert_eq!(request.description, "Powalone drzewo blokuje chodnik");
}

#[tokio::test]
async fn an_unsigned_webhook_is_refused_before_anything_is_read() {
    let w = world();
    let (status, body) = call(
        &w.app,
        event(include_str!("../../../events/sms/sms-unsigned.json")),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("X-Twilio-Signature"), "{body}");
    assert!(all_requests(&w.store).await.is_empty());
}

#[tokio::test]
async fn without_an_auth_token_every_webhook_is_refused() {
    // A city whose number is at End User Messaging keeps no Twilio token.
    let store = Arc::new(MemoryStore::default());
    let media = Arc::new(MemoryBlobs::default());
    let app = router(Arc::new(Deps {
        talk: conversations(&store, &media),
        webhook_url: URL.into(),
        account_sid: String::new(),
        auth_token: None,
        http: reqwest::Client::new(),
    }));
    let (status, body) = call(
        &app,
        event(include_str!("../../../events/sms/sms-status.json")),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("SMS_AUTH_TOKEN_PARAMETER"), "{body}");
    assert!(all_requests(&store).await.is_empty());
}

fn signed_form(params: &[(&str, String)]) -> http::Request<Body> {
    let owned: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    let signature = sign(TOKEN, SignatureAlgorithm::HmacSha1, URL, &owned);
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(owned.iter())
        .finish();
    http::Request::post("/v1/channels/sms")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", signature)
        .body(Body::from(body))
        .unwrap()
}

/// A small well-formed JPEG whose EXIF carries a position (the marker `GPS!`).
fn jpeg_with_gps() -> Vec<u8> {
    let exif = b"Exif\0\0II*\0\x08\0\0\0GPS!";
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xE1];
    v.extend(u16::try_from(exif.len() + 2).unwrap().to_be_bytes());
    v.extend(exif);
    v.extend([
        0xFF, 0xDB, 0x00, 0x04, 0x00, 0x01, 0xFF, 0xDA, 0x00, 0x02, 0x11, 0x22, 0xFF, 0xD9,
    ]);
    v
}

#[tokio::test]
async fn mms_photos_are_fetched_with_the_account_and_kept_without_their_position() {
    use axum::http::HeaderMap;
    use axum::routing::get;
    // The provider's media store: only the account's credentials may read it.
    let provider = axum::Router::new()
        .route(
            "/Media/photo",
            get(|headers: HeaderMap| async move {
                use base64::Engine;
                let expected = format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT}:{TOKEN}"))
                );
                if headers.get("authorization").and_then(|v| v.to_str().ok())
                    == Some(expected.as_str())
                {
                    Ok(jpeg_with_gps())
                } else {
                    Err(axum::http::StatusCode::UNAUTHORIZED)
                }
            }),
        )
        .route("/Media/card", get(|| async { "BEGIN:VCARD" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let at = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, provider).await });

    let w = world();
    let params = [
        ("MessageSid", "MM0fixture00000000000000000000009".to_owned()),
        ("AccountSid", ACCOUNT.to_owned()),
        ("From", "+48600100400".to_owned()),
        ("To", "+48120000311".to_owned()),
        ("Body", "Graffiti na murze, Rynek Główny 1".to_owned()),
        ("NumMedia", "2".to_owned()),
        ("MediaUrl0", format!("http://{at}/Media/photo")),
        ("MediaContentType0", "image/jpeg".to_owned()),
        ("MediaUrl1", format!("http://{at}/Media/card")),
        ("MediaContentType1", "text/vcard".to_owned()),
    ];
    let (status, reply) = call(&w.app, signed_form(&params)).await;
    assert_eq!(status, 200, "{reply}");
    assert!(reply.contains("przyjęliśmy zgłoszenie"), "{reply}");
    assert!(
        reply.contains("Pominięto załączniki: 1"),
        "the card is dropped politely: {reply}"
    );
    let request = &all_requests(&w.store).await[0];
    assert_eq!(request.media.len(), 1, "{:?}", request.media);
    let citydesk_core::media::MediaRef::Stored {
        key, content_type, ..
    } = &request.media[0]
    else {
        panic!("a stored photo");
    };
    assert_eq!(content_type, "image/jpeg");
    assert!(key.starts_with("media/krakow/text-mm0fixture"), "{key}");
    let kept = w.media.get(key).unwrap();
    assert!(
        !kept.windows(4).any(|w| w == b"GPS!"),
        "the position is removed"
    );
}

#[tokio::test]
async fn a_body_over_the_cap_is_413_and_a_bad_number_is_400() {
    let w = world();
    let long = [
        ("MessageSid", "SM0fixture00000000000000000000010".to_owned()),
        ("From", "+48600100200".to_owned()),
        ("Body", "ą".repeat(1601)),
    ];
    let (status, body) = call(&w.app, signed_form(&long)).await;
    assert_eq!(status, 413, "{body}");
    let bad = [
        ("MessageSid", "SM0fixture00000000000000000000011".to_owned()),
        ("From", "hello".to_owned()),
        ("Body", "Dziura".to_owned()),
    ];
    let (status, body) = call(&w.app, signed_form(&bad)).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("From"), "{body}");
}

const TOPIC: &str = "arn:aws:sns:eu-central-1:123456789012:citydesk-InboundSmsTopic-1A2B3C4D5E6F";

fn sns_world() -> (
    Arc<MemoryStore>,
    Arc<citydesk_core::memory::MemoryMessenger>,
    SnsDeps,
) {
    let store = Arc::new(MemoryStore::default());
    let media = Arc::new(MemoryBlobs::default());
    let messenger = Arc::new(citydesk_core::memory::MemoryMessenger::default());
    let deps = SnsDeps {
        talk: conversations(&store, &media),
        topic_arn: TOPIC.into(),
        messenger: messenger.clone(),
    };
    (store, messenger, deps)
}

async fn sns(deps: &SnsDeps, fixture: &str) -> Vec<RecordOutcome> {
    let event: SnsEnvelope = serde_json::from_str(fixture).unwrap();
    citydesk_intake_sms::end_user_messaging::handle(deps, event)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_end_user_messaging_text_is_taken_and_answered_once() {
    let (store, messenger, deps) = sns_world();
    let fixture = include_str!("../../../events/sms/eum-report.json");
    let first = sns(&deps, fixture).await;
    assert_eq!(
        first,
        vec![RecordOutcome::Taken {
            outcome: "created",
            replied: true
        }]
    );
    // SNS delivers at least once: the same inboundMessageId again.
    let again = sns(&deps, fixture).await;
    assert_eq!(
        again,
        vec![RecordOutcome::Taken {
            outcome: "duplicate",
            replied: false
        }]
    );
    let requests = all_requests(&store).await;
    assert_eq!(requests.len(), 1, "one request for two deliveries");
    assert_eq!(requests[0].channel, Channel::Sms);
    assert_eq!(
        requests[0].location.address.as_deref(),
        Some("ul. Długa 10")
    );
    let sent = messenger.sent();
    assert_eq!(sent.len(), 1, "one answer: {sent:?}");
    assert_eq!(sent[0].to, "+48600100400");
    assert!(
        sent[0].body.contains("przyjęliśmy zgłoszenie"),
        "{}",
        sent[0].body
    );
    assert!(
        sent[0].body.contains(&requests[0].case_number.to_string()),
        "{}",
        sent[0].body
    );

    let status = sns(&deps, include_str!("../../../events/sms/eum-status.json")).await;
    assert!(
        matches!(status[0], RecordOutcome::Taken { replied: true, .. }),
        "{status:?}"
    );
    assert_eq!(messenger.sent().len(), 2);
}

#[tokio::test]
async fn another_topic_and_a_record_that_is_no_text_are_refused_without_a_word() {
    let (store, messenger, deps) = sns_world();
    let other = sns(
        &deps,
        include_str!("../../../events/sms/eum-other-topic.json"),
    )
    .await;
    assert_eq!(other, vec![RecordOutcome::Refused("another topic")]);
    let receipt = sns(
        &deps,
        include_str!("../../../events/sms/eum-not-a-text.json"),
    )
    .await;
    assert_eq!(receipt, vec![RecordOutcome::Refused("not an inbound text")]);
    assert!(all_requests(&store).await.is_empty());
    assert!(messenger.sent().is_empty());
}
