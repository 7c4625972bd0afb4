//! Notification step: tells the citizen about a history event, once.

use jiff::SignedDuration;
use tracing::instrument;

use crate::catalogue::Catalogues;
use crate::channels::outbound::{
    DAY_COUNT_KEEP_SECS, OutboundLimits, REQUEST_COUNT_KEEP_SECS, Refusal, day_window,
};
use crate::ids::RequestId;
use crate::notifications::message_for;
use crate::ports::{CitizenMessenger, Claim, Clock, ContactStore, OnceLedger, RequestStore};
use crate::usecases::StepError;
use crate::usecases::classify_request::load;

pub struct Notify<'a> {
    pub store: &'a dyn RequestStore,
    pub contacts: &'a dyn ContactStore,
    pub ledger: &'a dyn OnceLedger,
    pub messenger: &'a dyn CitizenMessenger,
    pub clock: &'a dyn Clock,
    /// Every city's catalogue; the request's jurisdiction picks one.
    pub catalogues: &'a Catalogues,
    /// Derives the citizen's tracking token for the link in the confirmation.
    pub tracking_key: &'a crate::ids::TrackingKey,
    /// Where the public API is, e.g. `https://311.krakow.pl`.
    pub public_base_url: &'a str,
    /// Followers' notices are fanned out as messages to this step's own queue.
    pub queue: &'a dyn crate::ports::PipelineQueue,
    /// The followers of a request, a page at a time.
    pub queries: &'a dyn crate::ports::RequestQueries,
    /// Numbers that texted STOP: nothing is texted to them (e-mail still is).
    pub texters: &'a dyn crate::ports::TexterStore,
    /// Keys a phone number as the texters' store does.
    pub contact_key: &'a crate::contact::ContactKey,
    /// Texts sent per number and day, and per request.
    pub counters: &'a dyn crate::ports::RateCounter,
    /// The address residents write to: a mail's reply goes there, tagged
    /// with its case (`None`: mail carries no Reply-To).
    pub reply_to: Option<&'a crate::contact::Email>,
    /// What texting may cost the city.
    pub limits: &'a OutboundLimits,
}

/// The link a citizen follows their request with: the tracking page (`/track/{case}`,
/// served by the pages), the token in the query.
pub fn tracking_link(
    base_url: &str,
    request: &crate::request::ServiceRequest,
    key: &crate::ids::TrackingKey,
) -> String {
    format!(
        "{}/track/{}?token={}",
        base_url.trim_end_matches('/'),
        request.case_number,
        key.token_for(&request.id).expose()
    )
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyOutcome {
    SentSms,
    SentEmail,
    AlreadySent,
    /// The event is internal, or the citizen left no contact.
    NothingToSend,
    /// The number said STOP and there is no e-mail to write to instead.
    OptedOut,
    /// The city's limits refused the text and there is no e-mail instead.
    NotAllowed(Refusal),
}

/// How long a send may take before another delivery may try it again.
const SEND_LOCK: SignedDuration = SignedDuration::from_secs(60);

#[instrument(skip(deps), fields(request_id = %request_id, seq))]
pub async fn notify_citizen(
    deps: &Notify<'_>,
    request_id: &RequestId,
    seq: u64,
) -> Result<NotifyOutcome, StepError> {
    let request = load(deps.store, request_id).await?;
    if !request.has_contact {
        return Ok(NotifyOutcome::NothingToSend);
    }
    let history = deps.store.history(request_id).await?;
    let event = history
        .iter()
        .find(|e| e.seq == seq)
        .ok_or_else(|| StepError::Retry(format!("history event {seq} not visible yet")))?;
    let catalogue = deps.catalogues.get(&request.jurisdiction).ok_or_else(|| {
        StepError::Poison(format!(
            "jurisdiction {} is not served here",
            request.jurisdiction
        ))
    })?;
    if let crate::request::EventKind::Created { channel } = &event.kind
        && channel.converses()
    {
        // The conversation's own reply carried the case number and the link.
        return Ok(NotifyOutcome::NothingToSend);
    }
    let link = tracking_link(deps.public_base_url, &request, deps.tracking_key);
    // The reporters of duplicates hear how it ends from their own notices
    // (`tell_followers`), fanned out by the outbox.
    match message_for(catalogue, &request, event, Some(&link)) {
        Some(message) => {
            let key = format!("notify#{request_id}#{seq}");
            send_once(deps, &key, &request, &message).await
        }
        None => Ok(NotifyOutcome::NothingToSend),
    }
}

/// Sends one message to a request's citizen, once (the ledger remembers it).
pub(crate) async fn send_once(
    deps: &Notify<'_>,
    key: &str,
    request: &crate::request::ServiceRequest,
    message: &crate::notifications::CitizenMessage,
) -> Result<NotifyOutcome, StepError> {
    let Some(contact) = deps.contacts.contact(&request.id).await? else {
        return Ok(NotifyOutcome::NothingToSend);
    };
    let reply_to = deps
        .reply_to
        .and_then(|inbox| inbox.tagged(request.case_number.as_str()));
    let to = Recipient {
        contact: &contact,
        scope: request.id.as_str(),
        reply_to: reply_to.as_ref(),
    };
    send_once_to(deps, key, &to, message).await
}

/// Who a message goes to, what it is about (a request or question id, for
/// the per-request cap) and where a mail's answer should go.
pub(crate) struct Recipient<'r> {
    pub contact: &'r crate::contact::Contact,
    pub scope: &'r str,
    pub reply_to: Option<&'r crate::contact::Email>,
}

