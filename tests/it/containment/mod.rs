//! Containment: what a hostile module must not be able to do to the daemon, its operator or
//! the other modules. Each file is one class of hole a security audit found, reproduced with
//! the `rogue` guest: a stranger's module written against the WIT without the SDK, whose
//! declarations and behaviour a script sets (see `tests/guests/rogue`).
//!
//! Every test checks that the attacker gets a clear error, that the daemon answers, and that
//! `hello` keeps answering.

mod admin;
mod declarations;
mod echo;
mod health;
mod memory;
mod namespace;
mod output;
mod retval;
mod store;
mod wasi;

use serde_json::Value;

use crate::harness::{Daemon, Host};

/// The greeting of `hello` with no argument, as the CLI prints it.
const HELLO_LINE: &str = "Hello, world!\n";

/// The reason a failed module's row gives, or a failure naming the row.
#[track_caller]
fn reason(row: &Value) -> &str {
    assert_eq!(row["state"], "failed", "the module is not failed: {row}");
    row["reason"]
        .as_str()
        .unwrap_or_else(|| panic!("a failed module without a reason: {row}"))
}

/// Assert that `module` failed to load with a reason containing `words`.
#[track_caller]
fn assert_failed_naming(host: &Host, module: &str, words: &str) {
    let row = host.module_row(module);
    let reason = reason(&row);
    assert!(
        reason.contains(words),
        "{module} failed for another reason than {words:?}: {reason}"
    );
}

/// `hello` answers on the in-process host.
#[track_caller]
fn assert_hello_answers(host: &Host) {
    assert_eq!(host.ok(&["hello"]), "Hello, world!");
}

/// `hello` answers through the daemon's CLI.
#[track_caller]
fn assert_hello_answers_daemon(daemon: &Daemon) {
    assert_eq!(daemon.ok(&["hello"]), HELLO_LINE);
}

/// The JSON a `rogue` command printed (`kv fill`, `kv prefix`, `kv rm`, `get`).
#[track_caller]
fn json_of(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}
