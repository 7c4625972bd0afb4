//! The runner's composition root: builds each function of the stack exactly as
//! its own `main.rs` does, from the environment the template gives it.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use citydesk_aws::config::Env;

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
/// An SQS function, with the time its invocation has.
pub type SqsHandler = Arc<
    dyn Fn(SqsEvent, citydesk_aws::deadline::Deadline) -> BoxFuture<SqsBatchResponse> + Send + Sync,
>;
/// A DynamoDB stream function, with the time its invocation has.
pub type StreamHandler = Arc<
    dyn Fn(
            aws_lambda_events::event::dynamodb::Event,
            citydesk_aws::deadline::Deadline,
        ) -> BoxFuture<aws_lambda_events::event::streams::DynamoDbEventResponse>
        + Send
        + Sync,
>;
pub type ScheduledHandler =
    Arc<dyn Fn(serde_json::Value) -> BoxFuture<Result<serde_json::Value, String>> + Send + Sync>;

/// A function ready to be invoked, by its trigger type.
#[derive(Clone)]
pub enum LocalFunction {
    Http(axum::Router),
    Sqs(SqsHandler),
    Stream(StreamHandler),
    Scheduled(ScheduledHandler),
    /// Invoked by a service with a JSON event and answered synchronously
    /// (Amazon Connect's contact flows).
    Invoked(ScheduledHandler),
}

impl std::fmt::Debug for LocalFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LocalFunction::Http(_) => "LocalFunction::Http",
            LocalFunction::Sqs(_) => "LocalFunction::Sqs",
            LocalFunction::Stream(_) => "LocalFunction::Stream",
            LocalFunction::Scheduled(_) => "LocalFunction::Scheduled",
            LocalFunction::Invoked(_) => "LocalFunction::Invoked",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("function binary {0} is not known to the local runner")]
    UnknownBinary(String),
    #[error("{binary}: configuration: {source}")]
    Config {
        binary: String,
        source: citydesk_aws::config::ConfigError,
    },
    #[error("{binary}: start-up: {source}")]
    Init {
        binary: String,
        source: citydesk_core::ports::PortError,
    },
}

