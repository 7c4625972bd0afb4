//! The second line on the real local system: an operator asks the roads
//! experts on a caller's behalf (a retry is the same question), another
//! department's expert cannot see it, the roads expert answers, the operator
//! reads the answer, the caller gets it by SMS once, and a draft info card
//! lands in the bucket.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use citydesk_e2e::{common_config, eventually, fetch_json, start_system};
use serde_json::{Value, json};

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    token: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = http.request(method, url).bearer_auth(token);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let r = request.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_reaches_the_experts_and_the_answer_the_operator_and_the_caller() {
    let system = start_system().await;
    let base = system.base_url();
    let http = reqwest::Client::new();
    let credentials: Value = serde_json::from_slice(
        &std::fs::read(system.stack_file.with_file_name("credentials.json")).unwrap(),
    )
    .unwrap();
    let token = |role: &str| credentials["staff"][role].as_str().unwrap().to_owned();
    let (operator, roads_expert, water_expert) = (
        token("operator"),
        token("expert:roads"),
        token("expert:water"),
    );

    let ask = json!({
        "question": "Czy mieszkaniec może sam zasypać dziurę przed swoim domem?",
        "service_code": "pothole",
        "caller": {"phone": "+48600100444"}
    });
    let asked_url = format!("{base}/v1/operator/questions");
    let post = reqwest::Method::POST;
    let get = reqwest::Method::GET;
    let (status, asked) = call(
        &http,
        post.clone(),
        &asked_url,
        &operator,
        Some("call-42"),
        Some(ask.clone()),
    )
    .await;
    assert_eq!(status, 201, "{asked}");
    assert_eq!(asked["department"], "roads");
    assert!(
        !asked.to_string().contains("600100444"),
        "no contact in answers: {asked}"
    );
    let id = asked["id"].as_str().unwrap().to_owned();
    let (status, again) = call(
        &http,
        post.clone(),
        &asked_url,
        &operator,
        Some("call-42"),
        Some(ask),
    )
    .await;
    assert_eq!((status, again["id"].as_str()), (200, Some(id.as_str())));
    // Only operators ask; an unknown field is refused.
    let (status, _) = call(
        &http,
        post.clone(),
        &asked_url,
        &roads_expert,
        None,
        Some(json!({"question": "x", "department": "roads"})),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = call(
        &http,
        post.clone(),
        &asked_url,
        &operator,
        None,
        Some(json!({"question": "x", "department": "roads", "status": "answered"})),
    )
    .await;
    assert_eq!(status, 400);

    // The roads expert lists it; the water expert neither lists nor reads it.
    let list_url = format!("{base}/v1/expert/questions");
    let (status, listed) = call(&http, get.clone(), &list_url, &roads_expert, None, None).await;
    assert_eq!(status, 200, "{listed}");
    assert!(listed.to_string().contains(&id), "{listed}");
    let (status, theirs) = call(&http, get.clone(), &list_url, &water_expert, None, None).await;
    assert!(
        status == 200 && !theirs.to_string().contains(&id),
        "{status} {theirs}"
    );
    let one_url = format!("{base}/v1/expert/questions/{id}");
    let (status, _) = call(&http, get.clone(), &one_url, &water_expert, None, None).await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &http,
        post.clone(),
        &format!("{one_url}/answer"),
        &water_expert,
        None,
        Some(json!({"answer": "Tak"})),
    )
    .await;
    assert_eq!(status, 404);

    let answer = "Nie: ubytek zgłasza się do Zarządu Dróg, który naprawia go w ciągu 72 godzin.";
    let (status, answered) = call(
        &http,
        post.clone(),
        &format!("{one_url}/answer"),
        &roads_expert,
        None,
        Some(json!({"answer": answer})),
    )
    .await;
    assert_eq!(status, 200, "{answered}");
    assert_eq!(answered["status"], "answered");
    let (status, seen) = call(
        &http,
        get.clone(),
        &format!("{asked_url}/{id}"),
        &operator,
        None,
        None,
    )
    .await;
    assert_eq!(
        (status, seen["answer"]["text"].as_str()),
        (200, Some(answer))
    );
    let (_, listed) = call(&http, get, &list_url, &roads_expert, None, None).await;
    assert!(
        !listed.to_string().contains(&id),
        "answered leaves the open list: {listed}"
    );

    // The caller gets the answer by SMS, once.
    let outbox_url = format!("{base}/_local/outbox");
    let sent = eventually(15, || async {
        let outbox = fetch_json(&http, &outbox_url).await;
        let to_caller: Vec<Value> = outbox
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["body"].as_str().unwrap_or("").contains("72 godzin"))
            .cloned()
            .collect();
        (!to_caller.is_empty()).then_some(to_caller)
    })
    .await
    .expect("the caller is told the answer");
    assert_eq!(sent.len(), 1, "{sent:?}");

    // And a draft info card for roads to review.
    let config = common_config(&system);
    let sdk = citydesk_aws::config::Clients::new(&config).await;
    let draft = answered["draft_article"].as_str().unwrap();
    let object = sdk
        .s3
        .get_object()
        .bucket(&config.bucket_name)
        .key(format!(
            "knowledge/drafts/{}/{draft}.toml",
            config.jurisdiction
        ))
        .send()
        .await
        .expect("the draft article is in the bucket");
    let text = String::from_utf8(object.body.collect().await.unwrap().to_vec()).unwrap();
    assert!(
        text.contains("status = \"draft\"") && text.contains("owner = \"roads\""),
        "{text}"
    );
    assert!(text.contains("72 godzin"), "{text}");
}
