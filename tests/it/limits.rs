//! The limits every module runs under: a call that breaks one fails with an errno and a message
//! naming the limit, only that module's call fails, and the module answers again afterwards.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use expect_test::expect;

use crate::harness::guests::{BIGOUT, HELLO, MEMHOG, PANICKER, SPIN};
use crate::harness::{Daemon, DaemonOptions, Host, Modules, wait_until};

/// A liveness bound for a call that the 1 s deadline stops: generous, for a loaded machine.
const STOPPED_WITHIN: Duration = Duration::from_secs(10);

#[test]
fn a_spinning_command_hits_its_deadline_while_other_modules_keep_answering() {
    let daemon = Daemon::start(&[SPIN, HELLO]);
    let calls = daemon.calls("spin");

    let (done_tx, done_rx) = mpsc::channel();
    let (out, elapsed) = std::thread::scope(|s| {
        let spin = s.spawn(|| {
            let started = Instant::now();
            let out = daemon.run(&["spin", "forever"]);
            done_tx.send(()).unwrap();
            (out, started.elapsed())
        });
        // Wait until the spin call is running in the module (its call counter moved) ...
        wait_until("spin forever starting", STOPPED_WITHIN, || {
            daemon.calls("spin") != calls
        });
        // ... then another module answers before the spin call returns.
        assert_eq!(daemon.ok(&["hello"]), "Hello, world!\n");
        assert!(
            done_rx.try_recv().is_err(),
            "the spin call returned before hello answered; the test proves nothing"
        );
        spin.join().unwrap()
    });
    assert!(elapsed < STOPPED_WITHIN, "spin forever ran {elapsed:?}");
    let err = out.fails(110);
    assert!(
        err.starts_with("Error ETIMEDOUT: module 'spin' handle-command exceeded its deadline of 1000 ms (stopped after "),
        "{err}"
    );
    assert!(err.contains("limit deadline_ms"), "{err}");
    assert!(err.contains("the module was restarted"), "{err}");
    // The ledger has the fault.
    let faults = daemon.audit("fault", "spin");
    assert_eq!(faults.len(), 1, "{faults:#?}");
    assert!(
        faults[0]["detail"]
            .as_str()
            .unwrap()
            .contains("exceeded its deadline of 1000 ms"),
        "{faults:#?}"
    );
    // A fresh instance answers.
    assert_eq!(daemon.ok(&["spin", "ok"]), "ok\n");
    assert_eq!(daemon.module_row("spin")["state"], "running");
}

