//! Notification step: for each `status_changed` message, tell the citizen (SMS
//! first, else e-mail) in their language, exactly once per history event;
//! `tell_followers` fans a request's followers out a page at a time onto this
//! queue, and each `follower_notice` tells one follower how it ended.
//!
//! Texts and mails go through the providers `citydesk_aws::messaging` reads
//! (`SMS_PROVIDER`, `EMAIL_PROVIDER` and their settings: AWS End User
//! Messaging SMS and SES by default). Besides those:
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `TRACKING_SECRET_PARAMETER` | SSM parameter of the tracking key (for the link in the confirmation) | required |
//! | `CONTACT_KEY_PARAMETER` | SSM parameter of the contact key (a number's STOP is kept under it) | required |
//! | `PUBLIC_BASE_URL` | the public API's URL, for that link | required |
//! | `NOTIFY_QUEUE_URL` | this step's own queue, for the followers' fan-out | required |
//! | `SMS_ALLOWED_COUNTRIES` | calling codes texts may go to (`+48,+380`; `*` any) | `+48` |
//! | `SMS_MAX_PER_NUMBER_PER_DAY`, `SMS_MAX_PER_REQUEST` | caps on texts (then e-mail, or nothing) | 20, 15 |
//! | `EMAIL_REPLY_TO` | the address residents write to: a mail's Reply-To is it, tagged with the case (`zgloszenia+7H3K-9QX2@…`) | none |
//!
//! An HTTP provider's token is read from SSM once at cold start; a named
//! parameter that does not exist disables its channel (with a warning)
//! rather than stopping the other.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use citydesk_aws::config::{Clients, CommonConfig, ConfigError, Env};
use citydesk_aws::dynamo::DynamoStore;
use citydesk_aws::sqs_batch::{process_batch, unexpected};
use citydesk_aws::system::SystemClock;
use citydesk_core::catalogue::Catalogues;
use citydesk_core::channels::outbound::OutboundLimits;
use citydesk_core::messages::PipelineMessage;
use citydesk_core::ports::{
    CitizenMessenger, Clock, ContactStore, OnceLedger, PipelineQueue, PortError, RequestQueries,
    RequestStore,
};
use citydesk_core::usecases::notify_citizen::{Notify, notify_citizen};
use citydesk_core::usecases::tell_followers::{notify_follower, tell_followers};

use citydesk_aws::messaging::MessagingConfig;

#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    /// Which providers carry texts and mails.
    pub messaging: MessagingConfig,
    /// SSM parameter of the key tracking tokens are derived with (for the link).
    pub tracking_secret_parameter: String,
    /// SSM parameter of the key numbers are remembered under (their STOP).
    pub contact_key_parameter: String,
    pub public_base_url: String,
    /// This step's own queue: followers' notices are fanned out onto it.
    pub notify_queue_url: String,
    /// What texting may cost the city.
    pub limits: OutboundLimits,
    /// The address residents write to: mail is answered there, tagged with its case.
    pub reply_to: Option<citydesk_core::contact::Email>,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env(env)?,
            messaging: MessagingConfig::from_env(env)?,
            tracking_secret_parameter: env.required("TRACKING_SECRET_PARAMETER")?,
            contact_key_parameter: env.required("CONTACT_KEY_PARAMETER")?,
            public_base_url: env.required("PUBLIC_BASE_URL")?,
            notify_queue_url: env.required("NOTIFY_QUEUE_URL")?,
            limits: limits_from_env(env)?,
            reply_to: env
                .optional("EMAIL_REPLY_TO")
                .map(|raw| {
                    citydesk_core::contact::Email::parse(&raw).map_err(|e| ConfigError::Invalid {
                        name: "EMAIL_REPLY_TO",
                        reason: e.to_string(),
                    })
                })
                .transpose()?,
        })
    }
}

/// The outbound limits from `SMS_ALLOWED_COUNTRIES`, `SMS_MAX_PER_NUMBER_PER_DAY`
/// and `SMS_MAX_PER_REQUEST`, each defaulting to [`OutboundLimits::default`].
pub fn limits_from_env(env: &Env) -> Result<OutboundLimits, ConfigError> {
    let defaults = OutboundLimits::default();
    Ok(OutboundLimits {
        countries: match env.optional("SMS_ALLOWED_COUNTRIES") {
            None => defaults.countries,
            Some(raw) => {
                OutboundLimits::parse_countries(&raw).map_err(|reason| ConfigError::Invalid {
                    name: "SMS_ALLOWED_COUNTRIES",
                    reason,
                })?
            }
        },
        per_number_per_day: env
            .parsed("SMS_MAX_PER_NUMBER_PER_DAY", defaults.per_number_per_day)?,
        per_request: env.parsed("SMS_MAX_PER_REQUEST", defaults.per_request)?,
    })
}

