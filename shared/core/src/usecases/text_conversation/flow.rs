//! The conversation's steps: a report and its place, "does this add to your
//! case?", a status, an answer from the knowledge base.

use jiff::tz::TimeZone;

use super::{InboundText, TextAnswer, TextDesk, TextError, TextOutcome, said};
use crate::channels::replies;
use crate::channels::texter::{CONVERSATION_TTL, Conversation, PendingStep, RECENT_REQUEST};
use crate::contact::Contact;
use crate::ids::CaseNumber;
use crate::knowledge::Reader;
use crate::language::Language;
use crate::location::Location;
use crate::media::MediaRef;
use crate::ports::{IdempotencyClaim, PortError};
use crate::request::ServiceRequest;
use crate::usecases::citizen_follow_up::{CitizenUpdate, FollowUp, follow_up_by_client};
use crate::usecases::knowledge_base::search_articles;
use crate::usecases::submit_request::{Intake, RequestSubmission, SubmitError, submit_request};

/// How many times an address is asked for before the report is taken with
/// the words the resident gave (an operator places it).
const LOCATION_ATTEMPTS: u8 = 2;

pub(super) struct Talk<'t, 'd> {
    pub deps: &'t TextDesk<'d>,
    pub key: &'t str,
    pub language: Language,
    pub city: &'t str,
    /// The number said STOP: take the report as it is, ask nothing.
    pub quiet: bool,
}

/// The resident's answer to "does this add to your case?".
enum Choice {
    Add,
    New,
}

fn choice(text: &str) -> Option<Choice> {
    let word = text.trim().trim_end_matches(['.', '!']).to_lowercase();
    match word.as_str() {
        "1" | "tak" | "yes" | "dodaj" | "add" => Some(Choice::Add),
        "2" | "nie" | "no" | "nowe" | "nowy" | "new" => Some(Choice::New),
        _ => None,
    }
}

impl Talk<'_, '_> {
    pub async fn status(&self, case: &CaseNumber) -> Result<TextAnswer, TextError> {
        let Some(request) = self.deps.store.find_by_case_number(case).await? else {
            return Ok(said(
                TextOutcome::UnknownCase,
                replies::no_such_case(self.city, case.as_str(), self.language),
            ));
        };
        let catalogue = self.deps.catalogue;
        let department = request
            .department
            .as_ref()
            .and_then(|d| catalogue.department(d))
            .map(|d| d.name.get(self.language).to_owned());
        let tz = TimeZone::get(&catalogue.city().timezone).unwrap_or(TimeZone::UTC);
        let due = request
            .due_at
            .map(|d| d.to_zoned(tz).strftime("%Y-%m-%d").to_string());
        Ok(said(
            TextOutcome::Status(case.clone()),
            replies::status_of(
                self.city,
                case.as_str(),
                request.status,
                department.as_deref(),
                due.as_deref(),
                self.language,
            ),
        ))
    }

    pub fn info(&self, words: &str) -> Result<TextAnswer, TextError> {
        let found = search_articles(
            self.deps.knowledge,
            self.deps.knowledge_index,
            Reader::Public,
            words,
            self.language,
            Some(1),
        );
        Ok(match found {
            Ok(articles) => match articles.first() {
                Some(a) => said(
                    TextOutcome::Answered,
                    replies::answer(
                        self.city,
                        &a.title,
                        &a.summary,
                        &format!(
                            "{}/answers/{}?lang={}",
                            self.deps.public_base_url.trim_end_matches('/'),
                            a.id,
                            self.language.as_str()
                        ),
                        self.language,
                    ),
                ),
                None => said(
                    TextOutcome::NoAnswer,
                    replies::no_answer(self.city, self.language),
                ),
            },
            Err(crate::usecases::knowledge_base::KnowledgeQueryError::Port(e)) => {
                return Err(e.into());
            }
            Err(_) => said(
                TextOutcome::NoAnswer,
                replies::no_answer(self.city, self.language),
            ),
        })
    }

    /// Free text (or a shared location, or photos alone): continues the
    /// conversation under way, or starts one.
    pub async fn text(&self, inbound: &InboundText, text: String) -> Result<TextAnswer, TextError> {
        let now = self.deps.clock.now();
        let pending = self.deps.texters.conversation(self.key, now).await?;
        match pending {
            Some(conversation) => self.go_on(inbound, text, conversation).await,
            // A place or a photo with no report under way: what is the problem?
            None if text.is_empty() => Ok(said(
                TextOutcome::Help,
                replies::help(self.city, self.language),
            )),
            None => {
                if !self.quiet
                    && !text.is_empty()
                    && let Some(recent) = self.recent_open_case().await?
                {
                    let case = recent.case_number.clone();
                    self.ask(
                        &inbound.message_id,
                        PendingStep::AddOrNew {
                            text,
                            media: inbound.media.clone(),
                            case: case.clone(),
                        },
                        None,
                    )
                    .await?;
                    return Ok(said(
                        TextOutcome::AskedAddOrNew(case.clone()),
                        replies::ask_add_or_new(self.city, case.as_str(), self.language),
                    ));
                }
                self.report(inbound, &inbound.message_id, text, inbound.media.clone())
                    .await
            }
        }
    }

