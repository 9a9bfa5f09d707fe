//! Capabilities: nothing is granted by default, grants are pinned to a component's digest,
//! denials are typed errors that the ledger counts and keeps, learning mode proposes a grant.

use serde_json::Value;

use crate::harness::guests::{ANTIGRAVITY, HELLO, KVPROBE, OSDWATCH};
use crate::harness::{Daemon, DaemonOptions, Host, Modules};

/// What osdwatch requests, as the grant command lists it.
const OSDWATCH_GRANT: &str = "wasmgr module grant osdwatch get:osd_map health cluster-log tick";

fn ungranted(modules: Modules) -> Daemon {
    Daemon::with(
        modules,
        DaemonOptions {
            grant_requests: false,
            ..DaemonOptions::default()
        },
    )
}

fn caps(daemon: &Daemon, module: &str) -> Value {
    daemon
        .run(&["module", "caps", module, "--format", "json"])
        .json()
}

/// The row of `capability` in `module caps --format json`.
fn cap_row(caps: &Value, capability: &str) -> Value {
    crate::harness::cap_row(caps, capability)
        .unwrap_or_else(|| panic!("no row {capability} in {caps:#}"))
}

#[test]
fn an_ungranted_module_starts_once_granted_and_needs_granting_again_when_rebuilt() {
    let daemon = ungranted(Modules::new(&[OSDWATCH, HELLO]));
    // Neither starts: hello requests its store, osdwatch the OSD map and more.
    let row = daemon.module_row("osdwatch");
    assert_eq!(row["state"], "ungranted", "{row:#}");
    assert!(
        row["reason"].as_str().unwrap().ends_with(OSDWATCH_GRANT),
        "{row:#}"
    );
    let plain = daemon.ok(&["module", "ls"]);
    assert!(plain.contains(OSDWATCH_GRANT), "{plain}");
    let health = daemon.ok(&["health", "detail"]);
    assert!(health.contains("MGR_MODULE_UNGRANTED"), "{health}");
    assert!(health.contains(OSDWATCH_GRANT), "{health}");

    // The grant command as shown, word for word.
    let words: Vec<&str> = OSDWATCH_GRANT.split(' ').skip(1).collect();
    daemon.ok(&words);
    assert_eq!(daemon.module_row("osdwatch")["state"], "running");
    assert_eq!(daemon.module_row("hello")["state"], "ungranted");
    let health = daemon.ok(&["health", "detail"]);
    assert!(!health.contains("osdwatch"), "{health}");

    // Rebuilt: one byte of the component differs (a letter of its manifest's description).
    let path = daemon.modules_dir().join("osdwatch.wasm");
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes
        .windows(9)
        .position(|w| w == b"Raises a ")
        .expect("osdwatch's description in its manifest section");
    bytes[at] = b'r';
    std::fs::write(&path, &bytes).unwrap();
    daemon.ok(&["module", "disable", "osdwatch"]);
    let err = daemon.run(&["module", "enable", "osdwatch"]).fails(13);
    assert!(err.contains(OSDWATCH_GRANT), "{err}");
    assert_eq!(daemon.module_row("osdwatch")["state"], "ungranted");
    let c = caps(&daemon, "osdwatch");
    assert_eq!(c["stale_grants"], 4, "{c:#}");
    assert_eq!(cap_row(&c, "get:osd_map")["granted"], "stale", "{c:#}");
    let plain = daemon.ok(&["module", "caps", "osdwatch"]);
    assert!(plain.contains("4 grant(s) name another digest"), "{plain}");
    daemon.ok(&words);
    assert_eq!(daemon.module_row("osdwatch")["state"], "running");
    assert_eq!(
        cap_row(&caps(&daemon, "osdwatch"), "get:osd_map")["granted"],
        "yes"
    );
}

