//! Messages to residents: which provider carries a city's texts and mails,
//! read once from the environment, and the one [`Messenger`] every outbound
//! path uses.
//!
//! The default for a city in the EU is its own AWS account: AWS End User
//! Messaging SMS for texts and Amazon SES for mail, in the deployment's
//! region. They authenticate with the function's IAM role (no provider
//! secret to keep in SSM and rotate), keep the messages in the region the
//! city chose, add no third processor under RODO art. 28, and go over the
//! SDK's one HTTP/TLS stack. A Twilio-compatible SMS API and a
//! Postmark-compatible mail API stay as options, for a city whose number
//! or sender already lives there.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `SMS_PROVIDER` | `end-user-messaging` or `twilio` | `end-user-messaging` |
//! | `SMS_ORIGINATION_IDENTITY` | End User Messaging: the number, pool or sender id (id or ARN) texts come from | unset: SMS disabled |
//! | `SMS_CONFIGURATION_SET` | End User Messaging: the configuration set (delivery events) | none |
//! | `AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2` | End User Messaging's endpoint (an emulator; unset in AWS) | `AWS_ENDPOINT_URL` |
//! | `SMS_API_BASE_URL`, `SMS_ACCOUNT_SID`, `SMS_FROM`, `SMS_AUTH_TOKEN_PARAMETER` | Twilio-compatible API, account, sender, SSM parameter of the token | unset: SMS disabled |
//! | `EMAIL_PROVIDER` | `ses` or `postmark` | `ses` |
//! | `EMAIL_FROM` | the sender address (an identity verified in SES) | unset: e-mail disabled |
//! | `EMAIL_CONFIGURATION_SET` | SES: the configuration set | none |
//! | `AWS_ENDPOINT_URL_SESV2` | SES's endpoint (an emulator; unset in AWS) | `AWS_ENDPOINT_URL` |
//! | `EMAIL_API_BASE_URL`, `EMAIL_API_TOKEN_PARAMETER` | Postmark-compatible API, SSM parameter of its token | unset: e-mail disabled |

mod aws_providers;
mod http_providers;

use async_trait::async_trait;
use citydesk_core::contact::{Email, PhoneNumber};
use citydesk_core::ports::{CitizenMessenger, PortError};

pub use aws_providers::{EndUserMessagingSms, SesEmail, SesSettings, SmsOrigin};
pub use http_providers::{PostmarkEmail, PostmarkSettings, TwilioSettings, TwilioSms};

use crate::config::{ConfigError, Env};

/// Which SMS provider, with its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsConfig {
    EndUserMessaging {
        origin: SmsOrigin,
        endpoint_url: Option<String>,
    },
    Twilio(TwilioSettings),
}

/// Which e-mail provider, with its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailConfig {
    Ses {
        settings: SesSettings,
        endpoint_url: Option<String>,
    },
    Postmark(PostmarkSettings),
}

/// The providers of one function, from its environment (`None`: that
/// channel is not configured, and a message for it is refused as such).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessagingConfig {
    pub sms: Option<SmsConfig>,
    pub email: Option<EmailConfig>,
}

impl MessagingConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            sms: Self::sms_from_env(env)?,
            email: Self::email_from_env(env)?,
        })
    }

    fn sms_from_env(env: &Env) -> Result<Option<SmsConfig>, ConfigError> {
        match env.optional("SMS_PROVIDER").as_deref() {
            None | Some("end-user-messaging") => {
                Ok(env.optional("SMS_ORIGINATION_IDENTITY").map(|identity| {
                    SmsConfig::EndUserMessaging {
                        origin: SmsOrigin {
                            origination_identity: identity,
                            configuration_set: env.optional("SMS_CONFIGURATION_SET"),
                        },
                        endpoint_url: env.optional("AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2"),
                    }
                }))
            }
            Some("twilio") => Ok(TwilioSettings::from_env(env).map(SmsConfig::Twilio)),
            Some(other) => Err(ConfigError::Invalid {
                name: "SMS_PROVIDER",
                reason: format!("{other:?} is not end-user-messaging or twilio"),
            }),
        }
    }

    fn email_from_env(env: &Env) -> Result<Option<EmailConfig>, ConfigError> {
        match env.optional("EMAIL_PROVIDER").as_deref() {
            None | Some("ses") => Ok(env.optional("EMAIL_FROM").map(|from| EmailConfig::Ses {
                settings: SesSettings {
                    from,
                    configuration_set: env.optional("EMAIL_CONFIGURATION_SET"),
                },
                endpoint_url: env.optional("AWS_ENDPOINT_URL_SESV2"),
            })),
            Some("postmark") => Ok(PostmarkSettings::from_env(env).map(EmailConfig::Postmark)),
            Some(other) => Err(ConfigError::Invalid {
                name: "EMAIL_PROVIDER",
                reason: format!("{other:?} is not ses or postmark"),
            }),
        }
    }

    /// The messenger, once per cold start: AWS clients from the function's
    /// SDK configuration, the HTTP providers' tokens read from SSM (a named
    /// parameter that does not exist disables only its channel).
    pub async fn connect(&self, sdk: &aws_config::SdkConfig) -> Result<Messenger, PortError> {
        let ssm = aws_sdk_ssm::Client::new(sdk);
        let http = http_providers::client()?;
        let sms = match &self.sms {
            None => None,
            Some(SmsConfig::EndUserMessaging {
                origin,
                endpoint_url,
            }) => Some(SmsSender::EndUserMessaging(EndUserMessagingSms::new(
                sdk,
                endpoint_url.as_deref(),
                origin.clone(),
            ))),
            Some(SmsConfig::Twilio(settings)) => TwilioSms::connect(&ssm, http.clone(), settings)
                .await?
                .map(SmsSender::Twilio),
        };
        let email = match &self.email {
            None => None,
            Some(EmailConfig::Ses {
                settings,
                endpoint_url,
            }) => Some(EmailSender::Ses(SesEmail::new(
                sdk,
                endpoint_url.as_deref(),
                settings.clone(),
            ))),
            Some(EmailConfig::Postmark(settings)) => PostmarkEmail::connect(&ssm, http, settings)
                .await?
                .map(EmailSender::Postmark),
        };
        Ok(Messenger { sms, email })
    }
}

