//! Cold init: spawn a function binary as Lambda would, against a stand-in of
//! the Lambda runtime API on 127.0.0.1, and time process start → the first
//! `GET /2018-06-01/runtime/invocation/next` (the runtime is ready for its
//! first event only once the function's own initialisation is done).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::{get, post};
use tokio::sync::{mpsc, watch};

const NEXT_PATH: &str = "/2018-06-01/runtime/invocation/next";
const INIT_ERROR_PATH: &str = "/2018-06-01/runtime/init/error";

/// What the stand-in saw.
#[derive(Debug)]
enum RuntimeCall {
    Next(Instant),
    InitError(String),
    Unexpected(String),
}

#[derive(Clone)]
struct StandIn {
    calls: mpsc::UnboundedSender<RuntimeCall>,
    release: watch::Receiver<bool>,
}

/// The long poll for the next event: recorded, then held open (as Lambda
/// does while no event is queued) until the run is over.
async fn next(State(s): State<StandIn>) -> StatusCode {
    let at = Instant::now();
    let _ = s.calls.send(RuntimeCall::Next(at));
    let mut release = s.release.clone();
    let _ = release.wait_for(|done| *done).await;
    StatusCode::SERVICE_UNAVAILABLE
}

async fn init_error(State(s): State<StandIn>, headers: HeaderMap, body: String) -> StatusCode {
    let kind = headers
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("unknown")
        .to_owned();
    let _ = s
        .calls
        .send(RuntimeCall::InitError(format!("{kind}: {body}")));
    StatusCode::ACCEPTED
}

async fn unexpected(State(s): State<StandIn>, method: http::Method, uri: Uri) -> StatusCode {
    let _ = s
        .calls
        .send(RuntimeCall::Unexpected(format!("{method} {uri}")));
    StatusCode::NOT_FOUND
}

/// One binary to start, and the environment Lambda would give it.
#[derive(Debug, Clone)]
pub struct Subject {
    pub name: String,
    pub path: PathBuf,
    /// The function's own variables (template environment, endpoint, credentials).
    pub env: BTreeMap<String, String>,
    pub function_name: String,
}

#[derive(Debug, Clone, Copy)]
pub struct ColdOptions {
    pub runs: usize,
    pub memory_size_mb: u32,
    pub timeout: Duration,
}

#[derive(Debug)]
pub struct ColdFigures {
    pub name: String,
    /// Spawn → first `next`, one per measured run.
    pub samples: Vec<Duration>,
}

impl ColdFigures {
    fn sorted(&self) -> Vec<Duration> {
        let mut s = self.samples.clone();
        s.sort();
        s
    }
    pub fn median(&self) -> Duration {
        let s = self.sorted();
        match s.len() {
            0 => Duration::ZERO,
            n if n % 2 == 1 => s[n / 2],
            n => (s[n / 2 - 1] + s[n / 2]) / 2,
        }
    }
    pub fn min(&self) -> Duration {
        self.sorted().first().copied().unwrap_or_default()
    }
    pub fn max(&self) -> Duration {
        self.sorted().last().copied().unwrap_or_default()
    }
}

/// The variables Lambda itself sets for a `provided.al2023` function.
fn lambda_env(
    subject: &Subject,
    runtime_api: &str,
    options: &ColdOptions,
    run: usize,
) -> BTreeMap<String, String> {
    let task_root = subject
        .path
        .parent()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let today = jiff::Timestamp::now().strftime("%Y/%m/%d").to_string();
    let mut env = BTreeMap::from([
        ("AWS_LAMBDA_RUNTIME_API".to_owned(), runtime_api.to_owned()),
        (
            "AWS_LAMBDA_FUNCTION_NAME".to_owned(),
            subject.function_name.clone(),
        ),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE".to_owned(),
            options.memory_size_mb.to_string(),
        ),
        (
            "AWS_LAMBDA_FUNCTION_VERSION".to_owned(),
            "$LATEST".to_owned(),
        ),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME".to_owned(),
            format!("/aws/lambda/{}", subject.function_name),
        ),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME".to_owned(),
            format!("{today}/[$LATEST]bench{run:04}"),
        ),
        (
            "AWS_LAMBDA_INITIALIZATION_TYPE".to_owned(),
            "on-demand".to_owned(),
        ),
        ("LAMBDA_TASK_ROOT".to_owned(), task_root),
        ("_HANDLER".to_owned(), "bootstrap".to_owned()),
        ("TZ".to_owned(), ":UTC".to_owned()),
        ("LANG".to_owned(), "en_US.UTF-8".to_owned()),
        (
            "PATH".to_owned(),
            "/usr/local/bin:/usr/bin/:/bin".to_owned(),
        ),
    ]);
    env.extend(subject.env.clone());
    env
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(15);
    lines[from..].join("\n")
}

