//! The audit trail on the real local system: a clerk's change (staff token)
//! and an integration's (department key) reach the trail through the
//! outbox, the quality role reads a day as JSON and CSV, nobody else reads
//! it, and a record cannot be deleted from its bucket.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use citydesk_e2e::{common_config, create_request, eventually, start_system};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_changes_are_audited_and_only_quality_reads_the_trail() {
    let system = start_system().await;
    let base = system.base_url();
    let http = reqwest::Client::new();
    let token = |role: &str| system.staff_tokens[role].clone();

    let created = create_request(
        &http,
        &base,
        json!({"description": "Dziura w jezdni przy przystanku, tel. 600 100 200", "lat": 50.07, "long": 19.935}),
    )
    .await;
    let case = created["case_number"].as_str().unwrap().to_owned();
    let status_url = format!("{base}/v1/department/assignments/{case}/status");
    let clerk = token("clerk:roads");
    eventually(20, || async {
        let r = http
            .post(&status_url)
            .bearer_auth(&clerk)
            .json(&json!({"status": "acknowledged"}))
            .send()
            .await
            .unwrap();
        (r.status() == 200).then_some(())
    })
    .await
    .expect("the roads clerk acknowledges the pothole once it is assigned");
    let key = system.published.department_keys["roads"].clone();
    let r = http
        .post(format!("{base}/v1/department/assignments/{case}/notes"))
        .bearer_auth(&key)
        .json(&json!({"note": "Ekipa będzie jutro, proszę zadzwonić 600 100 200"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let day = jiff::Timestamp::now().strftime("%Y-%m-%d").to_string();
    let records_url = format!("{base}/v1/audit/records?day={day}");
    let quality = token("quality");
    let ours = |body: &Value| -> Vec<Value> {
        body["records"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|r| r["case_numbers"][0] == case.as_str())
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    };
    let records = eventually(20, || async {
        let r = http
            .get(&records_url)
            .bearer_auth(&quality)
            .send()
            .await
            .unwrap();
        if r.status() != 200 {
            return None;
        }
        let found = ours(&r.json().await.unwrap());
        (found.len() >= 2).then_some(found)
    })
    .await
    .expect("both staff changes reach the audit trail within 20 s");
    // Once each, in order, with who, roles and surface; the system's own
    // steps (classify, route) are not staff changes.
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!(records[0]["subject"], "demo-clerk-roads");
    assert_eq!(records[0]["roles"], "clerk:roads");
    assert_eq!(records[0]["via"], "department-api");
    assert_eq!(records[0]["what"], "status_changed");
    assert_eq!(records[0]["detail"], "assigned → acknowledged");
    assert_eq!(records[1]["subject"], "api-key:roads");
    assert_eq!(records[1]["what"], "note_to_citizen");
    let all = serde_json::to_string(&records).unwrap();
    assert!(
        !all.contains("600 100 200"),
        "no personal data in the trail: {all}"
    );

    // The same day as a CSV download.
    let r = http
        .get(format!("{records_url}&format=csv"))
        .bearer_auth(&quality)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("audit-{day}.csv"))
    );
    let csv = r.text().await.unwrap();
    assert!(
        csv.starts_with("at,subject,roles,via,action,what,case_numbers,request_id,seq,detail\n")
    );
    assert!(
        csv.lines()
            .any(|l| l.contains("demo-clerk-roads") && l.contains(&case)),
        "{csv}"
    );

    // Nobody else reads it; bad questions get a 400 saying what to fix.
    for role in ["operator", "manager", "admin", "clerk:roads", "head:roads"] {
        let r = http
            .get(&records_url)
            .bearer_auth(token(role))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{role}");
    }
    let r = http
        .get(&records_url)
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "department keys are not accepted here");
    assert_eq!(http.get(&records_url).send().await.unwrap().status(), 401);
    for (query, field) in [
        ("day=yesterday", "day"),
        ("day=2999-01-01", "day"),
        ("", "day"),
        (&format!("day={day}&format=xml"), "format"),
        (&format!("day={day}&who=me"), "query"),
    ] {
        let r = http
            .get(format!("{base}/v1/audit/records?{query}"))
            .bearer_auth(&quality)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{query}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
    }

    // The bucket keeps every record under Object Lock (compliance mode):
    // deleting a version is refused, for this test's credentials as for any function.
    let bucket = system.stack.resource("AuditBucket").unwrap().to_owned();
    let clients = citydesk_aws::config::Clients::new(&common_config(&system)).await;
    let lock = clients
        .s3
        .get_object_lock_configuration()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let rule = lock.object_lock_configuration().unwrap().rule().unwrap();
    assert_eq!(
        rule.default_retention().unwrap().mode().unwrap().as_str(),
        "COMPLIANCE"
    );
    let versions = clients
        .s3
        .list_object_versions()
        .bucket(&bucket)
        .prefix(format!("audit/{day}/"))
        .send()
        .await
        .unwrap();
    let version = versions
        .versions()
        .iter()
        .find(|v| v.key().is_some_and(|k| k.contains("-change-")))
        .expect("an audit object");
    let deleted = clients
        .s3
        .delete_object()
        .bucket(&bucket)
        .key(version.key().unwrap())
        .version_id(version.version_id().unwrap())
        .send()
        .await;
    assert!(deleted.is_err(), "a locked audit record was deleted");
    let still = clients
        .s3
        .get_object()
        .bucket(&bucket)
        .key(version.key().unwrap())
        .version_id(version.version_id().unwrap())
        .send()
        .await;
    assert!(still.is_ok(), "the record is still there");
    system.shutdown().await;
}
