//! The first line on the real local system: an operator looks a caller up
//! by phone (and the read lands in the audit trail first), registers a
//! request on a caller's behalf from the phone, and records a contact
//! answered from the knowledge base; nobody else reads a caller's data.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use citydesk_e2e::{create_request, eventually, start_system};
use serde_json::{Value, json};

async fn post(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    body: Value,
    idempotency_key: Option<&str>,
) -> (u16, Value) {
    let mut request = http.post(url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(key) = idempotency_key {
        request = request.header("Idempotency-Key", key);
    }
    let r = request.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_finds_a_caller_registers_for_them_and_answers_from_the_knowledge_base() {
    let system = start_system().await;
    let base = system.base_url();
    let http = reqwest::Client::new();
    let operator = system.staff_tokens["operator"].clone();
    let quality = system.staff_tokens["quality"].clone();
    let phone = "+48600777111";

    // The resident reported a pothole on the web, leaving a phone number.
    let created = create_request(
        &http,
        &base,
        json!({"description": "Dziura na ulicy Karmelickiej", "lat": 50.066, "long": 19.93,
               "contact": {"name": "Anna Nowak", "phone": phone}}),
    )
    .await;
    let web_case = created["case_number"].as_str().unwrap().to_owned();

    // She calls: the operator finds her by the number she calls from.
    let lookup = format!("{base}/v1/operator/callers/lookup");
    let (status, found) = post(
        &http,
        &lookup,
        Some(&operator),
        json!({"phone": phone}),
        None,
    )
    .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["contact"]["name"], "Anna Nowak");
    assert_eq!(found["contact"]["phone"], phone);
    assert_eq!(
        found["open"][0]["case_number"],
        web_case.as_str(),
        "{found}"
    );
    assert!(found["past"].as_array().unwrap().is_empty());
    // Nobody but an operator reads it; the public not at all.
    for role in ["clerk:roads", "manager", "quality", "head:roads"] {
        let token = system.staff_tokens[role].clone();
        let (status, _) = post(&http, &lookup, Some(&token), json!({"phone": phone}), None).await;
        assert_eq!(status, 403, "{role}");
    }
    assert_eq!(
        post(&http, &lookup, None, json!({"phone": phone}), None)
            .await
            .0,
        401
    );
    let key = system.published.department_keys["roads"].clone();
    assert_eq!(
        post(&http, &lookup, Some(&key), json!({"phone": phone}), None)
            .await
            .0,
        401
    );
    for (body, field) in [
        (json!({"phone": phone, "email": "a@example.org"}), "phone"),
        (json!({}), "phone"),
        (json!({"phone": "not a number"}), "phone"),
        (json!({"email": "nobody"}), "email"),
        (json!({"name": "Anna"}), "name"),
    ] {
        let (status, answer) = post(&http, &lookup, Some(&operator), body.clone(), None).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
    }

    // She reports a second problem by phone: registered on her behalf.
    let register = format!("{base}/v1/operator/requests");
    let call = json!({"channel": "phone", "description": "Nie świeci latarnia przy przystanku Plac Inwalidów",
                      "lat": 50.069, "long": 19.926, "contact": {"phone": phone}});
    let (status, registered) = post(
        &http,
        &register,
        Some(&operator),
        call.clone(),
        Some("call-42"),
    )
    .await;
    assert_eq!(status, 201, "{registered}");
    assert_eq!(registered["channel"], "phone");
    let phone_case = registered["case_number"].as_str().unwrap().to_owned();
    // The operator's retry of the same call files nothing new.
    let (status, again) = post(
        &http,
        &register,
        Some(&operator),
        call.clone(),
        Some("call-42"),
    )
    .await;
    assert_eq!(
        (status, again["case_number"].clone()),
        (200, registered["case_number"].clone())
    );
    // What a resident may not set, an operator may not either; channels are the operator's.
    for (patch, field) in [
        (json!({"channel": "web"}), "channel"),
        (json!({"channel": null}), "channel"),
        (json!({"status": "resolved"}), "status"),
        (json!({"department": "roads"}), "department"),
        (json!({"media": ["uploads/x.jpg"]}), "media"),
    ] {
        let mut body = call.clone();
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        let (status, answer) = post(&http, &register, Some(&operator), body, None).await;
        assert_eq!(status, 400, "{patch}: {answer}");
        assert!(
            answer["error"]["message"].as_str().unwrap().contains(field)
                || answer["error"]["field"] == field,
            "{patch}: {answer}"
        );
    }
    let clerk = system.staff_tokens["clerk:roads"].clone();
    assert_eq!(
        post(&http, &register, Some(&clerk), call.clone(), None)
            .await
            .0,
        403
    );
    // The public status page says it came by phone.
    let public: Value = http
        .get(format!("{base}/v1/requests/{phone_case}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(public["channel"], "phone", "{public}");

    // A question answered from the knowledge base: resolved at first contact, once.
    let contacts = format!("{base}/v1/operator/contacts");
    let answered = json!({"channel": "phone", "articles": ["bulky-waste-pickup"]});
    let (status, first) = post(
        &http,
        &contacts,
        Some(&operator),
        answered.clone(),
        Some("call-43"),
    )
    .await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["outcome"], "resolved_at_first_contact");
    let (status, repeat) = post(
        &http,
        &contacts,
        Some(&operator),
        answered.clone(),
        Some("call-43"),
    )
    .await;
    assert_eq!((status, repeat["id"].clone()), (200, first["id"].clone()));
    let (status, _) = post(
        &http,
        &contacts,
        Some(&operator),
        json!({"channel": "phone", "articles": ["no-such-article"]}),
        None,
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = post(
        &http,
        &contacts,
        Some(&operator),
        json!({"channel": "phone", "articles": []}),
        None,
    )
    .await;
    assert_eq!(status, 400);

    // The audit trail holds the lookup (without the number), the
    // registration (through the outbox) and the answered contact.
    let day = jiff::Timestamp::now().strftime("%Y-%m-%d").to_string();
    let records = eventually(20, || async {
        let r = http
            .get(format!("{base}/v1/audit/records?day={day}"))
            .bearer_auth(&quality)
            .send()
            .await
            .unwrap();
        let body: Value = r.json().await.unwrap();
        let records = body["records"].as_array().cloned().unwrap_or_default();
        let registered = records
            .iter()
            .any(|r| r["what"] == "created" && r["case_numbers"][0] == phone_case.as_str());
        registered.then_some(records)
    })
    .await
    .expect("the registration reaches the audit trail within 20 s");
    let lookups: Vec<&Value> = records
        .iter()
        .filter(|r| r["what"] == "caller_lookup")
        .collect();
    assert_eq!(
        lookups.len(),
        1,
        "refused lookups read nothing: {lookups:?}"
    );
    assert_eq!(lookups[0]["subject"], "demo-operator");
    assert_eq!(lookups[0]["action"], "read_personal_data");
    assert_eq!(lookups[0]["detail"], "by phone: 1 request(s)");
    assert_eq!(lookups[0]["case_numbers"][0], web_case.as_str());
    let registration = records
        .iter()
        .find(|r| r["what"] == "created" && r["case_numbers"][0] == phone_case.as_str())
        .unwrap();
    assert_eq!(registration["subject"], "demo-operator");
    assert_eq!(registration["via"], "operator-api");
    let answered: Vec<&Value> = records
        .iter()
        .filter(|r| r["what"] == "first_contact_resolution")
        .collect();
    assert_eq!(answered.len(), 1, "the retry is one contact: {answered:?}");
    let trail = serde_json::to_string(&records).unwrap();
    assert!(!trail.contains("600777111"), "no phone number in the trail");
    assert!(!trail.contains("Nowak"), "no name in the trail");

    // Today's report counts the contact resolved at first contact beside the
    // request registered by phone.
    let today = jiff::Zoned::now()
        .with_time_zone(jiff::tz::TimeZone::get("Europe/Warsaw").unwrap())
        .date();
    let run: Value = http
        .post(format!("{base}/_local/schedules/DailyReport/run"))
        .json(&json!({"date": today.to_string()}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = run["result"]["reports"][0]["json_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let s3 = citydesk_aws::config::Clients::new(&citydesk_e2e::common_config(&system))
        .await
        .s3;
    let object = s3
        .get_object()
        .bucket(system.stack.resource("Bucket").unwrap())
        .key(&key)
        .send()
        .await
        .unwrap();
    let report: Value =
        serde_json::from_slice(&object.body.collect().await.unwrap().into_bytes()).unwrap();
    assert_eq!(report["first_contact"]["answered"], 1, "{report}");
    assert_eq!(report["first_contact"]["registered"], 1, "{report}");
    assert_eq!(report["first_contact"]["resolution_rate"], 0.5, "{report}");
    system.shutdown().await;
}

/// The preview the operator console and the residents' form call as text is
/// typed: the services with their department and due time, nothing filed,
/// and a client that floods it is told to wait while others are served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_preview_suggests_and_holds_a_flooding_client_back() {
    let system = start_system().await;
    let base = system.base_url();
    let http = reqwest::Client::new();
    let url = format!("{base}/v1/classify");
    let preview = |client: &'static str, body: Value| {
        let request = http
            .post(&url)
            .header("x-forwarded-for", client)
            .json(&body);
        async move {
            let r = request.send().await.unwrap();
            let retry_after = r
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            (
                r.status().as_u16(),
                retry_after,
                r.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let graffiti =
        json!({"description": "Graffiti na murze kamienicy", "lat": 50.0614, "long": 19.9366});
    let (status, _, answer) = preview("198.51.100.1", graffiti.clone()).await;
    assert_eq!(status, 200, "{answer}");
    let first = &answer["suggestions"][0];
    assert_eq!(first["service_code"], "graffiti", "{answer}");
    // In the Old Town the conservator gets graffiti, as routing would decide.
    assert_eq!(first["department"], "heritage", "{answer}");
    assert!(first["due_at"].is_string(), "{answer}");
    let (status, _, english) = preview(
        "198.51.100.1",
        json!({"description": "huge pothole in the road", "language": "en"}),
    )
    .await;
    assert_eq!(status, 200, "{english}");
    assert_eq!(english["suggestions"][0]["service_code"], "pothole");
    let (status, _, refused) = preview(
        "198.51.100.1",
        json!({"description": "dziura", "status": "assigned"}),
    )
    .await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (400, Some("invalid_field"))
    );
    // Nothing was filed.
    let listed = citydesk_e2e::fetch_json(&http, format!("{base}/open311/v2/requests.json")).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(0), "{listed}");

    // One address past its burst waits; another is served meanwhile.
    let mut limited = None;
    for _ in 0..15 {
        let (status, retry_after, body) = preview("203.0.113.9", graffiti.clone()).await;
        if status == 429 {
            limited = Some((retry_after, body));
            break;
        }
        assert_eq!(status, 200, "{body}");
    }
    let (retry_after, body) = limited.expect("a flood from one address is held back");
    assert!(
        retry_after.is_some_and(|s| s.parse::<u64>().unwrap() >= 1),
        "{body}"
    );
    assert_eq!(body["error"]["code"], "rate_limited");
    assert_eq!(preview("198.51.100.7", graffiti).await.0, 200);
}
