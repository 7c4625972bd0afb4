//! The staff side of the description: the operators' first line, the
//! second line (questions to the experts), the knowledge base (public and staff) and the quality team's audit trail.

use serde_json::{Value, json};

use super::{error_response, json_body, ok};

fn question_id() -> Value {
    json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}, "example": "q-0123456789abcdef01234567"})
}

fn question_read_responses() -> Value {
    json!({
        "200": ok("Question", "the question and its answer, if given"),
        "400": error_response("not a question id"),
        "401": error_response("missing or invalid staff token"),
        "403": error_response("no operator, expert or head role"),
        "404": error_response("no such question for you (another department's is not shown)")
    })
}

/// The paths, merged into the document's.
pub fn paths() -> Value {
    json!({
    "/v1/operator/callers/lookup": {"post": {
        "operationId": "lookUpCaller",
        "description": "For operators: a caller's contact and their open and past requests, by the phone number or e-mail address in the body (never in the URL). The read is in the audit trail before the answer.",
        "security": [{"staffToken": []}],
        "requestBody": json_body("CallerLookup"),
        "responses": {
            "200": ok("CallerHistory", "the caller's contact (the newest they left) and requests, newest first"),
            "400": error_response("not exactly one valid phone or email, or an unknown field"),
            "401": error_response("missing or invalid staff token (department keys are not accepted)"),
            "403": error_response("the token has no operator role"),
            "413": error_response("body too large"),
            "415": error_response("not JSON"),
            "503": error_response("the audit trail cannot take the read: nothing is shown")
        }
    }},
    "/v1/operator/requests": {"post": {
        "operationId": "registerOnBehalf",
        "description": "For operators: a request registered on a caller's behalf; the citizen's body plus the channel it came by. Idempotent on Idempotency-Key.",
        "security": [{"staffToken": []}],
        "parameters": [{"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string", "maxLength": 255}}],
        "requestBody": json_body("OperatorRequest"),
        "responses": {
            "200": ok("Registered", "the same call registered before (same Idempotency-Key and body)"),
            "201": ok("Registered", "registered"),
            "400": error_response("bad or unknown field, a channel that is not an operator's, photos"),
            "401": error_response("missing or invalid staff token"),
            "403": error_response("the token has no operator role"),
            "413": error_response("body too large"),
            "415": error_response("not JSON"),
            "422": error_response("unknown service, a point outside the city, or an Idempotency-Key used for another body")
        }
    }},
    "/v1/operator/contacts": {"post": {
        "operationId": "recordAnsweredContact",
        "description": "For operators: a contact answered from the knowledge base, resolved at first contact (counted by the reports). Idempotent on Idempotency-Key.",
        "security": [{"staffToken": []}],
        "parameters": [{"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string", "maxLength": 255}}],
        "requestBody": json_body("AnsweredContact"),
        "responses": {
            "200": ok("ContactRecorded", "recorded before (same Idempotency-Key)"),
            "201": ok("ContactRecorded", "recorded"),
            "400": error_response("bad or unknown field, no article, a channel that is not an operator's"),
            "401": error_response("missing or invalid staff token"),
            "403": error_response("the token has no operator role"),
            "413": error_response("body too large"),
            "415": error_response("not JSON"),
            "422": error_response("an article that is not in the knowledge base")
        }
    }},
    "/v1/operator/questions": {"post": {
        "operationId": "askExperts",
        "description": "For operators: a question the first line cannot answer, to the responsible department's experts (by service or department), due within the department's answer hours. Idempotent on Idempotency-Key. The caller's contact, if given, is kept apart and used only to tell them the answer.",
        "security": [{"staffToken": []}],
        "parameters": [{"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string", "maxLength": 255}}],
        "requestBody": json_body("QuestionAsk"),
        "responses": {
            "200": ok("Question", "the same question asked before (same Idempotency-Key and text)"),
            "201": ok("Question", "asked"),
            "400": error_response("bad or unknown field, neither service_code nor department"),
            "401": error_response("missing or invalid staff token"),
            "403": error_response("the token has no operator role"),
            "413": error_response("body too large"),
            "415": error_response("not JSON"),
            "422": error_response("an unknown service or department, or an Idempotency-Key used for another question")
        }
    }},
    "/v1/operator/questions/{id}": {"get": {
        "operationId": "readAskedQuestion",
        "description": "For operators: a question and, once given, the expert's answer.",
        "security": [{"staffToken": []}],
        "parameters": [question_id()],
        "responses": question_read_responses()
    }},
    "/v1/expert/questions": {"get": {
        "operationId": "expertQuestions",
        "description": "For experts (and the head) of a department: its open questions, the soonest due first.",
        "security": [{"staffToken": []}],
        "parameters": [{"name": "department", "in": "query", "required": false, "schema": {"type": "string"}, "description": "when the roles name several departments"}],
        "responses": {
            "200": ok("QuestionList", "the open questions"),
            "400": error_response("a bad or ambiguous department, or an unknown parameter"),
            "401": error_response("missing or invalid staff token"),
            "403": error_response("no expert or head role for that department")
        }
    }},
    "/v1/expert/questions/{id}": {"get": {
        "operationId": "readExpertQuestion",
        "security": [{"staffToken": []}],
        "parameters": [question_id()],
        "responses": question_read_responses()
    }},
    "/v1/expert/questions/{id}/answer": {"post": {
        "operationId": "answerQuestion",
        "description": "An expert of the question's department answers it (once): the answer goes back to the operator, to the caller when they left a contact, and into a draft knowledge-base article for review. The same answer again is harmless.",
        "security": [{"staffToken": []}],
        "parameters": [question_id(), {"name": "department", "in": "query", "required": false, "schema": {"type": "string"}}],
        "requestBody": json_body("QuestionAnswer"),
        "responses": {
            "200": ok("Question", "answered"),
            "400": error_response("a bad id, answer or department, or an unknown field"),
            "401": error_response("missing or invalid staff token"),
            "403": error_response("no expert or head role for that department"),
            "404": error_response("no such question in your department"),
            "409": error_response("answered already, differently"),
            "413": error_response("body too large"),
            "415": error_response("not JSON")
        }
    }},
    "/v1/kb/search": {"get": {
        "operationId": "searchKnowledgeBase",
        "description": "The knowledge base's best articles for a resident's or operator's words (diacritics, inflection and typos tolerated). Without credentials: published articles; with a staff token: drafts too, marked.",
        "security": [{}, {"staffToken": []}],
        "parameters": [
            {"name": "q", "in": "query", "required": true, "schema": {"type": "string", "maxLength": 200}, "example": "wywóz gabarytów"},
            {"name": "lang", "in": "query", "required": false, "schema": {"type": "string", "enum": ["pl", "en"]}},
            {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 20}}
        ],
        "responses": {
            "200": ok("KnowledgeResults", "the best articles, best first"),
            "400": error_response("missing or too long q, unknown lang, bad limit or an unknown parameter"),
            "401": error_response("an invalid staff token")
        }
    }},
    "/v1/kb/articles/{id}": {"get": {
        "operationId": "readKnowledgeArticle",
        "security": [{}, {"staffToken": []}],
        "parameters": [
            {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}, "example": "dog-registration"},
            {"name": "lang", "in": "query", "required": false, "schema": {"type": "string", "enum": ["pl", "en"]}}
        ],
        "responses": {
            "200": ok("KnowledgeArticle", "the article (staff also see status, author, reviewer and review date)"),
            "400": error_response("unknown lang or parameter"),
            "401": error_response("an invalid staff token"),
            "404": error_response("no such article for this reader (drafts are for staff)")
        }
    }},
    "/v1/kb/review-due": {"get": {
        "operationId": "knowledgeArticlesDueForReview",
        "description": "Articles past their review date that the caller's departments own (every department's for managers and admins).",
        "security": [{"staffToken": []}],
        "responses": {
            "200": ok("KnowledgeReviewList", "oldest review date first"),
            "401": error_response("missing or invalid staff token"),
            "403": error_response("the caller's roles own no articles")
        }
    }},
    "/v1/audit/records": {"get": {
        "operationId": "auditRecords",
        "description": "For the quality role: a UTC day's audit trail, every staff change and every staff read of personal data, in time order (no personal data in the records).",
        "security": [{"staffToken": []}],
        "parameters": [
            {"name": "day", "in": "query", "required": true, "schema": {"type": "string", "format": "date"}, "example": "2026-12-03", "description": "the UTC day, YYYY-MM-DD, not in the future"},
            {"name": "format", "in": "query", "required": false, "schema": {"type": "string", "enum": ["json", "csv"]}, "description": "csv: the same records as a download"}
        ],
        "responses": {
            "200": {"description": "the day's records", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/AuditRecords"}},
                "text/csv": {"schema": {"type": "string"}}
            }},
            "400": error_response("missing or bad day, format or an unknown parameter"),
            "401": error_response("missing or invalid staff token (department keys are not accepted)"),
            "403": error_response("the token has no quality role")
        }
    }}
    })
}

