//! The stack description written by `infra/local/deploy_stack.py` from
//! `template.yaml` as the emulator created it: the runner's only source of
//! what exists and what runs where.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Stack {
    pub stack_name: String,
    pub endpoint_url: String,
    pub region: String,
    /// Logical id → physical id (`null` for resources the emulator does not create).
    pub resources: BTreeMap<String, Option<String>>,
    pub functions: BTreeMap<String, StackFunction>,
    pub http_routes: Vec<HttpRoute>,
    pub queue_sources: Vec<QueueSource>,
    /// DynamoDB stream triggers (the outbox's dispatcher).
    #[serde(default)]
    pub stream_sources: Vec<StreamSource>,
    pub schedules: Vec<ScheduleSpec>,
    /// Event source mappings the emulator or account itself runs; the runner
    /// refuses to start while one is enabled (it must be the only consumer).
    #[serde(default)]
    pub event_source_mappings: Vec<EventSourceMapping>,
    /// Functions a service invokes directly (Amazon Connect's contact flows).
    #[serde(default)]
    pub direct_invocations: Vec<DirectInvocation>,
    /// Functions subscribed to an SNS topic (End User Messaging's texts).
    #[serde(default)]
    pub sns_sources: Vec<SnsSource>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SnsSource {
    pub function: String,
    pub topic_arn: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DirectInvocation {
    pub function: String,
    /// The service principal the template lets invoke it (`connect.amazonaws.com`).
    pub principal: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StreamSource {
    pub function: String,
    pub table_name: String,
    pub stream_arn: String,
    #[serde(default)]
    pub starting_position: Option<String>,
    pub batch_size: i32,
    #[serde(default)]
    pub report_batch_item_failures: bool,
    /// `None` or -1: retry until the record expires (Lambda's default).
    #[serde(default)]
    pub maximum_retry_attempts: Option<i64>,
    #[serde(default)]
    pub on_failure_queue_url: Option<String>,
    /// Lambda event filter patterns; a record must match one (none: every record).
    #[serde(default)]
    pub filter_patterns: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EventSourceMapping {
    pub uuid: String,
    #[serde(default)]
    pub function_name: Option<String>,
    #[serde(default)]
    pub event_source_arn: Option<String>,
    pub enabled: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StackFunction {
    pub binary: String,
    pub function_name: String,
    pub environment: BTreeMap<String, String>,
    /// The function's timeout in seconds (each local invocation gets as long).
    #[serde(default = "default_timeout")]
    pub timeout: u64,
}

fn default_timeout() -> u64 {
    3
}

#[derive(Debug, Clone, Deserialize)]
pub struct HttpRoute {
    pub method: String,
    pub path: String,
    pub function: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct QueueSource {
    pub function: String,
    pub queue_url: String,
    pub batch_size: i32,
    #[serde(default)]
    pub maximum_batching_window_seconds: Option<i32>,
    #[serde(default)]
    pub report_batch_item_failures: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ScheduleSpec {
    pub name: String,
    pub function: String,
    pub expression: String,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub input: Option<serde_json::Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error("cannot read {path}: {source}; run infra/local/deploy_stack.py first (make run does)")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a stack description: {source}")]
    Parse {
        path: String,
        source: serde_json::Error,
    },
}

impl Stack {
    pub fn load(path: &Path) -> Result<Self, StackError> {
        let display = path.display().to_string();
        let text = std::fs::read(path).map_err(|source| StackError::Read {
            path: display.clone(),
            source,
        })?;
        serde_json::from_slice(&text).map_err(|source| StackError::Parse {
            path: display,
            source,
        })
    }

    pub fn resource(&self, logical_id: &str) -> Option<&str> {
        self.resources.get(logical_id).and_then(|v| v.as_deref())
    }
}
