//! The citizen's own view of a request through the local system: a note from
//! the department, "not fixed" reopening it back to the department, and the
//! final confirmation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use citydesk_e2e::{eventually, fetch_json, fetch_text, start_system};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn note_reopen_and_confirm() {
    let system = start_system().await;
    let base = system.base_url();
    let http = reqwest::Client::new();
    let created: Value = http
        .post(format!("{base}/v1/requests"))
        .json(
            &json!({"description": "Wyrwa w jezdni na Grzegórzeckiej", "service_code": "pothole",
                      "lat": 50.058, "long": 19.96, "contact": {"phone": "+48600999888"}}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let case = created["case_number"].as_str().unwrap().to_owned();
    let token = created["tracking_token"].as_str().unwrap().to_owned();
    let status_of = |http: reqwest::Client| {
        let url = format!("{base}/v1/requests/{case}");
        async move {
            http.get(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()["status"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        }
    };
    eventually(10, || async {
        (status_of(http.clone()).await == "assigned").then_some(())
    })
    .await
    .expect("assigned");

    let key = system.published.department_keys["roads"].clone();
    let dept = |path: &str, body: Value| {
        http.post(format!("{base}/v1/department/assignments/{case}/{path}"))
            .bearer_auth(&key)
            .json(&body)
            .send()
    };
    let r = dept("notes", json!({"note": "Ekipa będzie w czwartek"}))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);

    // The citizen sees the note in their view and gets it by SMS; the public does not.
    let private: Value = http
        .get(format!("{base}/v1/requests/{case}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        private["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["note"] == "Ekipa będzie w czwartek"),
        "{private}"
    );
    let public = fetch_text(&http, format!("{base}/v1/requests/{case}")).await;
    assert!(!public.contains("czwartek"), "{public}");
    eventually(10, || async {
        let outbox: Value = fetch_json(&http, format!("{base}/_local/outbox")).await;
        outbox
            .as_array()
            .unwrap()
            .iter()
            .any(|m| {
                m["body"]
                    .as_str()
                    .unwrap_or("")
                    .contains("Ekipa będzie w czwartek")
            })
            .then_some(())
    })
    .await
    .expect("the note reaches the citizen by SMS");

    // Resolved; the citizen says it is not: reopened, and the department has it again.
    assert_eq!(
        dept("status", json!({"status": "resolved", "note": "Załatane"}))
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    let follow = |body: Value| {
        http.post(format!("{base}/v1/requests/{case}/updates"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let r = follow(json!({"fixed": false, "note": "Dziura nadal jest"}))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    eventually(10, || async {
        (status_of(http.clone()).await == "assigned").then_some(())
    })
    .await
    .expect("reassigned after reopening");
    let list: Value = http
        .get(format!("{base}/v1/department/assignments"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        list["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["case_number"] == case.as_str())
    );

    // Resolved again, and confirmed: closed.
    assert_eq!(
        dept(
            "status",
            json!({"status": "resolved", "note": "Załatane ponownie"})
        )
        .await
        .unwrap()
        .status()
        .as_u16(),
        200
    );
    let r = follow(json!({"fixed": true})).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "closed");
    let wrong = http
        .post(format!("{base}/v1/requests/{case}/updates"))
        .bearer_auth("not-the-token")
        .json(&json!({"fixed": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    system.shutdown().await;
}
