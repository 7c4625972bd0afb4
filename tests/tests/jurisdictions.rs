//! One deployment serving two cities: `jurisdiction_id` picks the catalogue,
//! requests stay in their city, and each is routed by its own city's rules.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use citydesk_e2e::{eventually, start_system_with};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_cities_one_deployment() {
    let system = start_system_with(
        &["AdditionalJurisdictionIds=wieliczka"],
        &["infra/demo-city", "infra/demo-city-wieliczka"],
    )
    .await;
    let base = format!("{}/open311/v2", system.base_url());
    let http = reqwest::Client::new();
    let get = |url: String| {
        let http = http.clone();
        async move {
            let r = http.get(url).send().await.unwrap();
            (
                r.status().as_u16(),
                r.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };

    let (status, services) = get(format!("{base}/services.json?jurisdiction_id=wieliczka")).await;
    assert_eq!(status, 200);
    assert_eq!(services.as_array().unwrap().len(), 3, "{services}");
    let (status, services) = get(format!("{base}/services.json?jurisdiction_id=krakow")).await;
    assert_eq!((status, services.as_array().unwrap().len()), (200, 20));
    let (status, err) = get(format!("{base}/services.json")).await;
    assert_eq!(status, 400, "two cities: jurisdiction_id is required");
    assert!(
        err[0]["description"]
            .as_str()
            .unwrap()
            .contains("krakow, wieliczka"),
        "{err}"
    );
    assert_eq!(
        get(format!("{base}/services.json?jurisdiction_id=gdansk"))
            .await
            .0,
        404
    );

    // A pothole in Wieliczka goes to Wieliczka's roads office, and stays Wieliczka's.
    let r = http
        .post(format!("{base}/requests.json"))
        .form(&[
            ("api_key", system.open311_api_key.as_str()),
            ("jurisdiction_id", "wieliczka"),
            ("service_code", "pothole"),
            ("lat", "49.985"),
            ("long", "20.06"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let id = r.json::<Value>().await.unwrap()[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let one = eventually(10, || async {
        let (_, one) = get(format!(
            "{base}/requests/{id}.json?jurisdiction_id=wieliczka"
        ))
        .await;
        one[0]["agency_responsible"].is_string().then_some(one)
    })
    .await
    .expect("routed within 10 s");
    assert_eq!(one[0]["agency_responsible"], "Referat Dróg Gminy Wieliczka");
    assert_eq!(
        get(format!("{base}/requests/{id}.json?jurisdiction_id=krakow"))
            .await
            .0,
        404
    );
    let (_, krakow) = get(format!("{base}/requests.json?jurisdiction_id=krakow")).await;
    assert!(
        krakow
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["service_request_id"] != id.as_str())
    );

    // Its department, and only its department, has the work.
    let key = system.published.department_keys["wieliczka-roads"].clone();
    let list: Value = http
        .get(format!("{}/v1/department/assignments", system.base_url()))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["assignments"][0]["case_number"], id.as_str());
    assert_eq!(list["assignments"][0]["service_name"], "Dziura w jezdni");
    system.shutdown().await;
}
