//! The pages people use, served by the system itself under the same HTTP API:
//! the residents' portal (`/`, `/answers`, `/report`, `/track/{case}`), the
//! staff pages (`/staff/…`: sign-in, the department portal) and the static
//! assets they load (`/assets/…`, fingerprinted).
//!
//! Pages are rendered on the server (`render`, templates in `templates/`)
//! and work without JavaScript; scripts in `assets/` add the map, the
//! service suggestions as one types, and step-by-step navigation.
//!
//! | variable | meaning |
//! |---|---|
//! | `TRACKING_SECRET_PARAMETER` | SSM parameter of the key tracking tokens are derived with |
//! | `CONTACT_KEY_PARAMETER` | SSM parameter of the key a person's phone and e-mail are indexed with |
//! | `MAP_TILE_URL` | map tiles, `https://…/{z}/{x}/{y}.png`; empty: the map draws the districts only |
//! | `MAP_TILE_ATTRIBUTION` | the tiles' attribution text |
//! | `COOKIE_SECURE` | `false` only for plain-HTTP development (cookies are `Secure` otherwise) |
//! | `STAFF_ISSUER`, `STAFF_AUDIENCE`, `STAFF_JWKS_URL`, `STAFF_GROUPS_CLAIM` | staff tokens, as every staff endpoint verifies them |
//! | `STAFF_AUTHORIZE_URL`, `STAFF_TOKEN_URL` | the identity provider's authorisation and token endpoints (code flow with PKCE) |
//! | `NOTIFY_QUEUE_URL` | the notify queue (an expert's answer is told to the caller through it) |
//! | `AUDIT_BUCKET_NAME` | the audit trail's bucket (the operator console's caller lookups are appended to it first) |
//! | `PUBLIC_BASE_URL` | where the pages are (`{it}/staff/callback` is the redirect URI the provider knows) |
//! | shared | see `citydesk_aws::config` |

pub mod assets;
pub mod citizen;
pub mod cookies;
pub mod forms;
pub mod locale;
pub mod render;
pub mod staff;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
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
    AuditTrail, Clock, ContactLog, ContactStore, IdSource, KnowledgeIndex, MediaStore, PersonIndex,
    PortError, RequestQueries, RequestStore, TrainingExamples,
};
use citydesk_staff_auth::StaffTokens;

use crate::assets::Assets;
use crate::cookies::CookiePolicy;
use crate::locale::Texts;
use crate::render::{Renderer, Site};
use crate::staff::SignInEndpoints;

#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    pub tracking_secret_parameter: String,
    pub contact_key_parameter: String,
    pub tile_url: String,
    pub tile_attribution: String,
    pub cookies: CookiePolicy,
    /// Staff tokens; without them the staff pages answer that sign-in is off.
    pub staff: Option<StaffSignIn>,
    pub sign_in: Option<SignInEndpoints>,
    pub notify_queue_url: String,
    pub audit_bucket_name: String,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let secure = match env.optional("COOKIE_SECURE").as_deref() {
            None | Some("true") => true,
            Some("false") => false,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "COOKIE_SECURE",
                    reason: format!("must be true or false, not {other:?}"),
                });
            }
        };
        let staff = StaffSignIn::from_env(env)?;
        let sign_in = match (
            &staff,
            env.optional("STAFF_AUTHORIZE_URL"),
            env.optional("STAFF_TOKEN_URL"),
        ) {
            (Some(staff), Some(authorize_url), Some(token_url)) => Some(SignInEndpoints {
                authorize_url,
                token_url,
                client_id: staff.verifier.audience.clone(),
                redirect_uri: format!(
                    "{}/staff/callback",
                    env.required("PUBLIC_BASE_URL")?.trim_end_matches('/')
                ),
            }),
            _ => None,
        };
        Ok(Self {
            staff,
            sign_in,
            notify_queue_url: env.required("NOTIFY_QUEUE_URL")?,
            audit_bucket_name: env.required("AUDIT_BUCKET_NAME")?,
            common: CommonConfig::from_env(env)?,
            tracking_secret_parameter: env.required("TRACKING_SECRET_PARAMETER")?,
            contact_key_parameter: env.required("CONTACT_KEY_PARAMETER")?,
            tile_url: env.optional("MAP_TILE_URL").unwrap_or_default(),
            tile_attribution: env.optional("MAP_TILE_ATTRIBUTION").unwrap_or_default(),
            cookies: CookiePolicy { secure },
        })
    }
}

