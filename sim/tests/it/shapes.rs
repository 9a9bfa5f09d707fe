//! The simulator answers every read in the shapes a real pacific ceph-mgr gives: the same
//! keys and value types, recursively, as the captured cluster in `tests/fixtures/` (copied from
//! `shared/fixtures/ceph-pacific-1node`), at 1, 100 and 10,000 OSDs.
//!
//! Shapes are compared, not values. Lists are compared by their elements' shapes (every
//! element of the simulator's list must have the shape of some element of the captured one;
//! an empty captured list says nothing). Maps must have exactly the captured keys, except:
//! - maps Ceph keys by ids or names (`osd_metadata` by OSD id, `pg_summary.by_osd`, health
//!   `checks` by code, …), listed per document as *keyed*: every entry must have the shape of
//!   some captured entry;
//! - keys Ceph adds only when they are not zero or empty, listed per document as
//!   *conditional* with the Ceph source that adds them.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use wasmgr_sim::{DATA_NAMES, Settings, Sim, UNDOCUMENTED_DATA_NAMES};

/// The shape of a JSON value. Lists keep one copy of each distinct element shape, so that
/// the shape of a 500 MB `pg_dump` fits in a few kilobytes.
#[derive(Debug, Clone, PartialEq)]
enum Shape {
    Null,
    Bool,
    Int,
    Float,
    Str,
    Arr(Vec<Shape>),
    Obj(BTreeMap<String, Shape>),
}

impl<'de> Deserialize<'de> for Shape {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ShapeVisitor)
    }
}

struct ShapeVisitor;

