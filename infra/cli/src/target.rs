//! Which deployment a command acts on: a stack description written by
//! `infra/local/deploy_stack.py` (local emulator or `--describe-only` of a real
//! stack), or the table and bucket named directly.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;
use citydesk_aws::config::{Clients, CommonConfig, Env};
use citydesk_aws::dynamo::DynamoStore;
use citydesk_aws::s3::S3Blobs;

/// How the command names the deployment.
#[derive(Debug, Clone, Copy)]
pub struct TargetArgs<'a> {
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
}

pub async fn deployment(args: TargetArgs<'_>) -> anyhow::Result<Deployment> {
    let mut env: HashMap<String, String> = std::env::vars().collect();
    if let Some(path) = args.stack_file {
        let text = std::fs::read(path).with_context(|| {
            format!(
                "reading {} (start the system with `make run`, or name --table and --bucket)",
                path.display()
            )
        })?;
        let stack: serde_json::Value =
            serde_json::from_slice(&text).with_context(|| format!("parsing {}", path.display()))?;
        let resources = &stack["resources"];
        if let Some(table) = resources["Table"].as_str() {
            env.insert("TABLE_NAME".into(), table.to_owned());
        }
        if let Some(bucket) = resources["Bucket"].as_str() {
            env.insert("BUCKET_NAME".into(), bucket.to_owned());
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
    }
    if let Some(table) = args.table {
        env.insert("TABLE_NAME".into(), table.to_owned());
    }
    if let Some(bucket) = args.bucket {
        env.insert("BUCKET_NAME".into(), bucket.to_owned());
    }
    if !env.contains_key("TABLE_NAME") && !env.contains_key("BUCKET_NAME") {
        anyhow::bail!(
            "name the deployment with --stack-file FILE, or --table NAME and --bucket NAME"
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
        store: DynamoStore::new(clients.dynamodb, common.table_name.clone()),
        blobs: S3Blobs::new(clients.s3, common.bucket_name.clone()),
        bucket: common.bucket_name,
    })
}

/// The deployment's table (for commands that only need it).
pub async fn store(stack_file: Option<&Path>, table: Option<&str>) -> anyhow::Result<DynamoStore> {
    Ok(deployment(TargetArgs {
        stack_file: if table.is_some() { None } else { stack_file },
        table,
        bucket: None,
    })
    .await?
    .store)
}
