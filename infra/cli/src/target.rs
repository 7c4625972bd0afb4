//! Which deployment a command acts on: a stack deployed with `sam deploy`
//! (named by `--stack-name`, its outputs read with CloudFormation
//! `DescribeStacks`), a stack description written by
//! `infra/local/deploy_stack.py` (the local emulator), or the table and
//! bucket named directly.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;
use citydesk_aws::config::{Clients, CommonConfig, Env};
use citydesk_aws::dynamo::DynamoStore;
use citydesk_aws::s3::S3Blobs;

/// How the command names the deployment.
#[derive(Debug, Clone, Copy)]
pub struct TargetArgs<'a> {
    pub stack_name: Option<&'a str>,
    pub stack_file: Option<&'a Path>,
    pub table: Option<&'a str>,
    pub bucket: Option<&'a str>,
}

/// The deployment's table and bucket, with the endpoint and credentials from
/// the environment (or the stack file's emulator).
pub struct Deployment {
    pub store: DynamoStore,
    pub blobs: S3Blobs,
    pub bucket: String,
    pub clients: Clients,
    /// The stack's name (department queues are named after it), when known.
    pub stack_name: Option<String>,
    /// The stack's `AlarmTopicArn` output, when it has one.
    pub alarm_topic_arn: Option<String>,
    /// The SSM parameter holding the person-index key (the stack's
    /// `ContactKeyParameter`).
    pub contact_key_parameter: String,
}

/// The template's default `ContactKeyParameter`.
const DEFAULT_CONTACT_KEY_PARAMETER: &str = "/citydesk/contact-key";

/// What a stack says about itself: its name and its outputs.
struct StackOutputs {
    name: String,
    outputs: HashMap<String, String>,
    parameters: HashMap<String, String>,
}

pub async fn deployment(args: TargetArgs<'_>) -> anyhow::Result<Deployment> {
    let mut env: HashMap<String, String> = std::env::vars().collect();
    let mut stack = None;
    if let Some(name) = args.stack_name {
        stack = Some(describe_stack(name, &env).await?);
    } else if let Some(path) = args.stack_file {
        stack = Some(read_stack_file(path, &mut env)?);
    }
    if let Some(stack) = &stack {
        for (output, variable) in [("TableName", "TABLE_NAME"), ("BucketName", "BUCKET_NAME")] {
            if let Some(value) = stack.outputs.get(output) {
                env.insert(variable.into(), value.clone());
            }
        }
    }
    if let Some(table) = args.table {
        env.insert("TABLE_NAME".into(), table.to_owned());
    }
    if let Some(bucket) = args.bucket {
        env.insert("BUCKET_NAME".into(), bucket.to_owned());
    }
    if !env.contains_key("TABLE_NAME") && !env.contains_key("BUCKET_NAME") {
        anyhow::bail!(
            "name the deployment with --stack-name NAME (a deployed stack), --stack-file FILE, or --table NAME and --bucket NAME"
        );
    }
    env.entry("TABLE_NAME".into())
        .or_insert_with(|| "unnamed-table".into());
    env.entry("BUCKET_NAME".into())
        .or_insert_with(|| "unnamed-bucket".into());
    // The commands name their city themselves.
    env.entry("JURISDICTION_ID".into())
        .or_insert_with(|| "unused".into());
    let common = CommonConfig::from_env(&Env::from_map(env))?;
    let clients = Clients::new(&common).await;
    Ok(Deployment {
        store: DynamoStore::new(clients.dynamodb.clone(), common.table_name.clone()),
        blobs: S3Blobs::new(clients.s3.clone(), common.bucket_name.clone()),
        bucket: common.bucket_name,
        clients,
        alarm_topic_arn: stack
            .as_ref()
            .and_then(|s| s.outputs.get("AlarmTopicArn").cloned()),
        contact_key_parameter: stack
            .as_ref()
            .and_then(|s| s.parameters.get("ContactKeyParameter").cloned())
            .unwrap_or_else(|| DEFAULT_CONTACT_KEY_PARAMETER.to_owned()),
        stack_name: stack.map(|s| s.name),
    })
}

