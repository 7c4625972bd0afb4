//! The reporters of duplicates hear how the request they follow ends. A
//! request's followers are fanned out a page at a time: each page becomes one
//! notice message per follower and, when more follow, a message for the next
//! page, so no invocation loops over a thousand followers.

use tracing::instrument;

use crate::ids::RequestId;
use crate::messages::PipelineMessage;
use crate::notifications::follower_message;
use crate::paging::{Listing, PageKey, PageRequest};
use crate::status::Status;
use crate::usecases::StepError;
use crate::usecases::classify_request::load;
use crate::usecases::notify_citizen::{Notify, NotifyOutcome, send_once, tracking_link};

/// Followers one fan-out message covers.
pub const FOLLOWERS_PER_MESSAGE: usize = 25;

/// Sends a notice for each follower on one page of `original`'s followers,
/// and the message for the page after it; returns how many notices it sent.
#[instrument(skip(deps, after), fields(original = %original, seq))]
pub async fn tell_followers(
    deps: &Notify<'_>,
    original: &RequestId,
    seq: u64,
    after: Option<&str>,
) -> Result<usize, StepError> {
    let after = after
        .map(PageKey::from_cursor)
        .transpose()
        .map_err(|e| StepError::Poison(e.to_string()))?;
    let listing = Listing::Followers {
        original: original.clone(),
    };
    let page = deps
        .queries
        .page(
            &listing,
            &PageRequest {
                limit: FOLLOWERS_PER_MESSAGE,
                after,
            },
        )
        .await?;
    for follower in &page.items {
        deps.queue
            .send(&PipelineMessage::FollowerNotice {
                request_id: follower.id.clone(),
                original_id: original.clone(),
                seq,
            })
            .await?;
    }
    if let Some(next) = page.next {
        deps.queue
            .send(&PipelineMessage::TellFollowers {
                request_id: original.clone(),
                seq,
                after: Some(next.cursor()),
            })
            .await?;
    }
    Ok(page.items.len())
}

/// Tells one follower about event `seq` of the request it follows, once.
#[instrument(skip(deps), fields(follower = %follower_id, original = %original_id, seq))]
pub async fn notify_follower(
    deps: &Notify<'_>,
    follower_id: &RequestId,
    original_id: &RequestId,
    seq: u64,
) -> Result<NotifyOutcome, StepError> {
    let follower = load(deps.store, follower_id).await?;
    let still_follows = follower.status == Status::Duplicate
        && follower
            .duplicate_of
            .as_ref()
            .is_some_and(|l| &l.request_id == original_id);
    if !follower.has_contact || !still_follows {
        return Ok(NotifyOutcome::NothingToSend);
    }
    let original = load(deps.store, original_id).await?;
    let history = deps.store.history(original_id).await?;
    let event = history
        .iter()
        .find(|e| e.seq == seq)
        .ok_or_else(|| StepError::Retry(format!("history event {seq} not visible yet")))?;
    let catalogue = deps.catalogues.get(&follower.jurisdiction).ok_or_else(|| {
        StepError::Poison(format!(
            "jurisdiction {} is not served here",
            follower.jurisdiction
        ))
    })?;
    let link = tracking_link(deps.public_base_url, &follower, deps.tracking_key);
    let Some(message) = follower_message(catalogue, &follower, &original, event, &link) else {
        return Ok(NotifyOutcome::NothingToSend);
    };
    let key = format!("notify#{follower_id}#follows#{original_id}#{seq}");
    send_once(deps, &key, &follower, &message).await
}
