//! Floods of WASI output: what a module prints to stdout or stderr goes to its log line by
//! line, through the log's rate limit, so printing without end costs the host a bounded
//! amount of log and memory; the lines over the rate are counted, not kept.

use std::time::Duration;

use super::{assert_hello_answers, probe};
use crate::harness::guests::{HELLO, PROBER};
use crate::harness::{Daemon, wait_until};

/// Lines the flood prints.
const LINES: u64 = 100_000;

/// Log lines a module may write per second (`LOG_LINES_PER_SEC`).
const LOG_RATE: u64 = 200;

#[track_caller]
fn assert_flood_is_rate_limited(stream: &str, level: &str) {
    let daemon = Daemon::start(&[PROBER, HELLO]);
    let dropped_before = daemon.module_info("prober")["stats"]["log_dropped"]
        .as_u64()
        .unwrap();
    let out = daemon.run(&["prober", "print", stream, &LINES.to_string()]);
    eprintln!(
        "prober print {stream} {LINES}: exit {} {}",
        out.code, out.stderr
    );
    // Within its deadline it completes; a slow machine may stop it there instead.
    match out.code {
        0 => {
            let seen: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
            assert_eq!(seen["printed"], LINES, "{seen}");
        }
        110 => assert!(out.stderr.contains("exceeded its deadline"), "{out:#?}"),
        _ => panic!("prober print {stream}: {out:#?}"),
    }
    assert_hello_answers(&daemon);

    let info = daemon.module_info("prober");
    let dropped = info["stats"]["log_dropped"].as_u64().unwrap() - dropped_before;
    eprintln!("{dropped} lines dropped");
    assert!(dropped > LINES / 2, "{dropped} lines dropped: {info:#}");
    // The first lines reach the daemon's log, under the module's name and at the stream's
    // level; at most a few seconds' worth of lines do.
    wait_until("the first line in the log", Duration::from_secs(10), || {
        daemon.log().contains("prober flood line 0")
    });
    let log = daemon.log();
    let first = log
        .lines()
        .find(|l| l.contains("prober flood line 0"))
        .unwrap();
    assert!(first.contains("prober") && first.contains(level), "{first}");
    let logged = log
        .lines()
        .filter(|l| l.contains("prober flood line"))
        .count() as u64;
    eprintln!("{logged} flood lines in the daemon log");
    assert!(logged <= 10 * LOG_RATE, "{logged} lines logged");
    // The module is not punished for printing: it answers.
    assert_eq!(probe(&daemon, &["prober", "env"])["ok"], true);
}

#[test]
fn a_flood_of_stdout_lines_reaches_the_log_rate_limited() {
    assert_flood_is_rate_limited("stdout", "INFO");
}

#[test]
fn a_flood_of_stderr_lines_reaches_the_log_rate_limited() {
    assert_flood_is_rate_limited("stderr", "WARN");
}
