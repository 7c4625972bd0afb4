//! schemathesis (PyPI) generates requests from `/openapi.json` against the local
//! system, with a bounded number of examples, and must find no server error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use citydesk_e2e::{repo_root, start_system};

/// Examples per operation: enough to try the edges, small enough for CI.
const MAX_EXAMPLES: &str = "15";
/// The same for the staff endpoints' second runs.
const STAFF_EXAMPLES: &str = "8";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_server_errors_from_generated_requests() {
    let system = start_system().await;
    let base = system.base_url();
    // Every route of the template is described (Open311's are by resource;
    // the pages are HTML for people, tested in the browser journeys).
    let document =
        citydesk_e2e::fetch_json(&reqwest::Client::new(), format!("{base}/openapi.json")).await;
    let mut missing = Vec::new();
    for route in &system.stack.http_routes {
        if route.path.starts_with("/open311/")
            || route.path == "/openapi.json"
            || route.function == "PagesFunction"
        {
            continue;
        }
        let method = route.method.to_ascii_lowercase();
        if !document["paths"][&route.path][&method].is_object() {
            missing.push(format!("{} {}", route.method, route.path));
        }
    }
    assert!(missing.is_empty(), "not in /openapi.json: {missing:?}");
    // The public and the departments' endpoints with a department key; the
    // staff endpoints again with the token of the role they serve.
    let department_key = system.published.department_keys["roads"].clone();
    schemathesis_run(&base, &department_key, MAX_EXAMPLES, None).await;
    let operator = system.staff_tokens["operator"].clone();
    schemathesis_run(
        &base,
        &operator,
        STAFF_EXAMPLES,
        Some("^/v1/(operator|kb)/"),
    )
    .await;
    let quality = system.staff_tokens["quality"].clone();
    schemathesis_run(&base, &quality, STAFF_EXAMPLES, Some("^/v1/audit/")).await;
    system.shutdown().await;
}

/// One schemathesis run against `base` with `token`, limited to the paths
/// `paths` matches when given.
async fn schemathesis_run(base: &str, token: &str, examples: &str, paths: Option<&str>) {
    let schemathesis = repo_root().join(".venv/bin/schemathesis");
    let mut command = tokio::process::Command::new(&schemathesis);
    command
        .arg("run")
        .arg(format!("{base}/openapi.json"))
        .args([
            "--checks",
            "not_a_server_error",
            "--max-examples",
            examples,
            "--seed",
            "311",
        ])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--request-timeout", "10", "--no-color"])
        .env("SCHEMATHESIS_TELEMETRY", "false");
    if let Some(paths) = paths {
        command.args(["--include-path-regex", paths]);
    }
    let output = command.output().await.unwrap_or_else(|e| {
        panic!(
            "cannot run {} (make test installs it): {e}",
            schemathesis.display()
        )
    });
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "schemathesis found problems ({paths:?}):\n{stdout}\n{stderr}"
    );
}
