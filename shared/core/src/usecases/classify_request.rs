//! Classification step: a request without a service gets one from its text;
//! when the classifier is unsure the request is triaged for a person. The
//! committed `classified` event takes it on to routing through the outbox.

use tracing::instrument;

use crate::ids::RequestId;
use crate::ports::{ApplyOutcome, Clock, RequestStore};
use crate::request::ServiceRequest;
use crate::rules::classification::Classifiers;
use crate::status::Status;
use crate::usecases::StepError;

pub struct Classify<'a> {
    pub store: &'a dyn RequestStore,
    pub clock: &'a dyn Clock,
    /// One per city the deployment serves; chosen by the request's jurisdiction.
    pub classifiers: &'a Classifiers,
    /// Below this confidence a person decides (status `triaged`).
    pub threshold: f64,
}

/// What the step did, for logs and tests.
#[derive(Debug, Clone, PartialEq)]
pub enum ClassifyOutcome {
    /// A service found with enough confidence (its committed event routes it).
    Classified,
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
    super::again_on_conflict(|| classify_once(deps, request_id)).await
}

async fn classify_once(
    deps: &Classify<'_>,
    request_id: &RequestId,
) -> Result<ClassifyOutcome, StepError> {
    let request = load(deps.store, request_id).await?;
    // Past this step, or a service already chosen (by the citizen, or by this
    // step on an earlier delivery): the outbox has carried it on.
    if request.status != Status::New || request.service_code.is_some() {
        return Ok(ClassifyOutcome::NothingToDo(request.status));
    }
    let classifier = deps.classifiers.get(&request.jurisdiction).ok_or_else(|| {
        StepError::Poison(format!(
            "jurisdiction {} is not served here",
            request.jurisdiction
        ))
    })?;
    let top = classifier.top3(&request.description);
    let suggestions: Vec<_> = top
        .iter()
        .map(|c| crate::request::Suggestion {
            service_code: c.service_code.clone(),
            probability: c.confidence,
        })
        .collect();
    let now = deps.clock.now();
    match top.into_iter().next() {
        Some(best) if best.confidence >= deps.threshold => {
            let mut change = request.classify(best.service_code, best.confidence, now, ACTOR);
            change.request.suggestions = suggestions;
            commit(deps.store, &change).await?;
            tracing::info!(confidence = best.confidence, "classified");
            Ok(ClassifyOutcome::Classified)
        }
        best => {
            // Unsure: one change leaves it for a person, with the classifier's
            // guesses kept as suggestions (no `classified` event, so nothing routes it).
            let mut change = request
                .move_to(Status::Triaged, None, now, ACTOR)
                .map_err(|e| StepError::Poison(e.to_string()))?;
            change.request.classification_confidence = best.map(|b| b.confidence);
            change.request.suggestions = suggestions;
            commit(deps.store, &change).await?;
            tracing::info!("left for triage");
            Ok(ClassifyOutcome::Triaged)
        }
    }
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
        ApplyOutcome::Conflict => Err(StepError::Conflict(format!(
            "request {} changed concurrently (expected version {})",
            change.request.id, change.expected_version
        ))),
    }
}
