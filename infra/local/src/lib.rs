//! The local runner: the whole citydesk system in one process on this machine.
//!
//! It reads the stack description that `infra/local/deploy_stack.py` wrote from
//! `template.yaml` (so there is one list of resources), publishes the demo
//! catalogue, builds every function from the environment the template gives
//! it, and then:
//! - serves the template's HTTP routes ([`gateway`]),
//! - polls the template's SQS event sources with Lambda's semantics ([`poller`]),
//! - reads the table's change stream into the outbox's dispatcher ([`stream_poller`]),
//! - fires the template's schedules ([`schedules`], expressions in [`cron`]), or on demand,
//! - plays the SMS and e-mail providers on loopback (End User Messaging and
//!   SES in [`aws_messaging`], the Twilio- and Postmark-compatible APIs in
//!   [`provider`]), plays a
//!   resident's phone texting the city ([`resident_phone`]) and SES handing
//!   over mail dropped in the bucket ([`mail_drop`]),
//! - delivers the stack's SNS topics to the functions subscribed to them
//!   ([`sns_delivery`]),
//! - answers the invocations a service makes directly, as Amazon Connect's
//!   contact flows do ([`direct_invoke`]),
//! - runs a development identity provider for staff tokens ([`dev_issuer`]).
//!
//! The same runner works against LocalStack or a real account: only the
//! endpoint and credentials differ.

pub mod aws_messaging;
mod credentials;
pub mod cron;
pub mod dev_issuer;
pub mod direct_invoke;
pub mod event_filter;
pub mod functions;
pub mod gateway;
pub mod mail_drop;
pub mod poller;
pub mod provider;
pub mod resident_phone;
pub mod schedules;
pub mod sns_delivery;
pub mod stack;
pub mod stream_poller;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::credentials::{EmailCredential, demo_staff_tokens, write_credentials};
use anyhow::Context;
use axum::Router;
use citydesk_aws::city_publisher::{CityPublisher, Published, cloudwatch_client, new_api_key};
use citydesk_aws::config::{Clients, CommonConfig, Env};
use citydesk_aws::dynamo::DynamoStore;
use citydesk_aws::s3::S3Blobs;
use jiff::Timestamp;
use tokio::sync::watch;

use crate::dev_issuer::DevIssuer;
use crate::functions::LocalFunction;
use crate::provider::Outbox;
use crate::stack::Stack;

/// What to run and where.
#[derive(Debug, Clone)]
pub struct Options {
    pub stack_file: PathBuf,
    /// Address of the local HTTP API (`127.0.0.1:3000`; port 0 picks a free one).
    pub listen: SocketAddr,
    /// Folders with `catalogue.toml` and `districts.geojson`, one per city.
    pub catalogue_dirs: Vec<PathBuf>,
    /// Where demo credentials are written (`.local/credentials.json`).
    pub credentials_file: PathBuf,
    /// Fire schedules at their times (tests turn this off and fire by hand).
    pub fire_schedules: bool,
}

