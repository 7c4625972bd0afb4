//! Functions a service invokes directly, as the template lets it (an
//! `AWS::Lambda::Permission` for Amazon Connect): `POST
//! /_local/invoke/<LogicalId>` with the service's JSON event answers what
//! the function returns, as the contact flow would read it.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use citydesk_http_api::ApiError;

use crate::functions::ScheduledHandler;
use crate::stack::Stack;

type Invoked = BTreeMap<String, ScheduledHandler>;

/// The invoke route for every function the template lets a service invoke;
/// a permission for a function the runner cannot invoke stops the start.
pub fn routes(stack: &Stack, functions: Invoked) -> anyhow::Result<Router> {
    for invocation in &stack.direct_invocations {
        if !functions.contains_key(&invocation.function) {
            anyhow::bail!(
                "{} lets {} invoke {}, which is not a directly invoked function here",
                invocation.function,
                invocation.principal,
                invocation.function
            );
        }
    }
    let allowed: Invoked = functions
        .into_iter()
        .filter(|(id, _)| stack.direct_invocations.iter().any(|i| &i.function == id))
        .collect();
    Ok(Router::new()
        .route("/_local/invoke/{function}", post(invoke))
        .with_state(std::sync::Arc::new(allowed)))
}

async fn invoke(
    State(functions): State<std::sync::Arc<Invoked>>,
    Path(function): Path<String>,
    Json(event): Json<serde_json::Value>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let handler = functions.get(&function).ok_or_else(|| {
        ApiError::not_found(format!(
            "no function {function} is invoked directly here (known: {})",
            functions.keys().cloned().collect::<Vec<_>>().join(", ")
        ))
    })?;
    handler(event)
        .await
        .map(Json)
        .map_err(|e| ApiError::internal(&e))
}
