//! What the residents' channels have in common before a message becomes a
//! request: proving a webhook came from the provider ([`webhook_signature`]),
//! what a text message asks for ([`sms_command`]), the language it is
//! written in ([`text_language`]), what the service remembers of a number
//! that texts it ([`texter`]), what it texts back ([`replies`]) and what
//! texting may cost ([`outbound`]).
//! Each channel's own function parses its payload; the submission path is
//! [`crate::usecases::submit_request`] for all of them, and a text
//! conversation is [`crate::usecases::text_conversation`].

pub mod email_message;
pub mod outbound;
pub mod replies;
pub mod sms_command;
pub mod text_language;
pub mod texter;
pub mod webhook_signature;
