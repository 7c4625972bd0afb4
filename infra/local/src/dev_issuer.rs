//! A development identity provider on loopback (local only, never deployed):
//! an ES256 key pair generated at start, its key set served as an OIDC
//! issuer serves it, ready tokens for the demo roles, and the authorisation
//! code flow with PKCE the staff pages sign in through: its sign-in page
//! lists the demo staff to choose from (no passwords), and its token
//! endpoint exchanges a code for an ID token as Cognito's does.
//!
//! The functions verify these tokens exactly as they verify Cognito's: the
//! runner points their `STAFF_ISSUER`, `STAFF_AUDIENCE` and `STAFF_JWKS_URL`
//! at this issuer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
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
    /// Codes given out and not yet exchanged.
    codes: Mutex<HashMap<String, Grant>>,
}

/// What an authorisation code stands for until it is exchanged (once).
#[derive(Debug, Clone)]
struct Grant {
    role: String,
    client_id: String,
    redirect_uri: String,
    code_challenge: String,
    nonce: Option<String>,
    issued: std::time::Instant,
}

/// How long a code may wait for its exchange.
const CODE_LIFETIME: std::time::Duration = std::time::Duration::from_secs(120);

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
                codes: Mutex::new(HashMap::new()),
            }),
        })
    }

    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    pub fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks.json", self.inner.issuer)
    }

    pub fn authorize_url(&self) -> String {
        format!("{}/authorize", self.inner.issuer)
    }

    pub fn token_url(&self) -> String {
        format!("{}/token", self.inner.issuer)
    }

    /// The subject a demo role signs in as (`clerk:roads` → `demo-clerk-roads`).
    pub fn demo_subject(role: &str) -> String {
        format!("demo-{}", role.replace(':', "-"))
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

    /// The key set and discovery document at the issuer's well-known paths,
    /// and the sign-in flow for `roles` (the demo staff).
    pub fn routes(&self, roles: Vec<String>) -> Router {
        let signin = SignIn {
            issuer: self.clone(),
            roles: Arc::new(roles),
        };
        Router::new()
            .route(&format!("{ISSUER_PATH}/.well-known/jwks.json"), get(jwks))
            .route(
                &format!("{ISSUER_PATH}/.well-known/openid-configuration"),
                get(discovery),
            )
            .route(
                &format!("{ISSUER_PATH}/authorize"),
                get(sign_in_page).post(signed_in),
            )
            .route(&format!("{ISSUER_PATH}/token"), post(exchange))
            .with_state(signin)
    }
}

#[derive(Clone)]
struct SignIn {
    issuer: DevIssuer,
    roles: Arc<Vec<String>>,
}

impl axum::extract::FromRef<SignIn> for DevIssuer {
    fn from_ref(signin: &SignIn) -> Self {
        signin.issuer.clone()
    }
}

/// An authorisation request (`response_type=code`, PKCE with S256).
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
struct AuthorizeRequest {
    response_type: String,
    client_id: String,
    redirect_uri: String,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    code_challenge: String,
    code_challenge_method: String,
    /// The chosen demo role (the sign-in page's answer).
    #[serde(default)]
    role: Option<String>,
}

fn bad_request(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, message.to_owned()).into_response()
}

/// What is wrong with an authorisation request, if anything.
fn check_request(request: &AuthorizeRequest) -> Result<(), &'static str> {
    if request.response_type != "code" {
        return Err("response_type must be code");
    }
    if request.client_id != LOCAL_AUDIENCE {
        return Err("unknown client_id");
    }
    if request.code_challenge_method != "S256" || request.code_challenge.len() < 43 {
        return Err(
            "PKCE is required: code_challenge (S256 of a 43-128 character verifier) and code_challenge_method=S256",
        );
    }
    if !request.redirect_uri.starts_with("http://127.0.0.1:") {
        return Err("redirect_uri must be on this machine");
    }
    Ok(())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The sign-in page: one button per demo member of staff.
