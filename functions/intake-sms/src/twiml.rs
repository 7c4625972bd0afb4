//! The webhook's answer: TwiML, the provider's XML for "reply with this".

use quick_xml::escape::escape;

/// `<Response><Message>…</Message></Response>`, or an empty `<Response/>`
/// when nothing is to be sent.
pub fn reply(message: Option<&str>) -> String {
    match message {
        Some(text) => format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>{}</Message></Response>",
            escape(text)
        ),
        None => "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_nothing_is_an_empty_response() {
        assert_eq!(
            reply(Some("a < b & \"c\" — żółw")),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>a &lt; b &amp; &quot;c&quot; — żółw</Message></Response>"
        );
        assert!(reply(None).ends_with("<Response/>"));
    }
}