/// Builds the function whose `BuildProperties.Binary` is `binary`.
/// `timeout` is the function's, from the template: a scheduled sweep is given
/// as long per invocation.
pub async fn build(
    binary: &str,
    env: HashMap<String, String>,
    timeout: std::time::Duration,
) -> Result<LocalFunction, BuildError> {
    let env = Env::from_map(env);
    let config_err = |source| BuildError::Config {
        binary: binary.to_owned(),
        source,
    };
    let init_err = |source| BuildError::Init {
        binary: binary.to_owned(),
        source,
    };
    Ok(match binary {
        "intake-web" => {
            let config = citydesk_intake_web::Config::from_env(&env).map_err(config_err)?;
            let deps = citydesk_intake_web::Deps::init(&config)
                .await
                .map_err(init_err)?;
            LocalFunction::Http(citydesk_intake_web::router(Arc::new(deps)))
        }
        "open311" => {
            let config = citydesk_open311::Config::from_env(&env).map_err(config_err)?;
            let deps = citydesk_open311::Deps::init(&config)
                .await
                .map_err(init_err)?;
            LocalFunction::Http(citydesk_open311::router(Arc::new(deps)))
        }
        "department-api" => {
            let config = citydesk_department_api::Config::from_env(&env).map_err(config_err)?;
            let deps = citydesk_department_api::Deps::init(&config)
                .await
                .map_err(init_err)?;
            LocalFunction::Http(citydesk_department_api::router(Arc::new(deps)))
        }
        "audit-trail" => {
            let config = citydesk_audit_trail::Config::from_env(&env).map_err(config_err)?;
            let deps = citydesk_audit_trail::Deps::init(&config).await;
            LocalFunction::Http(citydesk_audit_trail::router(Arc::new(deps)))
        }
        "knowledge-base" => {
            let config = citydesk_knowledge_base::Config::from_env(&env).map_err(config_err)?;
            let deps = citydesk_knowledge_base::Deps::init(&config)
                .await
                .map_err(init_err)?;
            LocalFunction::Http(citydesk_knowledge_base::router(Arc::new(deps)))
        }
        "operator-api" => {
            let config = citydesk_operator_api::Config::from_env(&env).map_err(config_err)?;
            let deps = citydesk_operator_api::Deps::init(&config)
                .await
                .map_err(init_err)?;
            LocalFunction::Http(citydesk_operator_api::router(Arc::new(deps)))
        }
        "intake-sms" => {
            let config = citydesk_intake_sms::Config::from_env(&env).map_err(config_err)?;
            let deps = citydesk_intake_sms::Deps::init(&config)
                .await
                .map_err(init_err)?;
            LocalFunction::Http(citydesk_intake_sms::router(Arc::new(deps)))
        }
        "intake-sms-sns" => {
            use citydesk_intake_sms::end_user_messaging as eum;
            let config = eum::SnsConfig::from_env(&env).map_err(config_err)?;
            let deps = Arc::new(eum::SnsDeps::init(&config).await.map_err(init_err)?);
            LocalFunction::Invoked(Arc::new(move |event| {
                let deps = deps.clone();
                Box::pin(async move {
                    let event: eum::SnsEnvelope = serde_json::from_value(event)
                        .map_err(|e| format!("not an SNS event: {e}"))?;
                    eum::handle(&deps, event)
                        .await
                        .map(|outcomes| serde_json::json!({"records": outcomes.len()}))
                        .map_err(|e| e.to_string())
                })
            }))
        }
        "intake-email" => {
            let config = citydesk_intake_email::Config::from_env(&env).map_err(config_err)?;
            let deps = Arc::new(
                citydesk_intake_email::Deps::init(&config)
                    .await
                    .map_err(init_err)?,
            );
            LocalFunction::Invoked(Arc::new(move |event| {
                let deps = deps.clone();
                Box::pin(async move {
                    citydesk_intake_email::handle(&deps, event)
                        .await
                        .map(|()| serde_json::json!({"disposition": "CONTINUE"}))
                        .map_err(|e| e.to_string())
                })
            }))
        }
        "phone-ivr" => {
            let config = citydesk_phone_ivr::Config::from_env(&env).map_err(config_err)?;
            let deps = Arc::new(
                citydesk_phone_ivr::Deps::init(&config)
                    .await
                    .map_err(init_err)?,
            );
            LocalFunction::Invoked(Arc::new(move |event| {
                let deps = deps.clone();
                Box::pin(async move {
                    Ok(serde_json::json!(
                        citydesk_phone_ivr::handle(&deps, event).await
                    ))
                })
            }))
        }
        "pages" => {
            let config = citydesk_pages::Config::from_env(&env).map_err(config_err)?;
            let deps = citydesk_pages::Deps::init(&config)
                .await
                .map_err(init_err)?;
            LocalFunction::Http(citydesk_pages::router(Arc::new(deps)))
        }
        "second-line" => {
            let config = citydesk_second_line::Config::from_env(&env).map_err(config_err)?;
            let deps = citydesk_second_line::Deps::init(&config)
                .await
                .map_err(init_err)?;
            LocalFunction::Http(citydesk_second_line::router(Arc::new(deps)))
        }
        "classify-preview" => {
            let config = citydesk_classify_preview::Config::from_env(&env).map_err(config_err)?;
            let deps = citydesk_classify_preview::Deps::init(&config)
                .await
                .map_err(init_err)?;
            LocalFunction::Http(citydesk_classify_preview::router(Arc::new(deps)))
        }
        "classify" => {
            let config = citydesk_classify::Config::from_env(&env).map_err(config_err)?;
            let deps = Arc::new(
                citydesk_classify::Deps::init(&config)
                    .await
                    .map_err(init_err)?,
            );
            LocalFunction::Sqs(Arc::new(move |event, deadline| {
                let deps = deps.clone();
                Box::pin(async move { citydesk_classify::handle(&deps, event, deadline).await })
            }))
        }
        "route" => {
            let config = citydesk_route::Config::from_env(&env).map_err(config_err)?;
            let deps = Arc::new(
                citydesk_route::Deps::init(&config)
                    .await
                    .map_err(init_err)?,
            );
            LocalFunction::Sqs(Arc::new(move |event, deadline| {
                let deps = deps.clone();
                Box::pin(async move { citydesk_route::handle(&deps, event, deadline).await })
            }))
        }
        "notify" => {
            let config = citydesk_notify::Config::from_env(&env).map_err(config_err)?;
            let deps = Arc::new(
                citydesk_notify::Deps::init(&config)
                    .await
                    .map_err(init_err)?,
            );
            LocalFunction::Sqs(Arc::new(move |event, deadline| {
                let deps = deps.clone();
                Box::pin(async move { citydesk_notify::handle(&deps, event, deadline).await })
            }))
        }
        "dispatch" => {
            let config = citydesk_dispatch::Config::from_env(&env).map_err(config_err)?;
            let deps = Arc::new(
                citydesk_dispatch::Deps::init(&config)
                    .await
                    .map_err(init_err)?,
            );
            LocalFunction::Stream(Arc::new(move |event, deadline| {
                let deps = deps.clone();
                Box::pin(async move { citydesk_dispatch::handle(&deps, event, deadline).await })
            }))
        }
        "report" => {
            let config = citydesk_report::Config::from_env(&env).map_err(config_err)?;
            let deps = Arc::new(
                citydesk_report::Deps::init(&config)
                    .await
                    .map_err(init_err)?,
            );
            LocalFunction::Scheduled(Arc::new(move |input| {
                let deps = deps.clone();
                Box::pin(async move {
                    citydesk_report::handle(&deps, input)
                        .await
                        .map_err(|e| e.to_string())
                })
            }))
        }
        "sla-watch" => {
            let config = citydesk_sla_watch::Config::from_env(&env).map_err(config_err)?;
            let deps = Arc::new(
                citydesk_sla_watch::Deps::init(&config)
                    .await
                    .map_err(init_err)?,
            );
            LocalFunction::Scheduled(Arc::new(move |input| {
                let deps = deps.clone();
                Box::pin(async move {
                    let deadline = citydesk_aws::deadline::Deadline::after(timeout);
                    citydesk_sla_watch::handle(&deps, input, deadline)
                        .await
                        .map_err(|e| e.to_string())
                })
            }))
        }
        other => return Err(BuildError::UnknownBinary(other.to_owned())),
    })
}
