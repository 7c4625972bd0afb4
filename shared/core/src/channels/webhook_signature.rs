//! Twilio-compatible webhook signatures (`X-Twilio-Signature`), checked
//! before any business field of the request is read.
//!
//! The signature is Base64(HMAC(auth token, URL + each POST parameter's name
//! followed by its value, sorted by name then value)), with SHA-1, or SHA-256
//! when `X-Twilio-Webhooks-Signature-Settings` says `algorithm=HMAC_SHA256`.
//! The URL is the public one the provider called, query string included;
//! providers differ on whether the default port stands in it, so both forms
//! are tried. A JSON body is not in the parameters: the URL carries
//! `bodySHA256=<hex>` and the body must hash to it. Comparisons are constant
//! time (the MAC's own verification).

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    HmacSha1,
    HmacSha256,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the request carries no X-Twilio-Signature")]
    Missing,
    #[error("the signature is not Base64")]
    NotBase64,
    #[error("the signature does not match this URL and these parameters")]
    Mismatch,
    #[error("the body does not hash to the URL's bodySHA256")]
    BodyHash,
    #[error("unknown signature algorithm {0:?}")]
    UnknownAlgorithm(String),
}

impl SignatureAlgorithm {
    /// The algorithm the `X-Twilio-Webhooks-Signature-Settings` header names
    /// (`key=…,algorithm=HMAC_SHA256`); SHA-1 without the header.
    pub fn from_settings(header: Option<&str>) -> Result<Self, SignatureError> {
        let Some(header) = header else {
            return Ok(Self::HmacSha1);
        };
        let named = header
            .split(',')
            .filter_map(|part| part.trim().split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("algorithm"))
            .map(|(_, v)| v.trim());
        match named {
            None => Ok(Self::HmacSha1),
            Some(v) if v.eq_ignore_ascii_case("HMAC_SHA1") => Ok(Self::HmacSha1),
            Some(v) if v.eq_ignore_ascii_case("HMAC_SHA256") => Ok(Self::HmacSha256),
            Some(other) => Err(SignatureError::UnknownAlgorithm(other.to_owned())),
        }
    }
}

/// What the provider signed: the URL as it called it, and the form
/// parameters (empty for a JSON body).
fn signed_text(url: &str, params: &[(String, String)]) -> Vec<u8> {
    let mut pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    let mut text = url.as_bytes().to_vec();
    for (name, value) in pairs {
        text.extend_from_slice(name.as_bytes());
        text.extend_from_slice(value.as_bytes());
    }
    text
}

/// The signature a provider holding `token` sends for `url` and `params`
/// (what a test, or the local stack playing the provider, signs with).
pub fn sign(
    token: &str,
    algorithm: SignatureAlgorithm,
    url: &str,
    params: &[(String, String)],
) -> String {
    let text = signed_text(url, params);
    // HMAC takes a key of any length, so the key is never refused.
    let raw = match algorithm {
        SignatureAlgorithm::HmacSha1 => Hmac::<sha1::Sha1>::new_from_slice(token.as_bytes())
            .map(|mut mac| {
                mac.update(&text);
                mac.finalize().into_bytes().to_vec()
            })
            .unwrap_or_default(),
        SignatureAlgorithm::HmacSha256 => Hmac::<Sha256>::new_from_slice(token.as_bytes())
            .map(|mut mac| {
                mac.update(&text);
                mac.finalize().into_bytes().to_vec()
            })
            .unwrap_or_default(),
    };
    base64::engine::general_purpose::STANDARD.encode(raw)
}

fn matches(
    token: &str,
    algorithm: SignatureAlgorithm,
    url: &str,
    params: &[(String, String)],
    signature: &[u8],
) -> bool {
    let text = signed_text(url, params);
    match algorithm {
        SignatureAlgorithm::HmacSha1 => Hmac::<sha1::Sha1>::new_from_slice(token.as_bytes())
            .map(|mut mac| {
                mac.update(&text);
                mac.verify_slice(signature).is_ok()
            })
            .unwrap_or(false),
        SignatureAlgorithm::HmacSha256 => Hmac::<Sha256>::new_from_slice(token.as_bytes())
            .map(|mut mac| {
                mac.update(&text);
                mac.verify_slice(signature).is_ok()
            })
            .unwrap_or(false),
    }
}

/// `url` with its scheme's default port written out, and without it: the
/// provider may have signed either.
fn url_forms(url: &str) -> Vec<String> {
    let mut forms = vec![url.to_owned()];
    let Some((scheme, rest)) = url.split_once("://") else {
        return forms;
    };
    let default = match scheme.to_ascii_lowercase().as_str() {
        "https" => "443",
        "http" => "80",
        _ => return forms,
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    // userinfo@ is kept as it is; the port follows the host.
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (format!("{u}@"), h),
        None => (String::new(), authority),
    };
    let host_end = if hostport.starts_with('[') {
        hostport.find(']').map_or(hostport.len(), |i| i + 1)
    } else {
        hostport.find(':').unwrap_or(hostport.len())
    };
    let (host, port) = hostport.split_at(host_end);
    let other = match port.strip_prefix(':') {
        Some(p) if p == default => format!("{scheme}://{userinfo}{host}{tail}"),
        Some(_) => return forms,
        None => format!("{scheme}://{userinfo}{host}:{default}{tail}"),
    };
    forms.push(other);
    forms
}

