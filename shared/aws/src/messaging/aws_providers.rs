//! The default providers, in the city's own account: AWS End User Messaging
//! SMS (`SendTextMessage`) and Amazon SES (`SendEmail`, API v2), called with
//! the function's role. Each client is built once per cold start from the
//! function's SDK configuration (its retries and attempt timeout), with the
//! service's own endpoint when one is given (an emulator, or the local
//! runner that plays both).

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use citydesk_core::contact::{Email, PhoneNumber};
use citydesk_core::ports::PortError;

/// End User Messaging's refusals no retry changes: a malformed or opted-out
/// destination (`ConflictException`), a spending limit, a missing sender,
/// no permission.
const SMS_REFUSALS: &[&str] = &[
    "ValidationException",
    "ConflictException",
    "ServiceQuotaExceededException",
    "ResourceNotFoundException",
    "AccessDeniedException",
];
/// SES's: a rejected or unverified sender, a paused or suspended account.
const MAIL_REFUSALS: &[&str] = &[
    "MessageRejected",
    "MailFromDomainNotVerifiedException",
    "AccountSuspendedException",
    "SendingPausedException",
    "BadRequestException",
    "NotFoundException",
    "AccessDeniedException",
];

/// A failed send, told by the service's error code only: its message can
/// name the recipient ("Email address is not verified: …"). A refusal in
/// `refusals` is permanent; throttling, timeouts and 5xx are retried.
fn send_error<E: ProvideErrorMetadata>(
    operation: &'static str,
    err: &E,
    refusals: &[&str],
) -> PortError {
    match err.code() {
        Some(code) if refusals.contains(&code) => {
            PortError::permanent(operation, format!("the provider refused it ({code})"))
        }
        code => PortError::retryable(
            operation,
            format!(
                "the provider did not take it ({})",
                code.unwrap_or("no answer")
            ),
        ),
    }
}

/// Where texts come from: a phone number, pool or sender id of the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsOrigin {
    pub origination_identity: String,
    /// A configuration set whose event destinations record delivery.
    pub configuration_set: Option<String>,
}

#[derive(Debug, Clone)]
pub struct EndUserMessagingSms {
    client: aws_sdk_pinpointsmsvoicev2::Client,
    origin: SmsOrigin,
}

impl EndUserMessagingSms {
    pub fn new(sdk: &aws_config::SdkConfig, endpoint_url: Option<&str>, origin: SmsOrigin) -> Self {
        let mut conf = aws_sdk_pinpointsmsvoicev2::config::Builder::from(sdk);
        if let Some(url) = endpoint_url {
            conf = conf.endpoint_url(url);
        }
        Self {
            client: aws_sdk_pinpointsmsvoicev2::Client::from_conf(conf.build()),
            origin,
        }
    }

    /// One transactional text (the service splits it into segments).
    pub async fn send(&self, to: &PhoneNumber, body: &str) -> Result<(), PortError> {
        self.client
            .send_text_message()
            .destination_phone_number(to.as_str())
            .origination_identity(&self.origin.origination_identity)
            .message_body(body)
            .message_type(aws_sdk_pinpointsmsvoicev2::types::MessageType::Transactional)
            .set_configuration_set_name(self.origin.configuration_set.clone())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| send_error("send sms", &e.into_service_error(), SMS_REFUSALS))
    }
}

/// The sender of the city's mail: an identity verified in SES.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SesSettings {
    pub from: String,
    pub configuration_set: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SesEmail {
    client: aws_sdk_sesv2::Client,
    settings: SesSettings,
}

impl SesEmail {
    pub fn new(
        sdk: &aws_config::SdkConfig,
        endpoint_url: Option<&str>,
        settings: SesSettings,
    ) -> Self {
        let mut conf = aws_sdk_sesv2::config::Builder::from(sdk);
        if let Some(url) = endpoint_url {
            conf = conf.endpoint_url(url);
        }
        Self {
            client: aws_sdk_sesv2::Client::from_conf(conf.build()),
            settings,
        }
    }

    /// A plain-text message in UTF-8, answered to `reply_to` when given.
    pub async fn send(
        &self,
        to: &Email,
        subject: &str,
        body: &str,
        reply_to: Option<&Email>,
    ) -> Result<(), PortError> {
        use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
        let utf8 = |text: &str| {
            Content::builder()
                .data(text)
                .charset("UTF-8")
                .build()
                .map_err(|e| PortError::permanent("send email", e.to_string()))
        };
        let message = Message::builder()
            .subject(utf8(subject)?)
            .body(Body::builder().text(utf8(body)?).build())
            .build();
        self.client
            .send_email()
            .from_email_address(&self.settings.from)
            .destination(Destination::builder().to_addresses(to.as_str()).build())
            .content(EmailContent::builder().simple(message).build())
            .set_reply_to_addresses(reply_to.map(|r| vec![r.as_str().to_owned()]))
            .set_configuration_set_name(self.settings.configuration_set.clone())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| send_error("send email", &e.into_service_error(), MAIL_REFUSALS))
    }
}
