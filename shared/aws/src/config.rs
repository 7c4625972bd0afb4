//! Configuration: read once at cold start into typed structs.
//!
//! Every function reads the variables it needs through [`Env`], which works on
//! the process environment in Lambda and on a plain map in the local runner and
//! tests (so nobody mutates the process environment).
//!
//! Shared variables:
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `TABLE_NAME` | the DynamoDB table | required |
//! | `BUCKET_NAME` | the S3 bucket (catalogue, reports, raw messages) | required |
//! | `JURISDICTION_ID` | the city whose catalogue is served (the default one) | required |
//! | `JURISDICTION_IDS` | further cities one deployment serves, comma-separated | none |
//! | `AWS_ENDPOINT_URL` | AWS-API emulator (moto, LocalStack); unset in AWS | unset |
//! | `AWS_REGION` | region | from the SDK's chain |
//! | `SDK_MAX_ATTEMPTS` | attempts per AWS call (throttling, 5xx, timeouts are retried) | 4 |
//! | `SDK_INITIAL_BACKOFF_MS` | first retry's backoff; doubles, with full jitter | 50 |
//! | `SDK_MAX_BACKOFF_MS` | longest backoff between attempts | 1000 |
//! | `SDK_ATTEMPT_TIMEOUT_MS` | one attempt's limit, so a stuck call is retried, not waited out | 3000 |
//!
//! After the last attempt the failure is a retryable `PortError`: a queue or
//! stream consumer reports the record as a batch item failure, an HTTP
//! handler answers 503.

use std::collections::HashMap;

use aws_config::BehaviorVersion;
use citydesk_core::ids::JurisdictionId;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Variables of one function: the process environment or a given map.
#[derive(Debug, Clone, Default)]
pub struct Env(HashMap<String, String>);

impl Env {
    pub fn from_process() -> Self {
        Self(std::env::vars().collect())
    }
    pub fn from_map(map: HashMap<String, String>) -> Self {
        Self(map)
    }
    pub fn optional(&self, name: &'static str) -> Option<String> {
        self.0
            .get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }
    pub fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.optional(name).ok_or(ConfigError::Missing(name))
    }
    pub fn parsed<T: std::str::FromStr>(
        &self,
        name: &'static str,
        default: T,
    ) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        match self.optional(name) {
            None => Ok(default),
            Some(raw) => raw.parse().map_err(|e: T::Err| ConfigError::Invalid {
                name,
                reason: e.to_string(),
            }),
        }
    }
}

/// Staff sign-in, for the functions with staff endpoints: the identity
/// provider whose tokens are accepted.
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `STAFF_ISSUER` | the tokens' `iss` (the Cognito pool's issuer URL, or the city's own provider) | unset: no staff sign-in |
/// | `STAFF_AUDIENCE` | the tokens' `aud` (the application's client id) | required with an issuer |
/// | `STAFF_JWKS_URL` | the provider's key set | `{issuer}/.well-known/jwks.json` |
/// | `STAFF_GROUPS_CLAIM` | the claim naming the groups (roles) | `cognito:groups` |
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSignIn {
    pub verifier: citydesk_staff_auth::VerifierConfig,
    pub jwks_url: String,
}

impl StaffSignIn {
    pub fn from_env(env: &Env) -> Result<Option<Self>, ConfigError> {
        let Some(issuer) = env.optional("STAFF_ISSUER") else {
            return Ok(None);
        };
        let issuer = issuer.trim_end_matches('/').to_owned();
        if !(issuer.starts_with("https://") || issuer.starts_with("http://127.0.0.1")) {
            return Err(ConfigError::Invalid {
                name: "STAFF_ISSUER",
                reason: "must be an https:// URL".into(),
            });
        }
        let audience = env.required("STAFF_AUDIENCE")?;
        let jwks_url = env
            .optional("STAFF_JWKS_URL")
            .unwrap_or_else(|| format!("{issuer}/.well-known/jwks.json"));
        let mut verifier = citydesk_staff_auth::VerifierConfig::new(issuer, audience);
        if let Some(claim) = env.optional("STAFF_GROUPS_CLAIM") {
            verifier.groups_claim = claim;
        }
        Ok(Some(Self { verifier, jwks_url }))
    }
    /// The token verifier for this sign-in (create once per cold start: it
    /// caches the provider's key set across invocations).
    pub fn tokens(&self) -> std::sync::Arc<dyn citydesk_staff_auth::StaffTokens> {
        std::sync::Arc::new(citydesk_staff_auth::TokenVerifier::over_http(
            self.verifier.clone(),
            self.jwks_url.clone(),
        ))
    }
}

