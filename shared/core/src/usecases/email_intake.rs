//! A resident writes to the city (or a fax gateway forwards a fax): a new
//! message becomes a request, confirmed by the pipeline's own e-mail with
//! the case number and link; a reply naming a case of the same sender
//! (`requests+<case>@…`, or the subject) is added to it as the resident's
//! information. Nothing is taken from an automatic message, our own
//! address, or what SES marked as spam or a virus, so no reply loops.
//! Photos are kept like uploads (checked by content, stripped of their
//! location); a fax's document is kept as it came; anything else is
//! dropped and counted, and the resident is told.

use tracing::instrument;

use crate::catalogue::Catalogue;
use crate::channels::email_message::{EmailAttachment, InboundEmail, Verdict, case_named};
use crate::channels::text_language::language_of;
use crate::contact::{Contact, ContactKey};
use crate::ids::CaseNumber;
use crate::location::Location;
use crate::media::{MAX_MEDIA_BYTES, MAX_MEDIA_PER_REQUEST, MediaRef, prepare_photo};
use crate::ports::{
    Claim, Clock, IdSource, IdempotencyClaim, MediaStore, OnceLedger, PersonIndex, PipelineQueue,
    PortError, RequestStore,
};
use crate::request::Channel;
use crate::usecases::citizen_follow_up::{
    CitizenUpdate, FollowUp, FollowUpError, follow_up_by_client,
};
use crate::usecases::submit_request::{Intake, RequestSubmission, SubmitError, submit_request};

pub struct MailDesk<'a> {
    pub store: &'a dyn RequestStore,
    pub people: &'a dyn PersonIndex,
    pub clock: &'a dyn Clock,
    pub ids: &'a dyn IdSource,
    pub catalogue: &'a Catalogue,
    pub contact_key: &'a ContactKey,
    pub media: &'a dyn MediaStore,
    /// Each message is taken once (SES retries an invocation).
    pub ledger: &'a dyn OnceLedger,
    /// The notify step's queue: attachments not kept are told there.
    pub notify: &'a dyn PipelineQueue,
    /// The city's own addresses (lower case): mail from them is never taken.
    pub own_addresses: &'a [String],
    /// The local part replies are plus-addressed to (`requests`).
    pub reply_local_part: &'a str,
    /// Senders that are fax-to-mail gateways (lower case).
    pub fax_senders: &'a [String],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailOutcome {
    Created {
        case: CaseNumber,
        request_id: crate::ids::RequestId,
        /// Attachments not kept (not a photo, too large, too many).
        dropped: usize,
    },
    Threaded {
        case: CaseNumber,
    },
    /// Taken from nobody, answered to nobody: why.
    Ignored(&'static str),
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error(transparent)]
    Port(#[from] PortError),
    #[error("the message could not become a request: {0}")]
    Submit(SubmitError),
}

#[instrument(skip_all, fields(outcome))]
pub async fn take_email(
    deps: &MailDesk<'_>,
    message_id: &str,
    email: InboundEmail,
) -> Result<MailOutcome, MailError> {
    let once = format!("mail#{message_id}");
    let now = deps.clock.now();
    // Just over the function's 30-second timeout: a killed attempt's claim
    // has lapsed when Lambda retries a minute later.
    let lock_until = now
        .saturating_add(jiff::SignedDuration::from_secs(45))
        .unwrap_or(now);
    let outcome = match deps.ledger.claim(&once, now, lock_until).await? {
        Claim::AlreadyDone => MailOutcome::Ignored("taken before"),
        Claim::InProgress => {
            return Err(PortError::retryable(
                "take e-mail",
                "another invocation is taking this message",
            )
            .into());
        }
        Claim::Acquired => match take(deps, message_id, email).await {
            Ok(outcome) => {
                if let MailOutcome::Created {
                    request_id,
                    dropped,
                    ..
                } = &outcome
                    && *dropped > 0
                {
                    // Before the message counts as taken, so a failed send is retried.
                    let sent = deps
                        .notify
                        .send(&crate::messages::PipelineMessage::AttachmentsDropped {
                            request_id: request_id.clone(),
                            count: u32::try_from(*dropped).unwrap_or(u32::MAX),
                        })
                        .await;
                    if let Err(e) = sent {
                        deps.ledger.release(&once).await?;
                        return Err(e.into());
                    }
                }
                deps.ledger.complete(&once).await?;
                outcome
            }
            Err(e) => {
                deps.ledger.release(&once).await?;
                return Err(e);
            }
        },
    };
    let name = match &outcome {
        MailOutcome::Created { .. } => "created",
        MailOutcome::Threaded { .. } => "threaded",
        MailOutcome::Ignored(why) => why,
    };
    tracing::Span::current().record("outcome", name);
    Ok(outcome)
}

