//! `make bench-channels`: the handling time of one message in process, per
//! channel, side by side: an SMS through the signed webhook (signature,
//! form, conversation, a request taken, TwiML), a status query by SMS, an
//! e-mail read from MIME and taken, and an IVR call answering the open
//! cases. In-memory ports, so the figures are the functions' own work (the
//! table's round trips come on top in AWS). Figures, not a test.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use citydesk_core::catalogue::Catalogue;
use citydesk_core::channels::email_message::parse_email;
use citydesk_core::channels::webhook_signature::{SignatureAlgorithm, sign};
use citydesk_core::contact::ContactKey;
use citydesk_core::memory::{
    ManualClock, MemoryBlobs, MemoryCounters, MemoryStore, MemoryTexters, SequentialIds,
    TEST_TRACKING_KEY,
};
use citydesk_core::usecases::email_intake::{MailDesk, take_email};
use hdrhistogram::Histogram;
use tower::ServiceExt;

const ROUNDS: u64 = 2000;
const TOKEN: &str = "bench-token";
const URL: &str = "https://311.krakow.example/v1/channels/sms";
const TOPIC: &str = "arn:aws:sns:eu-central-1:123456789012:bench-InboundSmsTopic";

fn catalogue() -> anyhow::Result<Catalogue> {
    let city = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../demo-city");
    Ok(citydesk_aws::city_publisher::read_city_folder(&city)?)
}

fn row(name: &str, h: &Histogram<u64>) {
    println!(
        "{name:<50} {:>9} {:>10.1} {:>10} {:>10}",
        h.len(),
        h.mean() / 1000.0,
        h.value_at_quantile(0.5) / 1000,
        h.value_at_quantile(0.99) / 1000
    );
}

