//! Lambda entry point of the phone's IVR (Amazon Connect invokes it synchronously).

use citydesk_aws::config::Env;
use citydesk_phone_ivr::{Config, Deps, handle};
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    citydesk_aws::telemetry::init();
    let config = Config::from_env(&Env::from_process())?;
    let deps = Deps::init(&config).await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| async {
        Ok::<_, lambda_runtime::Error>(handle(&deps, event.payload).await)
    }))
    .await
}