#[test]
fn a_denied_call_is_a_typed_error_counted_audited_and_kept_across_a_restart() {
    // kvprobe reads any data name it is asked for; this one requests the OSD map only.
    let modules = Modules::new(&[KVPROBE, HELLO]).manifest(
        KVPROBE,
        "[requests]\nget = [\"osd_map\"]\nstore = true\nhealth = true\n",
    );
    let mut daemon = Daemon::with(modules, DaemonOptions::default());
    daemon.ok(&["kvprobe", "get_data", "osd_map"]);
    for _ in 0..3 {
        let err = daemon.run(&["kvprobe", "get_data", "pg_dump"]).fails(13);
        assert!(
            err.contains("module 'kvprobe' does not request get:pg_dump"),
            "{err}"
        );
        assert!(
            err.contains("wasmgr module grant kvprobe get:pg_dump"),
            "{err}"
        );
    }
    // The module keeps working.
    daemon.ok(&["kvprobe", "set", "k", "v"]);
    assert_eq!(daemon.ok(&["kvprobe", "get", "k"]).trim(), "v");
    let check = |daemon: &Daemon| {
        let c = caps(daemon, "kvprobe");
        let denied = cap_row(&c, "get:pg_dump");
        assert_eq!(denied["denied"]["count"], 3, "{c:#}");
        assert_eq!(denied["requested"], Value::Null, "{c:#}");
        assert_eq!(denied["granted"], "no", "{c:#}");
        let used = cap_row(&c, "get:osd_map");
        assert_eq!(used["used"]["count"], 1, "{c:#}");
        assert_eq!(used["granted"], "yes", "{c:#}");
        assert_eq!(used["requested"], "required", "{c:#}");
        let events = daemon
            .run(&[
                "audit", "--module", "kvprobe", "--kind", "denial", "--format", "json",
            ])
            .json();
        let events = events.as_array().unwrap();
        assert_eq!(events.len(), 1, "one event per window: {events:#?}");
        assert_eq!(events[0]["capability"], "get:pg_dump");
        assert!(
            events[0]["detail"]
                .as_str()
                .unwrap()
                .contains("wasmgr module grant kvprobe get:pg_dump"),
            "{events:#?}"
        );
        let grants = daemon
            .run(&["audit", "--kind", "grant", "--format", "json"])
            .json();
        assert!(
            grants
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["module"] == "kvprobe" && e["capability"] == "get:osd_map"),
            "{grants:#}"
        );
    };
    check(&daemon);
    daemon.restart();
    check(&daemon);
    // Killed outright, after the counts were written (within a second): nothing is lost.
    daemon.run(&["kvprobe", "get_data", "pg_dump"]).fails(13);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    daemon.kill_9();
    daemon.restart();
    let c = caps(&daemon, "kvprobe");
    assert_eq!(cap_row(&c, "get:pg_dump")["denied"]["count"], 4, "{c:#}");
}

