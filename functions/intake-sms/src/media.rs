//! MMS and WhatsApp photos: fetched from the provider with the account's
//! credentials, checked by their content, stripped of their location, and
//! stored under server-chosen keys like the web's uploads.

use std::time::Duration;

use citydesk_core::media::{MAX_MEDIA_BYTES, MAX_MEDIA_PER_REQUEST, MediaRef, prepare_photo};
use citydesk_core::ports::PortError;
use secrecy::ExposeSecret;

use crate::Deps;

const FETCH_TIMEOUT: Duration = Duration::from_secs(4);
/// Every photo of a message is fetched within this.
const ALL_FETCHES: Duration = Duration::from_secs(5);

pub(crate) fn http_client() -> Result<reqwest::Client, PortError> {
    reqwest::Client::builder()
        .timeout(FETCH_TIMEOUT)
        .redirect(reqwest::redirect::Policy::limited(3))
        .build()
        .map_err(|e| PortError::permanent("http client", e.to_string()))
}

/// One attachment as the webhook named it.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub url: String,
    pub content_type: String,
}

/// The photos kept, and how many attachments were dropped (not an image,
/// too large, unreadable, over the number a request takes).
pub(crate) async fn fetch_photos(
    deps: &Deps,
    message_id: &str,
    attachments: &[Attachment],
) -> Result<(Vec<MediaRef>, usize), PortError> {
    let mut kept = Vec::new();
    let mut dropped = attachments.len().saturating_sub(MAX_MEDIA_PER_REQUEST);
    // All the photos within one deadline, well inside the function's
    // 10 seconds: what is not fetched by then is dropped (and said so).
    let deadline = tokio::time::Instant::now() + ALL_FETCHES;
    for (n, attachment) in attachments.iter().take(MAX_MEDIA_PER_REQUEST).enumerate() {
        let fetched = match tokio::time::timeout_at(deadline, fetch(deps, attachment)).await {
            Ok(result) => result?,
            Err(_) => {
                tracing::info!("no time left for an attachment");
                None
            }
        };
        match fetched {
            Some(bytes) => match prepare_photo(&bytes) {
                Ok((kind, photo)) => {
                    let key = format!(
                        "media/{}/text-{}-{n}.{}",
                        deps.talk.catalogue.city().jurisdiction_id,
                        message_id.to_ascii_lowercase(),
                        kind.extension
                    );
                    let size = photo.len() as u64;
                    deps.talk.media.put_media(&key, kind.mime, photo).await?;
                    kept.push(MediaRef::Stored {
                        key,
                        content_type: kind.mime.to_owned(),
                        bytes: size,
                    });
                }
                Err(e) => {
                    tracing::info!(error = %e, "attachment dropped");
                    dropped += 1;
                }
            },
            None => dropped += 1,
        }
    }
    Ok((kept, dropped))
}

/// The attachment's bytes; `None` when it is not an image or too large.
async fn fetch(deps: &Deps, attachment: &Attachment) -> Result<Option<Vec<u8>>, PortError> {
    if !attachment.content_type.starts_with("image/") {
        tracing::info!(content_type = %attachment.content_type, "attachment is not an image");
        return Ok(None);
    }
    let unreachable =
        |e: reqwest::Error| PortError::retryable("fetch attachment", e.without_url().to_string());
    let response = deps
        .http
        .get(&attachment.url)
        .basic_auth(
            &deps.account_sid,
            deps.auth_token.as_ref().map(|t| t.expose_secret()),
        )
        .send()
        .await
        .map_err(unreachable)?;
    let status = response.status();
    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        return Err(PortError::retryable(
            "fetch attachment",
            format!("provider answered {status}"),
        ));
    }
    if !status.is_success() {
        tracing::info!(%status, "attachment could not be fetched");
        return Ok(None);
    }
    if response
        .content_length()
        .is_some_and(|n| n > MAX_MEDIA_BYTES as u64)
    {
        return Ok(None);
    }
    let bytes = response.bytes().await.map_err(unreachable)?;
    Ok((bytes.len() <= MAX_MEDIA_BYTES).then(|| bytes.to_vec()))
}
