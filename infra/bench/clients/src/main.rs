//! The cold-start floor `make bench` compares each function with: the same
//! start as a citydesk function (telemetry, configuration from the
//! environment, the shared SDK configuration and clients, the SSM and
//! EventBridge clients some functions add) without any of their own work (no
//! catalogue, no model, no secrets), then the runtime loop.

use citydesk_aws::config::{Clients, CommonConfig, Env};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    citydesk_aws::telemetry::init();
    let config = CommonConfig::from_env(&Env::from_process())?;
    let clients = Clients::new(&config).await;
    let ssm = aws_sdk_ssm::Client::new(&clients.sdk);
    let events = aws_sdk_eventbridge::Client::new(&clients.sdk);
    let kept = (clients, ssm, events);
    let kept = &kept;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let _ = kept;
        Ok::<Value, Error>(event.payload)
    }))
    .await
}