/// Everything a page needs, built once per cold start.
pub struct Deps {
    pub store: Arc<dyn RequestStore>,
    /// The department's lists, a page at a time.
    pub queries: Arc<dyn RequestQueries>,
    pub catalogue: Catalogue,
    /// The same catalogue, as the department use cases take it.
    pub catalogues: citydesk_core::catalogue::Catalogues,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
    pub media: Arc<dyn MediaStore>,
    pub kb: KnowledgeBase,
    pub kb_index: Arc<dyn KnowledgeIndex>,
    pub renderer: Renderer,
    pub assets: Arc<Assets>,
    pub cookies: CookiePolicy,
    pub staff_tokens: Option<Arc<dyn StaffTokens>>,
    pub sign_in: Option<SignInEndpoints>,
    /// For the identity provider's token endpoint.
    pub http: reqwest::Client,
    /// The second line: questions, draft info cards, the notify queue.
    pub questions: Arc<dyn citydesk_core::ports::QuestionStore>,
    pub drafts: Arc<dyn citydesk_core::ports::BlobStore>,
    pub notify: Arc<dyn citydesk_core::ports::PipelineQueue>,
    /// The operator console: callers by phone, their contacts, the audit
    /// trail of every lookup, contacts answered at once, triage choices.
    pub desk: DeskPorts,
}

/// What the operator console reads and writes beside the requests.
pub struct DeskPorts {
    pub people: Arc<dyn PersonIndex>,
    pub contacts: Arc<dyn ContactStore>,
    pub contact_log: Arc<dyn ContactLog>,
    pub audit: Arc<dyn AuditTrail>,
    pub examples: Arc<dyn TrainingExamples>,
    pub contact_key: ContactKey,
}

impl Deps {
    pub async fn init(config: &Config) -> Result<Self, PortError> {
        let clients = Clients::new(&config.common).await;
        let ssm = aws_sdk_ssm::Client::new(&clients.sdk);
        let blobs = S3Blobs::new(clients.s3.clone(), &config.common.bucket_name);
        let (catalogue, (tracking, contacts), kb) = tokio::try_join!(
            clients.load_catalogue(&config.common),
            citydesk_aws::secrets::id_keys(
                &ssm,
                &config.tracking_secret_parameter,
                &config.contact_key_parameter,
            ),
            load_knowledge(&blobs, &config.common.jurisdiction),
        )?;
        let kb_index = citydesk_knowledge_search::ArticleIndex::build(&kb)
            .map_err(|e| PortError::permanent("build knowledge index", e.to_string()))?;
        let startup = |what: &str, e: &dyn std::fmt::Display| {
            PortError::permanent("start the pages", format!("{what}: {e}"))
        };
        let assets = Arc::new(Assets::build().map_err(|e| startup("assets", &e))?);
        let texts = Texts::load().map_err(|e| startup("texts", &e))?;
        let city = catalogue.city();
        let site = Site {
            city_pl: city.name.pl.clone(),
            city_en: city.name.en.clone(),
            tile_url: config.tile_url.clone(),
            tile_attribution: config.tile_attribution.clone(),
        };
        let renderer = Renderer::new(assets.clone(), texts, site, catalogue.time_zone().clone())
            .map_err(|e| startup("templates", &e))?;
        let store = Arc::new(DynamoStore::new(
            clients.dynamodb.clone(),
            &config.common.table_name,
        ));
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(5))
            .build()
            .map_err(|e| startup("HTTP client", &e))?;
        let desk = DeskPorts {
            people: store.clone(),
            contacts: store.clone(),
            contact_log: store.clone(),
            audit: Arc::new(S3AuditTrail::new(
                clients.s3.clone(),
                config.audit_bucket_name.clone(),
            )),
            examples: Arc::new(S3Blobs::new(clients.s3.clone(), &config.common.bucket_name)),
            contact_key: contacts.clone(),
        };
        Ok(Self {
            desk,
            questions: store.clone(),
            drafts: Arc::new(S3Blobs::new(clients.s3.clone(), &config.common.bucket_name)),
            notify: Arc::new(
                citydesk_aws::sqs::SqsPipelineQueue::new(clients.sqs.clone())
                    .notify_to(config.notify_queue_url.clone()),
            ),
            store: store.clone(),
            queries: store,
            catalogues: citydesk_core::catalogue::Catalogues::single(catalogue.clone()),
            catalogue,
            staff_tokens: config.staff.as_ref().map(StaffSignIn::tokens),
            sign_in: config.sign_in.clone(),
            http,
            clock: Arc::new(SystemClock),
            ids: Arc::new(RandomIds::new(tracking, contacts)),
            media: Arc::new(blobs),
            kb,
            kb_index: Arc::new(kb_index),
            renderer,
            assets,
            cookies: config.cookies,
        })
    }
}

pub fn router(deps: Arc<Deps>) -> Router {
    let assets = Router::new()
        .route("/assets/{file}", get(assets::serve))
        .with_state(deps.assets.clone());
    citizen::router(deps.clone())
        .merge(staff::router(deps))
        .merge(assets)
}
