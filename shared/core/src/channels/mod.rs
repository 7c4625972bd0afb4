//! What the residents' channels have in common before a message becomes a
//! request: proving a webhook came from the provider ([`webhook_signature`]),
//! what a text message asks for ([`sms_command`]), and the language it
//! is written in ([`text_language`]).
//! Each channel's own function parses its payload; the submission path is
//! [`crate::usecases::submit_request`] for all of them.

pub mod sms_command;
pub mod text_language;
pub mod webhook_signature;