/// A running system; dropping it does not stop it, [`RunningSystem::shutdown`] does.
#[derive(Debug)]
pub struct RunningSystem {
    pub address: SocketAddr,
    /// The stack description the system was started from.
    pub stack_file: PathBuf,
    /// The demo Open311 client's API key.
    pub open311_api_key: String,
    pub stack: Stack,
    pub published: Published,
    pub outbox: Outbox,
    /// The development identity provider the functions accept staff tokens from.
    pub issuer: DevIssuer,
    /// A ready token per demo role (as in the credentials file's `"staff"`).
    pub staff_tokens: BTreeMap<String, String>,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl RunningSystem {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Variables a function gets besides the template's: the emulator endpoint and
/// credentials (as Lambda injects them), and the fake providers' addresses.
fn function_env(
    stack: &Stack,
    binary: &str,
    base: &BTreeMap<String, String>,
    local_url: &str,
    issuer: &DevIssuer,
) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = base.clone().into_iter().collect();
    if env.contains_key("STAFF_ISSUER") {
        // Staff endpoints accept the development issuer's tokens here, as
        // they accept the Cognito pool's (or the city's provider's) in AWS.
        env.insert("STAFF_ISSUER".into(), issuer.issuer().to_owned());
        env.insert("STAFF_AUDIENCE".into(), dev_issuer::LOCAL_AUDIENCE.into());
        env.insert("STAFF_JWKS_URL".into(), issuer.jwks_url());
        env.insert("STAFF_GROUPS_CLAIM".into(), "cognito:groups".into());
    }
    if env.contains_key("STAFF_AUTHORIZE_URL") {
        // The staff pages sign in through the development issuer's code flow.
        env.insert("STAFF_AUTHORIZE_URL".into(), issuer.authorize_url());
        env.insert("STAFF_TOKEN_URL".into(), issuer.token_url());
        env.insert("PUBLIC_BASE_URL".into(), local_url.to_owned());
    }
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
    ] {
        if let Ok(v) = std::env::var(name) {
            env.insert(name.to_owned(), v);
        }
    }
    let endpoint_is_local =
        stack.endpoint_url.contains("127.0.0.1") || stack.endpoint_url.contains("localhost");
    if endpoint_is_local {
        env.entry("AWS_ACCESS_KEY_ID".into())
            .or_insert_with(|| "test".into());
        env.entry("AWS_SECRET_ACCESS_KEY".into())
            .or_insert_with(|| "test".into());
    }
    if !stack.endpoint_url.is_empty() {
        env.insert("AWS_ENDPOINT_URL".into(), stack.endpoint_url.clone());
    }
    if endpoint_is_local {
        // One emulator process answers every function here: under a burst a
        // call can take seconds, which in AWS would be a stuck attempt.
        env.entry("SDK_ATTEMPT_TIMEOUT_MS".into())
            .or_insert_with(|| "20000".into());
    }
    env.insert("AWS_REGION".into(), stack.region.clone());
    if binary == "intake-sms" {
        // The provider this machine plays calls the local API, and signs for it.
        env.insert(
            "SMS_WEBHOOK_URL".into(),
            format!("{local_url}{}", provider::SMS_WEBHOOK_PATH),
        );
        env.insert("SMS_ACCOUNT_SID".into(), provider::LOCAL_SMS_ACCOUNT.into());
        env.insert("PUBLIC_BASE_URL".into(), local_url.to_owned());
    }
    if binary == "intake-email" {
        // The local notify step writes from this address: never take its mail.
        let own = env.get("CITY_EMAIL_ADDRESSES").cloned().unwrap_or_default();
        env.insert(
            "CITY_EMAIL_ADDRESSES".into(),
            format!("{own},{}", provider::LOCAL_EMAIL_FROM),
        );
    }
    if binary == "notify" {
        // Links in messages lead to this machine's API.
        env.insert("PUBLIC_BASE_URL".into(), local_url.to_owned());
    }
    if binary == "notify" || binary == "intake-sms-sns" {
        provider::play_providers(&mut env, local_url);
    }
    env
}

