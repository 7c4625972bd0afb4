//! Keys of the departments' API and of Open311 client applications, stored
//! as SHA-256 hashes (a key itself is shown once and never stored).

use async_trait::async_trait;
use citydesk_core::ids::DepartmentCode;
use citydesk_core::ports::{ClientKeys, DepartmentKeys, PortError};
use jiff::Timestamp;

use super::DynamoStore;
use super::items::s;
use super::keys::{API_KEY_SK, CLIENT_KEY_SK, api_key_pk, client_key_pk};
use crate::sdk_error;

impl DynamoStore {
    /// Stores an Open311 client application's key hash (the key itself is shown once).
    pub async fn put_client_key(
        &self,
        key_hash: &str,
        client: &str,
        at: Timestamp,
    ) -> Result<(), PortError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(client_key_pk(key_hash)))
            .item("sk", s(CLIENT_KEY_SK))
            .item("client", s(client))
            .item("created_at", s(at.to_string()))
            .send()
            .await
            .map_err(|e| sdk_error("put client key", &e.into_service_error()))?;
        Ok(())
    }

    /// Revokes every key of a client application; returns how many were revoked.
    pub async fn revoke_client_keys(
        &self,
        key_hashes: &[String],
        at: Timestamp,
    ) -> Result<usize, PortError> {
        let mut revoked = 0;
        for hash in key_hashes {
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", s(client_key_pk(hash)))
                .key("sk", s(CLIENT_KEY_SK))
                .update_expression("SET revoked_at = :at")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(":at", s(at.to_string()))
                .send()
                .await;
            match result {
                Ok(_) => revoked += 1,
                Err(e) => {
                    let err = e.into_service_error();
                    if !err.is_conditional_check_failed_exception() {
                        return Err(sdk_error("revoke client key", &err));
                    }
                }
            }
        }
        Ok(revoked)
    }

    /// Stores a department API key's hash (used by the catalogue publisher).
    pub async fn put_department_key(
        &self,
        key_hash: &str,
        department: &DepartmentCode,
    ) -> Result<(), PortError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(api_key_pk(key_hash)))
            .item("sk", s(API_KEY_SK))
            .item("department", s(department.as_str()))
            .send()
            .await
            .map_err(|e| sdk_error("put api key", &e.into_service_error()))?;
        Ok(())
    }
}

#[async_trait]
impl ClientKeys for DynamoStore {
    async fn client_for_key_hash(&self, key_hash: &str) -> Result<Option<String>, PortError> {
        let Some(item) = self
            .get_item(client_key_pk(key_hash), CLIENT_KEY_SK)
            .await?
        else {
            return Ok(None);
        };
        let revoked = item.contains_key("revoked_at");
        Ok(item
            .get("client")
            .and_then(|v| v.as_s().ok())
            .filter(|_| !revoked)
            .cloned())
    }
}

#[async_trait]
impl DepartmentKeys for DynamoStore {
    async fn department_for_key_hash(
        &self,
        key_hash: &str,
    ) -> Result<Option<DepartmentCode>, PortError> {
        let Some(item) = self.get_item(api_key_pk(key_hash), API_KEY_SK).await? else {
            return Ok(None);
        };
        Ok(item
            .get("department")
            .and_then(|v| v.as_s().ok())
            .and_then(|v| DepartmentCode::parse(v).ok()))
    }
}
