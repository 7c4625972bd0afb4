//! The SMS webhook's untrusted input: any form body and signature header.
//! Checking a signature never panics and refuses what the token did not
//! sign; what the token signed is accepted (with the URL's default port or
//! not); the text, whatever it is, reads as a command and a language.

#![no_main]

use citydesk_core::channels::sms_command::parse_sms;
use citydesk_core::channels::text_language::language_of;
use citydesk_core::channels::webhook_signature::{SignatureAlgorithm, sign, verify_form};
use libfuzzer_sys::fuzz_target;

const TOKEN: &str = "fuzz-auth-token";
const URL: &str = "https://311.krakow.example/v1/channels/sms";

fuzz_target!(|data: &[u8]| {
    // The first line is the signature header, the rest the form body.
    let (header, body) = match data.iter().position(|b| *b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (&b""[..], data),
    };
    let header = String::from_utf8_lossy(header);
    let params: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    for algorithm in [SignatureAlgorithm::HmacSha1, SignatureAlgorithm::HmacSha256] {
        let with_port = "https://311.krakow.example:443/v1/channels/sms";
        let given = verify_form(TOKEN, algorithm, URL, &params, Some(&header));
        let signed = sign(TOKEN, algorithm, URL, &params);
        if given.is_ok() {
            let either = [signed.clone(), sign(TOKEN, algorithm, with_port, &params)];
            assert!(
                either.contains(&header.trim().to_owned()),
                "only the token's signature is accepted"
            );
        }
        assert!(verify_form(TOKEN, algorithm, URL, &params, Some(&signed)).is_ok());
        assert!(verify_form(TOKEN, algorithm, with_port, &params, Some(&signed)).is_ok());
        assert!(verify_form("another-token", algorithm, URL, &params, Some(&signed)).is_err());
    }
    let _ = SignatureAlgorithm::from_settings(Some(&header));
    for (name, value) in &params {
        if name == "Body" {
            let parsed = parse_sms(value);
            let _ = language_of(value);
            let _ = parsed.command;
        }
    }
});