#[test]
fn learning_mode_proposes_the_grant_that_runs_antigravity_without_denials() {
    let daemon = ungranted(Modules::new(&[ANTIGRAVITY]));
    assert_eq!(daemon.module_row("antigravity")["state"], "ungranted");
    daemon.ok(&["module", "learn", "antigravity"]);
    assert_eq!(daemon.module_row("antigravity")["state"], "running");
    let health = daemon.ok(&["health", "detail"]);
    assert!(health.contains("MGR_MODULE_LEARNING"), "{health}");
    // Every command of the module, as an operator would run them.
    let exercise = |daemon: &Daemon, round: &str| {
        daemon
            .run_with_stdin(
                &["antigravity", "put", "object", "comet", "-i", "-"],
                Some("dust"),
            )
            .ok();
        daemon.ok(&["antigravity", "ls", "objects"]);
        daemon.ok(&["antigravity", "create", "wormhole", "comet", round]);
        daemon.ok(&["antigravity", "list", "wormholes", "comet", "--details"]);
        daemon.ok(&["antigravity", "dump", "config", "comet"]);
        daemon.ok(&["antigravity", "send", "to", "blackhole", "comet"]);
    };
    let before = daemon
        .run(&["module", "caps", "antigravity", "--propose"])
        .ok();
    assert!(before.contains("has used no capability yet"), "{before}");
    exercise(&daemon, "first");
    let proposal = daemon
        .run(&[
            "module",
            "caps",
            "antigravity",
            "--propose",
            "--format",
            "json",
        ])
        .json();
    let grant: Vec<&str> = proposal["grant"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(grant, ["store"], "{proposal:#}");
    assert!(grant.iter().all(|c| !c.contains('*')), "{proposal:#}");
    let command = daemon.ok(&["module", "caps", "antigravity", "--propose"]);
    assert_eq!(command.trim(), "wasmgr module grant antigravity store");
    // Applied as printed: learning ends, the module runs on its grant alone.
    let words: Vec<&str> = command.trim().split(' ').skip(1).collect();
    daemon.ok(&words);
    let c = caps(&daemon, "antigravity");
    assert_eq!(c["learning"], false, "{c:#}");
    exercise(&daemon, "second");
    let denied: Vec<&Value> = c["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["denied"].is_null())
        .collect();
    assert!(denied.is_empty(), "{denied:#?}");
    let c = caps(&daemon, "antigravity");
    assert!(
        c["capabilities"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["denied"].is_null()),
        "{c:#}"
    );
    let learn = daemon
        .run(&["audit", "--kind", "learn", "--format", "json"])
        .json();
    assert_eq!(
        learn.as_array().unwrap().len(),
        2,
        "on, then off: {learn:#}"
    );
}

#[test]
fn revoking_a_required_capability_stops_the_module_and_an_optional_one_only_denies() {
    let modules = Modules::new(&[KVPROBE]).manifest(
        KVPROBE,
        "[requests]\nstore = true\nhealth = true\n[optional]\nget = [\"osd_map\"]\n",
    );
    let host = Host::with(modules);
    host.ok(&["kvprobe", "get_data", "osd_map"]);
    host.ok(&["module", "revoke", "kvprobe", "get:osd_map"]);
    let err = host.fails(&["kvprobe", "get_data", "osd_map"], 13);
    assert!(err.contains("has no grant for get:osd_map"), "{err}");
    host.ok(&["kvprobe", "set", "a", "1"]);
    host.ok(&["module", "revoke", "kvprobe", "store"]);
    assert_eq!(host.module_row("kvprobe")["state"], "ungranted");
    let err = host.fails(&["module", "revoke", "kvprobe", "store"], 2);
    assert!(
        err.contains("holds no grant store; it holds: health"),
        "{err}"
    );
}

#[test]
fn a_grant_the_module_does_not_request_is_kept_but_unused() {
    let host = Host::start(&[HELLO]);
    let reply = host.run(&["module", "grant", "hello", "get:osd_map"]);
    assert_eq!(reply.retval, 0, "{reply:#?}");
    assert!(
        reply
            .stderr
            .contains("the module does not request get:osd_map"),
        "{reply:#?}"
    );
    let err = host.fails(&["module", "grant", "hello", "get:"], 22);
    assert!(err.contains("'get:' needs a data name"), "{err}");
    let err = host.fails(&["module", "grant", "nosuch", "store"], 2);
    assert!(err.contains("no module 'nosuch'"), "{err}");
}

#[test]
fn a_malformed_grants_file_stops_the_daemon_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let grants = dir.path().join("grants.toml");
    std::fs::write(
        &grants,
        "[hello]\ndigest = \"sha256:00\"\ngrant = [\"store\"]\n",
    )
    .unwrap();
    let modules = Modules::new(&[HELLO]);
    let data = dir.path().join("data");
    let out = crate::harness::wasmgr(
        &[
            "serve",
            "--data",
            data.to_str().unwrap(),
            "--modules",
            modules.path().to_str().unwrap(),
            "--cluster",
            "snapshot",
            "--grants",
            grants.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.code, 1, "{out:#?}");
    assert!(
        out.stderr
            .contains("line 2: digest of [hello] is not sha256:<64 hex digits>"),
        "{out:#?}"
    );
}