/// Checks a form-encoded webhook: `signature` is the `X-Twilio-Signature`
/// header, `url` the public URL the provider called (with its query string).
pub fn verify_form(
    token: &str,
    algorithm: SignatureAlgorithm,
    url: &str,
    params: &[(String, String)],
    signature: Option<&str>,
) -> Result<(), SignatureError> {
    let signature = signature
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or(SignatureError::Missing)?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(signature)
        .map_err(|_| SignatureError::NotBase64)?;
    if url_forms(url)
        .iter()
        .any(|form| matches(token, algorithm, form, params, &raw))
    {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// Checks a JSON webhook: the URL alone is signed, and `body` must hash to
/// the URL's `bodySHA256` parameter.
pub fn verify_json(
    token: &str,
    algorithm: SignatureAlgorithm,
    url: &str,
    body: &[u8],
    signature: Option<&str>,
) -> Result<(), SignatureError> {
    verify_form(token, algorithm, url, &[], signature)?;
    let claimed = url
        .split_once('?')
        .map(|(_, q)| q)
        .unwrap_or("")
        .split('&')
        .find_map(|pair| pair.strip_prefix("bodySHA256="))
        .ok_or(SignatureError::BodyHash)?;
    let actual = hex::encode(Sha256::digest(body));
    // Both are public values once the signature holds; equal length hex.
    if actual.eq_ignore_ascii_case(claimed) {
        Ok(())
    } else {
        Err(SignatureError::BodyHash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector_params() -> Vec<(String, String)> {
        [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
    }

    #[test]
    fn the_providers_published_vectors_pass_with_and_without_the_port() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
        let sha1 = SignatureAlgorithm::HmacSha1;
        assert_eq!(
            sign("12345", sha1, url, &vector_params()),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
        assert_eq!(
            sign("12345", sha1, with_port, &vector_params()),
            "kvajT1Ptam85bY51eRf/AJRuM3w="
        );
        // Whichever form the provider signed, either configured URL accepts it.
        for configured in [url, with_port] {
            for sent in [
                "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
                "kvajT1Ptam85bY51eRf/AJRuM3w=",
            ] {
                assert_eq!(
                    verify_form("12345", sha1, configured, &vector_params(), Some(sent)),
                    Ok(()),
                    "{configured} {sent}"
                );
            }
        }
    }

    #[test]
    fn anything_changed_is_refused_for_its_reason() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let sha1 = SignatureAlgorithm::HmacSha1;
        let good = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
        let mut tampered = vector_params();
        tampered[2].1 = "9999".into();
        assert_eq!(
            verify_form("12345", sha1, url, &tampered, Some(good)),
            Err(SignatureError::Mismatch)
        );
        // A parameter added on the way is a different signature too.
        let mut added = vector_params();
        added.push(("Body".into(), "STOP".into()));
        assert_eq!(
            verify_form("12345", sha1, url, &added, Some(good)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_form("54321", sha1, url, &vector_params(), Some(good)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_form(
                "12345",
                sha1,
                "https://mycompany.com/other.php?foo=1&bar=2",
                &vector_params(),
                Some(good)
            ),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_form("12345", sha1, url, &vector_params(), None),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify_form("12345", sha1, url, &vector_params(), Some("not base64!")),
            Err(SignatureError::NotBase64)
        );
        // Another port is another URL, not the default one written out.
        assert_eq!(
            verify_form(
                "12345",
                sha1,
                "https://mycompany.com:8443/myapp.php?foo=1&bar=2",
                &vector_params(),
                Some(good)
            ),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn the_sha256_variant_and_json_bodies() {
        assert_eq!(
            SignatureAlgorithm::from_settings(Some("key=abc,algorithm=HMAC_SHA256")),
            Ok(SignatureAlgorithm::HmacSha256)
        );
        assert_eq!(
            SignatureAlgorithm::from_settings(None),
            Ok(SignatureAlgorithm::HmacSha1)
        );
        assert!(SignatureAlgorithm::from_settings(Some("algorithm=MD5")).is_err());
        let sha256 = SignatureAlgorithm::HmacSha256;
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        // Computed independently with Python's hmac module.
        assert_eq!(
            sign("12345", sha256, url, &vector_params()),
            "033hgUJA9M/hXIZsYjwkerEP/DBm35nEri5FhCYjA5s="
        );
        let signature = sign("12345", sha256, url, &vector_params());
        assert_eq!(
            verify_form("12345", sha256, url, &vector_params(), Some(&signature)),
            Ok(())
        );
        // A SHA-1 signature does not pass as SHA-256.
        assert_eq!(
            verify_form(
                "12345",
                sha256,
                url,
                &vector_params(),
                Some("RSOYDt4T1cUTdK1PDd93/VVr8B8=")
            ),
            Err(SignatureError::Mismatch)
        );
        let body = r#"{"Body":"Dziura na ul. Długiej"}"#.as_bytes();
        let json_url = format!(
            "https://mycompany.com/sms?bodySHA256={}",
            hex::encode(Sha256::digest(body))
        );
        let signed = sign("12345", sha256, &json_url, &[]);
        assert_eq!(
            verify_json("12345", sha256, &json_url, body, Some(&signed)),
            Ok(())
        );
        assert_eq!(
            verify_json(
                "12345",
                sha256,
                &json_url,
                br#"{"Body":"inne"}"#,
                Some(&signed)
            ),
            Err(SignatureError::BodyHash)
        );
    }
}
