//! The HTTP API, locally: serves exactly the routes `template.yaml` declares,
//! each by the function the template wires it to.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use citydesk_http_api::ApiError;
use tower::ServiceExt;

use crate::stack::HttpRoute;

#[derive(Debug, Clone)]
pub struct Gateway {
    routes: Vec<(HttpRoute, Vec<Segment>)>,
    functions: BTreeMap<String, axum::Router>,
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Literal(String),
    Param,
}

fn segments(path: &str) -> Vec<Segment> {
    path.trim_matches('/')
        .split('/')
        .map(|s| {
            if s.starts_with('{') && s.ends_with('}') {
                Segment::Param
            } else {
                Segment::Literal(s.to_owned())
            }
        })
        .collect()
}

fn matches(pattern: &[Segment], path: &str) -> bool {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    parts.len() == pattern.len()
        && pattern.iter().zip(&parts).all(|(seg, part)| match seg {
            Segment::Param => !part.is_empty(),
            Segment::Literal(l) => l == part,
        })
}

impl Gateway {
    pub fn new(routes: Vec<HttpRoute>, functions: BTreeMap<String, axum::Router>) -> Self {
        let routes = routes.into_iter().map(|r| {
            let segs = segments(&r.path);
            (r, segs)
        });
        Self {
            routes: routes.collect(),
            functions,
        }
    }

    pub async fn dispatch(State(gateway): State<Self>, request: Request) -> Response {
        let path = request.uri().path().to_owned();
        let method = request.method().as_str().to_owned();
        let on_path: Vec<&HttpRoute> = gateway
            .routes
            .iter()
            .filter(|(_, segs)| matches(segs, &path))
            .map(|(r, _)| r)
            .collect();
        let Some(route) = on_path
            .iter()
            .find(|r| r.method.eq_ignore_ascii_case(&method) || r.method == "ANY")
        else {
            return if on_path.is_empty() {
                ApiError::not_found("no such endpoint; see the API documentation for the routes")
                    .into_response()
            } else {
                ApiError::new(
                    http::StatusCode::METHOD_NOT_ALLOWED,
                    "method_not_allowed",
                    "this endpoint does not accept that method",
                )
                .into_response()
            };
        };
        let Some(router) = gateway.functions.get(&route.function) else {
            return ApiError::internal(&format!(
                "route {} {} has no running function",
                route.method, route.path
            ))
            .into_response();
        };
        match router.clone().oneshot(request.map(Body::new)).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }
}
