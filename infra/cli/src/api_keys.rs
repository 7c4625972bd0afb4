//! Open311 client application keys: created for a named client, shown once,
//! stored only as a SHA-256 hash, revoked by the key.

use citydesk_aws::city_publisher::new_api_key;
use citydesk_aws::dynamo::DynamoStore;
use citydesk_core::ids::sha256_hex;
use citydesk_core::ports::PortError;
use jiff::Timestamp;

/// Creates a key for `client` and returns it; it cannot be shown again.
pub async fn create(store: &DynamoStore, client: &str) -> Result<String, PortError> {
    let name = client.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(PortError::permanent(
            "create api key",
            "the client name must be 1-100 characters",
        ));
    }
    let key = new_api_key();
    store
        .put_client_key(&sha256_hex(key.as_bytes()), name, Timestamp::now())
        .await?;
    Ok(key)
}

/// Revokes a key (given as the key or as its SHA-256 hex); false when unknown.
pub async fn revoke(store: &DynamoStore, key_or_hash: &str) -> Result<bool, PortError> {
    let raw = key_or_hash.trim();
    let is_hash = raw.len() == 64 && raw.chars().all(|c| c.is_ascii_hexdigit());
    let hash = if is_hash {
        raw.to_ascii_lowercase()
    } else {
        sha256_hex(raw.as_bytes())
    };
    Ok(store.revoke_client_keys(&[hash], Timestamp::now()).await? == 1)
}