#[test]
fn out_of_fuel_fails_only_that_call() {
    let host = Host::with(
        Modules::new(&[SPIN, HELLO]).manifest(SPIN, "[limits]\nfuel_per_call = 1000000\n"),
    );
    let started = Instant::now();
    let err = host.fails(&["spin", "forever"], 110);
    assert!(started.elapsed() < STOPPED_WITHIN);
    expect![[r#"module 'spin' handle-command ran out of fuel: used all 1000000 units allowed per call (limit fuel_per_call); the module was restarted"#]]
        .assert_eq(&err);
    assert_eq!(host.ok(&["spin", "ok"]), "ok");
    assert_eq!(host.ok(&["hello"]), "Hello, world!");
}

#[test]
fn a_memory_hog_is_stopped_at_its_limit_and_the_daemon_stays_bounded() {
    let daemon = Daemon::start(&[MEMHOG, HELLO]);
    for _ in 0..3 {
        let err = daemon.run(&["memhog", "grow"]).fails(12);
        assert!(
            err.starts_with("Error ENOMEM: module 'memhog' handle-command hit its memory limit of 64 MiB (asked to grow to "),
            "{err}"
        );
        assert!(err.contains("limit memory_mib"), "{err}");
    }
    let rss = daemon.rss_bytes();
    assert!(
        rss < 400 << 20,
        "the daemon holds {} MiB after three memory hogs",
        rss >> 20
    );
    assert_eq!(daemon.ok(&["memhog", "ok"]), "ok\n");
    assert_eq!(daemon.ok(&["hello"]), "Hello, world!\n");
    let info = daemon.module_info("memhog");
    assert_eq!(info["stats"]["traps"], 3);
    assert_eq!(info["stats"]["restarts"], 3);
    let faults = daemon.audit("fault", "memhog");
    assert_eq!(faults.len(), 3, "{faults:#?}");
    for fault in faults {
        let detail = fault["detail"].as_str().unwrap();
        assert!(detail.contains("memory limit of 64 MiB"), "{detail}");
    }
}

#[test]
fn a_manifest_lowers_the_memory_limit() {
    let host = Host::with(Modules::new(&[MEMHOG]).manifest(MEMHOG, "[limits]\nmemory_mib = 16\n"));
    let err = host.fails(&["memhog", "grow"], 12);
    assert!(
        err.starts_with("module 'memhog' handle-command hit its memory limit of 16 MiB"),
        "{err}"
    );
    assert_eq!(host.ok(&["memhog", "ok"]), "ok");
    let info = host.ok(&["module", "info", "memhog"]);
    assert!(info.contains("memory_bytes: 16777216"), "{info}");
}

#[test]
fn a_manifest_asking_more_than_the_ceiling_fails_the_module_naming_the_ceiling() {
    let daemon = Daemon::with(
        Modules::new(&[MEMHOG, HELLO]).manifest(MEMHOG, "[limits]\nmemory_mib = 4096\n"),
        DaemonOptions::default(),
    );
    let row = daemon.module_row("memhog");
    assert_eq!(row["state"], "failed");
    expect!["manifest: memory_mib = 4096 is above the host's ceiling; a manifest may only lower limits: remove the line or use a value from 1 to 64, the host's ceiling"]
        .assert_eq(row["reason"].as_str().unwrap());
    // The other modules load.
    assert_eq!(daemon.ok(&["hello"]), "Hello, world!\n");
    let health = daemon.ok(&["health", "detail"]);
    assert!(
        health.contains("Module 'memhog' has failed: manifest: memory_mib = 4096"),
        "{health}"
    );
}

#[test]
fn a_manifest_with_an_unknown_key_fails_the_module_naming_the_key() {
    let modules = Modules::new(&[MEMHOG]).manifest(MEMHOG, "[limits]\nmemory_mb = 16\n");
    let manifest = modules.path().join("memhog.toml").display().to_string();
    let host = Host::with(modules);
    let list = host.request(&["module", "ls"], Some("json"), "");
    let list: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(list[0]["state"], "failed");
    let reason = list[0]["reason"]
        .as_str()
        .unwrap()
        .replace(&manifest, "<manifest>");
    expect!["<manifest>: line 2, column 1: unknown field `memory_mb`, expected one of `fuel_per_call`, `deadline_ms`, `memory_mib`, `output_kib`, `kv_keys`, `kv_mib`, `log_lines_per_sec`; see the module author guide for the manifest keys"]
        .assert_eq(&reason);
}

#[test]
fn a_panic_fails_the_call_with_its_message_and_the_module_answers_again() {
    let daemon = Daemon::start(&[PANICKER]);
    let err = daemon.run(&["panicker", "boom"]).fails(5);
    // The SDK adds where the panic happened: `panicked: boom requested (at <file>:<line>)`.
    assert!(
        err.starts_with("Error EIO: module 'panicker' handle-command panicked: boom requested (at panicker/src/lib.rs:"),
        "{err}"
    );
    assert!(err.ends_with("; the module was restarted\n"), "{err}");
    assert_eq!(daemon.ok(&["panicker", "ok"]), "ok\n");
    assert!(
        daemon.module_info("panicker")["last_trap"]
            .as_str()
            .unwrap()
            .contains("panicked: boom requested")
    );
    let faults = daemon.audit("fault", "panicker");
    assert_eq!(faults.len(), 1, "{faults:#?}");
    assert!(
        faults[0]["detail"]
            .as_str()
            .unwrap()
            .contains("panicked: boom requested"),
        "{faults:#?}"
    );
}

#[test]
fn output_over_the_cap_is_refused_and_the_module_still_answers() {
    let daemon = Daemon::start(&[BIGOUT]);
    let err = daemon.run(&["bigout", "huge", "20"]).fails(7);
    expect![[r#"
        Error E2BIG: module 'bigout' returned 20971520 bytes of output, over its limit of 16777216 bytes (limit output_kib); ask for less, e.g. with a narrower query
    "#]]
    .assert_eq(&err);
    assert_eq!(daemon.ok(&["bigout", "ok"]), "ok\n");
    // Under the cap, the output arrives whole.
    let out = daemon.ok(&["bigout", "huge", "2"]);
    assert_eq!(out.len(), (2 << 20) + 1);
    assert!(out[..2 << 20].bytes().all(|b| b == b'x'));
}

#[test]
fn a_manifest_lowers_the_output_cap() {
    let host = Host::with(Modules::new(&[BIGOUT]).manifest(BIGOUT, "[limits]\noutput_kib = 512\n"));
    let err = host.fails(&["bigout", "huge", "1"], 7);
    assert!(
        err.contains("over its limit of 524288 bytes (limit output_kib)"),
        "{err}"
    );
    assert_eq!(host.ok(&["bigout", "ok"]), "ok");
}

#[test]
fn a_host_config_file_lowers_every_modules_ceiling() {
    let config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        config.path(),
        "module_slots = 8\n[limits]\nmemory_mib = 16\n",
    )
    .unwrap();
    let options = DaemonOptions {
        args: vec!["--config".into(), config.path().display().to_string()],
        ..DaemonOptions::default()
    };
    let daemon = Daemon::with(Modules::new(&[MEMHOG]), options);
    let err = daemon.run(&["memhog", "grow"]).fails(12);
    assert!(err.contains("memory limit of 16 MiB"), "{err}");
    assert_eq!(
        daemon.module_info("memhog")["limits"]["memory_bytes"],
        16 << 20
    );
}

#[test]
fn a_host_config_file_with_an_unknown_key_stops_the_daemon_naming_the_key() {
    let config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(config.path(), "[limits]\nmemory_mb = 16\n").unwrap();
    let data = tempfile::tempdir().unwrap();
    let modules = Modules::new(&[]);
    let out = crate::harness::wasmgr(
        &[
            "serve",
            "--data",
            &data.path().display().to_string(),
            "--modules",
            &modules.path().display().to_string(),
            "--config",
            &config.path().display().to_string(),
        ],
        None,
    );
    assert_eq!(out.code, 1, "{out:#?}");
    assert!(
        out.stderr
            .contains("line 2, column 1: unknown field `memory_mb`"),
        "{}",
        out.stderr
    );
}
