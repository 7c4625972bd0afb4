//! Open311 through the local system: requests posted as XML and as JSON appear
//! alike in both formats and in the native API, and are routed like any other.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use citydesk_e2e::{eventually, fetch_json, fetch_text, start_system};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open311_requests_in_xml_and_json_appear_everywhere() {
    let system = start_system().await;
    let base = format!("{}/open311/v2", system.base_url());
    let http = reqwest::Client::new();
    let key = system.open311_api_key.clone();

    let mut ids = Vec::new();
    for (format, form) in [
        (
            "xml",
            format!(
                "api_key={key}&jurisdiction_id=krakow&service_code=pothole&lat=50.07&long=19.935&description=Dziura%20przy%20szkole&attribute[size]=large"
            ),
        ),
        (
            "json",
            format!(
                "api_key={key}&service_code=fallen-tree&address_string=ul.%20D%C5%82uga%2010&description=Drzewo%20na%20chodniku&attribute[blocking]=pavement"
            ),
        ),
    ] {
        let r = http
            .post(format!("{base}/requests.{format}"))
            .header(
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )
            .body(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        let body = r.text().await.unwrap();
        let id = if format == "json" {
            serde_json::from_str::<Value>(&body).unwrap()[0]["service_request_id"]
                .as_str()
                .unwrap()
                .to_owned()
        } else {
            body.split("<service_request_id>")
                .nth(1)
                .unwrap()
                .split('<')
                .next()
                .unwrap()
                .to_owned()
        };
        ids.push(id);
    }

    for id in &ids {
        // Routed like a native request: the native view shows the department.
        let native = eventually(10, || async {
            let v: Value = http
                .get(format!("{}/v1/requests/{id}", system.base_url()))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            (v["status"] == "assigned").then_some(v)
        })
        .await
        .expect("assigned within 10 s");
        let json: Value = fetch_json(&http, format!("{base}/requests/{id}.json")).await;
        let xml = fetch_text(&http, format!("{base}/requests/{id}.xml")).await;
        let one = &json[0];
        assert_eq!(one["service_request_id"], id.as_str());
        assert_eq!(one["status"], "open");
        assert_eq!(one["service_code"], native["service_code"]);
        assert_eq!(one["agency_responsible"], native["department_name"]);
        for field in [
            "service_request_id",
            "service_code",
            "status",
            "requested_datetime",
            "expected_datetime",
            "agency_responsible",
        ] {
            let value = one[field].as_str().unwrap();
            assert!(
                xml.contains(&format!("<{field}>{value}</{field}>")),
                "{field} differs between JSON and XML: {xml}"
            );
        }
    }

    let list: Value = fetch_json(
        &http,
        format!("{base}/requests.json?service_code=pothole,fallen-tree"),
    )
    .await;
    let listed: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["service_request_id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, vec![ids[1].as_str(), ids[0].as_str()]);
    // Filters and pages give exactly the expected sets.
    for (query, expected) in [
        ("service_code=pothole", vec![ids[0].as_str()]),
        (
            "service_code=pothole,fallen-tree&page_size=1&page=2",
            vec![ids[0].as_str()],
        ),
        (
            "service_code=pothole,fallen-tree&page_size=1",
            vec![ids[1].as_str()],
        ),
        ("service_code=noise", vec![]),
        ("status=closed", vec![]),
        (
            &format!("service_request_id={}", ids[1]),
            vec![ids[1].as_str()],
        ),
    ] {
        let list: Value = fetch_json(&http, format!("{base}/requests.json?{query}")).await;
        let got: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["service_request_id"].as_str().unwrap())
            .collect();
        assert_eq!(got, expected, "{query}");
    }
    let bad = http
        .post(format!("{base}/requests.json"))
        .form(&[("service_code", "pothole"), ("lat", "50"), ("long", "19.9")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 403);
    system.shutdown().await;
}
