//! Publishing a city into a deployed stack as a city's IT team does it:
//! `citydesk city publish DIR` (found by the stack's name or the local stack
//! file), idempotent, `--dry-run`, department queues with their dead-letter
//! queues, tags and alarms; department keys created, listed and revoked (a
//! revoked key answers 401 at once); a department that leaves the catalogue.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use citydesk_e2e::{
    citydesk_cli, common_config, create_request, eventually, repo_root, start_system,
};
use serde_json::json;

/// The demo city without its Municipal Police: their services and the
/// night rule go to the roads authority.
fn city_without_city_guard(dir: &std::path::Path) {
    std::fs::create_dir_all(dir).unwrap();
    let demo = repo_root().join("infra/demo-city");
    for file in ["districts.geojson", "addresses.csv"] {
        std::fs::copy(demo.join(file), dir.join(file)).unwrap();
    }
    let catalogue = std::fs::read_to_string(demo.join("catalogue.toml")).unwrap();
    let block = "[[departments]]\ncode = \"city-guard\"\nname = { pl = \"Straż Miejska\", en = \"Municipal Police\" }\nqueue = \"city-guard\"\n";
    assert!(catalogue.contains(block));
    let without = catalogue
        .replace(block, "")
        .replace("department = \"city-guard\"", "department = \"roads\"");
    std::fs::write(dir.join("catalogue.toml"), without).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_city_is_published_once_and_its_departments_keys_work_until_revoked() {
    let system = start_system().await;
    let base = system.base_url();
    let http = reqwest::Client::new();
    let stack_file = system.stack_file.to_str().unwrap().to_owned();
    let by_file = ["--stack-file", stack_file.as_str()];
    let by_name = ["--stack-name", system.stack.stack_name.as_str()];
    let demo = repo_root().join("infra/demo-city");
    let demo = demo.to_str().unwrap();

    // The runner published the city with this same code: found by the
    // stack's name (CloudFormation's outputs), a dry run and a real second
    // publication change nothing.
    for args in [
        &["city", "publish", demo, "--dry-run"][..],
        &["city", "publish", demo][..],
    ] {
        let (ok, out, err) = citydesk_cli(&by_name, args);
        assert!(ok, "{out}{err}");
        assert!(
            out.contains("nothing to change"),
            "a second publication changes nothing: {out}"
        );
    }

    // Every department queue has its dead-letter queue, tags and two alarms
    // that notify the stack's alarm topic.
    let config = common_config(&system);
    let sdk = config.sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&sdk);
    let topic = system
        .stack
        .resource("AlarmTopic")
        .expect("the alarm topic");
    let prefix = format!("{}-dept-", system.stack.stack_name);
    for queue in ["roads", "city-guard", "housing"] {
        let name = format!("{prefix}{queue}");
        let url = sqs
            .get_queue_url()
            .queue_name(&name)
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        let tags = sqs.list_queue_tags().queue_url(&url).send().await.unwrap();
        assert_eq!(
            tags.tags()
                .and_then(|t| t.get("citydesk:department"))
                .map(String::as_str),
            Some(queue),
            "{name} is tagged"
        );
        assert_eq!(
            tags.tags()
                .and_then(|t| t.get("citydesk:city"))
                .map(String::as_str),
            Some("krakow"),
            "{name} is tagged with its city (another city's queues are never touched)"
        );
        assert!(
            sqs.get_queue_url()
                .queue_name(format!("{name}-dlq"))
                .send()
                .await
                .is_ok(),
            "{name} has a dead-letter queue"
        );
        let alarms = cloudwatch
            .describe_alarms()
            .alarm_name_prefix(&name)
            .send()
            .await
            .unwrap();
        let alarms = alarms.metric_alarms();
        assert_eq!(alarms.len(), 2, "{name}: {alarms:?}");
        for alarm in alarms {
            assert_eq!(alarm.alarm_actions(), [topic.to_owned()], "{alarm:?}");
        }
    }

    // A key for housing: shown once, listed by id, working at once; revoked:
    // refused at once.
    let (ok, key, err) = citydesk_cli(
        &by_file,
        &["department-key", "create", "--department", "housing"],
    );
    assert!(ok, "{err}");
    let key = key.trim().to_owned();
    assert!(key.starts_with("cdk_"), "{key}");
    let assignments = |key: String| {
        let http = http.clone();
        let url = format!("{base}/v1/department/assignments");
        async move {
            http.get(url)
                .bearer_auth(key)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(assignments(key.clone()).await, 200);
    let (ok, listed, err) = citydesk_cli(
        &by_file,
        &["department-key", "list", "--department", "housing"],
    );
    assert!(ok, "{err}");
    assert!(!listed.contains(&key), "a list never shows a key: {listed}");
    let active = listed.lines().filter(|l| l.ends_with("active")).count();
    assert!(active >= 2, "the runner's key and the new one: {listed}");
    let (ok, out, err) = citydesk_cli(
        &by_file,
        &[
            "department-key",
            "revoke",
            "--department",
            "housing",
            "--key",
            &key,
        ],
    );
    assert!(ok, "{out}{err}");
    assert_eq!(assignments(key.clone()).await, 401, "revoked at once");
    let (_, listed, _) = citydesk_cli(
        &by_file,
        &["department-key", "list", "--department", "housing"],
    );
    assert_eq!(
        listed.lines().filter(|l| l.contains("revoked")).count(),
        1,
        "{listed}"
    );
    let (ok, _, err) = citydesk_cli(
        &by_file,
        &[
            "department-key",
            "revoke",
            "--department",
            "roads",
            "--key",
            &key,
        ],
    );
    assert!(
        !ok && err.contains("has no key"),
        "another department's key: {err}"
    );

    // The Municipal Police leave the catalogue while they hold a noise report.
    let noise = create_request(
        &http,
        &base,
        json!({"service_code": "noise", "description": "Głośna muzyka w nocy", "lat": 50.07, "long": 19.935}),
    )
    .await;
    let case = noise["case_number"].as_str().unwrap().to_owned();
    let guard_key = system.published.department_keys["city-guard"].clone();
    let status_url = format!("{base}/v1/department/assignments/{case}/status");
    let acknowledged = eventually(60, || async {
        let r = http
            .post(&status_url)
            .bearer_auth(&guard_key)
            .json(&json!({"status": "acknowledged"}))
            .send()
            .await
            .ok()?;
        (r.status().as_u16() == 200).then_some(())
    })
    .await;
    assert!(
        acknowledged.is_some(),
        "{case} never reached the city guard"
    );
    let smaller = std::env::temp_dir().join(format!("city-{}", system.stack.stack_name));
    city_without_city_guard(&smaller);
    let smaller = smaller.to_str().unwrap();
    let (ok, plan, err) = citydesk_cli(&by_file, &["city", "publish", smaller, "--dry-run"]);
    assert!(ok, "{plan}{err}");
    assert!(
        plan.contains("departments removed: city-guard")
            && plan.contains("its 1 open request(s) stay with it"),
        "{plan}"
    );
    assert!(plan.contains("dry run: nothing was changed"), "{plan}");
    let (ok, out, err) = citydesk_cli(&by_file, &["city", "publish", smaller]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("stay with it"), "{out}");
    assert_eq!(
        assignments(guard_key.clone()).await,
        200,
        "its key works while it has work"
    );

    // Its last request resolved, the next publication removes it.
    let resolved = http
        .post(&status_url)
        .bearer_auth(&guard_key)
        .json(&json!({"status": "resolved", "note": "Interwencja zakończona."}))
        .send()
        .await
        .unwrap();
    assert_eq!(resolved.status().as_u16(), 200);
    let (ok, out, err) = citydesk_cli(&by_file, &["city", "publish", smaller]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("department city-guard: no longer in the catalogue and holds no open request"),
        "{out}"
    );
    assert_eq!(assignments(guard_key).await, 401, "its keys are revoked");
    assert!(
        sqs.get_queue_url()
            .queue_name(format!("{prefix}city-guard"))
            .send()
            .await
            .is_err(),
        "its queue is gone"
    );
    let (ok, out, _) = citydesk_cli(&by_file, &["city", "publish", smaller]);
    assert!(ok && out.contains("nothing to change"), "{out}");

    system.shutdown().await;
}
