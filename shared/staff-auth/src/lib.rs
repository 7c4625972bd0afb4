//! Staff identity at the edge: an OIDC bearer token (a JWT signed RS256 or
//! ES256 by the city's identity provider: Cognito by default, Entra ID or
//! Keycloak instead) verified against the issuer's key set (JWKS), and the
//! citydesk roles its groups claim names.
//!
//! The key set is cached for the life of the process (across invocations of
//! a warm function) and fetched again when a token names a key id it does
//! not hold (the provider rotated its keys), at most once per
//! [`VerifierConfig::min_refresh_interval`], so a stream of made-up key ids
//! cannot turn into a stream of fetches. Issuer, audience, expiry and
//! not-before are checked; `alg: none`, HMAC and any other algorithm are
//! refused before a key is looked at.

#[cfg(feature = "testing")]
pub mod testing;

use std::time::{Duration, Instant};

use citydesk_core::staff::StaffIdentity;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use tokio::sync::RwLock;

/// Where the issuer's key set comes from.
#[async_trait::async_trait]
pub trait KeySetSource: Send + Sync {
    async fn fetch(&self) -> Result<JwkSet, KeySetError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the identity provider's key set could not be read: {0}")]
pub struct KeySetError(pub String);

/// The key set at a URL (`{issuer}/.well-known/jwks.json` for Cognito).
#[derive(Debug, Clone)]
pub struct HttpKeySet {
    http: reqwest::Client,
    url: String,
}

impl HttpKeySet {
    pub fn new(http: reqwest::Client, url: impl Into<String>) -> Self {
        Self {
            http,
            url: url.into(),
        }
    }
}

#[async_trait::async_trait]
impl KeySetSource for HttpKeySet {
    async fn fetch(&self) -> Result<JwkSet, KeySetError> {
        let response = self
            .http
            .get(&self.url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| KeySetError(format!("{}: {e}", self.url)))?;
        response
            .json::<JwkSet>()
            .await
            .map_err(|e| KeySetError(format!("{}: not a JWKS document: {e}", self.url)))
    }
}

/// What a token must say to be one of this deployment's staff tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierConfig {
    /// `iss`, exactly (Cognito: `https://cognito-idp.{region}.amazonaws.com/{pool}`).
    pub issuer: String,
    /// `aud`: the application's client id. Cognito puts it in `aud` of its
    /// ID tokens; its access tokens carry `client_id` instead and are not
    /// accepted.
    pub audience: String,
    /// The top-level claim holding the groups (`cognito:groups`, `groups`, `roles`).
    pub groups_claim: String,
    /// Clock skew allowed on `exp` and `nbf`.
    pub leeway: Duration,
    pub min_refresh_interval: Duration,
}

impl VerifierConfig {
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            groups_claim: "cognito:groups".to_owned(),
            leeway: Duration::from_secs(30),
            min_refresh_interval: Duration::from_secs(60),
        }
    }
}

