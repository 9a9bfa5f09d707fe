//! Modules written in Python: the `pyhello` guest, built from `tests/guests-py/pyhello` with the
//! Python SDK and componentize-py, answering through the real daemon.

use crate::harness::Daemon;
use crate::harness::guests::PYHELLO;

#[test]
fn python_module_greets_counts_in_its_store_and_runs() {
    let daemon = Daemon::start(&[PYHELLO]);
    assert_eq!(daemon.module_row("pyhello")["state"], "running");
    let info = daemon.module_info("pyhello");
    assert_eq!(info["state"], "running", "{info:#}");
    assert_eq!(info["name"], "pyhello", "{info:#}");

    assert_eq!(daemon.ok(&["pyhello"]).trim(), "Hello, world!");
    assert_eq!(daemon.ok(&["pyhello", "Mars"]).trim(), "Hello, Mars!");
    daemon.ok(&["config", "set", "mgr/pyhello/place", "Venus"]);
    assert_eq!(daemon.ok(&["pyhello"]).trim(), "Hello, Venus!");

    let stats = daemon.run(&["pyhello", "stats", "--format", "json"]).json();
    assert_eq!(stats["greetings"], 3, "{stats:#}");
}

#[test]
fn python_handler_errors_are_einval_and_the_module_keeps_answering() {
    let daemon = Daemon::start(&[PYHELLO]);

    // The host checks the declared type (`count: int`) before the module is called.
    let stderr = daemon.run(&["pyhello", "repeat", "two"]).fails(22);
    assert!(stderr.contains("count"), "{stderr}");
    assert_eq!(
        daemon.ok(&["pyhello", "repeat", "2"]).trim(),
        "Hello, world! Hello, world!"
    );

    // An exception in a handler is ceph-mgr's -EINVAL, with the traceback.
    let stderr = daemon.run(&["pyhello", "fail"]).fails(22);
    assert!(stderr.contains("Traceback"), "{stderr}");
    assert!(stderr.contains("KeyError: 'missing'"), "{stderr}");

    assert_eq!(daemon.ok(&["pyhello", "Mars"]).trim(), "Hello, Mars!");
    assert_eq!(daemon.module_row("pyhello")["state"], "running");
}

#[test]
fn python_module_reads_granted_maps_raises_health_checks_and_is_denied_the_rest() {
    let daemon = Daemon::start(&[PYHELLO]);
    // The embedded snapshot (a one-node Ceph 16.2) has one OSD.
    assert_eq!(daemon.ok(&["pyhello", "osds"]).trim(), "1");

    // A map the module did not request: the host's denial reaches the client with its errno
    // and the grant that would allow it.
    let stderr = daemon.run(&["pyhello", "data", "pg_dump"]).fails(13);
    assert!(stderr.contains("get:pg_dump"), "{stderr}");
    assert_eq!(daemon.ok(&["pyhello", "osds"]).trim(), "1");

    daemon.ok(&["pyhello", "warn", "Mars"]);
    let health = daemon.ok(&["health", "detail"]);
    assert!(health.contains("PYHELLO_WARN"), "{health}");
    assert!(health.contains("Mars was warned by pyhello"), "{health}");
    daemon.ok(&["pyhello", "clear"]);
    let health = daemon.ok(&["health", "detail"]);
    assert!(!health.contains("PYHELLO_WARN"), "{health}");
}
