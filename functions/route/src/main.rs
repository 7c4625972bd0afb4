//! Lambda entry point of the routing step (SQS trigger).

use citydesk_aws::config::Env;
use citydesk_aws::deadline::Deadline;
use citydesk_route::{Config, Deps, handle};
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    citydesk_aws::telemetry::init();
    let config = Config::from_env(&Env::from_process())?;
    let deps = Deps::init(&config).await?;
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| async move {
        let deadline = Deadline::from_context(&event.context);
        Ok::<_, lambda_runtime::Error>(handle(deps, event.payload, deadline).await)
    }))
    .await
}
