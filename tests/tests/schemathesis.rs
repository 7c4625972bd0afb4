//! schemathesis (PyPI) generates requests from `/openapi.json` against the local
//! system, with a bounded number of examples, and must find no server error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use citydesk_e2e::{repo_root, start_system};

/// Examples per operation: enough to try the edges, small enough for CI.
const MAX_EXAMPLES: &str = "25";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_server_errors_from_generated_requests() {
    let system = start_system().await;
    let base = system.base_url();
    let schemathesis = repo_root().join(".venv/bin/schemathesis");
    let department_key = system.published.department_keys["roads"].clone();
    let output = tokio::process::Command::new(&schemathesis)
        .arg("run")
        .arg(format!("{base}/openapi.json"))
        .args([
            "--checks",
            "not_a_server_error",
            "--max-examples",
            MAX_EXAMPLES,
            "--seed",
            "311",
        ])
        .args([
            "--header",
            &format!("Authorization: Bearer {department_key}"),
        ])
        .args(["--request-timeout", "10", "--no-color"])
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .output()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} (make test installs it): {e}",
                schemathesis.display()
            )
        });
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "schemathesis found problems:\n{stdout}\n{stderr}"
    );
    system.shutdown().await;
}
