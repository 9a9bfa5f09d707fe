//! Prometheus text from four ceph-mgr documents (`osd_map`, `osd_stats`, `pg_summary`, `df`),
//! with metrics named and labelled as ceph's `prometheus` mgr module names them: per OSD
//! (up, in, weight, metadata, latencies, capacity, PG count), per pool (metadata, usage, IO,
//! PG states), the cluster's capacity and the OSD map's flags.
//!
//! The `scrape` bench guest renders with this file, and the bench's native baseline includes
//! the same file (`#[path]`), so both run the same code: parse the document with serde into
//! structs holding only what is rendered (borrowing its strings), then format.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Deserialize;

/// The documents, in the order they are read and rendered. Each is parsed, rendered and
/// dropped before the next is read, so at most one is held at a time.
pub const DOCS: [&str; 4] = ["osd_map", "osd_stats", "pg_summary", "df"];

/// Appends the metrics of document `name`, given as its JSON text, to `out`.
pub fn render(name: &str, json: &str, out: &mut String) -> Result<(), String> {
    let parsed = |e: serde_json::Error| format!("{name} does not have the expected shape: {e}");
    match name {
        "osd_map" => osd_map(&serde_json::from_str(json).map_err(parsed)?, out),
        "osd_stats" => osd_stats(&serde_json::from_str(json).map_err(parsed)?, out),
        "pg_summary" => pg_summary(&serde_json::from_str(json).map_err(parsed)?, out),
        "df" => df(&serde_json::from_str(json).map_err(parsed)?, out),
        other => return Err(format!("no metrics from '{other}'")),
    }
    Ok(())
}

#[derive(Deserialize)]
struct OsdMap<'a> {
    #[serde(borrow)]
    flags: Cow<'a, str>,
    #[serde(borrow)]
    osds: Vec<MapOsd<'a>>,
    #[serde(borrow)]
    pools: Vec<MapPool<'a>>,
}

#[derive(Deserialize)]
struct MapOsd<'a> {
    osd: i64,
    up: f64,
    #[serde(rename = "in")]
    is_in: f64,
    weight: f64,
    primary_affinity: f64,
    #[serde(borrow)]
    public_addr: Cow<'a, str>,
    #[serde(borrow)]
    cluster_addr: Cow<'a, str>,
}

#[derive(Deserialize)]
struct MapPool<'a> {
    pool: i64,
    #[serde(borrow)]
    pool_name: Cow<'a, str>,
    #[serde(rename = "type")]
    kind: i64,
    size: f64,
    min_size: f64,
    pg_num: f64,
    #[serde(borrow)]
    erasure_code_profile: Cow<'a, str>,
}

#[derive(Deserialize)]
struct OsdStats {
    osd_stats: Vec<OsdStat>,
}

#[derive(Deserialize)]
struct OsdStat {
    osd: i64,
    kb: f64,
    kb_used: f64,
    num_pgs: f64,
    perf_stat: PerfStat,
}

#[derive(Deserialize)]
struct PerfStat {
    apply_latency_ms: f64,
    commit_latency_ms: f64,
}

#[derive(Deserialize)]
struct PgSummary<'a> {
    /// Pool id → PG state (`active+clean`) → count.
    #[serde(borrow)]
    by_pool: BTreeMap<Cow<'a, str>, BTreeMap<Cow<'a, str>, f64>>,
}

#[derive(Deserialize)]
struct Df {
    stats: DfStats,
    pools: Vec<DfPool>,
}

#[derive(Deserialize)]
struct DfStats {
    total_bytes: f64,
    total_avail_bytes: f64,
    total_used_bytes: f64,
    total_used_raw_bytes: f64,
}

#[derive(Deserialize)]
struct DfPool {
    id: i64,
    stats: DfPoolStats,
}

#[derive(Deserialize)]
struct DfPoolStats {
    stored: f64,
    stored_raw: f64,
    bytes_used: f64,
    max_avail: f64,
    percent_used: f64,
    objects: f64,
    dirty: f64,
    quota_bytes: f64,
    quota_objects: f64,
    rd: f64,
    rd_bytes: f64,
    wr: f64,
    wr_bytes: f64,
}

/// The OSD map flags ceph's module exports as `ceph_osd_flag_<flag>`.
const OSD_FLAGS: [&str; 9] = [
    "noup",
    "nodown",
    "noout",
    "noin",
    "nobackfill",
    "norebalance",
    "norecover",
    "noscrub",
    "nodeep-scrub",
];

