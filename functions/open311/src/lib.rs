//! Open311 GeoReport v2 server under `/open311/v2/`, on the same intake path as
//! the native API (`citydesk_core::usecases::submit_request`).
//!
//! | resource | |
//! |---|---|
//! | `GET discovery.{xml,json}` | endpoints, formats, contact |
//! | `GET services.{fmt}` | the catalogue |
//! | `GET services/{code}.{fmt}` (alias `service/{code}`) | a service definition (its form) |
//! | `POST requests.{fmt}` | a new request (`api_key` required) |
//! | `GET requests.{fmt}` | requests by id list, service, date window, status; `page`, `page_size`, `extensions` |
//! | `GET requests/{id}.{fmt}` | one request, as a one-element list |
//! | `GET tokens/{token}.{fmt}` | the request a token stands for |
//! | `GET servicerequestupdates.{fmt}` | mySociety extension: what happened in a window, richer statuses |
//! | `POST servicerequestupdates.{fmt}` | mySociety extension: a citizen's update relayed by a client |
//!
//! `service_request_id` is the case number people read over the phone.
//!
//! | variable | meaning |
//! |---|---|
//! | `TRACKING_SECRET_PARAMETER` | SSM parameter of the key tracking tokens are derived with |
//! | `CONTACT_KEY_PARAMETER` | SSM parameter of the key a person's phone and e-mail are indexed with (HMAC) |
//! | `PUBLIC_BASE_URL` | this deployment's public URL, for discovery |

mod format;
mod key_service;
mod multipart;
mod params;
mod representation;
mod routes;
mod searches;
mod submissions;

pub use format::{Format, Node, Open311Error};
pub use routes::router;

use std::sync::Arc;

use citydesk_aws::config::{Clients, CommonConfig, ConfigError, Env};
use citydesk_aws::dynamo::DynamoStore;
use citydesk_aws::system::{RandomIds, SystemClock};
use citydesk_core::catalogue::Catalogues;
use citydesk_core::ports::{
    ClientKeys, Clock, IdSource, MediaStore, OnceLedger, PortError, RequestStore,
};

#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    /// SSM parameter of the key tracking tokens are derived with.
    pub tracking_secret_parameter: String,
    /// SSM parameter of the key a person's identifiers are indexed with.
    pub contact_key_parameter: String,
    pub public_base_url: String,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env(env)?,
            tracking_secret_parameter: env.required("TRACKING_SECRET_PARAMETER")?,
            contact_key_parameter: env.required("CONTACT_KEY_PARAMETER")?,
            public_base_url: env
                .optional("PUBLIC_BASE_URL")
                .unwrap_or_else(|| "https://311.example.org".into()),
        })
    }
}

pub struct Deps {
    pub store: Arc<dyn RequestStore>,
    /// Searches and updates, a bounded page at a time.
    pub queries: Arc<dyn citydesk_core::ports::RequestQueries>,
    pub keys: Arc<dyn ClientKeys>,
    /// Photos uploaded with requests.
    pub media: Arc<dyn MediaStore>,
    /// Remembers client update ids already applied.
    pub ledger: Arc<dyn OnceLedger>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
    /// Every served city, the default first.
    pub catalogues: Catalogues,
    pub public_base_url: String,
}

impl Deps {
    pub async fn init(config: &Config) -> Result<Self, PortError> {
        let clients = Clients::new(&config.common).await;
        let store = Arc::new(DynamoStore::new(
            clients.dynamodb.clone(),
            &config.common.table_name,
        ));
        // Start-up reads run side by side: the catalogues from S3, both id
        // keys from SSM in one call.
        let ssm = aws_sdk_ssm::Client::new(&clients.sdk);
        let (catalogues, (tracking, contacts)) = tokio::try_join!(
            clients.load_catalogues(&config.common),
            citydesk_aws::secrets::id_keys(
                &ssm,
                &config.tracking_secret_parameter,
                &config.contact_key_parameter,
            ),
        )?;
        Ok(Self {
            catalogues,
            store: store.clone(),
            queries: store.clone(),
            keys: store.clone(),
            ledger: store,
            media: Arc::new(citydesk_aws::s3::S3Blobs::new(
                clients.s3.clone(),
                &config.common.bucket_name,
            )),
            clock: Arc::new(SystemClock),
            ids: Arc::new(RandomIds::new(tracking, contacts)),
            public_base_url: config.public_base_url.trim_end_matches('/').to_owned(),
        })
    }
}
