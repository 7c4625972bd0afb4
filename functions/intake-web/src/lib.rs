//! Web intake: `POST /v1/requests` creates a request, `GET /v1/requests/{case_number}`
//! shows its public view (or, with the tracking token as a bearer token, the
//! citizen's private view), `POST /v1/requests/{case_number}/updates` lets the
//! citizen add information or confirm/deny the fix, `GET /health` answers when ready.
//!
//! | variable | meaning |
//! |---|---|
//! | `TRACKING_SECRET_PARAMETER` | SSM parameter of the key tracking tokens are derived with |
//! | `CONTACT_KEY_PARAMETER` | SSM parameter of the key a person's phone and e-mail are indexed with (HMAC) |
//! | shared | see `citydesk_aws::config` |

// The OpenAPI document is one `json!` literal, deeper than the default limit.
#![recursion_limit = "256"]

mod dto;
pub mod openapi;
mod routes;

pub use routes::router;

use citydesk_aws::config::{Clients, CommonConfig, ConfigError, Env};
use citydesk_aws::dynamo::DynamoStore;
use citydesk_aws::system::{RandomIds, SystemClock};
use citydesk_core::catalogue::Catalogue;
use citydesk_core::ports::{Clock, IdSource, MediaStore, PortError, RequestStore};
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    /// SSM parameter of the key tracking tokens are derived with.
    pub tracking_secret_parameter: String,
    /// SSM parameter of the key a person's identifiers are indexed with.
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

/// Everything a request needs, built once per cold start. Ports are trait
/// objects so tests run the same router over in-memory twins.
pub struct Deps {
    pub store: Arc<dyn RequestStore>,
    pub catalogue: Catalogue,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
    /// Photos: upload links, checks of what was uploaded, read links.
    pub media: Arc<dyn MediaStore>,
}

impl Deps {
    pub async fn init(config: &Config) -> Result<Self, PortError> {
        let clients = Clients::new(&config.common).await;
        // Start-up reads run side by side: the catalogue from S3, both id keys
        // from SSM in one call.
        let ssm = aws_sdk_ssm::Client::new(&clients.sdk);
        let (catalogue, (tracking, contacts)) = tokio::try_join!(
            clients.load_catalogue(&config.common),
            citydesk_aws::secrets::id_keys(
                &ssm,
                &config.tracking_secret_parameter,
                &config.contact_key_parameter,
            ),
        )?;
        Ok(Self {
            // The native API serves the deployment's own city (JURISDICTION_ID).
            catalogue,
            store: Arc::new(DynamoStore::new(
                clients.dynamodb.clone(),
                &config.common.table_name,
            )),
            clock: Arc::new(SystemClock),
            ids: Arc::new(RandomIds::new(tracking, contacts)),
            media: Arc::new(citydesk_aws::s3::S3Blobs::new(
                clients.s3.clone(),
                &config.common.bucket_name,
            )),
        })
    }
}
