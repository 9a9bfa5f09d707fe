//! Random command sequences and steps never break the model: every PG maps to existing OSDs,
//! no up set holds an out (or down) OSD, epochs only grow, no usage is negative, and nothing
//! panics, whatever the commands (well-formed or not) and however they interleave with time.

use std::time::Duration;

use proptest::prelude::*;
use serde_json::{Value, json};
use wasmgr_sim::{DATA_NAMES, Settings, Sim, command_descriptions};

#[derive(Debug, Clone)]
enum Op {
    Step(u16),
    Command(String),
    ReadAll,
}

const POOLS: &[&str] = &[
    "foo",
    "bar",
    "rbd",
    "cephfs.cephfs.meta",
    "default.rgw.buckets.data",
    "",
];

fn arg_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "0", "1", "2", "3", "7", "16", "64", "100000", "-5", "abc", "all", "any", "osd.2", "osd.99",
            "size", "min_size", "pg_num", "pgp_num", "pg_autoscale_mode", "on", "off", "noout",
            "noup", "nodown", "noin", "pause", "norebalance", "nobackfill", "norecover", "noscrub",
            "rbd", "cephfs", "replicated", "erasure", "default", "detail", "global", "mon", "osd.1",
            "mon_allow_pool_delete", "true", "mon_osd_down_out_interval", "osd_pool_default_size",
        ])
        .prop_map(|s| json!(s)),
        2 => prop::sample::select(POOLS.to_vec()).prop_map(|s| json!(s)),
        2 => (-3i64..200).prop_map(|n| json!(n)),
        1 => any::<bool>().prop_map(|b| json!(b)),
        1 => prop::collection::vec(prop::sample::select(vec!["0", "1", "2", "osd.3", "any", "x"]), 0..3)
            .prop_map(|v| json!(v)),
        1 => Just(json!(null)),
        1 => Just(json!(1.5)),
        1 => Just(json!({"nested": [1]})),
    ]
}

fn command() -> impl Strategy<Value = String> {
    let mut prefixes: Vec<String> = command_descriptions().iter().map(|d| d.prefix()).collect();
    prefixes.extend(["osd frobnicate", "", "mgr module ls"].map(str::to_owned));
    let keys = vec![
        "pool",
        "pool2",
        "pg_num",
        "pgp_num",
        "pool_type",
        "size",
        "var",
        "val",
        "app",
        "key",
        "ids",
        "who",
        "name",
        "value",
        "detail",
        "dumpcontents",
        "format",
        "yes_i_really_really_mean_it",
        "yes_i_really_mean_it",
        "definitely_dead",
        "erasure_code_profile",
        "num",
        "channel",
        "logtext",
        "force",
        "states",
        "epoch",
        "filter_by",
        "filter",
    ];
    (
        prop::sample::select(prefixes),
        prop::collection::vec((prop::sample::select(keys), arg_value()), 0..7),
        0u8..10,
    )
        .prop_map(|(prefix, args, garbage)| {
            if garbage == 0 {
                return "{\"prefix\": \"osd set\", \"key\": ".to_owned();
            }
            if garbage == 1 {
                return "[\"osd\", \"set\"]".to_owned();
            }
            let mut m = serde_json::Map::new();
            m.insert("prefix".into(), json!(prefix));
            for (k, v) in args {
                m.insert(k.to_owned(), v);
            }
            if m.get("pool").is_some() && garbage > 7 {
                // Sometimes confirm a removal properly.
                let pool = m["pool"].clone();
                m.insert("pool2".into(), pool);
                m.insert("yes_i_really_really_mean_it".into(), json!(true));
            }
            Value::Object(m).to_string()
        })
}

/// Commands that are well formed, so that sequences of them change the maps.
fn valid_command() -> impl Strategy<Value = String> {
    let pool = prop::sample::select(POOLS[..5].to_vec());
    let id = 0u32..20;
    let flag = prop::sample::select(vec![
        "noout",
        "noup",
        "nodown",
        "noin",
        "norebalance",
        "nobackfill",
        "norecover",
        "pause",
        "noscrub",
    ]);
    prop_oneof![
        (pool.clone(), 0u32..8, any::<bool>()).prop_map(|(p, e, ec)| json!({
            "prefix": "osd pool create", "pool": p, "pg_num": 1u32 << e,
            "pool_type": if ec { "erasure" } else { "replicated" }
        }).to_string()),
        pool.clone().prop_map(|p| json!({"prefix": "osd pool rm", "pool": p, "pool2": p, "yes_i_really_really_mean_it": true}).to_string()),
        (pool.clone(), prop::sample::select(vec!["size", "min_size", "pg_num"]), 0u32..70).prop_map(|(p, var, v)| json!({
            "prefix": "osd pool set", "pool": p, "var": var, "val": v.to_string()
        }).to_string()),
        pool.prop_map(|p| json!({"prefix": "osd pool application enable", "pool": p, "app": "rbd"}).to_string()),
        (prop::sample::select(vec!["osd out", "osd in", "osd down"]), id).prop_map(|(c, i)| json!({"prefix": c, "ids": [i.to_string()]}).to_string()),
        (any::<bool>(), flag).prop_map(|(set, f)| json!({"prefix": if set { "osd set" } else { "osd unset" }, "key": f}).to_string()),
        Just(json!({"prefix": "config set", "who": "mon", "name": "mon_allow_pool_delete", "value": "true"}).to_string()),
        Just(json!({"prefix": "config set", "who": "mon", "name": "mon_osd_down_out_interval", "value": "30"}).to_string()),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (1u16..400).prop_map(Op::Step),
        3 => command().prop_map(Op::Command),
        4 => valid_command().prop_map(Op::Command),
        1 => Just(Op::ReadAll),
    ]
}

