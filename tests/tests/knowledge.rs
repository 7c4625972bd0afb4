//! The knowledge base on the real local system: the demo city's articles,
//! published by the runner as `city publish` does, searched and read by the
//! public and by staff, each seeing what the policy allows.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use citydesk_e2e::start_system;
use serde_json::Value;

async fn get(http: &reqwest::Client, url: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = http.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let r = request.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_reads_published_articles_and_staff_drafts_too() {
    let system = start_system().await;
    let base = system.base_url();
    let http = reqwest::Client::new();
    let staff = system.staff_tokens["operator"].clone();

    // A resident types without diacritics, with an inflected form.
    let (status, body) = get(
        &http,
        &format!("{base}/v1/kb/search?q=kanapa%20do%20wyrzucenia%20gabaryty"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(ids(&body)[0], "bulky-waste-pickup", "{body}");
    let first = &body["items"][0];
    for field in ["id", "title", "summary", "url"] {
        assert!(first[field].is_string(), "{field}: {first}");
    }
    assert!(
        first.get("status").is_none(),
        "the public is not told statuses"
    );

    // The article behind the link, in English when asked.
    let url = first["url"].as_str().unwrap().replace("lang=pl", "lang=en");
    let (status, article) = get(&http, &format!("{base}{url}"), None).await;
    assert_eq!(status, 200, "{article}");
    assert_eq!(article["language"], "en");
    assert!(article["body"].as_str().unwrap().len() > 200);
    assert!(article.get("staff").is_none(), "{article}");

    // The draft: staff find it (marked), the public neither finds nor opens it.
    let draft_q = format!("{base}/v1/kb/search?q=hulajnogi%20elektryczne");
    let (_, public) = get(&http, &draft_q, None).await;
    assert!(!ids(&public).contains(&"e-scooters".to_owned()), "{public}");
    let (status, staff_found) = get(&http, &draft_q, Some(&staff)).await;
    assert_eq!(status, 200);
    let draft = staff_found["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "e-scooters")
        .expect("staff find the draft");
    assert_eq!(draft["status"], "draft");
    let (status, _) = get(&http, &format!("{base}/v1/kb/articles/e-scooters"), None).await;
    assert_eq!(status, 404);
    let (status, opened) = get(
        &http,
        &format!("{base}/v1/kb/articles/e-scooters"),
        Some(&staff),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(opened["staff"]["status"], "draft");
    assert!(opened["staff"]["author"].is_string());

    // The retired article: nobody's search; staff may still open it.
    let retired_q = format!("{base}/v1/kb/search?q=papierowy%20abonament%20mieszkanca");
    let (_, found) = get(&http, &retired_q, Some(&staff)).await;
    assert!(
        !ids(&found).contains(&"paper-parking-permit".to_owned()),
        "{found}"
    );
    let retired = format!("{base}/v1/kb/articles/paper-parking-permit");
    assert_eq!(get(&http, &retired, None).await.0, 404);
    assert_eq!(get(&http, &retired, Some(&staff)).await.0, 200);

    // Articles past their review date, for the departments that own them.
    let review = format!("{base}/v1/kb/review-due");
    let (status, due) = get(
        &http,
        &review,
        Some(&system.staff_tokens["clerk:transport"]),
    )
    .await;
    assert_eq!(status, 200, "{due}");
    assert_eq!(ids(&due), ["public-transport-tickets"]);
    let (_, all) = get(&http, &review, Some(&system.staff_tokens["manager"])).await;
    assert_eq!(ids(&all), ["public-transport-tickets", "lost-property"]);
    assert_eq!(
        get(&http, &review, Some(&staff)).await.0,
        403,
        "operators own no articles"
    );
    assert_eq!(get(&http, &review, None).await.0, 401);

    // Bad questions: 400 naming the field; a bad token is 401, not the public view.
    for (query, field) in [
        ("q=", "q"),
        ("lang=pl", "q"),
        ("q=drzewo&lang=de", "lang"),
        ("q=drzewo&limit=500", "limit"),
        ("q=drzewo&sort=new", "query"),
    ] {
        let (status, body) = get(&http, &format!("{base}/v1/kb/search?{query}"), None).await;
        assert_eq!(
            (status, body["error"]["field"].as_str()),
            (400, Some(field)),
            "{query}: {body}"
        );
    }
    let long = "a".repeat(201);
    assert_eq!(
        get(&http, &format!("{base}/v1/kb/search?q={long}"), None)
            .await
            .0,
        400
    );
    assert_eq!(
        get(
            &http,
            &format!("{base}/v1/kb/search?q=drzewo"),
            Some("not-a-token")
        )
        .await
        .0,
        401
    );
    assert_eq!(
        get(&http, &format!("{base}/v1/kb/articles/NOT_AN_ID"), None)
            .await
            .0,
        404
    );
    system.shutdown().await;
}
