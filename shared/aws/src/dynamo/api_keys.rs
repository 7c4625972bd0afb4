//! Keys of the departments' API and of Open311 client applications, stored
//! as SHA-256 hashes (a key itself is shown once and never stored).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use citydesk_core::ids::DepartmentCode;
use citydesk_core::ports::{ClientKeys, DepartmentKeys, PortError};
use jiff::Timestamp;

use super::DynamoStore;
use super::items::s;
use super::keys::{API_KEY_SK, CLIENT_KEY_SK, api_key_pk, client_key_pk, department_keys_pk};
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

    /// Stores a new department key's hash (the key itself is shown once),
    /// with its entry in the department's list of keys, in one transaction.
    pub async fn put_department_key(
        &self,
        key_hash: &str,
        department: &DepartmentCode,
        at: Timestamp,
    ) -> Result<DepartmentKey, PortError> {
        let key = DepartmentKey {
            key_id: key_id_of(key_hash),
            department: department.clone(),
            created_at: at,
            revoked_at: None,
        };
        let lookup = Put::builder()
            .table_name(&self.table)
            .item("pk", s(api_key_pk(key_hash)))
            .item("sk", s(API_KEY_SK))
            .item("department", s(department.as_str()))
            .item("key_id", s(&key.key_id))
            .item("created_at", s(at.to_string()))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| PortError::permanent("put department key", e.to_string()))?;
        let listed = Put::builder()
            .table_name(&self.table)
            .item("pk", s(department_keys_pk(department)))
            .item("sk", s(format!("KEY#{}", key.key_id)))
            .item("key_hash", s(key_hash))
            .item("created_at", s(at.to_string()))
            .build()
            .map_err(|e| PortError::permanent("put department key", e.to_string()))?;
        self.client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(lookup).build())
            .transact_items(TransactWriteItem::builder().put(listed).build())
            .send()
            .await
            .map_err(|e| sdk_error("put department key", &e.into_service_error()))?;
        Ok(key)
    }

    /// A department's keys, oldest first, revoked ones included.
    pub async fn department_keys(
        &self,
        department: &DepartmentCode,
    ) -> Result<Vec<DepartmentKey>, PortError> {
        let items = self
            .partition(department_keys_pk(department), "list department keys")
            .await?;
        let mut keys = Vec::new();
        for item in &items {
            let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok());
            let time = |name: &str| text(name).and_then(|t| t.parse::<Timestamp>().ok());
            let Some(key_id) = text("sk").and_then(|sk| sk.strip_prefix("KEY#")) else {
                continue;
            };
            keys.push(DepartmentKey {
                key_id: key_id.to_owned(),
                department: department.clone(),
                created_at: time("created_at").unwrap_or_default(),
                revoked_at: time("revoked_at"),
            });
        }
        keys.sort_by_key(|k| k.created_at);
        Ok(keys)
    }

    /// Revokes one key of `department`, named by its id (the first 12
    /// characters of its hash, as `department_keys` lists it); false when the
    /// department has no such key. Revoking twice is harmless.
    pub async fn revoke_department_key(
        &self,
        department: &DepartmentCode,
        key_id: &str,
        at: Timestamp,
    ) -> Result<bool, PortError> {
        let Some(listed) = self
            .get_item(department_keys_pk(department), &format!("KEY#{key_id}"))
            .await?
        else {
            return Ok(false);
        };
        let Some(hash) = listed.get("key_hash").and_then(|v| v.as_s().ok()) else {
            return Ok(false);
        };
        let revoke = |pk: String, sk: String| {
            Update::builder()
                .table_name(&self.table)
                .key("pk", s(pk))
                .key("sk", s(sk))
                .update_expression("SET revoked_at = if_not_exists(revoked_at, :at)")
                .expression_attribute_values(":at", s(at.to_string()))
                .build()
                .map_err(|e| PortError::permanent("revoke department key", e.to_string()))
        };
        self.client
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .update(revoke(api_key_pk(hash), API_KEY_SK.to_owned())?)
                    .build(),
            )
            .transact_items(
                TransactWriteItem::builder()
                    .update(revoke(
                        department_keys_pk(department),
                        format!("KEY#{key_id}"),
                    )?)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| sdk_error("revoke department key", &e.into_service_error()))?;
        Ok(true)
    }
}

/// One key of a department's API, as `department-key list` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct DepartmentKey {
    /// The first 12 characters of the key's SHA-256: enough to name it,
    /// useless to guess it from.
    pub key_id: String,
    pub department: DepartmentCode,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

impl DepartmentKey {
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }
}

/// How a key is named in lists and on the command line.
pub fn key_id_of(key_hash: &str) -> String {
    key_hash.chars().take(12).collect()
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
        // A revoked key answers 401 from the next request on: nothing caches it.
        if item.contains_key("revoked_at") {
            return Ok(None);
        }
        Ok(item
            .get("department")
            .and_then(|v| v.as_s().ok())
            .and_then(|v| DepartmentCode::parse(v).ok()))
    }
}
