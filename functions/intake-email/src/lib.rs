//! E-mail and fax. An SES receipt rule stores each message in the bucket
//! (S3 action, key = `INBOUND_MAIL_PREFIX` + SES's `messageId`) and then
//! invokes this function (Lambda action, `Event`): the event carries the
//! headers and SES's verdicts, not the body, so the raw MIME is read from
//! the bucket. What is done with it is
//! [`citydesk_core::usecases::email_intake`]; the confirmation with the
//! case number goes out through the pipeline's notify step like every
//! notice. An unreadable message stays in the bucket and is reported in the
//! log (by key); a failed dependency fails the invocation, so SES's retry
//! and then the function's on-failure queue keep it.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `INBOUND_MAIL_PREFIX` | where the receipt rule stores messages in the bucket | `inbound-mail/` |
//! | `CITY_EMAIL_ADDRESSES` | the city's own addresses, comma-separated (mail from them is never taken) | required |
//! | `REPLY_LOCAL_PART` | replies are plus-addressed to `<this>+<case>@…` | the mailbox of the first `CITY_EMAIL_ADDRESSES` address |
//! | `FAX_GATEWAY_SENDERS` | senders that are fax-to-mail gateways, comma-separated | none |
//! | `NOTIFY_QUEUE_URL` | the notify step's queue (attachments not kept are told there) | required |
//! | `TRACKING_SECRET_PARAMETER`, `CONTACT_KEY_PARAMETER` | SSM parameters of the id keys | required |

use std::sync::Arc;

use aws_lambda_events::event::ses::SimpleEmailEvent;
use citydesk_aws::config::{Clients, CommonConfig, ConfigError, Env};
use citydesk_aws::dynamo::DynamoStore;
use citydesk_aws::s3::S3Blobs;
use citydesk_aws::system::{RandomIds, SystemClock};
use citydesk_core::catalogue::Catalogue;
use citydesk_core::channels::email_message::{Verdict, parse_email};
use citydesk_core::contact::ContactKey;
use citydesk_core::ports::{
    Clock, IdSource, MediaStore, ObjectReader, OnceLedger, PersonIndex, PipelineQueue, PortError,
    RequestStore,
};
use citydesk_core::usecases::email_intake::{MailDesk, MailError, take_email};

/// The largest message SES stores (its limit is 40 MB).
pub const MAX_MESSAGE_BYTES: usize = 40 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    pub inbound_prefix: String,
    pub own_addresses: Vec<String>,
    pub reply_local_part: String,
    pub fax_senders: Vec<String>,
    pub notify_queue_url: String,
    pub tracking_secret_parameter: String,
    pub contact_key_parameter: String,
}

fn list(raw: Option<String>) -> Vec<String> {
    raw.unwrap_or_default()
        .split(',')
        .map(|a| a.trim().to_lowercase())
        .filter(|a| !a.is_empty())
        .collect()
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let own_addresses = list(env.optional("CITY_EMAIL_ADDRESSES"));
        if own_addresses.is_empty() {
            return Err(ConfigError::Missing("CITY_EMAIL_ADDRESSES"));
        }
        // The city's inbound address first: the notify step's Reply-To tags
        // it with the case (`zgloszenia+7H3K-9QX2@…`).
        let reply_local_part = env.optional("REPLY_LOCAL_PART").unwrap_or_else(|| {
            own_addresses
                .first()
                .and_then(|a| citydesk_core::contact::Email::parse(a).ok())
                .map(|a| a.mailbox().to_owned())
                .unwrap_or_default()
        });
        Ok(Self {
            common: CommonConfig::from_env(env)?,
            inbound_prefix: env
                .optional("INBOUND_MAIL_PREFIX")
                .unwrap_or_else(|| "inbound-mail/".into()),
            own_addresses,
            reply_local_part,
            fax_senders: list(env.optional("FAX_GATEWAY_SENDERS")),
            notify_queue_url: env.required("NOTIFY_QUEUE_URL")?,
            tracking_secret_parameter: env.required("TRACKING_SECRET_PARAMETER")?,
            contact_key_parameter: env.required("CONTACT_KEY_PARAMETER")?,
        })
    }
}

/// Built once per cold start.
pub struct Deps {
    pub store: Arc<dyn RequestStore>,
    pub people: Arc<dyn PersonIndex>,
    pub ledger: Arc<dyn OnceLedger>,
    pub raw_mail: Arc<dyn ObjectReader>,
    pub media: Arc<dyn MediaStore>,
    pub queue: Arc<dyn PipelineQueue>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
    pub catalogue: Catalogue,
    pub contact_key: ContactKey,
    pub inbound_prefix: String,
    pub own_addresses: Vec<String>,
    pub reply_local_part: String,
    pub fax_senders: Vec<String>,
}