/// The outputs of a deployed stack, with the environment's credentials,
/// region and (for an emulator) `AWS_ENDPOINT_URL`.
async fn describe_stack(name: &str, env: &HashMap<String, String>) -> anyhow::Result<StackOutputs> {
    let common = CommonConfig::from_env(&Env::from_map(
        env.clone()
            .into_iter()
            .chain([
                ("TABLE_NAME".to_owned(), "unused".to_owned()),
                ("BUCKET_NAME".to_owned(), "unused".to_owned()),
                ("JURISDICTION_ID".to_owned(), "unused".to_owned()),
            ])
            .collect(),
    ))?;
    let cloudformation = aws_sdk_cloudformation::Client::new(&common.sdk_config().await);
    let described = cloudformation
        .describe_stacks()
        .stack_name(name)
        .send()
        .await
        .map_err(|e| {
            let e = e.into_service_error();
            anyhow::anyhow!(
                "cannot describe stack {name} (is it deployed in this region, AWS_REGION={}, with these credentials?): {e}",
                env.get("AWS_REGION")
                    .or(env.get("AWS_DEFAULT_REGION"))
                    .map_or("unset", String::as_str)
            )
        })?;
    let stack = described
        .stacks()
        .first()
        .with_context(|| format!("no stack named {name}"))?;
    let outputs = stack
        .outputs()
        .iter()
        .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
        .collect::<HashMap<_, _>>();
    if !outputs.contains_key("TableName") {
        anyhow::bail!("stack {name} has no TableName output: is it a citydesk stack?");
    }
    let parameters = stack
        .parameters()
        .iter()
        .filter_map(|p| {
            Some((
                p.parameter_key()?.to_owned(),
                p.parameter_value()?.to_owned(),
            ))
        })
        .collect();
    Ok(StackOutputs {
        name: name.to_owned(),
        outputs,
        parameters,
    })
}

/// A stack description from `deploy_stack.py`; the emulator's endpoint and
/// dummy credentials go into `env`.
fn read_stack_file(path: &Path, env: &mut HashMap<String, String>) -> anyhow::Result<StackOutputs> {
    let text = std::fs::read(path).with_context(|| {
        format!(
            "reading {} (start the system with `make run`, or name --stack-name, or --table and --bucket)",
            path.display()
        )
    })?;
    let stack: serde_json::Value =
        serde_json::from_slice(&text).with_context(|| format!("parsing {}", path.display()))?;
    let mut outputs: HashMap<String, String> = stack["outputs"]
        .as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    for (output, resource) in [("TableName", "Table"), ("BucketName", "Bucket")] {
        if let Some(value) = stack["resources"][resource].as_str() {
            outputs
                .entry(output.into())
                .or_insert_with(|| value.to_owned());
        }
    }
    if let Some(endpoint) = stack["endpoint_url"].as_str().filter(|e| !e.is_empty()) {
        env.insert("AWS_ENDPOINT_URL".into(), endpoint.to_owned());
        if endpoint.contains("127.0.0.1") || endpoint.contains("localhost") {
            env.entry("AWS_ACCESS_KEY_ID".into())
                .or_insert_with(|| "test".into());
            env.entry("AWS_SECRET_ACCESS_KEY".into())
                .or_insert_with(|| "test".into());
        }
    }
    if let Some(region) = stack["region"].as_str() {
        env.insert("AWS_REGION".into(), region.to_owned());
    }
    let mut parameters: HashMap<String, String> = stack["parameters"]
        .as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    if let Some(name) = stack["functions"]
        .as_object()
        .into_iter()
        .flat_map(|f| f.values())
        .find_map(|f| f["environment"]["CONTACT_KEY_PARAMETER"].as_str())
    {
        parameters
            .entry("ContactKeyParameter".into())
            .or_insert_with(|| name.to_owned());
    }
    Ok(StackOutputs {
        name: stack["stack_name"].as_str().unwrap_or_default().to_owned(),
        outputs,
        parameters,
    })
}

/// The deployment's table (for commands that only need it).
pub async fn store(stack_file: Option<&Path>, table: Option<&str>) -> anyhow::Result<DynamoStore> {
    Ok(deployment(TargetArgs {
        stack_name: None,
        stack_file: if table.is_some() { None } else { stack_file },
        table,
        bucket: None,
    })
    .await?
    .store)
}
