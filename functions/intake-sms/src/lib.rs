//! Text conversations with residents, through either provider a city's
//! number may live at:
//! - [`webhook`]: `POST /v1/channels/sms`, the webhook a Twilio-compatible
//!   provider calls for every SMS, MMS and WhatsApp message. The provider's
//!   signature is checked against the public URL before any field is read
//!   (403 otherwise); a body over [`webhook::MAX_WEBHOOK_BYTES`] is a 413.
//!   The reply goes back as TwiML in the response.
//! - [`end_user_messaging`]: the `intake-sms-sns` binary, which AWS End User
//!   Messaging's two-way SMS reaches through an SNS topic; each text is
//!   de-duplicated by its `inboundMessageId` and answered with
//!   `SendTextMessage` from the city's number.
//!
//! The conversation itself is [`citydesk_core::usecases::text_conversation`],
//! the same whichever way the text came.
//!
//! | variable | meaning |
//! |---|---|
//! | `SMS_WEBHOOK_URL` | webhook: the public URL the provider is configured to call (the signature covers it) |
//! | `SMS_ACCOUNT_SID` | webhook: the provider account, for fetching MMS photos |
//! | `SMS_AUTH_TOKEN_PARAMETER` | webhook: SSM SecureString of the account's auth token (signs webhooks, fetches media) |
//! | `INBOUND_SMS_TOPIC_ARN` | End User Messaging: the topic its texts arrive on (others are refused) |
//! | `SMS_ORIGINATION_IDENTITY` | End User Messaging: the city's number answers come from (`citydesk_aws::messaging`) |
//! | `TRACKING_SECRET_PARAMETER`, `CONTACT_KEY_PARAMETER` | SSM parameters of the id keys (as the web intake's) |
//! | `PUBLIC_BASE_URL` | the pages' address, for tracking and answer links |

pub mod end_user_messaging;
mod media;
pub mod twiml;
pub mod webhook;

pub use webhook::router;

use std::sync::Arc;

use citydesk_aws::config::{Clients, CommonConfig, ConfigError, Env};
use citydesk_aws::dynamo::DynamoStore;
use citydesk_aws::knowledge::load_knowledge;
use citydesk_aws::s3::S3Blobs;
use citydesk_aws::system::{RandomIds, SystemClock};
use citydesk_core::catalogue::Catalogue;
use citydesk_core::contact::ContactKey;
use citydesk_core::knowledge::KnowledgeBase;
use citydesk_core::ports::{
    Clock, IdSource, KnowledgeIndex, MediaStore, OnceLedger, PersonIndex, PortError, RateCounter,
    RequestStore, TexterStore,
};
use citydesk_core::usecases::text_conversation::TextDesk;
use secrecy::SecretString;

/// What a conversation needs from the environment, whichever provider.
#[derive(Debug, Clone)]
pub struct ConversationConfig {
    pub common: CommonConfig,
    pub tracking_secret_parameter: String,
    pub contact_key_parameter: String,
    pub public_base_url: String,
}

impl ConversationConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env(env)?,
            tracking_secret_parameter: env.required("TRACKING_SECRET_PARAMETER")?,
            contact_key_parameter: env.required("CONTACT_KEY_PARAMETER")?,
            public_base_url: env.required("PUBLIC_BASE_URL")?,
        })
    }
}

/// The ports and data of a conversation, built once per cold start.
pub struct Conversations {
    pub store: Arc<dyn RequestStore>,
    pub people: Arc<dyn PersonIndex>,
    pub texters: Arc<dyn TexterStore>,
    pub counters: Arc<dyn RateCounter>,
    pub ledger: Arc<dyn OnceLedger>,
    pub media: Arc<dyn MediaStore>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
    pub catalogue: Catalogue,
    pub knowledge: KnowledgeBase,
    pub knowledge_index: Arc<dyn KnowledgeIndex>,
    pub contact_key: ContactKey,
    pub public_base_url: String,
}

impl Conversations {
    pub async fn init(config: &ConversationConfig, clients: &Clients) -> Result<Self, PortError> {
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
        let index = citydesk_knowledge_search::ArticleIndex::build(&knowledge)
            .map_err(|e| PortError::permanent("build knowledge index", e.to_string()))?;
        let store = Arc::new(DynamoStore::new(
            clients.dynamodb.clone(),
            &config.common.table_name,
        ));
        Ok(Self {
            store: store.clone(),
            people: store.clone(),
            texters: store.clone(),
            counters: store.clone(),
            ledger: store,
            media: Arc::new(blobs),
            clock: Arc::new(SystemClock),
            ids: Arc::new(RandomIds::new(tracking, contact_key.clone())),
            catalogue,
            knowledge,
            knowledge_index: Arc::new(index),
            contact_key,
            public_base_url: config.public_base_url.clone(),
        })
    }

    /// The use case's view of these ports.
    pub fn desk(&self) -> TextDesk<'_> {
        TextDesk {
            store: self.store.as_ref(),
            people: self.people.as_ref(),
            texters: self.texters.as_ref(),
            counters: self.counters.as_ref(),
            ledger: self.ledger.as_ref(),
            clock: self.clock.as_ref(),
            ids: self.ids.as_ref(),
            catalogue: &self.catalogue,
            knowledge: &self.knowledge,
            knowledge_index: self.knowledge_index.as_ref(),
            contact_key: &self.contact_key,
            public_base_url: &self.public_base_url,
        }
    }
}

/// The webhook's environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub conversations: ConversationConfig,
    pub webhook_url: String,
    pub account_sid: String,
    pub auth_token_parameter: String,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            conversations: ConversationConfig::from_env(env)?,
            webhook_url: env.required("SMS_WEBHOOK_URL")?,
            account_sid: env.optional("SMS_ACCOUNT_SID").unwrap_or_default(),
            auth_token_parameter: env.required("SMS_AUTH_TOKEN_PARAMETER")?,
        })
    }
}

/// The webhook's dependencies, built once per cold start.
pub struct Deps {
    pub talk: Conversations,
    pub webhook_url: String,
    /// The provider account and its auth token: webhooks are signed with
    /// it, and MMS photos are fetched with both (`None`: no token is kept,
    /// so no call can be checked, and each is refused).
    pub account_sid: String,
    pub auth_token: Option<SecretString>,
    pub http: reqwest::Client,
}

impl Deps {
    pub async fn init(config: &Config) -> Result<Self, PortError> {
        let clients = Clients::new(&config.conversations.common).await;
        let ssm = aws_sdk_ssm::Client::new(&clients.sdk);
        // A city whose number is at End User Messaging keeps no such token:
        // then every call here is refused (403), and the function still starts.
        let token = async {
            let token =
                citydesk_aws::secrets::secure_parameter(&ssm, &config.auth_token_parameter).await?;
            if token.is_none() {
                tracing::warn!(
                    parameter = %config.auth_token_parameter,
                    "no SMS auth token: the webhook refuses every call"
                );
            }
            Ok::<_, PortError>(token)
        };
        let (talk, auth_token) =
            tokio::try_join!(Conversations::init(&config.conversations, &clients), token)?;
        Ok(Self {
            talk,
            webhook_url: config.webhook_url.clone(),
            account_sid: config.account_sid.clone(),
            auth_token,
            http: media::http_client()?,
        })
    }
}
