//! Module commands: the generated usage, argument checking before any module is called, and the
//! `antigravity` example of Ceph's mgr module developer guide end to end.

use std::fs;

use expect_test::expect;
use serde_json::json;

use crate::harness::guests::{ANTIGRAVITY, BIGOUT, HELLO, KVPROBE};
use crate::harness::{Daemon, Host};

#[test]
fn help_lists_every_command_with_its_generated_usage() {
    let daemon = Daemon::start(&[HELLO, ANTIGRAVITY]);
    expect![[r#"
        usage: wasmgr [options] <command> [<args>...]
               wasmgr serve [--data DIR] [--modules DIR] ...   (run the daemon; 'wasmgr serve --help')
               wasmgr key gen FILE                             (new signing key: FILE and FILE.pub)
               wasmgr key fingerprint FILE                     (a key file's fingerprint)
               wasmgr module sign COMPONENT --key FILE         (sign a module: writes COMPONENT.sig)
               wasmgr grants requested DIR                     (a grants file approving DIR's modules' requests)

        options:
          --data DIR            the daemon's data directory (default: $WASMGR_DATA, else
                                $XDG_STATE_HOME/wasmgr, else ~/.local/state/wasmgr)
          -f, --format FORMAT   output format: plain, json, json-pretty or yaml
          -i, --in-file FILE    send FILE ('-' for standard input) to the command as its input
          --token-file FILE     act as the admin client whose token FILE holds (see 'wasmgr auth
                                create'), instead of with the data directory's token; $WASMGR_TOKEN
                                gives the token too (--token-file wins)
          --period SECONDS      repeat a poll command every SECONDS until interrupted
          -h, --help            list every command, or those starting with the given words

        Arguments go by position or as name=value (or --name value; --name alone for a flag).
        The exit code is the command's errno (0 on success).

        commands:
        antigravity create wormhole <oid> <name> [<destination>]  Create a wormhole from the supplied oid
        antigravity dump config <oid>             Dump an object's data as it was stored
        antigravity list wormholes <oid> [--details]  List wormholes associated with the supplied oid
        antigravity ls objects                    List the stored objects and their sizes
        antigravity put object <oid>              Store an object, its data read from the input file (-i FILE)
        antigravity send to blackhole <oid> [<blackhole>]  Send the specified object to black hole
        audit [<module>] [<since>] [<kind>]       List the audit ledger's events (--module M, --since TIME|AGE, --kind K)
        auth create <name> [<role:r|rw>]          Create an admin client (role r unless --role rw) and print its token, shown this once only
        auth ls                                   List the admin clients and their roles
        auth rm <name>                            Remove an admin client: its token stops working at once
        config get <key>                          Show a module option: mgr/<module>/<option>
        config ls [<module>]                      List module options with their values
        config rm <key>                           Revert a module option to its default
        config set <key> <value>                  Set a module option: mgr/<module>/<option> <value>
        config-key dump [<key>]                   Dump config-keys and values, optionally under a prefix
        config-key exists <key>                   Check whether a config-key exists
        config-key get <key>                      Show a config-key value
        config-key ls                             List config-keys
        config-key rm <key>                       Delete a config-key
        config-key set <key> [<val>]              Set a config-key value (or from -i FILE)
        health                                    Show cluster manager health
        health detail                             Show health with every check's detail
        hello [<person_name>]                     Say hello
        hello stats                               Show how many greetings were sent, and to which place by default
        log last [<num:int>] [<channel:cluster|audit|*>]  Show the last entries of the cluster log (default 20, channel cluster)
        module caps <module> [--propose]          Show a module's capabilities: requested, granted, used, denied (--propose: the smallest grant covering what it used)
        module disable <module>                   Disable a module
        module enable <module>                    Enable a module (restarts a failed one)
        module grant <module> <capability>...     Grant capabilities to a module, pinned to its component's digest (with sha256:DIGEST among them: only if it is still the one reviewed)
        module info <module>                      Show a module's digest, limits, commands, options and counters
        module learn <module> [--stop] [<digest>]  Run a module with every capability it requests allowed and recorded (--stop ends it)
        module ls                                 List modules with their state
        module revoke <module> <capability>...    Revoke capabilities from a module
        status                                    Show the daemon's status
    "#]]
    .assert_eq(&daemon.ok(&["--help"]));
}

#[test]
fn help_with_words_lists_only_the_commands_starting_with_them() {
    let daemon = Daemon::start(&[HELLO, ANTIGRAVITY]);
    expect![[r#"
        antigravity create wormhole <oid> <name> [<destination>]  Create a wormhole from the supplied oid
        antigravity dump config <oid>             Dump an object's data as it was stored
        antigravity list wormholes <oid> [--details]  List wormholes associated with the supplied oid
        antigravity ls objects                    List the stored objects and their sizes
        antigravity put object <oid>              Store an object, its data read from the input file (-i FILE)
        antigravity send to blackhole <oid> [<blackhole>]  Send the specified object to black hole
    "#]]
    .assert_eq(&daemon.ok(&["antigravity", "--help"]));
    let err = daemon.run(&["--help", "nothing"]).fails(22);
    assert_eq!(
        err,
        "Error EINVAL: no command starts with 'nothing'; see 'wasmgr --help'\n"
    );
}

#[test]
fn a_wrong_argument_type_is_refused_with_the_usage_before_the_module_is_called() {
    let daemon = Daemon::start(&[BIGOUT]);
    let calls = daemon.calls("bigout");
    let err = daemon.run(&["bigout", "huge", "abc"]).fails(22);
    expect![[r#"
        Error EINVAL: invalid value 'abc' for <mib:int>: expected an integer between 1 and 48
        usage: bigout huge <mib:int>
    "#]]
    .assert_eq(&err);
    assert_eq!(daemon.calls("bigout"), calls, "the module was called");
    // The checked call does reach it.
    assert_eq!(daemon.ok(&["bigout", "ok"]), "ok\n");
    assert_eq!(daemon.calls("bigout"), calls + 1);
}

#[test]
fn usage_errors_name_the_problem_and_show_the_usage() {
    let daemon = Daemon::start(&[HELLO, ANTIGRAVITY, KVPROBE, BIGOUT]);
    let modules = ["hello", "antigravity", "kvprobe", "bigout"];
    let calls: Vec<u64> = modules.iter().map(|m| daemon.calls(m)).collect();
    let errors = [
        // A required argument is missing.
        daemon.run(&["antigravity", "put", "object"]).fails(22),
        daemon.run(&["kvprobe", "set", "k"]).fails(22),
        // Too many arguments, and an argument the command does not have.
        daemon.run(&["hello", "a", "b"]).fails(22),
        daemon.run(&["hello", "--foo", "3"]).fails(22),
        // Not one of the choices.
        daemon.run(&["kvprobe", "log", "loud", "x"]).fails(22),
        // Out of range.
        daemon.run(&["bigout", "huge", "49"]).fails(22),
        daemon.run(&["bigout", "huge", "0"]).fails(22),
        // Not a bool.
        daemon
            .run(&["antigravity", "list", "wormholes", "o", "details=maybe"])
            .fails(22),
    ]
    .concat();
    expect![[r#"
        Error EINVAL: missing required argument <oid>
        usage: antigravity put object <oid>
        Error EINVAL: missing required argument <value>
        usage: kvprobe set <key> <value>
        Error EINVAL: unexpected argument 'b'
        usage: hello [<person_name>]
        Error EINVAL: unknown argument 'foo': this command has no argument of that name
        usage: hello [<person_name>]
        Error EINVAL: invalid value 'loud' for <level:debug|info|warning|error|critical>: expected one of: debug, info, warning, error, critical
        usage: kvprobe log <level:debug|info|warning|error|critical> <message>
        Error EINVAL: invalid value '49' for <mib:int>: expected an integer between 1 and 48
        usage: bigout huge <mib:int>
        Error EINVAL: invalid value '0' for <mib:int>: expected an integer between 1 and 48
        usage: bigout huge <mib:int>
        Error EINVAL: invalid value 'maybe' for --details: expected true/false, yes/no or 1/0
        usage: antigravity list wormholes <oid> [--details]
    "#]]
    .assert_eq(&errors);
    let after: Vec<u64> = modules.iter().map(|m| daemon.calls(m)).collect();
    assert_eq!(after, calls, "a module was called with bad arguments");
}

#[test]
fn arguments_go_by_position_by_name_or_as_flags() {
    let host = Host::start(&[HELLO, KVPROBE]);
    assert_eq!(host.ok(&["hello", "person_name=Bob"]), "Hello, Bob!");
    assert_eq!(host.ok(&["hello", "--person_name", "Eve"]), "Hello, Eve!");
    host.ok(&["kvprobe", "set", "value=v", "key=k"]);
    assert_eq!(host.ok(&["kvprobe", "get", "k"]), "v");
}

/// Encrypts a black hole location the way `antigravity`'s `decrypt` expects: hex of the bytes
/// XOR-ed with the passphrase.
fn encrypt(location: &str, passphrase: &str) -> String {
    location
        .bytes()
        .zip(passphrase.bytes().cycle())
        .map(|(b, k)| format!("{:02x}", b ^ k))
        .collect()
}

#[test]
fn antigravity_stores_lists_and_sends_objects_to_a_black_hole() {
    let daemon = Daemon::start(&[ANTIGRAVITY]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("object");
    fs::write(&file, "line one\nline two\n").unwrap();
    let file = file.to_str().unwrap();

    assert_eq!(
        daemon.ok(&["antigravity", "put", "object", "o1", "-i", file]),
        ""
    );
    assert_eq!(
        daemon.ok(&["antigravity", "put", "object", "o2", "--in-file", file]),
        ""
    );
    let err = daemon
        .run(&["antigravity", "put", "object", "o3"])
        .fails(22);
    assert_eq!(
        err,
        "Error EINVAL: put needs the object's data as input: -i FILE\n"
    );
    assert_eq!(
        daemon
            .run(&["antigravity", "ls", "objects", "--format", "json"])
            .json(),
        json!([{"oid": "o1", "size": 18}, {"oid": "o2", "size": 18}])
    );
    // The data came through the input file unchanged.
    assert_eq!(
        daemon.ok(&["antigravity", "dump", "config", "o1"]),
        "line one\nline two\n"
    );

    assert_eq!(
        daemon.ok(&["antigravity", "send", "to", "blackhole", "o1"]),
        "the black hole swallowed 'o1'\n"
    );
    let err = daemon
        .run(&["antigravity", "send", "to", "blackhole", "o1"])
        .fails(2);
    assert_eq!(err, "Error ENOENT: object 'o1' not found\n");
    assert_eq!(
        daemon.ok(&[
            "config-key",
            "get",
            "mgr/antigravity/blackhole/sagittarius-a*/o1"
        ]),
        "line one\nline two\n"
    );
    // A named black hole.
    assert_eq!(
        daemon.ok(&["antigravity", "send", "to", "blackhole", "o2", "m87"]),
        "the black hole swallowed 'o2'\n"
    );
    assert_eq!(
        daemon.ok(&["config-key", "get", "mgr/antigravity/blackhole/m87/o2"]),
        "line one\nline two\n"
    );
    assert_eq!(
        daemon
            .run(&["antigravity", "ls", "objects", "-f", "json"])
            .json(),
        json!([])
    );
}

#[test]
fn an_encrypted_black_hole_is_decrypted_with_the_passphrase_from_the_input_file() {
    let daemon = Daemon::start(&[ANTIGRAVITY]);
    let dir = tempfile::tempdir().unwrap();
    let passphrase = dir.path().join("passphrase");
    // As `echo key > FILE` writes it: the trailing newline is not part of the passphrase.
    fs::write(&passphrase, "key\n").unwrap();
    let passphrase = passphrase.to_str().unwrap();
    for oid in ["o1", "o2"] {
        daemon
            .run_with_stdin(
                &["antigravity", "put", "object", oid, "-i", "-"],
                Some("data"),
            )
            .ok();
    }

    let hidden = encrypt("cygnus-x1", "key");
    assert_eq!(
        daemon.ok(&[
            "antigravity",
            "send",
            "to",
            "blackhole",
            "o1",
            &hidden,
            "-i",
            passphrase
        ]),
        "the black hole swallowed 'o1'\n"
    );
    assert_eq!(
        daemon.ok(&[
            "config-key",
            "get",
            "mgr/antigravity/blackhole/cygnus-x1/o1"
        ]),
        "data\n"
    );

    let err = daemon
        .run(&[
            "antigravity",
            "send",
            "to",
            "blackhole",
            "o2",
            "zz",
            "-i",
            passphrase,
        ])
        .fails(22);
    assert_eq!(err, "Error EINVAL: unable to decrypt location\n");
    // The object stayed where it was.
    assert_eq!(
        daemon.ok(&["antigravity", "dump", "config", "o2"]),
        "data\n"
    );
}

#[test]
fn antigravity_creates_and_lists_wormholes() {
    let host = Host::start(&[ANTIGRAVITY]);
    let err = host.fails(&["antigravity", "list", "wormholes", "nope"], 2);
    assert_eq!(err, "Unknown oid: nope");
    let err = host.fails(&["antigravity", "create", "wormhole", "nope", "w1"], 2);
    assert_eq!(err, "Unknown oid: nope");

    let put = host.request(&["antigravity", "put", "object", "o1"], None, "data");
    assert_eq!(put.retval, 0, "{put:?}");
    assert_eq!(
        host.ok(&["antigravity", "create", "wormhole", "o1", "w1"]),
        ""
    );
    assert_eq!(
        host.ok(&["antigravity", "create", "wormhole", "o1", "w2", "andromeda"]),
        ""
    );
    let err = host.fails(&["antigravity", "create", "wormhole", "o1", "w1"], 17);
    assert_eq!(err, "wormhole 'w1' of 'o1' already exists");
    let err = host.fails(&["antigravity", "create", "wormhole", "o1", "Bad_Name"], 22);
    assert_eq!(
        err,
        "invalid wormhole name 'Bad_Name': use lowercase letters, digits and '-'"
    );

    let list = host.request(
        &["antigravity", "list", "wormholes", "o1"],
        Some("json"),
        "",
    );
    assert_eq!(list.retval, 0, "{list:?}");
    let list: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(list, json!([{"name": "w1"}, {"name": "w2"}]));

    let detailed = host.ok(&["antigravity", "list", "wormholes", "o1", "--details"]);
    let detailed: serde_json::Value = serde_json::from_str(&detailed).unwrap();
    let rows = detailed.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["name"], "w1");
    assert_eq!(rows[0]["destination"], serde_json::Value::Null);
    assert_eq!(rows[1]["destination"], "andromeda");
    assert!(rows[1]["age"].is_u64(), "{detailed}");
}

#[test]
fn antigravity_dumps_an_object_raw_or_says_it_does_not_exist() {
    let host = Host::start(&[ANTIGRAVITY]);
    let blob = "{\"not\": \"reformatted\"}\n  indented\n";
    let put = host.request(&["antigravity", "put", "object", "cfg"], None, blob);
    assert_eq!(put.retval, 0, "{put:?}");
    // Raw: the bytes as stored, whatever the format asked for.
    assert_eq!(host.ok(&["antigravity", "dump", "config", "cfg"]), blob);
    let err = host.fails(&["antigravity", "dump", "config", "nope"], 2);
    assert_eq!(err, "Blob does not exist");
}

#[test]
fn responder_commands_answer_in_json_and_yaml() {
    let daemon = Daemon::start(&[ANTIGRAVITY]);
    daemon
        .run_with_stdin(
            &["antigravity", "put", "object", "o1", "-i", "-"],
            Some("abc"),
        )
        .ok();
    daemon
        .run_with_stdin(
            &["antigravity", "put", "object", "o2", "-i", "-"],
            Some("abcdef"),
        )
        .ok();

    let json = daemon
        .run(&["antigravity", "ls", "objects", "--format", "json"])
        .json();
    assert_eq!(
        json,
        json!([{"oid": "o1", "size": 3}, {"oid": "o2", "size": 6}])
    );

    let pretty = daemon.ok(&["antigravity", "ls", "objects", "--format", "json-pretty"]);
    assert!(pretty.contains("\n  {\n    \"oid\": \"o1\",\n"), "{pretty}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&pretty).unwrap(),
        json
    );

    let yaml = daemon.ok(&["antigravity", "ls", "objects", "--format", "yaml"]);
    assert_eq!(yaml, "- oid: o1\n  size: 3\n- oid: o2\n  size: 6\n");
}

#[test]
fn antigravity_refuses_objects_beyond_max_objects() {
    let host = Host::start(&[ANTIGRAVITY]);
    host.ok(&["config", "set", "mgr/antigravity/max_objects", "1"]);
    let first = host.request(&["antigravity", "put", "object", "o1"], None, "a");
    assert_eq!(first.retval, 0, "{first:?}");
    let second = host.request(&["antigravity", "put", "object", "o2"], None, "b");
    assert_eq!(second.retval, -28, "{second:?}");
    assert!(
        second
            .stderr
            .contains("config set mgr/antigravity/max_objects <n>"),
        "{second:?}"
    );
    // Replacing a held object is not a new one.
    let replace = host.request(&["antigravity", "put", "object", "o1"], None, "c");
    assert_eq!(replace.retval, 0, "{replace:?}");
}