fn signed(params: &[(String, String)]) -> http::Request<Body> {
    let signature = sign(TOKEN, SignatureAlgorithm::HmacSha1, URL, params);
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter())
        .finish();
    http::Request::post("/v1/channels/sms")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", signature)
        .body(Body::from(body))
        .unwrap_or_default()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let catalogue = catalogue()?;
    let city = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../demo-city");
    let knowledge = citydesk_aws::knowledge::read_knowledge_folder(&city, &catalogue)?;
    let index = citydesk_knowledge_search::ArticleIndex::build(&knowledge)?;
    let store = Arc::new(MemoryStore::default());
    let clock = Arc::new(ManualClock::at("2026-12-04T18:00:00Z".parse()?));
    let index: Arc<dyn citydesk_core::ports::KnowledgeIndex> = Arc::new(index);
    // One id source for every channel: their requests share the store.
    let ids = Arc::new(SequentialIds::default());
    let talk = || citydesk_intake_sms::Conversations {
        store: store.clone(),
        people: store.clone(),
        texters: Arc::new(MemoryTexters::default()),
        counters: Arc::new(MemoryCounters::default()),
        ledger: store.clone(),
        media: Arc::new(MemoryBlobs::default()),
        clock: clock.clone(),
        ids: ids.clone(),
        catalogue: catalogue.clone(),
        knowledge: knowledge.clone(),
        knowledge_index: index.clone(),
        contact_key: ContactKey::new(TEST_TRACKING_KEY),
        public_base_url: "https://311.krakow.example".into(),
    };
    let sms = citydesk_intake_sms::router(Arc::new(citydesk_intake_sms::Deps {
        talk: talk(),
        webhook_url: URL.into(),
        account_sid: "ACbench".into(),
        auth_token: Some(TOKEN.to_owned().into()),
        http: reqwest::Client::new(),
    }));

    println!("one message handled in process, {ROUNDS} each (in-memory ports)\n");
    println!(
        "{:<50} {:>9} {:>10} {:>10} {:>10}",
        "message", "count", "mean (µs)", "p50 (µs)", "p99 (µs)"
    );
    let mut report = Histogram::<u64>::new(3)?;
    let mut status = Histogram::<u64>::new(3)?;
    let mut last_case = String::new();
    for n in 0..ROUNDS {
        // A new number each time: no "does this add to your case?", no throttle.
        let params: Vec<(String, String)> = [
            ("MessageSid", format!("SMbench{n:020}")),
            ("From", format!("+48600{n:06}")),
            (
                "Body",
                "Ogromna dziura w jezdni przed ul. Długa 10, uszkodziłem koło".to_owned(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let started = Instant::now();
        let answer = sms.clone().oneshot(signed(&params)).await?;
        let bytes = http_body_util::BodyExt::collect(answer.into_body())
            .await?
            .to_bytes();
        report.record(started.elapsed().as_nanos() as u64)?;
        let text = String::from_utf8_lossy(&bytes);
        if let Some(at) = text.find("zgłoszenie ") {
            last_case = text[at + "zgłoszenie ".len()..].chars().take(9).collect();
        }
    }
    row("SMS report with its address (webhook)", &report);
    for n in 0..ROUNDS {
        let params: Vec<(String, String)> = [
            ("MessageSid", format!("SMstat{n:020}")),
            ("From", format!("+48700{n:06}")),
            ("Body", format!("STATUS {last_case}")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let started = Instant::now();
        let answer = sms.clone().oneshot(signed(&params)).await?;
        let _ = http_body_util::BodyExt::collect(answer.into_body()).await?;
        status.record(started.elapsed().as_nanos() as u64)?;
    }
    row("SMS status query (webhook)", &status);

    // The same report through End User Messaging: an SNS event, the answer sent.
    let messenger = Arc::new(citydesk_core::memory::MemoryMessenger::default());
    let sns = citydesk_intake_sms::end_user_messaging::SnsDeps {
        talk: talk(),
        topic_arn: TOPIC.into(),
        messenger: messenger.clone(),
    };
    let mut through_topic = Histogram::<u64>::new(3)?;
    for n in 0..ROUNDS {
        let inbound = serde_json::json!({
            "originationNumber": format!("+48500{n:06}"),
            "destinationNumber": "+48120000311",
            "messageBody": "Ogromna dziura w jezdni przed ul. Długa 10, uszkodziłem koło",
            "inboundMessageId": format!("bench-{n}"),
        });
        let event = serde_json::json!({"Records": [{"Sns": {
            "MessageId": format!("sns-{n}"), "TopicArn": TOPIC, "Message": inbound.to_string(),
        }}]});
        let started = Instant::now();
        citydesk_intake_sms::end_user_messaging::handle(&sns, serde_json::from_value(event)?)
            .await?;
        through_topic.record(started.elapsed().as_nanos() as u64)?;
    }
    anyhow::ensure!(
        messenger.sent().len() == ROUNDS as usize,
        "every text answered once"
    );
    row(
        "SMS report with its address (End User Messaging)",
        &through_topic,
    );

    let media = MemoryBlobs::default();
    let queues = citydesk_core::memory::MemoryQueues::default();
    let own = vec!["311@krakow.example".to_owned()];
    let key = ContactKey::new(TEST_TRACKING_KEY);
    let raw = include_bytes!("../../../events/email/html-only-iso-8859-2.eml");
    let mut email = Histogram::<u64>::new(3)?;
    for n in 0..ROUNDS {
        let desk = MailDesk {
            store: store.as_ref(),
            people: store.as_ref(),
            clock: clock.as_ref(),
            ids: ids.as_ref(),
            catalogue: &catalogue,
            contact_key: &key,
            media: &media,
            ledger: store.as_ref(),
            notify: &queues,
            own_addresses: &own,
            reply_local_part: "requests",
            fax_senders: &[],
        };
        let started = Instant::now();
        let parsed = parse_email(raw)?;
        take_email(&desk, &format!("ses-bench-{n}"), parsed).await?;
        email.record(started.elapsed().as_nanos() as u64)?;
    }
    row("e-mail, HTML-only ISO-8859-2 (MIME + request)", &email);

    let ivr = citydesk_phone_ivr::Deps {
        store: store.clone(),
        people: store.clone(),
        clock: clock.clone(),
        ids: ids.clone(),
        catalogue: catalogue.clone(),
        contact_key: ContactKey::new(TEST_TRACKING_KEY),
        budget: citydesk_phone_ivr::BUDGET,
    };
    let mut call: serde_json::Value =
        serde_json::from_str(include_str!("../../../events/connect/ivr-open-cases.json"))?;
    call["Details"]["ContactData"]["CustomerEndpoint"]["Address"] = "+48600000007".into();
    let mut phone = Histogram::<u64>::new(3)?;
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let answer = citydesk_phone_ivr::handle(&ivr, call.clone()).await;
        phone.record(started.elapsed().as_nanos() as u64)?;
        anyhow::ensure!(
            answer["result"] == "open_cases",
            "the IVR answered {answer:?}"
        );
    }
    row("IVR: the caller's open cases", &phone);
    Ok(())
}
