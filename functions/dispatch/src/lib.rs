//! The outbox's dispatcher: the table's change stream delivers every committed
//! history event; each goes to the step that reacts to it
//! (`citydesk_core::outbox::reactions`) and, as a versioned domain event, to
//! the city's event bus. Writers send nothing after their commit.
//!
//! | variable | meaning |
//! |---|---|
//! | `CLASSIFY_QUEUE_URL`, `ROUTE_QUEUE_URL`, `NOTIFY_QUEUE_URL` | the pipeline's queues |
//! | `DEPARTMENT_QUEUE_PREFIX` | department queues are `<prefix><queue from the catalogue>` |
//! | `EVENT_BUS_NAME` | the city's EventBridge bus |
//! | `AUDIT_BUCKET_NAME` | the audit trail's bucket (Object Lock): every staff change is appended |

use std::sync::Arc;

use aws_lambda_events::event::dynamodb::Event as DynamoDbEvent;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use citydesk_aws::audit::S3AuditTrail;
use citydesk_aws::config::{Clients, CommonConfig, ConfigError, Env};
use citydesk_aws::deadline::Deadline;
use citydesk_aws::eventbridge::EventBridgeBus;
use citydesk_aws::sqs::{SqsDepartmentQueues, SqsPipelineQueue};
use citydesk_aws::stream_batch::process_stream;
use citydesk_core::catalogue::Catalogues;
use citydesk_core::ports::{AuditTrail, DepartmentQueues, EventBus, PipelineQueue, PortError};
use citydesk_core::usecases::dispatch_change::{Dispatch, dispatch_change};

#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    pub classify_queue_url: String,
    pub route_queue_url: String,
    pub notify_queue_url: String,
    pub department_queue_prefix: String,
    pub event_bus_name: String,
    pub audit_bucket_name: String,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env(env)?,
            classify_queue_url: env.required("CLASSIFY_QUEUE_URL")?,
            route_queue_url: env.required("ROUTE_QUEUE_URL")?,
            notify_queue_url: env.required("NOTIFY_QUEUE_URL")?,
            department_queue_prefix: env.required("DEPARTMENT_QUEUE_PREFIX")?,
            event_bus_name: env.required("EVENT_BUS_NAME")?,
            audit_bucket_name: env.required("AUDIT_BUCKET_NAME")?,
        })
    }
}

pub struct Deps {
    pub queue: Arc<dyn PipelineQueue>,
    pub department_queues: Arc<dyn DepartmentQueues>,
    pub bus: Arc<dyn EventBus>,
    /// Every served city, the default first.
    pub catalogues: Catalogues,
    /// Sets how long a closed request's contact is kept.
    pub contacts: Arc<dyn citydesk_core::ports::ContactRetention>,
    /// Appends every staff change to the audit trail.
    pub audit: Arc<dyn AuditTrail>,
}

impl Deps {
    pub async fn init(config: &Config) -> Result<Self, PortError> {
        let clients = Clients::new(&config.common).await;
        Ok(Self {
            catalogues: clients.load_catalogues(&config.common).await?,
            queue: Arc::new(
                SqsPipelineQueue::new(clients.sqs.clone())
                    .classify_to(config.classify_queue_url.clone())
                    .route_to(config.route_queue_url.clone())
                    .notify_to(config.notify_queue_url.clone()),
            ),
            department_queues: Arc::new(SqsDepartmentQueues::new(
                clients.sqs.clone(),
                config.department_queue_prefix.clone(),
            )),
            bus: Arc::new(EventBridgeBus::new(
                aws_sdk_eventbridge::Client::new(&clients.sdk),
                config.event_bus_name.clone(),
            )),
            audit: Arc::new(S3AuditTrail::new(
                clients.s3.clone(),
                config.audit_bucket_name.clone(),
            )),
            contacts: Arc::new(citydesk_aws::dynamo::DynamoStore::new(
                clients.dynamodb.clone(),
                &config.common.table_name,
            )),
        })
    }
}

pub async fn handle(
    deps: &Deps,
    event: DynamoDbEvent,
    deadline: Deadline,
) -> DynamoDbEventResponse {
    let step = Dispatch {
        queue: deps.queue.as_ref(),
        department_queues: deps.department_queues.as_ref(),
        bus: deps.bus.as_ref(),
        catalogues: &deps.catalogues,
        contacts: deps.contacts.as_ref(),
        audit: deps.audit.as_ref(),
    };
    process_stream(event, deadline, |committed| {
        let step = &step;
        async move { dispatch_change(step, &committed).await }
    })
    .await
}
