//! The OpenAPI 3 description of the public API (native and Open311), served at
//! `GET /openapi.json`. `make test` runs schemathesis against it on the local
//! system, so a route that answers outside its description fails a test.

use citydesk_core::media::MAX_MEDIA_BYTES;
use citydesk_core::usecases::submit_request::MAX_DESCRIPTION_CHARS;
use serde_json::{Value, json};

fn error_response(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn open311_error(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Open311Errors"}}}})
}

fn json_body(schema: &str) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}})
}

fn ok(schema: &str, description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}})
}

fn case_number() -> Value {
    json!({"name": "case_number", "in": "path", "required": true, "schema": {"type": "string"}, "example": "7H3K-9QX2"})
}

/// `?department=` of the department endpoints: which department a staff
/// member acts for when their roles name several (a manager names the one to read).
fn department() -> Value {
    json!({"name": "department", "in": "query", "required": false, "schema": {"type": "string"}, "example": "roads",
        "description": "the department to act for, when the staff token's roles name several (a department key acts for its own only)"})
}

fn query(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "schema": {"type": "string"}, "description": description})
}

mod channels;
mod department;
mod staff;

/// The document.
pub fn document() -> Value {
    let mut document = public_document();
    for (section, extra) in [
        ("paths", department::paths()),
        ("schemas", department::schemas()),
        ("paths", staff::paths()),
        ("schemas", staff::schemas()),
        ("paths", channels::paths()),
    ] {
        let target = if section == "paths" {
            document.get_mut("paths")
        } else {
            document
                .get_mut("components")
                .and_then(|c| c.get_mut("schemas"))
        };
        if let (Some(Value::Object(target)), Value::Object(extra)) = (target, extra) {
            target.extend(extra);
        }
    }
    document
}

