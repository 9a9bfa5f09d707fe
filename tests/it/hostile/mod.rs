//! Hostile modules: real guest components that try to get out of their sandbox (host files,
//! the environment, sockets, name lookups, other modules' data and methods), to exhaust the
//! host (traps of every kind, floods of output), or that are not modules at all (malformed
//! components).
//!
//! Every test checks the four things an operator relies on: the daemon survives, another
//! module (`hello`) keeps answering, the caller gets a clear error, and the audit ledger has
//! the entry (`denial`, `fault` or `refused`; see `wasmgr audit`) wherever the host saw the
//! attempt. Attempts that never reach the host (a path with no granted directory under it is
//! refused by the guest's own libc) are checked for their error only.
//!
//! Most probes are made by the `prober` guest (`tests/guests/prober`), which requests the OSD
//! map and nothing else; a test that grants it a directory or a socket address gives it a
//! `prober.toml` ([`prober_requesting`]).

mod calls;
mod components;
mod files;
mod net;
mod output;
mod traps;
mod wasi;

use serde_json::Value;

use crate::harness::guests::{HELLO, PROBER};
use crate::harness::{Daemon, DaemonOptions, Modules};

/// `hello` answers through the daemon's CLI: the daemon is alive and serves other modules.
#[track_caller]
fn assert_hello_answers(daemon: &Daemon) {
    assert_eq!(daemon.ok(&["hello"]), "Hello, world!\n");
}

/// Run one of prober's probes; its JSON report.
#[track_caller]
fn probe(daemon: &Daemon, words: &[&str]) -> Value {
    let out = daemon.ok(words);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{words:?}: not JSON ({e}): {out}"))
}

/// A probe that must have failed, with the error the guest saw; none of `secrets` (text of
/// what it aimed at) is in the report.
#[track_caller]
fn assert_probe_fails(daemon: &Daemon, words: &[&str], secrets: &[&str]) -> Value {
    let seen = probe(daemon, words);
    eprintln!("{words:?}: {seen}");
    assert_eq!(seen["ok"], false, "{words:?} succeeded: {seen}");
    assert!(
        seen["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{words:?} failed without an error: {seen}"
    );
    for secret in secrets {
        assert!(
            !seen.to_string().contains(secret),
            "{words:?} leaked {secret:?}: {seen}"
        );
    }
    seen
}

/// A daemon running `prober` and `hello`, prober with `manifest` as its `prober.toml`, each
/// granted what it requests.
fn prober_requesting(manifest: &str) -> Daemon {
    Daemon::with(
        Modules::new(&[PROBER, HELLO]).manifest(PROBER, manifest),
        DaemonOptions::default(),
    )
}

/// `module caps <module> --format json`.
#[track_caller]
fn caps(daemon: &Daemon, module: &str) -> Value {
    daemon
        .run(&["module", "caps", module, "--format", "json"])
        .json()
}

/// The row of `capability` in `caps`, if there is one.
fn cap_row(caps: &Value, capability: &str) -> Option<Value> {
    crate::harness::cap_row(caps, capability)
}

/// How many times `module` was denied `capability`, as `module caps` counts it.
#[track_caller]
fn denied_count(daemon: &Daemon, module: &str, capability: &str) -> u64 {
    let caps = caps(daemon, module);
    cap_row(&caps, capability)
        .and_then(|r| r["denied"]["count"].as_u64())
        .unwrap_or_else(|| panic!("no denial of {capability} counted: {caps:#}"))
}

/// The ledger's `kind` events about `module` whose capability is `capability`; at least one.
#[track_caller]
fn assert_audited(daemon: &Daemon, kind: &str, module: &str, capability: &str) -> Vec<Value> {
    let events = daemon.audit(kind, module);
    let matching: Vec<Value> = events
        .iter()
        .filter(|e| e["capability"] == capability)
        .cloned()
        .collect();
    assert!(
        !matching.is_empty(),
        "no {kind} event of {module} for {capability} in the ledger: {events:#?}"
    );
    matching
}

/// The ledger's `kind` events about `module` whose detail contains `words`; at least one.
#[track_caller]
fn assert_audited_saying(daemon: &Daemon, kind: &str, module: &str, words: &str) -> Vec<Value> {
    let events = daemon.audit(kind, module);
    let matching: Vec<Value> = events
        .iter()
        .filter(|e| e["detail"].as_str().is_some_and(|d| d.contains(words)))
        .cloned()
        .collect();
    assert!(
        !matching.is_empty(),
        "no {kind} event of {module} saying {words:?} in the ledger: {events:#?}"
    );
    matching
}
