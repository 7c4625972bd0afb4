//! A development identity provider on loopback (local only, never deployed):
//! an ES256 key pair generated at start, its key set served as an OIDC
//! issuer serves it, and ready tokens for the demo roles.
//!
//! The functions verify these tokens exactly as they verify Cognito's: the
//! runner points their `STAFF_ISSUER`, `STAFF_AUDIENCE` and `STAFF_JWKS_URL`
//! at this issuer.

use std::sync::Arc;

use anyhow::Context;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};

/// Path of the issuer on the runner's address.
pub const ISSUER_PATH: &str = "/_local/issuer";
/// The audience (client id) of the local staff application.
pub const LOCAL_AUDIENCE: &str = "citydesk-local-staff";
/// How long the demo tokens in the credentials file are valid.
pub const DEMO_TOKEN_HOURS: i64 = 24;

#[derive(Clone)]
pub struct DevIssuer {
    inner: Arc<Inner>,
}

struct Inner {
    issuer: String,
    kid: String,
    signing: EncodingKey,
    jwks: Value,
}

impl std::fmt::Debug for DevIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevIssuer")
            .field("issuer", &self.inner.issuer)
            .field("kid", &self.inner.kid)
            .finish_non_exhaustive()
    }
}

impl DevIssuer {
    /// A fresh key pair for an issuer served at `{base_url}/_local/issuer`.
    pub fn generate(base_url: &str) -> anyhow::Result<Self> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| anyhow::anyhow!("cannot generate the development issuer's key"))?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .map_err(|_| anyhow::anyhow!("cannot read the generated key"))?;
        // An uncompressed P-256 point: 0x04, then x and y, 32 bytes each.
        let point = pair.public_key().as_ref();
        anyhow::ensure!(
            point.len() == 65 && point[0] == 4,
            "unexpected public key shape"
        );
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let kid = format!("dev-{}", &b64(&point[1..9]));
        let jwks = json!({"keys": [{
            "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid,
            "x": b64(&point[1..33]), "y": b64(&point[33..65]),
        }]});
        Ok(Self {
            inner: Arc::new(Inner {
                issuer: format!("{}{ISSUER_PATH}", base_url.trim_end_matches('/')),
                kid,
                signing: EncodingKey::from_ec_der(pkcs8.as_ref()),
                jwks,
            }),
        })
    }

    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    pub fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks.json", self.inner.issuer)
    }

    /// A token as Cognito issues an ID token: `sub`, `iss`, `aud`,
    /// `cognito:groups`, valid from now for `hours`.
    pub fn token(&self, subject: &str, groups: &[&str], hours: i64) -> anyhow::Result<String> {
        let now = jiff::Timestamp::now().as_second();
        self.sign(&json!({
            "sub": subject,
            "iss": self.inner.issuer,
            "aud": LOCAL_AUDIENCE,
            "token_use": "id",
            "iat": now,
            "nbf": now,
            "exp": now + hours * 3600,
            "cognito:groups": groups,
        }))
    }

    /// Any claims, signed with the issuer's key (tests make expired,
    /// not-yet-valid and wrong-audience tokens with it).
    pub fn sign(&self, claims: &Value) -> anyhow::Result<String> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.inner.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.inner.signing)
            .context("signing a development token")
    }

    /// The key set and discovery document, at the issuer's well-known paths.
    pub fn routes(&self) -> Router {
        Router::new()
            .route(&format!("{ISSUER_PATH}/.well-known/jwks.json"), get(jwks))
            .route(
                &format!("{ISSUER_PATH}/.well-known/openid-configuration"),
                get(discovery),
            )
            .with_state(self.clone())
    }
}

async fn jwks(State(issuer): State<DevIssuer>) -> Json<Value> {
    Json(issuer.inner.jwks.clone())
}

async fn discovery(State(issuer): State<DevIssuer>) -> Json<Value> {
    Json(json!({
        "issuer": issuer.inner.issuer,
        "jwks_uri": issuer.jwks_url(),
        "id_token_signing_alg_values_supported": ["ES256"],
        "subject_types_supported": ["public"],
        "response_types_supported": ["id_token"],
    }))
}
