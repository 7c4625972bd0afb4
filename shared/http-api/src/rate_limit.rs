//! Per-client limits for public endpoints that cost compute but need no
//! credentials (`POST /v1/classify`): a client past its rate gets 429 with
//! `Retry-After` instead of holding capacity others need.
//!
//! Two layers: API Gateway's route throttling in `template.yaml` bounds the
//! whole route, and this limiter, one per function instance, bounds each
//! client address within it. The client is API Gateway's `sourceIp` (which a
//! client cannot forge); where there is no gateway context (the local system,
//! tests) the first `X-Forwarded-For` hop stands in.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::StatusCode;
use axum::http::request::Parts;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::ApiError;

/// Forget idle clients every this many checks (bounds the memory a scan of
/// many addresses can take).
const SWEEP_EVERY: u64 = 1024;

pub struct ClientRateLimit {
    limiter: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
    per_minute: NonZeroU32,
    checks: AtomicU64,
}

impl ClientRateLimit {
    /// `per_minute` requests a minute per client, of which `burst` at once.
    pub fn new(per_minute: NonZeroU32, burst: NonZeroU32) -> Self {
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
            clock: DefaultClock::default(),
            per_minute,
            checks: AtomicU64::new(0),
        }
    }

    /// `Ok` when the request's client is within its rate; else 429 saying
    /// when to retry.
    pub fn check(&self, parts: &Parts) -> Result<(), ApiError> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.limiter.retain_recent();
        }
        let client = client_address(parts);
        self.limiter.check_key(&client).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            ApiError {
                retry_after: Some(seconds.max(1)),
                ..ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    format!(
                        "too many requests from your address (at most {} a minute); retry in {} s",
                        self.per_minute,
                        seconds.max(1)
                    ),
                )
            }
        })
    }
}

/// Who is calling: API Gateway's source address, else the first
/// `X-Forwarded-For` hop, else one shared key for the unknown.
pub fn client_address(parts: &Parts) -> String {
    use lambda_http::request::RequestContext;
    let from_gateway = match parts.extensions.get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(context)) => context.http.source_ip.clone(),
        _ => None,
    };
    from_gateway
        .or_else(|| {
            parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn parts(forwarded: &str) -> Parts {
        let (parts, ()) = axum::http::Request::builder()
            .header("x-forwarded-for", forwarded)
            .body(())
            .unwrap()
            .into_parts();
        parts
    }

    #[test]
    fn a_client_past_its_burst_waits_and_others_do_not() {
        let limit = ClientRateLimit::new(NonZeroU32::new(60).unwrap(), NonZeroU32::new(3).unwrap());
        let busy = parts("203.0.113.7, 10.0.0.1");
        for _ in 0..3 {
            assert!(limit.check(&busy).is_ok());
        }
        let refused = limit.check(&busy).unwrap_err();
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(refused.retry_after, Some(1));
        assert!(limit.check(&parts("198.51.100.2")).is_ok());
    }
}
