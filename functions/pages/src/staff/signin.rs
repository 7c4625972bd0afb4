//! Staff sign-in: the OpenID Connect authorisation-code flow with PKCE
//! against the deployment's identity provider (Cognito, the city's own, or
//! locally the development issuer). The ID token it returns, verified like
//! every staff token, is the session: an `HttpOnly`, `Secure`, `SameSite=Lax`
//! cookie that expires with the token. Nothing is kept on the server.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cookie::SameSite;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::Deps;
use crate::citizen::Visit;
use crate::cookies::read;
use crate::forms::PostedForm;

/// The session cookie (the verified ID token).
pub const SESSION_COOKIE: &str = "session";
/// The sign-in in progress: state, PKCE verifier, nonce and where to go after.
const SIGNIN_COOKIE: &str = "signin";
const SIGNIN_MINUTES: i64 = 10;

/// Where the identity provider is, for the code flow.
#[derive(Debug, Clone)]
pub struct SignInEndpoints {
    pub authorize_url: String,
    pub token_url: String,
    pub client_id: String,
    /// `{public base}/staff/callback`, registered with the provider.
    pub redirect_uri: String,
}

fn random(bytes: usize) -> String {
    let mut buf = vec![0_u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

fn redirect(location: &str, cookies: &[String]) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

/// Only a staff page of this site is a place to return to.
fn safe_next(next: Option<&str>) -> String {
    next.filter(|n| n.starts_with("/staff/") && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or("/staff/")
        .to_owned()
}

/// `GET /staff/login?next=`: off to the identity provider.
pub(super) async fn login(
    State(deps): State<Arc<Deps>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let visit = Visit::new(&deps, query.as_deref(), &headers);
    let Some(endpoints) = &deps.sign_in else {
        return visit.error(
            &deps,
            StatusCode::SERVICE_UNAVAILABLE,
            visit.text(&deps, "staff_signin_off_title"),
            visit.text(&deps, "staff_signin_off"),
        );
    };
    let state = random(16);
    let verifier = random(32);
    let nonce = random(16);
    let next = safe_next(visit.param("next"));
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let pending = format!(
        "{state}.{verifier}.{nonce}.{}",
        URL_SAFE_NO_PAD.encode(&next)
    );
    let cookie = deps.cookies.set(
        &deps.cookies.name(SIGNIN_COOKIE),
        &pending,
        SameSite::Lax,
        Some(jiff::SignedDuration::from_mins(SIGNIN_MINUTES)),
    );
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &endpoints.client_id)
        .append_pair("redirect_uri", &endpoints.redirect_uri)
        .append_pair("scope", "openid")
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    redirect(&format!("{}?{query}", endpoints.authorize_url), &[cookie])
}

#[derive(serde::Deserialize)]
struct TokenAnswer {
    id_token: String,
}

/// The token's claims after its signature was verified (`nonce`, `exp`).
fn claims_of(token: &str) -> Option<serde_json::Value> {
    let payload = token.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

/// `GET /staff/callback?code=&state=`: the code for a session.
pub(super) async fn callback(
    State(deps): State<Arc<Deps>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let visit = Visit::new(&deps, query.as_deref(), &headers);
    let refused = |why: &str| {
        tracing::warn!(reason = why, "a staff sign-in was refused");
        visit.error(
            &deps,
            StatusCode::BAD_REQUEST,
            visit.text(&deps, "staff_signin_failed_title"),
            visit.text(&deps, "staff_signin_failed"),
        )
    };
    let (Some(endpoints), Some(tokens)) = (&deps.sign_in, &deps.staff_tokens) else {
        return refused("staff sign-in is not configured");
    };
    let pending = read(&headers, &deps.cookies.name(SIGNIN_COOKIE)).unwrap_or_default();
    let parts: Vec<&str> = pending.split('.').collect();
    let [state, verifier, nonce, next] = parts[..] else {
        return refused("no sign-in in progress in this browser");
    };
    if visit.param("state") != Some(state) {
        return refused("state differs");
    }
    let Some(code) = visit.param("code") else {
        return refused("no code");
    };
    let exchanged = deps
        .http
        .post(&endpoints.token_url)
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", endpoints.redirect_uri.as_str()),
            ("client_id", endpoints.client_id.as_str()),
            ("code_verifier", verifier),
        ])
        .send()
        .await;
    let answer = match exchanged {
        Ok(r) if r.status().is_success() => r.json::<TokenAnswer>().await.ok(),
        Ok(r) => {
            tracing::warn!(
                status = r.status().as_u16(),
                "the token endpoint refused the code"
            );
            None
        }
        Err(e) => return visit.unavailable(&deps, &e),
    };
    let Some(answer) = answer else {
        return refused("code not exchanged");
    };
    if let Err(e) = tokens.verify(&answer.id_token).await {
        return refused(&e.to_string());
    }
    let claims = claims_of(&answer.id_token).unwrap_or_default();
    if claims["nonce"].as_str() != Some(nonce) {
        return refused("nonce differs");
    }
    let lifetime = claims["exp"].as_i64().unwrap_or(0) - jiff::Timestamp::now().as_second();
    let session = deps.cookies.set(
        &deps.cookies.name(SESSION_COOKIE),
        &answer.id_token,
        SameSite::Lax,
        Some(jiff::SignedDuration::from_secs(lifetime.max(0))),
    );
    let next = URL_SAFE_NO_PAD
        .decode(next)
        .ok()
        .and_then(|n| String::from_utf8(n).ok());
    redirect(
        &safe_next(next.as_deref()),
        &[
            session,
            deps.cookies.clear(&deps.cookies.name(SIGNIN_COOKIE)),
        ],
    )
}

/// `POST /staff/logout`: the session cookie is removed.
pub(super) async fn logout(
    State(deps): State<Arc<Deps>>,
    RawQuery(query): RawQuery,
    request: axum::extract::Request,
) -> Response {
    let headers = request.headers().clone();
    let visit = Visit::new(&deps, query.as_deref(), &headers);
    let form = PostedForm::read(request).await.unwrap_or_default();
    if let Some(refused) = visit.forged(&deps, &headers, &form) {
        return refused;
    }
    redirect(
        "/",
        &[deps.cookies.clear(&deps.cookies.name(SESSION_COOKIE))],
    )
}
