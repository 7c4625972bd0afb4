//! What SES does on this machine: a raw message dropped under the inbound
//! prefix of the bucket (as SES's S3 action stores it) is handed to the
//! function the template lets SES invoke, with the receipt event SES's
//! Lambda action sends (the message id is the object's name). A message
//! whose invocation keeps failing is given up after [`ATTEMPTS`], as the
//! on-failure queue takes it in AWS; every message is taken once whatever
//! the runner restarts (the function's own ledger).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::watch;

use crate::functions::ScheduledHandler;

/// Invocations of one message before it is given up.
pub const ATTEMPTS: u32 = 3;
const POLL: Duration = Duration::from_millis(500);

/// Where the messages arrive and who takes them.
#[derive(Clone)]
pub struct MailDrop {
    pub s3: aws_sdk_s3::Client,
    pub bucket: String,
    pub prefix: String,
    pub function: String,
    pub handler: ScheduledHandler,
}

/// The receipt event SES's Lambda action sends after its S3 action stored
/// `message_id` (scanning off here: the stored headers' verdicts decide).
pub fn receipt_event(message_id: &str, at: Timestamp) -> serde_json::Value {
    let at = at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    let not_scanned = serde_json::json!({"status": "DISABLED"});
    serde_json::json!({"Records": [{
        "eventSource": "aws:ses",
        "eventVersion": "1.0",
        "ses": {
            "mail": {
                "commonHeaders": {"from": [], "to": []},
                "source": "",
                "timestamp": at,
                "destination": [],
                "headers": [],
                "headersTruncated": false,
                "messageId": message_id,
            },
            "receipt": {
                "recipients": [],
                "timestamp": at,
                "spamVerdict": not_scanned,
                "virusVerdict": not_scanned,
                "spfVerdict": not_scanned,
                "dkimVerdict": not_scanned,
                "dmarcVerdict": not_scanned,
                "processingTimeMillis": 0,
                "action": {"type": "Lambda", "invocationType": "Event"},
            },
        },
    }]})
}

impl MailDrop {
    async fn waiting(&self) -> Result<Vec<String>, String> {
        let mut keys = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .s3
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(&self.prefix)
                .set_continuation_token(token)
                .send()
                .await
                .map_err(|e| e.into_service_error().to_string())?;
            keys.extend(
                out.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_owned)),
            );
            match out.next_continuation_token() {
                Some(next) => token = Some(next.to_owned()),
                None => return Ok(keys),
            }
        }
    }

    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut done: BTreeSet<String> = BTreeSet::new();
        let mut failures: BTreeMap<String, u32> = BTreeMap::new();
        loop {
            match self.waiting().await {
                Ok(keys) => {
                    let fresh: Vec<String> =
                        keys.into_iter().filter(|k| !done.contains(k)).collect();
                    for key in fresh {
                        let message_id = key.trim_start_matches(self.prefix.as_str()).to_owned();
                        if message_id.is_empty() || message_id.contains('/') {
                            done.insert(key);
                            continue;
                        }
                        match (self.handler)(receipt_event(&message_id, Timestamp::now())).await {
                            Ok(_) => {
                                done.insert(key);
                            }
                            Err(e) => {
                                let n = failures.entry(key.clone()).or_default();
                                *n += 1;
                                tracing::warn!(function = %self.function, %key, attempt = *n, error = %e, "mail intake failed");
                                if *n >= ATTEMPTS {
                                    tracing::error!(function = %self.function, %key, "mail given up (in AWS: the on-failure queue)");
                                    done.insert(key);
                                }
                            }
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(bucket = %self.bucket, error = %e, "cannot list the inbound mail")
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = stop.changed() => return,
            }
        }
    }
}
