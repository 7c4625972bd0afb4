//! Lambda entry point of the text conversations' webhook (API Gateway HTTP API).

use std::sync::Arc;

use citydesk_aws::config::Env;
use citydesk_intake_sms::{Config, Deps, router};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    citydesk_aws::telemetry::init();
    let config = Config::from_env(&Env::from_process())?;
    let deps = Arc::new(Deps::init(&config).await?);
    lambda_http::run(router(deps)).await
}