async fn take(
    deps: &MailDesk<'_>,
    message_id: &str,
    email: InboundEmail,
) -> Result<MailOutcome, MailError> {
    if email.virus == Verdict::Fail {
        return Ok(MailOutcome::Ignored("virus"));
    }
    if email.spam == Verdict::Fail {
        return Ok(MailOutcome::Ignored("spam"));
    }
    let Some(from) = email.from.clone() else {
        return Ok(MailOutcome::Ignored("no sender"));
    };
    let sender = from.as_str().to_lowercase();
    if deps.own_addresses.contains(&sender) {
        return Ok(MailOutcome::Ignored("our own address"));
    }
    if let Some(why) = email.automatic {
        return Ok(MailOutcome::Ignored(why));
    }
    let fax = deps.fax_senders.contains(&sender);
    // A sender SES could not verify may be forged: their words are taken,
    // but they neither write into a case nor receive its notices.
    let trusted = email.sender_verified;
    if !fax
        && trusted
        && let Some(case) = thread_of(deps, &email).await?
    {
        let note = if email.text.is_empty() {
            email.subject.clone()
        } else {
            email.text.clone()
        };
        let follow = FollowUp {
            store: deps.store,
            clock: deps.clock,
        };
        match follow_up_by_client(
            &follow,
            &case,
            CitizenUpdate {
                note: Some(note),
                fixed: None,
            },
        )
        .await
        {
            Ok(_) => return Ok(MailOutcome::Threaded { case }),
            Err(FollowUpError::Port(e)) => return Err(e.into()),
            // A case that takes no note now: the message is a new request.
            Err(e) => {
                tracing::info!(error = %e, "the reply could not be added; taking a new request")
            }
        }
    }
    let description = match (email.subject.trim(), email.text.trim()) {
        ("", "") => return Ok(MailOutcome::Ignored("empty")),
        (subject, "") => subject.to_owned(),
        ("", text) => text.to_owned(),
        (subject, text) => format!("{subject}\n\n{text}"),
    };
    let description: String = description
        .chars()
        .take(crate::usecases::submit_request::MAX_DESCRIPTION_CHARS)
        .collect();
    let (media, dropped) = keep_attachments(deps, message_id, &email.attachments, fax).await?;
    let location = deps
        .catalogue
        .addresses()
        .find_in(&description)
        .map(|a| Location {
            point: Some(a.point()),
            address: Some(a.label()),
            district: None,
        })
        .unwrap_or_default();
    let intake = Intake {
        store: deps.store,
        clock: deps.clock,
        ids: deps.ids,
        catalogue: deps.catalogue,
    };
    let submission = RequestSubmission {
        channel: if fax { Channel::Fax } else { Channel::Email },
        service_code: None,
        idempotency: Some(IdempotencyClaim {
            key: format!("email:{message_id}"),
            payload_hash: crate::ids::sha256_hex(description.as_bytes()),
        }),
        language: language_of(&description).unwrap_or_default(),
        description,
        location,
        // A gateway's address is not the resident's: a fax leaves no contact.
        contact: (!fax && trusted).then(|| Contact {
            email: Some(from),
            ..Contact::default()
        }),
        answers: Default::default(),
        media,
        privacy_requested: false,
        open311_client: None,
        registered_by: None,
        follows: None,
    };
    match submit_request(&intake, submission).await {
        Ok(submitted) => Ok(MailOutcome::Created {
            case: submitted.request.case_number,
            request_id: submitted.request.id,
            dropped,
        }),
        Err(SubmitError::Port(e)) => Err(e.into()),
        Err(e) => Err(MailError::Submit(e)),
    }
}

/// The case a reply names, when it is one of the sender's own.
async fn thread_of(
    deps: &MailDesk<'_>,
    email: &InboundEmail,
) -> Result<Option<CaseNumber>, PortError> {
    let (Some(case), Some(from)) = (case_named(email, deps.reply_local_part), &email.from) else {
        return Ok(None);
    };
    let Some(request) = deps.store.find_by_case_number(&case).await? else {
        return Ok(None);
    };
    let theirs = deps
        .people
        .requests_of(&deps.contact_key.of_email(from))
        .await?;
    Ok(theirs.contains(&request.id).then_some(case))
}

