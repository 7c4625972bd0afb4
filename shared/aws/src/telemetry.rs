//! Tracing set-up. In Lambda the runtime's subscriber honours
//! `AWS_LAMBDA_LOG_LEVEL` and `AWS_LAMBDA_LOG_FORMAT`. Use cases log ids and
//! outcomes only: never names, phone numbers, e-mail addresses or free text.

/// Installs the Lambda runtime's default subscriber (JSON when the function's
/// logging config says so). Call once at the top of `main`.
pub fn init() {
    lambda_runtime::tracing::init_default_subscriber();
}

/// A plain subscriber for local tools; `RUST_LOG` filters (default `info`).
pub fn init_local() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}
