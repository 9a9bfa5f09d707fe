//! Calls between modules (`remote`): results as JSON, the three errors ceph-mgr modules tell
//! apart, and call chains that would deadlock failing fast instead.

use std::time::{Duration, Instant};

use crate::harness::Host;
use crate::harness::guests::{HELLO, PINGER, PONGER, TICKER};

#[test]
fn a_remote_call_returns_the_targets_json_result() {
    let host = Host::start(&[PINGER, PONGER]);
    assert_eq!(
        host.ok(&["pinger", "ping", "ponger"]),
        r#"{"pong":["pinger"]}"#
    );
    assert_eq!(host.ok(&["ponger", "stats"]).trim(), r#"{"served":1}"#);
}

#[test]
fn the_three_remote_errors_are_told_apart() {
    let host = Host::start(&[PINGER, PONGER, HELLO]);
    // ImportError: no such module, or not enabled (hello serves none, but is enabled).
    let err = host.fails(&["pinger", "ping", "nobody"], 2);
    assert!(
        err.starts_with("not-enabled: module 'nobody' is not enabled"),
        "{err}"
    );
    host.ok(&["module", "disable", "ponger"]);
    let err = host.fails(&["pinger", "ping", "ponger"], 2);
    assert!(err.starts_with("not-enabled: "), "{err}");
    host.ok(&["module", "enable", "ponger"]);
    // NameError: the module serves no such method.
    let err = host.fails(&["pinger", "call", "ponger", "nosuch"], 38);
    assert!(
        err.starts_with("no-such-method: module 'ponger' has no remote method 'nosuch'"),
        "{err}"
    );
    assert!(err.contains("it serves: ping, fail, relay"), "{err}");
    let err = host.fails(&["pinger", "ping", "hello"], 38);
    assert!(err.contains("it serves: none"), "{err}");
    // RuntimeError: the method failed.
    let err = host.fails(&["pinger", "call", "ponger", "fail", "x"], 5);
    assert!(err.starts_with("failed: ponger fails on request"), "{err}");
}

#[test]
fn a_call_cycle_fails_at_once_and_both_modules_keep_answering() {
    let host = Host::start(&[PINGER, PONGER]);
    let started = Instant::now();
    // pinger -> ponger.relay -> pinger.ticks: back into pinger, whose call is still running.
    let err = host.fails(&["pinger", "call", "ponger", "relay", "pinger", "ticks"], 5);
    let elapsed = started.elapsed();
    assert!(
        err.contains(
            "would call back into a module already in the call: pinger -> ponger -> pinger"
        ),
        "{err}"
    );
    assert!(
        elapsed < Duration::from_secs(1),
        "the cycle took {elapsed:?} to fail"
    );
    // A -> A.
    let err = host.fails(&["pinger", "call", "pinger", "ticks"], 5);
    assert!(err.contains("pinger -> pinger"), "{err}");
    // Both still answer.
    assert_eq!(
        host.ok(&["pinger", "ping", "ponger"]),
        r#"{"pong":["pinger"]}"#
    );
    host.ok(&["pinger", "ticks"]);
    assert_eq!(host.module_row("ponger")["state"], "running");
}

#[test]
fn a_method_failing_on_its_arguments_reports_its_own_message() {
    let host = Host::start(&[PONGER, PINGER]);
    // relay needs a module and a method: given one argument, its own error comes back.
    let err = host.fails(&["pinger", "call", "ponger", "relay", "ponger"], 5);
    assert!(
        err.contains("relay needs a module and a method name"),
        "{err}"
    );
}

#[test]
fn a_module_whose_remote_method_traps_is_restarted_but_never_failed_by_its_callers() {
    let host = Host::start(&[PINGER, TICKER]);
    for attempt in 0..7 {
        let err = host.fails(&["pinger", "call", "ticker", "crash"], 5);
        assert!(err.starts_with("failed: "), "attempt {attempt}: {err}");
        assert!(
            err.contains("crashed on request"),
            "attempt {attempt}: {err}"
        );
    }
    // Seven traps caused by another module's calls: ticker is restarted each time, not failed.
    assert_eq!(host.module_row("ticker")["state"], "running");
    host.ok(&["ticker", "now"]);
}
