//! Open311's two formats. Every response is built once as a [`Node`] tree and
//! written as XML (required by the spec) or JSON (which mirrors the XML: lists
//! are bare arrays, a single request is a one-element array).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde_json::{Map, Value};

/// The format a client asked for by the resource's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xml,
    Json,
}

impl Format {
    /// Splits `services.json` into (`services`, Json).
    pub fn split(resource: &str) -> Option<(&str, Format)> {
        let (name, ext) = resource.rsplit_once('.')?;
        let format = match ext.to_ascii_lowercase().as_str() {
            "xml" => Format::Xml,
            "json" => Format::Json,
            _ => return None,
        };
        (!name.is_empty()).then_some((name, format))
    }
}

/// A response document: the XML element tree, which also decides the JSON shape.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// `<name>text</name>` / `"name": "text"`; `None` is an empty element / `null`.
    Text(&'static str, Option<String>),
    /// A JSON number or boolean, written as text in XML.
    Raw(&'static str, Value),
    /// `<name>children</name>` / an object.
    Object(&'static str, Vec<Node>),
    /// `<name><child/>…</name>` / an array of the children's values.
    List(&'static str, Vec<Node>),
}

impl Node {
    pub fn text(name: &'static str, value: impl Into<String>) -> Self {
        Node::Text(name, Some(value.into()))
    }
    pub fn opt(name: &'static str, value: Option<impl Into<String>>) -> Self {
        Node::Text(name, value.map(Into::into))
    }

    fn name(&self) -> &'static str {
        match self {
            Node::Text(n, _) | Node::Raw(n, _) | Node::Object(n, _) | Node::List(n, _) => n,
        }
    }

    fn json(&self) -> Value {
        match self {
            Node::Text(_, v) => v.clone().map_or(Value::Null, Value::String),
            Node::Raw(_, v) => v.clone(),
            Node::Object(_, children) => {
                let mut map = Map::new();
                for c in children {
                    map.insert(c.name().to_owned(), c.json());
                }
                Value::Object(map)
            }
            Node::List(_, items) => Value::Array(items.iter().map(Node::json).collect()),
        }
    }

    fn xml(&self, w: &mut Writer<Vec<u8>>) -> std::io::Result<()> {
        let name = self.name();
        match self {
            Node::Text(_, None) => w.write_event(Event::Empty(BytesStart::new(name)))?,
            Node::Text(_, Some(text)) => {
                w.write_event(Event::Start(BytesStart::new(name)))?;
                w.write_event(Event::Text(BytesText::new(text)))?;
                w.write_event(Event::End(BytesEnd::new(name)))?;
            }
            Node::Raw(_, value) => {
                let text = match value {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                w.write_event(Event::Start(BytesStart::new(name)))?;
                w.write_event(Event::Text(BytesText::new(&text)))?;
                w.write_event(Event::End(BytesEnd::new(name)))?;
            }
            Node::Object(_, children) | Node::List(_, children) => {
                w.write_event(Event::Start(BytesStart::new(name)))?;
                for c in children {
                    c.xml(w)?;
                }
                w.write_event(Event::End(BytesEnd::new(name)))?;
            }
        }
        Ok(())
    }

    /// The document in the requested format, with its content type.
    pub fn render(&self, format: Format, status: StatusCode) -> Response {
        match format {
            Format::Json => {
                let body = serde_json::to_vec(&self.json()).unwrap_or_else(|_| b"null".to_vec());
                with_type(status, body, "application/json; charset=utf-8")
            }
            Format::Xml => {
                let mut w = Writer::new(Vec::new());
                let written = w
                    .write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))
                    .and_then(|()| self.xml(&mut w));
                match written {
                    Ok(()) => with_type(status, w.into_inner(), "text/xml; charset=utf-8"),
                    Err(e) => {
                        tracing::error!(error = %e, "cannot write XML");
                        StatusCode::INTERNAL_SERVER_ERROR.into_response()
                    }
                }
            }
        }
    }
}

fn with_type(status: StatusCode, body: Vec<u8>, content_type: &'static str) -> Response {
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// An error in Open311's format: 404 missing, 403 bad key, 400 everything else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open311Error {
    pub status: StatusCode,
    pub description: String,
}

impl Open311Error {
    pub fn bad_request(description: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            description: description.into(),
        }
    }
    pub fn not_found(description: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            description: description.into(),
        }
    }
    pub fn unsupported_media(description: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            description: description.into(),
        }
    }
    pub fn forbidden(description: impl Into<String>) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            description: description.into(),
        }
    }
    pub fn dependency(retryable: bool, cause: &dyn std::fmt::Display) -> Self {
        if retryable {
            tracing::warn!(error = %cause, "dependency unavailable");
            Self {
                status: StatusCode::SERVICE_UNAVAILABLE,
                description: "The service is busy; please retry.".into(),
            }
        } else {
            tracing::error!(error = %cause, "internal error");
            Self {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                description: "Something went wrong on our side.".into(),
            }
        }
    }

    pub fn render(&self, format: Format) -> Response {
        Node::List(
            "errors",
            vec![Node::Object(
                "error",
                vec![
                    Node::Raw("code", Value::from(self.status.as_u16())),
                    Node::text("description", self.description.clone()),
                ],
            )],
        )
        .render(format, self.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Node {
        Node::List(
            "services",
            vec![Node::Object(
                "service",
                vec![
                    Node::text("service_code", "pothole"),
                    Node::text("service_name", "Dziura & <ubytek>"),
                    Node::Raw("metadata", Value::Bool(true)),
                    Node::opt("description", None::<String>),
                ],
            )],
        )
    }

    #[test]
    fn json_is_a_bare_array() {
        assert_eq!(
            doc().json(),
            serde_json::json!([{"service_code": "pothole", "service_name": "Dziura & <ubytek>", "metadata": true, "description": null}])
        );
    }

    #[test]
    fn xml_is_escaped_and_declared() {
        let mut w = Writer::new(Vec::new());
        doc().xml(&mut w).unwrap();
        let xml = String::from_utf8(w.into_inner()).unwrap();
        assert_eq!(
            xml,
            "<services><service><service_code>pothole</service_code><service_name>Dziura &amp; &lt;ubytek&gt;</service_name><metadata>true</metadata><description/></service></services>"
        );
        assert_eq!(
            Format::split("services.xml"),
            Some(("services", Format::Xml))
        );
        assert_eq!(
            Format::split("pothole.JSON"),
            Some(("pothole", Format::Json))
        );
        assert_eq!(Format::split("services.csv"), None);
        assert_eq!(Format::split(".json"), None);
    }
}
