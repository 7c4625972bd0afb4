//! Scheduled SLA sweep: every open assignment of every served city is checked;
//! a warning goes to the department once the city's share of the SLA has passed
//! (80 % unless the catalogue says otherwise) and a breach once the due time has,
//! each once per assignment (see `citydesk_core::usecases::watch_sla`).
//!
//! Input: `{"now": "<RFC 3339 time>"}`, the moment to judge the clocks at. The
//! schedule passes its own time (`<aws.scheduler.scheduled-time>`), so a late or
//! retried invocation judges the moment it was meant for; without `now`, the
//! function's clock.

use std::sync::Arc;

use citydesk_aws::config::{Clients, CommonConfig, ConfigError, Env};
use citydesk_aws::dynamo::DynamoStore;
use citydesk_aws::system::SystemClock;
use citydesk_core::catalogue::Catalogues;
use citydesk_core::ports::{Clock, PortError, RequestQueries, RequestStore, SweepProgress};
use citydesk_core::usecases::StepError;
use citydesk_core::usecases::watch_sla::{WatchSla, watch_sla};
use serde::Deserialize;

#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env(env)?,
        })
    }
}

pub struct Deps {
    pub store: Arc<dyn RequestStore>,
    pub queries: Arc<dyn RequestQueries>,
    pub progress: Arc<dyn SweepProgress>,
    pub clock: Arc<dyn Clock>,
    /// Every served city, the default first.
    pub catalogues: Catalogues,
}

impl Deps {
    pub async fn init(config: &Config) -> Result<Self, PortError> {
        let clients = Clients::new(&config.common).await;
        let store = Arc::new(DynamoStore::new(
            clients.dynamodb.clone(),
            &config.common.table_name,
        ));
        Ok(Self {
            catalogues: clients.load_catalogues(&config.common).await?,
            store: store.clone(),
            queries: store.clone(),
            progress: store,
            clock: Arc::new(SystemClock),
        })
    }
}

/// What the schedule sends. Unknown fields are ignored.
#[derive(Debug, Default, Deserialize)]
pub struct SweepTrigger {
    #[serde(default)]
    pub now: Option<jiff::Timestamp>,
}

#[derive(Debug, thiserror::Error)]
pub enum TriggerError {
    #[error("invalid sweep input (expected {{\"now\": \"2026-11-30T08:00:00Z\"}} or no now): {0}")]
    Input(#[from] serde_json::Error),
    #[error(transparent)]
    Sweep(#[from] StepError),
}

/// Sweeps at the trigger's time; returns what it emitted.
pub async fn handle(
    deps: &Deps,
    payload: serde_json::Value,
    deadline: citydesk_aws::deadline::Deadline,
) -> Result<serde_json::Value, TriggerError> {
    let trigger: SweepTrigger = if payload.is_null() {
        SweepTrigger::default()
    } else {
        serde_json::from_value(payload)?
    };
    let now = trigger.now.unwrap_or_else(|| deps.clock.now());
    let sweep = WatchSla {
        store: deps.store.as_ref(),
        queries: deps.queries.as_ref(),
        progress: deps.progress.as_ref(),
        catalogues: &deps.catalogues,
    };
    let summary = watch_sla(&sweep, now, &|| deadline.is_near()).await?;
    Ok(serde_json::json!({
        "now": now,
        "open_requests": summary.open_requests,
        "warnings": summary.warnings,
        "breaches": summary.breaches,
        "skipped": summary.skipped,
        "failed": summary.failed,
        "finished": summary.finished,
    }))
}
