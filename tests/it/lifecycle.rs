//! Module lifecycle: enable and disable at run time, crash-loop quarantine, state that survives
//! a restart.

use serde_json::json;

use crate::harness::guests::{ANTIGRAVITY, CRASHLOOP, HELLO, SPIN};
use crate::harness::{Daemon, Host, Modules, wait_until};

#[test]
fn disable_and_enable_take_effect_without_restarting_the_daemon() {
    let daemon = Daemon::start(&[HELLO, ANTIGRAVITY]);
    let pid = daemon.pid();
    assert_eq!(daemon.ok(&["antigravity", "ls", "objects"]), "[]\n");

    assert_eq!(daemon.ok(&["module", "disable", "antigravity"]), "");
    let err = daemon.run(&["antigravity", "ls", "objects"]).fails(95);
    assert!(err.contains("module 'antigravity' is not enabled"), "{err}");
    assert!(err.contains("wasmgr module enable antigravity"), "{err}");
    assert_eq!(daemon.module_row("antigravity")["state"], "disabled");
    // Its commands are gone from the help; hello's are not.
    let help = daemon.ok(&["--help"]);
    assert!(!help.contains("antigravity ls objects"), "{help}");
    assert!(help.contains("hello [<person_name>]"), "{help}");
    assert_eq!(daemon.ok(&["hello"]), "Hello, world!\n");

    assert_eq!(daemon.ok(&["module", "enable", "antigravity"]), "");
    assert_eq!(daemon.ok(&["antigravity", "ls", "objects"]), "[]\n");
    assert_eq!(daemon.module_row("antigravity")["state"], "running");
    assert_eq!(daemon.ok(&["hello"]), "Hello, world!\n");
    assert_eq!(daemon.pid(), pid);
    assert_eq!(
        daemon.run(&["status", "-f", "json"]).json()["modules"]["running"],
        2
    );
}

#[test]
fn a_disabled_module_stays_disabled_across_a_restart() {
    let mut daemon = Daemon::start(&[HELLO, ANTIGRAVITY]);
    daemon.ok(&["module", "disable", "antigravity"]);
    daemon.restart();
    assert_eq!(daemon.module_row("antigravity")["state"], "disabled");
    let err = daemon.run(&["antigravity", "ls", "objects"]).fails(95);
    assert!(err.contains("not enabled"), "{err}");
    assert_eq!(daemon.ok(&["hello"]), "Hello, world!\n");

    daemon.ok(&["module", "enable", "antigravity"]);
    daemon.restart();
    assert_eq!(daemon.module_row("antigravity")["state"], "running");
    assert_eq!(daemon.ok(&["antigravity", "ls", "objects"]), "[]\n");
}

#[test]
fn enabling_or_disabling_an_unknown_module_is_refused() {
    let host = Host::start(&[HELLO]);
    let err = host.fails(&["module", "enable", "nope"], 2);
    assert!(
        err.starts_with("no module 'nope': put nope.wasm in "),
        "{err}"
    );
    let err = host.fails(&["module", "disable", "nope"], 2);
    assert_eq!(err, "no module 'nope'; see 'wasmgr module ls'");
}

#[test]
fn a_module_dropped_into_the_modules_directory_can_be_enabled_at_run_time() {
    let host = Host::with(Modules::new(&[HELLO]));
    std::fs::copy(ANTIGRAVITY, host.modules.path().join("antigravity.wasm")).unwrap();
    let err = host.fails(&["antigravity", "ls", "objects"], 22);
    assert!(err.contains("no valid command found"), "{err}");
    // A stranger's module: it runs nothing before an operator grants what it requests.
    let err = host.fails(&["module", "enable", "antigravity"], 13);
    assert!(
        err.contains("an operator can allow them with `wasmgr module grant antigravity store`"),
        "{err}"
    );
    host.ok(&["module", "grant", "antigravity", "store"]);
    assert_eq!(host.ok(&["antigravity", "ls", "objects"]), "[]");
}

