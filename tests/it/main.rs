//! wasmgr's integration tests: the real daemon and CLI (and, where no process is needed, the
//! host in-process) running real guest components built from source by `tests/build.rs`.
//!
//! One binary, one module per topic.

// `clippy.toml` allows these in `#[test]` functions; the shared helpers here fail the same way,
// on purpose: a panic is a test failure with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: failing loudly is the point"
)]

mod harness;

mod admin;
mod attack;
mod auth;
mod cache;
mod cli;
mod cluster;
mod commands;
mod config;
mod containment;
mod examples;
mod grants;
mod health;
mod hostile;
mod lifecycle;
mod limits;
mod living;
mod log;
mod memory;
mod notify;
mod persistence;
mod python;
mod remote;
mod signing;
mod store;
mod ticks;
mod versions;