/// Photos kept like uploads; a fax's PDF or TIFF kept as it came; the rest
/// dropped. The kept refs and how many were dropped.
async fn keep_attachments(
    deps: &MailDesk<'_>,
    message_id: &str,
    attachments: &[EmailAttachment],
    fax: bool,
) -> Result<(Vec<MediaRef>, usize), PortError> {
    let mut kept = Vec::new();
    let mut dropped = 0;
    let city = &deps.catalogue.city().jurisdiction_id;
    let id = message_id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(64)
        .collect::<String>()
        .to_ascii_lowercase();
    for (n, attachment) in attachments.iter().enumerate() {
        if kept.len() == MAX_MEDIA_PER_REQUEST {
            dropped += 1;
            continue;
        }
        let document = fax
            .then(|| infer::get(&attachment.bytes))
            .flatten()
            .filter(|k| ["application/pdf", "image/tiff"].contains(&k.mime_type()))
            .filter(|_| attachment.bytes.len() <= 4 * MAX_MEDIA_BYTES);
        let (content_type, extension, bytes) = match document {
            Some(kind) => (kind.mime_type(), kind.extension(), attachment.bytes.clone()),
            None => match prepare_photo(&attachment.bytes) {
                Ok((kind, photo)) => (kind.mime, kind.extension, photo),
                Err(e) => {
                    tracing::info!(error = %e, "attachment dropped");
                    dropped += 1;
                    continue;
                }
            },
        };
        let key = format!("media/{city}/mail-{id}-{n}.{extension}");
        let size = bytes.len() as u64;
        deps.media.put_media(&key, content_type, bytes).await?;
        kept.push(MediaRef::Stored {
            key,
            content_type: content_type.to_owned(),
            bytes: size,
        });
    }
    Ok((kept, dropped))
}

#[cfg(test)]
mod tests {
    use futures_executor::block_on;

    use super::*;
    use crate::catalogue::CatalogueDocument;
    use crate::channels::email_message::parse_email;
    use crate::memory::{ManualClock, MemoryBlobs, MemoryStore, SequentialIds, TEST_TRACKING_KEY};

    struct World {
        store: MemoryStore,
        media: MemoryBlobs,
        queues: crate::memory::MemoryQueues,
        clock: ManualClock,
        ids: SequentialIds,
        catalogue: Catalogue,
        key: ContactKey,
        own: Vec<String>,
        fax: Vec<String>,
    }

    impl World {
        fn new() -> Self {
            let mut doc = CatalogueDocument::from_sources(
                include_str!("../../../../infra/demo-city/catalogue.toml"),
                include_str!("../../../../infra/demo-city/districts.geojson"),
            )
            .unwrap();
            doc.addresses = crate::places::parse_address_csv(include_str!(
                "../../../../infra/demo-city/addresses.csv"
            ))
            .unwrap();
            Self {
                store: MemoryStore::default(),
                media: MemoryBlobs::default(),
                queues: Default::default(),
                clock: ManualClock::at("2026-12-04T18:00:00Z".parse().unwrap()),
                ids: SequentialIds::default(),
                catalogue: Catalogue::new(doc).unwrap(),
                key: ContactKey::new(TEST_TRACKING_KEY),
                own: vec!["311@krakow.example".into()],
                fax: vec!["fax@fax-gateway.example".into()],
            }
        }

        fn take(&self, id: &str, raw: &[u8]) -> MailOutcome {
            let deps = MailDesk {
                store: &self.store,
                people: &self.store,
                clock: &self.clock,
                ids: &self.ids,
                catalogue: &self.catalogue,
                contact_key: &self.key,
                media: &self.media,
                ledger: &self.store,
                notify: &self.queues,
                own_addresses: &self.own,
                reply_local_part: "requests",
                fax_senders: &self.fax,
            };
            block_on(take_email(&deps, id, parse_email(raw).unwrap())).unwrap()
        }

        fn request(&self, case: &CaseNumber) -> crate::request::ServiceRequest {
            block_on(self.store.find_by_case_number(case))
                .unwrap()
                .unwrap()
        }
    }

    fn created(outcome: &MailOutcome) -> CaseNumber {
        match outcome {
            MailOutcome::Created { case, .. } => case.clone(),
            other => panic!("expected a request, got {other:?}"),
        }
    }

