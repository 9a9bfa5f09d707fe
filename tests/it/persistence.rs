//! Durability: what a command reported as done survives `kill -9` of the daemon.

use crate::harness::Daemon;
use crate::harness::guests::{HELLO, KVPROBE};

#[test]
fn a_config_key_set_survives_kill_9() {
    let mut daemon = Daemon::start(&[]);
    let out = daemon.run(&["config-key", "set", "k", "v"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, "set k\n"), "{out:?}");
    daemon.kill_9();
    daemon.restart();
    assert_eq!(daemon.ok(&["config-key", "get", "k"]), "v\n");
}

#[test]
fn a_module_store_write_survives_kill_9() {
    let mut daemon = Daemon::start(&[KVPROBE]);
    daemon.ok(&["kvprobe", "set", "k", "v"]);
    daemon.kill_9();
    daemon.restart();
    assert_eq!(daemon.ok(&["kvprobe", "get", "k"]), "v\n");
    assert_eq!(daemon.ok(&["config-key", "get", "mgr/kvprobe/k"]), "v\n");
}

#[test]
fn options_and_counters_survive_kill_9() {
    let mut daemon = Daemon::start(&[HELLO]);
    daemon.ok(&["config", "set", "mgr/hello/place", "Mars"]);
    daemon.ok(&["hello"]);
    daemon.ok(&["hello"]);
    daemon.kill_9();
    daemon.restart();
    assert_eq!(
        daemon.run(&["hello", "stats", "-f", "json"]).json(),
        serde_json::json!({"greetings": 2, "place": "Mars"})
    );
}
