//! E-mail's untrusted input: any bytes as a stored message. Reading never
//! panics; what is read is bounded and the case a reply names is valid.

#![no_main]

use citydesk_core::channels::email_message::{
    MAX_EMAIL_TEXT_CHARS, case_named, parse_email, trim_quoted,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(email) = parse_email(data) {
        assert!(email.text.chars().count() <= MAX_EMAIL_TEXT_CHARS);
        if let Some(case) = case_named(&email, "requests") {
            assert_eq!(case.as_str().len(), 9);
        }
        let again = trim_quoted(&email.text);
        assert!(again.len() <= email.text.len());
    }
});