/// Every number in a document is finite and not negative (the documents hold counts, sizes,
/// ratios and stamps), except the ids that Ceph writes as -1.
fn no_negative(path: &str, v: &Value, errs: &mut Vec<String>) {
    match v {
        Value::Number(n) => {
            let ok = n.as_f64().is_some_and(|x| x.is_finite() && x >= 0.0);
            let id_like =
                path.ends_with("_primary") || path.ends_with("tier") || path.ends_with("tier_of");
            if !ok && !id_like {
                errs.push(format!("{path} = {n}"));
            }
        }
        Value::Array(a) => a.iter().for_each(|x| no_negative(path, x, errs)),
        Value::Object(o) => o
            .iter()
            .for_each(|(k, x)| no_negative(&format!("{path}.{k}"), x, errs)),
        _ => {}
    }
}

fn check(sim: &Sim, last: &mut [u64; 6]) -> Result<(), TestCaseError> {
    let broken = sim.check_invariants();
    prop_assert!(broken.is_empty(), "{broken:?}");
    let epochs = sim.epochs();
    for (i, (a, b)) in last.iter().zip(epochs.iter()).enumerate() {
        prop_assert!(b >= a, "epoch {i} went back from {a} to {b}");
    }
    *last = epochs;

    let osd_map: Value = serde_json::from_str(&sim.get("osd_map").unwrap()).unwrap();
    let osds = osd_map["osds"].as_array().unwrap();
    let is_in = |id: i64| osds.iter().any(|o| o["osd"] == id && o["in"] == 1);
    let pg_stats: Value = serde_json::from_str(&sim.get("pg_stats").unwrap()).unwrap();
    for pg in pg_stats["pg_stats"].as_array().unwrap() {
        for set in ["up", "acting"] {
            for id in pg[set].as_array().unwrap() {
                let id = id.as_i64().unwrap();
                prop_assert!(
                    id == 2_147_483_647 || (0..osds.len() as i64).contains(&id),
                    "{pg}"
                );
                if set == "up" && id != 2_147_483_647 {
                    prop_assert!(is_in(id), "pg {} is up on out osd.{id}", pg["pgid"]);
                }
            }
        }
    }
    let mut errs = Vec::new();
    for name in [
        "df",
        "osd_stats",
        "pg_summary",
        "io_rate",
        "pool_stats",
        "pg_status",
    ] {
        let doc: Value = serde_json::from_str(&sim.get(name).unwrap()).unwrap();
        no_negative(name, &doc, &mut errs);
    }
    prop_assert!(errs.is_empty(), "{errs:?}");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 24,
        max_shrink_iters: 200,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_commands_and_steps_keep_the_invariants(
        osds in prop::sample::select(vec![1u32, 4, 17]),
        seed in any::<u64>(),
        ops in prop::collection::vec(op(), 1..32),
    ) {
        let sim = Sim::new(Settings::parse(&format!("osds={osds},seed={seed},failures=60")).unwrap());
        let mut last = sim.epochs();
        for op in ops {
            match op {
                Op::Step(secs) => {
                    sim.step(Duration::from_secs(u64::from(secs)));
                }
                Op::Command(cmd) => {
                    let reply = sim.handle_command(&cmd, b"");
                    prop_assert!(reply.retval <= 0);
                    if reply.retval < 0 {
                        prop_assert!(!reply.stderr.is_empty(), "an error says why: {cmd}");
                    }
                }
                Op::ReadAll => {
                    for name in DATA_NAMES {
                        let text = sim.get(name).unwrap();
                        prop_assert!(serde_json::from_str::<Value>(&text).is_ok(), "{name}");
                    }
                    sim.status(false);
                    sim.list_servers();
                    sim.get_all_perf_counters();
                }
            }
            check(&sim, &mut last)?;
        }
    }
}
