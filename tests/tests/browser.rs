//! The pages' journeys in a real browser: the local system started as
//! `make run` starts it (the template's stack on the emulator, every function
//! in the runner), then `node --test` over `tests/browser/journeys`, which
//! drives Debian's Chromium headless and offline through playwright-core and
//! checks every page with axe-core. Screenshots go to
//! `tests/browser/screenshots/`; the page weights measured are printed.
//!
//! `make test` installs Chromium and the npm packages first
//! (`infra/local/ensure-browser.sh`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use citydesk_e2e::{repo_root, start_system};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_journeys_pass_in_chromium() {
    let system = start_system().await;
    let root = repo_root();
    let browser_tests = root.join("tests/browser");
    assert!(
        browser_tests.join("node_modules/playwright-core").is_dir(),
        "the browser tests' packages are missing: run infra/local/ensure-browser.sh (make test does)"
    );
    let weights = std::env::temp_dir().join(format!("page-weights-{}.tsv", ulid::Ulid::new()));
    let base = system.base_url();
    let tokens = serde_json::to_string(&system.staff_tokens).unwrap();
    let weights_file = weights.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .args(["--test", "--test-concurrency=1", "--test-reporter=spec"])
            .arg("journeys/")
            .current_dir(&browser_tests)
            .env("CITYDESK_BASE_URL", &base)
            .env("CITYDESK_STAFF_TOKENS", &tokens)
            .env("CITYDESK_SCREENSHOTS", browser_tests.join("screenshots"))
            .env("CITYDESK_PAGE_WEIGHTS", &weights)
            .output()
    })
    .await
    .unwrap()
    .expect("node runs (Node.js 20 is needed for the browser tests)");
    let report = String::from_utf8_lossy(&output.stdout);
    println!("{report}");
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    // page, bytes transferred, requests: the figures of the closing note.
    if let Ok(measured) = std::fs::read_to_string(&weights_file) {
        println!("page weights (bytes, requests):\n{measured}");
    }
    system.shutdown().await;
    assert!(
        output.status.success(),
        "browser journeys failed:\n{report}"
    );
}
