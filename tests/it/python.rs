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
