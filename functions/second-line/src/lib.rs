//! The second line, for staff sign-in tokens:
//! - `POST /v1/operator/questions` (operators) with `{"question",
//!   "service_code"? or "department"?, "case_number"?, "language"?,
//!   "caller"?: {"phone"?, "email"?}}`: to the responsible department's
//!   experts, due within the department's `answer_hours` (working time);
//!   idempotent on `Idempotency-Key` (201 new, 200 the same ask again);
//! - `GET /v1/operator/questions/{id}` (operators): the question and, once
//!   given, the expert's answer;
//! - `GET /v1/expert/questions[?department=]` (`expert:<dept>`,
//!   `head:<dept>`): the department's open questions, the soonest due first;
//! - `GET /v1/expert/questions/{id}`: one of them;
//! - `POST /v1/expert/questions/{id}/answer` with `{"answer"}`: answered once;
//!   the caller is told when they left a contact (through the notify queue),
//!   and the question and answer become a draft info card
//!   (`knowledge/drafts/<city>/faq-<id>.toml` in the bucket, the `kb/` format)
//!   for the department to review.
//!
//! An expert sees only their department's questions: another's answers 404,
//! as a missing one does.
//!
//! | variable | meaning |
//! |---|---|
//! | `NOTIFY_QUEUE_URL` | the notify step's queue (answers to callers) |
//! | `STAFF_ISSUER`, `STAFF_AUDIENCE`, `STAFF_JWKS_URL`, `STAFF_GROUPS_CLAIM` | staff sign-in ([`citydesk_aws::config::StaffSignIn`]) |

mod routes;

pub use routes::router;

use std::sync::Arc;

use citydesk_aws::config::{Clients, CommonConfig, ConfigError, Env, StaffSignIn};
use citydesk_aws::dynamo::DynamoStore;
use citydesk_aws::s3::S3Blobs;
use citydesk_aws::sqs::SqsPipelineQueue;
use citydesk_aws::system::SystemClock;
use citydesk_core::catalogue::Catalogue;
use citydesk_core::ports::{BlobStore, Clock, PipelineQueue, PortError, QuestionStore};
use citydesk_http_api::caller::Authenticator;

#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    pub notify_queue_url: String,
    pub staff: Option<StaffSignIn>,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env(env)?,
            notify_queue_url: env.required("NOTIFY_QUEUE_URL")?,
            staff: StaffSignIn::from_env(env)?,
        })
    }
}

/// Built once per cold start.
pub struct Deps {
    pub questions: Arc<dyn QuestionStore>,
    pub drafts: Arc<dyn BlobStore>,
    pub notify: Arc<dyn PipelineQueue>,
    pub catalogue: Catalogue,
    pub clock: Arc<dyn Clock>,
    /// Staff tokens only.
    pub auth: Authenticator,
}

impl Deps {
    pub async fn init(config: &Config) -> Result<Self, PortError> {
        let clients = Clients::new(&config.common).await;
        Ok(Self {
            catalogue: clients.load_catalogue(&config.common).await?,
            questions: Arc::new(DynamoStore::new(
                clients.dynamodb.clone(),
                &config.common.table_name,
            )),
            drafts: Arc::new(S3Blobs::new(clients.s3.clone(), &config.common.bucket_name)),
            notify: Arc::new(
                SqsPipelineQueue::new(clients.sqs.clone())
                    .notify_to(config.notify_queue_url.clone()),
            ),
            clock: Arc::new(SystemClock),
            auth: Authenticator::new(config.staff.as_ref().map(StaffSignIn::tokens), None),
        })
    }
}