pub struct Deps {
    pub store: Arc<dyn RequestStore>,
    pub contacts: Arc<dyn ContactStore>,
    pub ledger: Arc<dyn OnceLedger>,
    pub messenger: Arc<dyn CitizenMessenger>,
    pub clock: Arc<dyn Clock>,
    /// Every served city, the default first.
    pub catalogues: Catalogues,
    pub tracking_key: citydesk_core::ids::TrackingKey,
    pub contact_key: citydesk_core::contact::ContactKey,
    /// Numbers that texted STOP.
    pub texters: Arc<dyn citydesk_core::ports::TexterStore>,
    /// Texts sent per number and day, and per request.
    pub counters: Arc<dyn citydesk_core::ports::RateCounter>,
    pub limits: OutboundLimits,
    pub reply_to: Option<citydesk_core::contact::Email>,
    pub public_base_url: String,
    pub queue: Arc<dyn PipelineQueue>,
    pub queries: Arc<dyn RequestQueries>,
    /// The second line's questions, whose answers go to their callers.
    pub questions: Arc<dyn citydesk_core::ports::QuestionStore>,
}

impl Deps {
    pub async fn init(config: &Config) -> Result<Self, PortError> {
        let clients = Clients::new(&config.common).await;
        let store = Arc::new(DynamoStore::new(
            clients.dynamodb.clone(),
            &config.common.table_name,
        ));
        let ssm = aws_sdk_ssm::Client::new(&clients.sdk);
        // Start-up reads run side by side: the keys, the providers (an HTTP
        // provider's token) and the catalogues.
        let ((tracking_key, contact_key), messenger, catalogues) = tokio::try_join!(
            citydesk_aws::secrets::id_keys(
                &ssm,
                &config.tracking_secret_parameter,
                &config.contact_key_parameter,
            ),
            config.messaging.connect(&clients.sdk),
            clients.load_catalogues(&config.common),
        )?;
        let (sms, email) = messenger.describe();
        tracing::info!(sms, email, "providers");
        Ok(Self {
            catalogues,
            store: store.clone(),
            contacts: store.clone(),
            questions: store.clone(),
            texters: store.clone(),
            counters: store.clone(),
            ledger: store.clone(),
            queries: store,
            queue: Arc::new(
                citydesk_aws::sqs::SqsPipelineQueue::new(clients.sqs.clone())
                    .notify_to(config.notify_queue_url.clone()),
            ),
            messenger: Arc::new(messenger),
            clock: Arc::new(SystemClock),
            tracking_key,
            contact_key,
            limits: config.limits.clone(),
            reply_to: config.reply_to.clone(),
            public_base_url: config.public_base_url.clone(),
        })
    }
}

pub async fn handle(
    deps: &Deps,
    event: SqsEvent,
    deadline: citydesk_aws::deadline::Deadline,
) -> SqsBatchResponse {
    let step = Notify {
        store: deps.store.as_ref(),
        contacts: deps.contacts.as_ref(),
        ledger: deps.ledger.as_ref(),
        messenger: deps.messenger.as_ref(),
        clock: deps.clock.as_ref(),
        catalogues: &deps.catalogues,
        tracking_key: &deps.tracking_key,
        public_base_url: &deps.public_base_url,
        queue: deps.queue.as_ref(),
        queries: deps.queries.as_ref(),
        texters: deps.texters.as_ref(),
        contact_key: &deps.contact_key,
        counters: deps.counters.as_ref(),
        limits: &deps.limits,
        reply_to: deps.reply_to.as_ref(),
    };
    process_batch(event, deadline, |message: PipelineMessage| {
        let step = &step;
        async move {
            match &message {
                PipelineMessage::StatusChanged { request_id, seq } => {
                    notify_citizen(step, request_id, *seq).await.map(|_| ())
                }
                PipelineMessage::TellFollowers {
                    request_id,
                    seq,
                    after,
                } => tell_followers(step, request_id, *seq, after.as_deref())
                    .await
                    .map(|_| ()),
                PipelineMessage::FollowerNotice {
                    request_id,
                    original_id,
                    seq,
                } => notify_follower(step, request_id, original_id, *seq)
                    .await
                    .map(|_| ()),
                PipelineMessage::QuestionAnswered { question_id } => {
                    citydesk_core::usecases::second_line::tell_caller(
                        step,
                        deps.questions.as_ref(),
                        question_id,
                    )
                    .await
                    .map(|_| ())
                }
                PipelineMessage::AttachmentsDropped { request_id, count } => {
                    citydesk_core::usecases::notify_citizen::tell_attachments_dropped(
                        step, request_id, *count,
                    )
                    .await
                    .map(|_| ())
                }
                other => Err(unexpected(
                    other,
                    "status_changed, tell_followers, follower_notice, question_answered or attachments_dropped",
                )),
            }
        }
    })
    .await
}