/// Stores the fake providers' tokens where the notify function reads secrets:
/// the SSM parameters its environment names, as an operator would in AWS.
async fn store_provider_secrets(
    stack: &Stack,
    local_url: &str,
    issuer: &DevIssuer,
) -> anyhow::Result<()> {
    let Some(notify) = stack.functions.values().find(|f| f.binary == "notify") else {
        return Ok(());
    };
    let env = function_env(
        stack,
        &notify.binary,
        &notify.environment,
        local_url,
        issuer,
    );
    let common = CommonConfig::from_env(&Env::from_map(env.clone()))?;
    let ssm = aws_sdk_ssm::Client::new(&common.sdk_config().await);
    for (variable, value) in [
        ("SMS_AUTH_TOKEN_PARAMETER", provider::LOCAL_SMS_TOKEN),
        ("EMAIL_API_TOKEN_PARAMETER", provider::LOCAL_EMAIL_TOKEN),
    ] {
        let Some(name) = env.get(variable).filter(|n| !n.is_empty()) else {
            continue;
        };
        ssm.put_parameter()
            .name(name)
            .value(value)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .with_context(|| {
                format!("storing the local provider secret in SSM parameter {name}")
            })?;
    }
    // The tracking and contact keys: created once, kept across restarts so
    // links stay valid and a person's requests stay findable.
    let mut names: Vec<String> = stack
        .functions
        .values()
        .flat_map(|f| {
            ["TRACKING_SECRET_PARAMETER", "CONTACT_KEY_PARAMETER"]
                .into_iter()
                .filter_map(|variable| f.environment.get(variable).cloned())
        })
        .collect();
    names.sort();
    names.dedup();
    for name in names {
        let created = ssm
            .put_parameter()
            .name(&name)
            .value(new_api_key())
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .overwrite(false)
            .send()
            .await;
        if let Err(e) = created {
            let err = e.into_service_error();
            if !err.is_parameter_already_exists() {
                return Err(anyhow::Error::new(err).context(format!("creating the key {name}")));
            }
        }
    }
    Ok(())
}

/// An Open311 key for a demo client application, as `citydesk api-key create` issues one.
async fn issue_demo_client_key(env: &HashMap<String, String>) -> anyhow::Result<String> {
    let common = CommonConfig::from_env(&Env::from_map(env.clone()))?;
    let store = DynamoStore::new(Clients::new(&common).await.dynamodb, &common.table_name);
    let key = new_api_key();
    store
        .put_client_key(
            &citydesk_core::ids::sha256_hex(key.as_bytes()),
            "citydesk-local-demo",
            Timestamp::now(),
        )
        .await?;
    Ok(key)
}

/// Publishes each city as `citydesk city publish` does (the same code), then
/// gives every department a fresh key for this run's credentials file (the
/// keys a publication issued are shown only to it). The departments of all
/// cities end up in one `Published`.
async fn publish_catalogues(
    stack: &Stack,
    options: &Options,
    env: &HashMap<String, String>,
) -> anyhow::Result<Published> {
    let common = CommonConfig::from_env(&Env::from_map(env.clone()))?;
    let clients = Clients::new(&common).await;
    let blobs = S3Blobs::new(clients.s3.clone(), &common.bucket_name);
    let store = DynamoStore::new(clients.dynamodb.clone(), &common.table_name);
    let cloudwatch = cloudwatch_client(&clients.sdk);
    let publisher = CityPublisher {
        blobs: &blobs,
        store: &store,
        sqs: &clients.sqs,
        cloudwatch: &cloudwatch,
        stack_name: &stack.stack_name,
        alarm_topic_arn: stack.resource("AlarmTopic"),
    };
    let mut all: Option<Published> = None;
    for dir in &options.catalogue_dirs {
        let catalogue = citydesk_aws::city_publisher::read_city_folder(dir)?;
        let mut published = publisher.publish(&catalogue, false).await?;
        let knowledge = citydesk_aws::knowledge::read_knowledge_folder(dir, &catalogue)?;
        citydesk_aws::knowledge::publish_knowledge(&blobs, &knowledge).await?;
        for department in catalogue.departments() {
            if !published
                .department_keys
                .contains_key(department.code.as_str())
            {
                let key = publisher.issue_key(&department.code).await?;
                published
                    .department_keys
                    .insert(department.code.to_string(), key);
            }
        }
        match &mut all {
            None => all = Some(published),
            Some(all) => {
                all.department_queues.extend(published.department_queues);
                all.department_keys.extend(published.department_keys);
            }
        }
    }
    all.context("no catalogue folder given")
}

