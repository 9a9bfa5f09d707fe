//! Module options: `config get/set/rm/ls`, checked against what each module declared, stored
//! durably, read by the module at run time.

use expect_test::expect;

use crate::harness::guests::{ANTIGRAVITY, HELLO, KVPROBE};
use crate::harness::{Daemon, Host, MGR_ID};

#[test]
fn hello_greets_the_configured_place_until_the_option_is_removed() {
    let mut daemon = Daemon::start(&[HELLO]);
    assert_eq!(daemon.ok(&["hello"]), "Hello, world!\n");
    assert_eq!(daemon.ok(&["hello", "Alice"]), "Hello, Alice!\n");

    assert_eq!(daemon.ok(&["config", "set", "mgr/hello/place", "Mars"]), "");
    assert_eq!(daemon.ok(&["hello"]), "Hello, Mars!\n");
    assert_eq!(daemon.ok(&["config", "get", "mgr/hello/place"]), "Mars\n");
    assert_eq!(
        daemon.ok(&["config", "get", "mgr/hello/place", "-f", "json"]),
        "\"Mars\"\n"
    );

    daemon.restart();
    assert_eq!(daemon.ok(&["hello"]), "Hello, Mars!\n");
    assert_eq!(daemon.ok(&["config", "get", "mgr/hello/place"]), "Mars\n");

    assert_eq!(daemon.ok(&["config", "rm", "mgr/hello/place"]), "");
    assert_eq!(daemon.ok(&["hello"]), "Hello, world!\n");
    assert_eq!(daemon.ok(&["config", "get", "mgr/hello/place"]), "world\n");
}

#[test]
fn a_bool_option_changes_the_greeting_at_run_time() {
    let host = Host::start(&[HELLO]);
    host.ok(&["config", "set", "mgr/hello/emphatic", "no"]);
    assert_eq!(host.ok(&["hello"]), "Hello, world");
    assert_eq!(host.ok(&["config", "get", "mgr/hello/emphatic"]), "false\n");
}