/// Sends one message to its recipient, once (the ledger remembers it by
/// `key`): by SMS when there is a phone that did not say STOP and the
/// city's limits allow the text ([`OutboundLimits`]), else by e-mail.
pub(crate) async fn send_once_to(
    deps: &Notify<'_>,
    key: &str,
    to: &Recipient<'_>,
    message: &crate::notifications::CitizenMessage,
) -> Result<NotifyOutcome, StepError> {
    let contact = to.contact;
    if contact.phone.is_none() && contact.email.is_none() {
        return Ok(NotifyOutcome::NothingToSend);
    }
    let now = deps.clock.now();
    let lock_until = now.saturating_add(SEND_LOCK).unwrap_or(now);
    match deps.ledger.claim(key, now, lock_until).await? {
        Claim::Acquired => {}
        Claim::AlreadyDone => return Ok(NotifyOutcome::AlreadySent),
        Claim::InProgress => {
            return Err(StepError::Retry(
                "another delivery is sending this notification".into(),
            ));
        }
    }
    let sent = match send_by_best_way(deps, key, to, message).await {
        Ok(Ok(outcome)) => Ok(outcome),
        Ok(Err(port)) | Err(port) => Err(port),
    };
    match sent {
        Ok(outcome) => {
            deps.ledger.complete(key).await?;
            tracing::info!(outcome = ?outcome, "citizen notified");
            Ok(outcome)
        }
        Err(err) => {
            // Give the claim back so the queue's retry can send it.
            deps.ledger.release(key).await?;
            Err(err.into())
        }
    }
}

/// The text when the number may have it, else the e-mail; what was done.
/// The outer error is a failed check, the inner one a failed send.
async fn send_by_best_way(
    deps: &Notify<'_>,
    key: &str,
    to: &Recipient<'_>,
    message: &crate::notifications::CitizenMessage,
) -> Result<Result<NotifyOutcome, crate::ports::PortError>, crate::ports::PortError> {
    let (contact, scope) = (to.contact, to.scope);
    let mut refused = None;
    if let Some(phone) = &contact.phone {
        if opted_out(deps, phone).await? {
            refused = Some(NotifyOutcome::OptedOut);
        } else if let Some(refusal) = sms_refusal(deps, key, phone, scope).await? {
            tracing::warn!(reason = refusal.as_str(), "text not sent");
            refused = Some(NotifyOutcome::NotAllowed(refusal));
        } else {
            match deps.messenger.send_sms(phone, &message.body).await {
                Ok(()) => return Ok(Ok(NotifyOutcome::SentSms)),
                // A number the provider will not text (opted out there, not
                // a mobile): the e-mail instead, when there is one.
                Err(e) if !e.retryable && contact.email.is_some() => {
                    tracing::warn!(error = %e, "text refused by the provider; writing instead");
                }
                Err(e) => return Ok(Err(e)),
            }
        }
    }
    match &contact.email {
        Some(email) => Ok(deps
            .messenger
            .send_email(email, &message.subject, &message.body, to.reply_to)
            .await
            .map(|()| NotifyOutcome::SentEmail)),
        None => Ok(Ok(refused.unwrap_or(NotifyOutcome::NothingToSend))),
    }
}

