//! One visibility policy for every audience, on the local system: a request
//! whose text names its reporter, their phone and e-mail, with an address and
//! a GPS-tagged photo, read through every public surface, shows none of them;
//! the reporter with the tracking token sees all of it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use citydesk_e2e::{
    create_request, eventually, fetch_json, fetch_text, jpeg_with_gps, start_system, upload_jpeg,
};
use serde_json::{Value, json};

const NAME: &str = "Jan Kowalski";
const PHONE_AS_TYPED: &str = "600 700 800";
const EMAIL: &str = "jan.kowalski@example.org";
const ADDRESS: &str = "ul. Długa 10";
/// The marker the photo's EXIF carries where a position would be.
const GPS_MARKER: &[u8] = b"GPS!";

/// A tiny JPEG whose EXIF carries a position marker.
/// Fails with the surface's name when `text` holds anything personal.
fn assert_nothing_personal(surface: &str, text: &str) {
    for personal in [
        "Kowalski",
        "kowalski",
        PHONE_AS_TYPED,
        "600700800",
        "+48600700800",
        EMAIL,
        ADDRESS,
        "Długa 10",
        // The exact point (the public sees a cell centre at most).
        "50.06143",
        "19.93658",
    ] {
        assert!(
            !text.contains(personal),
            "{surface} shows {personal:?}: {text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_personal_reaches_any_public_surface() {
    let system = start_system().await;
    let base = system.base_url();
    let http = reqwest::Client::new();

    // The photo goes up through an upload ticket, straight to the bucket.
    let photo = jpeg_with_gps();
    let ticket = upload_jpeg(&http, &base, &photo).await;

    // A repair in a council flat: a public service whose place is sensitive.
    let text = format!(
        "Przecieka dach nad mieszkaniem. Zgłasza {NAME}, tel. {PHONE_AS_TYPED}, {EMAIL}. Proszę o kontakt z panem Kowalskim."
    );
    let created = create_request(
        &http,
        &base,
        json!({
            "service_code": "building-repair",
            "description": text,
            "lat": 50.06143, "long": 19.93658,
            "address": ADDRESS,
            "contact": {"name": NAME, "phone": "+48 600 700 800", "email": EMAIL},
            "media": [ticket["media_key"]],
        }),
    )
    .await;
    let case = created["case_number"].as_str().unwrap().to_owned();
    let token = created["tracking_token"].as_str().unwrap().to_owned();
    // And a neighbour's noise: a private service.
    let noise = create_request(
        &http,
        &base,
        json!({
            "service_code": "noise",
            "description": format!("Sąsiad spod 10 gra do rana, {NAME} {PHONE_AS_TYPED}"),
            "lat": 50.06143, "long": 19.93658,
            "address": ADDRESS,
            "contact": {"email": EMAIL},
        }),
    )
    .await;
    let noise_case = noise["case_number"].as_str().unwrap().to_owned();

    // Housing acknowledges with a note that carries a phone number.
    let housing_key = system.published.department_keys["housing"].clone();
    let assigned = eventually(60, || async {
        let r = http
            .post(format!(
                "{base}/v1/department/assignments/{case}/status"
            ))
            .bearer_auth(&housing_key)
            .json(&json!({"status": "acknowledged", "note": format!("Oddzwonimy pod {PHONE_AS_TYPED}.")}))
            .send()
            .await
            .ok()?;
        (r.status().as_u16() == 200).then_some(())
    })
    .await;
    assert!(assigned.is_some(), "{case} never reached housing");

    // Every public surface.
    let native = fetch_text(&http, format!("{base}/v1/requests/{case}")).await;
    assert_nothing_personal("the public status page", &native);
    let native: Value = serde_json::from_str(&native).unwrap();
    assert!(
        native["description"]
            .as_str()
            .is_some_and(|d| d.contains("Przecieka dach")),
        "the redacted description of a public service is shown: {native}"
    );
    assert!(
        (native["lat"].as_f64().unwrap() - 50.0625).abs() < 1e-9,
        "a sensitive place is coarsened: {native}"
    );
    let list = fetch_text(
        &http,
        format!("{base}/open311/v2/requests.json?service_code=building-repair,noise"),
    )
    .await;
    assert_nothing_personal("Open311 requests.json", &list);
    assert!(list.contains(&case) && list.contains(&noise_case), "{list}");
    for format in ["json", "xml"] {
        for id in [&case, &noise_case] {
            let item = fetch_text(
                &http,
                format!("{base}/open311/v2/requests/{id}.{format}?extensions=true"),
            )
            .await;
            assert_nothing_personal(&format!("Open311 requests/{id}.{format}"), &item);
        }
    }
    let item: Value = fetch_json(
        &http,
        format!("{base}/open311/v2/requests/{case}.json?extensions=true"),
    )
    .await;
    let noise_item: Value = fetch_json(
        &http,
        format!("{base}/open311/v2/requests/{noise_case}.json"),
    )
    .await;
    assert_eq!(noise_item[0]["description"], Value::Null, "{noise_item}");
    assert_eq!(noise_item[0]["lat"], Value::Null, "{noise_item}");
    assert_eq!(
        noise_item[0]["agency_responsible"],
        Value::Null,
        "{noise_item}"
    );
    let updates = fetch_text(
        &http,
        format!("{base}/open311/v2/servicerequestupdates.json"),
    )
    .await;
    assert_nothing_personal("Open311 servicerequestupdates.json", &updates);
    assert!(updates.contains(&case), "{updates}");

    // The photo the public gets has no position in it.
    let media_url = item[0]["media_url"].as_str().expect("a photo link");
    let public_photo = http
        .get(media_url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(public_photo.starts_with(&[0xFF, 0xD8]), "a JPEG");
    assert!(
        !public_photo.windows(4).any(|w| w == GPS_MARKER),
        "the published photo keeps no position"
    );

    // The reporter, with the tracking token, sees their own words and place.
    let own: Value = http
        .get(format!("{base}/v1/requests/{case}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(own["description"].as_str().unwrap().contains(NAME), "{own}");
    assert_eq!(own["address"], ADDRESS, "{own}");
    assert_eq!(own["lat"], 50.06143, "{own}");

    system.shutdown().await;
}