impl Deps {
    pub async fn init(config: &Config) -> Result<Self, PortError> {
        let clients = Clients::new(&config.common).await;
        let ssm = aws_sdk_ssm::Client::new(&clients.sdk);
        let (catalogue, (tracking, contact_key)) = tokio::try_join!(
            clients.load_catalogue(&config.common),
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
        let blobs = Arc::new(S3Blobs::new(clients.s3.clone(), &config.common.bucket_name));
        Ok(Self {
            store: store.clone(),
            people: store.clone(),
            ledger: store,
            raw_mail: blobs.clone(),
            media: blobs,
            queue: Arc::new(
                citydesk_aws::sqs::SqsPipelineQueue::new(clients.sqs.clone())
                    .notify_to(config.notify_queue_url.clone()),
            ),
            clock: Arc::new(SystemClock),
            ids: Arc::new(RandomIds::new(tracking, contact_key.clone())),
            catalogue,
            contact_key,
            inbound_prefix: config.inbound_prefix.clone(),
            own_addresses: config.own_addresses.clone(),
            reply_local_part: config.reply_local_part.clone(),
            fax_senders: config.fax_senders.clone(),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("not an SES receipt event: {0}")]
    NotAnSesEvent(String),
    #[error("message {0}: {1}")]
    Failed(String, PortError),
}

fn verdict(status: Option<&str>) -> Verdict {
    match status.map(str::to_ascii_uppercase).as_deref() {
        Some("PASS") => Verdict::Pass,
        Some("FAIL") => Verdict::Fail,
        _ => Verdict::Unknown,
    }
}

/// Takes every message of an SES event. A failed dependency fails the
/// invocation (every message is idempotent, so a retry is safe).
pub async fn handle(deps: &Deps, event: serde_json::Value) -> Result<(), IntakeError> {
    let event: SimpleEmailEvent =
        serde_json::from_value(event).map_err(|e| IntakeError::NotAnSesEvent(e.to_string()))?;
    for record in event.records {
        let Some(message_id) = record.ses.mail.message_id.clone() else {
            tracing::warn!("an SES record without a messageId");
            continue;
        };
        let receipt = &record.ses.receipt;
        let verdicts = Verdicts {
            spam: verdict(receipt.spam_verdict.status.as_deref()),
            virus: verdict(receipt.virus_verdict.status.as_deref()),
            sender_verified: sender_verified(
                verdict(receipt.spf_verdict.status.as_deref()),
                verdict(receipt.dkim_verdict.status.as_deref()),
                verdict(receipt.dmarc_verdict.status.as_deref()),
            ),
        };
        take_one(deps, &message_id, verdicts)
            .await
            .map_err(|e| IntakeError::Failed(message_id.clone(), e))?;
    }
    Ok(())
}

/// What SES's receipt says of a message.
struct Verdicts {
    spam: Verdict,
    virus: Verdict,
    sender_verified: bool,
}

/// The sender is who `From` says when DMARC passes, or SPF and DKIM both
/// do; a receipt without any verdict (scanning off, as on the local stack)
/// leaves it to the stored message.
fn sender_verified(spf: Verdict, dkim: Verdict, dmarc: Verdict) -> bool {
    let all = [spf, dkim, dmarc];
    if all.iter().all(|v| *v == Verdict::Unknown) {
        return true;
    }
    dmarc == Verdict::Pass || (spf == Verdict::Pass && dkim == Verdict::Pass)
}

async fn take_one(deps: &Deps, message_id: &str, verdicts: Verdicts) -> Result<(), PortError> {
    let Verdicts {
        spam,
        virus,
        sender_verified,
    } = verdicts;
    let key = format!("{}{message_id}", deps.inbound_prefix);
    let Some(raw) = deps.raw_mail.read(&key).await? else {
        // SES invokes after its S3 action has stored the message.
        return Err(PortError::retryable(
            "read message",
            format!("{key} is not in the bucket yet"),
        ));
    };
    if raw.len() > MAX_MESSAGE_BYTES {
        tracing::error!(%key, bytes = raw.len(), "message over the size taken; kept in the bucket");
        return Ok(());
    }
    let mut email = match parse_email(&raw) {
        Ok(email) => email,
        Err(e) => {
            tracing::error!(%key, error = %e, "unreadable message; kept in the bucket for a person");
            return Ok(());
        }
    };
    // SES's own verdicts, where it gave them, over the stored headers.
    if spam != Verdict::Unknown {
        email.spam = spam;
    }
    if virus != Verdict::Unknown {
        email.virus = virus;
    }
    email.sender_verified &= sender_verified;
    let desk = MailDesk {
        store: deps.store.as_ref(),
        people: deps.people.as_ref(),
        clock: deps.clock.as_ref(),
        ids: deps.ids.as_ref(),
        catalogue: &deps.catalogue,
        contact_key: &deps.contact_key,
        media: deps.media.as_ref(),
        ledger: deps.ledger.as_ref(),
        notify: deps.queue.as_ref(),
        own_addresses: &deps.own_addresses,
        reply_local_part: &deps.reply_local_part,
        fax_senders: &deps.fax_senders,
    };
    match take_email(&desk, message_id, email).await {
        Ok(_) => Ok(()),
        Err(MailError::Port(e)) => Err(e),
        Err(MailError::Submit(e)) => {
            tracing::error!(%key, error = %e, "the message is not a request; kept in the bucket for a person");
            Ok(())
        }
    }
}
