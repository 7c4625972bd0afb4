//! Department API, authorised by a per-department key (`Authorization: Bearer …`):
//! - `GET /v1/department/assignments`: the caller's department's open work, due first;
//! - `POST /v1/department/assignments/{case_number}/status` with `{status, note}`:
//!   `acknowledged`, `in_progress` or `resolved` (the note is the resolution);
//! - `POST /v1/department/assignments/{case_number}/notes` with `{note}`: a message
//!   to the citizen (not public), sent to them like a status change;
//! - `POST /v1/department/assignments/{case_number}/hand-back` with `{reason}`:
//!   "not ours": routed again without this department;
//! - `POST /v1/department/assignments/{case_number}/followers/{follower}/unlink`:
//!   a report linked as a duplicate is another problem after all;
//! - for the city's triage department (its contact centre): `GET /v1/department/triage`
//!   lists what the classifier was unsure of, with its suggestions, and
//!   `POST /v1/department/triage/{case_number}` with `{service_code}` decides it
//!   (routed at once, and kept as a training example).
//!
//! A department never sees another's work: a foreign case and a missing one both answer 404.
//!
//! | variable | meaning |
//! |---|---|

mod routes;

pub use routes::router;

use std::sync::Arc;

use citydesk_aws::config::{Clients, CommonConfig, ConfigError, Env, StaffSignIn};
use citydesk_aws::dynamo::DynamoStore;
use citydesk_aws::s3::S3Blobs;
use citydesk_aws::system::SystemClock;
use citydesk_core::catalogue::Catalogues;
use citydesk_core::ports::{Clock, DepartmentKeys, PortError, RequestStore, TrainingExamples};
use citydesk_http_api::caller::Authenticator;

#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    /// Staff sign-in (`STAFF_ISSUER`…); without it only department keys work.
    pub staff: Option<StaffSignIn>,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env(env)?,
            staff: StaffSignIn::from_env(env)?,
        })
    }
}

pub struct Deps {
    pub store: Arc<dyn RequestStore>,
    /// The lists (department work, triage), a page at a time.
    pub queries: Arc<dyn citydesk_core::ports::RequestQueries>,
    /// Department API keys and staff tokens.
    pub auth: Authenticator,
    pub clock: Arc<dyn Clock>,
    /// Where operators' triage choices go for the next training run.
    pub examples: Arc<dyn TrainingExamples>,
    /// Every served city, the default first.
    pub catalogues: Catalogues,
}

impl Deps {
    pub async fn init(config: &Config) -> Result<Self, PortError> {
        let clients = Clients::new(&config.common).await;
        let store = Arc::new(DynamoStore::new(
            clients.dynamodb.clone(),
            &config.common.table_name,
        ));
        Ok(Self {
            catalogues: clients.load_catalogues(&config.common).await?,
            store: store.clone(),
            queries: store.clone(),
            auth: Authenticator::new(
                config.staff.as_ref().map(StaffSignIn::tokens),
                Some(store as Arc<dyn DepartmentKeys>),
            ),
            clock: Arc::new(SystemClock),
            examples: Arc::new(S3Blobs::new(clients.s3.clone(), &config.common.bucket_name)),
        })
    }
}
