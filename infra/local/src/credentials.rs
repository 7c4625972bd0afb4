//! The demo credentials file (`.local/credentials.json`): the departments'
//! API keys and queues, the demo Open311 client's key, a staff token per
//! demo role, and the providers this machine plays (SMS, e-mail).

use std::collections::BTreeMap;

use anyhow::Context;
use serde::Serialize;

use crate::Published;
use crate::dev_issuer::{self, DevIssuer};
use crate::provider;
use crate::stack::Stack;

#[derive(Debug, Serialize)]
pub(crate) struct Credentials<'a> {
    departments: BTreeMap<&'a str, DepartmentCredential<'a>>,
    /// A demo Open311 client application's key (`api_key` on POST requests).
    open311_api_key: &'a str,
    /// Staff tokens by demo role (`operator`, `clerk:roads`, …), valid for a day.
    staff: &'a BTreeMap<String, String>,
    api_base_url: String,
    /// The SMS provider this machine plays: its auth token (which signs
    /// webhooks), the city's number, and the webhook URL the signature covers.
    sms: SmsCredential,
    /// Where residents write to, and where dropping a raw message is what SES does.
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<EmailCredential>,
}

#[derive(Debug, Serialize)]
pub(crate) struct EmailCredential {
    address: String,
    inbound_bucket: String,
    inbound_prefix: String,
}

impl EmailCredential {
    pub(crate) fn of(stack: &Stack) -> Option<Self> {
        let env = &stack
            .functions
            .values()
            .find(|f| f.binary == "intake-email")?
            .environment;
        Some(Self {
            address: env
                .get("CITY_EMAIL_ADDRESSES")?
                .split(',')
                .next()?
                .trim()
                .to_owned(),
            inbound_bucket: env.get("BUCKET_NAME")?.clone(),
            inbound_prefix: env.get("INBOUND_MAIL_PREFIX")?.clone(),
        })
    }
}

#[derive(Debug, Serialize)]
struct SmsCredential {
    auth_token: &'static str,
    account_sid: &'static str,
    number: &'static str,
    webhook_url: String,
}

#[derive(Debug, Serialize)]
struct DepartmentCredential<'a> {
    api_key: &'a str,
    queue_url: Option<&'a str>,
}

/// A token per demo role: `operator`, `manager`, `quality`, `admin`, and
/// `clerk:`, `expert:`, `head:` of every published department.
pub(crate) fn demo_staff_tokens(
    issuer: &DevIssuer,
    published: &Published,
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut roles: Vec<String> = ["operator", "manager", "quality", "admin"]
        .map(str::to_owned)
        .to_vec();
    for code in published.department_keys.keys() {
        for kind in ["clerk", "expert", "head"] {
            roles.push(format!("{kind}:{}", code.as_str()));
        }
    }
    roles
        .into_iter()
        .map(|role| {
            let subject = DevIssuer::demo_subject(&role);
            let token = issuer.token(&subject, &[&role], dev_issuer::DEMO_TOKEN_HOURS)?;
            Ok((role, token))
        })
        .collect()
}

pub(crate) fn write_credentials(
    path: &std::path::Path,
    published: &Published,
    open311_api_key: &str,
    staff_tokens: &BTreeMap<String, String>,
    base_url: String,
    email: Option<EmailCredential>,
) -> anyhow::Result<()> {
    let credentials = Credentials {
        open311_api_key,
        staff: staff_tokens,
        departments: published
            .department_keys
            .iter()
            .map(|(code, key)| {
                (
                    code.as_str(),
                    DepartmentCredential {
                        api_key: key,
                        queue_url: published.department_queues.get(code).map(String::as_str),
                    },
                )
            })
            .collect(),
        sms: SmsCredential {
            auth_token: provider::LOCAL_SMS_TOKEN,
            account_sid: provider::LOCAL_SMS_ACCOUNT,
            number: provider::LOCAL_SMS_FROM,
            webhook_url: format!("{base_url}{}", provider::SMS_WEBHOOK_PATH),
        },
        api_base_url: base_url,
        email,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, serde_json::to_vec_pretty(&credentials)?)
        .with_context(|| format!("writing {}", path.display()))
}
