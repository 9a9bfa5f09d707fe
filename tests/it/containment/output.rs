//! Terminal output: what a module declares, logs or answers cannot write control characters to
//! the operator's terminal or forge rows and log lines, and cannot make listings huge.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{assert_hello_answers_daemon, reason};
use crate::harness::guests::{HELLO, ROGUE};
use crate::harness::{Daemon, wait_until};

const ESC: char = '\u{1b}';
const BEL: char = '\u{7}';
const MIB: usize = 1 << 20;

/// A liveness bound for listings: generous, for a loaded machine.
const ANSWERS_WITHIN: Duration = Duration::from_secs(10);

#[track_caller]
fn assert_no_control(what: &str, text: &str) {
    assert!(
        !text.contains(ESC) && !text.contains(BEL),
        "{what} printed a raw ESC or BEL:\n{text:?}"
    );
}

#[test]
fn a_modules_version_and_descriptions_cannot_reach_the_terminal_raw() {
    let daemon = Daemon::start(&[ROGUE, HELLO]);
    let _ = daemon.load_script(
        "rogue",
        &json!({
            "version": "0.1\u{1b}[2J\u{1b}]0;pwned\u{7}",
            "commands": [{
                "prefix": "rogue echo",
                "desc": "Echo\nFAKE forged row\u{1b}[31m in red\u{7}",
                "args": [{"name": "retval", "type": "int"}],
            }],
        }),
    );

    let ls = daemon.ok(&["module", "ls"]);
    assert_no_control("module ls", &ls);
    assert_eq!(
        ls.lines().count(),
        3,
        "module ls has rows that are not modules:\n{ls}"
    );
    assert_no_control(
        "module info rogue",
        &daemon.ok(&["module", "info", "rogue"]),
    );
    let help = daemon.ok(&["--help"]);
    assert_no_control("--help", &help);
    assert!(
        !help.lines().any(|l| l.starts_with("FAKE")),
        "--help has a forged row:\n{help}"
    );
    assert_hello_answers_daemon(&daemon);
}

#[test]
fn a_modules_log_line_cannot_forge_daemon_log_lines() {
    let daemon = Daemon::start(&[ROGUE, HELLO]);
    daemon
        .run_with_stdin(
            &["rogue", "log", "info", "-i", "-"],
            Some("innocent \u{1b}[2J\u{1b}]0;pwned\u{7}\nFAKE daemon line"),
        )
        .ok();
    wait_until(
        "the module's line in the daemon log",
        ANSWERS_WITHIN,
        || daemon.log().contains("FAKE daemon line"),
    );
    let log = daemon.log();
    assert!(!log.contains(ESC), "the daemon log has a raw ESC:\n{log:?}");
    let line = log
        .lines()
        .find(|l| l.contains("FAKE daemon line"))
        .unwrap();
    assert!(
        line.contains("innocent"),
        "the module's message started a line of its own:\n{log}"
    );
}

#[test]
fn a_commands_output_cannot_reach_the_terminal_raw() {
    let daemon = Daemon::start(&[ROGUE, HELLO]);
    let echo = json!({"retval": 0, "stdout": "a\u{1b}[2Jb\u{1b}]0;pwned\u{7}c"});
    let out = daemon
        .run_with_stdin(&["rogue", "echo", "0", "-i", "-"], Some(&echo.to_string()))
        .ok();
    assert!(!out.contains(ESC), "the CLI printed a raw ESC: {out:?}");
    let echo = json!({"retval": -22, "stderr": "bad \u{1b}[2J thing"});
    let err = daemon
        .run_with_stdin(&["rogue", "echo", "0", "-i", "-"], Some(&echo.to_string()))
        .fails(22);
    assert!(!err.contains(ESC), "the CLI printed a raw ESC: {err:?}");
}

#[test]
fn a_huge_version_fails_the_module_and_module_ls_stays_small() {
    let daemon = Daemon::start(&[ROGUE, HELLO]);
    let _ = daemon.load_script(
        "rogue",
        &json!({"version": {"repeat": "1", "times": 20 * MIB}}),
    );
    let started = Instant::now();
    let ls = daemon.ok(&["module", "ls"]);
    let elapsed = started.elapsed();
    eprintln!("module ls took {elapsed:?}");
    assert!(elapsed < ANSWERS_WITHIN, "module ls took {elapsed:?}");
    assert!(ls.len() < 64 << 10, "module ls printed {} bytes", ls.len());
    let row = daemon.module_row("rogue");
    let reason = reason(&row);
    assert!(reason.contains("version"), "{reason}");
    assert!(
        reason.len() < 64 << 10,
        "a reason of {} bytes",
        reason.len()
    );
    assert_hello_answers_daemon(&daemon);
}

