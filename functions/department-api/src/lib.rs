//! Department API, for a department's machine integration (its API key,
//! `Authorization: Bearer cdk_…`) and its staff (an identity provider's token:
//! clerks and the head change, managers read):
//! - `GET /v1/department/assignments`: the open work, new first then due first,
//!   filtered by `status`, `due` (`overdue`, `soon`), `district`, `service_code`
//!   and `assignee` (`me`, `none` or a staff subject), a page at a time;
//! - `GET /v1/department/assignments/{case_number}`: one case with its whole
//!   history as staff see it, and its `ETag`;
//! - `POST …/{case_number}/status` with `{status, note}`: `acknowledged`,
//!   `in_progress`, `waiting_for_citizen` (the note asks the citizen; the SLA
//!   clock pauses), `resolved` (the note is the resolution), `rejected` (the
//!   note is the reason), `reopened`;
//! - `POST …/notes` with `{note}`: a message to the citizen (not public);
//! - `POST …/internal-notes` with `{note}`: among staff only, nobody is told;
//! - `POST …/assignee` with `{assignee}`: a clerk claims (`"me"`) or releases
//!   their case; the head gives it to anyone;
//! - `POST …/transfer` with `{department, reason}`: to another department,
//!   through routing;
//! - `POST …/hand-back` with `{reason}`: "not ours": routed again without it;
//! - `POST …/followers/{follower}/unlink`: a report linked as a duplicate is
//!   another problem after all;
//! - for the city's triage department (its contact centre): `GET /v1/department/triage`
//!   lists what the classifier was unsure of, with its suggestions, and
//!   `POST /v1/department/triage/{case_number}` with `{service_code}` decides it
//!   (routed at once, and kept as a training example).
//!
//! Every change takes `If-Match` with the case's `ETag` (`"7"`): a case changed
//! since answers 409 `stale_version` with the version it has now.
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
