//! S3 adapters: the published catalogue and create-only archive writes.

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use citydesk_core::catalogue::Catalogue;
use citydesk_core::ids::JurisdictionId;
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
                return Err(sdk_error("get object", &err));
            }
        };
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| PortError::retryable("read object", e.to_string()))?;
        Ok(Some(bytes.into_bytes().to_vec()))
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
        expires_in_secs: u64,
    ) -> Result<String, PortError> {
        let config = presigning(expires_in_secs)?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .presigned(config)
            .await
            .map_err(|e| PortError::permanent("presign upload", e.to_string()))?;
        Ok(request.uri().to_owned())
    }

    async fn adopt_upload(
        &self,
        upload_key: &str,
        media_key: &str,
        content_type: &str,
    ) -> Result<(), PortError> {
        self.client
            .copy_object()
            .bucket(&self.bucket)
            .copy_source(format!("{}/{upload_key}", self.bucket))
            .key(media_key)
            .content_type(content_type)
            .metadata_directive(aws_sdk_s3::types::MetadataDirective::Replace)
            .send()
            .await
            .map_err(|e| sdk_error("adopt upload", &e.into_service_error()))?;
        Ok(())
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
        let result = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .if_none_match("*")
            .body(ByteStream::from(body))
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
}
