//! Which deployment a command acts on: a stack description written by
//! `infra/local/deploy_stack.py` (local emulator or `--describe-only` of a real
//! stack), or the table named directly.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;
use citydesk_aws::config::{Clients, CommonConfig, Env};
use citydesk_aws::dynamo::DynamoStore;

/// The table of the deployment, from `--stack-file` or `--table`, with the
/// endpoint and credentials from the environment (or the stack file's emulator).
pub async fn store(stack_file: Option<&Path>, table: Option<&str>) -> anyhow::Result<DynamoStore> {
    let mut env: HashMap<String, String> = std::env::vars().collect();
    match (stack_file, table) {
        (Some(path), _) => {
            let text =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            let stack: serde_json::Value = serde_json::from_slice(&text)
                .with_context(|| format!("parsing {}", path.display()))?;
            let table = stack["resources"]["Table"]
                .as_str()
                .context("the stack file names no Table")?;
            env.insert("TABLE_NAME".into(), table.to_owned());
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
        (None, Some(table)) => {
            env.insert("TABLE_NAME".into(), table.to_owned());
        }
        (None, None) => anyhow::bail!("name the deployment with --stack-file FILE or --table NAME"),
    }
    // Only the table is used; the other shared settings are not needed here.
    env.entry("BUCKET_NAME".into())
        .or_insert_with(|| "unused".into());
    env.entry("JURISDICTION_ID".into())
        .or_insert_with(|| "unused".into());
    let common = CommonConfig::from_env(&Env::from_map(env))?;
    let clients = Clients::new(&common).await;
    Ok(DynamoStore::new(clients.dynamodb, common.table_name))
}
