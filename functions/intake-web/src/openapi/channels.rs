//! The residents' channels' webhooks in the description: what a provider
//! may send and what it gets back.

use serde_json::{Value, json};

use super::error_response;

pub fn paths() -> Value {
    json!({
    "/v1/channels/sms": {"post": {
        "summary": "A resident's SMS, MMS or WhatsApp message, as a Twilio-compatible provider delivers it",
        "description": "Signed by the provider (X-Twilio-Signature over the public URL and every field; HMAC-SHA256 when X-Twilio-Webhooks-Signature-Settings says so): an unsigned or wrongly signed call is refused before any field is read. The reply is TwiML; a retry of the same MessageSid is answered with an empty <Response/>.",
        "tags": ["channels"],
        "parameters": [
            {"name": "X-Twilio-Signature", "in": "header", "required": false, "schema": {"type": "string"}},
            {"name": "X-Twilio-Webhooks-Signature-Settings", "in": "header", "required": false, "schema": {"type": "string"}}
        ],
        "requestBody": {"required": true, "content": {"application/x-www-form-urlencoded": {"schema": {
            "type": "object",
            "properties": {
                "MessageSid": {"type": "string"}, "From": {"type": "string", "example": "+48600100200"},
                "To": {"type": "string"}, "Body": {"type": "string", "maxLength": 4096},
                "NumMedia": {"type": "string"}, "MediaUrl0": {"type": "string"}, "MediaContentType0": {"type": "string"},
                "Latitude": {"type": "string"}, "Longitude": {"type": "string"}
            },
            "additionalProperties": {"type": "string"}
        }}}},
        "responses": {
            "200": {"description": "TwiML: the reply to text back, or an empty <Response/>", "content": {"text/xml": {"schema": {"type": "string"}}}},
            "400": error_response("a signed message whose fields are not a message (MessageSid, From)"),
            "403": error_response("not signed by this account's provider"),
            "413": error_response("a body over 64 KiB or a text over the channel's length"),
            "422": error_response("a message that cannot become a request"),
            "503": error_response("a dependency failed; the provider may retry")
        }
    }}
    })
}
