//! The client's surface: tables, formats, exit codes, input files.

use expect_test::expect;
use serde_json::json;

use crate::harness::guests::{ANTIGRAVITY, HELLO, KVPROBE};
use crate::harness::{Daemon, wasmgr};

/// `text` with every run of 12 hex digits (a digest prefix) replaced by `<digest....>`.
fn mask_digests(text: &str) -> String {
    text.split('\n')
        .map(|line| {
            line.split(' ')
                .map(|word| {
                    if word.len() == 12 && word.bytes().all(|b| b.is_ascii_hexdigit()) {
                        "<digest....>"
                    } else {
                        word
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn module_ls_shows_each_module_with_state_version_and_digest() {
    let daemon = Daemon::start(&[HELLO, ANTIGRAVITY, KVPROBE]);
    daemon.ok(&["module", "disable", "kvprobe"]);
    expect![[r#"
        MODULE       STATE     VERSION  DIGEST        REASON
        antigravity  running   0.1.0    <digest....>
        hello        running   0.1.0    <digest....>
        kvprobe      disabled  0.1.0    <digest....>
    "#]]
    .assert_eq(&mask_digests(&daemon.ok(&["module", "ls"])));

    let list = daemon.run(&["module", "ls", "-f", "json"]).json();
    let hello = &list[1];
    assert_eq!(hello["name"], "hello");
    assert_eq!(hello["state"], "running");
    assert_eq!(hello["enabled"], true);
    assert_eq!(hello["commands"], 2);
    // The digest is the sha256 of the component file.
    let digest = hello["digest"].as_str().unwrap();
    assert_eq!(digest.len(), 64, "{digest}");
    assert_eq!(
        daemon.module_info("hello")["digest"],
        format!("sha256:{digest}")
    );
    assert_eq!(list[2]["enabled"], false);
}

#[test]
fn an_unknown_command_exits_einval() {
    let daemon = Daemon::start(&[HELLO]);
    let err = daemon.run(&["frobnicate", "now"]).fails(22);
    assert_eq!(
        err,
        "Error EINVAL: no valid command found for 'frobnicate now'; see 'wasmgr --help'\n"
    );
}

#[test]
fn the_exit_code_is_the_commands_errno() {
    let daemon = Daemon::start(&[ANTIGRAVITY, KVPROBE]);
    let cases: [(&[&str], i32, &str); 5] = [
        (&["config-key", "get", "nope"], 2, "ENOENT"),
        (&["kvprobe", "get", "nope"], 2, "ENOENT"),
        (&["kvprobe", "opt", "set", "count", "99"], 34, "ERANGE"),
        (
            &["antigravity", "create", "wormhole", "o", "w"],
            2,
            "ENOENT",
        ),
        (&["module", "enable", "nope"], 2, "ENOENT"),
    ];
    for (args, code, name) in cases {
        let err = daemon.run(args).fails(code);
        assert!(
            err.starts_with(&format!("Error {name}: ")),
            "{args:?}: {err}"
        );
    }
    daemon
        .run_with_stdin(&["antigravity", "put", "object", "o", "-i", "-"], Some("x"))
        .ok();
    daemon.ok(&["antigravity", "create", "wormhole", "o", "w"]);
    let err = daemon
        .run(&["antigravity", "create", "wormhole", "o", "w"])
        .fails(17);
    assert!(err.starts_with("Error EEXIST: "), "{err}");
}

#[test]
fn json_pretty_output_is_indented_json() {
    let daemon = Daemon::start(&[HELLO]);
    daemon.ok(&["hello"]);
    let pretty = daemon.ok(&["hello", "stats", "--format", "json-pretty"]);
    assert_eq!(
        pretty,
        "{\n  \"greetings\": 1,\n  \"place\": \"world\"\n}\n"
    );
    let status = daemon.ok(&["status", "-f", "json-pretty"]);
    let parsed: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(parsed["health"], "HEALTH_OK");
    assert_eq!(
        parsed["modules"],
        json!({"total": 1, "running": 1, "failed": 0, "disabled": 0, "ungranted": 0})
    );
    assert!(status.starts_with("{\n  \""), "{status}");
}

#[test]
fn an_unknown_format_is_refused_before_reaching_the_daemon() {
    let err = wasmgr(&["--data", "/nonexistent", "-f", "xml", "hello"], None).fails(22);
    assert!(
        err.starts_with(
            "Error EINVAL: unknown format 'xml': use one of plain, json, json-pretty, yaml\n"
        ),
        "{err}"
    );
}

#[test]
fn input_dash_reads_standard_input() {
    let daemon = Daemon::start(&[ANTIGRAVITY]);
    let data = "from stdin\nwith two lines\n";
    daemon
        .run_with_stdin(
            &["antigravity", "put", "object", "piped", "-i", "-"],
            Some(data),
        )
        .ok();
    assert_eq!(daemon.ok(&["antigravity", "dump", "config", "piped"]), data);
    // `config-key set` without a value takes it from the input too.
    daemon
        .run_with_stdin(&["config-key", "set", "some/key", "-i", "-"], Some("v1"))
        .ok();
    assert_eq!(daemon.ok(&["config-key", "get", "some/key"]), "v1\n");
}

#[test]
fn a_missing_input_file_is_refused() {
    let daemon = Daemon::start(&[ANTIGRAVITY]);
    let err = daemon
        .run(&[
            "antigravity",
            "put",
            "object",
            "o",
            "-i",
            "/nonexistent/file",
        ])
        .fails(22);
    assert!(
        err.starts_with("Error EINVAL: -i /nonexistent/file: "),
        "{err}"
    );
}

#[test]
fn without_a_daemon_the_client_says_how_to_start_one() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let err = wasmgr(&["--data", data, "hello"], None).fails(111);
    assert_eq!(
        err,
        format!(
            "Error ECONNREFUSED: no daemon is running for data directory {data} (no admin.json there): start one with 'wasmgr serve --data {data}', or pass --data / set WASMGR_DATA\n"
        )
    );
}

#[test]
fn config_key_commands_manage_operator_keys() {
    let daemon = Daemon::start(&[]);
    let out = daemon.run(&["config-key", "set", "a/b", "1"]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, "", "set a/b\n")
    );
    daemon.ok(&["config-key", "set", "a/c", "2"]);
    daemon.ok(&["config-key", "set", "z", "3"]);
    let exists = daemon.run(&["config-key", "exists", "a/b"]);
    assert_eq!(
        (exists.code, exists.stderr.as_str()),
        (0, "key 'a/b' exists\n")
    );
    assert_eq!(
        daemon.run(&["config-key", "dump", "a/"]).json(),
        json!({"a/b": "1", "a/c": "2"})
    );
    assert_eq!(
        daemon.run(&["config-key", "ls"]).json(),
        json!(["a/b", "a/c", "z"])
    );
    daemon.ok(&["config-key", "rm", "a/b"]);
    let err = daemon.run(&["config-key", "exists", "a/b"]).fails(2);
    assert_eq!(err, "Error ENOENT: key 'a/b' doesn't exist\n");
    let err = daemon.run(&["config-key", "get", "a/b"]).fails(2);
    assert_eq!(
        err,
        "Error ENOENT: error obtaining 'a/b': (2) No such file or directory\n"
    );
}

#[test]
fn an_argument_that_is_not_utf8_is_refused_with_einval() {
    use std::os::unix::ffi::OsStrExt;
    let out = std::process::Command::new(crate::harness::WASMGR)
        .arg(std::ffi::OsStr::from_bytes(b"hello\xff"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(22), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not valid UTF-8"), "{err}");
}
