//! Host calls a module was never granted: cluster data names and remote calls are refused
//! with an error naming the grant, counted and audited; a module probing name after name
//! fills a bounded number of counters, and cannot push the other events out of the ledger.

use std::time::Instant;

use super::{assert_audited, assert_hello_answers, caps, denied_count, probe};
use crate::harness::Daemon;
use crate::harness::guests::{HELLO, PROBER};

#[test]
fn a_remote_call_to_a_module_never_requested_is_denied_and_audited() {
    let daemon = Daemon::start(&[PROBER, HELLO]);
    let calls = daemon.calls("hello");
    for _ in 0..3 {
        let err = daemon.run(&["prober", "remote", "hello", "x"]).fails(5);
        assert!(err.starts_with("Error EIO: access denied: "), "{err}");
        assert!(
            err.contains("module 'prober' does not request remote:hello.x"),
            "{err}"
        );
        assert!(
            err.contains("wasmgr module grant prober remote:hello.x"),
            "{err}"
        );
    }
    // The target was never called.
    assert_eq!(daemon.calls("hello"), calls, "hello was called");
    assert_eq!(denied_count(&daemon, "prober", "remote:hello.x"), 3);
    let events = assert_audited(&daemon, "denial", "prober", "remote:hello.x");
    assert_eq!(events.len(), 1, "once per window: {events:#?}");
    assert_eq!(daemon.ok(&["prober", "ok"]), "ok\n");
    assert_hello_answers(&daemon);
}

#[test]
fn a_data_name_never_requested_is_denied_and_audited() {
    let daemon = Daemon::start(&[PROBER, HELLO]);
    assert_eq!(probe(&daemon, &["prober", "get", "osd_map"])["ok"], true);
    for name in ["pg_dump", "mon_map", "config", "osd_map_crush"] {
        let err = daemon.run(&["prober", "get", name]).fails(13);
        assert!(err.starts_with("Error EACCES: "), "{err}");
        assert!(
            err.contains(&format!("module 'prober' does not request get:{name}")),
            "{err}"
        );
        assert!(
            err.contains(&format!("wasmgr module grant prober get:{name}")),
            "{err}"
        );
        assert_eq!(denied_count(&daemon, "prober", &format!("get:{name}")), 1);
        assert_audited(&daemon, "denial", "prober", &format!("get:{name}"));
    }
    assert_eq!(daemon.ok(&["prober", "ok"]), "ok\n");
    assert_hello_answers(&daemon);
}

/// Names one `prober names` call asks for: well within the call's deadline (they take a few
/// tens of milliseconds).
const PER_CALL: u64 = 1000;

/// `prober names` of `calls` × [`PER_CALL`] distinct names, `probe_0` onwards; each is
/// denied.
fn flood(daemon: &Daemon, calls: u64) {
    let started = Instant::now();
    for call in 0..calls {
        let from = (call * PER_CALL).to_string();
        let seen = probe(daemon, &["prober", "names", &from, &PER_CALL.to_string()]);
        assert_eq!(seen["denied"], PER_CALL, "{seen}");
    }
    eprintln!(
        "{} distinct names denied in {:?}",
        calls * PER_CALL,
        started.elapsed()
    );
}

#[test]
fn a_flood_of_distinct_denied_names_fills_a_bounded_number_of_counters() {
    let daemon = Daemon::start(&[PROBER, HELLO]);
    flood(&daemon, 5);
    let caps = caps(&daemon, "prober");
    let rows = caps["capabilities"].as_array().unwrap();
    let denied: Vec<&serde_json::Value> = rows.iter().filter(|r| !r["denied"].is_null()).collect();
    // 512 counters a module, then one for the rest.
    assert!(denied.len() <= 513, "{} counters", denied.len());
    let others = rows
        .iter()
        .find(|r| r["capability"] == "get:(others)")
        .unwrap_or_else(|| panic!("no get:(others) row: {caps:#}"));
    let total: u64 = denied
        .iter()
        .map(|r| r["denied"]["count"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 5 * PER_CALL, "every denial is counted: {others}");
    let plain = daemon.ok(&["module", "caps", "prober"]);
    assert!(
        plain.lines().count() < 600,
        "{} lines",
        plain.lines().count()
    );
    assert_eq!(daemon.ok(&["prober", "ok"]), "ok\n");
    assert_hello_answers(&daemon);
}

/// A denial of a distinct name is an event of its own, once per window. The ledger keeps its
/// newest 100,000 events: a module free to write one event per name it makes up could push
/// every older event out (the operators' grants, other modules' faults, its own earlier
/// denials) within a couple of minutes, erasing the record of what happened before. Its
/// events must be bounded as its counters are: one per counter it may have (512), then one
/// for the rest.
#[test]
fn a_flood_of_distinct_denials_writes_a_bounded_number_of_ledger_events() {
    let daemon = Daemon::start(&[PROBER, HELLO]);
    let grants = daemon.audit("grant", "hello");
    flood(&daemon, 5);
    assert_hello_answers(&daemon);
    let denials = daemon.audit("denial", "prober");
    eprintln!("{} denial events for {} names", denials.len(), 5 * PER_CALL);
    assert_audited(&daemon, "denial", "prober", "get:probe_0");
    assert!(
        denials.len() <= 513,
        "{} denial events for {} distinct names",
        denials.len(),
        5 * PER_CALL
    );
    assert_eq!(daemon.audit("grant", "hello"), grants);
}

/// A denied name is the module's text, and it is quoted wherever the denial is shown: the
/// daemon log, `module caps`, `audit`. It must not forge a log line of its own or drive the
/// operator's terminal there.
#[test]
fn a_denied_name_cannot_forge_log_lines_or_reach_the_terminal_raw() {
    let daemon = Daemon::start(&[PROBER, HELLO]);
    let name = "pg_dump\u{1b}]0;pwned\u{7}\nFAKE daemon line\u{1b}[2J";
    let err = daemon.run(&["prober", "get", name]).fails(13);
    assert!(!err.contains('\u{1b}'), "{err:?}");
    for words in [
        &["module", "caps", "prober"][..],
        &["audit", "--module", "prober"],
    ] {
        let out = daemon.ok(words);
        assert!(
            !out.contains('\u{1b}') && !out.contains('\u{7}'),
            "{words:?} printed a raw ESC or BEL:\n{out:?}"
        );
        assert!(
            !out.lines().any(|l| l.starts_with("FAKE")),
            "{words:?} has a forged row:\n{out}"
        );
    }
    crate::harness::wait_until(
        "the denial in the daemon log",
        std::time::Duration::from_secs(10),
        || daemon.log().contains("FAKE daemon line"),
    );
    let log = daemon.log();
    assert!(
        !log.contains('\u{1b}'),
        "the daemon log has a raw ESC:\n{log:?}"
    );
    let forged: Vec<&str> = log.lines().filter(|l| l.starts_with("FAKE")).collect();
    assert!(
        forged.is_empty(),
        "forged daemon log lines: {forged:?}\n{log}"
    );
    assert_hello_answers(&daemon);
}
