//! A resident writes to the city, through the local system: a raw message
//! dropped where SES's receipt rule stores it becomes a request confirmed by
//! e-mail with the case number and link; the resident's reply (quoting
//! ours) threads into the case; an automatic reply is never answered.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use citydesk_aws::config::Clients;
use citydesk_e2e::{common_config, eventually, fetch_json, start_system};
use serde_json::Value;

const RESIDENT: &str = "anna.nowak@example.pl";

fn mail_to(outbox: &Value, to: &str) -> Vec<(String, String)> {
    outbox
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["channel"] == "email" && m["to"] == to)
        .map(|m| {
            (
                m["subject"].as_str().unwrap_or_default().to_owned(),
                m["body"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_becomes_a_request_and_the_reply_threads_into_it() {
    let system = start_system().await;
    let base = system.base_url();
    let http = reqwest::Client::new();
    let config = common_config(&system);
    let s3 = Clients::new(&config).await.s3;
    let drop_mail = |id: &'static str, raw: Vec<u8>| {
        let s3 = s3.clone();
        let bucket = config.bucket_name.clone();
        async move {
            s3.put_object()
                .bucket(bucket)
                .key(format!("inbound-mail/{id}"))
                .body(raw.into())
                .send()
                .await
                .unwrap();
        }
    };

    drop_mail(
        "e2e-plain",
        include_bytes!("../../events/email/plain-utf8.eml").to_vec(),
    )
    .await;
    let (subject, body) = eventually(20, || async {
        let outbox = fetch_json(&http, format!("{base}/_local/outbox")).await;
        mail_to(&outbox, RESIDENT)
            .into_iter()
            .find(|(_, body)| body.contains("przyjęliśmy zgłoszenie"))
    })
    .await
    .expect("the confirmation reaches the resident by e-mail");
    let case = subject.rsplit(' ').next().unwrap().to_owned();
    let link = body
        .split_whitespace()
        .find(|w| w.contains("/track/"))
        .unwrap();
    let token = link
        .split("token=")
        .nth(1)
        .unwrap()
        .trim_end_matches('.')
        .to_owned();

    // Our mail is answered to the residents' address tagged with the case.
    let outbox = fetch_json(&http, format!("{base}/_local/outbox")).await;
    let reply_to = outbox
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["body"] == body.as_str())
        .and_then(|m| m["reply_to"].as_str())
        .expect("the confirmation has a Reply-To")
        .to_owned();
    assert_eq!(reply_to, format!("zgloszenia+{case}@example.org"));
    // The reply (to that address) quotes our message: only the new words reach the case.
    let reply = String::from_utf8_lossy(include_bytes!("../../events/email/reply-to-case.eml"))
        .replace("requests+7H3K-9QX2@krakow.example", &reply_to)
        .replace("7H3K-9QX2", &case)
        .into_bytes();
    drop_mail("e2e-reply", reply).await;
    let history = eventually(20, || async {
        let mine: Value = http
            .get(format!("{base}/v1/requests/{case}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let history = mine["history"].as_array().cloned().unwrap_or_default();
        history
            .iter()
            .any(|e| e.to_string().contains("wpadł w nią rowerzysta"))
            .then_some(history)
    })
    .await
    .expect("the reply is in the case's history");
    assert!(
        !history
            .iter()
            .any(|e| e.to_string().contains("przyjęliśmy zgłoszenie")),
        "the quote is cut: {history:?}"
    );

    // An out-of-office answer to our notices creates nothing and gets no answer
    // (counted once the assignment notice, which comes on its own, is there).
    eventually(20, || async {
        let outbox = fetch_json(&http, format!("{base}/_local/outbox")).await;
        mail_to(&outbox, RESIDENT)
            .iter()
            .any(|(_, body)| body.contains("przekazano do"))
            .then_some(())
    })
    .await
    .expect("the assignment notice");
    let before = mail_to(
        &fetch_json(&http, format!("{base}/_local/outbox")).await,
        RESIDENT,
    )
    .len();
    drop_mail(
        "e2e-auto",
        include_bytes!("../../events/email/auto-reply.eml").to_vec(),
    )
    .await;
    drop_mail(
        "e2e-control",
        include_bytes!("../../events/email/windows-1250.eml").to_vec(),
    )
    .await;
    eventually(20, || async {
        let outbox = fetch_json(&http, format!("{base}/_local/outbox")).await;
        (!mail_to(&outbox, "ewa@example.pl").is_empty()).then_some(())
    })
    .await
    .expect("the message after it is taken");
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let outbox = fetch_json(&http, format!("{base}/_local/outbox")).await;
    let after = mail_to(&outbox, RESIDENT);
    assert_eq!(
        after.len(),
        before,
        "no answer to an automatic reply: {after:?}"
    );
    system.shutdown().await;
}