/// Why a text to `phone` about `scope` may not go, counting it when it may.
/// A message is counted once: a retry after a failed send (`key` is the
/// message's) was allowed and counted the first time.
async fn sms_refusal(
    deps: &Notify<'_>,
    key: &str,
    phone: &crate::contact::PhoneNumber,
    scope: &str,
) -> Result<Option<Refusal>, crate::ports::PortError> {
    let limits = deps.limits;
    if !limits.country_allowed(phone) {
        return Ok(Some(Refusal::Country));
    }
    let now = deps.clock.now();
    let counted = format!("{key}#counted");
    let lock_until = now.saturating_add(SEND_LOCK).unwrap_or(now);
    if deps.ledger.claim(&counted, now, lock_until).await? != Claim::Acquired {
        return Ok(None);
    }
    match count_text(deps, phone, scope, now).await {
        Ok(None) => {
            deps.ledger.complete(&counted).await?;
            Ok(None)
        }
        // Refused: a retry (after the e-mail instead failed) asks again.
        refused => {
            deps.ledger.release(&counted).await?;
            refused
        }
    }
}

/// Counts a text against its number's day and its request's life.
async fn count_text(
    deps: &Notify<'_>,
    phone: &crate::contact::PhoneNumber,
    scope: &str,
    now: jiff::Timestamp,
) -> Result<Option<Refusal>, crate::ports::PortError> {
    let limits = deps.limits;
    let number = deps.contact_key.of_phone(phone);
    let today = deps
        .counters
        .count(
            &format!("texts-out#{number}"),
            day_window(now),
            DAY_COUNT_KEEP_SECS,
        )
        .await?;
    if today > limits.per_number_per_day {
        return Ok(Some(Refusal::NumberCap));
    }
    let about = deps
        .counters
        .count(
            &format!("texts-about#{scope}"),
            jiff::Timestamp::UNIX_EPOCH,
            // One count for the request's whole life, kept a while after its last text.
            now.as_second() + REQUEST_COUNT_KEEP_SECS,
        )
        .await?;
    if about > limits.per_request {
        return Ok(Some(Refusal::RequestCap));
    }
    Ok(None)
}

/// Whether the number texted STOP (and not START since).
pub async fn opted_out(
    deps: &Notify<'_>,
    phone: &crate::contact::PhoneNumber,
) -> Result<bool, crate::ports::PortError> {
    Ok(deps
        .texters
        .profile(&deps.contact_key.of_phone(phone))
        .await?
        .is_some_and(|p| p.opted_out))
}

/// Tells a request's resident that some attachments of their message were
/// not kept, once per request.
pub async fn tell_attachments_dropped(
    deps: &Notify<'_>,
    request_id: &RequestId,
    count: u32,
) -> Result<NotifyOutcome, StepError> {
    let request = load(deps.store, request_id).await?;
    if !request.has_contact || count == 0 {
        return Ok(NotifyOutcome::NothingToSend);
    }
    let catalogue = deps.catalogues.get(&request.jurisdiction).ok_or_else(|| {
        StepError::Poison(format!(
            "jurisdiction {} is not served here",
            request.jurisdiction
        ))
    })?;
    let message = crate::notifications::attachments_dropped_message(catalogue, &request, count);
    send_once(deps, &format!("dropped#{request_id}"), &request, &message).await
}
