//! Classification step: a request without a service gets one from its text;
//! when the classifier is unsure the request is triaged for a person.

use tracing::instrument;

use crate::ids::RequestId;
use crate::messages::PipelineMessage;
use crate::ports::{ApplyOutcome, Clock, PipelineQueue, RequestStore};
use crate::request::ServiceRequest;
use crate::rules::classification::Classifiers;
use crate::status::Status;
use crate::usecases::StepError;

pub struct Classify<'a> {
    pub store: &'a dyn RequestStore,
    pub queue: &'a dyn PipelineQueue,
    pub clock: &'a dyn Clock,
    /// One per city the deployment serves; chosen by the request's jurisdiction.
    pub classifiers: &'a Classifiers,
    /// Below this confidence a person decides (status `triaged`).
    pub threshold: f64,
}

/// What the step did, for logs and tests.
#[derive(Debug, Clone, PartialEq)]
pub enum ClassifyOutcome {
    /// Sent on to routing (service known or found with enough confidence).
    SentToRouting,
    /// Left for a person.
    Triaged,
    /// Already past this step: nothing to do (duplicate delivery).
    NothingToDo(Status),
}

pub const ACTOR: &str = "system:classify";

#[instrument(skip(deps), fields(request_id = %request_id))]
pub async fn classify_request(
    deps: &Classify<'_>,
    request_id: &RequestId,
) -> Result<ClassifyOutcome, StepError> {
    let request = load(deps.store, request_id).await?;
    if request.status == Status::Triaged {
        resend_triage_notice(deps, &request).await?;
    }
    if request.status != Status::New {
        return Ok(ClassifyOutcome::NothingToDo(request.status));
    }
    let now = deps.clock.now();
    let mut current = request;
    let confident = if let Some(confidence) = current
        .service_code
        .as_ref()
        .map(|_| current.classification_confidence)
    {
        // The citizen's own choice (no confidence), or this step's earlier
        // choice found by a repeated delivery: sure enough, or still to triage.
        confidence.is_none_or(|c| c >= deps.threshold)
    } else {
        let classifier = deps.classifiers.get(&current.jurisdiction).ok_or_else(|| {
            StepError::Poison(format!(
                "jurisdiction {} is not served here",
                current.jurisdiction
            ))
        })?;
        let top = classifier.top3(&current.description);
        let found = top.first().cloned();
        let confident = found
            .as_ref()
            .is_some_and(|c| c.confidence >= deps.threshold);
        if let Some(c) = found {
            let mut change = current.classify(c.service_code, c.confidence, now, ACTOR);
            change.request.suggestions = top
                .into_iter()
                .map(|c| crate::request::Suggestion {
                    service_code: c.service_code,
                    probability: c.confidence,
                })
                .collect();
            commit(deps.store, &change).await?;
            current = change.request;
        }
        confident
    };
    if confident {
        tracing::info!(confidence = ?current.classification_confidence, "classified");
        return forward(deps, &current).await;
    }
    let change = current
        .move_to(Status::Triaged, None, now, ACTOR)
        .map_err(|e| StepError::Poison(e.to_string()))?;
    commit(deps.store, &change).await?;
    deps.queue
        .send(&PipelineMessage::StatusChanged {
            request_id: current.id.clone(),
            seq: change.event.seq,
        })
        .await?;
    tracing::info!("left for triage");
    Ok(ClassifyOutcome::Triaged)
}

/// A repeated delivery finds the request left for triage by this step: the
/// citizen's notice may not have gone out, so it is offered again (the notify
/// step sends it once).
async fn resend_triage_notice(
    deps: &Classify<'_>,
    request: &ServiceRequest,
) -> Result<(), StepError> {
    let history = deps.store.history(&request.id).await?;
    if let Some(event) = history.last().filter(|e| {
        e.actor == ACTOR
            && matches!(
                e.kind,
                crate::request::EventKind::StatusChanged {
                    to: Status::Triaged,
                    ..
                }
            )
    }) {
        deps.queue
            .send(&PipelineMessage::StatusChanged {
                request_id: request.id.clone(),
                seq: event.seq,
            })
            .await?;
    }
    Ok(())
}

async fn forward(
    deps: &Classify<'_>,
    request: &ServiceRequest,
) -> Result<ClassifyOutcome, StepError> {
    deps.queue
        .send(&PipelineMessage::RequestClassified {
            request_id: request.id.clone(),
        })
        .await?;
    Ok(ClassifyOutcome::SentToRouting)
}

/// Loads a request a queue message names; a missing one can never succeed.
pub(crate) async fn load(
    store: &dyn RequestStore,
    id: &RequestId,
) -> Result<ServiceRequest, StepError> {
    store
        .get(id)
        .await?
        .ok_or_else(|| StepError::Poison(format!("request {id} does not exist")))
}

/// Applies a change; losing a race means another delivery is at work: retry.
pub(crate) async fn commit(
    store: &dyn RequestStore,
    change: &crate::request::Change,
) -> Result<(), StepError> {
    match store.apply(change).await? {
        ApplyOutcome::Applied => Ok(()),
        ApplyOutcome::Conflict => Err(StepError::Retry(format!(
            "request {} changed concurrently (expected version {})",
            change.request.id, change.expected_version
        ))),
    }
}
