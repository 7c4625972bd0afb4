//! The template's schedules, locally: each fires at its expression's times
//! (EventBridge Scheduler's context attributes filled in), and on demand:
//! `GET /_local/schedules` lists them, `POST /_local/schedules/{name}/run`
//! fires one now (a JSON body replaces its input).

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use citydesk_http_api::ApiError;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;
use tokio::sync::watch;

use crate::cron;
use crate::functions::ScheduledHandler;
use crate::stack::Stack;

/// The stack's schedules, each with the function it targets.
pub fn entries(
    stack: &Stack,
    functions: &BTreeMap<String, ScheduledHandler>,
) -> anyhow::Result<Vec<ScheduleEntry>> {
    let mut schedules = Vec::new();
    for s in &stack.schedules {
        let handler = functions.get(&s.function).cloned().with_context(|| {
            format!(
                "schedule {} targets {} which is not a scheduled function",
                s.name, s.function
            )
        })?;
        let parsed = cron::Expression::parse(&s.expression)
            .inspect_err(|e| tracing::warn!(schedule = %s.name, error = %e, "will not fire by itself; run it by hand"))
            .ok();
        schedules.push(ScheduleEntry {
            name: s.name.clone(),
            function: s.function.clone(),
            expression: s.expression.clone(),
            timezone: s.timezone.clone().unwrap_or_else(|| "UTC".into()),
            input: s.input.clone().unwrap_or_else(|| serde_json::json!({})),
            parsed,
            handler,
        });
    }
    Ok(schedules)
}

/// `/_local/schedules` and `/_local/schedules/{name}/run`.
pub fn routes(schedules: Vec<ScheduleEntry>) -> Router {
    Router::new()
        .route("/_local/schedules", get(list_schedules))
        .route("/_local/schedules/{name}/run", post(run_schedule))
        .with_state(LocalState {
            schedules: Arc::new(schedules),
        })
}

/// A schedule of the template, ready to fire.
#[derive(Clone)]
pub struct ScheduleEntry {
    name: String,
    function: String,
    expression: String,
    timezone: String,
    input: serde_json::Value,
    parsed: Option<cron::Expression>,
    handler: ScheduledHandler,
}

#[derive(Clone)]
struct LocalState {
    schedules: Arc<Vec<ScheduleEntry>>,
}

#[derive(Serialize)]
struct ScheduleView {
    name: String,
    function: String,
    expression: String,
    timezone: String,
    input: serde_json::Value,
    next_run: Option<Timestamp>,
}

async fn list_schedules(State(state): State<LocalState>) -> Json<Vec<ScheduleView>> {
    let now = Timestamp::now();
    Json(
        state
            .schedules
            .iter()
            .map(|s| ScheduleView {
                name: s.name.clone(),
                function: s.function.clone(),
                expression: s.expression.clone(),
                timezone: s.timezone.clone(),
                input: s.input.clone(),
                next_run: s
                    .parsed
                    .as_ref()
                    .and_then(|e| e.next_after(now, &tz(&s.timezone))),
            })
            .collect(),
    )
}

/// Fires a schedule now; a JSON body, when given, replaces the schedule's input.
async fn run_schedule(
    State(state): State<LocalState>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let entry = state
        .schedules
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no schedule named {name}; GET /_local/schedules lists them"
            ))
        })?;
    let input = if body.is_empty() {
        with_context_attributes(&entry.input, &entry.name, Timestamp::now())
    } else {
        citydesk_http_api::parse_json(&body)?
    };
    let result = (entry.handler)(input)
        .await
        .map_err(|e| ApiError::new(http::StatusCode::BAD_GATEWAY, "function_error", e))?;
    Ok(Json(
        serde_json::json!({"schedule": name, "result": result}),
    ))
}

/// Fills in EventBridge Scheduler's context attributes (`<aws.scheduler.scheduled-time>`
/// and friends) in a schedule's input, as the scheduler does before invoking.
fn with_context_attributes(
    input: &serde_json::Value,
    schedule: &str,
    scheduled: Timestamp,
) -> serde_json::Value {
    let text = input.to_string();
    if !text.contains("<aws.scheduler.") {
        return input.clone();
    }
    let filled = text
        .replace(
            "<aws.scheduler.scheduled-time>",
            &scheduled
                .round(jiff::Unit::Second)
                .unwrap_or(scheduled)
                .to_string(),
        )
        .replace(
            "<aws.scheduler.schedule-arn>",
            &format!("arn:aws:scheduler:local:000000000000:schedule/default/{schedule}"),
        )
        .replace(
            "<aws.scheduler.execution-id>",
            &format!("local-{}", scheduled.as_millisecond()),
        )
        .replace("<aws.scheduler.attempt-number>", "1");
    serde_json::from_str(&filled).unwrap_or_else(|_| input.clone())
}

fn tz(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap_or(TimeZone::UTC)
}

/// Fires `entry` at each of its times until `stop`.
pub async fn fire_on_schedule(entry: ScheduleEntry, mut stop: watch::Receiver<bool>) {
    let Some(expression) = entry.parsed.clone() else {
        return;
    };
    let zone = tz(&entry.timezone);
    loop {
        let now = Timestamp::now();
        let Some(next) = expression.next_after(now, &zone) else {
            return;
        };
        let wait = std::time::Duration::try_from(next.duration_since(now)).unwrap_or_default();
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
        match (entry.handler)(with_context_attributes(&entry.input, &entry.name, next)).await {
            Ok(result) => tracing::info!(schedule = %entry.name, %result, "schedule fired"),
            Err(error) => tracing::error!(schedule = %entry.name, %error, "scheduled run failed"),
        }
    }
}
