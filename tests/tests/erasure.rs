//! The personal-data lifecycle on the local system: a person's requests are
//! exported and erased with `citydesk citizen export|erase`; afterwards the
//! table, every index, the bucket and the dead-letter queues hold nothing of
//! them, while their requests stay, anonymised, and another person's data is
//! untouched.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use citydesk_e2e::{
    citydesk_cli, common_config, create_request, eventually, jpeg_with_gps, start_system,
    upload_jpeg,
};
use serde_json::{Value, json};

const NAME: &str = "Zofia Wiśniewska";
const PHONE: &str = "+48600111222";
const PHONE_AS_TYPED: &str = "600 111 222";
const EMAIL: &str = "zofia.w@example.org";
const ADDRESS: &str = "ul. Wrzosowa Polana 7";
const OTHER_PHONE: &str = "+48600999888";

/// Everything that would identify the person, as it could appear anywhere.
const HERS: [&str; 6] = [
    "Wiśniewsk",
    PHONE,
    PHONE_AS_TYPED,
    "600111222",
    EMAIL,
    "Wrzosowa Polana",
];

/// Every item of the table and of each of its indexes, as text.
async fn table_text(dynamodb: &aws_sdk_dynamodb::Client, table: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let indexes = dynamodb
        .describe_table()
        .table_name(table)
        .send()
        .await
        .unwrap()
        .table
        .unwrap()
        .global_secondary_indexes
        .unwrap_or_default()
        .into_iter()
        .filter_map(|i| i.index_name)
        .map(Some);
    for index in std::iter::once(None).chain(indexes) {
        let mut start = None;
        loop {
            let out = dynamodb
                .scan()
                .table_name(table)
                .set_index_name(index.clone())
                .set_exclusive_start_key(start)
                .send()
                .await
                .unwrap();
            for item in out.items() {
                found.push((
                    index.clone().unwrap_or_else(|| "table".into()),
                    format!("{item:?}"),
                ));
            }
            match out.last_evaluated_key.filter(|k| !k.is_empty()) {
                Some(next) => start = Some(next),
                None => break,
            }
        }
    }
    found
}

/// The attribute names held by each index of the table.
async fn index_attributes(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Vec<(String, std::collections::BTreeSet<String>)> {
    let described = dynamodb
        .describe_table()
        .table_name(table)
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    let mut found = Vec::new();
    for index in described.global_secondary_indexes() {
        let name = index.index_name().unwrap().to_owned();
        let out = dynamodb
            .scan()
            .table_name(table)
            .index_name(&name)
            .send()
            .await
            .unwrap();
        let names = out.items().iter().flat_map(|i| i.keys().cloned()).collect();
        found.push((name, names));
    }
    found
}

/// Every object of the bucket: key and content.
async fn bucket_contents(s3: &aws_sdk_s3::Client, bucket: &str) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    let listed = s3.list_objects_v2().bucket(bucket).send().await.unwrap();
    for object in listed.contents() {
        let key = object.key().unwrap().to_owned();
        let body = s3
            .get_object()
            .bucket(bucket)
            .key(&key)
            .send()
            .await
            .unwrap();
        found.push((
            key,
            body.body.collect().await.unwrap().into_bytes().to_vec(),
        ));
    }
    found
}

