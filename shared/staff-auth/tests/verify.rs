//! Every way a staff token can be wrong is refused; a good one yields its
//! subject and roles; the key set is fetched once and again on rotation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use citydesk_core::ids::DepartmentCode;
use citydesk_core::staff::Role;
use citydesk_staff_auth::{KeySetError, KeySetSource, TokenError, TokenVerifier, VerifierConfig};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

const ISSUER: &str = "https://idp.example.test/realms/krakow";
const AUDIENCE: &str = "citydesk-staff";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn key_set() -> JwkSet {
    serde_json::from_slice(&fixture("jwks.json")).unwrap()
}

/// Serves the key sets it is given in turn (the last one from then on) and
/// counts the fetches.
struct FakeKeySet {
    sets: Mutex<Vec<JwkSet>>,
    fetches: AtomicUsize,
}

impl FakeKeySet {
    fn new(sets: Vec<JwkSet>) -> Self {
        Self {
            sets: Mutex::new(sets),
            fetches: AtomicUsize::new(0),
        }
    }
}

#[async_trait::async_trait]
impl KeySetSource for &FakeKeySet {
    async fn fetch(&self) -> Result<JwkSet, KeySetError> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        let mut sets = self.sets.lock().unwrap();
        if sets.len() > 1 {
            Ok(sets.remove(0))
        } else {
            sets.first()
                .cloned()
                .ok_or_else(|| KeySetError("no key set".into()))
        }
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn claims() -> Value {
    json!({
        "sub": "b3c1-operator-1",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now(),
        "nbf": now() - 5,
        "exp": now() + 600,
        "cognito:groups": ["operator", "clerk:roads", "Domain Users"],
    })
}

fn signed(alg: Algorithm, kid: &str, pem: &str, claims: &Value) -> String {
    let key = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(&fixture(pem)).unwrap(),
        _ => EncodingKey::from_rsa_pem(&fixture(pem)).unwrap(),
    };
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    encode(&header, claims, &key).unwrap()
}

fn rs256(claims: &Value) -> String {
    signed(Algorithm::RS256, "rsa-1", "rsa-signer.pem", claims)
}

fn with(mut claims: Value, field: &str, value: Value) -> Value {
    claims[field] = value;
    claims
}

fn verifier(source: &FakeKeySet) -> TokenVerifier<&FakeKeySet> {
    TokenVerifier::new(VerifierConfig::new(ISSUER, AUDIENCE), source)
}

#[tokio::test]
async fn a_good_token_yields_its_subject_and_citydesk_roles() {
    let source = FakeKeySet::new(vec![key_set()]);
    let verifier = verifier(&source);
    for token in [
        rs256(&claims()),
        signed(Algorithm::ES256, "ec-1", "ec-signer.pem", &claims()),
    ] {
        let who = verifier.verify(&token).await.unwrap();
        assert_eq!(who.subject, "b3c1-operator-1");
        assert_eq!(
            who.roles,
            vec![
                Role::Operator,
                Role::Clerk(DepartmentCode::parse("roads").unwrap())
            ]
        );
    }
    // Cached across tokens: one fetch for both.
    assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
    let no_groups = {
        let mut c = claims();
        c.as_object_mut().unwrap().remove("cognito:groups");
        c
    };
    assert!(
        verifier
            .verify(&rs256(&no_groups))
            .await
            .unwrap()
            .roles
            .is_empty()
    );
}