/// What every function needs: where the table and bucket are, and which city.
#[derive(Debug, Clone)]
pub struct CommonConfig {
    pub table_name: String,
    pub bucket_name: String,
    pub jurisdiction: JurisdictionId,
    /// Every city this deployment serves (`JURISDICTION_IDS`, comma-separated),
    /// the default `jurisdiction` first.
    pub jurisdictions: Vec<JurisdictionId>,
    /// Endpoint of an AWS-API emulator; `None` in AWS.
    pub endpoint_url: Option<String>,
    pub region: Option<String>,
    /// Static credentials from the function's environment (as Lambda injects
    /// them); `None` uses the SDK's default chain.
    pub credentials: Option<StaticCredentials>,
    /// How AWS calls are retried (set explicitly, not left to the SDK's defaults).
    pub retry: RetrySettings,
}

/// Retries of AWS calls: the SDK's standard mode (exponential backoff with
/// full jitter, throttling and transient errors only), with these figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySettings {
    pub max_attempts: u32,
    pub initial_backoff: std::time::Duration,
    pub max_backoff: std::time::Duration,
    pub attempt_timeout: std::time::Duration,
}

impl Default for RetrySettings {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: std::time::Duration::from_millis(50),
            max_backoff: std::time::Duration::from_millis(1000),
            attempt_timeout: std::time::Duration::from_millis(3000),
        }
    }
}

impl RetrySettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let d = Self::default();
        let ms = |name, default: std::time::Duration| {
            env.parsed(name, default.as_millis() as u64)
                .map(std::time::Duration::from_millis)
        };
        let settings = Self {
            max_attempts: env.parsed("SDK_MAX_ATTEMPTS", d.max_attempts)?,
            initial_backoff: ms("SDK_INITIAL_BACKOFF_MS", d.initial_backoff)?,
            max_backoff: ms("SDK_MAX_BACKOFF_MS", d.max_backoff)?,
            attempt_timeout: ms("SDK_ATTEMPT_TIMEOUT_MS", d.attempt_timeout)?,
        };
        if settings.max_attempts == 0 {
            return Err(ConfigError::Invalid {
                name: "SDK_MAX_ATTEMPTS",
                reason: "must be at least 1".into(),
            });
        }
        Ok(settings)
    }
}

#[derive(Clone)]
pub struct StaticCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StaticCredentials(..)")
    }
}

impl CommonConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let jurisdiction =
            JurisdictionId::parse(&env.required("JURISDICTION_ID")?).map_err(|e| {
                ConfigError::Invalid {
                    name: "JURISDICTION_ID",
                    reason: e.to_string(),
                }
            })?;
        let mut jurisdictions = vec![jurisdiction.clone()];
        for raw in env
            .optional("JURISDICTION_IDS")
            .unwrap_or_default()
            .split(',')
        {
            let raw = raw.trim();
            if raw.is_empty() {
                continue;
            }
            let id = JurisdictionId::parse(raw).map_err(|e| ConfigError::Invalid {
                name: "JURISDICTION_IDS",
                reason: e.to_string(),
            })?;
            if !jurisdictions.contains(&id) {
                jurisdictions.push(id);
            }
        }
        Ok(Self {
            retry: RetrySettings::from_env(env)?,
            jurisdictions,
            table_name: env.required("TABLE_NAME")?,
            bucket_name: env.required("BUCKET_NAME")?,
            jurisdiction,
            endpoint_url: env.optional("AWS_ENDPOINT_URL"),
            region: env
                .optional("AWS_REGION")
                .or_else(|| env.optional("AWS_DEFAULT_REGION")),
            credentials: match (
                env.optional("AWS_ACCESS_KEY_ID"),
                env.optional("AWS_SECRET_ACCESS_KEY"),
            ) {
                (Some(access_key_id), Some(secret_access_key)) => Some(StaticCredentials {
                    access_key_id,
                    secret_access_key,
                    session_token: env.optional("AWS_SESSION_TOKEN"),
                }),
                _ => None,
            },
        })
    }

    /// SDK configuration, built once per cold start. The endpoint override is
    /// the only difference between AWS, LocalStack and moto.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(url) = &self.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some(region) = &self.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        loader = loader
            .retry_config(
                aws_config::retry::RetryConfig::standard()
                    .with_max_attempts(self.retry.max_attempts)
                    .with_initial_backoff(self.retry.initial_backoff)
                    .with_max_backoff(self.retry.max_backoff),
            )
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .operation_attempt_timeout(self.retry.attempt_timeout)
                    .build(),
            );
        if let Some(c) = &self.credentials {
            loader = loader.credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                c.access_key_id.clone(),
                c.secret_access_key.clone(),
                c.session_token.clone(),
                None,
                "function-environment",
            ));
        }
        loader.load().await
    }
}

