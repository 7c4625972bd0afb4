//! A resident texts the city (SMS, WhatsApp): a conversation, not a form.
//! Free text becomes a request (the reply carries its case number and
//! tracking link); a missing place is asked for; a text from a number with
//! a request opened in the last hours is asked whether it adds to that case;
//! a case number or `STATUS <case>` answers its status; `INFO <words>`
//! answers from the knowledge base; STOP / START / HELP (and Polish
//! equivalents) are honoured and remembered. Every message is handled once
//! (the channel's message id), and nothing is texted to a number that said
//! STOP but the confirmation of it.

mod flow;
#[cfg(test)]
mod tests;

use jiff::{SignedDuration, Timestamp};
use tracing::instrument;

use crate::catalogue::Catalogue;
use crate::channels::replies;
use crate::channels::sms_command::{ParsedSms, SmsCommand, parse_sms};
use crate::channels::text_language::language_of;
use crate::channels::texter::{MAX_TEXTS_PER_MINUTE, TexterProfile};
use crate::contact::{ContactKey, PhoneNumber};
use crate::ids::CaseNumber;
use crate::knowledge::KnowledgeBase;
use crate::language::Language;
use crate::location::GeoPoint;
use crate::media::MediaRef;
use crate::ports::{
    Claim, Clock, IdSource, KnowledgeIndex, OnceLedger, PersonIndex, PortError, RateCounter,
    RequestStore, TexterStore,
};
use crate::request::Channel;

/// What the conversation needs.
pub struct TextDesk<'a> {
    pub store: &'a dyn RequestStore,
    pub people: &'a dyn PersonIndex,
    pub texters: &'a dyn TexterStore,
    /// Messages per number and minute (the throttle).
    pub counters: &'a dyn RateCounter,
    pub ledger: &'a dyn OnceLedger,
    pub clock: &'a dyn Clock,
    pub ids: &'a dyn IdSource,
    pub catalogue: &'a Catalogue,
    pub knowledge: &'a KnowledgeBase,
    pub knowledge_index: &'a dyn KnowledgeIndex,
    pub contact_key: &'a ContactKey,
    /// Where the pages are, e.g. `https://311.krakow.pl` (tracking and answer links).
    pub public_base_url: &'a str,
}

/// One message as the channel's adapter parsed it (signature already checked).
#[derive(Debug, Clone)]
pub struct InboundText {
    /// The channel's id of the message (`MessageSid`, `inboundMessageId`).
    pub message_id: String,
    /// `Sms`, or `Messenger` for WhatsApp.
    pub channel: Channel,
    pub from: PhoneNumber,
    pub body: String,
    /// A shared location (WhatsApp).
    pub point: Option<GeoPoint>,
    /// Photos the adapter fetched, checked and stored (MMS, WhatsApp).
    pub media: Vec<MediaRef>,
    /// Attachments the adapter did not keep (not a photo, too large): the
    /// reply says so.
    pub dropped_attachments: usize,
}

/// What was done with a message (for the log and the tests: no personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextOutcome {
    Created(CaseNumber),
    AskedLocation,
    AskedAddOrNew(CaseNumber),
    AddedTo(CaseNumber),
    Status(CaseNumber),
    UnknownCase,
    Answered,
    NoAnswer,
    Help,
    OptedOut,
    OptedIn,
    /// The same message was handled before (a provider's retry).
    Duplicate,
    /// The number sent more than [`MAX_TEXTS_PER_MINUTE`] this minute.
    Throttled,
}

impl TextOutcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            TextOutcome::Created(_) => "created",
            TextOutcome::AskedLocation => "asked_location",
            TextOutcome::AskedAddOrNew(_) => "asked_add_or_new",
            TextOutcome::AddedTo(_) => "added_to",
            TextOutcome::Status(_) => "status",
            TextOutcome::UnknownCase => "unknown_case",
            TextOutcome::Answered => "answered",
            TextOutcome::NoAnswer => "no_answer",
            TextOutcome::Help => "help",
            TextOutcome::OptedOut => "opted_out",
            TextOutcome::OptedIn => "opted_in",
            TextOutcome::Duplicate => "duplicate",
            TextOutcome::Throttled => "throttled",
        }
    }
}

