//! The stack description `infra/local/deploy_stack.py` writes, the function
//! environments derived from it, and publishing the demo catalogue the way
//! the local runner does (S3 document and department queues).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use citydesk_aws::city_publisher::{CityPublisher, cloudwatch_client};
use citydesk_aws::config::{Clients, CommonConfig, Env};
use citydesk_aws::dynamo::DynamoStore;
use citydesk_aws::s3::S3Blobs;
use citydesk_core::catalogue::{Catalogue, CatalogueDocument};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Stack {
    pub stack_name: String,
    pub endpoint_url: String,
    pub region: String,
    pub functions: BTreeMap<String, StackFunction>,
}

#[derive(Debug, Deserialize)]
pub struct StackFunction {
    pub binary: String,
    pub function_name: String,
    pub environment: BTreeMap<String, String>,
}

impl Stack {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read(path).with_context(|| {
            format!(
                "reading {}; deploy the stack with infra/local/deploy_stack.py first (infra/bench/run.sh does)",
                path.display()
            )
        })?;
        serde_json::from_slice(&text)
            .with_context(|| format!("{} is not a stack description", path.display()))
    }

    pub fn function(&self, binary: &str) -> anyhow::Result<&StackFunction> {
        self.functions
            .values()
            .find(|f| f.binary == binary)
            .with_context(|| format!("the stack has no function with binary {binary}"))
    }

    /// What a process needs besides the template's variables: the emulator
    /// endpoint, the region and dummy credentials (as Lambda injects real ones).
    pub fn aws_env(&self) -> BTreeMap<String, String> {
        let mut env = BTreeMap::from([
            ("AWS_REGION".to_owned(), self.region.clone()),
            ("AWS_DEFAULT_REGION".to_owned(), self.region.clone()),
            ("AWS_ACCESS_KEY_ID".to_owned(), "test".to_owned()),
            ("AWS_SECRET_ACCESS_KEY".to_owned(), "test".to_owned()),
        ]);
        if !self.endpoint_url.is_empty() {
            env.insert("AWS_ENDPOINT_URL".to_owned(), self.endpoint_url.clone());
        }
        env
    }

    /// A function's full environment: the template's variables plus [`Self::aws_env`].
    pub fn function_env(&self, f: &StackFunction) -> BTreeMap<String, String> {
        let mut env = f.environment.clone();
        env.extend(self.aws_env());
        env
    }
}

/// Stores a value in every SSM parameter a function's environment names
/// (`*_PARAMETER`: the tracking key, the providers' tokens), as an operator
/// does before the first deploy: the functions read them at start.
pub async fn store_secrets(stack: &Stack) -> anyhow::Result<usize> {
    let mut names: Vec<String> = stack
        .functions
        .values()
        .flat_map(|f| {
            f.environment
                .iter()
                .filter(|(k, v)| k.ends_with("_PARAMETER") && !v.is_empty())
                .map(|(_, v)| v.clone())
        })
        .collect();
    names.sort();
    names.dedup();
    let any = stack
        .functions
        .values()
        .next()
        .context("the stack has no functions")?;
    let env = Env::from_map(stack.function_env(any).into_iter().collect());
    let common = CommonConfig::from_env(&env)?;
    let ssm = aws_sdk_ssm::Client::new(&common.sdk_config().await);
    for name in &names {
        ssm.put_parameter()
            .name(name)
            .value(citydesk_aws::city_publisher::new_api_key())
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .with_context(|| format!("storing SSM parameter {name} on the emulator"))?;
    }
    Ok(names.len())
}

/// Publishes the demo catalogue to the stack's bucket and creates the
/// department queues, as `citydesk_local::start` does (no API keys: the
/// benchmark calls no department API).
pub async fn publish_catalogue(stack: &Stack, catalogue_dir: &Path) -> anyhow::Result<String> {
    let read = |name: &str| {
        let path = catalogue_dir.join(name);
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    };
    let catalogue = Catalogue::new(CatalogueDocument::from_sources(
        &read("catalogue.toml")?,
        &read("districts.geojson")?,
    )?)?;
    let any = stack
        .functions
        .values()
        .next()
        .context("the stack has no functions")?;
    let env = Env::from_map(stack.function_env(any).into_iter().collect());
    let common = CommonConfig::from_env(&env)?;
    let clients = Clients::new(&common).await;
    let blobs = S3Blobs::new(clients.s3.clone(), &common.bucket_name);
    let store = DynamoStore::new(clients.dynamodb.clone(), &common.table_name);
    let cloudwatch = cloudwatch_client(&clients.sdk);
    let published = CityPublisher {
        blobs: &blobs,
        store: &store,
        sqs: &clients.sqs,
        cloudwatch: &cloudwatch,
        stack_name: &stack.stack_name,
        alarm_topic_arn: None,
    }
    .publish(&catalogue, false)
    .await
    .context("publishing the demo catalogue to the emulator")?;
    Ok(published.catalogue_key)
}