/// Starts the binary once and returns spawn → first `next`.
pub async fn measure_once(
    subject: &Subject,
    options: &ColdOptions,
    run: usize,
    log_dir: &Path,
) -> anyhow::Result<Duration> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding the runtime API stand-in on 127.0.0.1")?;
    let runtime_api = listener.local_addr()?.to_string();
    let (calls_tx, mut calls) = mpsc::unbounded_channel();
    let (release_tx, release_rx) = watch::channel(false);
    let app = Router::new()
        .route(NEXT_PATH, get(next))
        .route(INIT_ERROR_PATH, post(init_error))
        .fallback(unexpected)
        .with_state(StandIn {
            calls: calls_tx,
            release: release_rx,
        });
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    std::fs::create_dir_all(log_dir).with_context(|| format!("creating {}", log_dir.display()))?;
    let log_path = log_dir.join(format!("{}.log", subject.name));
    let log = std::fs::File::create(&log_path)
        .with_context(|| format!("creating {}", log_path.display()))?;
    let mut command = tokio::process::Command::new(&subject.path);
    command
        .env_clear()
        .envs(lambda_env(subject, &runtime_api, options, run))
        .current_dir(subject.path.parent().unwrap_or(Path::new(".")))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true);

    let spawned_at = Instant::now();
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {}", subject.path.display()))?;
    let deadline = tokio::time::sleep(options.timeout);
    tokio::pin!(deadline);
    let mut unexpected_calls = Vec::new();
    let outcome: anyhow::Result<Duration> = loop {
        tokio::select! {
            call = calls.recv() => match call {
                Some(RuntimeCall::Next(at)) => break Ok(at.duration_since(spawned_at)),
                Some(RuntimeCall::InitError(error)) => {
                    let _ = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
                    break Err(anyhow::anyhow!("{} reported an init error: {error}", subject.name));
                }
                Some(RuntimeCall::Unexpected(what)) => unexpected_calls.push(what),
                None => break Err(anyhow::anyhow!("runtime API stand-in stopped")),
            },
            status = child.wait() => {
                break Err(anyhow::anyhow!(
                    "{} exited ({}) before asking for its first event",
                    subject.name,
                    status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string())
                ));
            }
            () = &mut deadline => {
                break Err(anyhow::anyhow!(
                    "{} did not ask for its first event within {:?}",
                    subject.name,
                    options.timeout
                ));
            }
        }
    };

    // The measurement is over: stop the function, release the held long poll.
    let _ = child.start_kill();
    let _ = child.wait().await;
    let _ = release_tx.send(true);
    server.abort();
    let _ = server.await;

    outcome.map_err(|e| {
        let mut message = e.to_string();
        if !unexpected_calls.is_empty() {
            message.push_str(&format!(
                "\nunexpected runtime API calls: {}",
                unexpected_calls.join(", ")
            ));
        }
        anyhow::anyhow!(
            "{message}\nlast lines of {}:\n{}",
            log_path.display(),
            log_tail(&log_path)
        )
    })
}

/// Every subject `runs` times, round-robin (so slow phases of a noisy machine
/// spread over all binaries), after one unrecorded start each that brings the
/// binary into the page cache.
pub async fn measure_all(
    subjects: &[Subject],
    options: &ColdOptions,
    log_dir: &Path,
) -> anyhow::Result<Vec<ColdFigures>> {
    let mut figures: Vec<ColdFigures> = subjects
        .iter()
        .map(|s| ColdFigures {
            name: s.name.clone(),
            samples: Vec::with_capacity(options.runs),
        })
        .collect();
    for subject in subjects {
        measure_once(subject, options, 0, log_dir)
            .await
            .with_context(|| format!("warm-up start of {}", subject.name))?;
    }
    for run in 1..=options.runs {
        for (subject, figure) in subjects.iter().zip(figures.iter_mut()) {
            let sample = measure_once(subject, options, run, log_dir)
                .await
                .with_context(|| format!("run {run} of {}", subject.name))?;
            figure.samples.push(sample);
        }
    }
    if figures.iter().any(|f| f.samples.is_empty()) {
        bail!("no cold-init samples (--runs 0?)");
    }
    Ok(figures)
}