/// Why a bearer token was not accepted. Every kind answers 401 but
/// [`TokenError::KeySetUnavailable`], which is the provider's outage (503).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the bearer token is not a JWT")]
    Malformed,
    #[error("tokens signed with {0} are not accepted: RS256 or ES256 only")]
    Algorithm(String),
    #[error("the token names no key id (kid)")]
    NoKeyId,
    #[error("the token's key id is not in the identity provider's key set")]
    UnknownKey,
    #[error("the token's signature does not verify")]
    Signature,
    #[error("the token has expired: sign in again")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token was issued by another identity provider")]
    Issuer,
    #[error("the token was issued for another application")]
    Audience,
    #[error("the token has no {0} claim")]
    MissingClaim(&'static str),
    #[error("the token's {0} claim is neither a list of group names nor one name")]
    GroupsClaim(String),
    #[error(transparent)]
    KeySetUnavailable(#[from] KeySetError),
}

#[derive(Debug, serde::Deserialize)]
struct Claims {
    sub: String,
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

struct CachedKeys {
    set: JwkSet,
    fetched_at: Option<Instant>,
}

/// Verifies staff tokens; create once per cold start and share.
pub struct TokenVerifier<S> {
    config: VerifierConfig,
    source: S,
    keys: RwLock<CachedKeys>,
}

/// What the edge needs of a verifier (any key set source).
#[async_trait::async_trait]
pub trait StaffTokens: Send + Sync {
    /// The member of staff a bearer token (without `Bearer `) stands for.
    async fn verify(&self, token: &str) -> Result<StaffIdentity, TokenError>;
}

#[async_trait::async_trait]
impl<S: KeySetSource> StaffTokens for TokenVerifier<S> {
    async fn verify(&self, token: &str) -> Result<StaffIdentity, TokenError> {
        TokenVerifier::verify(self, token).await
    }
}

impl TokenVerifier<HttpKeySet> {
    /// A verifier whose key set is read from `jwks_url`, each fetch bounded
    /// so a slow provider answers 503 rather than holding the request.
    pub fn over_http(config: VerifierConfig, jwks_url: impl Into<String>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(3))
            .build()
            .unwrap_or_default();
        Self::new(config, HttpKeySet::new(http, jwks_url))
    }
}

impl<S: KeySetSource> TokenVerifier<S> {
    /// No fetch yet: the first token fetches the key set.
    pub fn new(config: VerifierConfig, source: S) -> Self {
        Self {
            config,
            source,
            keys: RwLock::new(CachedKeys {
                set: JwkSet { keys: Vec::new() },
                fetched_at: None,
            }),
        }
    }

    /// The member of staff a bearer token (without `Bearer `) stands for.
    pub async fn verify(&self, token: &str) -> Result<StaffIdentity, TokenError> {
        // `alg: none` and unknown algorithms fail here, as the header's
        // algorithm must be one jsonwebtoken knows.
        let header = decode_header(token).map_err(|_| TokenError::Malformed)?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(TokenError::Algorithm(format!("{:?}", header.alg)));
        }
        let kid = header.kid.ok_or(TokenError::NoKeyId)?;
        let jwk = self.key(&kid).await?;
        let key = DecodingKey::from_jwk(&jwk).map_err(|_| TokenError::UnknownKey)?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = self.config.leeway.as_secs();
        let claims = decode::<Claims>(token, &key, &validation)
            .map_err(|e| token_error(e.kind()))?
            .claims;
        let groups = match claims.rest.get(&self.config.groups_claim) {
            None => Vec::new(),
            Some(serde_json::Value::Array(values)) => {
                values.iter().filter_map(|v| v.as_str()).collect()
            }
            Some(serde_json::Value::String(one)) => vec![one.as_str()],
            Some(_) => return Err(TokenError::GroupsClaim(self.config.groups_claim.clone())),
        };
        Ok(StaffIdentity::from_groups(&claims.sub, groups))
    }

    /// The key under `kid`, fetching the key set once if it is not held and
    /// the last fetch is older than the refresh interval.
    async fn key(&self, kid: &str) -> Result<Jwk, TokenError> {
        if let Some(jwk) = self.keys.read().await.set.find(kid) {
            return Ok(jwk.clone());
        }
        let mut keys = self.keys.write().await;
        if let Some(jwk) = keys.set.find(kid) {
            return Ok(jwk.clone());
        }
        let recent = keys
            .fetched_at
            .is_some_and(|at| at.elapsed() < self.config.min_refresh_interval);
        if recent {
            return Err(TokenError::UnknownKey);
        }
        let set = self.source.fetch().await?;
        tracing::info!(keys = set.keys.len(), "identity provider's key set fetched");
        keys.set = set;
        keys.fetched_at = Some(Instant::now());
        keys.set.find(kid).cloned().ok_or(TokenError::UnknownKey)
    }
}

fn token_error(kind: &jsonwebtoken::errors::ErrorKind) -> TokenError {
    use jsonwebtoken::errors::ErrorKind;
    match kind {
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::ImmatureSignature => TokenError::NotYetValid,
        ErrorKind::InvalidIssuer => TokenError::Issuer,
        ErrorKind::InvalidAudience => TokenError::Audience,
        ErrorKind::InvalidSignature => TokenError::Signature,
        ErrorKind::InvalidAlgorithm => TokenError::Algorithm("a key of another type".to_owned()),
        ErrorKind::MissingRequiredClaim(claim) => TokenError::MissingClaim(match claim.as_str() {
            "exp" => "exp",
            "iss" => "iss",
            "aud" => "aud",
            _ => "sub",
        }),
        _ => TokenError::Malformed,
    }
}
