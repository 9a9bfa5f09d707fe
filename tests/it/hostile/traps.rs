//! Traps the guest causes itself: a loop of host calls, a stack overflow, a table grown
//! without end, a crash loop. Each stops only the call that caused it, with an error that says
//! what happened, and is a `fault` in the ledger; a crash loop fails the module, and that too
//! is in the ledger. (The busy loop, the memory bomb and the panic are in `limits`, the crash
//! loop's traps in `lifecycle`.)

use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{assert_audited_saying, assert_hello_answers};
use crate::harness::guests::{CRASHLOOP, HELLO, SPIN, STACKBOMB, TABLEBOMB};
use crate::harness::{Daemon, wait_until};

/// A liveness bound for a call the 1 s deadline stops: generous, for a loaded machine.
const STOPPED_WITHIN: Duration = Duration::from_secs(10);

const MIB: u64 = 1 << 20;

#[test]
fn a_loop_of_host_calls_hits_its_deadline_while_other_modules_keep_answering() {
    let daemon = Daemon::start(&[SPIN, HELLO]);
    let calls = daemon.calls("spin");
    let (done_tx, done_rx) = mpsc::channel();
    let (out, elapsed) = std::thread::scope(|s| {
        let looping = s.spawn(|| {
            let started = Instant::now();
            let out = daemon.run(&["spin", "hostcalls"]);
            done_tx.send(()).unwrap();
            (out, started.elapsed())
        });
        wait_until("spin hostcalls starting", STOPPED_WITHIN, || {
            daemon.calls("spin") != calls
        });
        assert_hello_answers(&daemon);
        assert!(
            done_rx.try_recv().is_err(),
            "the loop returned before hello answered; the test proves nothing"
        );
        looping.join().unwrap()
    });
    assert!(elapsed < STOPPED_WITHIN, "spin hostcalls ran {elapsed:?}");
    let err = out.fails(110);
    assert!(
        err.starts_with(
            "Error ETIMEDOUT: module 'spin' handle-command exceeded its deadline of 1000 ms"
        ),
        "{err}"
    );
    assert_audited_saying(&daemon, "fault", "spin", "exceeded its deadline of 1000 ms");
    assert_eq!(daemon.ok(&["spin", "ok"]), "ok\n");
    assert_hello_answers(&daemon);
}

#[test]
fn a_stack_overflow_fails_only_that_call() {
    let daemon = Daemon::start(&[STACKBOMB, HELLO]);
    let err = daemon.run(&["stackbomb", "go"]).fails(5);
    assert!(
        err.starts_with("Error EIO: module 'stackbomb' handle-command trapped: "),
        "{err}"
    );
    assert!(err.contains("call stack exhausted"), "{err}");
    assert!(err.contains("the module was restarted"), "{err}");
    assert_audited_saying(&daemon, "fault", "stackbomb", "call stack exhausted");
    assert_eq!(daemon.ok(&["stackbomb", "ok"]), "ok\n");
    assert_eq!(daemon.module_row("stackbomb")["state"], "running");
    assert_hello_answers(&daemon);
}

#[test]
fn a_table_grown_without_end_is_stopped_at_the_element_limit() {
    let daemon = Daemon::start(&[TABLEBOMB, HELLO]);
    let before = daemon.rss_bytes();
    for _ in 0..3 {
        let err = daemon.run(&["tablebomb", "grow"]).fails(5);
        assert!(
            err.starts_with("Error EIO: module 'tablebomb' handle-command trapped: "),
            "{err}"
        );
        assert!(err.contains("unreachable"), "{err}");
    }
    // A billion elements asked for at once, then ten thousand at a time: the table stopped
    // at 100,000 elements, 800 KB at a pointer each.
    let info = daemon.module_info("tablebomb");
    let high = info["memory"]["high_water_bytes"].as_u64().unwrap();
    eprintln!("tablebomb held at most {high} bytes");
    assert!(
        (800_000..8 * MIB).contains(&high),
        "the instance held {high} bytes: {info:#}"
    );
    let after = daemon.rss_bytes();
    eprintln!(
        "daemon RSS {} MiB before three table bombs, {} MiB after",
        before / MIB,
        after / MIB
    );
    assert!(
        after < before + 64 * MIB,
        "the daemon grew by {} MiB",
        (after - before) / MIB
    );
    let faults = assert_audited_saying(&daemon, "fault", "tablebomb", "unreachable");
    assert_eq!(faults.len(), 3, "{faults:#?}");
    assert_hello_answers(&daemon);
}

/// A module that traps on every call is failed after five traps within a minute (see
/// `lifecycle`, which checks each trap is a fault in the ledger). The decision to fail it is
/// in the ledger too, a `fault` as `EventKind::Fault` says ("a module trapped or was
/// failed"), so that a reviewer reading the ledger sees why the module stopped.
#[test]
fn a_module_failed_for_crash_looping_is_a_fault_in_the_ledger() {
    let daemon = Daemon::start(&[CRASHLOOP, HELLO]);
    for _ in 1..5 {
        daemon.run(&["crashloop", "go"]).fails(5);
    }
    let err = daemon.run(&["crashloop", "go"]).fails(5);
    assert!(
        err.contains("the module has failed (5 traps within 60 s"),
        "{err}"
    );
    assert_eq!(daemon.module_row("crashloop")["state"], "failed");
    assert_audited_saying(&daemon, "fault", "crashloop", "5 traps within 60 s");
    assert_hello_answers(&daemon);
}
