//! Lambda entry point of the SLA sweep (EventBridge Scheduler).

use citydesk_aws::config::Env;
use citydesk_sla_watch::{Config, Deps, handle};
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    citydesk_aws::telemetry::init();
    let config = Config::from_env(&Env::from_process())?;
    let deps = Deps::init(&config).await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| async {
        handle(&deps, event.payload)
            .await
            .map_err(lambda_runtime::Error::from)
    }))
    .await
}
