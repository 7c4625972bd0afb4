//! The admin command's operations, callable from tests as well as from `citydesk`.

pub mod api_keys;
pub mod target;
