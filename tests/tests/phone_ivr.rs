//! The phone's IVR through the local system, invoked as Amazon Connect
//! invokes it (`/_local/invoke/PhoneIvrFunction` with a contact flow event):
//! a request from the bot's slots, its SMS confirmation, and its status
//! typed on the keypad once the department has it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use citydesk_core::ids::CaseNumber;
use citydesk_e2e::{eventually, fetch_json, start_system, wait_for_status};
use serde_json::Value;

const CALLER: &str = "+48600700800";

async fn invoke(http: &reqwest::Client, base: &str, event: &Value) -> Value {
    let r = http
        .post(format!("{base}/_local/invoke/PhoneIvrFunction"))
        .json(event)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_reports_by_phone_and_hears_the_status_from_the_keypad() {
    let system = start_system().await;
    let base = system.base_url();
    let http = reqwest::Client::new();
    let report: Value = serde_json::from_str(include_str!(
        "../../events/connect/ivr-report-from-bot.json"
    ))
    .unwrap();
    let made = invoke(&http, &base, &report).await;
    assert_eq!(made["result"], "created", "{made}");
    let case = CaseNumber::parse(made["case_number"].as_str().unwrap()).unwrap();
    assert!(made["prompt"].as_str().unwrap().contains(&case.spoken()));

    eventually(15, || async {
        let outbox = fetch_json(&http, format!("{base}/_local/outbox")).await;
        outbox
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["to"] == CALLER && m["body"].as_str().unwrap_or("").contains(case.as_str()))
            .then_some(())
    })
    .await
    .expect("the caller gets the confirmation by SMS");
    wait_for_status(&http, &base, case.as_str(), "assigned", 15)
        .await
        .expect("assigned");

    let mut keypad: Value =
        serde_json::from_str(include_str!("../../events/connect/ivr-status-keypad.json")).unwrap();
    keypad["Details"]["Parameters"]["case"] = Value::String(case.keypad());
    let status = invoke(&http, &base, &keypad).await;
    assert_eq!(status["result"], "found", "{status}");
    assert_eq!(status["status"], "assigned");
    assert!(
        status["prompt"]
            .as_str()
            .unwrap()
            .contains("przekazane do jednostki"),
        "{status}"
    );
    // Every value is a string, as a contact flow reads it.
    assert!(
        status.as_object().unwrap().values().all(Value::is_string),
        "{status}"
    );
    system.shutdown().await;
}
