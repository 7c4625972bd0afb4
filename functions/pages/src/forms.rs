//! Reading a posted form, URL-encoded or multipart (with photos), into text
//! fields and files, within limits a Lambda request can carry.

use std::collections::BTreeMap;

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;

/// A request to a function carries at most 6 MB, base64-encoded: about 4.4 MB of form.
pub const MAX_FORM_BYTES: usize = 4_400_000;
const MAX_FIELDS: usize = 200;

/// A file part of a multipart form.
#[derive(Debug, Clone)]
pub struct FilePart {
    pub field: String,
    pub bytes: Vec<u8>,
}

/// A posted form's fields (every value of each name, in order) and files.
#[derive(Debug, Clone, Default)]
pub struct PostedForm {
    fields: BTreeMap<String, Vec<String>>,
    pub files: Vec<FilePart>,
}

#[derive(Debug, thiserror::Error)]
pub enum FormError {
    #[error("the form could not be read: {0}")]
    Unreadable(String),
    #[error("the form is larger than {} MB; send smaller or fewer photos", MAX_FORM_BYTES / 1_000_000)]
    TooLarge,
}

impl PostedForm {
    pub async fn read(request: Request) -> Result<Self, FormError> {
        let multipart = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if multipart {
            Self::read_multipart(request).await
        } else {
            let bytes = axum::body::to_bytes(request.into_body(), MAX_FORM_BYTES)
                .await
                .map_err(|_| FormError::TooLarge)?;
            let mut form = PostedForm::default();
            for (name, value) in form_urlencoded::parse(&bytes).take(MAX_FIELDS) {
                form.push(name.into_owned(), value.into_owned());
            }
            Ok(form)
        }
    }

    async fn read_multipart(request: Request) -> Result<Self, FormError> {
        let mut parts = Multipart::from_request(request, &())
            .await
            .map_err(|e| FormError::Unreadable(e.body_text()))?;
        let mut form = PostedForm::default();
        let mut total = 0_usize;
        let mut count = 0_usize;
        while let Some(field) = parts.next_field().await.map_err(|e| {
            if e.status() == http::StatusCode::PAYLOAD_TOO_LARGE {
                FormError::TooLarge
            } else {
                FormError::Unreadable(e.body_text())
            }
        })? {
            count += 1;
            if count > MAX_FIELDS {
                return Err(FormError::Unreadable("too many fields".into()));
            }
            let name = field.name().unwrap_or_default().to_owned();
            let is_file = field.file_name().is_some();
            let bytes = field
                .bytes()
                .await
                .map_err(|e| FormError::Unreadable(e.body_text()))?;
            total += bytes.len();
            if total > MAX_FORM_BYTES {
                return Err(FormError::TooLarge);
            }
            if is_file {
                // An empty file input sends a part with no name and no bytes.
                if !bytes.is_empty() {
                    form.files.push(FilePart {
                        field: name,
                        bytes: bytes.to_vec(),
                    });
                }
            } else {
                form.push(name, String::from_utf8_lossy(&bytes).into_owned());
            }
        }
        Ok(form)
    }

    fn push(&mut self, name: String, value: String) {
        self.fields.entry(name).or_default().push(value);
    }

    /// A field's first value, trimmed; `None` when missing or blank.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.fields
            .get(name)
            .and_then(|v| v.first())
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// Every non-blank value of a field.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.fields
            .get(name)
            .map(|v| {
                v.iter()
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Fields whose name begins with `prefix`, without it.
    pub fn with_prefix(&self, prefix: &str) -> BTreeMap<String, Vec<String>> {
        self.fields
            .keys()
            .filter_map(|k| {
                let code = k.strip_prefix(prefix)?;
                let values = self.all(k);
                (!values.is_empty()).then(|| (code.to_owned(), values))
            })
            .collect()
    }
}