#[test]
fn a_crash_looping_module_is_failed_and_reported_until_an_operator_enables_it() {
    let daemon = Daemon::start(&[CRASHLOOP, HELLO]);
    for n in 1..5 {
        let err = daemon.run(&["crashloop", "go"]).fails(5);
        assert!(
            err.starts_with("Error EIO: module 'crashloop' handle-command trapped: "),
            "trap {n}: {err}"
        );
        assert!(
            err.ends_with("; the module was restarted\n"),
            "trap {n}: {err}"
        );
    }
    let err = daemon.run(&["crashloop", "go"]).fails(5);
    assert!(
        err.contains("the module has failed (5 traps within 60 s"),
        "{err}"
    );
    assert!(
        err.contains("run 'wasmgr module enable crashloop'"),
        "{err}"
    );
    // Each trap is a fault in the audit ledger, and so is failing the module.
    let faults = daemon.audit("fault", "crashloop");
    assert_eq!(faults.len(), 6, "{faults:#?}");
    assert!(
        faults[..5]
            .iter()
            .all(|f| f["detail"].as_str().unwrap().starts_with("trapped: ")),
        "{faults:#?}"
    );
    assert!(
        faults[5]["detail"]
            .as_str()
            .unwrap()
            .starts_with("failed: 5 traps within 60 s"),
        "{faults:#?}"
    );

    let row = daemon.module_row("crashloop");
    assert_eq!(row["state"], "failed");
    let reason = row["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("5 traps within 60 s, the last: trapped: "),
        "{reason}"
    );
    let table = daemon.ok(&["module", "ls"]);
    let line = table.lines().find(|l| l.starts_with("crashloop")).unwrap();
    assert!(
        line.contains(" failed ") && line.contains("5 traps within 60 s"),
        "{table}"
    );

    let health = daemon.run(&["health", "detail", "-f", "json"]).json();
    assert_eq!(health["status"], "HEALTH_ERR");
    let check = &health["checks"]["MGR_MODULE_ERROR"];
    assert_eq!(check["severity"], "HEALTH_ERR");
    assert_eq!(check["summary"]["count"], 1);
    let summary = check["summary"]["message"].as_str().unwrap();
    assert!(
        summary.starts_with("Module 'crashloop' has failed: 5 traps"),
        "{summary}"
    );
    assert_eq!(check["detail"], json!([{"message": summary}]));
    let plain = daemon.ok(&["health", "detail"]);
    assert!(
        plain.starts_with("HEALTH_ERR Module 'crashloop' has failed"),
        "{plain}"
    );
    assert!(
        plain.contains("[ERR] MGR_MODULE_ERROR: Module 'crashloop' has failed"),
        "{plain}"
    );
    assert!(daemon.ok(&["health"]).starts_with("HEALTH_ERR "));

    // Its commands now say that it failed and how to bring it back.
    let err = daemon.run(&["crashloop", "go"]).fails(5);
    assert!(err.contains("module 'crashloop' has failed"), "{err}");
    assert!(err.contains("wasmgr module enable crashloop"), "{err}");
    // The others are unaffected.
    assert_eq!(daemon.ok(&["hello"]), "Hello, world!\n");

    daemon.ok(&["module", "enable", "crashloop"]);
    assert_eq!(daemon.module_row("crashloop")["state"], "running");
    assert_eq!(daemon.ok(&["health"]), "HEALTH_OK\n");
    // It runs again (and traps again: that is all it does).
    let err = daemon.run(&["crashloop", "go"]).fails(5);
    assert!(err.ends_with("; the module was restarted\n"), "{err}");
}

#[test]
fn enabling_a_module_reads_its_files_again() {
    let host = Host::start(&[HELLO]);
    let limits = |host: &Host| host.module_info("hello")["limits"]["memory_bytes"].clone();
    assert_eq!(limits(&host), json!(64 << 20));
    host.ok(&["module", "disable", "hello"]);
    std::fs::write(
        host.modules.path().join("hello.toml"),
        "[limits]\nmemory_mib = 8\n",
    )
    .unwrap();
    host.ok(&["module", "enable", "hello"]);
    assert_eq!(limits(&host), json!(8 << 20));
    assert_eq!(host.ok(&["hello"]), "Hello, world!");
}

#[test]
fn disabling_a_module_mid_call_lets_that_call_end_and_starts_no_other() {
    let host = std::sync::Arc::new(Host::start(&[SPIN, HELLO]));
    let before = host.stat("spin", "calls");
    let spinning = {
        let host = host.clone();
        std::thread::spawn(move || host.run(&["spin", "forever"]))
    };
    // Wait until the spin call is running: the module's call counter moves.
    wait_until(
        "the spin call starting",
        std::time::Duration::from_secs(30),
        || host.stat("spin", "calls") != before,
    );
    host.ok(&["module", "disable", "spin"]);
    // The running call ends at its deadline; it is not restarted into a disabled module.
    let reply = spinning.join().unwrap();
    assert_eq!(reply.retval, -110, "{reply:#?}");
    assert!(reply.stderr.contains("deadline"), "{}", reply.stderr);
    let err = host.fails(&["spin", "ok"], 95);
    assert!(err.contains("not enabled"), "{err}");
    assert_eq!(host.ok(&["hello"]), "Hello, world!");
    host.ok(&["module", "enable", "spin"]);
    assert_eq!(host.ok(&["spin", "ok"]), "ok");
}
