//! The departments' part of the description: their work (list, case,
//! changes, each change with `If-Match`) and the city's triage queue.

use serde_json::{Value, json};

use super::{case_number, department, error_response, json_body, ok};

/// `If-Match` of every change: the case's `ETag` as last read.
fn if_match() -> Value {
    json!({"name": "If-Match", "in": "header", "required": false, "schema": {"type": "string"}, "example": "\"7\"",
        "description": "the ETag of the case as you read it; a case changed since answers 409 stale_version"})
}

/// What a change to a case answers.
fn write_responses(done: &str) -> Value {
    json!({
        "200": ok("Assignment", done),
        "400": error_response("bad field or If-Match"),
        "401": error_response("missing or invalid key or token"),
        "403": error_response("the caller's roles do not allow this"),
        "404": error_response("not this department's request"),
        "409": error_response("not allowed now, or stale_version: changed since the If-Match version (the body and ETag give the current one)"),
        "413": error_response("body too large"),
        "415": error_response("not JSON"),
        "422": error_response("a department that is not the city's, or the case's own")
    })
}

/// The paths, merged into the document's.
pub fn paths() -> Value {
    json!({
    "/v1/department/assignments": {"get": {
        "operationId": "listAssignments",
        "security": [{"departmentKey": []}, {"staffToken": []}],
        "parameters": [
            department(),
            {"name": "status", "in": "query", "required": false, "schema": {"type": "string", "enum": ["assigned", "acknowledged", "in_progress", "waiting_for_citizen"]}},
            {"name": "due", "in": "query", "required": false, "schema": {"type": "string", "enum": ["overdue", "soon"]}, "description": "overdue: past the due time; soon: past the SLA warning, not yet due"},
            {"name": "district", "in": "query", "required": false, "schema": {"type": "string"}, "example": "stare-miasto"},
            {"name": "service_code", "in": "query", "required": false, "schema": {"type": "string"}, "example": "pothole"},
            {"name": "assignee", "in": "query", "required": false, "schema": {"type": "string"}, "description": "me, none, or a staff subject"},
            {"name": "limit", "in": "query", "required": false, "description": "items per page (default 50)", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
            {"name": "cursor", "in": "query", "required": false, "description": "the \"next\" of the previous page", "schema": {"type": "string"}}
        ],
        "responses": {
            "200": ok("AssignmentList", "a page of the department's open work, by status (new work first), then due time; with filters beyond the status a page may be short and still have a next cursor"),
            "400": error_response("bad filter"),
            "401": error_response("missing or invalid key or token"),
            "403": error_response("the caller's roles do not allow this")
        }
    }},
    "/v1/department/assignments/{case_number}/status": {"post": {
        "operationId": "changeStatus",
        "security": [{"departmentKey": []}, {"staffToken": []}],
        "parameters": [case_number(), department(), if_match()],
        "requestBody": json_body("StatusChange"),
        "responses": {
            "200": ok("Assignment", "changed"),
            "400": error_response("bad field"),
            "401": error_response("missing or invalid key or token"),
            "403": error_response("the caller's roles do not allow this"),
            "404": error_response("not this department's request"),
            "409": error_response("not allowed from the current status, or stale_version: changed since the If-Match version (the body and ETag give the current one)"),
            "413": error_response("body too large"),
            "415": error_response("not JSON")
        }
    }},
    "/v1/department/assignments/{case_number}/notes": {"post": {
        "operationId": "noteToCitizen",
        "security": [{"departmentKey": []}, {"staffToken": []}],
        "parameters": [case_number(), department(), if_match()],
        "requestBody": json_body("Note"),
        "responses": {
            "200": ok("Assignment", "sent"),
            "400": error_response("bad field"),
            "401": error_response("missing or invalid key or token"),
            "403": error_response("the caller's roles do not allow this"),
            "404": error_response("not this department's request"),
            "409": error_response("stale_version: changed since the If-Match version, or at the same time"),
            "413": error_response("body too large"),
            "415": error_response("not JSON")
        }
    }},
    "/v1/department/assignments/{case_number}/hand-back": {"post": {
        "operationId": "handBack",
        "description": "\"Not ours\": the request leaves the department's work and is routed again without it (a person decides when no department is left).",
        "security": [{"departmentKey": []}, {"staffToken": []}],
        "parameters": [case_number(), department(), if_match()],
        "requestBody": json_body("HandBack"),
        "responses": {
            "200": ok("Assignment", "handed back"),
            "400": error_response("bad field"),
            "401": error_response("missing or invalid key or token"),
            "403": error_response("the caller's roles do not allow this"),
            "404": error_response("not this department's request"),
            "409": error_response("not allowed from the current status, or stale_version: changed since the If-Match version (the body and ETag give the current one)"),
            "413": error_response("body too large"),
            "415": error_response("not JSON")
        }
    }},
    "/v1/department/assignments/{case_number}/followers/{follower}/unlink": {"post": {
        "operationId": "unlinkFollower",
        "description": "A report linked as a duplicate of this request is another problem after all: it is routed on its own.",
        "security": [{"departmentKey": []}, {"staffToken": []}],
        "parameters": [case_number(), department(), if_match(), {"name": "follower", "in": "path", "required": true, "schema": {"type": "string"}, "example": "9QX2-7H3K"}],
        "responses": {
            "200": ok("Assignment", "the original, without the follower"),
            "400": error_response("bad case number"),
            "401": error_response("missing or invalid key or token"),
            "403": error_response("the caller's roles do not allow this"),
            "404": error_response("not this department's request, or not its follower"),
            "409": error_response("stale_version: changed since the If-Match version, or at the same time")
        }
    }},
    "/v1/department/triage": {"get": {
        "operationId": "triageQueue",
        "description": "For the city's triage department (its contact centre): what the classifier was unsure of, oldest first, with its suggestions.",
        "security": [{"departmentKey": []}, {"staffToken": []}],
        "parameters": [
            department(),
            {"name": "limit", "in": "query", "required": false, "description": "items per page (default 50)", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
            {"name": "cursor", "in": "query", "required": false, "description": "the \"next\" of the previous page", "schema": {"type": "string"}}
        ],
        "responses": {
            "200": ok("TriageList", "a page of the requests waiting for an operator"),
            "400": error_response("bad limit or cursor"),
            "401": error_response("missing or invalid key or token"),
            "403": error_response("not the city's triage department, nor an operator")
        }
    }},
    "/v1/department/triage/{case_number}": {"post": {
        "operationId": "triageDecision",
        "description": "An operator chooses the service: the request is routed, and the choice kept as a training example.",
        "security": [{"departmentKey": []}, {"staffToken": []}],
        "parameters": [case_number(), department()],
        "requestBody": json_body("TriageChoice"),
        "responses": {
            "200": ok("TriageDecision", "decided; routing follows"),
            "400": error_response("bad field"),
            "401": error_response("missing or invalid key or token"),
            "403": error_response("not the city's triage department, nor an operator"),
            "404": error_response("no such request waiting for triage"),
            "409": error_response("stale_version: changed since the If-Match version, or at the same time"),
            "413": error_response("body too large"),
            "415": error_response("not JSON")
        }
    }},
    "/v1/department/assignments/{case_number}": {"get": {
        "operationId": "readAssignment",
        "description": "One of the department's cases with its whole history as staff see it (internal notes, reasons, who made each change). The ETag is the version a change's If-Match names.",
        "security": [{"departmentKey": []}, {"staffToken": []}],
        "parameters": [case_number(), department()],
        "responses": {
            "200": ok("CaseView", "the case and its history, oldest first"),
            "400": error_response("bad case number or department"),
            "401": error_response("missing or invalid key or token"),
            "403": error_response("the caller's roles do not allow this"),
            "404": error_response("not this department's request")
        }
    }},
    "/v1/department/assignments/{case_number}/internal-notes": {"post": {
        "operationId": "internalNote",
        "description": "A note among staff: kept in the case's history, never shown to the citizen or the public; nobody is notified.",
        "security": [{"departmentKey": []}, {"staffToken": []}],
        "parameters": [case_number(), department(), if_match()],
        "requestBody": json_body("Note"),
        "responses": write_responses("noted")
    }},
    "/v1/department/assignments/{case_number}/assignee": {"post": {
        "operationId": "setAssignee",
        "description": "Who works the case: a clerk claims it (\"me\") or releases their own (null); the department's head (or its key) gives it to anyone.",
        "security": [{"departmentKey": []}, {"staffToken": []}],
        "parameters": [case_number(), department(), if_match()],
        "requestBody": json_body("AssigneeChange"),
        "responses": write_responses("assigned")
    }},
    "/v1/department/assignments/{case_number}/transfer": {"post": {
        "operationId": "transferAssignment",
        "description": "To another department of the city, with the reason (for staff): the case leaves this department's work and routing assigns it there with the service's SLA.",
        "security": [{"departmentKey": []}, {"staffToken": []}],
        "parameters": [case_number(), department(), if_match()],
        "requestBody": json_body("Transfer"),
        "responses": write_responses("transferred; routing follows")
    }}
    })
}

/// The schemas, merged into the document's components.
pub fn schemas() -> Value {
    json!({
    "StatusChange": {"type": "object", "additionalProperties": false, "required": ["status"], "properties": {
        "status": {"type": "string", "enum": ["acknowledged", "in_progress", "waiting_for_citizen", "resolved", "rejected", "reopened"]},
        "note": {"type": "string", "description": "required for waiting_for_citizen (what is needed), resolved (the resolution) and rejected (why)"}}},
    "Note": {"type": "object", "additionalProperties": false, "required": ["note"], "properties": {"note": {"type": "string", "minLength": 1}}},
    "Assignment": {"type": "object", "required": ["case_number", "status", "version"], "properties": {
        "case_number": {"type": "string"}, "status": {"type": "string"}, "version": {"type": "integer", "description": "for If-Match; also the ETag"},
        "assignee": {"type": "string", "nullable": true}, "sla_paused_at": {"type": "string", "nullable": true},
        "followers": {"type": "array", "items": {"type": "string"}, "description": "case numbers of the first reports that follow this one"},
        "follower_count": {"type": "integer", "description": "every report that follows this one"},
        "handed_back_by": {"type": "array", "items": {"type": "string"}},
        "sla_warned": {"type": "boolean"}}},
    "HandBack": {"type": "object", "additionalProperties": false, "properties": {"reason": {"type": "string"}}},
    "TriageChoice": {"type": "object", "additionalProperties": false, "required": ["service_code"], "properties": {"service_code": {"type": "string"}}},
    "TriageDecision": {"type": "object", "required": ["case_number", "service_code", "status"], "properties": {
        "case_number": {"type": "string"}, "service_code": {"type": "string"}, "status": {"type": "string"}}},
    "TriageList": {"type": "object", "required": ["count", "requests", "next"], "properties": {
        "count": {"type": "integer"},
        "next": {"type": "string", "nullable": true, "description": "cursor of the following page; null on the last"},
        "requests": {"type": "array", "items": {"type": "object", "required": ["case_number", "suggestions"], "properties": {
            "case_number": {"type": "string"}, "description": {"type": "string"},
            "suggestions": {"type": "array", "items": {"type": "object", "properties": {
                "service_code": {"type": "string"}, "probability": {"type": "number"}}}}}}}}},
    "AssignmentList": {"type": "object", "required": ["department", "assignments", "next"], "properties": {
        "department": {"type": "string"}, "count": {"type": "integer"},
        "next": {"type": "string", "nullable": true, "description": "cursor of the following page; null on the last"},
        "assignments": {"type": "array", "items": {"$ref": "#/components/schemas/Assignment"}}}},
    "CaseView": {"type": "object", "required": ["case_number", "status", "version", "history"], "properties": {
        "case_number": {"type": "string"}, "status": {"type": "string"}, "version": {"type": "integer"},
        "assignee": {"type": "string", "nullable": true}, "media": {"type": "array", "items": {"type": "object"}},
        "history": {"type": "array", "items": {"type": "object", "required": ["seq", "at", "actor", "kind"], "properties": {
            "seq": {"type": "integer"}, "at": {"type": "string"}, "actor": {"type": "string"}, "kind": {"type": "string"},
            "by": {"type": "object", "description": "the member of staff (subject, roles, API) who made it"}}}}}},
    "AssigneeChange": {"type": "object", "additionalProperties": false, "required": ["assignee"], "properties": {
        "assignee": {"type": "string", "nullable": true, "minLength": 1, "maxLength": 128, "description": "me, a staff subject, or null"}}},
    "Transfer": {"type": "object", "additionalProperties": false, "required": ["department", "reason"], "properties": {
        "department": {"type": "string", "example": "greenery"}, "reason": {"type": "string", "minLength": 1, "maxLength": 2000}}}
    })
}
