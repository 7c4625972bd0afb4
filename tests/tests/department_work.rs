//! A clerk works a case on the real local system with a staff token: reads it
//! with its ETag, claims it, finds it with filters, writes an internal note the
//! citizen never sees, asks the citizen for information (the clock pauses and
//! the citizen's answer restarts it), is refused a stale write, transfers it
//! (the other department gets it through routing), and that department rejects
//! it with a reason the citizen reads.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use citydesk_e2e::{create_request, eventually, fetch_json, start_system, wait_for_status};
use serde_json::{Value, json};

struct Desk {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Desk {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        if_match: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Option<String>, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(tag) = if_match {
            request = request.header("If-Match", tag);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let r = request.send().await.unwrap();
        let etag = r
            .headers()
            .get("etag")
            .map(|v| v.to_str().unwrap().to_owned());
        (
            r.status().as_u16(),
            etag,
            r.json().await.unwrap_or(Value::Null),
        )
    }
    async fn get(&self, path: &str) -> (u16, Option<String>, Value) {
        self.send(reqwest::Method::GET, path, None, None).await
    }
    async fn post(
        &self,
        path: &str,
        if_match: Option<&str>,
        body: Value,
    ) -> (u16, Option<String>, Value) {
        self.send(reqwest::Method::POST, path, if_match, Some(body))
            .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_works_a_case_from_claim_to_transfer() {
    let system = start_system().await;
    let base = system.base_url();
    let http = reqwest::Client::new();
    let credentials: Value = serde_json::from_slice(
        &std::fs::read(system.stack_file.with_file_name("credentials.json")).unwrap(),
    )
    .unwrap();
    let desk = |role: &str| Desk {
        http: http.clone(),
        base: base.clone(),
        token: credentials["staff"][role].as_str().unwrap().to_owned(),
    };
    let roads = desk("clerk:roads");
    let greenery = desk("clerk:greenery");

    let created = create_request(
        &http,
        &base,
        json!({"description": "Ogromna dziura w jezdni na ulicy Długiej", "lat": 50.07, "long": 19.935,
               "contact": {"email": "anna@example.org"}}),
    )
    .await;
    let case = created["case_number"].as_str().unwrap().to_owned();
    let tracking = created["tracking_token"].as_str().unwrap().to_owned();
    let case_path = format!("/v1/department/assignments/{case}");
    let (status, etag, view) = eventually(15, || async {
        let got = roads.get(&case_path).await;
        (got.0 == 200).then_some(got)
    })
    .await
    .expect("the roads clerk reads the new case within 15 s");
    assert_eq!(status, 200);
    let etag = etag.expect("a case answers with its ETag");
    assert_eq!(etag, format!("\"{}\"", view["version"]), "{view}");
    assert!(view["history"].as_array().unwrap().len() >= 3, "{view}");
    assert!(
        !view.to_string().contains("anna@example.org"),
        "no contact for clerks"
    );

    // Claim it; the list finds it as "mine", and no longer as nobody's.
    let (status, etag, claimed) = roads
        .post(
            &format!("{case_path}/assignee"),
            Some(&etag),
            json!({"assignee": "me"}),
        )
        .await;
    assert_eq!(status, 200, "{claimed}");
    let etag = etag.unwrap();
    let mine = roads
        .get("/v1/department/assignments?assignee=me&status=assigned")
        .await
        .2;
    assert!(mine.to_string().contains(&case), "{mine}");
    let nobodys = roads
        .get("/v1/department/assignments?assignee=none")
        .await
        .2;
    assert!(!nobodys.to_string().contains(&case), "{nobodys}");
    let (status, _, bad) = roads.get("/v1/department/assignments?due=tomorrow").await;
    assert_eq!((status, bad["error"]["field"].as_str()), (400, Some("due")));

    // A stale If-Match is refused with the version the case has now.
    let (status, current, stale) = roads
        .post(
            &format!("{case_path}/internal-notes"),
            Some("\"1\""),
            json!({"note": "Ekipa w czwartek"}),
        )
        .await;
    assert_eq!(status, 409, "{stale}");
    assert_eq!(stale["error"]["code"], "stale_version");
    assert_eq!(current.as_deref(), Some(etag.as_str()));
    assert_eq!(format!("\"{}\"", stale["error"]["current_version"]), etag);
    let (status, etag, _) = roads
        .post(
            &format!("{case_path}/internal-notes"),
            Some(&etag),
            json!({"note": "Ekipa w czwartek"}),
        )
        .await;
    assert_eq!(status, 200);

    // Ask the citizen; the clock pauses until they answer through their page.
    let (status, _, waiting) = roads
        .post(
            &format!("{case_path}/status"),
            etag.as_deref(),
            json!({"status": "waiting_for_citizen", "note": "Prosimy o zdjęcie ubytku"}),
        )
        .await;
    assert_eq!(status, 200, "{waiting}");
    assert!(waiting["sla_paused_at"].is_string(), "{waiting}");
    let citizen_view = |http: reqwest::Client, url: String, token: String| async move {
        http.get(url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    let view_url = format!("{base}/v1/requests/{case}");
    let seen = citizen_view(http.clone(), view_url.clone(), tracking.clone()).await;
    assert_eq!(seen["status"], "waiting_for_citizen", "{seen}");
    assert!(seen.to_string().contains("zdjęcie ubytku"), "{seen}");
    assert!(
        !seen.to_string().contains("czwartek"),
        "internal note shown: {seen}"
    );
    let public = fetch_json(&http, &view_url).await;
    assert!(!public.to_string().contains("czwartek"), "{public}");
    let answered = http
        .post(format!("{view_url}/updates"))
        .bearer_auth(&tracking)
        .json(&json!({"note": "Dziura ma ok. 30 cm"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status().as_u16(), 200);
    let (_, etag, resumed) = roads.get(&case_path).await;
    assert_eq!(resumed["status"], "in_progress", "{resumed}");
    assert!(resumed["sla_paused_at"].is_null(), "{resumed}");

    // Transfer it: routing gives it to greenery; roads no longer sees it.
    let (status, _, refused) = roads
        .post(
            &format!("{case_path}/transfer"),
            etag.as_deref(),
            json!({"department": "nowhere", "reason": "x"}),
        )
        .await;
    assert_eq!(
        (status, refused["error"]["field"].as_str()),
        (422, Some("department"))
    );
    let (status, _, moved) = roads
        .post(
            &format!("{case_path}/transfer"),
            etag.as_deref(),
            json!({"department": "greenery", "reason": "Korzenie drzewa pod jezdnią"}),
        )
        .await;
    assert_eq!(
        (status, moved["status"].as_str()),
        (200, Some("triaged")),
        "{moved}"
    );
    let (_, etag, theirs) = eventually(15, || async {
        let got = greenery.get(&case_path).await;
        (got.0 == 200).then_some(got)
    })
    .await
    .expect("greenery gets the transferred case through routing");
    assert_eq!(theirs["status"], "assigned");
    assert!(
        theirs["assignee"].is_null(),
        "a new department starts unassigned"
    );
    assert_eq!(roads.get(&case_path).await.0, 404);

    // Greenery rejects it; the citizen reads the reason, not the transfer's.
    let (status, _, no_reason) = greenery
        .post(
            &format!("{case_path}/status"),
            etag.as_deref(),
            json!({"status": "rejected"}),
        )
        .await;
    assert_eq!(
        (status, no_reason["error"]["field"].as_str()),
        (400, Some("note"))
    );
    let (status, _, rejected) = greenery
        .post(
            &format!("{case_path}/status"),
            etag.as_deref(),
            json!({"status": "rejected", "note": "To nie drzewo: zgłoszenie ponownie do drogowców"}),
        )
        .await;
    assert_eq!(status, 200, "{rejected}");
    wait_for_status(&http, &base, &case, "rejected", 10)
        .await
        .expect("the public view shows it rejected");
    let seen = citizen_view(http.clone(), view_url, tracking).await;
    assert!(seen.to_string().contains("To nie drzewo"), "{seen}");
    assert!(
        !seen.to_string().contains("Korzenie"),
        "transfer reason shown: {seen}"
    );
}
