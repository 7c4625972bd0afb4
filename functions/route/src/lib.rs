//! Routing step: for each `request_classified` message, apply the routing rule
//! (`citydesk_core::rules::routing`), write the assignment, send it to the
//! department's own queue and tell the notify step.
//!
//! | variable | meaning |
//! |---|---|

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use citydesk_aws::config::{Clients, CommonConfig, ConfigError, Env};
use citydesk_aws::dynamo::DynamoStore;
use citydesk_aws::sqs_batch::{process_batch, unexpected};
use citydesk_aws::system::SystemClock;
use citydesk_core::catalogue::Catalogues;
use citydesk_core::learning::CityModels;
use citydesk_core::messages::PipelineMessage;
use citydesk_core::ports::{Clock, PortError, RequestStore};
use citydesk_core::usecases::route_request::{Route, route_request};

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
    /// Duplicate candidates, read by place.
    pub queries: Arc<dyn citydesk_core::ports::RequestQueries>,
    pub clock: Arc<dyn Clock>,
    /// Every served city, the default first.
    pub catalogues: Catalogues,
    /// Routes learned from each city's history (cities without a model have none).
    pub models: CityModels,
}

impl Deps {
    pub async fn init(config: &Config) -> Result<Self, PortError> {
        let clients = Clients::new(&config.common).await;
        let store = Arc::new(DynamoStore::new(
            clients.dynamodb.clone(),
            &config.common.table_name,
        ));
        // Start-up reads run side by side.
        let (catalogues, models) = tokio::try_join!(
            clients.load_catalogues(&config.common),
            clients.load_models(&config.common),
        )?;
        Ok(Self {
            catalogues,
            models,
            store: store.clone(),
            queries: store,
            clock: Arc::new(SystemClock),
        })
    }
}

pub async fn handle(
    deps: &Deps,
    event: SqsEvent,
    deadline: citydesk_aws::deadline::Deadline,
) -> SqsBatchResponse {
    let step = Route {
        store: deps.store.as_ref(),
        queries: deps.queries.as_ref(),
        clock: deps.clock.as_ref(),
        catalogues: &deps.catalogues,
        models: &deps.models,
    };
    process_batch(event, deadline, |message: PipelineMessage| {
        let step = &step;
        async move {
            match &message {
                PipelineMessage::RequestClassified { request_id } => {
                    route_request(step, request_id).await.map(|_| ())
                }
                other => Err(unexpected(other, "request_classified")),
            }
        }
    })
    .await
}
