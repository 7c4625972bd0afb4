//! `multipart/form-data` POST bodies (Open311 v2.1 draft media upload): text
//! fields become parameters, the `media` file part is the photo.

use bytes::Bytes;
use citydesk_core::media::MAX_MEDIA_BYTES;

use crate::format::Open311Error;

/// Text fields as name/value pairs, and the `media` file, if any.
pub async fn read(
    content_type: &str,
    body: Bytes,
) -> Result<(Vec<(String, String)>, Option<Bytes>), Open311Error> {
    let boundary = multer::parse_boundary(content_type).map_err(|_| {
        Open311Error::bad_request("multipart/form-data needs a boundary in its Content-Type")
    })?;
    let stream = futures::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let constraints = multer::Constraints::new().size_limit(
        multer::SizeLimit::new()
            .for_field("media", MAX_MEDIA_BYTES as u64)
            .per_field(64 * 1024),
    );
    let mut multipart = multer::Multipart::with_constraints(stream, boundary, constraints);
    let mut pairs = Vec::new();
    let mut media = None;
    let malformed = |e: multer::Error| match e {
        multer::Error::FieldSizeExceeded { field_name, .. }
            if field_name.as_deref() == Some("media") =>
        {
            Open311Error::bad_request(format!(
                "media: the photo must be at most {MAX_MEDIA_BYTES} bytes"
            ))
        }
        other => Open311Error::bad_request(format!("the multipart body is malformed: {other}")),
    };
    while let Some(field) = multipart.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "media" {
            if media.is_some() {
                return Err(Open311Error::bad_request(
                    "media: send one photo per request",
                ));
            }
            media = Some(field.bytes().await.map_err(malformed)?);
        } else {
            let text = field.text().await.map_err(malformed)?;
            pairs.push((name, text));
        }
    }
    Ok((pairs, media))
}
