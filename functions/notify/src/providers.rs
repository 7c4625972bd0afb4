//! The citizen messaging providers: a Twilio-compatible SMS REST API and a
//! Postmark-compatible e-mail API, over one `reqwest` client per cold start.

use std::time::Duration;

use async_trait::async_trait;
use citydesk_aws::config::Env;
use citydesk_core::contact::{Email, PhoneNumber};
use citydesk_core::ports::{CitizenMessenger, PortError};
use secrecy::{ExposeSecret, SecretString};

const TIMEOUT: Duration = Duration::from_secs(5);

/// SMS provider settings; the auth token is named here and read from SSM.
#[derive(Debug, Clone)]
pub struct SmsSettings {
    pub base_url: String,
    pub account_sid: String,
    pub auth_token_parameter: String,
    pub from: String,
}

impl SmsSettings {
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

/// E-mail provider settings; the API token is named here and read from SSM.
#[derive(Debug, Clone)]
pub struct EmailSettings {
    pub base_url: String,
    pub token_parameter: String,
    pub from: String,
}

impl EmailSettings {
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

/// A provider channel ready to send: its settings and the secret read at cold start.
#[derive(Debug, Clone)]
pub struct Provider<S> {
    pub settings: S,
    pub secret: SecretString,
}

#[derive(Debug, Clone)]
pub struct ProviderMessenger {
    http: reqwest::Client,
    sms: Option<Provider<SmsSettings>>,
    email: Option<Provider<EmailSettings>>,
}

impl ProviderMessenger {
    pub fn new(
        sms: Option<Provider<SmsSettings>>,
        email: Option<Provider<EmailSettings>>,
    ) -> Result<Self, PortError> {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| PortError::permanent("http client", e.to_string()))?;
        Ok(Self { http, sms, email })
    }
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

#[async_trait]
impl CitizenMessenger for ProviderMessenger {
    async fn send_sms(&self, to: &PhoneNumber, body: &str) -> Result<(), PortError> {
        let Provider {
            settings: sms,
            secret,
        } = self
            .sms
            .as_ref()
            .ok_or_else(|| PortError::permanent("send sms", "SMS is not configured"))?;
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            sms.base_url.trim_end_matches('/'),
            sms.account_sid
        );
        let response = self
            .http
            .post(url)
            .basic_auth(&sms.account_sid, Some(secret.expose_secret()))
            .form(&[
                ("To", to.as_str()),
                ("From", sms.from.as_str()),
                ("Body", body),
            ])
            .send()
            .await
            .map_err(|e| transport("send sms", e))?;
        check("send sms", response.status())
    }

    async fn send_email(&self, to: &Email, subject: &str, body: &str) -> Result<(), PortError> {
        let Provider {
            settings: email,
            secret,
        } = self
            .email
            .as_ref()
            .ok_or_else(|| PortError::permanent("send email", "e-mail is not configured"))?;
        let url = format!("{}/email", email.base_url.trim_end_matches('/'));
        let response = self
            .http
            .post(url)
            .header("X-Postmark-Server-Token", secret.expose_secret())
            .header("Accept", "application/json")
            .json(&serde_json::json!({
                "From": email.from,
                "To": to.as_str(),
                "Subject": subject,
                "TextBody": body,
                "MessageStream": "outbound",
            }))
            .send()
            .await
            .map_err(|e| transport("send email", e))?;
        check("send email", response.status())
    }
}
