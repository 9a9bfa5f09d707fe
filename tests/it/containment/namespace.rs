//! The command namespace: a module serves its own commands only. It cannot take another
//! module's command (or a longer prefix of one), the host's commands, or the host's names,
//! nor declare commands under another module's name, and whichever module loads first at
//! start-up, the commands stay their owners'.

use serde_json::{Value, json};

use super::{
    assert_audited, assert_failed_naming, assert_hello_answers, assert_hello_answers_daemon, reason,
};
use crate::harness::guests::{ANTIGRAVITY, HELLO, ROGUE};
use crate::harness::{Daemon, DaemonOptions, Host, Modules};

/// A script for the copy `name` that declares the one command `prefix`.
fn grabbing(name: &str, prefix: &str) -> Value {
    json!({
        "name": name,
        "commands": [{"prefix": prefix, "desc": "mine now", "perm": "r"}],
    })
}

/// A copy of rogue, `grabber`, declares `prefix` next to `hello`: it fails with EEXIST naming
/// the command, and the command stays its owner's.
#[track_caller]
fn assert_cannot_take(prefix: &str) {
    let host = Host::with(Modules::new(&[HELLO]).named(ROGUE, "grabber"));
    let enable = host.load_script("grabber", &grabbing("grabber", prefix));
    assert_eq!(
        enable.retval, -17,
        "enabling grabber with {prefix:?}: {enable:#?}"
    );
    assert_failed_naming(&host, "grabber", prefix);
    host.fails(&["module", "enable", "grabber"], 17);
    assert_failed_naming(&host, "grabber", prefix);

    // The host's commands and hello's are still theirs.
    host.ok(&["config-key", "set", "k", "v"]);
    assert_eq!(host.ok(&["config-key", "get", "k"]), "v");
    assert_hello_answers(&host);
    assert_eq!(host.ok(&["hello", "world"]), "Hello, world!");
    assert_eq!(host.module_row("hello")["state"], "running");
}

#[test]
fn a_module_cannot_take_a_longer_prefix_of_another_modules_command() {
    assert_cannot_take("hello world");
}

#[test]
fn a_module_cannot_take_a_host_command() {
    assert_cannot_take("config-key set");
}

#[test]
fn a_module_cannot_take_the_module_commands() {
    assert_cannot_take("module disable");
}

#[test]
fn a_module_cannot_take_another_modules_command() {
    assert_cannot_take("hello");
}

#[test]
fn a_module_cannot_take_the_capability_commands() {
    for prefix in ["module grant", "module caps", "audit"] {
        assert_cannot_take(prefix);
    }
}

#[test]
fn a_module_named_audit_cannot_take_the_audit_command() {
    let host = Host::with(Modules::new(&[HELLO]).named(ROGUE, "audit"));
    assert_failed_naming(&host, "audit", "reserved");
    let err = host.fails(&["module", "enable", "audit"], 22);
    assert!(err.contains("the name 'audit' is reserved"), "{err}");
    // The host's audit command is still the host's.
    let reply = host.request(&["audit", "--kind", "refused"], Some("json"), "");
    assert_eq!(reply.retval, 0, "{reply:#?}");
    let events: Value = serde_json::from_str(&reply.stdout).unwrap();
    assert!(events.is_array(), "{events}");
    assert_hello_answers(&host);
}

#[test]
fn a_module_named_after_the_hosts_own_words_is_refused() {
    let mut daemon = Daemon::with(
        Modules::new(&[HELLO])
            .named(ROGUE, "mgr")
            .named(ROGUE, "module"),
        DaemonOptions::default(),
    );
    for name in ["mgr", "module"] {
        daemon.set_script(name, &json!({"name": name}));
    }
    // Both load at start-up with their scripts, then once more when enabled.
    daemon.restart();
    for name in ["mgr", "module"] {
        let row = daemon.module_row(name);
        assert!(reason(&row).contains("reserved"), "{row}");
        let out = daemon.run(&["module", "enable", name]);
        assert_ne!(out.code, 0, "{name} was enabled: {out:#?}");
        let row = daemon.module_row(name);
        assert!(reason(&row).contains("reserved"), "{row}");
        assert_audited(&daemon, "refused", name, "reserved");
    }
    // The daemon's own commands all still work.
    daemon.ok(&["module", "ls"]);
    daemon.ok(&["config-key", "ls"]);
    daemon.ok(&["health"]);
    daemon.ok(&["status"]);
    daemon.ok(&["module", "info", "hello"]);
    assert_hello_answers_daemon(&daemon);
}

#[test]
fn at_start_up_a_command_stays_its_owners_whichever_module_loads_first() {
    let mut daemon = Daemon::with(
        Modules::new(&[HELLO])
            .named(ROGUE, "aaa")
            .named(ROGUE, "grabber")
            .named(ROGUE, "zzz"),
        DaemonOptions::default(),
    );
    for name in ["aaa", "grabber", "zzz"] {
        daemon.set_script(name, &grabbing(name, "hello"));
    }
    // Every module loads at start-up, in whatever order the host takes them.
    daemon.restart();

    assert_eq!(daemon.module_row("hello")["state"], "running");
    assert_hello_answers_daemon(&daemon);
    assert_eq!(daemon.ok(&["hello", "world"]), "Hello, world!\n");
    for name in ["aaa", "grabber", "zzz"] {
        let row = daemon.module_row(name);
        let reason = reason(&row);
        assert!(reason.contains("hello"), "{name}: {reason}");
        assert_audited(&daemon, "refused", name, reason);
    }
}

/// What `rogue` fails with when it declares a command under antigravity's name.
const UNDER_ANTIGRAVITY: &str = "starts with the name of module 'antigravity'";

#[test]
fn a_module_cannot_declare_a_command_under_another_modules_name() {
    let mut daemon = Daemon::start(&[ANTIGRAVITY, ROGUE, HELLO]);
    // A sibling of antigravity's commands, which none of them is a prefix of: only the name
    // tells whose it would be.
    let script = json!({
        "commands": [{"prefix": "antigravity purge", "desc": "Purge every object", "perm": "rw"}],
    });
    let err = daemon.load_script("rogue", &script).fails(17);
    assert!(err.contains(UNDER_ANTIGRAVITY), "{err}");
    let row = daemon.module_row("rogue");
    assert!(reason(&row).contains(UNDER_ANTIGRAVITY), "{row}");
    assert_audited(&daemon, "refused", "rogue", UNDER_ANTIGRAVITY);

    let help = daemon.ok(&["antigravity", "--help"]);
    assert!(
        !help.contains("antigravity purge"),
        "antigravity's help lists rogue's command:\n{help}"
    );
    assert!(help.contains("antigravity ls objects"), "{help}");
    // Nothing serves it (the error still names rogue, whose refused declaration it matches).
    let purge = daemon.run(&["antigravity", "purge"]);
    assert_ne!(purge.code, 0, "antigravity purge ran: {purge:#?}");
    assert_eq!(daemon.ok(&["antigravity", "ls", "objects"]), "[]\n");

    // At start-up too, whichever module loads first.
    daemon.restart();
    let row = daemon.module_row("rogue");
    assert!(reason(&row).contains(UNDER_ANTIGRAVITY), "{row}");
    assert_eq!(daemon.module_row("antigravity")["state"], "running");
    assert!(
        !daemon
            .ok(&["antigravity", "--help"])
            .contains("antigravity purge")
    );
    assert_hello_answers_daemon(&daemon);
}
