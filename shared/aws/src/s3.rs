//! S3 adapters: the published catalogue and create-only archive writes.

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use citydesk_core::catalogue::Catalogue;
use citydesk_core::ids::JurisdictionId;
use citydesk_core::learning::artifact::{Model, ModelFileError};
use citydesk_core::ports::{BlobStore, MediaStore, PortError, StoredObject};

use crate::sdk_error;

/// Where a jurisdiction's catalogue document lives in the bucket.
pub fn catalogue_key(jurisdiction: &JurisdictionId) -> String {
    format!("catalogue/{jurisdiction}.json")
}

#[derive(Debug, Clone)]
pub struct S3Blobs {
    client: Client,
    bucket: String,
}

impl S3Blobs {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, PortError> {
        self.get_object(key, false).await
    }

    /// Like [`Self::get`], but "access denied" also counts as absent: S3 answers
    /// 403, not 404, for a missing key to a role that may not list the bucket.
    pub async fn get_if_present(&self, key: &str) -> Result<Option<Vec<u8>>, PortError> {
        self.get_object(key, true).await
    }

    async fn get_object(
        &self,
        key: &str,
        denied_is_absent: bool,
    ) -> Result<Option<Vec<u8>>, PortError> {
        let Some(body) = self.fetch(key, denied_is_absent).await? else {
            return Ok(None);
        };
        let bytes = body
            .collect()
            .await
            .map_err(|e| PortError::retryable("read object", e.to_string()))?;
        Ok(Some(bytes.into_bytes().to_vec()))
    }

    /// An object's body, `None` when the key does not exist (or, with
    /// `denied_is_absent`, when reading it is denied).
    async fn fetch(
        &self,
        key: &str,
        denied_is_absent: bool,
    ) -> Result<Option<ByteStream>, PortError> {
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(out.body)),
            Err(e) => {
                let status = e.raw_response().map(|r| r.status().as_u16());
                let err = e.into_service_error();
                if err.is_no_such_key() || (denied_is_absent && status == Some(403)) {
                    Ok(None)
                } else {
                    Err(sdk_error("get object", &err))
                }
            }
        }
    }

    /// Writes only when the key does not exist yet (`If-None-Match: *`);
    /// `false` when it did and nothing was written.
    async fn put_if_absent(
        &self,
        key: &str,
        content_type: &str,
        body: ByteStream,
    ) -> Result<bool, PortError> {
        let result = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .if_none_match("*")
            .body(body)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) => {
                let status = e.raw_response().map(|r| r.status().as_u16());
                let err = e.into_service_error();
                if status == Some(412)
                    || aws_sdk_s3::error::ProvideErrorMetadata::code(&err)
                        == Some("PreconditionFailed")
                {
                    Ok(false)
                } else {
                    Err(sdk_error("put new object", &err))
                }
            }
        }
    }

    pub async fn put(&self, key: &str, content_type: &str, body: Vec<u8>) -> Result<(), PortError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| sdk_error("put object", &e.into_service_error()))?;
        Ok(())
    }

    /// Keys under a prefix, in key order (all pages).
    /// Deletes an object; one that is not there is fine.
    pub async fn delete(&self, key: &str) -> Result<(), PortError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| sdk_error("delete object", &e.into_service_error()))?;
        Ok(())
    }

    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, PortError> {
        let mut keys = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error("list objects", &e.into_service_error()))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_owned)),
            );
        }
        keys.sort();
        Ok(keys)
    }

    /// Uploads a local file without reading it into memory; create-only, so
    /// `false` means the key already existed and nothing was written.
    pub async fn put_new_file(
        &self,
        key: &str,
        content_type: &str,
        path: &std::path::Path,
    ) -> Result<bool, PortError> {
        let body = ByteStream::from_path(path)
            .await
            .map_err(|e| PortError::permanent("read upload file", e.to_string()))?;
        self.put_if_absent(key, content_type, body).await
    }

    /// An object's body as a stream of bytes (for reading large objects line
    /// by line); `None` when it does not exist.
    pub async fn open(
        &self,
        key: &str,
    ) -> Result<Option<impl tokio::io::AsyncBufRead + Unpin + Send + use<>>, PortError> {
        Ok(self
            .fetch(key, false)
            .await?
            .map(|body| tokio::io::BufReader::new(body.into_async_read())))
    }

    /// Loads and validates the jurisdiction's catalogue (once per cold start).
    pub async fn load_catalogue(
        &self,
        jurisdiction: &JurisdictionId,
    ) -> Result<Catalogue, PortError> {
        let key = catalogue_key(jurisdiction);
        let bytes = self.get(&key).await?.ok_or_else(|| {
            PortError::permanent(
                "load catalogue",
                format!(
                    "s3://{}/{key} does not exist; publish the catalogue first",
                    self.bucket
                ),
            )
        })?;
        Catalogue::from_json(&bytes)
            .map_err(|e| PortError::permanent("load catalogue", e.to_string()))
    }
}

/// Where a city's current model is named: `{"key": "models/{city}/{version}.model"}`.
pub fn model_pointer_key(jurisdiction: &str) -> String {
    format!("models/{jurisdiction}/current.json")
}

/// Where one version of a city's model lives (never overwritten).
pub fn model_key(jurisdiction: &str, version: &str) -> String {
    format!("models/{jurisdiction}/{version}.model")
}

#[derive(serde::Serialize, serde::Deserialize)]
struct ModelPointer {
    key: String,
    version: String,
}

