//! Notifications: every subscriber gets each event once, on the host's worker pool, and a module
//! stuck in its `notify` does not hold up the others.

use std::time::Duration;

use wasmgr_runtime::bindings::NotifyKind;

use crate::harness::guests::{KVPROBE, SPIN};
use crate::harness::{Host, Modules, wait_until};

/// A liveness bound: generous, for a loaded machine.
const WITHIN: Duration = Duration::from_secs(10);

/// kvprobe's count of `pg_summary` notifies (0 before the first).
fn notified(host: &Host) -> u64 {
    let reply = host.run(&["kvprobe", "get", "notified"]);
    match reply.retval {
        0 => reply.stdout.trim().parse().unwrap(),
        -2 => 0,
        _ => panic!("kvprobe get notified: {reply:#?}"),
    }
}

#[test]
fn each_event_reaches_every_subscriber_once() {
    let host = Host::with(Modules::new(&[KVPROBE]));
    for n in 1..=3 {
        assert_eq!(host.manager.notify(NotifyKind::PgSummary, ""), 1);
        wait_until("the notify", WITHIN, || notified(&host) >= n);
    }
    // Not subscribed: nobody is cued.
    assert_eq!(host.manager.notify(NotifyKind::OsdMap, ""), 0);
    // A disabled module is not cued either.
    host.ok(&["module", "disable", "kvprobe"]);
    assert_eq!(host.manager.notify(NotifyKind::PgSummary, ""), 0);
    host.ok(&["module", "enable", "kvprobe"]);
    assert_eq!(notified(&host), 3);
}

#[test]
fn a_module_stuck_in_notify_does_not_hold_up_the_others() {
    // One core worker: while spin's notify holds it, kvprobe's notify needs a spare worker.
    let host = Host::configured(Modules::new(&[KVPROBE, SPIN]), |c| c.workers = 1);
    let spin_calls = host.stat("spin", "calls");
    // Queued in name order: kvprobe runs, then spin's notify spins on the only core worker.
    assert_eq!(host.manager.notify(NotifyKind::PgSummary, ""), 2);
    wait_until("kvprobe's first notify", WITHIN, || notified(&host) == 1);
    wait_until("spin's notify starting", WITHIN, || {
        host.stat("spin", "calls") > spin_calls
    });

    assert_eq!(host.manager.notify(NotifyKind::PgSummary, ""), 2);
    wait_until("kvprobe's second notify", WITHIN, || notified(&host) == 2);
    // spin's notify is still running: its deadline (1 s) has not stopped it yet, so kvprobe
    // did not wait for it.
    assert_eq!(
        host.stat("spin", "traps"),
        0,
        "spin's notify ended before kvprobe's second notify ran; the test proves nothing"
    );

    // The deadline stops spin's notify; the module is restarted and runs its next one.
    wait_until("spin's deadline", WITHIN, || {
        host.stat("spin", "traps") >= 1
    });
    assert_eq!(host.stat("spin", "restarts"), 1);
    assert_eq!(host.ok(&["spin", "ok"]), "ok");
}
