//! The phone's IVR: Amazon Connect invokes this function from a contact
//! flow ("Invoke AWS Lambda function") with the contact and the flow's
//! parameters, and reads the flat answer as `$.External.<key>`. What it
//! answers is [`citydesk_core::usecases::phone_ivr`]. Connect gives a
//! function 8 seconds; this one answers within [`BUDGET`] or says the
//! spoken fallback (and the flow puts the caller through to an operator).
//! It never fails the invocation: a failed read is the fallback too.
//!
//! | variable | meaning |
//! |---|---|
//! | `TRACKING_SECRET_PARAMETER`, `CONTACT_KEY_PARAMETER` | SSM parameters of the id keys (as the web intake's) |

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::connect::ConnectEvent;
use citydesk_aws::config::{Clients, CommonConfig, ConfigError, Env};
use citydesk_aws::dynamo::DynamoStore;
use citydesk_aws::system::{RandomIds, SystemClock};
use citydesk_core::catalogue::Catalogue;
use citydesk_core::contact::{ContactKey, PhoneNumber};
use citydesk_core::ports::{Clock, IdSource, PersonIndex, PortError, RequestStore};
use citydesk_core::usecases::phone_ivr::{Call, PhoneDesk, answer_call, fallback, language_of};

/// Well inside Connect's 8 seconds, the cold start and the flow's own work included.
pub const BUDGET: Duration = Duration::from_millis(5500);

#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    pub tracking_secret_parameter: String,
    pub contact_key_parameter: String,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env(env)?,
            tracking_secret_parameter: env.required("TRACKING_SECRET_PARAMETER")?,
            contact_key_parameter: env.required("CONTACT_KEY_PARAMETER")?,
        })
    }
}

/// Built once per cold start.
pub struct Deps {
    pub store: Arc<dyn RequestStore>,
    pub people: Arc<dyn PersonIndex>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
    pub catalogue: Catalogue,
    pub contact_key: ContactKey,
    /// How long an invocation may take before the fallback is said.
    pub budget: Duration,
}

impl Deps {
    pub async fn init(config: &Config) -> Result<Self, PortError> {
        let clients = Clients::new(&config.common).await;
        let ssm = aws_sdk_ssm::Client::new(&clients.sdk);
        let (catalogue, (tracking, contact_key)) = tokio::try_join!(
            clients.load_catalogue(&config.common),
            citydesk_aws::secrets::id_keys(
                &ssm,
                &config.tracking_secret_parameter,
                &config.contact_key_parameter,
            ),
        )?;
        let store = Arc::new(DynamoStore::new(
            clients.dynamodb.clone(),
            &config.common.table_name,
        ));
        Ok(Self {
            store: store.clone(),
            people: store,
            clock: Arc::new(SystemClock),
            ids: Arc::new(RandomIds::new(tracking, contact_key.clone())),
            catalogue,
            contact_key,
            budget: BUDGET,
        })
    }
}

/// The call as Connect describes it (`ContactFlowEvent`, or the fixture's
/// `ContactFlowExecution`: the name is not checked).
pub fn call_of(event: serde_json::Value) -> Result<Call, String> {
    let event: ConnectEvent = serde_json::from_value(event)
        .map_err(|e| format!("not a Connect contact flow event: {e}"))?;
    let contact = event.details.contact_data;
    let contact_id = contact
        .contact_id
        .filter(|id| !id.trim().is_empty())
        .ok_or("the event has no ContactId")?;
    let caller = contact
        .customer_endpoint
        .address
        .as_deref()
        .and_then(|a| PhoneNumber::parse(a).ok());
    Ok(Call {
        contact_id,
        caller,
        parameters: event.details.parameters.into_iter().collect(),
    })
}

/// Answers one invocation: never an error, at worst the spoken fallback.
pub async fn handle(deps: &Deps, event: serde_json::Value) -> HashMap<String, String> {
    let call = match call_of(event) {
        Ok(call) => call,
        Err(_) => {
            // The reason may quote the event (numbers, attributes): not logged.
            tracing::warn!("unreadable invocation");
            return fallback(Default::default()).into_iter().collect();
        }
    };
    let language = language_of(&call);
    let desk = PhoneDesk {
        store: deps.store.as_ref(),
        people: deps.people.as_ref(),
        clock: deps.clock.as_ref(),
        ids: deps.ids.as_ref(),
        catalogue: &deps.catalogue,
        contact_key: &deps.contact_key,
    };
    let answer = match tokio::time::timeout(deps.budget, answer_call(&desk, &call)).await {
        Ok(Ok(answer)) => answer,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "the IVR could not answer");
            fallback(language)
        }
        Err(_) => {
            tracing::warn!(
                budget_ms = deps.budget.as_millis() as u64,
                "the IVR ran out of time"
            );
            fallback(language)
        }
    };
    answer.into_iter().collect()
}
