//! `citydesk city publish DIR` and `citydesk department-key …`: a city's
//! catalogue and departments in a deployment, by the same code the local
//! runner uses (`citydesk_aws::city_publisher`).

use std::path::Path;

use anyhow::Context;
use citydesk_aws::city_publisher::{CityPublisher, Published, cloudwatch_client, read_city_folder};
use citydesk_aws::dynamo::{DepartmentKey, key_id_of};
use citydesk_aws::knowledge::{publish_knowledge, read_knowledge_folder};
use citydesk_core::ids::{DepartmentCode, sha256_hex};
use citydesk_core::usecases::publish_city::Change;
use jiff::Timestamp;

use crate::target::Deployment;

/// Publishes (or, with `dry_run`, plans) the city in `dir`.
pub async fn publish(
    deployment: &Deployment,
    dir: &Path,
    dry_run: bool,
) -> anyhow::Result<Published> {
    let catalogue = read_city_folder(dir)?;
    let cloudwatch = cloudwatch_client(&deployment.clients.sdk);
    let stack_name = stack_name(deployment)?;
    let publisher = CityPublisher {
        blobs: &deployment.blobs,
        store: &deployment.store,
        sqs: &deployment.clients.sqs,
        cloudwatch: &cloudwatch,
        stack_name,
        alarm_topic_arn: deployment.alarm_topic_arn.as_deref(),
    };
    // The articles are checked before anything is published.
    let knowledge = read_knowledge_folder(dir, &catalogue)?;
    let mut published = publisher
        .publish(&catalogue, dry_run)
        .await
        .with_context(|| format!("publishing {}", dir.display()))?;
    if !dry_run {
        publish_knowledge(&deployment.blobs, &knowledge)
            .await
            .with_context(|| format!("publishing the knowledge base of {}", dir.display()))?;
    }
    published.knowledge_articles = knowledge.articles.len();
    Ok(published)
}

/// What a publication prints: each change, then the keys it issued.
pub fn render(published: &Published, dry_run: bool) -> String {
    let mut out = String::new();
    if published.changes.is_empty() {
        out.push_str("nothing to change: the deployment already holds this city\n");
    }
    let verb = if dry_run { "would" } else { "done" };
    for change in &published.changes {
        out.push_str(&format!("{verb}: {change}\n"));
    }
    if published
        .changes
        .iter()
        .any(|c| matches!(c, Change::KeepRetiringDepartment { .. }))
    {
        out.push_str(
            "a department that left keeps its open requests until they are closed; reassign them in triage to close it sooner\n",
        );
    }
    out.push_str(&format!(
        "knowledge base: {} article(s) {}\n",
        published.knowledge_articles,
        if dry_run { "checked" } else { "published" }
    ));
    for (department, key) in &published.department_keys {
        out.push_str(&format!(
            "department {department} key (shown once, only its hash is stored): {key}\n"
        ));
    }
    if dry_run {
        out.push_str("dry run: nothing was changed\n");
    }
    out
}

/// `department-key create`: a new key for a department of a published city.
pub async fn create_key(deployment: &Deployment, department: &str) -> anyhow::Result<String> {
    let code = department_code(department)?;
    let cloudwatch = cloudwatch_client(&deployment.clients.sdk);
    let publisher = CityPublisher {
        blobs: &deployment.blobs,
        store: &deployment.store,
        sqs: &deployment.clients.sqs,
        cloudwatch: &cloudwatch,
        stack_name: stack_name(deployment).unwrap_or_default(),
        alarm_topic_arn: None,
    };
    Ok(publisher.issue_key(&code).await?)
}

/// `department-key list`: a department's keys, by id, never the keys.
pub async fn list_keys(
    deployment: &Deployment,
    department: &str,
) -> anyhow::Result<Vec<DepartmentKey>> {
    Ok(deployment
        .store
        .department_keys(&department_code(department)?)
        .await?)
}

/// `department-key revoke`: by the key itself, its SHA-256, or its id as
/// `list` shows it. Effective at once: the API reads keys on every request.
pub async fn revoke_key(
    deployment: &Deployment,
    department: &str,
    key: &str,
) -> anyhow::Result<()> {
    let code = department_code(department)?;
    let raw = key.trim();
    let is_hex = |len: usize| raw.len() == len && raw.chars().all(|c| c.is_ascii_hexdigit());
    let key_id = if is_hex(12) {
        raw.to_ascii_lowercase()
    } else if is_hex(64) {
        key_id_of(&raw.to_ascii_lowercase())
    } else {
        key_id_of(&sha256_hex(raw.as_bytes()))
    };
    if deployment
        .store
        .revoke_department_key(&code, &key_id, Timestamp::now())
        .await?
    {
        Ok(())
    } else {
        anyhow::bail!(
            "department {code} has no key {key_id} (see `citydesk department-key list --department {code}`)"
        )
    }
}

fn department_code(raw: &str) -> anyhow::Result<DepartmentCode> {
    DepartmentCode::parse(raw).map_err(|e| anyhow::anyhow!("--department {raw:?}: {e}"))
}

fn stack_name(deployment: &Deployment) -> anyhow::Result<&str> {
    deployment
        .stack_name
        .as_deref()
        .filter(|n| !n.is_empty())
        .context(
            "publishing needs the stack: name it with --stack-name (or the local --stack-file)",
        )
}
