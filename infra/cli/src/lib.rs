//! The admin command's operations, callable from tests as well as from `citydesk`.

pub mod api_keys;
pub mod citizen;
pub mod city;
pub mod history_import;
pub mod history_report;
pub mod model_training;
pub mod target;
