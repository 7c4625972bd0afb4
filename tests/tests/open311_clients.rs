//! Real Open311 clients against the local system: the PyPI `georeport` client
//! reads services, a definition, filtered lists and single requests, in JSON and XML.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use citydesk_e2e::{repo_root, start_system};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn georeport_client_reads_everything_in_both_formats() {
    let system = start_system().await;
    let base = format!("{}/open311/v2", system.base_url());
    let http = reqwest::Client::new();
    let mut ids = Vec::new();
    for (code, extra) in [("pothole", "&attribute[size]=small"), ("fallen-tree", "")] {
        let body = format!(
            "api_key={}&service_code={code}&lat=50.07&long=19.935{extra}",
            system.open311_api_key
        );
        let r = http
            .post(format!("{base}/requests.json"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        ids.push(
            r.json::<Value>().await.unwrap()[0]["service_request_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let python = std::env::var("CITYDESK_PYTHON")
        .unwrap_or_else(|_| repo_root().join(".venv/bin/python").display().to_string());
    let output = tokio::process::Command::new(python)
        .arg(repo_root().join("tests/clients/georeport_client.py"))
        .args([
            "--base",
            &base,
            "--jurisdiction",
            "krakow",
            "--pothole",
            &ids[0],
            "--tree",
            &ids[1],
        ])
        .output()
        .await
        .expect("the georeport client runs (make test installs it)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "georeport client failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("14 checks passed"), "{stdout}");
    system.shutdown().await;
}
