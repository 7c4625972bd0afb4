//! Photos through the local system and real (emulated) S3: the native presigned
//! upload and the Open311 multipart upload, read back through expiring links.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use citydesk_e2e::{fetch_json, start_system};
use serde_json::{Value, json};

/// A small well-formed JPEG without metadata (JFIF header, a quantisation
/// table, a scan): the server reads every photo's segments to strip location
/// metadata, so it must parse; with nothing to strip it comes back unchanged.
const JPEG: &[u8] = &[
    0xFF, 0xD8, // start of image
    0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01,
    0x00, 0x00, // JFIF APP0
    0xFF, 0xDB, 0x00, 0x04, 0x00, 0x01, // quantisation table
    0xFF, 0xDA, 0x00, 0x02, 0x11, 0x22, // start of scan and its data
    0xFF, 0xD9, // end of image
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigned_upload_and_open311_multipart() {
    let system = start_system().await;
    let base = system.base_url();
    let http = reqwest::Client::new();

    // Native: ask for a ticket, PUT the photo straight to storage, attach it.
    let ticket: Value = http
        .post(format!("{base}/v1/uploads"))
        .json(&json!({"content_type": "image/jpeg", "bytes": JPEG.len()}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let put = http
        .put(ticket["upload_url"].as_str().unwrap())
        .header("content-type", "image/jpeg")
        .body(JPEG.to_vec())
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success(), "upload: {}", put.status());
    let created: Value = http
        .post(format!("{base}/v1/requests"))
        .json(
            &json!({"description": "Dziura, zdjęcie w załączniku", "media": [ticket["media_key"]]}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let private: Value = http
        .get(format!(
            "{base}/v1/requests/{}",
            created["case_number"].as_str().unwrap()
        ))
        .bearer_auth(created["tracking_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let link = private["media_urls"][0]
        .as_str()
        .expect("a photo link")
        .to_owned();
    let photo = http.get(&link).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(&photo[..], JPEG, "the link serves the uploaded photo");

    // Open311: the photo as a multipart `media` part, served back through media_url.
    let form = reqwest::multipart::Form::new()
        .text("api_key", system.open311_api_key.clone())
        .text("service_code", "graffiti")
        .text("lat", "50.061")
        .text("long", "19.937")
        .part(
            "media",
            reqwest::multipart::Part::bytes(JPEG.to_vec()).file_name("graffiti.jpg"),
        );
    let r = http
        .post(format!("{base}/open311/v2/requests.json"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let id = r.json::<Value>().await.unwrap()[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let one: Value = fetch_json(&http, format!("{base}/open311/v2/requests/{id}.json")).await;
    let media_url = one[0]["media_url"].as_str().expect("media_url").to_owned();
    assert_eq!(
        &http
            .get(&media_url)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()[..],
        JPEG
    );
    system.shutdown().await;
}
