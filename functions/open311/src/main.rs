//! Lambda entry point of the Open311 GeoReport v2 server (API Gateway HTTP API).

use std::sync::Arc;

use citydesk_aws::config::Env;
use citydesk_open311::{Config, Deps, router};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    citydesk_aws::telemetry::init();
    let config = Config::from_env(&Env::from_process())?;
    let deps = Arc::new(Deps::init(&config).await?);
    lambda_http::run(router(deps)).await
}