async fn sign_in_page(
    State(signin): State<SignIn>,
    Query(request): Query<AuthorizeRequest>,
) -> Response {
    if let Err(why) = check_request(&request) {
        return bad_request(why);
    }
    let hidden: String = [
        ("response_type", Some(request.response_type.as_str())),
        ("client_id", Some(request.client_id.as_str())),
        ("redirect_uri", Some(request.redirect_uri.as_str())),
        ("state", request.state.as_deref()),
        ("nonce", request.nonce.as_deref()),
        ("scope", request.scope.as_deref()),
        ("code_challenge", Some(request.code_challenge.as_str())),
        (
            "code_challenge_method",
            Some(request.code_challenge_method.as_str()),
        ),
    ]
    .iter()
    .filter_map(|(name, value)| {
        value.map(|v| {
            format!(
                "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
                escape(v)
            )
        })
    })
    .collect();
    let buttons: String = signin
        .roles
        .iter()
        .map(|role| {
            format!(
                "<li><button type=\"submit\" name=\"role\" value=\"{0}\">{0}</button> <span>({1})</span></li>",
                escape(role),
                escape(&DevIssuer::demo_subject(role))
            )
        })
        .collect();
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Development sign-in</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"></head><body><main>\
         <h1>Development sign-in</h1><p>The local identity provider: choose who to sign in as. \
         A deployment signs staff in through Cognito or the city's own provider instead.</p>\
         <form method=\"post\">{hidden}<ul>{buttons}</ul></form></main></body></html>"
    ))
    .into_response()
}

/// The chosen member of staff: back to the application with a one-time code.
async fn signed_in(
    State(signin): State<SignIn>,
    Form(request): Form<AuthorizeRequest>,
) -> Response {
    if let Err(why) = check_request(&request) {
        return bad_request(why);
    }
    let Some(role) = request.role.clone().filter(|r| signin.roles.contains(r)) else {
        return bad_request("choose one of the demo staff");
    };
    let code = ulid::Ulid::new().to_string();
    if let Ok(mut codes) = signin.issuer.inner.codes.lock() {
        codes.retain(|_, g| g.issued.elapsed() < CODE_LIFETIME);
        codes.insert(
            code.clone(),
            Grant {
                role,
                client_id: request.client_id.clone(),
                redirect_uri: request.redirect_uri.clone(),
                code_challenge: request.code_challenge.clone(),
                nonce: request.nonce.clone(),
                issued: std::time::Instant::now(),
            },
        );
    }
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("code", &code);
    if let Some(state) = &request.state {
        query.append_pair("state", state);
    }
    let location = format!("{}?{}", request.redirect_uri, query.finish());
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

#[derive(Debug, serde::Deserialize)]
struct TokenRequest {
    grant_type: String,
    code: String,
    redirect_uri: String,
    client_id: String,
    code_verifier: String,
}

fn token_error(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// The code for an ID token, once, with the verifier whose S256 is the challenge.
async fn exchange(State(issuer): State<DevIssuer>, Form(request): Form<TokenRequest>) -> Response {
    if request.grant_type != "authorization_code" {
        return token_error(
            "unsupported_grant_type",
            "grant_type must be authorization_code",
        );
    }
    let grant = issuer
        .inner
        .codes
        .lock()
        .ok()
        .and_then(|mut codes| codes.remove(&request.code))
        .filter(|g| g.issued.elapsed() < CODE_LIFETIME);
    let Some(grant) = grant else {
        return token_error("invalid_grant", "the code is unknown, used or expired");
    };
    if grant.client_id != request.client_id || grant.redirect_uri != request.redirect_uri {
        return token_error(
            "invalid_grant",
            "client_id or redirect_uri differ from the authorisation",
        );
    }
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        request.code_verifier.as_bytes(),
    ));
    if challenge != grant.code_challenge {
        return token_error(
            "invalid_grant",
            "the code_verifier does not match the code_challenge",
        );
    }
    let now = jiff::Timestamp::now().as_second();
    let mut claims = json!({
        "sub": DevIssuer::demo_subject(&grant.role),
        "iss": issuer.inner.issuer,
        "aud": LOCAL_AUDIENCE,
        "token_use": "id",
        "iat": now,
        "nbf": now,
        "exp": now + 8 * 3600,
        "cognito:groups": [grant.role],
    });
    if let Some(nonce) = grant.nonce {
        claims["nonce"] = json!(nonce);
    }
    match issuer.sign(&claims) {
        Ok(token) => Json(json!({
            "id_token": token,
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": 8 * 3600,
        }))
        .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn jwks(State(issuer): State<DevIssuer>) -> Json<Value> {
    Json(issuer.inner.jwks.clone())
}

async fn discovery(State(issuer): State<DevIssuer>) -> Json<Value> {
    Json(json!({
        "issuer": issuer.inner.issuer,
        "jwks_uri": issuer.jwks_url(),
        "authorization_endpoint": issuer.authorize_url(),
        "token_endpoint": issuer.token_url(),
        "id_token_signing_alg_values_supported": ["ES256"],
        "subject_types_supported": ["public"],
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "code_challenge_methods_supported": ["S256"],
    }))
}
