//! For other crates' tests only (feature `testing`): a verifier over the
//! test key set and tokens signed with its key, so a router can be tested
//! with real signed staff tokens and no identity provider. The keys are the
//! ones in `tests/fixtures/` (never used anywhere else).

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};

use crate::{KeySetError, KeySetSource, TokenVerifier, VerifierConfig};

/// The issuer and audience the test tokens carry.
pub const TEST_ISSUER: &str = "https://idp.example.test/realms/krakow";
pub const TEST_AUDIENCE: &str = "citydesk-staff";

const JWKS: &str = include_str!("../tests/fixtures/jwks.json");
const EC_SIGNER: &str = include_str!("../tests/fixtures/ec-signer.pem");

/// The test key set, served from memory.
pub struct FixedKeySet(JwkSet);

#[async_trait::async_trait]
impl KeySetSource for FixedKeySet {
    async fn fetch(&self) -> Result<JwkSet, KeySetError> {
        Ok(self.0.clone())
    }
}

/// A verifier that accepts the test tokens.
pub fn test_verifier() -> Result<TokenVerifier<FixedKeySet>, KeySetError> {
    let set: JwkSet =
        serde_json::from_str(JWKS).map_err(|e| KeySetError(format!("test key set: {e}")))?;
    Ok(TokenVerifier::new(
        VerifierConfig::new(TEST_ISSUER, TEST_AUDIENCE),
        FixedKeySet(set),
    ))
}

/// A token for `subject` in `groups`, valid for ten minutes (ES256, kid `ec-1`).
pub fn test_token(subject: &str, groups: &[&str]) -> Result<String, jsonwebtoken::errors::Error> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let claims = serde_json::json!({"sub": subject, "iss": TEST_ISSUER, "aud": TEST_AUDIENCE,
        "iat": now, "nbf": now.saturating_sub(5), "exp": now + 600, "cognito:groups": groups});
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("ec-1".into());
    encode(
        &header,
        &claims,
        &EncodingKey::from_ec_pem(EC_SIGNER.as_bytes())?,
    )
}
