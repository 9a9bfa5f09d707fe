//! Module log lines: in the daemon's log under the module's name, filtered by its `log_level`
//! option, rate limited.

use crate::harness::guests::KVPROBE;
use crate::harness::{Daemon, Host, Modules};

#[test]
fn module_log_lines_reach_the_daemon_log_filtered_by_log_level() {
    let daemon = Daemon::start(&[KVPROBE]);
    daemon.ok(&["kvprobe", "log", "info", "first info line"]);
    daemon.ok(&["config", "set", "mgr/kvprobe/log_level", "error"]);
    daemon.ok(&["kvprobe", "log", "warning", "filtered warning line"]);
    daemon.ok(&["kvprobe", "log", "error", "kept error line"]);

    let log = daemon.log();
    let line = log
        .lines()
        .find(|l| l.contains("first info line"))
        .unwrap_or_else(|| panic!("no module line in:\n{log}"));
    assert!(line.contains("INFO") && line.contains("kvprobe"), "{line}");
    let line = log
        .lines()
        .find(|l| l.contains("kept error line"))
        .unwrap_or_else(|| panic!("no error line in:\n{log}"));
    assert!(line.contains("ERROR") && line.contains("kvprobe"), "{line}");
    assert!(!log.contains("filtered warning line"), "{log}");
}

#[test]
fn log_lines_over_the_rate_limit_are_dropped_and_counted() {
    let host =
        Host::with(Modules::new(&[KVPROBE]).manifest(KVPROBE, "[limits]\nlog_lines_per_sec = 2\n"));
    for n in 0..10 {
        host.ok(&["kvprobe", "log", "info", &format!("line {n}")]);
    }
    let dropped = host.module_info("kvprobe")["stats"]["log_dropped"]
        .as_u64()
        .unwrap();
    // At most 2 lines a second pass; ten calls take far less than the 4 s that would let all
    // of them through.
    assert!((1..=8).contains(&dropped), "{dropped} lines dropped");
}
