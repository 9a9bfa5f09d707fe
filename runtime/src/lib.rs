//! wasmgr's host runtime.
#![allow(missing_docs, reason = "crate under construction in this commit")]

pub mod actor;
pub mod bindings;
pub mod builtin;
pub mod cache;
pub mod cluster;
pub mod command;
pub mod engine;
pub mod format;
pub mod health;
pub mod host;
pub mod limits;
pub mod loader;
pub mod manager;
pub mod manifest;
pub mod module_env;
pub mod options;
pub mod persist;
pub mod supervisor;
pub mod trap;