/// The runner must be the only consumer of every queue and stream: an enabled
/// event source mapping (the emulator's own, or a real account's deployed
/// trigger) would take records first, or lose them.
fn refuse_second_consumers(stack: &Stack) -> anyhow::Result<()> {
    let enabled: Vec<String> = stack
        .event_source_mappings
        .iter()
        .filter(|m| m.enabled)
        .map(|m| {
            format!(
                "{} ({} <- {})",
                m.uuid,
                m.function_name.as_deref().unwrap_or("?"),
                m.event_source_arn.as_deref().unwrap_or("?")
            )
        })
        .collect();
    if enabled.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "these event source mappings would consume the stack's queues or stream besides this runner: {}. \
         On the emulator, deploy again with infra/local/deploy_stack.py --recreate (it creates none); \
         on a real account, disable them first (aws lambda update-event-source-mapping --uuid <uuid> --no-enabled)",
        enabled.join(", ")
    )
}

/// A mail drop for each function the template lets SES invoke: its bucket
/// and `INBOUND_MAIL_PREFIX` (from its environment).
fn mail_drops(
    stack: &Stack,
    invoked: &BTreeMap<String, functions::ScheduledHandler>,
    clients: &Clients,
) -> Vec<mail_drop::MailDrop> {
    stack
        .direct_invocations
        .iter()
        .filter(|i| i.principal == "ses.amazonaws.com")
        .filter_map(|i| {
            let env = &stack.functions.get(&i.function)?.environment;
            Some(mail_drop::MailDrop {
                s3: clients.s3.clone(),
                bucket: env.get("BUCKET_NAME")?.clone(),
                prefix: env.get("INBOUND_MAIL_PREFIX")?.clone(),
                function: i.function.clone(),
                handler: invoked.get(&i.function)?.clone(),
            })
        })
        .collect()
}

/// The timeout the template gives a function (Lambda's default when unknown).
fn function_timeout(stack: &Stack, function: &str) -> std::time::Duration {
    std::time::Duration::from_secs(stack.functions.get(function).map_or(3, |f| f.timeout))
}

