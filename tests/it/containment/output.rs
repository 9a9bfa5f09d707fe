//! Terminal output: what a module declares, logs or answers cannot write control characters,
//! zero-width or bidirectional marks to the operator's terminal or forge rows and log lines,
//! and cannot make listings huge.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{assert_audited, assert_hello_answers_daemon, json_of, reason};
use crate::harness::guests::{HELLO, ROGUE};
use crate::harness::{Daemon, Out, wait_until, wasmgr};

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
    // The ledger keeps the refusal, as short as the reason.
    assert_audited(&daemon, "refused", "rogue", "version");
    for event in daemon.audit("refused", "rogue") {
        let detail = event["detail"].as_str().unwrap();
        assert!(
            detail.len() < 64 << 10,
            "an event of {} bytes",
            detail.len()
        );
    }
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
    // The ledger's fault is the same one line.
    let faults = daemon.audit("fault", "rogue");
    assert_eq!(faults.len(), 1, "{faults:#?}");
    let detail = faults[0]["detail"].as_str().unwrap();
    assert!(
        !detail.contains('\n') && !detail.to_lowercase().contains("backtrace"),
        "{detail}"
    );
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

#[test]
fn an_option_value_is_shown_on_one_line() {
    let daemon = Daemon::start(&[ROGUE, HELLO]);
    daemon
        .load_script(
            "rogue",
            &json!({"options": [{
                "name": "mode",
                "type": "str",
                "default": "a\nhealth: HEALTH_OK\n  FORGED",
            }]}),
        )
        .ok();

    assert_eq!(
        daemon.ok(&["config", "get", "mgr/rogue/mode"]),
        "a\\nhealth: HEALTH_OK\\n  FORGED\n"
    );
    let forged = |l: &str| {
        let l = l.trim_start();
        l.starts_with("health: HEALTH_OK") || l.starts_with("FORGED")
    };
    for words in [
        &["module", "info", "rogue"][..],
        &["config", "ls", "rogue"],
        &["config", "ls"],
    ] {
        let out = daemon.ok(words);
        assert!(
            !out.lines().any(forged),
            "{words:?} shows a forged line:\n{out}"
        );
        assert!(
            out.lines()
                .any(|l| l.contains("HEALTH_OK") && l.contains("FORGED")),
            "{words:?} does not show the value on one line:\n{out}"
        );
    }
    assert_hello_answers_daemon(&daemon);
}

#[test]
fn a_choice_with_a_zero_width_space_fails_the_module() {
    let daemon = Daemon::start(&[ROGUE, HELLO]);
    // Two choices an operator cannot tell apart.
    let enable = daemon.load_script(
        "rogue",
        &json!({"commands": [{
            "prefix": "rogue pick",
            "action": "echo",
            "args": [{"name": "which", "type": "choices", "choices": ["yes", "ye\u{200b}s"]}],
        }]}),
    );
    assert_ne!(enable.code, 0, "rogue loaded: {enable:#?}");
    assert!(
        !enable.stderr.contains('\u{200b}'),
        "a raw zero-width space: {enable:#?}"
    );
    let row = daemon.module_row("rogue");
    let reason = reason(&row);
    assert!(reason.contains("choices must be"), "{reason}");
    assert!(!reason.contains('\u{200b}'), "{reason:?}");
    assert!(!daemon.ok(&["--help"]).contains("rogue pick"));
    assert_hello_answers_daemon(&daemon);
}

#[test]
fn an_option_value_with_a_zero_width_space_is_shown_escaped() {
    let daemon = Daemon::start(&[ROGUE, HELLO]);
    daemon
        .load_script(
            "rogue",
            &json!({"options": [{"name": "mode", "type": "str", "default": "a\u{200b}b"}]}),
        )
        .ok();
    assert_eq!(
        daemon.ok(&["config", "get", "mgr/rogue/mode"]),
        "a\\u{200b}b\n"
    );
    for words in [&["module", "info", "rogue"][..], &["config", "ls", "rogue"]] {
        let out = daemon.ok(words);
        assert!(
            !out.contains('\u{200b}'),
            "{words:?} shows a raw zero-width space:\n{out}"
        );
    }
    assert_hello_answers_daemon(&daemon);
}

/// The most a `config-key` listing reads: half the 16 MiB output limit.
const LISTING_BYTES: u64 = 8 * MIB as u64;

