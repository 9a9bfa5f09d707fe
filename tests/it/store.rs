//! The module KV store: a module's keys live under `mgr/<module>/`, where operators see them
//! with `config-key`, and no module reaches another's.

use serde_json::json;

use crate::harness::guests::{HELLO, KVPROBE};
use crate::harness::{Host, MGR_ID, Modules};

#[test]
fn a_module_sets_gets_lists_and_removes_its_keys() {
    let host = Host::start(&[KVPROBE]);
    host.ok(&["kvprobe", "set", "a", "1"]);
    host.ok(&["kvprobe", "set", "ab", "2"]);
    host.ok(&["kvprobe", "set", "b", "3"]);
    assert_eq!(host.ok(&["kvprobe", "get", "a"]), "1");
    let all: serde_json::Value =
        serde_json::from_str(&host.ok(&["kvprobe", "prefix", ""])).unwrap();
    assert_eq!(all, json!({"a": "1", "ab": "2", "b": "3"}));
    let some: serde_json::Value =
        serde_json::from_str(&host.ok(&["kvprobe", "prefix", "a"])).unwrap();
    assert_eq!(some, json!({"a": "1", "ab": "2"}));

    host.ok(&["kvprobe", "set", "a", "one"]);
    assert_eq!(host.ok(&["kvprobe", "get", "a"]), "one");
    host.ok(&["kvprobe", "rm", "a"]);
    let err = host.fails(&["kvprobe", "get", "a"], 2);
    assert_eq!(err, "key 'a' not found");
}

#[test]
fn module_keys_are_visible_to_operators_under_the_module_prefix() {
    let host = Host::start(&[KVPROBE]);
    host.ok(&["kvprobe", "set", "k", "v"]);
    assert_eq!(host.ok(&["config-key", "get", "mgr/kvprobe/k"]), "v");
    host.ok(&["config-key", "set", "mgr/kvprobe/from-operator", "x"]);
    assert_eq!(host.ok(&["kvprobe", "get", "from-operator"]), "x");
    host.ok(&["config-key", "rm", "mgr/kvprobe/k"]);
    host.fails(&["kvprobe", "get", "k"], 2);
    let keys = host.request(&["config-key", "ls"], Some("json"), "");
    assert_eq!(keys.stdout, "[\"mgr/kvprobe/from-operator\"]\n");
}

#[test]
fn a_module_cannot_see_another_modules_keys() {
    let host = Host::start(&[HELLO, KVPROBE]);
    host.ok(&["hello"]);
    host.ok(&["config-key", "set", "mgr/hello/secret", "s"]);
    host.ok(&["config-key", "set", "top-level", "t"]);
    host.ok(&["kvprobe", "set", "mine", "m"]);
    assert_eq!(host.ok(&["config-key", "get", "mgr/hello/greetings"]), "1");

    assert_eq!(host.ok(&["kvprobe", "prefix", ""]), "{\"mine\":\"m\"}");
    for key in [
        "greetings",
        "secret",
        "../hello/secret",
        "/mgr/hello/secret",
        "top-level",
    ] {
        host.fails(&["kvprobe", "get", key], 2);
    }
    // Its writes stay under its own prefix, whatever the key looks like.
    host.ok(&["kvprobe", "set", "../hello/greetings", "999"]);
    assert_eq!(host.ok(&["config-key", "get", "mgr/hello/greetings"]), "1");
    assert_eq!(
        host.ok(&["hello", "stats"]),
        "{\"greetings\":1,\"place\":\"world\"}"
    );
}

#[test]
fn localized_keys_belong_to_this_manager_and_fall_back_to_module_wide_ones() {
    let host = Host::start(&[KVPROBE]);
    host.ok(&["kvprobe", "localized", "set", "k", "mine"]);
    assert_eq!(host.ok(&["kvprobe", "localized", "get", "k"]), "mine");
    assert_eq!(
        host.ok(&["config-key", "get", &format!("mgr/kvprobe/{MGR_ID}/k")]),
        "mine"
    );
    // The module-wide key is another key.
    host.fails(&["kvprobe", "get", "k"], 2);
    host.ok(&["kvprobe", "set", "shared", "everyone"]);
    assert_eq!(
        host.ok(&["kvprobe", "localized", "get", "shared"]),
        "everyone"
    );
    host.fails(&["kvprobe", "localized", "get", "nowhere"], 2);
}

#[test]
fn the_store_quota_refuses_keys_beyond_the_manifests_kv_keys() {
    let host = Host::with(Modules::new(&[KVPROBE]).manifest(KVPROBE, "[limits]\nkv_keys = 2\n"));
    host.ok(&["kvprobe", "set", "a", "1"]);
    host.ok(&["kvprobe", "set", "b", "2"]);
    let err = host.fails(&["kvprobe", "set", "c", "3"], 28);
    assert!(
        err.starts_with("module 'kvprobe' store quota is full (2 of 2 keys, "),
        "{err}"
    );
    assert!(err.ends_with("delete keys first"), "{err}");
    // Replacing a value is no new key; deleting one makes room.
    host.ok(&["kvprobe", "set", "a", "one"]);
    host.ok(&["kvprobe", "rm", "b"]);
    host.ok(&["kvprobe", "set", "c", "3"]);
}

#[test]
fn a_value_over_the_per_value_limit_is_refused() {
    let host = Host::start(&[KVPROBE]);
    let big = "v".repeat((1 << 20) + 1);
    let err = host.fails(&["kvprobe", "set", "big", &big], 7);
    assert_eq!(
        err,
        "a value of 1048577 bytes is over the limit of 1048576 bytes per value: split it over several keys"
    );
    host.fails(&["kvprobe", "get", "big"], 2);
    let err = host.fails(&["kvprobe", "get", ""], 22);
    assert_eq!(err, "a store key must be 1 to 1024 bytes long");
}
