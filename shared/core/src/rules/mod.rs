//! The decisions the system makes on its own: which service a text is about,
//! and which department must handle it by when.

pub mod calendar;
pub mod classification;
pub mod duplicates;
pub mod redaction;
pub mod routing;
pub mod text;
