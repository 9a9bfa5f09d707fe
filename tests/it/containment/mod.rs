//! Containment: what a hostile module must not be able to do to the daemon, its operator or
//! the other modules. Each file is one class of hole a security audit found, reproduced with
//! the `rogue` guest: a stranger's module written against the WIT without the SDK, whose
//! declarations and behaviour a script sets (see `tests/guests/rogue`).
//!
//! Every test checks that the attacker gets a clear error, that the daemon answers, and that
//! `hello` keeps answering; where the attempt is a trap or a refused load, that the audit
//! ledger has it (`fault`, `refused`). See also `hostile`, the attempts to leave the sandbox.

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

/// Assert that `module` failed to load with a reason containing `words`, and that the audit
/// ledger has the refusal.
#[track_caller]
fn assert_failed_naming(host: &Host, module: &str, words: &str) {
    let row = host.module_row(module);
    let reason = reason(&row);
    assert!(
        reason.contains(words),
        "{module} failed for another reason than {words:?}: {reason}"
    );
    let refused = host.audit("refused", module);
    assert!(
        refused
            .iter()
            .any(|e| e["detail"].as_str().is_some_and(|d| d.contains(words))),
        "no refused event of {module} naming {words:?}: {refused:#?}"
    );
}

/// The audit ledger has a `kind` event about `module` whose detail contains `words`.
#[track_caller]
fn assert_audited(daemon: &Daemon, kind: &str, module: &str, words: &str) {
    let events = daemon.audit(kind, module);
    assert!(
        events
            .iter()
            .any(|e| e["detail"].as_str().is_some_and(|d| d.contains(words))),
        "no {kind} event of {module} saying {words:?}: {events:#?}"
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
