//! Turning rows into text.

pub mod json;
pub mod table;
