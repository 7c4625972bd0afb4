//! The brain on the local system: `citydesk import`, `train` and `evaluate`
//! on the real samples; a trained model classifying Polish and English free
//! text after a cold start; duplicates linked and unlinked; SLA warnings and
//! breaches from the scheduled sweep at a chosen time.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use citydesk_e2e::{citydesk_cli, eventually, fetch_json, repo_root, start_system};
use serde_json::{Value, json};

/// Runs the admin command against the system's stack; (success, stdout, stderr).
fn citydesk(stack_file: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    citydesk_cli(&["--stack-file", stack_file.to_str().unwrap()], args)
}

fn sample(name: &str) -> String {
    repo_root()
        .join("shared/history/tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

/// The first number after `label` in `text` (e.g. "accuracy 0.976").
fn figure(text: &str, label: &str) -> f64 {
    let rest = &text[text
        .find(label)
        .unwrap_or_else(|| panic!("no {label} in {text}"))
        + label.len()..];
    rest.trim_start()
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no figure after {label} in {text}"))
}

/// `export` with every Socrata date (`05/01/2022 12:00:03 AM`, New York
/// time) rewritten as `2022-05-01 04:00:03 UTC`.
fn with_utc_timestamps(export: &str) -> String {
    let new_york = jiff::tz::TimeZone::get("America/New_York").unwrap();
    let rewrite = |cell: &str| {
        jiff::fmt::strtime::parse("%m/%d/%Y %I:%M:%S %p", cell)
            .and_then(|parsed| parsed.to_datetime())
            .and_then(|local| new_york.to_timestamp(local))
            .map_or_else(
                |_| cell.to_owned(),
                |moment| moment.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
            )
    };
    let mut out = String::with_capacity(export.len());
    for line in export.lines() {
        let cells: Vec<String> = line.split(',').map(rewrite).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_is_imported_a_model_trained_and_free_text_classified_by_it() {
    let system = start_system().await;
    let stack = system.stack_file.clone();

    // Import the real NYC day and the Boston sample; a second import of the same file stores nothing.
    let nyc = sample("nyc311-2022-05-01.csv");
    let (ok, out, err) = citydesk(
        &stack,
        &[
            "import",
            &nyc,
            "--city",
            "nyc",
            "--time-zone",
            "America/New_York",
        ],
    );
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("schema nyc: 924 rows taken, 0 rejected"),
        "{out}"
    );
    let out_of_nyc_import = out.clone();
    assert!(
        out.contains("stored as s3://") && out.contains("/history/nyc/"),
        "{out}"
    );
    let (ok, again, _) = citydesk(
        &stack,
        &[
            "import",
            &nyc,
            "--city",
            "nyc",
            "--time-zone",
            "America/New_York",
        ],
    );
    assert!(
        ok && again.contains("was imported before: nothing stored again"),
        "{again}"
    );
    let (ok, out, err) = citydesk(
        &stack,
        &[
            "import",
            &sample("boston311-100.csv"),
            "--city",
            "boston",
            "--time-zone",
            "America/New_York",
        ],
    );
    assert!(
        ok && out.contains("schema boston: 100 rows taken, 0 rejected"),
        "{out}{err}"
    );

    // Malformed rows are reported with their line numbers and do not stop the import.
    let dir = std::env::temp_dir().join(format!("brain-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).unwrap();
    let header = std::fs::read_to_string(&nyc)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_owned();
    let good = std::fs::read_to_string(&nyc)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .to_owned();
    let bad_date = good.replacen("05/01/2022 12:00:03 AM", "13/45/2022 99:00", 1);
    let broken = format!(
        "{header}\n{good}\n{bad_date}\nonly,three,fields\n{}\n",
        good.replacen("54049402", "54049403", 1)
    );
    let broken_file = dir.join("broken.csv");
    std::fs::write(&broken_file, broken).unwrap();
    let (ok, out, err) = citydesk(
        &stack,
        &[
            "import",
            broken_file.to_str().unwrap(),
            "--city",
            "nyc",
            "--time-zone",
            "America/New_York",
            "--dry-run",
        ],
    );
    assert!(ok, "{out}{err}");
    assert!(out.contains("2 rows taken, 2 rejected"), "{out}");
    assert!(out.contains("line 3") && out.contains("line 4"), "{out}");
    assert!(out.contains("dry run: nothing stored"), "{out}");

    // The same day as another export writes it (`2022-05-01 04:00:03 UTC`):
    // every row is taken, at the same moments.
    let utc_file = dir.join("nyc-utc.csv");
    std::fs::write(
        &utc_file,
        with_utc_timestamps(&std::fs::read_to_string(&nyc).unwrap()),
    )
    .unwrap();
    let (ok, utc_out, err) = citydesk(
        &stack,
        &[
            "import",
            utc_file.to_str().unwrap(),
            "--city",
            "nyc",
            "--time-zone",
            "America/New_York",
            "--dry-run",
        ],
    );
    assert!(ok, "{utc_out}{err}");
    assert!(utc_out.contains("924 rows taken, 0 rejected"), "{utc_out}");
    let created_range = |summary: &str| {
        summary
            .lines()
            .find(|line| line.starts_with("created from"))
            .map(str::to_owned)
    };
    assert_eq!(
        created_range(&utc_out),
        created_range(&out_of_nyc_import),
        "{utc_out}"
    );

    // A file nothing can be taken from is refused whole, and nothing is stored.
    let hopeless = dir.join("hopeless.csv");
    std::fs::write(
        &hopeless,
        format!(
            "{header}\n{}\n",
            good.replacen("05/01/2022 12:00:03 AM", "sometime in May", 1)
        ),
    )
    .unwrap();
    let (ok, out, err) = citydesk(
        &stack,
        &[
            "import",
            hopeless.to_str().unwrap(),
            "--city",
            "nyc",
            "--time-zone",
            "America/New_York",
        ],
    );
    assert!(!ok, "{out}{err}");
    assert!(
        err.contains("no row of")
            && err.contains("nothing was stored")
            && err.contains("sometime in May"),
        "{err}"
    );

    // Evaluate on the held-out fifth: real figures, routing beside its baseline.
    let (ok, out, err) = citydesk(
        &stack,
        &[
            "evaluate",
            "--city",
            "nyc",
            "--export-split",
            dir.to_str().unwrap(),
        ],
    );
    assert!(ok, "{out}{err}");
    let accuracy = figure(&out, "accuracy");
    let macro_f1 = figure(&out, "macro-F1");
    assert!(accuracy > 0.85 && macro_f1 > 0.3, "{out}");
    assert!(
        out.contains("learned routes") && out.contains("most common department for the service"),
        "{out}"
    );
    let exported = std::fs::read_to_string(dir.join("test.csv")).unwrap();
    assert!(
        exported.starts_with("text,label\n") && exported.lines().count() > 100,
        "{exported}"
    );
    let (ok, out, _) = citydesk(&stack, &["evaluate", "--city", "nowhere"]);
    assert!(!ok && out.is_empty());

    // The history's service levels, archived as a report.
    let (ok, out, err) = citydesk(&stack, &["history-report", "--city", "nyc", "--top", "3"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("history of nyc: 924 records"), "{out}");
    let noise = out
        .lines()
        .find(|l| l.trim_start().starts_with("Noise - Residential"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(noise.contains(" 379 ") && noise.contains("NYPD"), "{noise}");
    assert!(out.contains("/reports/nyc/history/services.csv"), "{out}");
    let (ok, _, err) = citydesk(
        &stack,
        &[
            "history-report",
            "--city",
            "nyc",
            "--duplicate-radius-m",
            "0",
        ],
    );
    assert!(!ok && err.contains("--duplicate-radius-m"), "{err}");

    // Train the demo city's model from its catalogue (it has no history) and
    // NYC's from its history; the NYC labels are not Kraków services.
    let (ok, out, err) = citydesk(&stack, &["train", "--city", "krakow"]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("0 history rows") && out.contains("/models/krakow/"),
        "{out}"
    );
    let (ok, out, err) = citydesk(&stack, &["train", "--city", "nyc"]);
    assert!(ok && out.contains("924 history rows"), "{out}{err}");

    // The functions load the model at their next cold start.
    let base_env = system.stack_file.clone();
    system.shutdown().await;
    let system = citydesk_local::start(citydesk_local::Options {
        stack_file: base_env,
        listen: "127.0.0.1:0".parse().unwrap(),
        catalogue_dirs: vec![repo_root().join("infra/demo-city")],
        credentials_file: dir.join("credentials.json"),
        fire_schedules: false,
    })
    .await
    .unwrap();
    let base = system.base_url();
    let http = reqwest::Client::new();
    for (text, lat) in [
        (
            "Na ulicy Długiej przy szkole jest ogromna dziura w jezdni",
            50.07,
        ),
        (
            "There is a huge pothole in the road outside the school",
            50.071,
        ),
    ] {
        let r = http
            .post(format!("{base}/v1/requests"))
            .json(&json!({"description": text, "lat": lat, "long": 19.935}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        let case = r.json::<Value>().await.unwrap()["case_number"]
            .as_str()
            .unwrap()
            .to_owned();
        let view = match eventually(15, || async {
            let view = fetch_json(&http, format!("{base}/v1/requests/{case}")).await;
            (view["status"] == "assigned").then_some(view)
        })
        .await
        {
            Some(view) => view,
            None => {
                let view = fetch_json(&http, format!("{base}/v1/requests/{case}")).await;
                panic!("{text}: not assigned within 15 s: {view}")
            }
        };
        assert_eq!(view["service_code"], "pothole", "{text}");
        assert_eq!(view["department"], "roads", "{text}");
    }
    let logs = citydesk_e2e::captured_logs();
    assert!(
        logs.contains("model loaded"),
        "the classifier did not load the trained model"
    );

    // Text the model cannot place goes to the contact centre's triage queue,
    // with suggestions; the operator's choice routes it and teaches the next model.
    let vague = post_request(
        &http,
        &base,
        json!({"description": "Proszę o pilny kontakt", "lat": 50.0612, "long": 19.9380}),
    )
    .await;
    status_becomes(&http, &base, &vague, "triaged").await;
    let operators = system.published.department_keys["contact-centre"].clone();
    let queue = http
        .get(format!("{base}/v1/department/triage"))
        .bearer_auth(&operators)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let waiting = queue["requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["case_number"] == vague.as_str())
        .expect("in the triage queue")
        .clone();
    assert_eq!(
        waiting["suggestions"].as_array().unwrap().len(),
        3,
        "{waiting}"
    );
    let roads = system.published.department_keys["roads"].clone();
    let r = http
        .get(format!("{base}/v1/department/triage"))
        .bearer_auth(&roads)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = http
        .post(format!("{base}/v1/department/triage/{vague}"))
        .bearer_auth(&operators)
        .json(&json!({"service_code": "streetlight"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let view = status_becomes(&http, &base, &vague, "assigned").await;
    assert_eq!(
        (view["service_code"].as_str(), view["department"].as_str()),
        (Some("streetlight"), Some("roads"))
    );
    let (ok, out, err) = citydesk(&stack, &["train", "--city", "krakow"]);
    assert!(ok && out.contains("1 operator choices"), "{out}{err}");
    system.shutdown().await;
}

async fn post_request(http: &reqwest::Client, base: &str, body: Value) -> String {
    let r = http
        .post(format!("{base}/v1/requests"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    r.json::<Value>().await.unwrap()["case_number"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn status_becomes(http: &reqwest::Client, base: &str, case: &str, status: &str) -> Value {
    let found = eventually(15, || async {
        let view = fetch_json(http, format!("{base}/v1/requests/{case}")).await;
        (view["status"] == status).then_some(view)
    })
    .await;
    match found {
        Some(view) => view,
        None => {
            let view = fetch_json(http, format!("{base}/v1/requests/{case}")).await;
            panic!("{case} did not become {status} within 15 s: {view}")
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_follows_the_open_report_and_the_sla_sweep_warns_once() {
    let system = start_system().await;
    let base = system.base_url();
    let http = reqwest::Client::new();
    let greenery = system.published.department_keys["greenery"].clone();

    let first = post_request(
        &http,
        &base,
        json!({
            "service_code": "fallen-tree", "description": "Drzewo leży na chodniku",
            "lat": 50.0614, "long": 19.9366, "contact": {"phone": "+48600100201"}
        }),
    )
    .await;
    let assigned = status_becomes(&http, &base, &first, "assigned").await;
    // About 22 m away: the same tree, reported again.
    let second = post_request(
        &http,
        &base,
        json!({
            "service_code": "fallen-tree", "description": "Przewrócone drzewo",
            "lat": 50.0616, "long": 19.9366, "contact": {"phone": "+48600100202"}
        }),
    )
    .await;
    status_becomes(&http, &base, &second, "duplicate").await;
    // Its citizen is told which request it follows.
    let told = eventually(10, || async {
        let outbox = fetch_json(&http, format!("{base}/_local/outbox")).await;
        outbox
            .as_array()
            .unwrap()
            .iter()
            .find(|m| {
                m["to"] == "+48600100202" && m["body"].as_str().unwrap_or("").contains(&first)
            })
            .cloned()
    })
    .await;
    assert!(told.is_some(), "the follower was not told");
    // The department sees the follower on the original.
    let work = |key: String| {
        let http = http.clone();
        let base = base.clone();
        async move {
            http.get(format!("{base}/v1/department/assignments"))
                .bearer_auth(key)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let list = work(greenery.clone()).await;
    let original = list["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["case_number"] == first.as_str())
        .unwrap()
        .clone();
    assert_eq!(original["followers"], json!([second]));

    // The SLA sweep at a chosen time: just before the due time it warns, once.
    let due: jiff::Timestamp = assigned["due_at"].as_str().unwrap().parse().unwrap();
    let sweep = |now: jiff::Timestamp| {
        let http = http.clone();
        let base = base.clone();
        async move {
            let r = http
                .post(format!("{base}/_local/schedules/SlaSweep/run"))
                .json(&json!({"now": now}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200);
            r.json::<Value>().await.unwrap()["result"].clone()
        }
    };
    let before_due = due.checked_sub(jiff::SignedDuration::from_secs(1)).unwrap();
    let result = sweep(before_due).await;
    assert_eq!(
        (result["warnings"].as_u64(), result["breaches"].as_u64()),
        (Some(1), Some(0)),
        "{result}"
    );
    assert_eq!(
        sweep(before_due).await["warnings"],
        0,
        "a warning goes out once"
    );
    let after_due = due.checked_add(jiff::SignedDuration::from_secs(1)).unwrap();
    assert_eq!(sweep(after_due).await["breaches"], 1);
    assert_eq!(
        sweep(after_due).await["breaches"],
        0,
        "a breach goes out once"
    );
    let list = work(greenery.clone()).await;
    let original = list["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["case_number"] == first.as_str())
        .unwrap()
        .clone();
    assert_eq!(original["sla_warned"], true);
    assert_eq!(
        original["overdue"], false,
        "overdue is judged by the API's own clock"
    );

    // Staff unlink the follower: it is routed on its own.
    let r = http
        .post(format!(
            "{base}/v1/department/assignments/{first}/followers/{second}/unlink"
        ))
        .bearer_auth(&greenery)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["followers"], Value::Null);
    status_becomes(&http, &base, &second, "assigned").await;

    // "Not ours": greenery hands the second report back; nobody else takes
    // fallen trees, so a person decides.
    let r = http
        .post(format!(
            "{base}/v1/department/assignments/{second}/hand-back"
        ))
        .bearer_auth(&greenery)
        .json(&json!({"reason": "Drzewo na terenie prywatnym"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let view = status_becomes(&http, &base, &second, "triaged").await;
    assert!(
        !view.to_string().contains("prywatnym"),
        "the reason is for staff only"
    );
    let r = http
        .post(format!(
            "{base}/v1/department/assignments/{second}/hand-back"
        ))
        .bearer_auth(&greenery)
        .json(&json!({"reason": 42}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    system.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_is_geocoded_and_a_point_gets_the_nearest_address() {
    let system = start_system().await;
    let base = system.base_url();
    let http = reqwest::Client::new();
    let open311 = |case: String| {
        let http = http.clone();
        let base = base.clone();
        async move {
            fetch_json(&http, format!("{base}/open311/v2/requests/{case}.json")).await[0].clone()
        }
    };
    // Typed without diacritics, in capitals, with "ulica" and the city: still ul. Długa 10.
    let typed = post_request(
        &http,
        &base,
        json!({
            "service_code": "pothole", "description": "Dziura", "address": "ULICA DLUGA 10, Kraków"
        }),
    )
    .await;
    let view = open311(typed.clone()).await;
    assert_eq!(
        (view["lat"].as_f64(), view["long"].as_f64()),
        (Some(50.07), Some(19.935)),
        "{view}"
    );
    assert_eq!(
        view["address"], "ULICA DLUGA 10, Kraków",
        "the citizen's words are kept"
    );
    let native = fetch_json(&http, format!("{base}/v1/requests/{typed}")).await;
    assert_eq!(native["district"], "stare-miasto");

    // A point alone gets the nearest address of the list.
    let pointed = post_request(
        &http,
        &base,
        json!({
            "service_code": "pothole", "description": "Dziura", "lat": 50.0612, "long": 19.9380
        }),
    )
    .await;
    assert_eq!(open311(pointed).await["address"], "Rynek Główny 13");

    // A street the list does not have is kept as text, without a guessed point.
    let unknown = post_request(
        &http,
        &base,
        json!({
            "service_code": "pothole", "description": "Dziura", "address": "ul. Nieistniejąca 5"
        }),
    )
    .await;
    let view = open311(unknown).await;
    assert!(
        view["lat"].is_null() && view["address"] == "ul. Nieistniejąca 5",
        "{view}"
    );
    system.shutdown().await;
}
