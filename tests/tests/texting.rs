//! A resident texting the city, through the local system: the provider's
//! signed webhook (played by `/_local/sms/inbound`), the conversation that
//! asks for the place and takes the report, the status by text, STOP
//! silencing the department's later message, and a provider's retry.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use citydesk_core::channels::webhook_signature::{SignatureAlgorithm, sign};
use citydesk_e2e::{eventually, fetch_json, start_system, wait_for_status};
use citydesk_local::provider::{LOCAL_SMS_TOKEN, SMS_WEBHOOK_PATH};
use serde_json::{Value, json};

const RESIDENT: &str = "+48600555111";
const NEIGHBOUR: &str = "+48600555222";

/// The resident texts `body`; the service's reply (also in the outbox).
async fn text(http: &reqwest::Client, base: &str, from: &str, body: &str) -> String {
    let answer: Value = http
        .post(format!("{base}/_local/sms/inbound"))
        .form(&[("From", from), ("Body", body)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["webhook_status"], 200, "{answer}");
    answer["reply"].as_str().unwrap_or_default().to_owned()
}

fn messages_to(outbox: &Value, to: &str) -> Vec<String> {
    outbox
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["to"] == to)
        .map(|m| m["body"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn case_in(reply: &str) -> String {
    let at = reply.find("zgłoszenie ").expect("a case number") + "zgłoszenie ".len();
    reply[at..].chars().take(9).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_takes_a_report_answers_its_status_and_stop_silences_it() {
    let system = start_system().await;
    let base = system.base_url();
    let http = reqwest::Client::new();

    let ask = text(
        &http,
        &base,
        RESIDENT,
        "Ogromna dziura w jezdni, uszkodziłem koło",
    )
    .await;
    assert!(ask.contains("gdzie to jest"), "{ask}");
    let taken = text(&http, &base, RESIDENT, "ul. Długa 10").await;
    assert!(taken.contains("przyjęliśmy zgłoszenie"), "{taken}");
    let case = case_in(&taken);
    // The link in the reply opens the tracking page, with the place and the words.
    let link = taken
        .split_whitespace()
        .find(|w| w.starts_with("http"))
        .unwrap();
    let page = http.get(link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains(&case) && page.contains("Długa 10"), "{page}");

    let roads = system.published.department_keys["roads"].clone();
    wait_for_status(&http, &base, &case, "assigned", 15)
        .await
        .expect("assigned");
    let status = text(&http, &base, RESIDENT, &format!("STATUS {case}")).await;
    assert!(
        status.contains(&case) && status.contains("przekazane do jednostki"),
        "{status}"
    );

    // No second confirmation: the reply was it; the assignment notice follows.
    let outbox = eventually(15, || async {
        let outbox = fetch_json(&http, format!("{base}/_local/outbox")).await;
        messages_to(&outbox, RESIDENT)
            .iter()
            .any(|m| m.contains("przekazano do"))
            .then_some(outbox)
    })
    .await
    .expect("the assignment notice reaches the resident");
    assert_eq!(
        messages_to(&outbox, RESIDENT)
            .iter()
            .filter(|m| m.contains("przyjęliśmy zgłoszenie"))
            .count(),
        1,
        "{outbox}"
    );

    // STOP, then the department writes to both residents: only the neighbour hears.
    let stop = text(&http, &base, RESIDENT, "STOP").await;
    assert!(stop.contains("START"), "{stop}");
    let neighbour = text(&http, &base, NEIGHBOUR, "Nie świeci latarnia, ul. Długa 20").await;
    let other = case_in(&neighbour);
    wait_for_status(&http, &base, &other, "assigned", 15)
        .await
        .expect("assigned");
    let before = messages_to(
        &fetch_json(&http, format!("{base}/_local/outbox")).await,
        RESIDENT,
    )
    .len();
    for c in [&case, &other] {
        let r = http
            .post(format!("{base}/v1/department/assignments/{c}/notes"))
            .bearer_auth(&roads)
            .json(&json!({"note": "Ekipa będzie w czwartek"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    eventually(15, || async {
        let outbox = fetch_json(&http, format!("{base}/_local/outbox")).await;
        messages_to(&outbox, NEIGHBOUR)
            .iter()
            .any(|m| m.contains("Ekipa będzie w czwartek"))
            .then_some(())
    })
    .await
    .expect("the neighbour gets the department's note");
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let after = messages_to(
        &fetch_json(&http, format!("{base}/_local/outbox")).await,
        RESIDENT,
    );
    assert_eq!(after.len(), before, "nothing after STOP: {after:?}");
    system.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_refuses_what_the_provider_did_not_sign_and_answers_a_retry_once() {
    let system = start_system().await;
    let base = system.base_url();
    let http = reqwest::Client::new();
    let url = format!("{base}{SMS_WEBHOOK_PATH}");
    let fields: Vec<(String, String)> = [
        ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
        ("AccountSid", "AClocal0000000000000000000000000000"),
        ("From", "+48600555333"),
        ("To", "+48120000311"),
        ("Body", "Graffiti na murze szkoły, Rynek Główny 1"),
        ("NumMedia", "0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let post = |signature: Option<String>, fields: Vec<(String, String)>| {
        let mut request = http.post(&url).form(&fields);
        if let Some(s) = signature {
            request = request.header("X-Twilio-Signature", s);
        }
        request.send()
    };

    let unsigned = post(None, fields.clone()).await.unwrap();
    assert_eq!(unsigned.status(), 403);
    let wrong = sign("not-the-token", SignatureAlgorithm::HmacSha1, &url, &fields);
    assert_eq!(
        post(Some(wrong), fields.clone()).await.unwrap().status(),
        403
    );
    // Signed over other fields than those that arrive: refused too.
    let good = sign(LOCAL_SMS_TOKEN, SignatureAlgorithm::HmacSha1, &url, &fields);
    let mut tampered = fields.clone();
    tampered[4].1 = "Something else".into();
    assert_eq!(
        post(Some(good.clone()), tampered).await.unwrap().status(),
        403
    );
    let huge = vec![("Body".to_owned(), "a".repeat(70_000))];
    assert_eq!(post(Some(good.clone()), huge).await.unwrap().status(), 413);

    let first = post(Some(good.clone()), fields.clone()).await.unwrap();
    assert_eq!(first.status(), 200);
    assert!(
        first.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/xml")
    );
    let first = first.text().await.unwrap();
    assert!(
        first.contains("<Message>") && first.contains("przyjęliśmy zgłoszenie"),
        "{first}"
    );
    let again = post(Some(good), fields.clone())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        again.ends_with("<Response/>"),
        "a retry answers nothing: {again}"
    );

    // One request for the two deliveries.
    let found: Value = http
        .post(format!("{base}/v1/operator/callers/lookup"))
        .bearer_auth(&system.staff_tokens["operator"])
        .json(&json!({"phone": "+48600555333"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let all = found["open"].as_array().unwrap().len() + found["past"].as_array().unwrap().len();
    assert_eq!(all, 1, "{found}");
    assert_eq!(found["open"][0]["channel"], "sms", "{found}");
    system.shutdown().await;
}

/// A text to a number at AWS End User Messaging: published to the stack's
/// topic as that service does (played by `/_local/sms/inbound/end-user-messaging`),
/// delivered by the runner's SNS trigger, answered with `SendTextMessage`.
async fn text_through_topic(http: &reqwest::Client, base: &str, from: &str, body: &str, id: &str) {
    let published = http
        .post(format!("{base}/_local/sms/inbound/end-user-messaging"))
        .form(&[("From", from), ("Body", body), ("InboundMessageId", id)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        published.status(),
        200,
        "{}",
        published.text().await.unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_user_messaging_texts_arrive_through_the_topic_and_are_answered_once() {
    let system = start_system().await;
    let base = system.base_url();
    let http = reqwest::Client::new();
    const TEXTER: &str = "+48600555333";
    let report = "Dziura w jezdni przy ul. Długa 10, bardzo głęboka";
    // SNS delivers at least once: the same inboundMessageId twice.
    text_through_topic(&http, &base, TEXTER, report, "eum-0001").await;
    text_through_topic(&http, &base, TEXTER, report, "eum-0001").await;
    let answer = eventually(20, || async {
        let outbox = fetch_json(&http, format!("{base}/_local/outbox")).await;
        messages_to(&outbox, TEXTER)
            .into_iter()
            .find(|m| m.contains("przyjęliśmy zgłoszenie"))
    })
    .await
    .expect("the answer comes back by SendTextMessage");
    let case = case_in(&answer);
    wait_for_status(&http, &base, &case, "assigned", 15)
        .await
        .expect("the text became a request the pipeline routed");
    text_through_topic(&http, &base, TEXTER, &format!("STATUS {case}"), "eum-0002").await;
    let outbox = eventually(20, || async {
        let outbox = fetch_json(&http, format!("{base}/_local/outbox")).await;
        messages_to(&outbox, TEXTER)
            .iter()
            .any(|m| m.contains("przekazane do jednostki"))
            .then_some(outbox)
    })
    .await
    .expect("the status answer");
    let answers: Vec<&Value> = outbox
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["to"] == TEXTER && m["body"].as_str().unwrap_or("").contains("przyjęliśmy"))
        .collect();
    assert_eq!(answers.len(), 1, "two deliveries, one answer: {outbox}");
    assert_eq!(answers[0]["from"], citydesk_local::provider::LOCAL_SMS_FROM);
    let requests = fetch_json(
        &http,
        format!("{base}/open311/v2/requests.json?service_code=pothole"),
    )
    .await;
    let same: Vec<_> = requests
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["description"]
                .as_str()
                .unwrap_or("")
                .contains("bardzo głęboka")
        })
        .collect();
    assert_eq!(same.len(), 1, "one request: {requests}");
}
