//! Lambda entry point of the SLA sweep (EventBridge Scheduler).

use citydesk_aws::config::Env;
use citydesk_sla_watch::{Config, Deps, handle};
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    citydesk_aws::telemetry::init();
    let config = Config::from_env(&Env::from_process())?;
    let deps = Deps::init(&config).await?;
    let deps = &deps;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            let deadline = citydesk_aws::deadline::Deadline::from_context(&event.context);
            handle(deps, event.payload, deadline)
                .await
                .map_err(lambda_runtime::Error::from)
        },
    ))
    .await
}
