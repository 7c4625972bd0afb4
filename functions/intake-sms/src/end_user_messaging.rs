//! AWS End User Messaging two-way SMS: the city's number publishes every
//! text it receives to an SNS topic, and SNS invokes `intake-sms-sns` with
//! it. The SNS record's `Message` is a JSON string of its own
//! (`originationNumber`, `destinationNumber`, `messageBody`,
//! `inboundMessageId`, ...). SNS → Lambda is authenticated by IAM (the
//! subscription and the function's resource policy), so there is no
//! signature to check here; a record from another topic is refused.
//!
//! Each text is taken once, keyed by its `inboundMessageId` (SNS delivers
//! at least once, out of order); the answer goes back with
//! `SendTextMessage` from the city's number. A failed dependency fails the
//! invocation, so Lambda retries it (twice, then the on-failure queue).

use std::sync::Arc;

use citydesk_aws::config::{Clients, ConfigError, Env};
use citydesk_aws::messaging::MessagingConfig;
use citydesk_core::channels::sms_command::MAX_SMS_CHARS;
use citydesk_core::contact::PhoneNumber;
use citydesk_core::ports::{CitizenMessenger, PortError};
use citydesk_core::request::Channel;
use citydesk_core::usecases::text_conversation::{InboundText, TextError, answer_text};
use serde::Deserialize;

use crate::{ConversationConfig, Conversations};

#[derive(Debug, Clone)]
pub struct SnsConfig {
    pub conversations: ConversationConfig,
    /// The topic the city's number publishes to; any other is refused.
    pub topic_arn: String,
    /// End User Messaging, from the city's number (`SMS_ORIGINATION_IDENTITY`).
    pub messaging: MessagingConfig,
}

impl SnsConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            conversations: ConversationConfig::from_env(env)?,
            topic_arn: env.required("INBOUND_SMS_TOPIC_ARN")?,
            messaging: MessagingConfig {
                email: None,
                ..MessagingConfig::from_env(env)?
            },
        })
    }
}

pub struct SnsDeps {
    pub talk: Conversations,
    pub topic_arn: String,
    /// Sends the answers (End User Messaging's `SendTextMessage`).
    pub messenger: Arc<dyn CitizenMessenger>,
}

impl SnsDeps {
    pub async fn init(config: &SnsConfig) -> Result<Self, PortError> {
        let clients = Clients::new(&config.conversations.common).await;
        let (talk, messenger) = tokio::try_join!(
            Conversations::init(&config.conversations, &clients),
            config.messaging.connect(&clients.sdk),
        )?;
        Ok(Self {
            talk,
            topic_arn: config.topic_arn.clone(),
            messenger: Arc::new(messenger),
        })
    }
}

/// The SNS event Lambda receives: only the fields read here.
#[derive(Debug, Deserialize)]
pub struct SnsEnvelope {
    #[serde(rename = "Records")]
    pub records: Vec<SnsRecord>,
}

#[derive(Debug, Deserialize)]
pub struct SnsRecord {
    #[serde(rename = "Sns")]
    pub sns: SnsNotification,
}

#[derive(Debug, Deserialize)]
pub struct SnsNotification {
    #[serde(rename = "MessageId")]
    pub message_id: String,
    #[serde(rename = "TopicArn")]
    pub topic_arn: String,
    #[serde(rename = "Message")]
    pub message: String,
}

/// End User Messaging's inbound text, as its `Message` string holds it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InboundSms {
    origination_number: String,
    #[serde(default)]
    message_body: String,
    inbound_message_id: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SnsError {
    /// The text was not taken (its ledger claim was released): Lambda
    /// retries it, then its on-failure destination keeps it.
    #[error("text {sns_message_id} not taken yet: {source}")]
    Dependency {
        sns_message_id: String,
        source: PortError,
    },
}

/// What became of one record (for the log and the tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome {
    /// Handled; `replied` when an answer went back.
    Taken {
        outcome: &'static str,
        replied: bool,
    },
    /// Not from the city's topic, or not a text: dropped (retrying cannot help).
    Refused(&'static str),
}

/// Takes every record of one invocation; the first failed dependency fails it.
pub async fn handle(deps: &SnsDeps, event: SnsEnvelope) -> Result<Vec<RecordOutcome>, SnsError> {
    let mut outcomes = Vec::with_capacity(event.records.len());
    for record in event.records {
        outcomes.push(take(deps, record.sns).await?);
    }
    Ok(outcomes)
}

fn inbound_text(message: &str) -> Result<InboundText, &'static str> {
    let sms: InboundSms = serde_json::from_str(message).map_err(|_| "not an inbound text")?;
    let id = sms.inbound_message_id.trim();
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err("inboundMessageId is not a message id");
    }
    let from = PhoneNumber::parse(&sms.origination_number)
        .map_err(|_| "originationNumber is not a phone number")?;
    Ok(InboundText {
        message_id: id.to_owned(),
        channel: Channel::Sms,
        from,
        // A carrier joins the segments; more than ten segments' worth is cut.
        body: sms.message_body.chars().take(MAX_SMS_CHARS).collect(),
        point: None,
        media: Vec::new(),
        dropped_attachments: 0,
    })
}

#[tracing::instrument(skip_all, fields(sns_message_id = %notification.message_id))]
async fn take(deps: &SnsDeps, notification: SnsNotification) -> Result<RecordOutcome, SnsError> {
    if notification.topic_arn != deps.topic_arn {
        tracing::warn!("a record from another topic, refused");
        return Ok(RecordOutcome::Refused("another topic"));
    }
    let inbound = match inbound_text(&notification.message) {
        Ok(inbound) => inbound,
        Err(reason) => {
            // Nothing of the message is logged: it may hold a number.
            tracing::error!(reason, "a record that is not a resident's text, dropped");
            return Ok(RecordOutcome::Refused(reason));
        }
    };
    let to = inbound.from.clone();
    let answer = match answer_text(&deps.talk.desk(), inbound).await {
        Ok(answer) => answer,
        // A failed dependency, even one a retry will not mend (a missing
        // permission), fails the invocation: Lambda retries it, then the
        // failed queue (alarmed) keeps it.
        Err(TextError::Port(source)) => {
            return Err(SnsError::Dependency {
                sns_message_id: notification.message_id,
                source,
            });
        }
        Err(e @ TextError::Submit(_)) => {
            tracing::error!(error = %e, "the text could not become a request, dropped");
            return Ok(RecordOutcome::Refused("not a request"));
        }
    };
    let replied = match &answer.reply {
        None => false,
        Some(reply) => match deps.messenger.send_sms(&to, reply).await {
            Ok(()) => true,
            Err(e) => {
                // The text is taken (a retry would be a duplicate): say so loudly.
                tracing::error!(error = %e, outcome = answer.outcome.as_str(), "the answer could not be sent");
                false
            }
        },
    };
    Ok(RecordOutcome::Taken {
        outcome: answer.outcome.as_str(),
        replied,
    })
}
