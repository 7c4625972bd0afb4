//! The contact centre's first line, for the `operator` role (a staff
//! sign-in token):
//! - `POST /v1/operator/callers/lookup` with `{"phone": …}` or `{"email": …}`
//!   (in the body, so personal data never stands in a URL or an access log):
//!   the caller's contact and their open and past requests; the read is in
//!   the audit trail before the answer leaves;
//! - `POST /v1/operator/requests`: a request registered on the caller's
//!   behalf, the citizen's body plus `channel` (`phone`, `in_person`,
//!   `letter`, `fax`); idempotent on `Idempotency-Key`;
//! - `POST /v1/operator/contacts` with `{"channel", "articles": [ids],
//!   "language"?}`: a contact answered from the knowledge base, resolved at
//!   first contact (counted by the reports); idempotent on `Idempotency-Key`.
//!
//! | variable | meaning |
//! |---|---|
//! | `TRACKING_SECRET_PARAMETER`, `CONTACT_KEY_PARAMETER` | SSM parameters of the id keys (as the web intake's) |
//! | `AUDIT_BUCKET_NAME` | the audit trail's bucket |
//! | `STAFF_ISSUER`, `STAFF_AUDIENCE`, `STAFF_JWKS_URL`, `STAFF_GROUPS_CLAIM` | staff sign-in ([`citydesk_aws::config::StaffSignIn`]) |

mod routes;

pub use routes::router;

use std::sync::Arc;

use citydesk_aws::audit::S3AuditTrail;
use citydesk_aws::config::{Clients, CommonConfig, ConfigError, Env, StaffSignIn};
use citydesk_aws::dynamo::DynamoStore;
use citydesk_aws::knowledge::load_knowledge;
use citydesk_aws::s3::S3Blobs;
use citydesk_aws::system::{RandomIds, SystemClock};
use citydesk_core::catalogue::Catalogue;
use citydesk_core::contact::ContactKey;
use citydesk_core::knowledge::KnowledgeBase;
use citydesk_core::ports::{
    AuditTrail, Clock, ContactLog, ContactStore, IdSource, PersonIndex, PortError, RequestStore,
};
use citydesk_http_api::caller::Authenticator;

#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    pub tracking_secret_parameter: String,
    pub contact_key_parameter: String,
    pub audit_bucket_name: String,
    pub staff: Option<StaffSignIn>,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env(env)?,
            tracking_secret_parameter: env.required("TRACKING_SECRET_PARAMETER")?,
            contact_key_parameter: env.required("CONTACT_KEY_PARAMETER")?,
            audit_bucket_name: env.required("AUDIT_BUCKET_NAME")?,
            staff: StaffSignIn::from_env(env)?,
        })
    }
}

/// Built once per cold start.
pub struct Deps {
    pub store: Arc<dyn RequestStore>,
    pub contacts: Arc<dyn ContactStore>,
    pub people: Arc<dyn PersonIndex>,
    pub contact_log: Arc<dyn ContactLog>,
    pub audit: Arc<dyn AuditTrail>,
    pub catalogue: Catalogue,
    pub knowledge: KnowledgeBase,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
    pub contact_key: ContactKey,
    /// Staff tokens only.
    pub auth: Authenticator,
}

impl Deps {
    pub async fn init(config: &Config) -> Result<Self, PortError> {
        let clients = Clients::new(&config.common).await;
        let ssm = aws_sdk_ssm::Client::new(&clients.sdk);
        let blobs = S3Blobs::new(clients.s3.clone(), &config.common.bucket_name);
        let (catalogue, knowledge, (tracking, contact_key)) = tokio::try_join!(
            clients.load_catalogue(&config.common),
            load_knowledge(&blobs, &config.common.jurisdiction),
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
            contacts: store.clone(),
            people: store.clone(),
            contact_log: store,
            audit: Arc::new(S3AuditTrail::new(
                clients.s3.clone(),
                config.audit_bucket_name.clone(),
            )),
            catalogue,
            knowledge,
            clock: Arc::new(SystemClock),
            ids: Arc::new(RandomIds::new(tracking, contact_key.clone())),
            contact_key,
            auth: Authenticator::new(config.staff.as_ref().map(StaffSignIn::tokens), None),
        })
    }
}