#[test]
fn an_undeclared_option_is_refused_naming_the_declared_ones() {
    let daemon = Daemon::start(&[HELLO]);
    let err = daemon
        .run(&["config", "set", "mgr/hello/nope", "x"])
        .fails(22);
    expect![[r#"
        Error EINVAL: mgr/hello/nope: no such option; the module's options are: place, emphatic, log_level, log_to_file, log_to_cluster, log_to_cluster_level
    "#]]
    .assert_eq(&err);
    // Reading one is ENOENT, as for a config-key that does not exist.
    let err = daemon.run(&["config", "get", "mgr/hello/nope"]).fails(2);
    assert!(
        err.starts_with("Error ENOENT: mgr/hello/nope: no such option"),
        "{err}"
    );
}

#[test]
fn values_outside_the_declared_type_or_range_are_refused_naming_it() {
    let daemon = Daemon::start(&[ANTIGRAVITY, KVPROBE]);
    let refused = |key: &str, value: &str| daemon.run(&["config", "set", key, value]).fails(22);
    let errors = [
        refused("mgr/antigravity/max_objects", "0"),
        refused("mgr/antigravity/max_objects", "10001"),
        refused("mgr/antigravity/max_objects", "abc"),
        refused("mgr/kvprobe/count", "11"),
        refused("mgr/kvprobe/ratio", "2"),
        refused("mgr/kvprobe/enabled", "maybe"),
        refused("mgr/kvprobe/mode", "medium"),
    ]
    .concat();
    expect![[r#"
        Error EINVAL: mgr/antigravity/max_objects: 0 is out of range: must be between 1 and 10000 (int)
        Error EINVAL: mgr/antigravity/max_objects: 10001 is out of range: must be between 1 and 10000 (int)
        Error EINVAL: mgr/antigravity/max_objects: 'abc' is not a valid int value: expected an integer
        Error EINVAL: mgr/kvprobe/count: 11 is out of range: must be between 1 and 10 (int)
        Error EINVAL: mgr/kvprobe/ratio: 2 is out of range: must be between 0 and 1 (float)
        Error EINVAL: mgr/kvprobe/enabled: 'maybe' is not a valid bool value: expected true/false, yes/no, on/off or 1/0
        Error EINVAL: mgr/kvprobe/mode: 'medium' is not allowed: must be one of: fast, slow
    "#]]
    .assert_eq(&errors);
    // Nothing was stored.
    assert_eq!(
        daemon.ok(&["config", "get", "mgr/antigravity/max_objects"]),
        "100\n"
    );
    assert_eq!(daemon.ok(&["config", "get", "mgr/kvprobe/count"]), "3\n");
}

#[test]
fn the_module_reads_the_value_an_operator_set_and_the_operator_sees_the_modules() {
    let host = Host::start(&[KVPROBE]);
    assert_eq!(host.ok(&["kvprobe", "opt", "get", "count"]), "3");
    host.ok(&["config", "set", "mgr/kvprobe/count", "7"]);
    assert_eq!(host.ok(&["kvprobe", "opt", "get", "count"]), "7");
    assert_eq!(host.ok(&["kvprobe", "opt", "get", "ratio"]), "0.5");
    assert_eq!(host.ok(&["kvprobe", "opt", "get", "mode"]), "\"fast\"");

    host.ok(&["kvprobe", "opt", "set", "mode", "\"slow\""]);
    assert_eq!(host.ok(&["config", "get", "mgr/kvprobe/mode"]), "slow\n");
    host.ok(&["kvprobe", "opt", "set", "mode", "null"]);
    assert_eq!(host.ok(&["config", "get", "mgr/kvprobe/mode"]), "fast\n");

    // The module gets the same checks as the operator, as its own errno.
    let err = host.fails(&["kvprobe", "opt", "set", "count", "12"], 34);
    assert_eq!(
        err,
        "mgr/kvprobe/count: 12 is out of range: must be between 1 and 10 (int)"
    );
    let err = host.fails(&["kvprobe", "opt", "get", "nope"], 2);
    assert!(err.contains("mgr/kvprobe/nope: no such option"), "{err}");
}

#[test]
fn a_localized_option_applies_to_this_manager_only() {
    let host = Host::start(&[KVPROBE]);
    let localized = format!("mgr/kvprobe/{MGR_ID}/count");
    host.ok(&["config", "set", &localized, "7"]);
    assert_eq!(host.ok(&["config", "get", &localized]), "7\n");
    // The module-wide value, which `get_module_option` reads, is untouched.
    assert_eq!(host.ok(&["config", "get", "mgr/kvprobe/count"]), "3\n");
    assert_eq!(host.ok(&["kvprobe", "opt", "get", "count"]), "3");
    // A localized value is checked like any other.
    let err = host.fails(&["config", "set", &localized, "11"], 22);
    assert!(err.contains("must be between 1 and 10"), "{err}");
    // Only this manager's id makes a localized key.
    let err = host.fails(&["config", "set", "mgr/kvprobe/other-mgr/count", "7"], 22);
    assert_eq!(
        err,
        format!(
            "'mgr/kvprobe/other-mgr/count' is not a module option: use mgr/<module>/<option> (or mgr/<module>/{MGR_ID}/<option> for this manager only)"
        )
    );
    // Without a localized value, the localized key reads the module-wide one.
    host.ok(&["config", "rm", &localized]);
    host.ok(&["config", "set", "mgr/kvprobe/count", "5"]);
    assert_eq!(host.ok(&["config", "get", &localized]), "5\n");
}

#[test]
fn config_ls_shows_every_option_with_its_source_and_type() {
    let daemon = Daemon::start(&[KVPROBE]);
    daemon.ok(&["config", "set", "mgr/kvprobe/count", "4"]);
    expect![[r#"
        OPTION                            VALUE  SOURCE   TYPE
        mgr/kvprobe/count                 4      set      int, 1..10
        mgr/kvprobe/ratio                 0.5    default  float, 0..1
        mgr/kvprobe/enabled               false  default  bool
        mgr/kvprobe/mode                  fast   default  str, one of: fast, slow
        mgr/kvprobe/interval              60     default  secs
        mgr/kvprobe/log_level                    default  str, one of: info, debug, critical, error, warning, ""
        mgr/kvprobe/log_to_file           false  default  bool
        mgr/kvprobe/log_to_cluster        false  default  bool
        mgr/kvprobe/log_to_cluster_level  info   default  str, one of: info, debug, critical, error, warning
    "#]]
    .assert_eq(&daemon.ok(&["config", "ls", "kvprobe"]));
    let err = daemon.run(&["config", "ls", "nomod"]).fails(2);
    assert!(err.contains("no module 'nomod'"), "{err}");
}

#[test]
fn options_of_an_unknown_module_are_refused() {
    let host = Host::start(&[HELLO]);
    let err = host.fails(&["config", "set", "mgr/nomod/x", "1"], 2);
    assert_eq!(err, "no module 'nomod'; see 'wasmgr module ls'");
    let err = host.fails(&["config", "set", "place", "Mars"], 22);
    assert!(err.contains("is not a module option"), "{err}");
}
