//! One request from a citizen's POST to the archived report, through the real
//! HTTP API, queues, table and bucket of a stack created from template.yaml.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use citydesk_e2e::{eventually, start_system, start_system_with};
use serde_json::{Value, json};

async fn get_json(http: &reqwest::Client, url: String) -> (u16, Value) {
    let r = http.get(url).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_from_post_to_report() {
    let system = start_system().await;
    let base = system.base_url();
    let http = reqwest::Client::new();

    // A citizen reports a pothole in Polish, free text only.
    let created: Value = {
        let r = http
            .post(format!("{base}/v1/requests"))
            .header("idempotency-key", "e2e-1")
            .json(&json!({
                "description": "Na ulicy Długiej przy szkole jest ogromna dziura w jezdni",
                "lat": 50.07, "long": 19.935, "address": "ul. Długa 10",
                "contact": {"name": "Anna Nowak", "phone": "+48600100200"}
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        r.json().await.unwrap()
    };
    let case = created["case_number"].as_str().unwrap().to_owned();

    // Within 10 s it is classified and assigned to the roads department.
    let view = eventually(10, || async {
        let (status, view) = get_json(&http, format!("{base}/v1/requests/{case}")).await;
        (status == 200 && view["status"] == "assigned").then_some(view)
    })
    .await
    .expect("assigned within 10 s");
    assert_eq!(view["service_code"], "pothole");
    assert_eq!(view["department"], "roads");
    assert!(view["due_at"].is_string());
    assert!(!view.to_string().contains("600100200"));

    // The assignment reached the department's own queue.
    let roads_queue = system.published.department_queues["roads"].clone();
    let sqs = citydesk_aws::config::Clients::new(&citydesk_e2e::common_config(&system))
        .await
        .sqs;
    // (The route step sends it right after writing the assignment: wait for it.)
    let bodies: Vec<Value> = eventually(10, || async {
        let received = sqs
            .receive_message()
            .queue_url(&roads_queue)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        let bodies: Vec<Value> = received
            .messages
            .unwrap_or_default()
            .iter()
            .map(|m| serde_json::from_str(m.body.as_deref().unwrap()).unwrap())
            .collect();
        (!bodies.is_empty()).then_some(bodies)
    })
    .await
    .expect("an assignment message within 10 s");
    assert!(
        bodies.iter().any(|b| b["case_number"] == case.as_str()),
        "{bodies:?}"
    );
    assert!(!bodies.iter().any(|b| b.to_string().contains("Anna")));

    // The department works it with its key; another department cannot.
    let roads_key = system.published.department_keys["roads"].clone();
    let water_key = system.published.department_keys["water"].clone();
    let list: Value = http
        .get(format!("{base}/v1/department/assignments"))
        .bearer_auth(&roads_key)
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
    let status_url = format!("{base}/v1/department/assignments/{case}/status");
    let foreign = http
        .post(&status_url)
        .bearer_auth(&water_key)
        .json(&json!({"status": "acknowledged"}))
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status().as_u16(), 404);
    let anonymous = http
        .post(&status_url)
        .json(&json!({"status": "acknowledged"}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    for (body, expected) in [
        (json!({"status": "acknowledged"}), "acknowledged"),
        (
            json!({"status": "resolved", "note": "Ubytek załatany."}),
            "resolved",
        ),
    ] {
        let r = http
            .post(&status_url)
            .bearer_auth(&roads_key)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(r.json::<Value>().await.unwrap()["status"], expected);
    }

    // The citizen got the confirmation (with the tracking link), the assignment
    // and the resolution by SMS, once each (in whatever order the queue delivered them).
    let outbox = eventually(10, || async {
        let (_, outbox) = get_json(&http, format!("{base}/_local/outbox")).await;
        let mine: Vec<Value> = outbox
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["body"].as_str().unwrap_or("").contains(&case))
            .cloned()
            .collect();
        (mine.len() >= 3).then_some(mine)
    })
    .await
    .expect("three notifications within 10 s");
    assert_eq!(outbox.len(), 3, "{outbox:?}");
    assert!(
        outbox
            .iter()
            .all(|m| m["channel"] == "sms" && m["to"] == "+48600100200")
    );
    let body_with = |text: &str| {
        outbox
            .iter()
            .map(|m| m["body"].as_str().unwrap().to_owned())
            .find(|b| b.contains(text))
            .unwrap_or_else(|| panic!("no message with {text}: {outbox:?}"))
    };
    body_with("Zarząd Dróg Miasta Krakowa");
    body_with("Ubytek załatany.");
    let token = created["tracking_token"].as_str().unwrap();
    let confirmation = body_with(token);
    let link = confirmation
        .split_whitespace()
        .find(|w| w.starts_with("http"))
        .unwrap()
        .to_owned();
    assert!(
        link.starts_with(&format!("{base}/track/{case}?token=")),
        "the link in the confirmation leads to the tracking page: {link}"
    );
    let page = http.get(&link).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "the link opens a page, not JSON"
    );
    let page = page.text().await.unwrap();
    assert!(
        page.contains(&case) && page.contains("Załatwione"),
        "{page}"
    );
    // The API's private view answers the same token.
    let private: Value = http
        .get(format!("{base}/v1/requests/{case}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(private["status"], "resolved");

    // The report schedule, fired now for today, archives JSON and CSV once.
    let today = jiff::Zoned::now()
        .with_time_zone(jiff::tz::TimeZone::get("Europe/Warsaw").unwrap())
        .date();
    let run = |http: reqwest::Client| {
        let url = format!("{base}/_local/schedules/DailyReport/run");
        async move {
            http.post(url)
                .json(&json!({"date": today.to_string()}))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let first = run(http.clone()).await;
    assert_eq!(first["result"]["reports"][0]["created"], true, "{first}");
    let key = first["result"]["reports"][0]["json_key"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(key, format!("reports/krakow/daily/{today}.json"));
    let s3 = citydesk_aws::config::Clients::new(&citydesk_e2e::common_config(&system))
        .await
        .s3;
    let bucket = system.stack.resource("Bucket").unwrap();
    let object = s3
        .get_object()
        .bucket(bucket)
        .key(&key)
        .send()
        .await
        .unwrap();
    let report: Value =
        serde_json::from_slice(&object.body.collect().await.unwrap().into_bytes()).unwrap();
    assert_eq!(report["total"], 1);
    assert_eq!(report["by_status"]["resolved"], 1);
    assert_eq!(report["by_department"]["roads"], 1);
    assert_eq!(report["by_channel"]["web"], 1);
    let second = run(http.clone()).await;
    assert_eq!(
        second["result"]["reports"][0]["created"], false,
        "a second run writes nothing new"
    );

    system.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn english_request_by_email_and_bad_input_over_real_http() {
    let system = start_system().await;
    let base = system.base_url();
    let http = reqwest::Client::new();

    let r = http
        .post(format!("{base}/v1/requests"))
        .json(
            &json!({"description": "A tree branch fell and blocks the pavement", "language": "en",
                      "lat": 50.02, "long": 20.1, "contact": {"email": "resident@example.org"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let case = r.json::<Value>().await.unwrap()["case_number"]
        .as_str()
        .unwrap()
        .to_owned();
    let mail = eventually(10, || async {
        let (_, outbox) = get_json(&http, format!("{base}/_local/outbox")).await;
        outbox
            .as_array()
            .unwrap()
            .iter()
            .find(|m| {
                let body = m["body"].as_str().unwrap_or("");
                body.contains(&case) && body.contains("passed to")
            })
            .cloned()
    })
    .await
    .expect("e-mail within 10 s");
    assert_eq!(mail["channel"], "email");
    assert_eq!(mail["via"], "ses", "SES is the default provider: {mail}");
    assert_eq!(mail["to"], "resident@example.org");
    assert!(
        mail["body"]
            .as_str()
            .unwrap()
            .contains("Municipal Greenery Authority"),
        "{mail}"
    );

    for (request, status, field) in [
        (
            http.post(format!("{base}/v1/requests"))
                .json(&json!({"description": "x", "lat": 91, "long": 19})),
            400,
            "lat",
        ),
        (
            http.post(format!("{base}/v1/requests"))
                .json(&json!({"description": "x", "service_code": "teleport"})),
            422,
            "service_code",
        ),
        (
            http.post(format!("{base}/v1/requests"))
                .json(&json!({"description": "x", "status": "closed"})),
            400,
            "status",
        ),
        (
            http.post(format!("{base}/v1/requests"))
                .body("description=x")
                .header("content-type", "text/plain"),
            415,
            "",
        ),
        (
            http.post(format!("{base}/v1/requests"))
                .json(&json!({"description": "a".repeat(70_000)})),
            413,
            "",
        ),
        (http.get(format!("{base}/v1/requests/2222-2222")), 404, ""),
        (http.get(format!("{base}/v1/nowhere")), 404, ""),
    ] {
        let r = request.send().await.unwrap();
        assert_eq!(r.status().as_u16(), status);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["status"], status, "{body}");
        if !field.is_empty() {
            assert_eq!(body["error"]["field"], field, "{body}");
        }
    }
    let logs = citydesk_e2e::captured_logs();
    for private in ["resident@example.org", "tree branch fell"] {
        assert!(
            !logs.contains(private),
            "logs contain personal data or free text: {private}"
        );
    }
    let health = http.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    system.shutdown().await;
}

/// The Twilio- and Postmark-compatible providers, when a city chooses them,
/// carry the same notifications (their fakes check the account's
/// credentials, as the real APIs do).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_providers_carry_notifications_when_the_city_chooses_them() {
    let system = start_system_with(
        &["SmsProvider=twilio", "EmailProvider=postmark"],
        &["infra/demo-city"],
    )
    .await;
    let base = system.base_url();
    let http = reqwest::Client::new();
    let mut cases = Vec::new();
    for contact in [
        json!({"phone": "+48600777001"}),
        json!({"email": "mieszkanka@example.org"}),
    ] {
        let r = http
            .post(format!("{base}/v1/requests"))
            .json(
                &json!({"description": "Dziura w jezdni", "lat": 50.0614, "long": 19.9366,
                          "contact": contact}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        cases.push(
            r.json::<Value>().await.unwrap()["case_number"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let carried = eventually(20, || async {
        let (_, outbox) = get_json(&http, format!("{base}/_local/outbox")).await;
        let via = |case: &str| {
            outbox
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["body"].as_str().unwrap_or("").contains(case))
                .map(|m| (m["channel"].clone(), m["via"].clone()))
        };
        Some((via(&cases[0])?, via(&cases[1])?))
    })
    .await
    .expect("both residents told");
    assert_eq!(carried.0, (json!("sms"), json!("twilio")));
    assert_eq!(carried.1, (json!("email"), json!("postmark")));
    system.shutdown().await;
}