#[tokio::test]
async fn every_kind_of_bad_token_is_refused_for_its_reason() {
    let source = FakeKeySet::new(vec![key_set()]);
    let verifier = verifier(&source);
    let cases = [
        (
            rs256(&with(claims(), "exp", json!(now() - 120))),
            TokenError::Expired,
        ),
        (
            rs256(&with(claims(), "nbf", json!(now() + 600))),
            TokenError::NotYetValid,
        ),
        (
            rs256(&with(claims(), "iss", json!("https://evil.test"))),
            TokenError::Issuer,
        ),
        (
            rs256(&with(claims(), "aud", json!("another-app"))),
            TokenError::Audience,
        ),
        (
            // Signed by a key outside the set, under the set's key id.
            signed(Algorithm::RS256, "rsa-1", "rsa-stranger.pem", &claims()),
            TokenError::Signature,
        ),
        (
            // An EC key id with an RSA signature: the key's type decides.
            signed(Algorithm::RS256, "ec-1", "rsa-signer.pem", &claims()),
            TokenError::Algorithm("a key of another type".into()),
        ),
    ];
    for (token, expected) in cases {
        assert_eq!(verifier.verify(&token).await, Err(expected));
    }
    let no_exp = {
        let mut c = claims();
        c.as_object_mut().unwrap().remove("exp");
        c
    };
    assert_eq!(
        verifier.verify(&rs256(&no_exp)).await,
        Err(TokenError::MissingClaim("exp"))
    );
    assert_eq!(
        verifier.verify("not a token").await,
        Err(TokenError::Malformed)
    );
    assert_eq!(
        verifier
            .verify(&rs256(&with(claims(), "cognito:groups", json!({"a": 1}))))
            .await,
        Err(TokenError::GroupsClaim("cognito:groups".into()))
    );
    // One group as a plain string is read as a list of one.
    let one = verifier
        .verify(&rs256(&with(claims(), "cognito:groups", json!("manager"))))
        .await
        .unwrap();
    assert_eq!(one.roles, vec![Role::Manager]);
}

#[tokio::test]
async fn alg_none_and_hmac_confusion_are_refused_before_any_key() {
    let source = FakeKeySet::new(vec![key_set()]);
    let verifier = verifier(&source);
    let body = URL_SAFE_NO_PAD.encode(claims().to_string());
    let none = format!(
        "{}.{body}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT","kid":"rsa-1"}"#)
    );
    assert_eq!(verifier.verify(&none).await, Err(TokenError::Malformed));
    // HS256 keyed with the public key's own bytes: the classic confusion.
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("rsa-1".into());
    let hmac = encode(
        &header,
        &claims(),
        &EncodingKey::from_secret(&fixture("jwks.json")),
    )
    .unwrap();
    assert_eq!(
        verifier.verify(&hmac).await,
        Err(TokenError::Algorithm("HS256".into()))
    );
    let mut header = Header::new(Algorithm::RS256);
    header.kid = None;
    let no_kid = encode(
        &header,
        &claims(),
        &EncodingKey::from_rsa_pem(&fixture("rsa-signer.pem")).unwrap(),
    )
    .unwrap();
    assert_eq!(verifier.verify(&no_kid).await, Err(TokenError::NoKeyId));
    assert_eq!(source.fetches.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_unknown_key_id_refreshes_the_set_once_per_interval() {
    // The provider rotates: first only the EC key, then both.
    let mut first = key_set();
    first
        .keys
        .retain(|k| k.common.key_id.as_deref() == Some("ec-1"));
    let source = FakeKeySet::new(vec![first, key_set()]);
    let config = VerifierConfig {
        min_refresh_interval: Duration::from_secs(3600),
        ..VerifierConfig::new(ISSUER, AUDIENCE)
    };
    let verifier = TokenVerifier::new(config, &source);
    let ec = signed(Algorithm::ES256, "ec-1", "ec-signer.pem", &claims());
    verifier.verify(&ec).await.unwrap();
    assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
    // rsa-1 is not held and the set was fetched just now: no second fetch.
    assert_eq!(
        verifier.verify(&rs256(&claims())).await,
        Err(TokenError::UnknownKey)
    );
    assert_eq!(source.fetches.load(Ordering::SeqCst), 1);

    // With no minimum interval an unknown key id fetches again, and the
    // rotated key verifies.
    let source = FakeKeySet::new(vec![
        {
            let mut s = key_set();
            s.keys
                .retain(|k| k.common.key_id.as_deref() == Some("ec-1"));
            s
        },
        key_set(),
    ]);
    let config = VerifierConfig {
        min_refresh_interval: Duration::ZERO,
        ..VerifierConfig::new(ISSUER, AUDIENCE)
    };
    let verifier = TokenVerifier::new(config, &source);
    verifier.verify(&ec).await.unwrap();
    verifier.verify(&rs256(&claims())).await.unwrap();
    assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
    let made_up = signed(Algorithm::RS256, "made-up", "rsa-signer.pem", &claims());
    assert_eq!(verifier.verify(&made_up).await, Err(TokenError::UnknownKey));
}

#[tokio::test]
async fn an_unreachable_key_set_is_an_outage_not_a_bad_token() {
    let source = FakeKeySet::new(Vec::new());
    let verifier = verifier(&source);
    assert!(matches!(
        verifier.verify(&rs256(&claims())).await,
        Err(TokenError::KeySetUnavailable(_))
    ));
}
