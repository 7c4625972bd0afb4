//! Who is calling a staff endpoint: a department's machine integration (its
//! API key, `cdk_…`) or a member of staff (an identity provider's token),
//! both sent as `Authorization: Bearer …`.

use std::sync::Arc;

use axum::http::{HeaderMap, header};
use citydesk_core::ids::sha256_hex;
use citydesk_core::ports::DepartmentKeys;
use citydesk_core::usecases::staff_access::Caller;
use citydesk_staff_auth::{StaffTokens, TokenError};

use crate::ApiError;

/// Department API keys all begin so; anything else is read as a token.
const API_KEY_PREFIX: &str = "cdk_";

/// Authenticates callers; create once per cold start and share.
pub struct Authenticator {
    /// `None` when the deployment has no staff sign-in configured.
    staff: Option<Arc<dyn StaffTokens>>,
    /// `None` where machine integrations are not accepted.
    keys: Option<Arc<dyn DepartmentKeys>>,
}

impl Authenticator {
    pub fn new(staff: Option<Arc<dyn StaffTokens>>, keys: Option<Arc<dyn DepartmentKeys>>) -> Self {
        Self { staff, keys }
    }

    /// The caller behind the request's bearer credential: 401 when there is
    /// none or it is not valid (saying why), 503 when the identity provider or
    /// the key store cannot be read.
    pub async fn caller(&self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        let credential = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "send your sign-in token, or your department's API key, as Authorization: Bearer <token>",
                )
            })?;
        if credential.starts_with(API_KEY_PREFIX) {
            let keys = self.keys.as_ref().ok_or_else(|| {
                ApiError::unauthorized(
                    "department API keys are not accepted here: sign in as staff",
                )
            })?;
            let department = keys
                .department_for_key_hash(&sha256_hex(credential.as_bytes()))
                .await
                .map_err(|e| ApiError::dependency(e.retryable, &e))?
                .ok_or_else(|| ApiError::unauthorized("this API key is not valid"))?;
            return Ok(Caller::Integration(department));
        }
        let verifier = self.staff.as_ref().ok_or_else(|| {
            ApiError::unauthorized("staff sign-in is not configured for this deployment")
        })?;
        match verifier.verify(credential).await {
            Ok(identity) => Ok(Caller::Staff(identity)),
            Err(TokenError::KeySetUnavailable(e)) => Err(ApiError::unavailable(&e)),
            Err(e) => Err(ApiError::unauthorized(e.to_string())),
        }
    }
}