/// The residents' and departments' part (native API, Open311).
fn public_document() -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "citydesk",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "A city's 311: the native API for web and apps, the departments' API, and Open311 GeoReport v2."
        },
        "paths": {
            "/health": {"get": {"operationId": "health", "responses": {"200": {"description": "ready"}}}},
            "/v1/city": {"get": {
                "operationId": "city",
                "summary": "The city for a map: name, centre, bounding box and districts (GeoJSON)",
                "responses": {"200": ok("City", "the city")}
            }},
            "/v1/requests": {"post": {
                "operationId": "createRequest",
                "summary": "Submit a request (idempotent on the Idempotency-Key header)",
                "parameters": [{"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string", "maxLength": 255}}],
                "requestBody": json_body("NewRequest"),
                "responses": {
                    "201": ok("Created", "created"),
                    "200": ok("Created", "the same submission again"),
                    "400": error_response("a field is missing, mistyped or out of range"),
                    "413": error_response("the body is over 64 KiB, or a photo too large"),
                    "415": error_response("not JSON, or a photo that is not an image"),
                    "422": error_response("unknown service_code, or an Idempotency-Key reused with another body")
                }
            }},
            "/v1/requests/{case_number}": {"get": {
                "operationId": "viewRequest",
                "summary": "Public view; with the tracking token as bearer token, the citizen's private view",
                "parameters": [case_number()],
                "responses": {
                    "200": ok("PublicView", "the request"),
                    "400": error_response("malformed case number"),
                    "401": error_response("wrong tracking token"),
                    "404": error_response("no such request")
                }
            }},
            "/v1/requests/{case_number}/updates": {"post": {
                "operationId": "citizenUpdate",
                "summary": "The citizen adds information, or says whether the problem is fixed",
                "security": [{"trackingToken": []}],
                "parameters": [case_number()],
                "requestBody": json_body("CitizenUpdate"),
                "responses": {
                    "200": ok("PublicView", "the request as the citizen sees it"),
                    "400": error_response("nothing to do, or a bad field"),
                    "401": error_response("missing or wrong tracking token"),
                    "404": error_response("no such request"),
                    "409": error_response("changed at the same time"),
                    "413": error_response("body too large"),
                    "415": error_response("not JSON"),
                    "422": error_response("cannot confirm a fix that was not reported")
                }
            }},
            "/v1/classify": {"post": {
                "operationId": "previewService",
                "summary": "The services a text may be about, with the department and due time routing would give; creates nothing",
                "description": "Public, for the residents' form and the operators' console. Rate-limited per client address (429 with Retry-After).",
                "requestBody": json_body("PreviewRequest"),
                "responses": {
                    "200": ok("ServicePreview", "the suggestions, most probable first (empty when nothing in the text points anywhere)"),
                    "400": error_response("missing, too short or too long description, bad point, language or jurisdiction, or an unknown field"),
                    "413": error_response("body too large"),
                    "415": error_response("not JSON"),
                    "429": error_response("too many previews from this address: retry after Retry-After seconds")
                }
            }},
            "/v1/uploads": {"post": {
                "operationId": "uploadTicket",
                "summary": "Where to PUT a photo before attaching its media_key to a request",
                "requestBody": json_body("UploadRequest"),
                "responses": {
                    "201": ok("UploadTicket", "an upload link"),
                    "400": error_response("bad field"),
                    "413": error_response("photo too large"),
                    "415": error_response("not an image type")
                }
            }},
            "/open311/v2/discovery.json": {"get": {"operationId": "open311Discovery", "responses": {"200": {"description": "endpoints and formats"}}}},
            "/open311/v2/services.json": {"get": {
                "operationId": "open311Services",
                "parameters": [query("jurisdiction_id", "the city")],
                "responses": {"200": {"description": "the services, a bare array"}, "404": open311_error("unknown jurisdiction")}
            }},
            "/open311/v2/services/{service_code}.json": {"get": {
                "operationId": "open311ServiceDefinition",
                "parameters": [{"name": "service_code", "in": "path", "required": true, "schema": {"type": "string"}, "example": "pothole"}, query("jurisdiction_id", "the city")],
                "responses": {"200": {"description": "the service's attributes"}, "404": open311_error("unknown service or jurisdiction")}
            }},
            "/open311/v2/requests.json": {
                "get": {
                    "operationId": "open311Requests",
                    "parameters": [
                        query("service_request_id", "comma-separated case numbers; overrides the other filters"),
                        query("service_code", "comma-separated"),
                        query("start_date", "W3C date-time"), query("end_date", "W3C date-time, at most 90 days after start_date"),
                        query("updated_after", "W3C date-time"), query("updated_before", "W3C date-time"),
                        {"name": "status", "in": "query", "required": false, "schema": {"type": "string", "enum": ["open", "closed", "open,closed"]}},
                        {"name": "page", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1}},
                        {"name": "page_size", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
                        {"name": "extensions", "in": "query", "required": false, "schema": {"type": "boolean"}},
                        query("jurisdiction_id", "the city")
                    ],
                    "responses": {"200": {"description": "requests, newest first"}, "400": open311_error("bad filter"), "404": open311_error("unknown jurisdiction")}
                },
                "post": {
                    "operationId": "open311CreateRequest",
                    "requestBody": {"required": true, "content": {"application/x-www-form-urlencoded": {"schema": {"$ref": "#/components/schemas/Open311NewRequest"}}}},
                    "responses": {
                        "201": {"description": "a one-element array with service_request_id"},
                        "400": open311_error("bad field"), "403": open311_error("bad or missing api_key"), "404": open311_error("unknown service or jurisdiction")
                    }
                }
            },
            "/open311/v2/requests/{service_request_id}.json": {"get": {
                "operationId": "open311Request",
                "parameters": [{"name": "service_request_id", "in": "path", "required": true, "schema": {"type": "string"}}, query("jurisdiction_id", "the city")],
                "responses": {"200": {"description": "a one-element array"}, "404": open311_error("no such request")}
            }},
            "/open311/v2/tokens/{token}.json": {"get": {
                "operationId": "open311Token",
                "parameters": [{"name": "token", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "the request the token stands for"}, "404": open311_error("unknown token")}
            }},
            "/open311/v2/servicerequestupdates.json": {
                "get": {
                    "operationId": "open311Updates",
                    "parameters": [query("start_date", "W3C date-time"), query("end_date", "W3C date-time")],
                    "responses": {"200": {"description": "updates, oldest first"}, "400": open311_error("bad window")}
                },
                "post": {
                    "operationId": "open311PostUpdate",
                    "requestBody": {"required": true, "content": {"application/x-www-form-urlencoded": {"schema": {"$ref": "#/components/schemas/Open311Update"}}}},
                    "responses": {"200": {"description": "the update's id"}, "400": open311_error("bad field"), "403": open311_error("bad or missing api_key"), "404": open311_error("no such request")}
                }
            }
        },
        "components": {
            "securitySchemes": {
                "departmentKey": {"type": "http", "scheme": "bearer", "description": "a department's API key (cdk_...), for machine integrations"},
                "staffToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "a staff member's ID token from the city's identity provider (RS256/ES256); its groups name the roles: operator, manager, quality, admin, clerk:DEPT, expert:DEPT, head:DEPT"},
                "trackingToken": {"type": "http", "scheme": "bearer", "description": "the tracking_token returned when the request was created"}
            },
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["status", "code", "message"], "properties": {
                    "status": {"type": "integer"}, "code": {"type": "string"}, "field": {"type": "string"}, "message": {"type": "string"},
                    "current_version": {"type": "integer", "description": "stale_version only: the version the object has now"}}}}},
                "City": {"type": "object", "required": ["jurisdiction_id", "name", "centre", "districts"], "properties": {
                    "jurisdiction_id": {"type": "string"},
                    "name": {"type": "object", "properties": {"pl": {"type": "string"}, "en": {"type": "string"}}},
                    "timezone": {"type": "string"},
                    "centre": {"type": "object", "properties": {"lat": {"type": "number"}, "long": {"type": "number"}}},
                    "bbox": {"type": "array", "nullable": true, "items": {"type": "number"}, "minItems": 4, "maxItems": 4},
                    "districts": {"type": "object", "required": ["type", "features"], "properties": {
                        "type": {"type": "string", "enum": ["FeatureCollection"]}, "features": {"type": "array"}}}}},
                "Open311Errors": {"type": "array", "items": {"type": "object", "properties": {"code": {"type": "integer"}, "description": {"type": "string"}}}},
                "NewRequest": {"type": "object", "additionalProperties": false, "required": ["description"], "properties": {
                    "service_code": {"type": "string"},
                    "description": {"type": "string", "minLength": 1, "maxLength": MAX_DESCRIPTION_CHARS},
                    "lat": {"type": "number", "minimum": -90, "maximum": 90},
                    "long": {"type": "number", "minimum": -180, "maximum": 180},
                    "address": {"type": "string", "maxLength": 300},
                    "language": {"type": "string", "enum": ["pl", "en"]},
                    "private": {"type": "boolean", "description": "the reporter asks that their words and photos are not shown publicly"},
                    "contact": {"type": "object", "additionalProperties": false, "properties": {
                        "name": {"type": "string"}, "phone": {"type": "string", "example": "+48600100200"}, "email": {"type": "string", "format": "email"}}},
                    "attributes": {"type": "object", "additionalProperties": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}},
                    "media": {"type": "array", "maxItems": 5, "items": {"type": "string"}}
                }},
                "Created": {"type": "object", "required": ["id", "case_number", "status", "tracking_token"], "properties": {
                    "id": {"type": "string"}, "case_number": {"type": "string"}, "status": {"type": "string"}, "tracking_token": {"type": "string"}}},
                "PublicView": {"type": "object", "required": ["case_number", "status", "history"], "properties": {
                    "case_number": {"type": "string"}, "status": {"type": "string"}, "service_code": {"type": "string", "nullable": true},
                    "department": {"type": "string", "nullable": true}, "due_at": {"type": "string", "nullable": true},
                    "history": {"type": "array", "items": {"type": "object"}}}},
                "CitizenUpdate": {"type": "object", "additionalProperties": false, "properties": {
                    "note": {"type": "string", "maxLength": 4000}, "fixed": {"type": "boolean"}}},
                "PreviewRequest": {"type": "object", "additionalProperties": false, "required": ["description"], "properties": {
                    "description": {"type": "string", "minLength": 3, "maxLength": MAX_DESCRIPTION_CHARS, "example": "dziura w jezdni przed szkołą"},
                    "lat": {"type": "number", "minimum": -90, "maximum": 90},
                    "long": {"type": "number", "minimum": -180, "maximum": 180},
                    "language": {"type": "string", "enum": ["pl", "en"]},
                    "jurisdiction_id": {"type": "string"}}},
                "ServicePreview": {"type": "object", "required": ["jurisdiction_id", "suggestions", "confident"], "properties": {
                    "jurisdiction_id": {"type": "string"},
                    "confident": {"type": "boolean", "description": "the first is sure enough to be placed without a person"},
                    "suggestions": {"type": "array", "maxItems": 3, "items": {"type": "object",
                        "required": ["service_code", "service_name", "department", "confidence", "due_at"], "properties": {
                        "service_code": {"type": "string"}, "service_name": {"type": "string"}, "group": {"type": "string"},
                        "department": {"type": "string"}, "department_name": {"type": "string"},
                        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                        "due_at": {"type": "string", "format": "date-time", "description": "when it would be due if filed now"}}}}}},
                "UploadRequest": {"type": "object", "additionalProperties": false, "required": ["content_type", "bytes"], "properties": {
                    "content_type": {"type": "string", "enum": ["image/jpeg", "image/png", "image/gif", "image/webp"]},
                    "bytes": {"type": "integer", "minimum": 1}}},
                "UploadTicket": {"type": "object", "required": ["media_key", "upload_url"], "properties": {
                    "media_key": {"type": "string"}, "upload_url": {"type": "string"}, "method": {"type": "string"},
                    "bytes": {"type": "integer", "description": "the PUT must carry exactly this many bytes"}, "expires_at": {"type": "string"}}},
                "Open311NewRequest": {"type": "object", "required": ["service_code", "api_key"], "properties": {
                    "api_key": {"type": "string"}, "service_code": {"type": "string"}, "lat": {"type": "number"}, "long": {"type": "number"},
                    "address_string": {"type": "string"}, "description": {"type": "string", "maxLength": MAX_DESCRIPTION_CHARS},
                    "email": {"type": "string"}, "phone": {"type": "string"}, "first_name": {"type": "string"}, "last_name": {"type": "string"},
                    "media_url": {"type": "string"}, "jurisdiction_id": {"type": "string"}}},
                "Open311Update": {"type": "object", "required": ["api_key", "service_request_id"], "properties": {
                    "api_key": {"type": "string"}, "service_request_id": {"type": "string"}, "update_id": {"type": "string"},
                    "status": {"type": "string", "enum": ["OPEN", "CLOSED"]}, "description": {"type": "string"}}}
            }
        },
        "x-media-max-bytes": MAX_MEDIA_BYTES
    })
}
