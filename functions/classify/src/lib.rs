//! Classification step: for each `request_created` message, choose a service
//! from the text (or keep the citizen's choice) and send the request on to
//! routing; unsure cases go to triage for a person.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `CLASSIFY_CONFIDENCE_THRESHOLD` | below this, a person decides | 0.35 |

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use citydesk_aws::config::{Clients, CommonConfig, ConfigError, Env};
use citydesk_aws::dynamo::DynamoStore;
use citydesk_aws::sqs_batch::{process_batch, unexpected};
use citydesk_aws::system::SystemClock;
use citydesk_core::messages::PipelineMessage;
use citydesk_core::ports::{Clock, PortError, RequestStore};
use citydesk_core::rules::classification::Classifiers;
use citydesk_core::usecases::classify_request::{Classify, classify_request};

pub const DEFAULT_THRESHOLD: f64 = 0.35;

#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    pub threshold: f64,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let threshold = env.parsed("CLASSIFY_CONFIDENCE_THRESHOLD", DEFAULT_THRESHOLD)?;
        if !(0.0..=1.0).contains(&threshold) {
            return Err(ConfigError::Invalid {
                name: "CLASSIFY_CONFIDENCE_THRESHOLD",
                reason: "must be between 0 and 1".into(),
            });
        }
        Ok(Self {
            common: CommonConfig::from_env(env)?,
            threshold,
        })
    }
}

pub struct Deps {
    pub store: Arc<dyn RequestStore>,
    pub clock: Arc<dyn Clock>,
    pub classifiers: Classifiers,
    pub threshold: f64,
}

impl Deps {
    pub async fn init(config: &Config) -> Result<Self, PortError> {
        let clients = Clients::new(&config.common).await;
        // Start-up reads run side by side.
        let (catalogues, models) = tokio::try_join!(
            clients.load_catalogues(&config.common),
            clients.load_models(&config.common),
        )?;
        Ok(Self {
            store: Arc::new(DynamoStore::new(
                clients.dynamodb.clone(),
                &config.common.table_name,
            )),
            clock: Arc::new(SystemClock),
            classifiers: Classifiers::with_models(&catalogues, &models),
            threshold: config.threshold,
        })
    }
}

/// Classifies each record's request; failed records are reported for retry.
pub async fn handle(
    deps: &Deps,
    event: SqsEvent,
    deadline: citydesk_aws::deadline::Deadline,
) -> SqsBatchResponse {
    let step = Classify {
        store: deps.store.as_ref(),
        clock: deps.clock.as_ref(),
        classifiers: &deps.classifiers,
        threshold: deps.threshold,
    };
    process_batch(event, deadline, |message: PipelineMessage| {
        let step = &step;
        async move {
            match &message {
                PipelineMessage::RequestCreated { request_id } => {
                    classify_request(step, request_id).await.map(|_| ())
                }
                other => Err(unexpected(other, "request_created")),
            }
        }
    })
    .await
}
