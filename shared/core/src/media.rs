//! Photos a citizen attaches: the type is checked by content (never by name or
//! declared type), the size is capped, and location metadata (EXIF, XMP,
//! IPTC) is removed on every path before anything is stored. HEIC/HEIF
//! cannot be stripped here and is refused.

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
    #[error(
        "{0} photos cannot be stripped of their location here; send a JPEG, PNG or WebP (phones can share a photo as JPEG)"
    )]
    CannotRemoveLocation(&'static str),
    #[error("the photo claims to be {0} but cannot be read as one")]
    Unreadable(&'static str),
}

/// Types whose location metadata cannot be removed: refused on every path.
pub const UNSTRIPPABLE_TYPES: [&str; 2] = ["image/heic", "image/heif"];

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

/// Checks a photo sent in a request body and prepares it for storage: its
/// type, and its bytes with location metadata removed.
pub fn prepare_photo(bytes: &[u8]) -> Result<(ImageType, Vec<u8>), MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::Empty);
    }
    if bytes.len() > MAX_MEDIA_BYTES {
        return Err(MediaError::TooLarge);
    }
    let kind = sniff_image(bytes).ok_or(MediaError::NotAnImage)?;
    Ok((kind, without_location(bytes, kind)?))
}

/// The image without the metadata that can hold where it was taken: EXIF
/// and XMP (JPEG APP1, PNG eXIf and text chunks, WebP EXIF and XMP chunks)
/// and IPTC (JPEG APP13). GIF carries none. HEIC/HEIF is refused.
pub fn without_location(bytes: &[u8], kind: ImageType) -> Result<Vec<u8>, MediaError> {
    use img_parts::{Bytes, ImageEXIF};
    let input = Bytes::copy_from_slice(bytes);
    let unreadable = |_| MediaError::Unreadable(kind.mime);
    let stripped = match kind.mime {
        "image/jpeg" => {
            let mut jpeg = img_parts::jpeg::Jpeg::from_bytes(input).map_err(unreadable)?;
            jpeg.remove_segments_by_marker(img_parts::jpeg::markers::APP1);
            jpeg.remove_segments_by_marker(img_parts::jpeg::markers::APP13);
            jpeg.encoder().bytes()
        }
        "image/png" => {
            let mut png = img_parts::png::Png::from_bytes(input).map_err(unreadable)?;
            png.set_exif(None);
            for text in [*b"tEXt", *b"zTXt", *b"iTXt"] {
                png.remove_chunks_by_type(text);
            }
            png.encoder().bytes()
        }
        "image/webp" => {
            let mut webp = img_parts::webp::WebP::from_bytes(input).map_err(unreadable)?;
            webp.set_exif(None);
            webp.remove_chunks_by_id(img_parts::webp::CHUNK_XMP);
            webp.encoder().bytes()
        }
        "image/gif" => input,
        other => return Err(MediaError::CannotRemoveLocation(other)),
    };
    Ok(stripped.to_vec())
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

    /// A JPEG carrying its position twice: in EXIF and in XMP.
    fn jpeg_with_exif_and_xmp() -> Vec<u8> {
        let mut v = jpeg_with_exif();
        let payload: Vec<u8> =
            b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta exif:GPSLatitude=\"50,3.7N\" XMP-GPS!/>"
                .to_vec();
        let len = (payload.len() + 2) as u16;
        let mut xmp = vec![0xFF, 0xE1];
        xmp.extend(len.to_be_bytes());
        xmp.extend(payload);
        v.splice(2..2, xmp);
        v
    }

    fn contains_gps(bytes: &[u8]) -> bool {
        bytes.windows(4).any(|w| w == b"GPS!")
    }

    const EXIF_WITH_GPS: &[u8] = b"Exif\0\0II*\0\x08\0\0\0GPS!";

    #[test]
    fn type_is_checked_by_content() {
        assert_eq!(
            sniff_image(&jpeg_with_exif()).map(|k| k.mime),
            Some("image/jpeg")
        );
        assert_eq!(
            prepare_photo(b"%PDF-1.7 not an image"),
            Err(MediaError::NotAnImage)
        );
        assert_eq!(prepare_photo(b""), Err(MediaError::Empty));
        let big = vec![0xFF; MAX_MEDIA_BYTES + 1];
        assert_eq!(prepare_photo(&big), Err(MediaError::TooLarge));
    }

    #[test]
    fn a_jpeg_loses_exif_and_xmp_and_stays_a_jpeg() {
        let photo = jpeg_with_exif_and_xmp();
        assert!(contains_gps(&photo));
        let (kind, stripped) = prepare_photo(&photo).unwrap();
        assert_eq!(kind.mime, "image/jpeg");
        assert!(!contains_gps(&stripped), "EXIF and XMP removed");
        assert_eq!(sniff_image(&stripped).map(|k| k.mime), Some("image/jpeg"));
        assert!(
            stripped.ends_with(&[0xFF, 0xD9]),
            "the picture itself is kept"
        );
    }

    #[test]
    fn png_and_webp_lose_their_exif() {
        use img_parts::{Bytes, ImageEXIF};
        // The smallest PNG: signature, a 1×1 IHDR, IEND.
        let mut png =
            b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde".to_vec();
        png.extend(b"\0\0\0\0IEND\xaeB`\x82");
        let mut png = img_parts::png::Png::from_bytes(Bytes::from(png)).unwrap();
        png.set_exif(Some(Bytes::from_static(EXIF_WITH_GPS)));
        let png = png.encoder().bytes().to_vec();
        // The smallest lossless WebP header img-parts reads.
        let webp =
            b"RIFF\x1a\0\0\0WEBPVP8L\x0d\0\0\0\x2f\0\0\0\x10\x07\x10\x11\x11\x88\x88\xfe\x07\0"
                .to_vec();
        let mut webp = img_parts::webp::WebP::from_bytes(Bytes::from(webp)).unwrap();
        webp.set_exif(Some(Bytes::from_static(EXIF_WITH_GPS)));
        let webp = webp.encoder().bytes().to_vec();
        for (photo, mime) in [(png, "image/png"), (webp, "image/webp")] {
            assert!(contains_gps(&photo), "{mime} fixture has a position");
            let (kind, stripped) = prepare_photo(&photo).unwrap();
            assert_eq!(kind.mime, mime);
            assert!(!contains_gps(&stripped), "{mime} position removed");
        }
    }

    #[test]
    fn heic_is_refused_rather_than_kept_with_its_position() {
        let mut heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
        heic.extend(EXIF_WITH_GPS);
        assert!(
            matches!(
                prepare_photo(&heic),
                Err(MediaError::CannotRemoveLocation(_))
            ),
            "{:?}",
            prepare_photo(&heic)
        );
    }

    #[test]
    fn links_must_be_web_urls() {
        assert!(parse_link("https://fms.example/photo/1.jpeg").is_ok());
        assert_eq!(parse_link("javascript:alert(1)"), Err(MediaError::BadLink));
    }
}