/// The PG states ceph's module exports as `ceph_pg_<state>` for every pool.
const PG_STATES: [&str; 34] = [
    "active",
    "clean",
    "down",
    "recovery_unfound",
    "backfill_unfound",
    "scrubbing",
    "degraded",
    "inconsistent",
    "peering",
    "repair",
    "recovering",
    "forced_recovery",
    "backfill_wait",
    "incomplete",
    "stale",
    "remapped",
    "deep",
    "backfilling",
    "forced_backfill",
    "backfill_toofull",
    "recovery_wait",
    "recovery_toofull",
    "undersized",
    "activating",
    "peered",
    "snaptrim",
    "snaptrim_wait",
    "snaptrim_error",
    "creating",
    "unknown",
    "premerge",
    "failed_repair",
    "laggy",
    "wait",
];

/// `# HELP` and `# TYPE` lines of a gauge.
fn header(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
}

/// A label value, escaped as the text format requires.
fn escaped(out: &mut String, value: &str) {
    if !value.contains(['\\', '"', '\n']) {
        out.push_str(value);
        return;
    }
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn osd_map(m: &OsdMap<'_>, out: &mut String) {
    let flags: Vec<&str> = m.flags.split(',').collect();
    for flag in OSD_FLAGS {
        let metric = format!("ceph_osd_flag_{}", flag.replace('-', "_"));
        header(out, &metric, &format!("OSD flag {flag}"));
        let _ = writeln!(out, "{metric} {}", u8::from(flags.contains(&flag)));
    }

    type OsdGauge = (&'static str, &'static str, fn(&MapOsd<'_>) -> f64);
    let gauges: [OsdGauge; 4] = [
        ("ceph_osd_up", "OSD status up", |o| o.up),
        ("ceph_osd_in", "OSD status in", |o| o.is_in),
        ("ceph_osd_weight", "OSD status weight", |o| o.weight),
        ("ceph_osd_primary_affinity", "OSD primary affinity", |o| {
            o.primary_affinity
        }),
    ];
    for (metric, help, value) in gauges {
        header(out, metric, help);
        for o in &m.osds {
            let _ = writeln!(
                out,
                "{metric}{{ceph_daemon=\"osd.{}\"}} {}",
                o.osd,
                value(o)
            );
        }
    }
    header(out, "ceph_osd_metadata", "OSD Metadata");
    for o in &m.osds {
        let _ = write!(
            out,
            "ceph_osd_metadata{{ceph_daemon=\"osd.{}\",cluster_addr=\"",
            o.osd
        );
        escaped(out, &o.cluster_addr);
        out.push_str("\",public_addr=\"");
        escaped(out, &o.public_addr);
        out.push_str("\"} 1\n");
    }

    header(out, "ceph_pool_metadata", "POOL Metadata");
    for p in &m.pools {
        let _ = write!(out, "ceph_pool_metadata{{pool_id=\"{}\",name=\"", p.pool);
        escaped(out, &p.pool_name);
        if p.kind == 3 {
            out.push_str("\",type=\"erasure\",description=\"ec:");
            escaped(out, &p.erasure_code_profile);
        } else {
            let _ = write!(
                out,
                "\",type=\"replicated\",description=\"replica:{}",
                p.size
            );
        }
        out.push_str("\"} 1\n");
    }
    type PoolGauge = (&'static str, &'static str, fn(&MapPool<'_>) -> f64);
    let gauges: [PoolGauge; 3] = [
        ("ceph_pool_size", "Pool replicas or shards", |p| p.size),
        ("ceph_pool_min_size", "Pool min_size", |p| p.min_size),
        ("ceph_pool_pg_num", "Pool PG count", |p| p.pg_num),
    ];
    for (metric, help, value) in gauges {
        header(out, metric, help);
        for p in &m.pools {
            let _ = writeln!(out, "{metric}{{pool_id=\"{}\"}} {}", p.pool, value(p));
        }
    }
}

fn osd_stats(s: &OsdStats, out: &mut String) {
    type StatGauge = (&'static str, &'static str, fn(&OsdStat) -> f64);
    let gauges: [StatGauge; 5] = [
        (
            "ceph_osd_apply_latency_ms",
            "OSD stat apply_latency_ms",
            |o| o.perf_stat.apply_latency_ms,
        ),
        (
            "ceph_osd_commit_latency_ms",
            "OSD stat commit_latency_ms",
            |o| o.perf_stat.commit_latency_ms,
        ),
        ("ceph_osd_stat_bytes", "OSD size", |o| o.kb * 1024.0),
        ("ceph_osd_stat_bytes_used", "Used space", |o| {
            o.kb_used * 1024.0
        }),
        ("ceph_osd_numpg", "Placement groups", |o| o.num_pgs),
    ];
    for (metric, help, value) in gauges {
        header(out, metric, help);
        for o in &s.osd_stats {
            let _ = writeln!(
                out,
                "{metric}{{ceph_daemon=\"osd.{}\"}} {}",
                o.osd,
                value(o)
            );
        }
    }
}

fn pg_summary(s: &PgSummary<'_>, out: &mut String) {
    // Each state string ("active+clean") counts towards each of its states.
    let counts: Vec<(&str, [f64; PG_STATES.len()], f64)> = s
        .by_pool
        .iter()
        .map(|(pool, states)| {
            let mut per = [0.0; PG_STATES.len()];
            let mut total = 0.0;
            for (state, n) in states {
                total += n;
                for part in state.split('+') {
                    if let Some(i) = PG_STATES.iter().position(|s| *s == part) {
                        per[i] += n;
                    }
                }
            }
            (pool.as_ref(), per, total)
        })
        .collect();
    for (i, state) in PG_STATES.iter().enumerate() {
        let metric = format!("ceph_pg_{state}");
        header(out, &metric, &format!("PG {state} per pool"));
        for (pool, per, _) in &counts {
            let _ = writeln!(out, "{metric}{{pool_id=\"{pool}\"}} {}", per[i]);
        }
    }
    header(out, "ceph_pg_total", "PG Total Count per Pool");
    for (pool, _, total) in &counts {
        let _ = writeln!(out, "ceph_pg_total{{pool_id=\"{pool}\"}} {total}");
    }
}

fn df(d: &Df, out: &mut String) {
    for (metric, help, value) in [
        (
            "ceph_cluster_total_bytes",
            "DF total_bytes",
            d.stats.total_bytes,
        ),
        (
            "ceph_cluster_total_avail_bytes",
            "DF total_avail_bytes",
            d.stats.total_avail_bytes,
        ),
        (
            "ceph_cluster_total_used_bytes",
            "DF total_used_bytes",
            d.stats.total_used_bytes,
        ),
        (
            "ceph_cluster_total_used_raw_bytes",
            "DF total_used_raw_bytes",
            d.stats.total_used_raw_bytes,
        ),
    ] {
        header(out, metric, help);
        let _ = writeln!(out, "{metric} {value}");
    }
    type DfGauge = (&'static str, &'static str, fn(&DfPoolStats) -> f64);
    let gauges: [DfGauge; 13] = [
        ("ceph_pool_stored", "DF pool stored", |s| s.stored),
        ("ceph_pool_stored_raw", "DF pool stored_raw", |s| {
            s.stored_raw
        }),
        ("ceph_pool_bytes_used", "DF pool bytes_used", |s| {
            s.bytes_used
        }),
        ("ceph_pool_max_avail", "DF pool max_avail", |s| s.max_avail),
        ("ceph_pool_percent_used", "DF pool percent_used", |s| {
            s.percent_used
        }),
        ("ceph_pool_objects", "DF pool objects", |s| s.objects),
        ("ceph_pool_dirty", "DF pool dirty", |s| s.dirty),
        ("ceph_pool_quota_bytes", "DF pool quota_bytes", |s| {
            s.quota_bytes
        }),
        ("ceph_pool_quota_objects", "DF pool quota_objects", |s| {
            s.quota_objects
        }),
        ("ceph_pool_rd", "DF pool rd", |s| s.rd),
        ("ceph_pool_rd_bytes", "DF pool rd_bytes", |s| s.rd_bytes),
        ("ceph_pool_wr", "DF pool wr", |s| s.wr),
        ("ceph_pool_wr_bytes", "DF pool wr_bytes", |s| s.wr_bytes),
    ];
    for (metric, help, value) in gauges {
        header(out, metric, help);
        for p in &d.pools {
            let _ = writeln!(out, "{metric}{{pool_id=\"{}\"}} {}", p.id, value(&p.stats));
        }
    }
}
