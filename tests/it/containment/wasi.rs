//! Blocking WASI calls: a module that sleeps in WASI (in a command, in `shutdown`, in
//! `describe`) is stopped at its deadline like a module that spins, and holds up nobody else.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{assert_audited, assert_hello_answers_daemon, reason};
use crate::harness::guests::{HELLO, ROGUE};
use crate::harness::{Daemon, DaemonOptions, Modules, wait_until};

/// A liveness bound for a call the 1 s deadline stops: generous, for a loaded machine.
const STOPPED_WITHIN: Duration = Duration::from_secs(10);

#[test]
fn a_command_sleeping_in_wasi_hits_its_deadline_while_other_modules_keep_answering() {
    let daemon = Daemon::start(&[ROGUE, HELLO]);
    let calls = daemon.calls("rogue");

    let (done_tx, done_rx) = mpsc::channel();
    let (out, elapsed) = std::thread::scope(|s| {
        let sleeper = s.spawn(|| {
            let started = Instant::now();
            let out = daemon.run(&["rogue", "sleep", "20000"]);
            done_tx.send(()).unwrap();
            (out, started.elapsed())
        });
        wait_until("rogue sleep starting", STOPPED_WITHIN, || {
            daemon.calls("rogue") != calls
        });
        assert_hello_answers_daemon(&daemon);
        assert!(
            done_rx.try_recv().is_err(),
            "the sleep returned before hello answered; the test proves nothing"
        );
        sleeper.join().unwrap()
    });
    assert!(
        elapsed < STOPPED_WITHIN,
        "rogue sleep 20000 ran {elapsed:?}"
    );
    let err = out.fails(110);
    assert!(err.contains("exceeded its deadline of 1000 ms"), "{err}");
    assert_audited(
        &daemon,
        "fault",
        "rogue",
        "exceeded its deadline of 1000 ms",
    );
    // A fresh instance answers at once.
    let started = Instant::now();
    assert_eq!(daemon.ok(&["rogue", "echo", "0", "ok"]), "ok\n");
    assert!(
        started.elapsed() < STOPPED_WITHIN,
        "the next call took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_module_sleeping_in_shutdown_is_disabled_within_two_seconds() {
    let daemon = Daemon::start(&[ROGUE, HELLO]);
    daemon
        .load_script("rogue", &json!({"shutdown_sleep_ms": 20000}))
        .ok();
    assert_eq!(daemon.ok(&["rogue", "echo", "0", "ok"]), "ok\n");

    let started = Instant::now();
    daemon.ok(&["module", "disable", "rogue"]);
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(2),
        "module disable took {elapsed:?}"
    );
    assert_eq!(daemon.module_row("rogue")["state"], "disabled");
    assert_hello_answers_daemon(&daemon);
}

#[test]
fn a_module_sleeping_in_describe_does_not_hold_up_the_daemons_start() {
    let mut daemon = Daemon::with(
        Modules::new(&[HELLO]).named(ROGUE, "slow"),
        DaemonOptions::default(),
    );
    daemon.set_script("slow", &json!({"name": "slow", "describe_sleep_ms": 60000}));

    let started = Instant::now();
    daemon.restart();
    assert_hello_answers_daemon(&daemon);
    let elapsed = started.elapsed();
    eprintln!("hello answered {elapsed:?} after the restart began");
    assert!(
        elapsed < Duration::from_secs(10),
        "hello answered only {elapsed:?} after the restart began (the load deadline is 10 s)"
    );
    // The daemon went on without it: it is still loading, in the background.
    assert_eq!(daemon.module_row("slow")["state"], "loading");
    // Loading goes on in the background: wait for slow's verdict.
    wait_until("slow failing", Duration::from_secs(15), || {
        daemon.module_row("slow")["state"] == "failed"
    });
    let row = daemon.module_row("slow");
    let reason = reason(&row);
    assert!(
        reason.contains("describe exceeded its deadline of 10000 ms"),
        "{reason}"
    );
    assert_audited(
        &daemon,
        "refused",
        "slow",
        "describe exceeded its deadline of 10000 ms",
    );
    assert_hello_answers_daemon(&daemon);
}