/// The bodies of every message waiting in the stack's dead-letter queues.
async fn dead_letters(sqs: &aws_sdk_sqs::Client, stack: &str) -> Vec<String> {
    let mut bodies = Vec::new();
    let queues = sqs
        .list_queues()
        .queue_name_prefix(stack)
        .send()
        .await
        .unwrap();
    for url in queues
        .queue_urls()
        .iter()
        .filter(|u| u.contains("DeadLetter") || u.ends_with("-dlq"))
    {
        let out = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .visibility_timeout(0)
            .send()
            .await
            .unwrap();
        bodies.extend(
            out.messages()
                .iter()
                .filter_map(|m| m.body().map(str::to_owned)),
        );
    }
    bodies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_is_exported_and_erased_and_nothing_of_them_is_left() {
    let system = start_system().await;
    let base = system.base_url();
    let http = reqwest::Client::new();
    let stack_file = system.stack_file.to_str().unwrap().to_owned();
    let target = ["--stack-file", stack_file.as_str()];

    // Her web report, with a photo, her contact and her words.
    let photo = jpeg_with_gps();
    let ticket = upload_jpeg(&http, &base, &photo).await;
    let web = create_request(
        &http,
        &base,
        json!({
            "service_code": "pothole",
            "description": format!("Dziura przed domem, {NAME}, tel. {PHONE_AS_TYPED}, {EMAIL}"),
            "lat": 50.0668, "long": 19.9283, "address": ADDRESS,
            "contact": {"name": NAME, "phone": PHONE, "email": EMAIL},
            "media": [ticket["media_key"]],
        }),
    )
    .await;
    let web_case = web["case_number"].as_str().unwrap().to_owned();
    // She adds a note with her tracking token.
    let note = http
        .post(format!("{base}/v1/requests/{web_case}/updates"))
        .bearer_auth(web["tracking_token"].as_str().unwrap())
        .json(&json!({"note": format!("Proszę dzwonić: {PHONE_AS_TYPED}")}))
        .send()
        .await
        .unwrap();
    assert_eq!(note.status().as_u16(), 200);
    // Her report through an Open311 app, by e-mail only.
    let form = format!(
        "api_key={}&service_code=graffiti&lat=50.06&long=19.94&email={}&first_name=Zofia&last_name=Wi%C5%9Bniewska&description=Napis%20na%20murze%20-%20Zofia%20Wi%C5%9Bniewska",
        system.open311_api_key,
        EMAIL.replace('@', "%40")
    );
    let open311 = http
        .post(format!("{base}/open311/v2/requests.json"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(open311.status().as_u16(), 201);
    // Somebody else's report, which must survive whole.
    create_request(
        &http,
        &base,
        json!({"service_code": "litter", "description": "Śmieci na przystanku", "lat": 50.07, "long": 19.935,
               "contact": {"phone": OTHER_PHONE}}),
    )
    .await;
    // Everything has gone through the pipeline (routed, notified).
    let routed = eventually(60, || async {
        let view: Value = http
            .get(format!("{base}/v1/requests/{web_case}"))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (view["status"] == "assigned").then_some(())
    })
    .await;
    if routed.is_none() {
        let view = citydesk_e2e::fetch_text(&http, format!("{base}/v1/requests/{web_case}")).await;
        panic!(
            "{web_case} was never assigned: {view}\n{}",
            citydesk_e2e::captured_logs()
                .lines()
                .filter(|l| l.contains("WARN") || l.contains("ERROR"))
                .take(10)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    // The export holds everything about her: by e-mail, both reports.
    let (ok, exported, err) = citydesk_cli(&target, &["citizen", "export", "--email", EMAIL]);
    assert!(ok, "{err}");
    let exported: Value = serde_json::from_str(&exported).unwrap();
    assert_eq!(
        exported["requests"].as_array().unwrap().len(),
        2,
        "{exported}"
    );
    let text = exported.to_string();
    assert!(
        text.contains(NAME) && text.contains(PHONE) && text.contains(ADDRESS),
        "{text}"
    );
    assert!(
        text.contains("Proszę dzwonić"),
        "her notes are hers: {text}"
    );
    let (ok, by_phone, _) = citydesk_cli(&target, &["citizen", "export", "--phone", PHONE]);
    assert!(ok);
    assert_eq!(
        serde_json::from_str::<Value>(&by_phone).unwrap()["requests"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "by phone, the one report that gave it"
    );

    // The indexes hold keys only: her description, note and address are in
    // one place (the table's items), never a second copy in an index.
    let config = common_config(&system);
    let sdk = config.sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let keys = [
        "pk", "sk", "dept_pk", "dept_sk", "day_pk", "day_sk", "chg_pk", "chg_sk", "place_pk",
        "place_sk",
    ];
    let indexes = index_attributes(&dynamodb, &config.table_name).await;
    assert_eq!(indexes.len(), 4, "{indexes:?}");
    for (index, names) in &indexes {
        assert!(!names.is_empty(), "{index} was scanned empty");
        let extra: Vec<_> = names
            .iter()
            .filter(|n| !keys.contains(&n.as_str()))
            .collect();
        assert!(extra.is_empty(), "{index} projects {extra:?}");
    }

    // Erased by phone, then by e-mail, then once more: idempotent.
    let (ok, out, err) = citydesk_cli(&target, &["citizen", "erase", "--phone", PHONE]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("1 request(s) anonymised") && out.contains("1 photo(s)"),
        "{out}"
    );
    let (ok, out, err) = citydesk_cli(&target, &["citizen", "erase", "--email", EMAIL]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("1 request(s) anonymised"),
        "the Open311 report: {out}"
    );
    let (ok, out, err) = citydesk_cli(&target, &["citizen", "erase", "--phone", PHONE]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("0 request(s) anonymised"), "{out}");

    // Nothing of her anywhere: the table, every index, the bucket, the DLQs.
    let table = table_text(&dynamodb, &config.table_name).await;
    for (place, item) in &table {
        for hers in HERS {
            assert!(!item.contains(hers), "{place} still holds {hers:?}: {item}");
        }
    }
    let others = table
        .iter()
        .filter(|(_, i)| i.contains(OTHER_PHONE))
        .count();
    assert!(
        others > 0,
        "the other person's contact is kept (and the scan sees contacts)"
    );
    let s3 = aws_sdk_s3::Client::new(&sdk);
    for (key, body) in bucket_contents(&s3, &config.bucket_name).await {
        assert!(
            !key.starts_with("media/") && !key.starts_with("uploads/"),
            "her photo {key} is left"
        );
        let body = String::from_utf8_lossy(&body);
        for hers in HERS {
            assert!(!body.contains(hers), "s3://{key} still holds {hers:?}");
        }
    }
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    for body in dead_letters(&sqs, &system.stack.stack_name).await {
        for hers in HERS {
            assert!(!body.contains(hers), "a dead letter holds {hers:?}: {body}");
        }
    }

    // Her requests stay, anonymised; the erasures are on record.
    let view: Value = http
        .get(format!("{base}/v1/requests/{web_case}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(view["status"], "assigned", "{view}");
    assert_eq!(view["service_code"], "pothole", "{view}");
    let (ok, after, _) = citydesk_cli(&target, &["citizen", "export", "--phone", PHONE]);
    assert!(ok);
    let after: Value = serde_json::from_str(&after).unwrap();
    assert!(after["requests"].as_array().unwrap().is_empty(), "{after}");
    assert_eq!(
        after["erasures"].as_array().unwrap().len(),
        2,
        "both runs by phone are recorded: {after}"
    );

    system.shutdown().await;
}
