//! The pages' cookies (parsed and written with the `cookie` crate), and the
//! protection of every form that changes something against cross-site posts:
//! a random token in a `SameSite=Strict` cookie that the form must repeat
//! (double submit), and an `Origin` that, when the browser sends one, must be
//! this site's.

use cookie::{Cookie, SameSite};
use http::HeaderMap;
use rand::RngCore;

/// The anti-forgery cookie (named `__Host-csrf`: the prefix binds it to this host over HTTPS).
pub const CSRF_COOKIE: &str = "csrf";
/// The form field that repeats it.
pub const CSRF_FIELD: &str = "csrf";

/// How cookies are written: `Secure` everywhere but plain-HTTP development.
#[derive(Debug, Clone, Copy)]
pub struct CookiePolicy {
    pub secure: bool,
}

impl CookiePolicy {
    /// A cookie's name: `__Host-<base>` (this host only, `Secure`, `Path=/`),
    /// or `<base>` where cookies cannot be `Secure` (plain-HTTP development).
    pub fn name(self, base: &str) -> String {
        if self.secure {
            format!("__Host-{base}")
        } else {
            base.to_owned()
        }
    }

    /// A `Set-Cookie` value: `HttpOnly`, `Path=/`, `Secure` unless plain HTTP.
    pub fn set(
        self,
        name: &str,
        value: &str,
        same_site: SameSite,
        max_age: Option<jiff::SignedDuration>,
    ) -> String {
        let mut cookie = Cookie::build((name.to_owned(), value.to_owned()))
            .path("/")
            .http_only(true)
            .secure(self.secure)
            .same_site(same_site);
        if let Some(age) = max_age {
            cookie = cookie.max_age(cookie::time::Duration::seconds(age.as_secs()));
        }
        cookie.build().encoded().to_string()
    }

    /// A `Set-Cookie` value that removes the cookie.
    pub fn clear(self, name: &str) -> String {
        self.set(name, "", SameSite::Lax, Some(jiff::SignedDuration::ZERO))
    }
}

/// A cookie's value from the request's `Cookie` headers.
pub fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse_encoded)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

/// The visitor's anti-forgery token, and the cookie to set when they had none.
pub fn csrf_token(policy: CookiePolicy, headers: &HeaderMap) -> (String, Option<String>) {
    match read(headers, &policy.name(CSRF_COOKIE)).filter(|t| well_formed(t)) {
        Some(token) => (token, None),
        None => {
            let mut bytes = [0_u8; 24];
            rand::rng().fill_bytes(&mut bytes);
            let token = hex::encode(bytes);
            let cookie = policy.set(&policy.name(CSRF_COOKIE), &token, SameSite::Strict, None);
            (token, Some(cookie))
        }
    }
}

fn well_formed(token: &str) -> bool {
    token.len() == 48 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Why a form post was refused as possibly forged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Forgery {
    #[error("the form was sent from another site")]
    ForeignOrigin,
    #[error(
        "the form's security token is missing or does not match; reload the page and send it again"
    )]
    TokenMismatch,
}

/// A form post is this site's: its `Origin` (when sent) is `site_origin`, and
/// its token field equals the cookie.
pub fn check_form(
    policy: CookiePolicy,
    headers: &HeaderMap,
    site_origin: Option<&str>,
    form_token: Option<&str>,
) -> Result<(), Forgery> {
    if let (Some(origin), Some(expected)) = (
        headers
            .get(http::header::ORIGIN)
            .and_then(|v| v.to_str().ok()),
        site_origin,
    ) && origin != "null"
        && !origin.eq_ignore_ascii_case(expected)
    {
        return Err(Forgery::ForeignOrigin);
    }
    let cookie = read(headers, &policy.name(CSRF_COOKIE)).filter(|t| well_formed(t));
    match (cookie, form_token) {
        (Some(c), Some(f)) if constant_time_eq(c.as_bytes(), f.trim().as_bytes()) => Ok(()),
        _ => Err(Forgery::TokenMismatch),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    const POLICY: CookiePolicy = CookiePolicy { secure: true };

    fn with(cookie: &str, origin: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(http::header::COOKIE, HeaderValue::from_str(cookie).unwrap());
        if let Some(o) = origin {
            h.insert(http::header::ORIGIN, HeaderValue::from_str(o).unwrap());
        }
        h
    }

    #[test]
    fn a_new_visitor_gets_a_strict_host_only_token_cookie() {
        let (token, cookie) = csrf_token(POLICY, &HeaderMap::new());
        let cookie = cookie.unwrap();
        assert!(
            cookie.starts_with(&format!("__Host-csrf={token}")),
            "{cookie}"
        );
        for part in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
            assert!(cookie.contains(part), "{cookie} lacks {part}");
        }
        let again = with(&format!("__Host-csrf={token}"), None);
        assert_eq!(csrf_token(POLICY, &again), (token, None));
    }

    #[test]
    fn a_form_needs_the_cookie_token_and_this_sites_origin() {
        let token = "ab".repeat(24);
        let cookie = format!("lang=pl; __Host-csrf={token}");
        let site = Some("https://city.example");
        let ok = with(&cookie, Some("https://city.example"));
        assert_eq!(check_form(POLICY, &ok, site, Some(&token)), Ok(()));
        // No Origin (an older browser): the token alone decides.
        assert_eq!(
            check_form(POLICY, &with(&cookie, None), site, Some(&token)),
            Ok(())
        );
        let foreign = with(&cookie, Some("https://evil.example"));
        assert_eq!(
            check_form(POLICY, &foreign, site, Some(&token)),
            Err(Forgery::ForeignOrigin)
        );
        assert_eq!(
            check_form(POLICY, &ok, site, Some(&"cd".repeat(24))),
            Err(Forgery::TokenMismatch)
        );
        assert_eq!(
            check_form(POLICY, &ok, site, None),
            Err(Forgery::TokenMismatch)
        );
        assert_eq!(
            check_form(POLICY, &with("lang=pl", None), site, Some(&token)),
            Err(Forgery::TokenMismatch)
        );
    }
}
