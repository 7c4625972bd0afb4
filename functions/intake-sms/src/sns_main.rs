//! Lambda entry point of text conversations through AWS End User Messaging
//! (SNS invokes it asynchronously with each text to the city's number).

use citydesk_aws::config::Env;
use citydesk_intake_sms::end_user_messaging::{SnsConfig, SnsDeps, SnsEnvelope, handle};
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    citydesk_aws::telemetry::init();
    let config = SnsConfig::from_env(&Env::from_process())?;
    let deps = SnsDeps::init(&config).await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SnsEnvelope>| async {
        handle(&deps, event.payload)
            .await
            .map(|_| ())
            .map_err(lambda_runtime::Error::from)
    }))
    .await
}