    #[test]
    fn a_message_becomes_a_request_once_and_a_reply_threads_into_it() {
        let w = World::new();
        let first = w.take(
            "ses-1",
            include_bytes!("../../../../events/email/plain-utf8.eml"),
        );
        let case = created(&first);
        assert_eq!(
            w.take(
                "ses-1",
                include_bytes!("../../../../events/email/plain-utf8.eml")
            ),
            MailOutcome::Ignored("taken before"),
            "SES's retry takes nothing twice"
        );
        let request = w.request(&case);
        assert_eq!(request.channel, Channel::Email);
        assert!(
            request
                .description
                .starts_with("Śmieci przed blokiem\n\nDzień dobry")
        );
        assert_eq!(request.location.address.as_deref(), Some("ul. Długa 10"));
        let contact = block_on(crate::ports::ContactStore::contact(&w.store, &request.id))
            .unwrap()
            .unwrap();
        assert_eq!(contact.email.unwrap().as_str(), "anna.nowak@example.pl");

        let reply =
            String::from_utf8_lossy(include_bytes!("../../../../events/email/reply-to-case.eml"))
                .replace("7H3K-9QX2", case.as_str());
        assert_eq!(
            w.take("ses-2", reply.as_bytes()),
            MailOutcome::Threaded { case: case.clone() }
        );
        assert_eq!(
            w.take("ses-2", reply.as_bytes()),
            MailOutcome::Ignored("taken before")
        );
        let history = block_on(w.store.history(&request.id)).unwrap();
        assert!(
            history
                .iter()
                .any(|e| format!("{:?}", e.kind).contains("wpadł w nią rowerzysta")),
            "the reply is the resident's information"
        );
        // The same words from someone else naming the case are their own request.
        let stranger = reply.replace("anna.nowak@example.pl", "someone@example.pl");
        assert!(matches!(
            w.take("ses-3", stranger.as_bytes()),
            MailOutcome::Created { .. }
        ));
    }

    #[test]
    fn a_sender_ses_could_not_verify_writes_into_no_case_and_gets_no_notice() {
        let w = World::new();
        let case = created(&w.take(
            "v-1",
            include_bytes!("../../../../events/email/plain-utf8.eml"),
        ));
        let reply =
            String::from_utf8_lossy(include_bytes!("../../../../events/email/reply-to-case.eml"))
                .replace("7H3K-9QX2", case.as_str());
        let mut forged = parse_email(reply.as_bytes()).unwrap();
        forged.sender_verified = false;
        let deps = MailDesk {
            store: &w.store,
            people: &w.store,
            clock: &w.clock,
            ids: &w.ids,
            catalogue: &w.catalogue,
            contact_key: &w.key,
            media: &w.media,
            ledger: &w.store,
            notify: &w.queues,
            own_addresses: &w.own,
            reply_local_part: "requests",
            fax_senders: &w.fax,
        };
        let MailOutcome::Created { case: other, .. } =
            block_on(take_email(&deps, "v-2", forged)).unwrap()
        else {
            panic!("a request of its own");
        };
        assert_ne!(other, case);
        assert!(
            !w.request(&other).has_contact,
            "no notice to an address that may be forged"
        );
    }

    #[test]
    fn automatic_spam_and_our_own_mail_are_never_taken() {
        let w = World::new();
        assert_eq!(
            w.take(
                "a",
                include_bytes!("../../../../events/email/auto-reply.eml")
            ),
            MailOutcome::Ignored("auto-submitted")
        );
        assert_eq!(
            w.take("b", include_bytes!("../../../../events/email/spam.eml")),
            MailOutcome::Ignored("spam")
        );
        let ours =
            String::from_utf8_lossy(include_bytes!("../../../../events/email/plain-utf8.eml"))
                .replace("anna.nowak@example.pl", "311@krakow.example");
        assert_eq!(
            w.take("c", ours.as_bytes()),
            MailOutcome::Ignored("our own address")
        );
        assert!(
            block_on(
                w.store
                    .created_between(jiff::Timestamp::MIN, jiff::Timestamp::MAX)
            )
            .unwrap()
            .is_empty()
        );
    }

    #[test]
    fn a_fax_keeps_its_document_and_photos_lose_their_position() {
        let w = World::new();
        let fax = created(&w.take(
            "fax",
            include_bytes!("../../../../events/email/fax-pdf.eml"),
        ));
        let request = w.request(&fax);
        assert_eq!(request.channel, Channel::Fax);
        assert!(!request.has_contact, "a gateway is not the resident");
        assert!(
            matches!(&request.media[..], [MediaRef::Stored { content_type, .. }] if content_type == "application/pdf"),
            "{:?}",
            request.media
        );

        let outcome = w.take(
            "photo",
            include_bytes!("../../../../events/email/photo-and-program.eml"),
        );
        let MailOutcome::Created { case, dropped, .. } = outcome else {
            panic!("a request");
        };
        assert_eq!(dropped, 1, "the program is dropped");
        let request = w.request(&case);
        let [
            MediaRef::Stored {
                key, content_type, ..
            },
        ] = &request.media[..]
        else {
            panic!("one photo: {:?}", request.media);
        };
        assert_eq!(content_type, "image/jpeg");
        assert!(!w.media.get(key).unwrap().windows(4).any(|b| b == b"GPS!"));
    }
}
