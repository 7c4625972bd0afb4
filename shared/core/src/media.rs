//! Photos a citizen attaches: the type is checked by content (never by name or
//! declared type), the size is capped, and location metadata is removed when
//! the citizen asks for privacy.

use serde::{Deserialize, Serialize};

/// Largest photo accepted through the API (Lambda's request limit is 6 MB).
pub const MAX_MEDIA_BYTES: usize = 5 * 1024 * 1024;
/// Photos per request.
pub const MAX_MEDIA_PER_REQUEST: usize = 5;

/// A photo kept with a request: an object the server named, or a link a client
/// (such as FixMyStreet) gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum MediaRef {
    Stored {
        key: String,
        content_type: String,
        bytes: u64,
    },
    Link {
        url: String,
    },
}

/// An image type recognised by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageType {
    pub mime: &'static str,
    pub extension: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    #[error("the photo must be at most {MAX_MEDIA_BYTES} bytes")]
    TooLarge,
    #[error("the photo must be a JPEG, PNG, GIF, WebP or HEIC image (checked by its content)")]
    NotAnImage,
    #[error("the photo is empty")]
    Empty,
    #[error("at most {MAX_MEDIA_PER_REQUEST} photos per request")]
    TooMany,
    #[error("media_url must be an http(s) URL of at most 2000 characters")]
    BadLink,
}

/// What the bytes are, whatever the client called them.
pub fn sniff_image(bytes: &[u8]) -> Option<ImageType> {
    let kind = infer::get(bytes)?;
    let (mime, extension) = match kind.mime_type() {
        "image/jpeg" => ("image/jpeg", "jpg"),
        "image/png" => ("image/png", "png"),
        "image/gif" => ("image/gif", "gif"),
        "image/webp" => ("image/webp", "webp"),
        "image/heif" => ("image/heif", "heif"),
        "image/heic" => ("image/heic", "heic"),
        _ => return None,
    };
    Some(ImageType { mime, extension })
}

/// Checks a photo and prepares it for storage: its type, and its bytes with
/// location metadata removed when `strip_location` is set.
pub fn prepare_photo(
    bytes: &[u8],
    strip_location: bool,
) -> Result<(ImageType, Vec<u8>), MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::Empty);
    }
    if bytes.len() > MAX_MEDIA_BYTES {
        return Err(MediaError::TooLarge);
    }
    let kind = sniff_image(bytes).ok_or(MediaError::NotAnImage)?;
    let out = if strip_location {
        strip_metadata(bytes, kind)
    } else {
        bytes.to_vec()
    };
    Ok((kind, out))
}

/// Removes EXIF (which holds the GPS position) from JPEG and PNG images.
/// Other types are kept as they are.
fn strip_metadata(bytes: &[u8], kind: ImageType) -> Vec<u8> {
    use img_parts::{Bytes, ImageEXIF};
    let input = Bytes::copy_from_slice(bytes);
    let stripped = match kind.mime {
        "image/jpeg" => img_parts::jpeg::Jpeg::from_bytes(input).ok().map(|mut j| {
            j.set_exif(None);
            j.encoder().bytes()
        }),
        "image/png" => img_parts::png::Png::from_bytes(input).ok().map(|mut p| {
            p.set_exif(None);
            p.encoder().bytes()
        }),
        _ => None,
    };
    stripped.map_or_else(|| bytes.to_vec(), |b| b.to_vec())
}

/// A client's link to a photo it hosts.
pub fn parse_link(url: &str) -> Result<MediaRef, MediaError> {
    let url = url.trim();
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 2000
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(MediaRef::Link {
            url: url.to_owned(),
        })
    } else {
        Err(MediaError::BadLink)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A tiny JPEG with an EXIF segment carrying a GPS tag marker.
    pub(crate) fn jpeg_with_exif() -> Vec<u8> {
        let mut v = vec![0xFF, 0xD8];
        // APP1 Exif segment: "Exif\0\0" + a TIFF header + the bytes "GPS!" as a marker.
        let payload: Vec<u8> = b"Exif\0\0II*\0\x08\0\0\0GPS!".to_vec();
        let len = (payload.len() + 2) as u16;
        v.extend([0xFF, 0xE1]);
        v.extend(len.to_be_bytes());
        v.extend(payload);
        // A minimal quantisation table segment, then start of scan and end of image.
        v.extend([0xFF, 0xDB, 0x00, 0x04, 0x00, 0x01]);
        v.extend([0xFF, 0xDA, 0x00, 0x02, 0x11, 0x22]);
        v.extend([0xFF, 0xD9]);
        v
    }

    #[test]
    fn type_is_checked_by_content() {
        assert_eq!(
            sniff_image(&jpeg_with_exif()).map(|k| k.mime),
            Some("image/jpeg")
        );
        assert_eq!(
            prepare_photo(b"%PDF-1.7 not an image", false),
            Err(MediaError::NotAnImage)
        );
        assert_eq!(prepare_photo(b"", false), Err(MediaError::Empty));
        let big = vec![0xFF; MAX_MEDIA_BYTES + 1];
        assert_eq!(prepare_photo(&big, false), Err(MediaError::TooLarge));
    }

    #[test]
    fn location_is_removed_only_when_asked() {
        let photo = jpeg_with_exif();
        let contains_gps = |b: &[u8]| b.windows(4).any(|w| w == b"GPS!");
        let (_, kept) = prepare_photo(&photo, false).unwrap();
        assert!(contains_gps(&kept));
        let (_, stripped) = prepare_photo(&photo, true).unwrap();
        assert!(!contains_gps(&stripped), "EXIF removed");
        assert_eq!(
            sniff_image(&stripped).map(|k| k.mime),
            Some("image/jpeg"),
            "still a JPEG"
        );
    }

    #[test]
    fn links_must_be_web_urls() {
        assert!(parse_link("https://fms.example/photo/1.jpeg").is_ok());
        assert_eq!(parse_link("javascript:alert(1)"), Err(MediaError::BadLink));
    }
}
