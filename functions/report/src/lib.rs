//! Scheduled report: the day's requests counted by status, service, department
//! and channel plus SLA breaches, archived create-only to
//! `reports/<jurisdiction>/daily/<date>.{json,csv}` (see
//! `citydesk_core::usecases::build_report`). A repeated run writes nothing new.
//!
//! Input: `{"date": "YYYY-MM-DD"}` reports that day; without a date, the
//! previous day in the city's time zone.

use std::sync::Arc;

use citydesk_aws::config::{Clients, CommonConfig, ConfigError, Env};
use citydesk_aws::dynamo::DynamoStore;
use citydesk_aws::s3::S3Blobs;
use citydesk_aws::system::SystemClock;
use citydesk_core::catalogue::Catalogues;
use citydesk_core::ports::{BlobStore, Clock, PortError, RequestStore};
use citydesk_core::usecases::build_report::{
    ReportError, Reporting, build_daily_report, previous_day,
};
use jiff::civil::Date;
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
    pub blobs: Arc<dyn BlobStore>,
    pub clock: Arc<dyn Clock>,
    /// Every served city, the default first.
    pub catalogues: Catalogues,
    /// The contact centre's answered contacts (the default city's).
    pub contacts: Arc<dyn citydesk_core::ports::ContactLog>,
}

impl Deps {
    pub async fn init(config: &Config) -> Result<Self, PortError> {
        let clients = Clients::new(&config.common).await;
        let blobs = S3Blobs::new(clients.s3.clone(), &config.common.bucket_name);
        let store = Arc::new(DynamoStore::new(
            clients.dynamodb.clone(),
            &config.common.table_name,
        ));
        Ok(Self {
            catalogues: clients.load_catalogues(&config.common).await?,
            contacts: store.clone(),
            store,
            blobs: Arc::new(blobs),
            clock: Arc::new(SystemClock),
        })
    }
}

/// What the schedule sends. Unknown fields (e.g. `report`) are ignored.
#[derive(Debug, Default, Deserialize)]
pub struct ReportTrigger {
    #[serde(default)]
    pub date: Option<Date>,
}

#[derive(Debug, thiserror::Error)]
pub enum TriggerError {
    #[error("invalid report input (expected {{\"date\": \"YYYY-MM-DD\"}} or no date): {0}")]
    Input(#[from] serde_json::Error),
    #[error(transparent)]
    Report(#[from] ReportError),
}

/// Builds the report the trigger asks for; returns where it is archived.
pub async fn handle(
    deps: &Deps,
    payload: serde_json::Value,
) -> Result<serde_json::Value, TriggerError> {
    let trigger: ReportTrigger = if payload.is_null() {
        ReportTrigger::default()
    } else {
        serde_json::from_value(payload)?
    };
    // One report per city the deployment serves, each on its own calendar day.
    let mut reports = Vec::new();
    for (position, catalogue) in deps.catalogues.iter().enumerate() {
        let date = match trigger.date {
            Some(d) => d,
            None => previous_day(catalogue, deps.clock.now())?,
        };
        let reporting = Reporting {
            store: deps.store.as_ref(),
            // The operators' answered contacts belong to the default city.
            contacts: (position == 0).then(|| deps.contacts.as_ref()),
            blobs: deps.blobs.as_ref(),
            clock: deps.clock.as_ref(),
            catalogue,
        };
        let written = build_daily_report(&reporting, date).await?;
        reports.push(serde_json::json!({
            "jurisdiction_id": catalogue.city().jurisdiction_id.as_str(),
            "date": date.to_string(),
            "json_key": written.json_key,
            "csv_key": written.csv_key,
            "created": written.created,
        }));
    }
    Ok(serde_json::json!({ "reports": reports }))
}