/// The outcome and the text to send back (`None`: send nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextAnswer {
    pub outcome: TextOutcome,
    pub reply: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TextError {
    #[error(transparent)]
    Port(#[from] PortError),
    #[error("the message could not become a request: {0}")]
    Submit(crate::usecases::submit_request::SubmitError),
}

/// How long handling one message may take before a retry may try it again
/// (longer than the function's 10-second timeout, no longer).
const HANDLING_LOCK: SignedDuration = SignedDuration::from_secs(15);

/// Handles one inbound text message, once.
#[instrument(skip_all, fields(channel = inbound.channel.as_str(), outcome))]
pub async fn answer_text(
    deps: &TextDesk<'_>,
    inbound: InboundText,
) -> Result<TextAnswer, TextError> {
    let now = deps.clock.now();
    let key = deps.contact_key.of_phone(&inbound.from);
    let minute =
        Timestamp::from_second(now.as_second() - now.as_second().rem_euclid(60)).unwrap_or(now);
    let count = deps
        .counters
        .count(&format!("texts-in#{key}"), minute, 3600)
        .await?;
    let parsed = parse_sms(&inbound.body);
    // STOP and START are remembered however many messages came this minute.
    let opt = matches!(parsed.command, SmsCommand::OptOut | SmsCommand::OptIn);
    let answer = if count > MAX_TEXTS_PER_MINUTE && !opt {
        silent(TextOutcome::Throttled)
    } else {
        let once = format!("text#{}#{}", inbound.channel.as_str(), inbound.message_id);
        let lock_until = now.saturating_add(HANDLING_LOCK).unwrap_or(now);
        match deps.ledger.claim(&once, now, lock_until).await? {
            Claim::AlreadyDone | Claim::InProgress => silent(TextOutcome::Duplicate),
            Claim::Acquired => match converse(deps, &key, inbound, parsed).await {
                Ok(answer) => {
                    deps.ledger.complete(&once).await?;
                    answer
                }
                Err(e) => {
                    deps.ledger.release(&once).await?;
                    return Err(e);
                }
            },
        }
    };
    tracing::Span::current().record("outcome", answer.outcome.as_str());
    Ok(answer)
}

fn silent(outcome: TextOutcome) -> TextAnswer {
    TextAnswer {
        outcome,
        reply: None,
    }
}

fn said(outcome: TextOutcome, reply: String) -> TextAnswer {
    TextAnswer {
        outcome,
        reply: Some(reply),
    }
}

async fn converse(
    deps: &TextDesk<'_>,
    key: &str,
    inbound: InboundText,
    parsed: ParsedSms,
) -> Result<TextAnswer, TextError> {
    let dropped = inbound.dropped_attachments;
    let mut profile = deps
        .texters
        .profile(key)
        .await?
        .unwrap_or_else(|| TexterProfile::new(key));
    let detected = parsed.language.or_else(|| match &parsed.command {
        SmsCommand::Text(text) | SmsCommand::Info(text) => language_of(text),
        _ => None,
    });
    let language = detected.or(profile.language).unwrap_or_default();
    let city = deps.catalogue.city().name.get(language).to_owned();
    let remember_language = detected.is_some() && detected != profile.language;
    match parsed.command {
        SmsCommand::OptOut => {
            set_opt_out(deps, profile, true, Some(language)).await?;
            deps.texters.end_conversation(key).await?;
            return Ok(said(
                TextOutcome::OptedOut,
                replies::opted_out(&city, language),
            ));
        }
        SmsCommand::OptIn => {
            set_opt_out(deps, profile, false, Some(language)).await?;
            return Ok(said(
                TextOutcome::OptedIn,
                replies::opted_in(&city, language),
            ));
        }
        SmsCommand::Help => {
            return Ok(said(TextOutcome::Help, replies::help(&city, language)));
        }
        _ => {}
    }
    if remember_language {
        profile.language = detected;
        // The language is a convenience: a concurrent change of the profile wins.
        let _ = deps.texters.save_profile(&profile).await?;
    }
    let talk = flow::Talk {
        deps,
        key,
        language,
        city: &city,
        quiet: profile.opted_out,
    };
    let answer = match parsed.command {
        SmsCommand::Status(case) => talk.status(&case).await?,
        SmsCommand::StatusOfWhat(_) => said(
            TextOutcome::UnknownCase,
            replies::which_case(&city, language),
        ),
        SmsCommand::Info(words) => talk.info(&words)?,
        SmsCommand::InfoOfWhat => said(TextOutcome::NoAnswer, replies::what_info(&city, language)),
        SmsCommand::Text(text) => talk.text(&inbound, text).await?,
        SmsCommand::Empty if inbound.point.is_some() || !inbound.media.is_empty() => {
            talk.text(&inbound, String::new()).await?
        }
        SmsCommand::Empty | SmsCommand::OptOut | SmsCommand::OptIn | SmsCommand::Help => {
            said(TextOutcome::Help, replies::help(&city, language))
        }
    };
    // A number that said STOP hears nothing (its report is still taken).
    Ok(if profile.opted_out {
        silent(answer.outcome)
    } else if dropped > 0 {
        TextAnswer {
            reply: answer
                .reply
                .map(|r| format!("{r} {}", replies::attachments_dropped(dropped, language))),
            ..answer
        }
    } else {
        answer
    })
}

/// Remembers STOP or START (re-reading the profile when it changed meanwhile).
async fn set_opt_out(
    deps: &TextDesk<'_>,
    mut profile: TexterProfile,
    opted_out: bool,
    language: Option<Language>,
) -> Result<(), PortError> {
    for _ in 0..3 {
        profile.opted_out = opted_out;
        profile.language = language.or(profile.language);
        if deps.texters.save_profile(&profile).await? {
            return Ok(());
        }
        profile = deps
            .texters
            .profile(&profile.key)
            .await?
            .unwrap_or_else(|| TexterProfile::new(profile.key.clone()));
    }
    Err(PortError::retryable(
        "save texter profile",
        "the profile kept changing meanwhile",
    ))
}
