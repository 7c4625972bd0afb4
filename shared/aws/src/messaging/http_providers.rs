//! The optional HTTP providers: a Twilio-compatible SMS REST API and a
//! Postmark-compatible e-mail API, over one `reqwest` client per cold start,
//! their tokens read from SSM.

use std::time::Duration;

use citydesk_core::contact::{Email, PhoneNumber};
use citydesk_core::ports::PortError;
use secrecy::{ExposeSecret, SecretString};

use crate::config::Env;

const TIMEOUT: Duration = Duration::from_secs(5);

pub(super) fn client() -> Result<reqwest::Client, PortError> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        .map_err(|e| PortError::permanent("http client", e.to_string()))
}

/// A Twilio-compatible account; the auth token is named here and read from SSM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwilioSettings {
    pub base_url: String,
    pub account_sid: String,
    pub auth_token_parameter: String,
    pub from: String,
}

impl TwilioSettings {
    /// `None` when no account or sender is configured (SMS disabled).
    pub fn from_env(env: &Env) -> Option<Self> {
        Some(Self {
            base_url: env
                .optional("SMS_API_BASE_URL")
                .unwrap_or_else(|| "https://api.twilio.com".into()),
            account_sid: env.optional("SMS_ACCOUNT_SID")?,
            auth_token_parameter: env.optional("SMS_AUTH_TOKEN_PARAMETER")?,
            from: env.optional("SMS_FROM")?,
        })
    }
}

/// A Postmark-compatible server; the API token is named here and read from SSM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostmarkSettings {
    pub base_url: String,
    pub token_parameter: String,
    pub from: String,
}

impl PostmarkSettings {
    pub fn from_env(env: &Env) -> Option<Self> {
        Some(Self {
            base_url: env
                .optional("EMAIL_API_BASE_URL")
                .unwrap_or_else(|| "https://api.postmarkapp.com".into()),
            token_parameter: env.optional("EMAIL_API_TOKEN_PARAMETER")?,
            from: env.optional("EMAIL_FROM")?,
        })
    }
}

/// Reads a provider's token; a parameter that does not exist disables only
/// that channel, with a warning.
async fn token(
    ssm: &aws_sdk_ssm::Client,
    parameter: &str,
    channel: &'static str,
) -> Result<Option<SecretString>, PortError> {
    let secret = crate::secrets::secure_parameter(ssm, parameter).await?;
    if secret.is_none() {
        tracing::warn!(
            channel,
            parameter,
            "secret parameter not found; channel disabled"
        );
    }
    Ok(secret)
}

/// 429 and 5xx are worth retrying; other 4xx mean the request itself is wrong.
fn check(operation: &'static str, status: reqwest::StatusCode) -> Result<(), PortError> {
    if status.is_success() {
        Ok(())
    } else if status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        Err(PortError::retryable(
            operation,
            format!("provider answered {status}"),
        ))
    } else {
        Err(PortError::permanent(
            operation,
            format!("provider refused the message: {status}"),
        ))
    }
}

fn transport(operation: &'static str, err: reqwest::Error) -> PortError {
    // Never include the URL's query or the body: they may hold personal data.
    PortError::retryable(
        operation,
        format!("provider unreachable: {}", err.without_url()),
    )
}

#[derive(Debug, Clone)]
pub struct TwilioSms {
    http: reqwest::Client,
    settings: TwilioSettings,
    token: SecretString,
}

impl TwilioSms {
    pub(super) async fn connect(
        ssm: &aws_sdk_ssm::Client,
        http: reqwest::Client,
        settings: &TwilioSettings,
    ) -> Result<Option<Self>, PortError> {
        Ok(token(ssm, &settings.auth_token_parameter, "sms")
            .await?
            .map(|token| Self {
                http,
                settings: settings.clone(),
                token,
            }))
    }

    /// `Messages.json`: form fields `To`, `From`, `Body`, HTTP basic auth.
    pub async fn send(&self, to: &PhoneNumber, body: &str) -> Result<(), PortError> {
        let s = &self.settings;
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            s.base_url.trim_end_matches('/'),
            s.account_sid
        );
        let response = self
            .http
            .post(url)
            .basic_auth(&s.account_sid, Some(self.token.expose_secret()))
            .form(&[
                ("To", to.as_str()),
                ("From", s.from.as_str()),
                ("Body", body),
            ])
            .send()
            .await
            .map_err(|e| transport("send sms", e))?;
        check("send sms", response.status())
    }
}

#[derive(Debug, Clone)]
pub struct PostmarkEmail {
    http: reqwest::Client,
    settings: PostmarkSettings,
    token: SecretString,
}

impl PostmarkEmail {
    pub(super) async fn connect(
        ssm: &aws_sdk_ssm::Client,
        http: reqwest::Client,
        settings: &PostmarkSettings,
    ) -> Result<Option<Self>, PortError> {
        Ok(token(ssm, &settings.token_parameter, "email")
            .await?
            .map(|token| Self {
                http,
                settings: settings.clone(),
                token,
            }))
    }

    /// `POST /email` with the server token header.
    pub async fn send(
        &self,
        to: &Email,
        subject: &str,
        body: &str,
        reply_to: Option<&Email>,
    ) -> Result<(), PortError> {
        let url = format!("{}/email", self.settings.base_url.trim_end_matches('/'));
        let response = self
            .http
            .post(url)
            .header("X-Postmark-Server-Token", self.token.expose_secret())
            .header("Accept", "application/json")
            .json(&serde_json::json!({
                "From": self.settings.from,
                "To": to.as_str(),
                "Subject": subject,
                "TextBody": body,
                "ReplyTo": reply_to.map(Email::as_str),
                "MessageStream": "outbound",
            }))
            .send()
            .await
            .map_err(|e| transport("send email", e))?;
        check("send email", response.status())
    }
}
