//! A read-only admin client against the capability commands, and tokens where they must
//! not be.

use serde_json::Value;
use wasmgr_runtime::manager::{ClientPerm, CommandRequest};

use super::{caps, host, json_of, state};
use crate::harness::guests::{HELLO, PROBER};
use crate::harness::{Daemon, Modules};

/// Every command that changes grants, learning mode, module state, options or clients is
/// refused to a read-only client, and leaves nothing changed and no event in the ledger.
#[test]
fn a_read_only_client_changes_no_grant_and_no_module() {
    let host = host(Modules::new(&[PROBER, HELLO]), false, false);
    assert_eq!(state(&host, "prober"), "ungranted");
    let events_before = json_of(&host.request(&["audit"], Some("json"), "").stdout)
        .as_array()
        .unwrap()
        .len();
    for words in [
        &["module", "grant", "prober", "get:osd_map"][..],
        &["module", "grant", "prober", "get:*"],
        &["module", "learn", "prober"],
        &["module", "revoke", "hello", "store"],
        &["module", "enable", "prober"],
        &["module", "disable", "hello"],
        &["config", "set", "mgr/hello/place", "Mars"],
        &["config-key", "set", "mgr/prober/x", "y"],
        &["auth", "create", "sneaky", "--role", "rw"],
        &["auth", "ls"],
    ] {
        let req = CommandRequest {
            words: words.iter().map(|w| (*w).to_owned()).collect(),
            format: None,
            inbuf: String::new(),
        };
        let reply = host.manager.command(&req, ClientPerm::Read);
        assert_eq!(reply.retval, -13, "{words:?}: {reply:#?}");
    }
    assert_eq!(state(&host, "prober"), "ungranted");
    let c = caps(&host, "prober");
    assert_eq!(c["learning"], false, "{c:#}");
    let events_after = json_of(&host.request(&["audit"], Some("json"), "").stdout)
        .as_array()
        .unwrap()
        .len();
    assert_eq!(events_before, events_after);
}

/// Tokens (the built-in ones, a named client's) appear neither in the daemon's log nor in
/// the ledger, even when a request carries a wrong one.
#[test]
fn tokens_reach_neither_the_log_nor_the_ledger() {
    let daemon = Daemon::start(&[HELLO]);
    let out = daemon.run(&["auth", "create", "viewer", "--role", "r"]);
    let token = out.stdout.trim().to_owned();
    assert_eq!(token.len(), 64, "{out:#?}");
    let admin: Value =
        serde_json::from_slice(&std::fs::read(daemon.data().join("admin.json")).unwrap()).unwrap();
    let admin = admin["token"].as_str().unwrap().to_owned();
    let wrong = format!("{}0", &token[..63]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t");
    std::fs::write(&file, &wrong).unwrap();
    daemon
        .run(&["--token-file", file.to_str().unwrap(), "health"])
        .fails(13);
    daemon.ok(&["auth", "rm", "viewer"]);
    let audit = daemon.ok(&["audit", "-f", "json"]);
    let log = daemon.log();
    for (what, secret) in [("admin", &admin), ("viewer", &token), ("wrong", &wrong)] {
        assert!(
            !log.contains(secret.as_str()),
            "the {what} token is in the log"
        );
        assert!(
            !audit.contains(secret.as_str()),
            "the {what} token is in the ledger"
        );
    }
}