    async fn go_on(
        &self,
        inbound: &InboundText,
        text: String,
        conversation: Conversation,
    ) -> Result<TextAnswer, TextError> {
        match conversation.step.clone() {
            PendingStep::Location {
                description,
                mut media,
                asked,
            } => {
                media.extend(inbound.media.iter().cloned());
                self.place(inbound, &conversation, description, media, asked, &text)
                    .await
            }
            PendingStep::AddOrNew {
                text: draft,
                mut media,
                case,
            } => match choice(&text) {
                Some(Choice::Add) => {
                    let deps = FollowUp {
                        store: self.deps.store,
                        clock: self.deps.clock,
                    };
                    let update = CitizenUpdate {
                        note: Some(draft.clone()),
                        fixed: None,
                    };
                    match follow_up_by_client(&deps, &case, update).await {
                        Ok(_) => {}
                        Err(crate::usecases::citizen_follow_up::FollowUpError::Port(e)) => {
                            return Err(e.into());
                        }
                        Err(e) => {
                            // A case closed meanwhile takes no note: the text becomes a new report.
                            tracing::info!(error = %e, "the note could not be added; taking a new report");
                            self.deps.texters.end_conversation(self.key).await?;
                            return self
                                .report(inbound, &conversation.started_by, draft, media)
                                .await;
                        }
                    }
                    self.deps.texters.end_conversation(self.key).await?;
                    Ok(said(
                        TextOutcome::AddedTo(case.clone()),
                        replies::added_to(self.city, case.as_str(), self.language),
                    ))
                }
                Some(Choice::New) => {
                    self.deps.texters.end_conversation(self.key).await?;
                    media.extend(inbound.media.iter().cloned());
                    self.report(inbound, &conversation.started_by, draft, media)
                        .await
                }
                None => {
                    // Something else: the question stands; a new message is a new report.
                    self.deps.texters.end_conversation(self.key).await?;
                    self.report(inbound, &inbound.message_id, text, inbound.media.clone())
                        .await
                }
            },
        }
    }

    /// The answer to "where is it?".
    async fn place(
        &self,
        inbound: &InboundText,
        conversation: &Conversation,
        description: String,
        media: Vec<MediaRef>,
        asked: u8,
        answer: &str,
    ) -> Result<TextAnswer, TextError> {
        let book = self.deps.catalogue.addresses();
        let location = match inbound.point {
            Some(point) => Some(Location {
                point: Some(point),
                ..Location::default()
            }),
            None if answer.is_empty() => None,
            None if book.is_empty() => Some(Location {
                address: Some(answer.to_owned()),
                ..Location::default()
            }),
            None => book
                .geocode(answer)
                .or_else(|| book.find_in(answer))
                .map(|a| Location {
                    point: Some(a.point()),
                    address: Some(a.label()),
                    district: None,
                }),
        };
        let location = match location {
            Some(l) => Some(l),
            // Asked enough: the words go with the report, for an operator to place.
            None if asked >= LOCATION_ATTEMPTS && !answer.is_empty() => Some(Location {
                address: Some(answer.to_owned()),
                ..Location::default()
            }),
            None => None,
        };
        match location {
            Some(location) => {
                let description = if description.is_empty() {
                    answer.to_owned()
                } else {
                    description
                };
                let answer = self
                    .submit(
                        inbound,
                        &conversation.started_by,
                        description.clone(),
                        location,
                        media.clone(),
                    )
                    .await?;
                match answer {
                    Some(answer) => {
                        self.deps.texters.end_conversation(self.key).await?;
                        Ok(answer)
                    }
                    None => {
                        self.ask(
                            &conversation.started_by,
                            PendingStep::Location {
                                description,
                                media,
                                asked: asked + 1,
                            },
                            Some(conversation),
                        )
                        .await?;
                        Ok(said(
                            TextOutcome::AskedLocation,
                            replies::outside_city(self.city, self.language),
                        ))
                    }
                }
            }
            None => {
                let hints: Vec<String> = book
                    .suggest(answer, 3)
                    .into_iter()
                    .map(crate::places::Address::label)
                    .collect();
                self.ask(
                    &conversation.started_by,
                    PendingStep::Location {
                        description,
                        media,
                        asked: asked + 1,
                    },
                    Some(conversation),
                )
                .await?;
                Ok(said(
                    TextOutcome::AskedLocation,
                    replies::ask_location(self.city, self.language, true, &hints),
                ))
            }
        }
    }

