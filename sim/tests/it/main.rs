//! The simulator's integration tests, one module per topic: shapes against the captured
//! cluster, evolution over time, the cluster's commands, and random command sequences.

// `clippy.toml` allows these in `#[test]` functions; the shared helpers here fail the same way,
// on purpose: a panic is a test failure with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: failing loudly is the point"
)]

mod commands;
mod evolution;
mod properties;
mod shapes;