/// Why a city's model was not loaded.
#[derive(Debug, thiserror::Error)]
pub enum ModelLoadError {
    #[error(transparent)]
    Storage(#[from] PortError),
    #[error("s3://{bucket}/{key}: {source}")]
    Refused {
        bucket: String,
        key: String,
        source: ModelFileError,
    },
    #[error("s3://{bucket}/{key} names a model that does not exist")]
    Dangling { bucket: String, key: String },
}

impl S3Blobs {
    /// The city's current model, `None` when none was trained yet.
    pub async fn load_model(&self, jurisdiction: &str) -> Result<Option<Model>, ModelLoadError> {
        let pointer_key = model_pointer_key(jurisdiction);
        let Some(pointer) = self.get_if_present(&pointer_key).await? else {
            return Ok(None);
        };
        let pointer: ModelPointer =
            serde_json::from_slice(&pointer).map_err(|e| ModelLoadError::Refused {
                bucket: self.bucket.clone(),
                key: pointer_key.clone(),
                source: ModelFileError::Damaged(e.to_string()),
            })?;
        let bytes = self
            .get(&pointer.key)
            .await?
            .ok_or_else(|| ModelLoadError::Dangling {
                bucket: self.bucket.clone(),
                key: pointer.key.clone(),
            })?;
        let model = Model::from_bytes(&bytes).map_err(|source| ModelLoadError::Refused {
            bucket: self.bucket.clone(),
            key: pointer.key.clone(),
            source,
        })?;
        Ok(Some(model))
    }

    /// Stores a new model version (create-only) and makes it the city's current one.
    /// Returns the object's key.
    pub async fn publish_model(&self, model: &Model) -> Result<String, PortError> {
        let key = model_key(&model.jurisdiction, &model.version);
        let bytes = model
            .to_bytes()
            .map_err(|e| PortError::permanent("encode model", e.to_string()))?;
        self.put(&key, "application/octet-stream", bytes).await?;
        let pointer = serde_json::to_vec(&ModelPointer {
            key: key.clone(),
            version: model.version.clone(),
        })
        .map_err(|e| PortError::permanent("encode model pointer", e.to_string()))?;
        self.put(
            &model_pointer_key(&model.jurisdiction),
            "application/json",
            pointer,
        )
        .await?;
        Ok(key)
    }
}

#[async_trait]
impl MediaStore for S3Blobs {
    async fn put_media(
        &self,
        key: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<(), PortError> {
        self.put(key, content_type, body).await
    }

    async fn read_link(&self, key: &str, expires_in_secs: u64) -> Result<String, PortError> {
        let config = presigning(expires_in_secs)?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(|e| PortError::permanent("presign read", e.to_string()))?;
        Ok(request.uri().to_owned())
    }

    async fn upload_link(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in_secs: u64,
    ) -> Result<String, PortError> {
        let config = presigning(expires_in_secs)?;
        let length = i64::try_from(content_length)
            .map_err(|_| PortError::permanent("presign upload", "content length too large"))?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(length)
            .presigned(config)
            .await
            .map_err(|e| PortError::permanent("presign upload", e.to_string()))?;
        Ok(request.uri().to_owned())
    }

    async fn read_upload(&self, key: &str) -> Result<Option<Vec<u8>>, PortError> {
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                let err = e.into_service_error();
                if err.is_no_such_key() {
                    return Ok(None);
                }
                return Err(sdk_error("read upload", &err));
            }
        };
        let body = out
            .body
            .collect()
            .await
            .map_err(|e| PortError::retryable("read upload", e.to_string()))?;
        Ok(Some(body.into_bytes().to_vec()))
    }

    async fn inspect(&self, key: &str) -> Result<Option<StoredObject>, PortError> {
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .range("bytes=0-63")
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                let err = e.into_service_error();
                if err.is_no_such_key() {
                    return Ok(None);
                }
                return Err(sdk_error("inspect object", &err));
            }
        };
        // Content-Range is "bytes 0-63/<size>"; without it the body is the whole object.
        let total = out
            .content_range()
            .and_then(|r| r.rsplit('/').next())
            .and_then(|n| n.parse::<u64>().ok());
        let head = out
            .body
            .collect()
            .await
            .map_err(|e| PortError::retryable("read object", e.to_string()))?
            .into_bytes()
            .to_vec();
        let bytes = total.unwrap_or(head.len() as u64);
        Ok(Some(StoredObject {
            bytes,
            head: head.into_iter().take(64).collect(),
        }))
    }
}

fn presigning(expires_in_secs: u64) -> Result<aws_sdk_s3::presigning::PresigningConfig, PortError> {
    aws_sdk_s3::presigning::PresigningConfig::expires_in(std::time::Duration::from_secs(
        expires_in_secs,
    ))
    .map_err(|e| PortError::permanent("presign", e.to_string()))
}

#[async_trait]
impl BlobStore for S3Blobs {
    async fn put_new(
        &self,
        key: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<bool, PortError> {
        self.put_if_absent(key, content_type, ByteStream::from(body))
            .await
    }
}

/// Where an operator's triage choice is kept for training.
pub fn operator_example_key(jurisdiction: &str, request_id: &str) -> String {
    format!("training/{jurisdiction}/operator/{request_id}.json")
}

/// Operator choices as JSON objects in the bucket, one per request (a later
/// choice for the same request replaces the earlier one).
#[async_trait]
impl citydesk_core::ports::TrainingExamples for S3Blobs {
    async fn record(
        &self,
        example: &citydesk_core::ports::OperatorExample,
    ) -> Result<(), PortError> {
        let body = serde_json::to_vec(example)
            .map_err(|e| PortError::permanent("encode training example", e.to_string()))?;
        self.put(
            &operator_example_key(example.jurisdiction.as_str(), example.request_id.as_str()),
            "application/json",
            body,
        )
        .await
    }
}

#[async_trait::async_trait]
impl citydesk_core::ports::ObjectReader for S3Blobs {
    async fn read(&self, key: &str) -> Result<Option<Vec<u8>>, PortError> {
        self.get(key).await
    }
}