impl<'de> Visitor<'de> for ShapeVisitor {
    type Value = Shape;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Shape, E> {
        Ok(Shape::Bool)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Shape, E> {
        Ok(Shape::Int)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Shape, E> {
        Ok(Shape::Int)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Shape, E> {
        Ok(Shape::Float)
    }
    fn visit_str<E>(self, _: &str) -> Result<Shape, E> {
        Ok(Shape::Str)
    }
    fn visit_unit<E>(self) -> Result<Shape, E> {
        Ok(Shape::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
        let mut elems: Vec<Shape> = Vec::new();
        while let Some(s) = seq.next_element::<Shape>()? {
            if !elems.contains(&s) {
                elems.push(s);
            }
        }
        Ok(Shape::Arr(elems))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
        let mut m = BTreeMap::new();
        while let Some((k, v)) = map.next_entry::<String, Shape>()? {
            m.insert(k, v);
        }
        Ok(Shape::Obj(m))
    }
}

fn shape(text: &str) -> Shape {
    serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", &text[..text.len().min(300)]))
}

/// Keys pacific's `PGMapDigest::print_summary` adds to a PG summary only when they are not
/// zero (`overall_recovery_summary`, `overall_recovery_rate_summary`,
/// `overall_client_io_rate_summary`); the captured cluster was idle and clean.
const PG_RATE_KEYS: &[&str] = &[
    "degraded_objects",
    "degraded_total",
    "degraded_ratio",
    "misplaced_objects",
    "misplaced_total",
    "misplaced_ratio",
    "recovering_objects_per_sec",
    "recovering_bytes_per_sec",
    "recovering_keys_per_sec",
    "num_objects_recovered",
    "num_bytes_recovered",
    "num_keys_recovered",
    "read_bytes_sec",
    "write_bytes_sec",
    "read_op_per_sec",
    "write_op_per_sec",
];

/// Keys `FSMap::print_summary` adds per file system; the captured cluster had none.
const FSMAP_FS_KEYS: &[&str] = &["id", "up", "in", "max"];

#[derive(Default)]
struct Rules {
    keyed: Vec<&'static str>,
    conditional: Vec<(&'static str, &'static [&'static str])>,
    /// Lists whose elements differ by kind (CRUSH rule steps): an element may use any key
    /// some captured element has, with its type.
    union: Vec<&'static str>,
}

fn rules(doc: &str) -> Rules {
    let mut r = Rules::default();
    match doc {
        "osd_map" => {
            r.keyed = vec![
                "blocklist",
                "erasure_code_profiles",
                "erasure_code_profiles.*",
                "pools[].application_metadata",
                "pools[].application_metadata.*",
                "pools[].options",
                "crush_node_flags",
                "device_class_flags",
                "range_blocklist",
            ]
        }
        "osd_map_tree" => r.keyed = vec!["nodes[].pool_weights"],
        "osd_map_crush" => {
            r.keyed = vec!["choose_args"];
            r.union = vec!["rules[].steps"];
        }
        "config"
        | "osd_metadata"
        | "mds_metadata"
        | "get_all_perf_counters"
        | "get_daemon_health_metrics" => r.keyed = vec![""],
        "health" | "health_detail" => r.keyed = vec!["checks"],
        "mon_status" => r.keyed = vec!["feature_map"],
        "fs_map" => r.keyed = vec!["compat.compat", "compat.incompat", "compat.ro_compat"],
        "pg_summary" => r.keyed = vec!["all", "by_osd", "by_osd.*", "by_pool", "by_pool.*"],
        "df" => r.keyed = vec!["stats_by_class"],
        "mgr_map" => {
            r.keyed = vec![
                "services",
                "always_on_modules",
                "available_modules[].module_options",
            ]
        }
        "service_map" => r.keyed = vec!["services"],
        "pg_progress" => r.keyed = vec!["pgs"],
        "osd_pool_stats" => {
            r.keyed = vec![
                "pool_stats[].client_io_rate",
                "pool_stats[].recovery",
                "pool_stats[].recovery_rate",
            ]
        }
        "pg_status" => r.conditional = vec![("", PG_RATE_KEYS)],
        "status" => {
            r.keyed = vec![
                "health.checks",
                "servicemap.services",
                "mgrmap.services",
                "progress_events",
            ];
            r.conditional = vec![("pgmap", PG_RATE_KEYS), ("fsmap", FSMAP_FS_KEYS)];
        }
        _ => {}
    }
    r
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn kind(s: &Shape) -> &'static str {
    match s {
        Shape::Null => "null",
        Shape::Bool => "bool",
        Shape::Int => "int",
        Shape::Float => "float",
        Shape::Str => "string",
        Shape::Arr(_) => "list",
        Shape::Obj(_) => "map",
    }
}

fn compare(path: &str, fx: &Shape, sim: &Shape, r: &Rules, errs: &mut Vec<String>) {
    match (fx, sim) {
        (Shape::Obj(f), Shape::Obj(s)) => {
            if r.keyed.contains(&path) {
                if f.is_empty() {
                    return;
                }
                let child = join(path, "*");
                for (k, sv) in s {
                    if !f.values().any(|fv| matches(&child, fv, sv, r)) {
                        let mut first = Vec::new();
                        if let Some(fv) = f.values().next() {
                            compare(&child, fv, sv, r, &mut first);
                        }
                        errs.push(format!(
                            "{path}: entry `{k}` matches no captured entry: {}",
                            first.join("; ")
                        ));
                    }
                }
                return;
            }
            for k in f.keys() {
                if !s.contains_key(k) {
                    errs.push(format!("{path}: missing key `{k}`"));
                }
            }
            let allowed: &[&str] = r
                .conditional
                .iter()
                .find(|(p, _)| *p == path)
                .map_or(&[], |(_, keys)| keys);
            for (k, sv) in s {
                match f.get(k) {
                    Some(fv) => compare(&join(path, k), fv, sv, r, errs),
                    None if allowed.contains(&k.as_str()) => {}
                    None => errs.push(format!("{path}: extra key `{k}`")),
                }
            }
        }
        (Shape::Arr(f), Shape::Arr(s)) => {
            if f.is_empty() {
                return;
            }
            let child = format!("{path}[]");
            for se in s {
                if f.iter().any(|fe| matches(&child, fe, se, r)) {
                    continue;
                }
                if r.union.contains(&path) && union_matches(f, se) {
                    continue;
                }
                let mut first = Vec::new();
                if let Some(fe) = f.first() {
                    compare(&child, fe, se, r, &mut first);
                }
                errs.push(format!(
                    "{child}: element matches no captured element: {}",
                    first.join("; ")
                ));
            }
        }
        (f, s) if kind(f) == kind(s) => {}
        (f, s) => errs.push(format!(
            "{path}: {} captured, {} simulated",
            kind(f),
            kind(s)
        )),
    }
}

fn matches(path: &str, fx: &Shape, sim: &Shape, r: &Rules) -> bool {
    let mut e = Vec::new();
    compare(path, fx, sim, r, &mut e);
    e.is_empty()
}

fn union_matches(fx: &[Shape], sim: &Shape) -> bool {
    let Shape::Obj(s) = sim else {
        return false;
    };
    s.iter().all(|(k, sv)| {
        fx.iter().any(
            |fe| matches!(fe, Shape::Obj(f) if f.get(k).is_some_and(|fv| kind(fv) == kind(sv))),
        )
    })
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(fixtures().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Compares one document; `double` for the `{"json": "<text>"}` documents, whose inner
/// text is compared too.
fn check(doc: &str, fixture: &str, sim: &str, errs: &mut Vec<String>) {
    let r = rules(doc);
    let mut local = Vec::new();
    if doc == "health" || doc == "mon_status" {
        let fx: serde_json::Value = serde_json::from_str(&fixture_text(fixture)).unwrap();
        let sv: serde_json::Value = serde_json::from_str(sim).unwrap();
        let keys =
            |v: &serde_json::Value| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>());
        assert_eq!(keys(&fx), keys(&sv), "{doc}");
        let inner = |v: &serde_json::Value| v["json"].as_str().map(shape).unwrap_or(Shape::Null);
        compare("", &inner(&fx), &inner(&sv), &r, &mut local);
    } else {
        compare(
            "",
            &shape(&fixture_text(fixture)),
            &shape(sim),
            &r,
            &mut local,
        );
    }
    errs.extend(local.into_iter().map(|e| format!("{doc} ({fixture}): {e}")));
}

fn check_everything(sim: &Sim, errs: &mut Vec<String>) {
    for name in DATA_NAMES.iter().chain(UNDOCUMENTED_DATA_NAMES) {
        let text = sim.get(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        let file = format!("get.{name}.json");
        if fixtures().join(&file).exists() {
            check(name, &file, &text, errs);
        } else {
            // Not captured (`config_options`): it must at least be a JSON document.
            shape(&text);
        }
    }
    check(
        "osd_map_crush_text",
        "get.osd_map_crush_text.json",
        &sim.get("osd_map_crush_text").unwrap(),
        errs,
    );
    check(
        "device",
        "get.device_no-such-device.json",
        &sim.get("device no-such-device").unwrap(),
        errs,
    );
    let host = {
        let servers: serde_json::Value = serde_json::from_str(&sim.list_servers()).unwrap();
        servers[0]["hostname"].as_str().unwrap().to_owned()
    };
    check(
        "list_servers",
        "list_servers.json",
        &sim.list_servers(),
        errs,
    );
    check(
        "get_server",
        "get_server.json",
        &sim.get_server(&host),
        errs,
    );
    check(
        "get_metadata",
        "get_metadata.osd.0.json",
        &sim.get_metadata("osd", "0").unwrap(),
        errs,
    );
    check(
        "get_metadata",
        "get_metadata.mon.a.json",
        &sim.get_metadata("mon", "a").unwrap(),
        errs,
    );
    check(
        "get_metadata",
        "get_metadata.mgr.self.json",
        &sim.get_metadata("mgr", &sim.mgr_id()).unwrap(),
        errs,
    );
    check(
        "get_daemon_status",
        "get_daemon_status.osd.0.json",
        &sim.get_daemon_status("osd", "0").unwrap(),
        errs,
    );
    check(
        "get_perf_schema",
        "get_perf_schema.osd.0.json",
        &sim.get_perf_schema("osd", "0"),
        errs,
    );
    check(
        "get_perf_schema",
        "get_perf_schema.osd.osd.0.json",
        &sim.get_perf_schema("osd", "osd.0"),
        errs,
    );
    for path in ["osd.op", "osd.op_r_latency"] {
        check(
            "get_counter",
            &format!("get_counter.osd.0.{path}.json"),
            &sim.get_counter("osd", "0", path),
            errs,
        );
    }
    check(
        "get_counter",
        "get_counter.osd.osd.0.osd.op.json",
        &sim.get_counter("osd", "osd.0", "osd.op"),
        errs,
    );
    check(
        "get_latest",
        "get_latest.osd.0.osd.op.json",
        &sim.get_latest("osd", "0", "osd.op"),
        errs,
    );
    check(
        "get_latest_avg",
        "get_latest_avg.osd.0.osd.op_r_latency.json",
        &sim.get_latest_avg("osd", "0", "osd.op_r_latency"),
        errs,
    );
    check(
        "get_latest_counter",
        "get_latest_counter.osd.0.osd.op.json",
        &sim.get_latest_counter("osd", "0", "osd.op"),
        errs,
    );
    check(
        "get_all_perf_counters",
        "get_all_perf_counters.json",
        &sim.get_all_perf_counters(),
        errs,
    );
    check(
        "get_daemon_health_metrics",
        "get_daemon_health_metrics.json",
        &sim.get_daemon_health_metrics(),
        errs,
    );
    check(
        "get_ceph_option",
        "get_ceph_option.mgr_tick_period.json",
        &sim.ceph_option("mgr_tick_period").unwrap(),
        errs,
    );
    check(
        "get_mgr_id",
        "get_mgr_id.json",
        &serde_json::to_string(&sim.mgr_id()).unwrap(),
        errs,
    );
    let (version, release) = sim.version();
    check(
        "version",
        "version.json",
        &serde_json::to_string(&version).unwrap(),
        errs,
    );
    check(
        "release_name",
        "release_name.json",
        &serde_json::to_string(&release).unwrap(),
        errs,
    );
    check(
        "have_mon_connection",
        "have_mon_connection.json",
        &sim.have_mon_connection().to_string(),
        errs,
    );
    check("status", "cli.status.json", &sim.status(true), errs);
    let health = sim.handle_command(
        r#"{"prefix": "health", "detail": "detail", "format": "json"}"#,
        b"",
    );
    assert_eq!(health.retval, 0);
    check(
        "health_detail",
        "cli.health_detail.json",
        &health.stdout,
        errs,
    );
}

/// Checks a cluster fresh, then with an OSD down, PGs degraded and client IO under way, so
/// that the parts Ceph adds only in those states are compared too.
fn shapes_match_at(osds: u32, fresh_too: bool) {
    let sim = Sim::new(Settings::parse(&format!("osds={osds},seed=11,failures=0")).unwrap());
    let mut errs = Vec::new();
    if fresh_too {
        check_everything(&sim, &mut errs);
    }
    let reply = sim.handle_command(
        r#"{"prefix": "osd down", "ids": ["0"], "definitely_dead": true}"#,
        b"",
    );
    assert_eq!(reply.retval, 0, "{reply:?}");
    sim.step(Duration::from_secs(12));
    assert_ne!(sim.health_status(), "HEALTH_OK");
    check_everything(&sim, &mut errs);
    errs.sort();
    errs.dedup();
    assert!(
        errs.is_empty(),
        "{} shape differences at {osds} OSDs:\n{}",
        errs.len(),
        errs.join("\n")
    );
}

#[test]
fn shapes_match_the_captured_cluster_at_1_osd() {
    shapes_match_at(1, true);
}

#[test]
fn shapes_match_the_captured_cluster_at_100_osds() {
    shapes_match_at(100, true);
}

#[test]
fn shapes_match_the_captured_cluster_at_10000_osds() {
    shapes_match_at(10_000, false);
}

#[test]
fn the_comparison_notices_differences() {
    let r = Rules::default();
    let mut errs = Vec::new();
    compare(
        "",
        &shape(r#"{"a": 1, "b": [1.5]}"#),
        &shape(r#"{"a": 1.0, "b": ["x"], "c": 2}"#),
        &r,
        &mut errs,
    );
    assert_eq!(errs.len(), 3, "{errs:?}");
    let keyed = Rules {
        keyed: vec![""],
        ..Rules::default()
    };
    let mut errs = Vec::new();
    compare(
        "",
        &shape(r#"{"0": {"x": 1}}"#),
        &shape(r#"{"0": {"x": 2}, "1": {"y": 2}}"#),
        &keyed,
        &mut errs,
    );
    assert_eq!(errs.len(), 1, "{errs:?}");
}

#[test]
fn unknown_names_answer_as_pacific_does() {
    let sim = Sim::new(Settings::parse("osds=3").unwrap());
    for name in ["no_such_data_name", "osd_crush_map_text", "device "] {
        let err = sim.get(name).unwrap_err().to_string();
        assert!(
            err.contains(&format!("`{name}`")) && err.contains("osd_map_tree"),
            "{err}"
        );
    }
    assert_eq!(&*sim.get("osd_map_anything").unwrap(), "{}");
    assert_eq!(&*sim.get("configuration").unwrap(), "{}");
    assert_eq!(&*sim.get("device nope").unwrap(), "{}");
    assert_eq!(sim.get_metadata("osd", "99"), None);
    assert_eq!(sim.get_metadata("osd", "osd.0"), None);
    assert_eq!(sim.get_daemon_status("osd", "99"), None);
    assert_eq!(&*sim.get_perf_schema("osd", "99"), "{}");
    assert_eq!(&*sim.get_counter("osd", "99", "osd.op"), r#"{"osd.op":[]}"#);
    assert_eq!(&*sim.get_latest("osd", "0", "no.such"), "0");
    assert_eq!(&*sim.get_latest_avg("osd", "99", "osd.op_latency"), "[0,0]");
    assert_eq!(
        &*sim.get_server("nowhere"),
        r#"{"ceph_version":"","hostname":"nowhere","services":[]}"#
    );
    assert!(sim.ceph_option("no_such_option").is_err());
    assert_eq!(&*sim.ceph_option("mgr_tick_period").unwrap(), "2.0");
    let devices: serde_json::Value = serde_json::from_str(&sim.get("devices").unwrap()).unwrap();
    let devid = devices["devices"][0]["devid"].as_str().unwrap();
    let one: serde_json::Value =
        serde_json::from_str(&sim.get(&format!("device {devid}")).unwrap()).unwrap();
    assert_eq!(one["device"], devices["devices"][0]);
}

#[test]
fn large_documents_are_rendered_once_per_version() {
    let sim = Sim::new(Settings::parse("osds=30,failures=0").unwrap());
    let a = sim.get("pg_dump").unwrap();
    let b = sim.get("pg_dump").unwrap();
    assert!(
        std::sync::Arc::ptr_eq(&a, &b),
        "the second read shares the first one's text"
    );
    let m1 = sim.get("osd_map").unwrap();
    sim.step(Duration::from_secs(5));
    let c = sim.get("pg_dump").unwrap();
    assert!(
        !std::sync::Arc::ptr_eq(&a, &c),
        "a new PG map version renders anew"
    );
    // The OSD map did not change: still the same text.
    assert!(std::sync::Arc::ptr_eq(&m1, &sim.get("osd_map").unwrap()));
}
