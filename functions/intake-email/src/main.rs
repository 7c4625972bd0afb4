//! Lambda entry point of the e-mail intake (invoked by an SES receipt rule).

use citydesk_aws::config::Env;
use citydesk_intake_email::{Config, Deps, handle};
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    citydesk_aws::telemetry::init();
    let config = Config::from_env(&Env::from_process())?;
    let deps = Deps::init(&config).await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| async {
        handle(&deps, event.payload)
            .await
            .map(|()| serde_json::json!({"disposition": "CONTINUE"}))
            .map_err(lambda_runtime::Error::from)
    }))
    .await
}
