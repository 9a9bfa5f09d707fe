//! Cluster commands: what the host's `command:` check reads from a module's command JSON
//! against what the cluster executes, and the cluster's command words in the hands of a
//! module.

use std::fs;

use serde_json::{Value, json};

use super::{host, json_of, run};
use crate::harness::guests::{HELLO, INTRUDER, ROGUE};
use crate::harness::{Host, Modules};

/// A host on the simulated cluster whose intruder is granted one exact command,
/// `osd pool ls`.
fn granted_pool_ls() -> Host {
    host(
        Modules::new(&[INTRUDER, HELLO])
            .manifest(INTRUDER, "[requests]\nsend_command = [\"osd pool ls\"]\n"),
        true,
        true,
    )
}

/// Send `command` (raw JSON text) to `svc` as the intruder; the reply's retval: the host's
/// (a refusal) or the cluster's.
fn send(host: &Host, svc: &str, command: &str) -> (i32, Value) {
    let reply = run(host, &["intruder", "send", svc, command]);
    if reply.retval != 0 {
        return (reply.retval, Value::String(reply.stderr));
    }
    let out = json_of(&reply.stdout);
    (out["retval"].as_i64().unwrap() as i32, out)
}

/// The pools the operator sees.
fn pools(host: &Host) -> String {
    host.ok(&["osd", "pool", "ls"])
}

/// JSON with `prefix` twice: the host's check and the cluster read the same one (the last),
/// so neither order runs a command other than the one checked.
#[test]
fn a_duplicate_prefix_key_is_checked_as_the_cluster_reads_it() {
    let host = granted_pool_ls();
    let (retval, out) = send(
        &host,
        "mon",
        r#"{"prefix": "osd pool ls", "prefix": "osd pool create", "pool": "dup-a", "pg_num": 8}"#,
    );
    assert_eq!(retval, -13, "{out}");
    let (retval, out) = send(
        &host,
        "mon",
        r#"{"prefix": "osd pool create", "pool": "dup-b", "pg_num": 8, "prefix": "osd pool ls"}"#,
    );
    assert_eq!(retval, 0, "{out}");
    let listed = pools(&host);
    assert!(
        !listed.contains("dup-a") && !listed.contains("dup-b"),
        "{listed}"
    );
}

/// Spellings of a prefix that the cluster might read as `osd pool create` (it collapses
/// whitespace) do not match the exact grant `command:osd pool ls`, nor does a prefix that is
/// not a string, nor a daemon type other than mon, osd or mgr.
#[test]
fn prefix_spellings_do_not_stretch_an_exact_grant() {
    let host = granted_pool_ls();
    for prefix in [
        "osd pool ls ",
        " osd pool ls",
        "osd  pool ls",
        "osd\tpool ls",
        "OSD pool ls",
        "osd pool ls\n",
        "osd pool\u{3000}ls",
        "osd pool ls\u{0}",
        "osd pool create",
        "osd\u{a0}pool create",
        "osd pool create ",
    ] {
        let command = json!({"prefix": prefix, "pool": "spelled", "pg_num": 8}).to_string();
        let (retval, out) = send(&host, "mon", &command);
        assert_eq!(retval, -13, "{prefix:?}: {out}");
    }
    for command in [
        r#"{"prefix": ["osd pool ls"]}"#,
        r#"{"prefix": null}"#,
        r#"{"Prefix": "osd pool ls"}"#,
        r#"["osd pool ls"]"#,
        r#"{"prefix": "osd pool ls""#,
    ] {
        let (retval, out) = send(&host, "mon", command);
        assert_eq!(retval, -22, "{command}: {out}");
    }
    let (retval, out) = send(&host, "client", r#"{"prefix": "osd pool ls"}"#);
    assert_eq!(retval, -22, "{out}");
    for svc in ["osd", "mgr"] {
        let command = json!({"prefix": "osd pool create", "pool": "via-svc", "pg_num": 8});
        let (retval, out) = send(&host, svc, &command.to_string());
        assert_eq!(retval, -13, "{svc}: {out}");
    }
    assert!(!pools(&host).contains("spelled"));
    assert!(!pools(&host).contains("via-svc"));
}

/// A module file named after a cluster command word (`osd.wasm`) that requests something
/// and is not granted ran none of its code. Yet every `wasmgr osd ...` an operator types now
/// fails with "module 'osd' waits for capability grants": the host looks for an ungranted
/// module named like the first word before it hands words to the cluster.
#[test]
fn an_ungranted_module_named_osd_does_not_take_the_clusters_osd_commands() {
    let modules = Modules::new(&[HELLO]).named(INTRUDER, "osd");
    fs::write(
        modules.path().join("osd.toml"),
        "[requests]\nstore = true\n",
    )
    .unwrap();
    let host = host(modules, true, false);
    assert_eq!(super::state(&host, "osd"), "ungranted");
    let reply = run(&host, &["osd", "pool", "ls"]);
    assert_eq!(
        reply.retval, 0,
        "the cluster's 'osd pool ls' is refused because of a module that never ran: {reply:#?}"
    );
}

/// A module may declare commands whose first word is not its name, as long as no module has
/// that name; but not one of the cluster's commands (nor one under or above it): a module
/// declaring `osd pool ls` (here `rogue`, granted nothing but its own store, where its script
/// lives) is refused, so it can neither answer the operator's `wasmgr osd pool ls` in the
/// cluster's place nor swallow `osd pool rm` and read its arguments.
#[test]
fn a_module_cannot_answer_a_cluster_command_in_the_clusters_place() {
    let host = host(
        Modules::new(&[HELLO, ROGUE]).manifest(ROGUE, "[requests]\nstore = true\n"),
        true,
        true,
    );
    let real = run(&host, &["osd", "pool", "ls"]);
    let script = json!({
        "name": "rogue",
        "commands": [{"prefix": "osd pool ls", "perm": "r", "action": "echo",
                      "args": [{"name": "stdout", "required": false}]}],
    });
    // The module declaring it does not start.
    let loaded = host.load_script("rogue", &script);
    assert_eq!(loaded.retval, -17, "{loaded:#?}");
    assert!(
        loaded
            .stderr
            .contains("is the cluster's command 'osd pool ls'"),
        "{loaded:#?}"
    );
    let answer = run(&host, &["osd", "pool", "ls", "nothing-to-see"]);
    let plain = run(&host, &["osd", "pool", "ls"]);
    assert!(
        !answer.stdout.contains("nothing-to-see") && plain.stdout == real.stdout,
        "the module rogue answered the cluster's command: {answer:#?} (the cluster's answer: \
         {real:#?}, now: {plain:#?})"
    );
}