#[test]
fn a_hundred_thousand_commands_fail_the_module_and_help_answers() {
    let daemon = Daemon::start(&[ROGUE, HELLO]);
    let _ = daemon.load_script("rogue", &json!({"extra_commands": 100_000}));
    let row = daemon.module_row("rogue");
    let reason = reason(&row);
    assert!(reason.contains("commands"), "{reason}");
    let started = Instant::now();
    let help = daemon.ok(&["--help"]);
    assert!(
        started.elapsed() < ANSWERS_WITHIN,
        "--help took {:?}",
        started.elapsed()
    );
    assert!(help.contains("hello"), "{help}");
    assert_hello_answers_daemon(&daemon);
}

#[test]
fn an_option_value_of_70_kib_is_refused_and_config_ls_answers() {
    let daemon = Daemon::start(&[ROGUE, HELLO]);
    let value = json!({"value": {"repeat": "x", "times": 70 << 10}});
    let err = daemon
        .run_with_stdin(
            &["rogue", "option", "set", "text", "-i", "-"],
            Some(&value.to_string()),
        )
        .fails(7);
    assert!(err.starts_with("Error E2BIG"), "{err}");
    let ls = daemon.ok(&["config", "ls"]);
    assert!(ls.len() < 64 << 10, "config ls printed {} bytes", ls.len());
    assert_hello_answers_daemon(&daemon);
}

#[test]
fn a_host_error_trap_reaches_client_and_log_as_one_escaped_line() {
    let daemon = Daemon::start(&[ROGUE, HELLO]);
    // WASI's `exit`: the trap's error is the host's, and wasmtime's error chain around it
    // holds a wasm backtrace whose frame names the component chooses.
    let err = daemon.run(&["rogue", "exit"]).fails(5);
    eprintln!("rogue exit: {err:?}");
    assert!(err.starts_with("Error EIO"), "{err:?}");
    let message = err.strip_suffix('\n').unwrap_or(&err);
    assert!(
        !message.contains('\n') && !message.contains('\r'),
        "the error is not one line:\n{err}"
    );
    assert!(
        !err.to_lowercase().contains("backtrace"),
        "the error holds a backtrace:\n{err}"
    );
    assert_no_control("the error", &err);

    assert_eq!(daemon.module_row("rogue")["state"], "running");
    assert_eq!(daemon.ok(&["rogue", "echo", "0", "ok"]), "ok\n");
    let log = daemon.log();
    assert!(
        !log.to_lowercase().contains("backtrace"),
        "the daemon log holds a backtrace:\n{log}"
    );
    assert!(!log.contains(ESC), "the daemon log has a raw ESC:\n{log:?}");
    assert_hello_answers_daemon(&daemon);
}

#[test]
fn a_choice_with_control_characters_fails_the_module_and_reaches_no_terminal() {
    let daemon = Daemon::start(&[ROGUE, HELLO]);
    let enable = daemon.load_script(
        "rogue",
        &json!({"commands": [{
            "prefix": "rogue pick",
            "action": "echo",
            "args": [{
                "name": "which",
                "type": "choices",
                "choices": ["ok", "\u{1b}]0;PWNED\u{7}"],
            }],
        }]}),
    );
    assert_ne!(enable.code, 0, "rogue loaded: {enable:#?}");
    assert_no_control("module enable", &enable.stderr);
    let row = daemon.module_row("rogue");
    let reason = reason(&row);
    assert!(reason.contains("choices must be"), "{reason}");
    assert_no_control("the reason", reason);

    assert_no_control("module ls", &daemon.ok(&["module", "ls"]));
    let help = daemon.ok(&["--help"]);
    assert_no_control("--help", &help);
    assert!(!help.contains("PWNED"), "--help shows the choice:\n{help}");
    assert_hello_answers_daemon(&daemon);
}
