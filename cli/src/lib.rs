//! The `wasmgr` command line: `wasmgr serve` runs the daemon; every other invocation is a
//! client of a running daemon, in the spirit of the `ceph` CLI.
//!
//! This crate is the only place that reads argv and the environment and installs the tracing
//! subscriber.

mod admin;
mod alloc;
mod client;
mod http;
mod serve;

use std::path::PathBuf;

/// The environment variable naming the data directory, when `--data` is not given.
pub const DATA_ENV: &str = "WASMGR_DATA";

/// The data directory: `--data`, else `$WASMGR_DATA`, else `$XDG_STATE_HOME/wasmgr`, else
/// `~/.local/state/wasmgr`.
pub(crate) fn default_data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os(DATA_ENV) {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_STATE_HOME") {
        return PathBuf::from(d).join("wasmgr");
    }
    match std::env::var_os("HOME") {
        Some(h) => PathBuf::from(h).join(".local/state/wasmgr"),
        None => PathBuf::from("wasmgr-data"),
    }
}

/// Run the command line `args` (without the program name); returns the exit code.
pub fn main(args: Vec<String>) -> i32 {
    if args.first().map(String::as_str) == Some("serve") {
        alloc::give_memory_back();
        return serve::main(&args[1..]);
    }
    client::main(args)
}
