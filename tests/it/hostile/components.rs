//! Files that are not modules: not wasm at all, a core module, a component of another world,
//! a component without the module exports, a truncated component, a file of 100 MB. Each is
//! refused at load with an error that says what is wrong, is a `refused` event in the ledger,
//! and leaves the daemon and the other modules running.

use std::fs;

use super::{assert_audited_saying, assert_hello_answers};
use crate::harness::guests::{HELLO, NOEXPORTS, WRONGWORLD};
use crate::harness::{Daemon, DaemonOptions, Modules};

/// The smallest core module: the magic number and version 1, no sections.
const CORE_MODULE: &[u8] = b"\0asm\x01\0\0\0";

/// The malformed files, as `(module name, contents)`.
fn malformed() -> Vec<(&'static str, Vec<u8>)> {
    let hello = fs::read(HELLO).unwrap();
    vec![
        ("notwasm", b"#!/bin/sh\nrm -rf /\n".to_vec()),
        ("coremodule", CORE_MODULE.to_vec()),
        ("wrongworld", fs::read(WRONGWORLD).unwrap()),
        ("noexports", fs::read(NOEXPORTS).unwrap()),
        ("truncated", hello[..hello.len() / 2].to_vec()),
    ]
}

/// Put `bytes` in the modules directory as `<name>.wasm` and enable it: it fails with EIO
/// (`module enable` exits 5) and a message containing `says`; the module is failed for that
/// reason and the ledger has the refusal.
#[track_caller]
fn assert_refused(daemon: &Daemon, name: &str, bytes: &[u8], says: &str) {
    fs::write(daemon.modules_dir().join(format!("{name}.wasm")), bytes).unwrap();
    let err = daemon.run(&["module", "enable", name]).fails(5);
    eprintln!("module enable {name}: {err}");
    assert!(
        err.starts_with(&format!("Error EIO: module '{name}' failed to load: ")),
        "{err}"
    );
    assert!(err.contains(says), "{name}: {err}");
    let row = daemon.module_row(name);
    assert_eq!(row["state"], "failed", "{row:#}");
    assert!(row["reason"].as_str().unwrap().contains(says), "{row:#}");
    assert_audited_saying(daemon, "refused", name, says);
    assert_hello_answers(daemon);
}

#[test]
fn a_file_that_is_not_wasm_is_refused() {
    let daemon = Daemon::start(&[HELLO]);
    assert_refused(
        &daemon,
        "notwasm",
        b"#!/bin/sh\nrm -rf /\n",
        "not WebAssembly (no \\0asm header): build the module for wasm32-wasip2",
    );
}

#[test]
fn a_core_module_is_refused() {
    let daemon = Daemon::start(&[HELLO]);
    assert_refused(
        &daemon,
        "coremodule",
        CORE_MODULE,
        "a core WebAssembly module, not a component: build for wasm32-wasip2, or wrap it with `wasm-tools component new`",
    );
}

#[test]
fn a_component_of_another_world_is_refused_naming_the_import() {
    let daemon = Daemon::start(&[HELLO]);
    let bytes = fs::read(WRONGWORLD).unwrap();
    assert_refused(
        &daemon,
        "wrongworld",
        &bytes,
        "cannot link: component imports instance `wasi:http/outgoing-handler@0.2.0`",
    );
}

#[test]
fn a_component_without_the_module_exports_is_refused() {
    let daemon = Daemon::start(&[HELLO]);
    let bytes = fs::read(NOEXPORTS).unwrap();
    assert_refused(
        &daemon,
        "noexports",
        &bytes,
        "cannot link: no exported instance named `wasmgr:mgr/module@0.1.1`",
    );
}

#[test]
fn a_truncated_component_is_refused() {
    let daemon = Daemon::start(&[HELLO]);
    let hello = fs::read(HELLO).unwrap();
    assert_refused(
        &daemon,
        "truncated",
        &hello[..hello.len() / 2],
        "not a valid WebAssembly component: failed to parse WebAssembly module: wasm component contains an invalid module section",
    );
}

#[test]
fn a_modules_directory_of_malformed_files_does_not_stop_the_daemon_from_starting() {
    let modules = Modules::new(&[HELLO]);
    for (name, bytes) in malformed() {
        fs::write(modules.path().join(format!("{name}.wasm")), bytes).unwrap();
    }
    fs::File::create(modules.path().join("huge.wasm"))
        .unwrap()
        .set_len(100_000_000)
        .unwrap();
    let daemon = Daemon::with(modules, DaemonOptions::default());
    assert_hello_answers(&daemon);
    let names: Vec<&str> = malformed().iter().map(|(n, _)| *n).collect();
    for name in names.iter().copied().chain(["huge"]) {
        let row = daemon.module_row(name);
        assert_eq!(row["state"], "failed", "{row:#}");
        let events = daemon.audit("refused", name);
        assert!(!events.is_empty(), "no refused event for {name}");
    }
    let health = daemon.ok(&["health", "detail"]);
    for name in names {
        assert!(
            health.contains(&format!("Module '{name}' has failed")),
            "{health}"
        );
    }
    assert_hello_answers(&daemon);
}