/// S3 needs path-style addressing against an emulator on 127.0.0.1.
pub fn s3_client(sdk: &aws_config::SdkConfig, path_style: bool) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(path_style)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// The SDK clients a function uses, created once per cold start.
#[derive(Debug, Clone)]
pub struct Clients {
    /// The shared SDK configuration, for the few functions that need another client.
    pub sdk: aws_config::SdkConfig,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub s3: aws_sdk_s3::Client,
}

impl Clients {
    /// Clients for an AWS-API emulator at `endpoint` with its dummy
    /// credentials (tests and local tools; no table or bucket implied).
    pub async fn for_emulator(endpoint: &str) -> Result<Self, ConfigError> {
        let env = Env::from_map(HashMap::from([
            ("TABLE_NAME".into(), "unused".into()),
            ("BUCKET_NAME".into(), "unused".into()),
            ("JURISDICTION_ID".into(), "unused".into()),
            ("AWS_ENDPOINT_URL".into(), endpoint.into()),
            ("AWS_REGION".into(), "eu-central-1".into()),
            ("AWS_ACCESS_KEY_ID".into(), "test".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "test".into()),
            // One emulator process answers slowly under load (its
            // transactions copy the whole table): wait, rather than retry.
            ("SDK_ATTEMPT_TIMEOUT_MS".into(), "30000".into()),
        ]));
        Ok(Self::new(&CommonConfig::from_env(&env)?).await)
    }

    pub async fn new(config: &CommonConfig) -> Self {
        let sdk = config.sdk_config().await;
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
            sqs: aws_sdk_sqs::Client::new(&sdk),
            s3: s3_client(&sdk, config.endpoint_url.is_some()),
            sdk,
        }
    }
}

impl Clients {
    /// Every served city's catalogue, the default first (once per cold start).
    pub async fn load_catalogues(
        &self,
        config: &CommonConfig,
    ) -> Result<citydesk_core::catalogue::Catalogues, citydesk_core::ports::PortError> {
        let blobs = crate::s3::S3Blobs::new(self.s3.clone(), &config.bucket_name);
        // Side by side: a cold start waits for the slowest city, not for all in turn.
        let catalogues = futures::future::try_join_all(
            config
                .jurisdictions
                .iter()
                .map(|jurisdiction| blobs.load_catalogue(jurisdiction)),
        )
        .await?;
        citydesk_core::catalogue::Catalogues::new(catalogues).map_err(|e| {
            citydesk_core::ports::PortError::permanent("load catalogues", e.to_string())
        })
    }

    /// The trained models of the served cities (once per cold start). A city
    /// without one, or whose model this code refuses (another format version),
    /// is classified by its catalogue's keyword rule; a refusal is logged as an
    /// error naming the file and what to do.
    pub async fn load_models(
        &self,
        config: &CommonConfig,
    ) -> Result<citydesk_core::learning::CityModels, citydesk_core::ports::PortError> {
        let blobs = crate::s3::S3Blobs::new(self.s3.clone(), &config.bucket_name);
        let loaded = futures::future::join_all(
            config
                .jurisdictions
                .iter()
                .map(|jurisdiction| blobs.load_model(jurisdiction.as_str())),
        )
        .await;
        let mut models = Vec::new();
        for (jurisdiction, loaded) in config.jurisdictions.iter().zip(loaded) {
            match loaded {
                Ok(Some(model)) => {
                    tracing::info!(jurisdiction = %jurisdiction, version = %model.version, "model loaded");
                    models.push(model);
                }
                Ok(None) => {
                    tracing::info!(jurisdiction = %jurisdiction, "no trained model: keyword rules");
                }
                Err(crate::s3::ModelLoadError::Storage(e)) => return Err(e),
                Err(refused) => {
                    tracing::error!(jurisdiction = %jurisdiction, error = %refused, "model refused: keyword rules until it is retrained");
                }
            }
        }
        Ok(citydesk_core::learning::CityModels::new(models))
    }

    /// The city's catalogue from the bucket, validated (once per cold start).
    pub async fn load_catalogue(
        &self,
        config: &CommonConfig,
    ) -> Result<citydesk_core::catalogue::Catalogue, citydesk_core::ports::PortError> {
        crate::s3::S3Blobs::new(self.s3.clone(), &config.bucket_name)
            .load_catalogue(&config.jurisdiction)
            .await
    }
}
