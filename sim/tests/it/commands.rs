//! The cluster's own commands: their descriptions, the checking of command maps with the
//! mon's wording, their effects on the maps, and their output, plain and JSON.

use expect_test::expect;
use serde_json::Value;
use wasmgr_sim::{ArgType, CommandReply, NotifyKind, Settings, Sim, command_descriptions};

fn sim(config: &str) -> Sim {
    Sim::new(Settings::parse(config).unwrap())
}

fn run(sim: &Sim, cmd: &str) -> CommandReply {
    sim.handle_command(cmd, b"")
}

fn ok(sim: &Sim, cmd: &str) -> CommandReply {
    let r = run(sim, cmd);
    assert_eq!(r.retval, 0, "{cmd}: {r:?}");
    r
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn codes(sim: &Sim) -> Vec<String> {
    sim.health_checks().into_iter().map(|c| c.code).collect()
}

#[test]
fn every_command_has_a_parseable_signature() {
    let descs = command_descriptions();
    let mut prefixes: Vec<String> = descs.iter().map(|d| d.prefix()).collect();
    for needed in [
        "osd pool ls",
        "osd pool create",
        "osd pool rm",
        "osd pool get",
        "osd pool set",
        "osd pool application enable",
        "osd set",
        "osd unset",
        "osd out",
        "osd in",
        "osd down",
        "osd df",
        "osd tree",
        "osd dump",
        "pg stat",
        "pg dump",
        "df",
        "health",
        "status",
        "mon dump",
        "config set",
        "config get",
        "config rm",
        "config dump",
        "log last",
    ] {
        assert!(prefixes.contains(&needed.to_owned()), "{needed}");
    }
    for d in descs {
        assert!(d.perm == "r" || d.perm == "rw", "{}", d.signature);
        assert!(!d.help.is_empty());
        let tokens = d
            .signature
            .split_whitespace()
            .filter(|w| w.contains('='))
            .count();
        assert_eq!(
            d.args().len(),
            tokens,
            "every argument of `{}` parses",
            d.signature
        );
    }
    let create = descs
        .iter()
        .find(|d| d.prefix() == "osd pool create")
        .unwrap()
        .args();
    assert_eq!(
        (create[0].name.as_str(), create[0].ty, create[0].required),
        ("pool", ArgType::PoolName, true)
    );
    assert_eq!(
        (create[1].ty, create[1].required, create[1].range.0),
        (ArgType::Int, false, Some(0.0))
    );
    assert_eq!(create[3].strings, ["replicated", "erasure"]);
    let ids = descs
        .iter()
        .find(|d| d.prefix() == "osd out")
        .unwrap()
        .args();
    assert!(ids[0].many);
    prefixes.sort();
    let n = prefixes.len();
    prefixes.dedup();
    assert_eq!(prefixes.len(), n, "prefixes are unique");
}

#[test]
fn malformed_commands_get_the_mons_answers() {
    let s = sim("osds=3");
    let cases = [
        (r#"{"prefix": "osd frobnicate"}"#, "command not known"),
        (r#"{"prefix": "osd"}"#, "command not known"),
        (r#"{"pool": "x"}"#, "command prefix not found"),
        (r#"{"prefix": "  "}"#, "command prefix must not be empty"),
        (r#"{"prefix": 7}"#, "command prefix not found"),
        (
            r#"{"prefix": "osd pool create", "pool": 5}"#,
            "bad or missing field 'pool'",
        ),
        (
            r#"{"prefix": "osd pool create"}"#,
            "bad or missing field 'pool'",
        ),
        (
            r#"{"prefix": "osd pool create", "pool": "p", "pg_num": "8"}"#,
            "bad or missing field 'pg_num'",
        ),
        (
            r#"{"prefix": "osd pool create", "pool": "p", "pg_num": 1.5}"#,
            "bad or missing field 'pg_num'",
        ),
        (
            r#"{"prefix": "osd out", "ids": 3}"#,
            "bad or missing field 'ids'",
        ),
        (
            r#"{"prefix": "osd out", "ids": []}"#,
            "bad or missing field 'ids'",
        ),
        (
            r#"{"prefix": "osd pool rm", "pool": "p", "yes_i_really_really_mean_it": "yes"}"#,
            "bad or missing field 'yes_i_really_really_mean_it'",
        ),
    ];
    for (cmd, msg) in cases {
        let r = run(&s, cmd);
        assert_eq!((r.retval, r.stderr.as_str()), (-22, msg), "{cmd}");
        assert!(r.events.is_empty(), "a refused command changes nothing");
    }
    let r = run(&s, "{\"prefix\": ");
    assert_eq!(r.retval, -22);
    assert!(r.stderr.starts_with("unparseable JSON"), "{}", r.stderr);
    let r = run(&s, r#"["osd", "set"]"#);
    assert!(r.stderr.starts_with("not JSON object"), "{}", r.stderr);
    let r = run(&s, r#"{"prefix": "osd set", "key": "nosuchflag"}"#);
    assert_eq!(r.retval, -22);
    assert!(
        r.stderr
            .starts_with("bad or missing field 'key': 'nosuchflag' is not one of full|pause|noup"),
        "{}",
        r.stderr
    );
    let r = run(
        &s,
        r#"{"prefix": "osd pool create", "pool": "p", "pg_num": -1}"#,
    );
    assert_eq!(r.retval, -22);
    assert!(r.stderr.contains("below the minimum 0"), "{}", r.stderr);
    let r = run(
        &s,
        r#"{"prefix": "osd pool application enable", "pool": "rbd", "app": "a b"}"#,
    );
    assert_eq!(r.retval, -22);
}

#[test]
fn a_pool_lives_and_dies_through_commands() {
    let s = sim("osds=12,seed=4,failures=0");
    let r = ok(
        &s,
        r#"{"prefix": "osd pool create", "pool": "foo", "pg_num": 16}"#,
    );
    assert_eq!(r.stderr, "pool 'foo' created");
    let kinds: Vec<NotifyKind> = r.events.iter().map(|e| e.kind).collect();
    assert!(
        kinds.contains(&NotifyKind::OsdMap) && kinds.contains(&NotifyKind::Clog),
        "{kinds:?}"
    );
    let audit: Vec<String> = r
        .events
        .iter()
        .filter(|e| e.kind == NotifyKind::Clog)
        .map(|e| json(&e.id)["message"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        audit
            .iter()
            .any(|m| m.contains("osd pool create") && m.ends_with(": finished")),
        "{audit:?}"
    );
    let osd_map = json(&s.get("osd_map").unwrap());
    let foo = osd_map["pools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pool_name"] == "foo")
        .unwrap();
    assert_eq!(
        (foo["pg_num"].as_u64(), foo["size"].as_u64()),
        (Some(16), Some(3))
    );
    let stats = json(&s.get("osd_pool_stats").unwrap());
    assert!(
        stats["pool_stats"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["pool_name"] == "foo")
    );
    assert_eq!(
        ok(&s, r#"{"prefix": "osd pool create", "pool": "foo"}"#).stderr,
        "pool 'foo' already exists"
    );
    assert!(
        ok(&s, r#"{"prefix": "osd pool ls"}"#)
            .stdout
            .lines()
            .any(|l| l == "foo")
    );
    let ls = json(
        &ok(
            &s,
            r#"{"prefix": "osd pool ls", "detail": "detail", "format": "json"}"#,
        )
        .stdout,
    );
    assert_eq!(
        ls.as_array().unwrap().len(),
        osd_map["pools"].as_array().unwrap().len()
    );

    // A pool without an application is a warning until one is enabled.
    assert!(codes(&s).contains(&"POOL_APP_NOT_ENABLED".to_owned()));
    let r = ok(
        &s,
        r#"{"prefix": "osd pool application enable", "pool": "foo", "app": "rbd"}"#,
    );
    assert_eq!(r.stderr, "enabled application 'rbd' on pool 'foo'");
    assert!(!codes(&s).contains(&"POOL_APP_NOT_ENABLED".to_owned()));
    let r = run(
        &s,
        r#"{"prefix": "osd pool application enable", "pool": "foo", "app": "rgw"}"#,
    );
    assert_eq!(r.retval, -1);
    assert!(r.stderr.starts_with("Are you SURE?"));

    assert_eq!(
        ok(
            &s,
            r#"{"prefix": "osd pool get", "pool": "foo", "var": "size"}"#
        )
        .stdout,
        "size: 3\n"
    );
    let got = json(
        &ok(
            &s,
            r#"{"prefix": "osd pool get", "pool": "foo", "var": "pg_num", "format": "json"}"#,
        )
        .stdout,
    );
    assert_eq!(got["pg_num"], 16);
    assert_eq!(got["pool"], "foo");
    let r = ok(
        &s,
        r#"{"prefix": "osd pool set", "pool": "foo", "var": "pg_num", "val": "32"}"#,
    );
    assert!(
        r.stderr.starts_with("set pool ") && r.stderr.ends_with(" pg_num to 32"),
        "{}",
        r.stderr
    );
    assert_eq!(
        ok(
            &s,
            r#"{"prefix": "osd pool get", "pool": "foo", "var": "pg_num"}"#
        )
        .stdout,
        "pg_num: 32\n"
    );
    ok(
        &s,
        r#"{"prefix": "osd pool set", "pool": "foo", "var": "size", "val": "2"}"#,
    );
    assert_eq!(
        ok(
            &s,
            r#"{"prefix": "osd pool get", "pool": "foo", "var": "min_size"}"#
        )
        .stdout,
        "min_size: 1\n"
    );
    let r = run(
        &s,
        r#"{"prefix": "osd pool set", "pool": "foo", "var": "size", "val": "11"}"#,
    );
    assert_eq!(
        (r.retval, r.stderr.as_str()),
        (-22, "pool size must be between 1 and 10")
    );
    let r = run(
        &s,
        r#"{"prefix": "osd pool set", "pool": "foo", "var": "size", "val": "two"}"#,
    );
    assert!(
        r.stderr.starts_with("error parsing integer value 'two'"),
        "{}",
        r.stderr
    );
    let r = run(
        &s,
        r#"{"prefix": "osd pool set", "pool": "foo", "var": "pg_num", "val": "60000"}"#,
    );
    assert_eq!(r.retval, -34);
    assert!(
        r.stderr.contains("which exceeds max") && r.stderr.contains("mon_max_pg_per_osd 250"),
        "{}",
        r.stderr
    );
    let r = run(
        &s,
        r#"{"prefix": "osd pool set", "pool": "nope", "var": "size", "val": "2"}"#,
    );
    assert_eq!(
        (r.retval, r.stderr.as_str()),
        (-2, "unrecognized pool 'nope'")
    );
    s.step(std::time::Duration::from_secs(30));
    assert!(s.check_invariants().is_empty());

    // Removal needs the name twice, the flag, and the mons' permission.
    let r = run(&s, r#"{"prefix": "osd pool rm", "pool": "foo"}"#);
    assert_eq!(r.retval, -1);
    assert!(
        r.stderr
            .starts_with("WARNING: this will *PERMANENTLY DESTROY* all data stored in pool foo.")
    );
    let rm = r#"{"prefix": "osd pool rm", "pool": "foo", "pool2": "foo", "yes_i_really_really_mean_it": true}"#;
    let r = run(&s, rm);
    assert_eq!(r.retval, -1);
    assert!(
        r.stderr.starts_with("pool deletion is disabled"),
        "{}",
        r.stderr
    );
    ok(
        &s,
        r#"{"prefix": "config set", "who": "mon", "name": "mon_allow_pool_delete", "value": "true"}"#,
    );
    assert_eq!(ok(&s, rm).stderr, "pool 'foo' removed");
    assert_eq!(ok(&s, rm).stderr, "pool 'foo' does not exist");
    let r = run(
        &s,
        r#"{"prefix": "osd pool rm", "pool": "cephfs.cephfs.meta", "pool2": "cephfs.cephfs.meta", "yes_i_really_really_mean_it": true}"#,
    );
    assert_eq!(r.retval, -16);
    let osd_map = json(&s.get("osd_map").unwrap());
    assert!(
        !osd_map["pools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["pool_name"] == "foo")
    );
}

#[test]
fn an_erasure_coded_pool_uses_its_profile() {
    let s = sim("osds=12,hosts=6,seed=4,failures=0");
    let r = ok(
        &s,
        r#"{"prefix": "osd pool create", "pool": "ec", "pg_num": 8, "pool_type": "erasure"}"#,
    );
    assert_eq!(r.stderr, "pool 'ec' created");
    let got = json(
        &ok(
            &s,
            r#"{"prefix": "osd pool get", "pool": "ec", "var": "all", "format": "json"}"#,
        )
        .stdout,
    );
    assert_eq!(
        (got["size"].as_u64(), got["min_size"].as_u64()),
        (Some(4), Some(3))
    );
    assert_eq!(got["erasure_code_profile"], "default");
    let r = run(
        &s,
        r#"{"prefix": "osd pool set", "pool": "ec", "var": "size", "val": "5"}"#,
    );
    assert_eq!(
        (r.retval, r.stderr.as_str()),
        (-95, "can not change the size of an erasure-coded pool")
    );
    let crush = json(&s.get("osd_map_crush").unwrap());
    assert!(
        crush["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["rule_name"] == "ec" && r["type"] == 3)
    );
    let r = run(
        &s,
        r#"{"prefix": "osd pool create", "pool": "ec2", "pool_type": "erasure", "erasure_code_profile": "nope"}"#,
    );
    assert_eq!(r.retval, -2);
}

#[test]
fn flags_are_set_and_unset() {
    let s = sim("osds=3,failures=0");
    let r = ok(&s, r#"{"prefix": "osd set", "key": "noout"}"#);
    assert_eq!(r.stderr, "noout is set");
    ok(&s, r#"{"prefix": "osd set", "key": "norebalance"}"#);
    let check = s
        .health_checks()
        .into_iter()
        .find(|c| c.code == "OSDMAP_FLAGS")
        .unwrap();
    assert_eq!(check.summary, "noout,norebalance flag(s) set");
    let osd_map = json(&s.get("osd_map").unwrap());
    assert!(
        osd_map["flags_set"]
            .as_array()
            .unwrap()
            .contains(&Value::from("noout"))
    );
    assert!(osd_map["flags"].as_str().unwrap().contains("noout"));
    assert_eq!(
        ok(&s, r#"{"prefix": "osd unset", "key": "noout"}"#).stderr,
        "noout is unset"
    );
    ok(&s, r#"{"prefix": "osd unset", "key": "norebalance"}"#);
    assert!(!codes(&s).contains(&"OSDMAP_FLAGS".to_owned()));
    let r = run(&s, r#"{"prefix": "osd unset", "key": "pglog_hardlimit"}"#);
    assert_eq!(r.retval, -22, "not a flag `osd unset` takes");
}

#[test]
fn osd_ids_are_parsed_like_the_mons_do() {
    let s = sim("osds=3,failures=0");
    let r = ok(&s, r#"{"prefix": "osd out", "ids": ["osd.1", "7"]}"#);
    assert_eq!(r.stderr, "marked out osd.1. osd.7 does not exist. ");
    assert_eq!(
        ok(&s, r#"{"prefix": "osd out", "ids": ["1"]}"#).stderr,
        "osd.1 is already out. "
    );
    assert_eq!(
        ok(&s, r#"{"prefix": "osd in", "ids": ["all"]}"#).stderr,
        "osd.0 is already in. marked in osd.1. osd.2 is already in. "
    );
    let r = run(&s, r#"{"prefix": "osd in", "ids": ["one"]}"#);
    assert_eq!((r.retval, r.stderr.as_str()), (-22, "invalid osd id 'one'"));
}

#[test]
fn config_is_set_read_and_removed() {
    let s = sim("osds=3");
    ok(
        &s,
        r#"{"prefix": "config set", "who": "osd.1", "name": "osd_max_backfills", "value": "2"}"#,
    );
    ok(
        &s,
        r#"{"prefix": "config set", "who": "mgr", "name": "mgr/hello/place", "value": "Mars"}"#,
    );
    let get = |who: &str, key: &str| {
        ok(
            &s,
            &format!(r#"{{"prefix": "config get", "who": "{who}", "key": "{key}"}}"#),
        )
        .stdout
    };
    assert_eq!(get("osd.1", "osd_max_backfills"), "2\n");
    assert_eq!(get("osd.2", "osd_max_backfills"), "1\n");
    assert_eq!(get("mgr", "mgr/hello/place"), "Mars\n");
    let dump = json(&ok(&s, r#"{"prefix": "config dump", "format": "json"}"#).stdout);
    assert_eq!(dump.as_array().unwrap().len(), 2);
    assert!(
        ok(&s, r#"{"prefix": "config dump"}"#)
            .stdout
            .starts_with("WHO ")
    );
    let r = run(
        &s,
        r#"{"prefix": "config set", "who": "osd", "name": "no_such_option", "value": "1"}"#,
    );
    assert_eq!(
        (r.retval, r.stderr.as_str()),
        (-22, "unrecognized config option 'no_such_option'")
    );
    let r = run(
        &s,
        r#"{"prefix": "config set", "who": "bogus", "name": "osd_max_backfills", "value": "1"}"#,
    );
    assert_eq!(
        (r.retval, r.stderr.as_str()),
        (-22, "unrecognized config target 'bogus'")
    );
    // A global option reaches the mgr's own config.
    ok(
        &s,
        r#"{"prefix": "config set", "who": "global", "name": "mon_max_pg_per_osd", "value": "400"}"#,
    );
    let config = json(&s.get("config").unwrap());
    assert_eq!(config["mon_max_pg_per_osd"], "400");
    let modified = json(&s.get("modified_config_options").unwrap());
    assert!(
        modified["options"]
            .as_array()
            .unwrap()
            .contains(&Value::from("mon_max_pg_per_osd"))
    );
    ok(
        &s,
        r#"{"prefix": "config rm", "who": "osd.1", "name": "osd_max_backfills"}"#,
    );
    assert_eq!(get("osd.1", "osd_max_backfills"), "1\n");
}

#[test]
fn read_commands_answer_plain_and_json() {
    let s = sim("osds=6,hosts=3,seed=8,failures=0");
    s.step(std::time::Duration::from_secs(10));
    for (cmd, first) in [
        (r#"{"prefix": "osd tree"}"#, "ID  CLASS  WEIGHT"),
        (r#"{"prefix": "osd df"}"#, "ID  CLASS  WEIGHT   REWEIGHT"),
        (r#"{"prefix": "df"}"#, "--- RAW STORAGE ---"),
        (r#"{"prefix": "status"}"#, "  cluster:"),
        (r#"{"prefix": "health"}"#, "HEALTH_OK"),
        (r#"{"prefix": "mon dump"}"#, "epoch 1"),
        (r#"{"prefix": "osd dump"}"#, "epoch "),
        (
            r#"{"prefix": "pg dump", "dumpcontents": ["pgs_brief"]}"#,
            "version ",
        ),
        (r#"{"prefix": "osd stat"}"#, "6 osds: 6 up (since "),
    ] {
        let out = ok(&s, cmd).stdout;
        assert!(out.starts_with(first), "{cmd}:\n{out}");
    }
    assert!(ok(&s, r#"{"prefix": "pg stat"}"#).stdout.contains(" pgs: "));
    assert!(
        ok(&s, r#"{"prefix": "osd df"}"#)
            .stdout
            .contains("MIN/MAX VAR: ")
    );
    for cmd in [
        r#"{"prefix": "osd tree", "format": "json"}"#,
        r#"{"prefix": "osd df", "format": "json-pretty"}"#,
        r#"{"prefix": "osd dump", "format": "json"}"#,
        r#"{"prefix": "df", "format": "json"}"#,
        r#"{"prefix": "pg stat", "format": "json"}"#,
        r#"{"prefix": "pg dump", "format": "json"}"#,
        r#"{"prefix": "pg dump", "dumpcontents": ["pgs_brief"], "format": "json"}"#,
        r#"{"prefix": "health", "detail": "detail", "format": "json"}"#,
        r#"{"prefix": "status", "format": "json"}"#,
        r#"{"prefix": "mon dump", "format": "json"}"#,
        r#"{"prefix": "log last", "num": 5, "format": "json"}"#,
    ] {
        json(&ok(&s, cmd).stdout);
    }
    let dump = json(&ok(&s, r#"{"prefix": "pg dump", "format": "json"}"#).stdout);
    assert_eq!(
        dump["pg_map"]["version"],
        json(&s.get("pg_dump").unwrap())["version"]
    );
    let mon = ok(&s, r#"{"prefix": "mon dump"}"#);
    assert_eq!(mon.stderr, "dumped monmap epoch 1");
    let status = json(&s.status(true));
    assert_eq!(status["osdmap"]["num_osds"], 6);
    assert_eq!(status["monmap"]["num_mons"], 3);
    let log = ok(
        &s,
        r#"{"prefix": "log last", "num": 3, "channel": "*", "level": "debug"}"#,
    )
    .stdout;
    assert_eq!(log.lines().count(), 3);
}

#[test]
fn plain_output_looks_like_cephs() {
    let s = sim("osds=3,seed=1,failures=0");
    expect![[r#"
        ID  CLASS  WEIGHT    TYPE NAME           STATUS  REWEIGHT  PRI-AFF
        -1         10.91606  root default
        -3         10.91606      host host-0000
         0    hdd   3.63869          osd.0           up   1.00000  1.00000
         1    hdd   3.63869          osd.1           up   1.00000  1.00000
         2    hdd   3.63869          osd.2           up   1.00000  1.00000
    "#]]
    .assert_eq(&ok(&s, r#"{"prefix": "osd tree"}"#).stdout);
    ok(&s, r#"{"prefix": "osd set", "key": "noup"}"#);
    ok(&s, r#"{"prefix": "osd down", "ids": ["1"]}"#);
    expect![[r#"
        HEALTH_WARN noup flag(s) set; 1 osds down; Reduced data availability: 101 pgs inactive, 101 pgs peering
        [WRN] OSDMAP_FLAGS: noup flag(s) set
        [WRN] OSD_DOWN: 1 osds down
            osd.1 (root=default,host=host-0000) is down
    "#]]
    .assert_eq(&ok(&s, r#"{"prefix": "health", "detail": "detail"}"#).stdout.lines().take(4).map(|l| format!("{l}\n")).collect::<String>());
    expect![[r#"
        epoch 1
        fsid 132af32d-40ce-47ea-8506-ff68fdbaf2f4
        last_changed 2026-11-21T22:03:54.912597+0000
        created 2026-11-21T22:03:54.912597+0000
        min_mon_release 16 (pacific)
        election_strategy: 1
        0: [v2:10.0.0.1:3300/0,v1:10.0.0.1:6789/0] mon.a
    "#]]
    .assert_eq(&ok(&s, r#"{"prefix": "mon dump"}"#).stdout);
}

#[test]
fn what_commands_may_create_is_bounded() {
    let s = sim("osds=6,seed=2");
    // Config entries: sizes and count.
    let long = "v".repeat(5000);
    let r = run(
        &s,
        &format!(
            r#"{{"prefix":"config set","who":"mon","name":"junk","value":"{long}","force":true}}"#
        ),
    );
    assert_eq!(r.retval, -22, "{r:?}");
    assert!(r.stderr.contains("values at most 4096"), "{r:?}");
    // Pool names and PGs, however high mon_max_pg_per_osd is set.
    let name = "p".repeat(300);
    let r = run(
        &s,
        &format!(r#"{{"prefix":"osd pool create","pool":"{name}","pg_num":1}}"#),
    );
    assert_eq!(r.retval, -22, "{r:?}");
    ok(
        &s,
        r#"{"prefix":"config set","who":"mon","name":"mon_max_pg_per_osd","value":"1000000000"}"#,
    );
    let r = run(
        &s,
        r#"{"prefix":"osd pool create","pool":"big","pg_num":65536}"#,
    );
    assert_eq!(r.retval, -34, "{r:?}");
    // Log text is cut.
    let text = "t".repeat(10_000);
    ok(&s, &format!(r#"{{"prefix":"log","logtext":["{text}"]}}"#));
    let last = s.log_last(1, wasmgr_sim::Priority::Inf, "cluster");
    assert!(last[0].message.len() <= 4096, "{}", last[0].message.len());
}
