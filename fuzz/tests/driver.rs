//! The driver's command line, run as `cargo xtask fuzz` runs it.
//!
//! Besides testing it, this test makes `cargo test --workspace` build the driver with the
//! tests' dependency features, so that CI's fuzz step after the tests compiles nothing again.

// `clippy.toml` allows this in `#[test]` functions; the helper fails the same way, on purpose.
#![allow(clippy::unwrap_used, reason = "test code: failing loudly is the point")]

use std::process::{Command, Output};

fn driver(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wasmgr-fuzz"))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn list_names_every_target() {
    let out = driver(&["--list"]);
    assert!(out.status.success());
    let listed = String::from_utf8(out.stdout).unwrap();
    for target in wasmgr_fuzz::TARGETS {
        assert!(listed.contains(target.name), "{listed}");
    }
}

#[test]
fn reproduce_runs_saved_inputs() {
    let out = driver(&[
        "--reproduce",
        "manifest",
        "fuzz/corpus/manifest/limits",
        "fuzz/corpus/manifest/unknown-key",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert_eq!(stdout.matches(": no crash").count(), 2, "{stdout}");
}

#[test]
fn an_unknown_target_is_a_usage_error() {
    let out = driver(&["nosuch", "--seconds", "1"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no target 'nosuch': the targets are command, signature"),
        "{stderr}"
    );
}
