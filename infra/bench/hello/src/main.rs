//! A bare `lambda_runtime` hello world: the baseline the cold-start benchmark
//! compares every citydesk function with. It does what the `cargo lambda new`
//! template does (default tracing subscriber, then the runtime loop) and
//! nothing else: no configuration, no SDK clients, no catalogue.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<Value, Error>(event.payload)
    }))
    .await
}
