//! Staff sign-in on the real local system: the development issuer's tokens
//! (verified against its key set over HTTP, as Cognito's are) work on the
//! department API beside department keys, each role only where it may act,
//! and every kind of bad token answers 401.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use citydesk_e2e::{create_request, eventually, start_system};
use serde_json::{Value, json};

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = http.request(method, url).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let r = request.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_tokens_act_only_where_their_roles_allow() {
    let system = start_system().await;
    let base = system.base_url();
    let http = reqwest::Client::new();

    // The credentials file holds a ready token per demo role.
    let credentials: Value = serde_json::from_slice(
        &std::fs::read(system.stack_file.with_file_name("credentials.json")).unwrap(),
    )
    .unwrap();
    for role in [
        "operator",
        "manager",
        "quality",
        "admin",
        "clerk:roads",
        "expert:roads",
        "head:roads",
        "clerk:water",
    ] {
        assert!(
            credentials["staff"][role].is_string(),
            "no staff token for {role}: {credentials}"
        );
    }
    let token = |role: &str| credentials["staff"][role].as_str().unwrap().to_owned();

    let created = create_request(
        &http,
        &base,
        json!({"description": "Ogromna dziura w jezdni na ulicy Długiej", "lat": 50.07, "long": 19.935}),
    )
    .await;
    let case = created["case_number"].as_str().unwrap().to_owned();
    let list_url = format!("{base}/v1/department/assignments");
    let listed = |body: &Value| {
        body["assignments"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["case_number"] == case.as_str()))
    };
    let roads_clerk = token("clerk:roads");
    eventually(15, || async {
        let (status, body) = call(&http, reqwest::Method::GET, &list_url, &roads_clerk, None).await;
        (status == 200 && listed(&body)).then_some(())
    })
    .await
    .expect("the roads clerk sees the new pothole within 15 s");

    // Another department's clerk neither lists nor changes it: 404 as for a missing case.
    let water_clerk = token("clerk:water");
    let (status, body) = call(&http, reqwest::Method::GET, &list_url, &water_clerk, None).await;
    assert_eq!(status, 200);
    assert!(!listed(&body), "{body}");
    let status_url = format!("{base}/v1/department/assignments/{case}/status");
    let ack = json!({"status": "acknowledged"});
    let (status, body) = call(
        &http,
        reqwest::Method::POST,
        &status_url,
        &water_clerk,
        Some(ack.clone()),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    let missing_url = format!("{base}/v1/department/assignments/ZZZZ-ZZZZ/status");
    let (missing, missing_body) = call(
        &http,
        reqwest::Method::POST,
        &missing_url,
        &water_clerk,
        Some(ack.clone()),
    )
    .await;
    assert_eq!(
        (missing, missing_body["error"]["code"].clone()),
        (404, body["error"]["code"].clone())
    );
    // Naming the other department does not help.
    let (status, _) = call(
        &http,
        reqwest::Method::GET,
        &format!("{list_url}?department=roads"),
        &water_clerk,
        None,
    )
    .await;
    assert_eq!(status, 403);

    // The manager reads any department's work by naming it, and changes nothing.
    let manager = token("manager");
    let (status, body) = call(
        &http,
        reqwest::Method::GET,
        &format!("{list_url}?department=roads"),
        &manager,
        None,
    )
    .await;
    assert!(status == 200 && listed(&body), "{status} {body}");
    let (status, _) = call(
        &http,
        reqwest::Method::POST,
        &format!("{status_url}?department=roads"),
        &manager,
        Some(ack.clone()),
    )
    .await;
    assert_eq!(status, 403);
    // Operators work the triage queue, not the departments' work.
    let (status, _) = call(
        &http,
        reqwest::Method::GET,
        &list_url,
        &token("operator"),
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = call(
        &http,
        reqwest::Method::GET,
        &format!("{base}/v1/department/triage"),
        &token("operator"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // The roads clerk acknowledges it; the department key still works beside tokens.
    let (status, body) = call(
        &http,
        reqwest::Method::POST,
        &status_url,
        &roads_clerk,
        Some(ack),
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("acknowledged"))
    );
    let roads_key = system.published.department_keys["roads"].clone();
    let (status, body) = call(&http, reqwest::Method::GET, &list_url, &roads_key, None).await;
    assert!(status == 200 && listed(&body), "{status} {body}");

    // A valid token without a citydesk role: 403, saying what it needs.
    let issuer = &system.issuer;
    let no_role = issuer.token("someone", &["Domain Users"], 1).unwrap();
    let (status, body) = call(&http, reqwest::Method::GET, &list_url, &no_role, None).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("clerk"));

    // Every kind of bad token: 401, and nothing changes.
    let now = jiff::Timestamp::now().as_second();
    let claims = |patch: Value| {
        let mut c = json!({
            "sub": "intruder", "iss": issuer.issuer(), "aud": "citydesk-local-staff",
            "iat": now, "nbf": now, "exp": now + 600, "cognito:groups": ["head:roads"],
        });
        for (k, v) in patch.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    let b64 = |v: &Value| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let valid = issuer.sign(&claims(json!({}))).unwrap();
    let (status, _) = call(&http, reqwest::Method::GET, &list_url, &valid, None).await;
    assert_eq!(status, 200, "the control token works");
    let kid = jsonwebtoken::decode_header(&valid).unwrap().kid.unwrap();
    let signature = valid.rsplit('.').next().unwrap().to_owned();
    let jwks =
        citydesk_e2e::fetch_json(&http, format!("{}/.well-known/jwks.json", issuer.issuer())).await;
    let bad_tokens = [
        (
            "expired",
            issuer
                .sign(&claims(json!({"exp": now - 3600, "nbf": now - 7200})))
                .unwrap(),
        ),
        (
            "not yet valid",
            issuer
                .sign(&claims(json!({"nbf": now + 3600, "exp": now + 7200})))
                .unwrap(),
        ),
        (
            "wrong audience",
            issuer.sign(&claims(json!({"aud": "another-app"}))).unwrap(),
        ),
        (
            "wrong issuer",
            issuer
                .sign(&claims(json!({"iss": "https://evil.example"})))
                .unwrap(),
        ),
        (
            "tampered payload",
            format!(
                "{}.{}.{signature}",
                b64(&json!({"alg": "ES256", "kid": kid})),
                b64(&claims(
                    json!({"cognito:groups": ["admin", "head:roads", "head:water"]})
                ))
            ),
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "kid": kid})),
                b64(&claims(json!({})))
            ),
        ),
        (
            "HMAC with the public key as secret",
            jsonwebtoken::encode(
                &jsonwebtoken::Header {
                    kid: Some(kid.clone()),
                    ..jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256)
                },
                &claims(json!({})),
                &jsonwebtoken::EncodingKey::from_secret(jwks.to_string().as_bytes()),
            )
            .unwrap(),
        ),
        ("not a JWT", "hello".to_owned()),
        ("unknown key", {
            let other = citydesk_local::dev_issuer::DevIssuer::generate(&base).unwrap();
            other.sign(&claims(json!({}))).unwrap()
        }),
    ];
    for (what, bad) in &bad_tokens {
        let (status, body) = call(&http, reqwest::Method::GET, &list_url, bad, None).await;
        assert_eq!(status, 401, "{what}: {body}");
        let (status, _) = call(
            &http,
            reqwest::Method::POST,
            &format!("{base}/v1/department/assignments/{case}/notes"),
            bad,
            Some(json!({"note": "intruder"})),
        )
        .await;
        assert_eq!(status, 401, "{what}");
    }
    let (status, _) = http
        .get(&list_url)
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .unwrap();
    assert_eq!(status, 401, "no credential at all");
    system.shutdown().await;
}
