//! A command's retval: only 0 or a negative errno the CLI can exit with passes through; the
//! client prints whatever output the daemon allows.

use crate::harness::Daemon;
use crate::harness::guests::{HELLO, ROGUE};

#[test]
fn a_retval_that_is_not_an_errno_is_reported_as_eio() {
    let daemon = Daemon::start(&[ROGUE, HELLO]);
    for retval in [i32::MIN, -256, 1, 4096, -4096] {
        let out = daemon.run(&["rogue", "echo", &format!("retval={retval}"), "stdout=x"]);
        assert_eq!(out.code, 5, "retval {retval}: {out:#?}");
        assert!(
            out.stderr.contains("retval"),
            "retval {retval}: {}",
            out.stderr
        );
    }
    super::assert_hello_answers_daemon(&daemon);
}

#[test]
fn an_errno_retval_is_the_exit_code() {
    let daemon = Daemon::start(&[ROGUE]);
    daemon
        .run(&["rogue", "echo", "retval=-2", "stderr=gone"])
        .fails(2);
    assert_eq!(
        daemon.ok(&["rogue", "echo", "retval=0", "stdout=ok"]),
        "ok\n"
    );
}

#[test]
fn the_client_prints_the_largest_output_the_daemon_allows() {
    let daemon = Daemon::start(&[ROGUE]);
    let size = 15 << 20;
    let out = daemon.run(&["rogue", "echo", "0", "x", &format!("times={size}")]);
    assert_eq!(out.code, 0, "exit {}: {}", out.code, out.stderr);
    assert_eq!(out.stdout.len(), size + 1);
    assert!(out.stdout[..size].bytes().all(|b| b == b'x'));
    assert!(out.stdout.ends_with('\n'));
}