/// `rogue kv fill` through the daemon, `per_call` keys of `size` bytes a call under the key
/// prefixes `prefix(call)`, until the keys written hold `bytes` as config-keys (keys plus
/// values). A write over the store write budget (EAGAIN) is retried after a short sleep.
#[track_caller]
fn fill_store(
    daemon: &Daemon,
    bytes: u64,
    size: usize,
    per_call: usize,
    prefix: impl Fn(usize) -> String,
) {
    let started = Instant::now();
    let mut held = 0;
    for call in 0..10_000 {
        let prefix = prefix(call);
        let out = json_of(&daemon.ok(&[
            "rogue",
            "kv",
            "fill",
            &per_call.to_string(),
            &size.to_string(),
            &prefix,
        ]));
        let written = out["written"].as_u64().unwrap();
        held += (0..written)
            .map(|i| (format!("mgr/rogue/{prefix}{i}").len() + size) as u64)
            .sum::<u64>();
        if held >= bytes {
            eprintln!(
                "rogue's store holds {held} bytes after {} calls in {:?}",
                call + 1,
                started.elapsed()
            );
            return;
        }
        match out["errno"].as_i64().unwrap() {
            0 => {}
            11 => std::thread::sleep(Duration::from_millis(100)),
            errno => panic!("kv fill failed with errno {errno}: {out}"),
        }
    }
    panic!("rogue's store never held {bytes} bytes");
}

/// `words` fail with E2BIG within [`REFUSED_WITHIN`], for the operator and for a read-only
/// client, with a message telling to give a key prefix, while `hello` keeps answering within
/// it too.
#[track_caller]
fn assert_listing_refused(daemon: &Daemon, words: &[&str]) {
    const REFUSED_WITHIN: Duration = Duration::from_secs(5);
    let readonly = daemon.readonly_data();
    let data = readonly.path().to_str().unwrap();
    let mut as_readonly = vec!["--data", data];
    as_readonly.extend_from_slice(words);

    let (refusals, hellos) = std::thread::scope(|s| {
        let admin = s.spawn(|| timed(|| daemon.run(words)));
        let reader = s.spawn(|| timed(|| wasmgr(&as_readonly, None)));
        let mut hellos = Vec::new();
        loop {
            hellos.push(timed(|| daemon.run(&["hello"])));
            if admin.is_finished() && reader.is_finished() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        ([admin.join().unwrap(), reader.join().unwrap()], hellos)
    });
    for ((out, elapsed), who) in refusals
        .into_iter()
        .zip(["the operator", "a read-only client"])
    {
        eprintln!("{words:?} for {who}: refused in {elapsed:?}");
        let err = out.fails(7);
        assert!(err.starts_with("Error E2BIG"), "{words:?} for {who}: {err}");
        assert!(
            err.contains("give a key prefix"),
            "{words:?} for {who}: {err}"
        );
        assert!(
            elapsed < REFUSED_WITHIN,
            "{words:?} for {who} was refused in {elapsed:?}"
        );
    }
    let slowest = hellos.iter().map(|(_, e)| *e).max().unwrap_or_default();
    eprintln!(
        "hello answered {} times meanwhile, the slowest in {slowest:?}",
        hellos.len()
    );
    for (out, _) in hellos {
        assert_eq!(out.ok(), "Hello, world!\n");
    }
    assert!(slowest < REFUSED_WITHIN, "hello took {slowest:?}");
}

/// What `run` returned, and how long it took.
fn timed(run: impl FnOnce() -> Out) -> (Out, Duration) {
    let started = Instant::now();
    let out = run();
    (out, started.elapsed())
}

/// `config-key dump mgr/hello/` answers, as a small JSON object.
#[track_caller]
fn assert_hello_dump_answers(daemon: &Daemon) {
    let dump = daemon.ok(&["config-key", "dump", "mgr/hello/"]);
    assert!(dump.len() < 64 << 10, "{} bytes", dump.len());
    assert!(json_of(&dump).is_object(), "{dump}");
}

#[test]
fn config_key_dump_of_a_store_over_8_mib_is_refused_quickly() {
    let daemon = Daemon::start(&[ROGUE, HELLO]);
    // Values of a megabyte: 9 MiB written in about 5 s under the store write budget.
    fill_store(&daemon, LISTING_BYTES + MIB as u64, 1_000_000, 2, |call| {
        format!("v{call}_")
    });
    assert_listing_refused(&daemon, &["config-key", "dump"]);
    assert_listing_refused(&daemon, &["config-key", "dump", "mgr/rogue/"]);
    assert_hello_dump_answers(&daemon);
    assert_hello_answers_daemon(&daemon);
}

#[test]
fn config_key_ls_of_keys_over_8_mib_is_refused_quickly() {
    let daemon = Daemon::start(&[ROGUE, HELLO]);
    // `config-key ls` reads keys only: about 8,700 keys of 1 KiB (the longest a store key may
    // be), with values of one byte, written in about 7 s under the store write budget.
    fill_store(&daemon, LISTING_BYTES + MIB as u64 / 2, 1, 50, |call| {
        format!("{:k<1010}", format!("k{call}_"))
    });
    assert_listing_refused(&daemon, &["config-key", "ls"]);
    assert_listing_refused(&daemon, &["config-key", "dump"]);
    assert_hello_dump_answers(&daemon);
    assert_hello_answers_daemon(&daemon);
}