/// Starts everything and returns once the HTTP API answers.
pub async fn start(options: Options) -> anyhow::Result<RunningSystem> {
    let stack = Stack::load(&options.stack_file)?;
    refuse_second_consumers(&stack)?;
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .with_context(|| format!("binding {}", options.listen))?;
    let address = listener.local_addr()?;
    let local_url = format!("http://{address}");
    let issuer = DevIssuer::generate(&local_url)?;

    let any_env = stack
        .functions
        .values()
        .next()
        .map(|f| function_env(&stack, &f.binary, &f.environment, &local_url, &issuer))
        .context("the stack has no functions")?;
    let published = publish_catalogues(&stack, &options, &any_env).await?;
    let open311_api_key = issue_demo_client_key(&any_env).await?;
    let staff_tokens = demo_staff_tokens(&issuer, &published)?;
    write_credentials(
        &options.credentials_file,
        &published,
        &open311_api_key,
        &staff_tokens,
        local_url.clone(),
        EmailCredential::of(&stack),
    )?;
    store_provider_secrets(&stack, &local_url, &issuer).await?;

    let mut http_functions = BTreeMap::new();
    let mut sqs_functions = BTreeMap::new();
    let mut stream_functions = BTreeMap::new();
    let mut scheduled_functions = BTreeMap::new();
    let mut invoked_functions = BTreeMap::new();
    for (logical_id, f) in &stack.functions {
        let env = function_env(&stack, &f.binary, &f.environment, &local_url, &issuer);
        // Boxed: the start-up of every function is one large future, too
        // large for a test thread's stack in a debug build.
        match Box::pin(functions::build(
            &f.binary,
            env,
            function_timeout(&stack, logical_id),
        ))
        .await
        .with_context(|| format!("starting {logical_id}"))?
        {
            LocalFunction::Http(router) => {
                http_functions.insert(logical_id.clone(), router);
            }
            LocalFunction::Sqs(handler) => {
                sqs_functions.insert(logical_id.clone(), handler);
            }
            LocalFunction::Stream(handler) => {
                stream_functions.insert(logical_id.clone(), handler);
            }
            LocalFunction::Scheduled(handler) => {
                scheduled_functions.insert(logical_id.clone(), handler);
            }
            LocalFunction::Invoked(handler) => {
                invoked_functions.insert(logical_id.clone(), handler);
            }
        }
    }

    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();

    let clients = Clients::new(&CommonConfig::from_env(&Env::from_map(any_env))?).await;
    let sqs = clients.sqs.clone();
    let streams = aws_sdk_dynamodbstreams::Client::new(&clients.sdk);
    for source in &stack.queue_sources {
        let handler = sqs_functions
            .get(&source.function)
            .cloned()
            .with_context(|| {
                format!(
                    "queue source for {} which is not an SQS function",
                    source.function
                )
            })?;
        tasks.push(tokio::spawn(poller::run(
            sqs.clone(),
            source.clone(),
            stack.region.clone(),
            handler,
            function_timeout(&stack, &source.function),
            stop_rx.clone(),
        )));
    }

    // Functions subscribed to a topic: the runner's queue on the topic, then the function.
    let sns = aws_sdk_sns::Client::new(&clients.sdk);
    let mut sms_topic = None;
    for source in &stack.sns_sources {
        let handler = invoked_functions
            .get(&source.function)
            .cloned()
            .with_context(|| {
                format!(
                    "SNS source for {} which is not an event-invoked function",
                    source.function
                )
            })?;
        let delivery =
            sns_delivery::subscribe(&sqs, &sns, &stack.stack_name, source, handler).await?;
        if stack
            .functions
            .get(&source.function)
            .is_some_and(|f| f.binary == "intake-sms-sns")
        {
            sms_topic = Some(source.topic_arn.clone());
        }
        tasks.push(tokio::spawn(delivery.run(stop_rx.clone())));
    }

    for source in &stack.stream_sources {
        let handler = stream_functions
            .get(&source.function)
            .cloned()
            .with_context(|| {
                format!(
                    "stream source for {} which is not a stream function",
                    source.function
                )
            })?;
        let poller = stream_poller::StreamPoller {
            streams: streams.clone(),
            sqs: sqs.clone(),
            source: source.clone(),
            region: stack.region.clone(),
            handler,
            checkpoints: stream_poller::Checkpoints::at(
                options.stack_file.with_extension("stream-checkpoints.json"),
            ),
            function_timeout: function_timeout(&stack, &source.function),
        };
        tasks.push(tokio::spawn(poller.run(stop_rx.clone())));
    }

    // SES's part: mail dropped under a function's inbound prefix reaches it.
    for drop in mail_drops(&stack, &invoked_functions, &clients) {
        tasks.push(tokio::spawn(drop.run(stop_rx.clone())));
    }

    let schedules = schedules::entries(&stack, &scheduled_functions)?;
    if options.fire_schedules {
        for entry in &schedules {
            tasks.push(tokio::spawn(schedules::fire_on_schedule(
                entry.clone(),
                stop_rx.clone(),
            )));
        }
    }

    let outbox = Outbox::default();
    let gateway = gateway::Gateway::new(stack.http_routes.clone(), http_functions);
    let local = schedules::routes(schedules);
    let api: Router = Router::new()
        .fallback(gateway::Gateway::dispatch)
        .with_state(gateway);
    let app = Router::new()
        .merge(local)
        .merge(provider::routes(outbox.clone()))
        .merge(aws_messaging::routes(outbox.clone()))
        .merge(resident_phone::routes(
            outbox.clone(),
            &local_url,
            sms_topic.map(|topic| (sns.clone(), topic)),
        ))
        .merge(direct_invoke::routes(&stack, invoked_functions.clone())?)
        .merge(issuer.routes(staff_tokens.keys().cloned().collect()))
        .fallback_service(api);
    let mut server_stop = stop_rx.clone();
    tasks.push(tokio::spawn(async move {
        let shutdown = async move {
            let _ = server_stop.changed().await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(error = %e, "local HTTP server stopped");
        }
    }));

    Ok(RunningSystem {
        address,
        stack_file: options.stack_file.clone(),
        open311_api_key,
        stack,
        published,
        outbox,
        issuer,
        staff_tokens,
        stop: stop_tx,
        tasks,
    })
}
