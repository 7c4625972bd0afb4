//! Helpers for the end-to-end tests: deploy `template.yaml` to the emulator as a
//! fresh stack and start the local system on it, as `make run` does.

#![allow(clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, OnceLock};

pub use citydesk_local::RunningSystem;

/// The repository root (this crate lives in `tests/`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn endpoint() -> String {
    std::env::var("CITYDESK_TEST_ENDPOINT")
        .expect("CITYDESK_TEST_ENDPOINT is not set: run the tests with `make test`, which starts the emulator")
}

/// Every log line the system under test wrote, for the personal-data check.
static LOGS: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();

#[derive(Clone, Copy)]
struct CapturedLogs;

impl Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(logs) = LOGS.get()
            && let Ok(mut logs) = logs.lock()
        {
            logs.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures the logs of everything running in this test process (the system's
/// functions run in process), at debug level for citydesk's own crates.
pub fn capture_logs() {
    if LOGS.set(Mutex::new(Vec::new())).is_ok() {
        let filter = tracing_subscriber::EnvFilter::new("info,citydesk=debug");
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_writer(|| CapturedLogs)
            .try_init();
    }
}

/// The captured log text so far.
pub fn captured_logs() -> String {
    LOGS.get()
        .and_then(|l| {
            l.lock()
                .ok()
                .map(|l| String::from_utf8_lossy(&l).into_owned())
        })
        .unwrap_or_default()
}

/// Creates a fresh stack from template.yaml on the emulator and starts the
/// whole system on a free loopback port.
pub async fn start_system() -> RunningSystem {
    start_system_with(&[], &["infra/demo-city"]).await
}

/// The same with template parameters (`Key=Value`) and catalogue folders (one per city).
pub async fn start_system_with(parameters: &[&str], catalogue_dirs: &[&str]) -> RunningSystem {
    capture_logs();
    let root = repo_root();
    let stack = format!("e2e-{}", ulid::Ulid::new().to_string().to_lowercase());
    let dir = std::env::temp_dir().join(&stack);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let stack_file = dir.join("stack.json");
    let python = std::env::var("CITYDESK_PYTHON")
        .unwrap_or_else(|_| root.join(".venv/bin/python").display().to_string());
    let status = Command::new(&python)
        .arg(root.join("infra/local/deploy_stack.py"))
        .arg("--template")
        .arg(root.join("template.yaml"))
        .args([
            "--endpoint-url",
            &endpoint(),
            "--stack-name",
            &stack,
            "--out",
        ])
        .arg(&stack_file)
        .args(parameters.iter().flat_map(|p| ["--parameter", p]))
        .env("AWS_DEFAULT_REGION", "eu-central-1")
        .status()
        .unwrap_or_else(|e| panic!("cannot run {python} (run the tests with `make test`): {e}"));
    assert!(status.success(), "deploy_stack.py failed for {stack}");
    citydesk_local::start(citydesk_local::Options {
        stack_file,
        listen: "127.0.0.1:0".parse().expect("address"),
        catalogue_dirs: catalogue_dirs.iter().map(|d| root.join(d)).collect(),
        credentials_file: dir.join("credentials.json"),
        fire_schedules: false,
    })
    .await
    .expect("local system starts")
}

/// Polls `check` every 200 ms until it returns `Some`, for at most `seconds`.
pub async fn eventually<T, F, Fut>(seconds: u64, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while tokio::time::Instant::now() < deadline {
        if let Some(v) = check().await {
            return Some(v);
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    None
}

/// GET a URL and read its JSON body (the tests' client side).
pub async fn fetch_json(http: &reqwest::Client, url: impl reqwest::IntoUrl) -> serde_json::Value {
    http.get(url)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("a JSON body")
}

/// GET a URL and read its body as text.
pub async fn fetch_text(http: &reqwest::Client, url: impl reqwest::IntoUrl) -> String {
    http.get(url)
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("a text body")
}

/// The shared configuration a function of `system` gets (for the tests' own SDK clients).
pub fn common_config(system: &RunningSystem) -> citydesk_aws::config::CommonConfig {
    let env = citydesk_aws::config::Env::from_map(std::collections::HashMap::from([
        (
            "TABLE_NAME".to_owned(),
            system
                .stack
                .resource("Table")
                .expect("stack resource")
                .to_owned(),
        ),
        (
            "BUCKET_NAME".to_owned(),
            system
                .stack
                .resource("Bucket")
                .expect("stack resource")
                .to_owned(),
        ),
        ("JURISDICTION_ID".to_owned(), "krakow".to_owned()),
        (
            "AWS_ENDPOINT_URL".to_owned(),
            system.stack.endpoint_url.clone(),
        ),
        ("AWS_REGION".to_owned(), system.stack.region.clone()),
        ("AWS_ACCESS_KEY_ID".to_owned(), "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY".to_owned(), "test".to_owned()),
        // As the local runner gives its functions: one emulator answers every
        // test's system, and under a burst a call can take seconds.
        ("SDK_ATTEMPT_TIMEOUT_MS".to_owned(), "20000".to_owned()),
    ]));
    citydesk_aws::config::CommonConfig::from_env(&env).expect("stack resource")
}

/// POSTs a new request to the native API and returns the 201 answer.
pub async fn create_request(
    http: &reqwest::Client,
    base: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let r = http
        .post(format!("{base}/v1/requests"))
        .json(&body)
        .send()
        .await
        .expect("POST /v1/requests");
    let status = r.status().as_u16();
    let body: serde_json::Value = r.json().await.expect("a JSON body");
    if status != 201 {
        // The system's own account of why (its logs carry no personal data).
        let logs = captured_logs();
        let tail: String = logs
            .lines()
            .filter(|l| l.contains("WARN") || l.contains("ERROR"))
            .rev()
            .take(5)
            .collect::<Vec<_>>()
            .join("\n");
        panic!("POST /v1/requests answered {status}: {body}\nlast warnings:\n{tail}");
    }
    body
}

/// A request's status in its public view (empty when it cannot be read).
pub async fn public_status(http: &reqwest::Client, base: &str, case: &str) -> String {
    let view = fetch_json(http, format!("{base}/v1/requests/{case}")).await;
    view["status"].as_str().unwrap_or_default().to_owned()
}

/// Waits until the public view shows `status`, for at most `seconds`.
pub async fn wait_for_status(
    http: &reqwest::Client,
    base: &str,
    case: &str,
    status: &str,
    seconds: u64,
) -> Option<()> {
    eventually(seconds, || async {
        (public_status(http, base, case).await == status).then_some(())
    })
    .await
}

/// POSTs a new request as a well-behaved client does in a storm: with an
/// `Idempotency-Key`, retrying a 503 ("busy, retry") with the same key, so a
/// retry can never create a second request. Returns the 201 answer and how
/// many 503s it met (a busy emulator, or AWS throttling, is passed on as 503).
pub async fn create_request_retrying(
    http: &reqwest::Client,
    base: &str,
    body: serde_json::Value,
    key: &str,
) -> (serde_json::Value, usize) {
    let mut busy = 0;
    loop {
        let r = http
            .post(format!("{base}/v1/requests"))
            .header("idempotency-key", key)
            .json(&body)
            .send()
            .await
            .expect("POST /v1/requests");
        let status = r.status().as_u16();
        let answer: serde_json::Value = r.json().await.expect("a JSON body");
        match status {
            200 | 201 => return (answer, busy),
            503 if busy < 20 => {
                busy += 1;
                tokio::time::sleep(std::time::Duration::from_millis(100 * busy as u64)).await;
            }
            _ => panic!("POST /v1/requests answered {status}: {answer}"),
        }
    }
}

/// Runs the admin command `citydesk` (built by `make test`) against a
/// deployment named by `target` (`--stack-file F` or `--stack-name N`, the
/// latter found on the emulator); returns success, stdout and stderr.
pub fn citydesk_cli(target: &[&str], args: &[&str]) -> (bool, String, String) {
    let binary = std::env::var("CITYDESK_CLI")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo_root().join("target/debug/citydesk"));
    let out = Command::new(&binary)
        .args(target)
        .args(args)
        .env("AWS_ENDPOINT_URL", endpoint())
        .env("AWS_REGION", "eu-central-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} (make test builds it first): {e}",
                binary.display()
            )
        });
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A small well-formed JPEG carrying an EXIF segment with GPS data, which
/// every path must strip.
pub fn jpeg_with_gps() -> Vec<u8> {
    let exif = b"Exif\0\0II*\0\x08\0\0\0GPS!";
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xE1];
    v.extend(
        u16::try_from(exif.len() + 2)
            .expect("a short segment")
            .to_be_bytes(),
    );
    v.extend(exif);
    v.extend([
        0xFF, 0xDB, 0x00, 0x04, 0x00, 0x01, 0xFF, 0xDA, 0x00, 0x02, 0x11, 0x22, 0xFF, 0xD9,
    ]);
    v
}

/// Uploads a JPEG through an upload ticket (`POST /v1/uploads`, then a PUT
/// straight to storage) and returns the ticket, whose `media_key` a request
/// attaches.
pub async fn upload_jpeg(http: &reqwest::Client, base: &str, photo: &[u8]) -> serde_json::Value {
    let ticket: serde_json::Value = http
        .post(format!("{base}/v1/uploads"))
        .json(&serde_json::json!({"content_type": "image/jpeg", "bytes": photo.len()}))
        .send()
        .await
        .expect("POST /v1/uploads")
        .json()
        .await
        .expect("an upload ticket");
    let put = http
        .put(ticket["upload_url"].as_str().expect("upload_url"))
        .header("content-type", "image/jpeg")
        .body(photo.to_vec())
        .send()
        .await
        .expect("PUT the photo");
    assert!(put.status().is_success(), "upload: {put:?}");
    ticket
}
