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

#[test]
fn log_to_file_and_log_to_cluster_send_a_modules_lines_further() {
    let daemon = Daemon::start(&[KVPROBE]);
    daemon.ok(&["kvprobe", "log", "info", "before any option"]);
    daemon.ok(&["config", "set", "mgr/kvprobe/log_to_file", "true"]);
    daemon.ok(&["config", "set", "mgr/kvprobe/log_to_cluster", "true"]);
    daemon.ok(&[
        "config",
        "set",
        "mgr/kvprobe/log_to_cluster_level",
        "warning",
    ]);
    daemon.ok(&["kvprobe", "log", "info", "an info line"]);
    daemon.ok(&["kvprobe", "log", "error", "an error line\u{1b}[2J"]);

    let file = std::fs::read_to_string(daemon.data().join("log/kvprobe.log")).unwrap();
    assert!(file.contains(" INFO an info line"), "{file}");
    assert!(file.contains(" ERROR an error line\\x1b[2J"), "{file}");
    assert!(!file.contains("before any option"), "{file}");
    // Only lines at or above log_to_cluster_level reach the cluster log.
    let clog = daemon.ok(&["log", "last"]);
    assert!(
        clog.contains("cluster [ERR] an error line\\x1b[2J"),
        "{clog}"
    );
    assert!(!clog.contains("an info line"), "{clog}");
}
