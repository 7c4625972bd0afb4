//! The audit trail in an S3 bucket with Object Lock in compliance mode: a
//! record, once written, cannot be changed or deleted by anybody (the
//! account's root included) until its retention passes. The bucket is
//! versioned, so a write over an existing key would keep the old version
//! too; the reader lists every version, so nothing can hide behind a newer one.
//!
//! Records are written create-only (`If-None-Match: *`): a repeated delivery
//! of the same change leaves the first record as it is.

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use citydesk_core::audit::{AUDIT_PREFIX, AuditRecord};
use citydesk_core::ports::{AuditLog, AuditTrail, PortError};
use futures::{StreamExt, TryStreamExt};

use crate::sdk_error;

/// Objects read at once when a day is listed.
const PARALLEL_READS: usize = 16;

#[derive(Debug, Clone)]
pub struct S3AuditTrail {
    client: Client,
    bucket: String,
}

impl S3AuditTrail {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }

    /// Every (key, version) under `prefix`, delete markers left out (none can
    /// be made: the bucket policy denies deletes).
    async fn versions(&self, prefix: &str) -> Result<Vec<(String, Option<String>)>, PortError> {
        let mut found = Vec::new();
        let mut key_marker: Option<String> = None;
        let mut version_marker: Option<String> = None;
        loop {
            let page = self
                .client
                .list_object_versions()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_key_marker(key_marker.take())
                .set_version_id_marker(version_marker.take())
                .send()
                .await
                .map_err(|e| sdk_error("list audit records", &e.into_service_error()))?;
            for version in page.versions() {
                if let Some(key) = version.key() {
                    found.push((key.to_owned(), version.version_id().map(str::to_owned)));
                }
            }
            if page.is_truncated() != Some(true) {
                break;
            }
            key_marker = page.next_key_marker().map(str::to_owned);
            version_marker = page.next_version_id_marker().map(str::to_owned);
            if key_marker.is_none() {
                break;
            }
        }
        Ok(found)
    }

    async fn read(&self, key: String, version: Option<String>) -> Result<AuditRecord, PortError> {
        let object = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&key)
            .set_version_id(version.filter(|v| v != "null"))
            .send()
            .await
            .map_err(|e| sdk_error("read audit record", &e.into_service_error()))?;
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|e| PortError::retryable("read audit record", e.to_string()))?
            .into_bytes();
        serde_json::from_slice(&bytes)
            .map_err(|e| PortError::permanent("read audit record", format!("{key}: {e}")))
    }
}

#[async_trait]
impl AuditTrail for S3AuditTrail {
    async fn append(&self, record: &AuditRecord) -> Result<(), PortError> {
        let body = serde_json::to_vec(record)
            .map_err(|e| PortError::permanent("encode audit record", e.to_string()))?;
        let result = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(record.object_key())
            .content_type("application/json")
            .if_none_match("*")
            .body(ByteStream::from(body))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => {
                let status = e.raw_response().map(|r| r.status().as_u16());
                let err = e.into_service_error();
                let exists = status == Some(412)
                    || aws_sdk_s3::error::ProvideErrorMetadata::code(&err)
                        == Some("PreconditionFailed");
                if exists {
                    Ok(())
                } else {
                    Err(sdk_error("append audit record", &err))
                }
            }
        }
    }
}

#[async_trait]
impl AuditLog for S3AuditTrail {
    async fn day(&self, day: jiff::civil::Date) -> Result<Vec<AuditRecord>, PortError> {
        let versions = self.versions(&format!("{AUDIT_PREFIX}{day}/")).await?;
        let mut records: Vec<AuditRecord> = futures::stream::iter(versions)
            .map(|(key, version)| self.read(key, version))
            .buffered(PARALLEL_READS)
            .try_collect()
            .await?;
        records.sort_by(|a, b| {
            a.at.cmp(&b.at)
                .then_with(|| a.object_key().cmp(&b.object_key()))
        });
        // Two versions of one key with the same content are one record.
        records.dedup();
        Ok(records)
    }
}
