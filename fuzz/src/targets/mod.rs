//! The targets. Each is a `fn(&[u8], &mut Features)` that must not panic on any input.

pub mod admin;
pub mod command;
pub mod loader;
pub mod manifest;