    /// A new report: taken when its place is known (a shared location, an
    /// address in the text), else the place is asked for.
    async fn report(
        &self,
        inbound: &InboundText,
        started_by: &str,
        description: String,
        media: Vec<MediaRef>,
    ) -> Result<TextAnswer, TextError> {
        let book = self.deps.catalogue.addresses();
        let location = match inbound.point {
            Some(point) => Some(Location {
                point: Some(point),
                ..Location::default()
            }),
            None => book.find_in(&description).map(|a| Location {
                point: Some(a.point()),
                address: Some(a.label()),
                district: None,
            }),
        };
        let location = match location {
            Some(l) => Some(l),
            // Nobody to ask: taken as it is, for an operator to place.
            None if self.quiet && !description.is_empty() => Some(Location::default()),
            None => None,
        };
        if let Some(location) = location
            && !description.is_empty()
            && let Some(answer) = self
                .submit(
                    inbound,
                    started_by,
                    description.clone(),
                    location,
                    media.clone(),
                )
                .await?
        {
            return Ok(answer);
        }
        self.ask(
            started_by,
            PendingStep::Location {
                description,
                media,
                asked: 0,
            },
            None,
        )
        .await?;
        Ok(said(
            TextOutcome::AskedLocation,
            replies::ask_location(self.city, self.language, false, &[]),
        ))
    }

    /// Takes the report; `None` when its place is outside the city.
    async fn submit(
        &self,
        inbound: &InboundText,
        started_by: &str,
        description: String,
        location: Location,
        media: Vec<MediaRef>,
    ) -> Result<Option<TextAnswer>, TextError> {
        let intake = Intake {
            store: self.deps.store,
            clock: self.deps.clock,
            ids: self.deps.ids,
            catalogue: self.deps.catalogue,
        };
        let submission = RequestSubmission {
            channel: inbound.channel,
            service_code: None,
            idempotency: Some(IdempotencyClaim {
                key: format!("{}:{started_by}", inbound.channel.as_str()),
                payload_hash: crate::ids::sha256_hex(description.as_bytes()),
            }),
            description,
            location,
            contact: Some(Contact {
                name: None,
                phone: Some(inbound.from.clone()),
                email: None,
            }),
            language: self.language,
            answers: Default::default(),
            media: media
                .into_iter()
                .take(crate::media::MAX_MEDIA_PER_REQUEST)
                .collect(),
            privacy_requested: false,
            open311_client: None,
            registered_by: None,
            follows: None,
        };
        match submit_request(&intake, submission).await {
            Ok(submitted) => {
                let case = submitted.request.case_number.clone();
                let link = format!(
                    "{}/track/{}?token={}",
                    self.deps.public_base_url.trim_end_matches('/'),
                    case,
                    submitted.tracking_token.expose()
                );
                Ok(Some(said(
                    TextOutcome::Created(case.clone()),
                    replies::received(self.city, case.as_str(), &link, self.language),
                )))
            }
            Err(SubmitError::OutsideCity { .. }) => Ok(None),
            Err(SubmitError::Port(e)) => Err(e.into()),
            Err(e) => Err(TextError::Submit(e)),
        }
    }

    /// Saves the question asked (a new conversation, or the next step of `current`).
    async fn ask(
        &self,
        started_by: &str,
        step: PendingStep,
        current: Option<&Conversation>,
    ) -> Result<(), TextError> {
        let now = self.deps.clock.now();
        let conversation = Conversation {
            key: self.key.to_owned(),
            step,
            language: self.language,
            started_by: started_by.to_owned(),
            expires_at: now.saturating_add(CONVERSATION_TTL).unwrap_or(now),
            version: current.map_or(0, |c| c.version),
        };
        if self.deps.texters.save_conversation(&conversation).await? {
            Ok(())
        } else {
            Err(PortError::retryable(
                "save conversation",
                "another message of this number changed the conversation meanwhile",
            )
            .into())
        }
    }

    /// The number's request opened in the last hours and still open, if any.
    async fn recent_open_case(&self) -> Result<Option<ServiceRequest>, PortError> {
        let now = self.deps.clock.now();
        let since = now.checked_sub(RECENT_REQUEST).unwrap_or(now);
        let mut newest: Option<ServiceRequest> = None;
        for id in self.deps.people.requests_of(self.key).await? {
            let Some(request) = self.deps.store.get(&id).await? else {
                continue;
            };
            if request.created_at >= since
                && !request.status.is_closed()
                && newest
                    .as_ref()
                    .is_none_or(|n| n.created_at < request.created_at)
            {
                newest = Some(request);
            }
        }
        Ok(newest)
    }
}