#[derive(Debug, Clone)]
enum SmsSender {
    EndUserMessaging(EndUserMessagingSms),
    Twilio(TwilioSms),
}

#[derive(Debug, Clone)]
enum EmailSender {
    Ses(SesEmail),
    Postmark(PostmarkEmail),
}

/// Texts and mails through the configured providers.
#[derive(Debug, Clone)]
pub struct Messenger {
    sms: Option<SmsSender>,
    email: Option<EmailSender>,
}

impl Messenger {
    /// Which providers carry texts and mails (for the start-up log).
    pub fn describe(&self) -> (&'static str, &'static str) {
        (
            match &self.sms {
                None => "none",
                Some(SmsSender::EndUserMessaging(_)) => "end-user-messaging",
                Some(SmsSender::Twilio(_)) => "twilio",
            },
            match &self.email {
                None => "none",
                Some(EmailSender::Ses(_)) => "ses",
                Some(EmailSender::Postmark(_)) => "postmark",
            },
        )
    }
}

#[async_trait]
impl CitizenMessenger for Messenger {
    async fn send_sms(&self, to: &PhoneNumber, body: &str) -> Result<(), PortError> {
        match &self.sms {
            None => Err(PortError::permanent("send sms", "SMS is not configured")),
            Some(SmsSender::EndUserMessaging(p)) => p.send(to, body).await,
            Some(SmsSender::Twilio(p)) => p.send(to, body).await,
        }
    }

    async fn send_email(
        &self,
        to: &Email,
        subject: &str,
        body: &str,
        reply_to: Option<&Email>,
    ) -> Result<(), PortError> {
        match &self.email {
            None => Err(PortError::permanent(
                "send email",
                "e-mail is not configured",
            )),
            Some(EmailSender::Ses(p)) => p.send(to, subject, body, reply_to).await,
            Some(EmailSender::Postmark(p)) => p.send(to, subject, body, reply_to).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_map(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<HashMap<_, _>>(),
        )
    }

    #[test]
    fn aws_is_the_default_and_needs_only_its_sender() {
        let config = MessagingConfig::from_env(&env(&[
            ("SMS_ORIGINATION_IDENTITY", "phone-abc"),
            ("EMAIL_FROM", "19115@krakow.example"),
        ]))
        .unwrap();
        assert!(matches!(
            config.sms,
            Some(SmsConfig::EndUserMessaging { ref origin, .. }) if origin.origination_identity == "phone-abc"
        ));
        assert!(matches!(
            config.email,
            Some(EmailConfig::Ses { ref settings, .. }) if settings.from == "19115@krakow.example"
        ));
    }

    #[test]
    fn a_channel_without_its_sender_is_off() {
        let config = MessagingConfig::from_env(&env(&[])).unwrap();
        assert_eq!(config, MessagingConfig::default());
        let twilio_without_account =
            MessagingConfig::from_env(&env(&[("SMS_PROVIDER", "twilio")])).unwrap();
        assert_eq!(twilio_without_account.sms, None);
    }

    #[test]
    fn the_http_providers_are_options() {
        let config = MessagingConfig::from_env(&env(&[
            ("SMS_PROVIDER", "twilio"),
            ("SMS_ACCOUNT_SID", "AC1"),
            ("SMS_AUTH_TOKEN_PARAMETER", "/city/sms"),
            ("SMS_FROM", "+48120000311"),
            ("EMAIL_PROVIDER", "postmark"),
            ("EMAIL_API_TOKEN_PARAMETER", "/city/mail"),
            ("EMAIL_FROM", "a@b.example"),
        ]))
        .unwrap();
        assert!(matches!(config.sms, Some(SmsConfig::Twilio(_))));
        assert!(matches!(config.email, Some(EmailConfig::Postmark(_))));
    }

    #[test]
    fn an_unknown_provider_is_a_configuration_error() {
        let err = MessagingConfig::from_env(&env(&[("SMS_PROVIDER", "pigeon")])).unwrap_err();
        assert!(err.to_string().contains("SMS_PROVIDER"), "{err}");
        let err = MessagingConfig::from_env(&env(&[("EMAIL_PROVIDER", "fax")])).unwrap_err();
        assert!(err.to_string().contains("EMAIL_PROVIDER"), "{err}");
    }
}