/// The schemas, merged into the document's components.
pub fn schemas() -> Value {
    json!({
    "QuestionAsk": {"type": "object", "additionalProperties": false, "required": ["question"], "properties": {
        "question": {"type": "string", "minLength": 1, "maxLength": 4000},
        "service_code": {"type": "string", "example": "pothole"},
        "department": {"type": "string", "example": "roads"},
        "case_number": {"type": "string"},
        "language": {"type": "string", "enum": ["pl", "en"]},
        "caller": {"type": "object", "additionalProperties": false, "properties": {
            "name": {"type": "string"}, "phone": {"type": "string", "example": "+48600100200"}, "email": {"type": "string", "format": "email"}}}}},
    "QuestionAnswer": {"type": "object", "additionalProperties": false, "required": ["answer"], "properties": {
        "answer": {"type": "string", "minLength": 1, "maxLength": 4000}}},
    "Question": {"type": "object", "required": ["id", "status", "department", "question", "due_at"], "properties": {
        "id": {"type": "string"}, "status": {"type": "string", "enum": ["open", "answered"]},
        "department": {"type": "string"}, "question": {"type": "string"}, "due_at": {"type": "string", "format": "date-time"},
        "overdue": {"type": "boolean"}, "caller_will_be_told": {"type": "boolean"},
        "answer": {"type": "object", "nullable": true, "properties": {"text": {"type": "string"}, "by": {"type": "string"}, "at": {"type": "string"}}},
        "draft_article": {"type": "string", "nullable": true}}},
    "QuestionList": {"type": "object", "required": ["department", "count", "questions"], "properties": {
        "department": {"type": "string"}, "count": {"type": "integer"},
        "questions": {"type": "array", "items": {"$ref": "#/components/schemas/Question"}}}},
        "CallerLookup": {"type": "object", "additionalProperties": false, "properties": {
            "phone": {"type": "string", "example": "+48600100200"}, "email": {"type": "string", "format": "email"}}},
        "CallerHistory": {"type": "object", "required": ["contact", "open", "past"], "properties": {
            "contact": {"type": "object", "nullable": true, "properties": {"name": {"type": "string"}, "phone": {"type": "string"}, "email": {"type": "string"}}},
            "open": {"type": "array", "items": {"$ref": "#/components/schemas/CallerRequest"}},
            "past": {"type": "array", "items": {"$ref": "#/components/schemas/CallerRequest"}}}},
        "CallerRequest": {"type": "object", "required": ["case_number", "status", "channel", "description", "created_at"], "properties": {
            "case_number": {"type": "string"}, "status": {"type": "string"}, "service_code": {"type": "string"}, "service_name": {"type": "string"},
            "department": {"type": "string"}, "channel": {"type": "string"}, "description": {"type": "string"}, "address": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"}, "due_at": {"type": "string", "format": "date-time"}, "resolution": {"type": "string"}}},
        "OperatorRequest": {"type": "object", "additionalProperties": false, "required": ["channel", "description"],
        "description": "the citizen's body (NewRequest, without photos) plus the channel it came by", "properties": {
        "channel": {"type": "string", "enum": ["phone", "in_person", "letter", "fax"]},
        "service_code": {"type": "string"},
        "description": {"type": "string", "minLength": 1, "maxLength": citydesk_core::usecases::submit_request::MAX_DESCRIPTION_CHARS},
        "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "long": {"type": "number", "minimum": -180, "maximum": 180},
        "address": {"type": "string", "maxLength": 300},
        "language": {"type": "string", "enum": ["pl", "en"]},
        "private": {"type": "boolean"},
        "contact": {"type": "object", "additionalProperties": false, "properties": {
            "name": {"type": "string"}, "phone": {"type": "string", "example": "+48600100200"}, "email": {"type": "string", "format": "email"}}},
        "attributes": {"type": "object", "additionalProperties": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}}
    }},
    "Registered": {"type": "object", "required": ["id", "case_number", "status", "channel"], "properties": {
            "id": {"type": "string"}, "case_number": {"type": "string"}, "status": {"type": "string"}, "channel": {"type": "string"}}},
        "AnsweredContact": {"type": "object", "additionalProperties": false, "required": ["channel", "articles"], "properties": {
            "channel": {"type": "string", "enum": ["phone", "in_person", "letter", "fax"]},
            "articles": {"type": "array", "minItems": 1, "items": {"type": "string"}, "description": "knowledge-base article ids"},
            "language": {"type": "string", "enum": ["pl", "en"]}}},
        "ContactRecorded": {"type": "object", "required": ["id", "outcome", "channel", "articles", "at"], "properties": {
            "id": {"type": "string"}, "outcome": {"type": "string", "enum": ["resolved_at_first_contact"]}, "channel": {"type": "string"},
            "articles": {"type": "array", "items": {"type": "string"}}, "service_code": {"type": "string"}, "at": {"type": "string", "format": "date-time"}}},
        "KnowledgeResults": {"type": "object", "required": ["query", "language", "count", "items"], "properties": {
            "query": {"type": "string"}, "language": {"type": "string"}, "count": {"type": "integer"},
            "items": {"type": "array", "items": {"type": "object", "required": ["id", "title", "summary", "url"], "properties": {
                "id": {"type": "string"}, "title": {"type": "string"}, "summary": {"type": "string"},
                "service_code": {"type": "string"}, "url": {"type": "string"},
                "status": {"type": "string", "enum": ["draft", "published"], "description": "staff only"}}}}}},
        "KnowledgeArticle": {"type": "object", "required": ["id", "language", "title", "summary", "body", "topic", "owner", "version"], "properties": {
            "id": {"type": "string"}, "language": {"type": "string"}, "title": {"type": "string"}, "summary": {"type": "string"},
            "body": {"type": "string"}, "topic": {"type": "string"}, "owner": {"type": "string"}, "service_code": {"type": "string"},
            "version": {"type": "integer"},
            "staff": {"type": "object", "properties": {"status": {"type": "string"}, "author": {"type": "string"}, "reviewer": {"type": "string", "nullable": true}, "next_review": {"type": "string", "format": "date"}}}}},
        "KnowledgeReviewList": {"type": "object", "required": ["count", "items"], "properties": {
            "count": {"type": "integer"},
            "items": {"type": "array", "items": {"type": "object", "required": ["id", "title", "owner", "next_review", "url"], "properties": {
                "id": {"type": "string"}, "title": {"type": "string"}, "owner": {"type": "string"}, "next_review": {"type": "string", "format": "date"}, "url": {"type": "string"}}}}}},
        "AuditRecords": {"type": "object", "required": ["day", "count", "records"], "properties": {
            "day": {"type": "string"}, "count": {"type": "integer"},
            "records": {"type": "array", "items": {"type": "object", "required": ["at", "subject", "roles", "via", "action", "what"], "properties": {
                "at": {"type": "string", "format": "date-time"},
                "subject": {"type": "string", "description": "the identity provider's subject, or api-key:DEPT"},
                "roles": {"type": "string"}, "via": {"type": "string"},
                "action": {"type": "string", "enum": ["change", "read_personal_data"]},
                "what": {"type": "string"}, "case_numbers": {"type": "array", "items": {"type": "string"}},
                "request_id": {"type": "string"}, "seq": {"type": "integer"}, "detail": {"type": "string"}, "read_id": {"type": "string"}}}}}}
        })
}
