//! The PG map's documents: `pg_dump`, `pg_stats`, `pg_summary`, `pg_status`, `io_rate`,
//! `df`, `osd_stats`, `pool_stats`, `osd_pool_stats`, `pg_progress`, `active_clean_pgs`.
//! The per-PG and per-OSD ones are written straight into a string.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use crate::health::pg_object_counts;
use crate::json::{key, push_f, push_i, push_int_list, push_str, push_u};
use crate::model::{Cluster, IoDelta, Pg, Pool, pgstate};
use crate::time::{secs, stamp};

/// The keys of `stat_sum`, in the order they are written (as [`STAT_FRAGMENTS`]).
#[cfg(test)]
const STAT_KEYS: [&str; 40] = [
    "num_bytes",
    "num_bytes_hit_set_archive",
    "num_bytes_recovered",
    "num_deep_scrub_errors",
    "num_evict",
    "num_evict_kb",
    "num_evict_mode_full",
    "num_evict_mode_some",
    "num_flush",
    "num_flush_kb",
    "num_flush_mode_high",
    "num_flush_mode_low",
    "num_keys_recovered",
    "num_large_omap_objects",
    "num_legacy_snapsets",
    "num_object_clones",
    "num_object_copies",
    "num_objects",
    "num_objects_degraded",
    "num_objects_dirty",
    "num_objects_hit_set_archive",
    "num_objects_manifest",
    "num_objects_misplaced",
    "num_objects_missing",
    "num_objects_missing_on_primary",
    "num_objects_omap",
    "num_objects_pinned",
    "num_objects_recovered",
    "num_objects_repaired",
    "num_objects_unfound",
    "num_omap_bytes",
    "num_omap_keys",
    "num_promote",
    "num_read",
    "num_read_kb",
    "num_scrub_errors",
    "num_shallow_scrub_errors",
    "num_whiteouts",
    "num_write",
    "num_write_kb",
];

/// `"key":` for each key of `stat_sum` (the captured order), with the separating comma.
const STAT_FRAGMENTS: [&str; 40] = [
    "\"num_bytes\":",
    ",\"num_bytes_hit_set_archive\":",
    ",\"num_bytes_recovered\":",
    ",\"num_deep_scrub_errors\":",
    ",\"num_evict\":",
    ",\"num_evict_kb\":",
    ",\"num_evict_mode_full\":",
    ",\"num_evict_mode_some\":",
    ",\"num_flush\":",
    ",\"num_flush_kb\":",
    ",\"num_flush_mode_high\":",
    ",\"num_flush_mode_low\":",
    ",\"num_keys_recovered\":",
    ",\"num_large_omap_objects\":",
    ",\"num_legacy_snapsets\":",
    ",\"num_object_clones\":",
    ",\"num_object_copies\":",
    ",\"num_objects\":",
    ",\"num_objects_degraded\":",
    ",\"num_objects_dirty\":",
    ",\"num_objects_hit_set_archive\":",
    ",\"num_objects_manifest\":",
    ",\"num_objects_misplaced\":",
    ",\"num_objects_missing\":",
    ",\"num_objects_missing_on_primary\":",
    ",\"num_objects_omap\":",
    ",\"num_objects_pinned\":",
    ",\"num_objects_recovered\":",
    ",\"num_objects_repaired\":",
    ",\"num_objects_unfound\":",
    ",\"num_omap_bytes\":",
    ",\"num_omap_keys\":",
    ",\"num_promote\":",
    ",\"num_read\":",
    ",\"num_read_kb\":",
    ",\"num_scrub_errors\":",
    ",\"num_shallow_scrub_errors\":",
    ",\"num_whiteouts\":",
    ",\"num_write\":",
    ",\"num_write_kb\":",
];

/// Indices into [`STAT_FRAGMENTS`] of the stats the simulator keeps.
mod s {
    pub(super) const BYTES: usize = 0;
    pub(super) const BYTES_RECOVERED: usize = 2;
    pub(super) const COPIES: usize = 16;
    pub(super) const OBJECTS: usize = 17;
    pub(super) const DEGRADED: usize = 18;
    pub(super) const DIRTY: usize = 19;
    pub(super) const MISPLACED: usize = 22;
    pub(super) const MISSING: usize = 23;
    pub(super) const OMAP: usize = 25;
    pub(super) const RECOVERED: usize = 27;
    pub(super) const OMAP_BYTES: usize = 30;
    pub(super) const OMAP_KEYS: usize = 31;
    pub(super) const READ: usize = 33;
    pub(super) const READ_KB: usize = 34;
    pub(super) const WRITE: usize = 38;
    pub(super) const WRITE_KB: usize = 39;
}

/// `object_stat_sum_t`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StatSum(pub(crate) [u64; 40]);

impl Default for StatSum {
    fn default() -> Self {
        Self([0; 40])
    }
}

impl StatSum {
    fn add(&mut self, o: &StatSum) {
        for (a, b) in self.0.iter_mut().zip(o.0.iter()) {
            *a += b;
        }
    }

    pub(crate) fn objects(&self) -> u64 {
        self.0[s::OBJECTS]
    }
    pub(crate) fn bytes(&self) -> u64 {
        self.0[s::BYTES]
    }
    pub(crate) fn degraded(&self) -> u64 {
        self.0[s::DEGRADED]
    }
    pub(crate) fn misplaced(&self) -> u64 {
        self.0[s::MISPLACED]
    }
    pub(crate) fn copies(&self) -> u64 {
        self.0[s::COPIES]
    }
    pub(crate) fn read(&self) -> (u64, u64) {
        (self.0[s::READ], self.0[s::READ_KB])
    }
    pub(crate) fn write(&self) -> (u64, u64) {
        (self.0[s::WRITE], self.0[s::WRITE_KB])
    }
    pub(crate) fn omap_bytes(&self) -> u64 {
        self.0[s::OMAP_BYTES]
    }

    fn write_json(&self, out: &mut String) {
        out.push('{');
        for (i, v) in self.0.iter().enumerate() {
            out.push_str(STAT_FRAGMENTS.get(i).copied().unwrap_or("\"\":"));
            push_u(out, *v);
        }
        out.push('}');
    }
}

/// The stats of one PG.
pub(crate) fn pg_sum(c: &Cluster, pool: &Pool, pg: &Pg) -> StatSum {
    let mut st = StatSum::default();
    let objects = pool.objects(pg.bytes);
    let (degraded, misplaced, copies) = pg_object_counts(c, pool, pg);
    st.0[s::BYTES] = pg.bytes;
    st.0[s::OBJECTS] = objects;
    st.0[s::COPIES] = copies;
    st.0[s::DEGRADED] = degraded;
    st.0[s::MISPLACED] = misplaced;
    st.0[s::MISSING] = pg.missing.min(objects);
    st.0[s::DIRTY] = objects;
    st.0[s::RECOVERED] = pg.recovered;
    st.0[s::BYTES_RECOVERED] = pg.recovered_bytes;
    st.0[s::READ] = pg.rd;
    st.0[s::READ_KB] = pg.rd_kb;
    st.0[s::WRITE] = pg.wr;
    st.0[s::WRITE_KB] = pg.wr_kb;
    if pool.application.contains_key("cephfs") && pool.object_size < (64 << 10) {
        st.0[s::OMAP] = objects;
        st.0[s::OMAP_KEYS] = objects * 12;
        st.0[s::OMAP_BYTES] = objects * 12 * 180;
    }
    st
}

/// A pool's (or the cluster's) summed stats, with PG and log counts.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PoolSum {
    pub(crate) sum: StatSum,
    pub(crate) num_pg: u64,
    pub(crate) log_size: u64,
    pub(crate) up: u64,
    pub(crate) acting: u64,
}

impl PoolSum {
    fn add(&mut self, o: &PoolSum) {
        self.sum.add(&o.sum);
        self.num_pg += o.num_pg;
        self.log_size += o.log_size;
        self.up += o.up;
        self.acting += o.acting;
    }
}

fn log_size(pg: &Pg) -> u64 {
    pg.version.min(3000)
}

/// Per-pool sums, by pool id.
pub(crate) fn pool_sums(c: &Cluster) -> BTreeMap<u32, PoolSum> {
    c.pools
        .values()
        .map(|pool| {
            let mut ps = PoolSum::default();
            for pg in &pool.pgs {
                ps.sum.add(&pg_sum(c, pool, pg));
                ps.num_pg += 1;
                ps.log_size += log_size(pg);
                ps.up += pg.up.len() as u64;
                ps.acting += pg.acting.len() as u64;
            }
            (pool.id, ps)
        })
        .collect()
}

fn total(sums: &BTreeMap<u32, PoolSum>) -> PoolSum {
    let mut t = PoolSum::default();
    for p in sums.values() {
        t.add(p);
    }
    t
}

const STORE_STATS: &str = r#"{"allocated":0,"available":0,"data_compressed":0,"data_compressed_allocated":0,"data_compressed_original":0,"data_stored":0,"internal_metadata":0,"internally_reserved":0,"omap_allocated":0,"total":0}"#;

/// `{acting, log_size, num_store_stats, ondisk_log_size, [stamp_delta], stat_sum,
/// store_stats, up}`, with `num_pg` and `poolid` for a pool.
fn write_pool_sum(out: &mut String, p: &PoolSum, pool: Option<u32>, stamp_delta: Option<f64>) {
    out.push_str("{\"acting\":");
    push_u(out, p.acting);
    out.push_str(",\"log_size\":");
    push_u(out, p.log_size);
    if pool.is_some() {
        out.push_str(",\"num_pg\":");
        push_u(out, p.num_pg);
    }
    out.push_str(",\"num_store_stats\":0,\"ondisk_log_size\":");
    push_u(out, p.log_size);
    if let Some(id) = pool {
        out.push_str(",\"poolid\":");
        push_u(out, u64::from(id));
    }
    if let Some(d) = stamp_delta {
        out.push_str(",\"stamp_delta\":");
        push_str(out, &secs(d));
    }
    out.push_str(",\"stat_sum\":");
    p.sum.write_json(out);
    out.push_str(",\"store_stats\":");
    out.push_str(STORE_STATS);
    out.push_str(",\"up\":");
    push_u(out, p.up);
    out.push('}');
}

fn pool_sum_value(p: &PoolSum, pool: Option<u32>, stamp_delta: Option<f64>) -> Value {
    let mut s = String::new();
    write_pool_sum(&mut s, p, pool, stamp_delta);
    serde_json::from_str(&s).unwrap_or(Value::Null)
}

/// The delta since the previous stats report, as a pool sum (read/write/recovery counters).
fn delta_sum(d: &IoDelta) -> PoolSum {
    let mut p = PoolSum::default();
    p.sum.0[s::READ] = d.rd;
    p.sum.0[s::READ_KB] = d.rd_kb;
    p.sum.0[s::WRITE] = d.wr;
    p.sum.0[s::WRITE_KB] = d.wr_kb;
    p.sum.0[s::RECOVERED] = d.recovered;
    p.sum.0[s::BYTES_RECOVERED] = d.recovered_bytes;
    p
}

fn total_delta(c: &Cluster) -> IoDelta {
    let mut t = IoDelta::default();
    for d in c.delta.values() {
        t.add(d);
    }
    t
}

/// `pg_id` text: `2.1f`.
fn pgid(pool: u32, ps: usize) -> String {
    format!("{pool}.{ps:x}")
}

fn push_set(out: &mut String, set: &crate::crush::OsdSet) {
    push_int_list(out, set.iter().map(i64::from));
}

/// Appends `"epoch'v"` (`"0'0"` for nothing written yet).
fn push_eversion(out: &mut String, epoch: u32, v: u64) {
    out.push('"');
    if v == 0 {
        out.push_str("0'0");
    } else {
        push_u(out, u64::from(epoch));
        out.push('\'');
        push_u(out, v);
    }
    out.push('"');
}

/// Writes PG stamps fast: most PGs share a few stamps (the last report, the creation), so
/// the text of the last whole second is kept and only the microseconds are written.
struct Stamps<'a> {
    c: &'a Cluster,
    sec: i64,
    prefix: String,
    states: Vec<(u64, String)>,
}

impl<'a> Stamps<'a> {
    fn new(c: &'a Cluster) -> Self {
        Self {
            c,
            sec: i64::MIN,
            prefix: String::new(),
            states: Vec::new(),
        }
    }

    /// Appends the stamp of a PG time (ms since start) as a JSON string.
    fn push(&mut self, out: &mut String, ms: u32) {
        let t = self.c.at_ms(ms);
        let sec = t.floor() as i64;
        if sec != self.sec {
            let full = stamp(sec as f64);
            self.prefix = full.split('.').next().unwrap_or("").to_owned();
            self.sec = sec;
        }
        let micros = ((t - sec as f64) * 1e6).round().clamp(0.0, 999_999.0) as u32;
        out.push('"');
        out.push_str(&self.prefix);
        out.push('.');
        let mut buf = itoa::Buffer::new();
        let digits = buf.format(micros);
        for _ in digits.len()..6 {
            out.push('0');
        }
        out.push_str(digits);
        out.push_str("+0000\"");
    }

    /// Appends a state's name, remembering the few distinct states of a map.
    fn push_state(&mut self, out: &mut String, state: u64) {
        if let Some((_, name)) = self.states.iter().find(|(s, _)| *s == state) {
            push_str(out, name);
            return;
        }
        let name = pgstate::name(state);
        push_str(out, &name);
        if self.states.len() < 64 {
            self.states.push((state, name));
        }
    }
}

/// One `pg_stat_t` entry.
fn write_pg(out: &mut String, st: &mut Stamps<'_>, c: &Cluster, pool: &Pool, ps: usize, pg: &Pg) {
    let ls = log_size(pg);
    out.push_str("{\"acting\":");
    push_set(out, &pg.acting);
    out.push_str(",\"acting_primary\":");
    push_i(out, i64::from(pg.acting.primary()));
    out.push_str(",\"avail_no_missing\":[],\"blocked_by\":[],\"created\":");
    push_u(out, u64::from(pg.created));
    out.push_str(",\"dirty_stats_invalid\":false,\"hitset_bytes_stats_invalid\":false,\"hitset_stats_invalid\":false,\"last_active\":");
    st.push(out, pg.t_active);
    out.push_str(",\"last_became_active\":");
    st.push(out, pg.t_became_active);
    out.push_str(",\"last_became_peered\":");
    st.push(out, pg.t_became_peered);
    out.push_str(",\"last_change\":");
    st.push(out, pg.t_change);
    out.push_str(",\"last_clean\":");
    st.push(out, pg.t_clean);
    out.push_str(",\"last_clean_scrub_stamp\":");
    st.push(out, pg.t_scrub);
    out.push_str(",\"last_deep_scrub\":");
    push_eversion(
        out,
        pg.version_epoch,
        pg.version.saturating_sub(pg.version / 7),
    );
    out.push_str(",\"last_deep_scrub_stamp\":");
    st.push(out, pg.t_deep_scrub);
    out.push_str(",\"last_epoch_clean\":");
    push_u(out, u64::from(pg.last_epoch_clean));
    out.push_str(",\"last_fresh\":");
    st.push(out, pg.t_report);
    out.push_str(",\"last_fullsized\":");
    st.push(out, pg.t_fullsized);
    out.push_str(",\"last_peered\":");
    st.push(out, pg.t_peered);
    out.push_str(",\"last_scrub\":");
    push_eversion(
        out,
        pg.version_epoch,
        pg.version.saturating_sub(pg.version / 20),
    );
    out.push_str(",\"last_scrub_stamp\":");
    st.push(out, pg.t_scrub);
    out.push_str(",\"last_undegraded\":");
    st.push(out, pg.t_undegraded);
    out.push_str(",\"last_unstale\":");
    st.push(out, pg.t_unstale);
    out.push_str(",\"log_size\":");
    push_u(out, ls);
    out.push_str(",\"log_start\":");
    push_eversion(out, pg.version_epoch, pg.version - ls);
    out.push_str(",\"manifest_stats_invalid\":false,\"mapping_epoch\":");
    push_u(out, u64::from(pg.mapping_epoch));
    out.push_str(
        ",\"object_location_counts\":[],\"omap_stats_invalid\":false,\"ondisk_log_size\":",
    );
    push_u(out, ls);
    out.push_str(",\"ondisk_log_start\":");
    push_eversion(out, pg.version_epoch, pg.version - ls);
    out.push_str(",\"parent\":\"0.0\",\"parent_split_bits\":0,\"pgid\":\"");
    push_u(out, u64::from(pool.id));
    let _ = write!(out, ".{ps:x}\"");
    out.push_str(",\"pin_stats_invalid\":false,\"purged_snaps\":[],\"reported_epoch\":");
    push_u(out, u64::from(pg.reported_epoch));
    out.push_str(",\"reported_seq\":");
    push_u(out, pg.reported_seq);
    out.push_str(",\"snaptrimq_len\":0,\"stat_sum\":");
    pg_sum(c, pool, pg).write_json(out);
    out.push_str(",\"state\":");
    st.push_state(out, pg.state);
    out.push_str(",\"stats_invalid\":false,\"up\":");
    push_set(out, &pg.up);
    out.push_str(",\"up_primary\":");
    push_i(out, i64::from(pg.up.primary()));
    out.push_str(",\"version\":");
    push_eversion(out, pg.version_epoch, pg.version);
    out.push('}');
}

/// Writes the entries of the PGs `range` (in pool, then PG order), comma-separated.
fn write_pgs(out: &mut String, c: &Cluster, range: std::ops::Range<usize>) {
    let mut st = Stamps::new(c);
    let mut i = 0usize;
    for pool in c.pools.values() {
        let n = pool.pgs.len();
        if i + n <= range.start {
            i += n;
            continue;
        }
        for (ps, pg) in pool.pgs.iter().enumerate() {
            if i >= range.end {
                return;
            }
            if i >= range.start {
                if i > range.start {
                    out.push(',');
                }
                write_pg(out, &mut st, c, pool, ps, pg);
            }
            i += 1;
        }
    }
}

/// Bytes one PG entry takes, about.
const PG_ENTRY_BYTES: usize = 2400;

/// Appends `[...]` with every PG. Large maps are written on two threads, the second half
/// into a buffer of its own that is then appended.
fn write_pg_array(out: &mut String, c: &Cluster) {
    let n: usize = c.pools.values().map(|p| p.pgs.len()).sum();
    out.reserve(n * PG_ENTRY_BYTES + 2);
    out.push('[');
    if n < 20_000 {
        write_pgs(out, c, 0..n);
    } else {
        let mid = n / 2;
        let second = std::thread::scope(|scope| {
            let other = scope.spawn(|| {
                let mut s = String::with_capacity((n - mid) * PG_ENTRY_BYTES);
                write_pgs(&mut s, c, mid..n);
                s
            });
            write_pgs(out, c, 0..mid);
            other.join().ok()
        });
        out.push(',');
        match second {
            Some(s) => out.push_str(&s),
            // Rendering does not panic; if it ever did, write the half here.
            None => write_pgs(out, c, mid..n),
        }
    }
    out.push(']');
}

/// `{"pg_stats": [...]}`: every PG.
pub(crate) fn pg_stats_doc(c: &Cluster) -> String {
    let mut out = String::from("{\"pg_stats\":");
    write_pg_array(&mut out, c);
    out.push('}');
    out
}

/// The hosts' other OSDs that one OSD heartbeats with: up to ten, on other hosts if there are.
fn hb_peers(c: &Cluster, id: i32) -> Vec<i32> {
    let n = c.osds.len() as i32;
    if n <= 1 {
        return Vec::new();
    }
    let per_host = c.hosts.first().map_or(1, |h| h.osds.len().max(1)) as i32;
    let step = if c.hosts.len() > 1 { per_host } else { 1 };
    let mut peers: Vec<i32> = (1..=10)
        .map(|k| (id + k * step + k / 3) % n)
        .filter(|&p| p != id)
        .collect();
    peers.sort_unstable();
    peers.dedup();
    peers
}

fn write_osd_stat(out: &mut String, c: &Cluster, osd: &crate::model::Osd, sum: bool) {
    let kb = osd.total_bytes / 1024;
    let used = osd.used_bytes();
    out.push_str("{\"alerts\":[],\"hb_peers\":");
    if sum {
        out.push_str("[]");
    } else {
        push_int_list(out, hb_peers(c, osd.id).into_iter().map(i64::from));
    }
    out.push_str(",\"kb\":");
    push_u(out, kb);
    out.push_str(",\"kb_avail\":");
    push_u(out, osd.avail_bytes() / 1024);
    out.push_str(",\"kb_used\":");
    push_u(out, used / 1024);
    out.push_str(",\"kb_used_data\":");
    push_u(out, osd.data_bytes / 1024);
    out.push_str(",\"kb_used_meta\":");
    push_u(out, osd.meta_bytes / 1024);
    out.push_str(",\"kb_used_omap\":");
    push_u(out, osd.omap_bytes / 1024);
    if sum {
        out.push_str(",\"network_ping_times\":[]");
    }
    out.push_str(",\"num_osds\":");
    push_u(out, if sum { c.osds.len() as u64 } else { 1 });
    out.push_str(",\"num_per_pool_omap_osds\":");
    push_u(out, if sum { c.osds.len() as u64 } else { 1 });
    out.push_str(",\"num_per_pool_osds\":");
    push_u(out, if sum { c.osds.len() as u64 } else { 1 });
    out.push_str(",\"num_pgs\":");
    push_u(out, u64::from(osd.num_pgs));
    out.push_str(",\"num_shards_repaired\":0,\"num_snap_trimming\":0,\"op_queue_age_hist\":{\"histogram\":[],\"upper_bound\":1}");
    if !sum {
        out.push_str(",\"osd\":");
        push_i(out, i64::from(osd.id));
    }
    out.push_str(",\"perf_stat\":{\"apply_latency_ms\":");
    push_f(out, f64::from(osd.apply_latency_ms));
    out.push_str(",\"apply_latency_ns\":");
    push_u(out, u64::from(osd.apply_latency_ms) * 1_000_000);
    out.push_str(",\"commit_latency_ms\":");
    push_f(out, f64::from(osd.commit_latency_ms));
    out.push_str(",\"commit_latency_ns\":");
    push_u(out, u64::from(osd.commit_latency_ms) * 1_000_000);
    out.push_str("},\"seq\":");
    push_u(
        out,
        if sum {
            0
        } else {
            (u64::from(osd.up_from) << 32) | osd.seq
        },
    );
    out.push_str(",\"snap_trim_queue_len\":0,\"statfs\":{\"allocated\":");
    push_u(out, osd.data_bytes);
    out.push_str(",\"available\":");
    push_u(out, osd.avail_bytes());
    out.push_str(",\"data_compressed\":0,\"data_compressed_allocated\":0,\"data_compressed_original\":0,\"data_stored\":");
    push_u(out, osd.data_bytes);
    out.push_str(",\"internal_metadata\":");
    push_u(out, osd.meta_bytes);
    out.push_str(",\"internally_reserved\":0,\"omap_allocated\":");
    push_u(out, osd.omap_bytes);
    out.push_str(",\"total\":");
    push_u(out, osd.total_bytes);
    out.push_str("},\"up_from\":");
    push_u(out, if sum { 0 } else { u64::from(osd.up_from) });
    out.push('}');
}

/// The OSDs ceph-mgr has stats for: those that are up, or that were up once.
fn reporting_osds(c: &Cluster) -> impl Iterator<Item = &crate::model::Osd> {
    c.osds.iter()
}

fn osd_sum(c: &Cluster) -> crate::model::Osd {
    let mut sum = c
        .osds
        .first()
        .cloned()
        .unwrap_or_else(|| crate::model::Osd {
            id: 0,
            host: 0,
            class: crate::model::DeviceClass::Hdd,
            crush_weight: 0.0,
            total_bytes: 0,
            up: false,
            is_in: false,
            autoout: false,
            up_from: 0,
            up_thru: 0,
            down_at: 0,
            last_clean_begin: 0,
            last_clean_end: 0,
            down_since: 0.0,
            up_since: 0.0,
            in_since: 0.0,
            revive_at: None,
            uuid: String::new(),
            nonce: 0,
            port: 0,
            dev: String::new(),
            devid: String::new(),
            data_bytes: 0,
            meta_bytes: 0,
            omap_bytes: 0,
            num_pgs: 0,
            seq: 0,
            apply_latency_ms: 0,
            commit_latency_ms: 0,
        });
    sum.total_bytes = c.osds.iter().map(|o| o.total_bytes).sum();
    sum.data_bytes = c.osds.iter().map(|o| o.data_bytes).sum();
    sum.meta_bytes = c.osds.iter().map(|o| o.meta_bytes).sum();
    sum.omap_bytes = c.osds.iter().map(|o| o.omap_bytes).sum();
    sum.num_pgs = c.osds.iter().map(|o| o.num_pgs).sum();
    sum.apply_latency_ms = c.osds.iter().map(|o| o.apply_latency_ms).sum();
    sum.commit_latency_ms = c.osds.iter().map(|o| o.commit_latency_ms).sum();
    sum
}

fn write_osd_stats_array(out: &mut String, c: &Cluster) {
    out.push('[');
    for (i, osd) in reporting_osds(c).enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_osd_stat(out, c, osd, false);
    }
    out.push(']');
}

/// `{"osd_stats": [...], "pool_statfs": []}`.
pub(crate) fn osd_stats_doc(c: &Cluster) -> String {
    let mut out = String::with_capacity(c.osds.len() * 900 + 64);
    out.push_str("{\"osd_stats\":");
    write_osd_stats_array(&mut out, c);
    out.push_str(",\"pool_statfs\":[]}");
    out
}

fn write_pool_stats_array(out: &mut String, sums: &BTreeMap<u32, PoolSum>) {
    out.push('[');
    for (i, (id, p)) in sums.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_pool_sum(out, p, Some(*id), None);
    }
    out.push(']');
}

/// `{"pool_stats": [...]}`: the PG map's per-pool sums.
pub(crate) fn pool_stats_doc(c: &Cluster) -> String {
    let mut out = String::from("{\"pool_stats\":");
    write_pool_stats_array(&mut out, &pool_sums(c));
    out.push('}');
    out
}

/// The whole PG map (`get("pg_dump")`); with `with_pgs` false, its `pg_stats` is empty.
pub(crate) fn pg_dump(c: &Cluster, with_pgs: bool) -> String {
    let sums = pool_sums(c);
    let mut out = String::with_capacity(c.osds.len() * 900 + 4096);
    out.push_str("{\"last_osdmap_epoch\":0,\"last_pg_scan\":0,\"osd_stats\":");
    write_osd_stats_array(&mut out, c);
    out.push_str(",\"osd_stats_sum\":");
    write_osd_stat(&mut out, c, &osd_sum(c), true);
    out.push_str(",\"pg_stats\":");
    if with_pgs {
        write_pg_array(&mut out, c);
    } else {
        out.push_str("[]");
    }
    out.push_str(",\"pg_stats_delta\":");
    write_pool_sum(
        &mut out,
        &delta_sum(&total_delta(c)),
        None,
        Some(c.delta_secs),
    );
    out.push_str(",\"pg_stats_sum\":");
    write_pool_sum(&mut out, &total(&sums), None, None);
    out.push_str(",\"pool_statfs\":[],\"pool_stats\":");
    write_pool_stats_array(&mut out, &sums);
    out.push_str(",\"stamp\":");
    push_str(&mut out, &stamp(c.pg_stamp));
    out.push_str(",\"version\":");
    push_u(&mut out, c.pg_version);
    out.push('}');
    out
}

/// `{"pg_stats_delta": {...}}`.
pub(crate) fn io_rate(c: &Cluster) -> String {
    let mut out = String::from("{\"pg_stats_delta\":");
    write_pool_sum(
        &mut out,
        &delta_sum(&total_delta(c)),
        None,
        Some(c.delta_secs),
    );
    out.push('}');
    out
}

/// State counts: all PGs, by acting OSD (holes as `2147483647`, as ceph-mgr stringifies
/// them), by pool.
pub(crate) fn pg_summary(c: &Cluster) -> Value {
    let mut all: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_pool: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut by_osd: BTreeMap<i64, BTreeMap<String, u64>> = BTreeMap::new();
    for pool in c.pools.values() {
        let mut names: BTreeMap<u64, String> = BTreeMap::new();
        for pg in &pool.pgs {
            let name = names
                .entry(pg.state)
                .or_insert_with(|| pgstate::name(pg.state))
                .clone();
            *all.entry(name.clone()).or_default() += 1;
            *by_pool
                .entry(pool.id.to_string())
                .or_default()
                .entry(name.clone())
                .or_default() += 1;
            for o in pg.acting.iter() {
                *by_osd
                    .entry(i64::from(o))
                    .or_default()
                    .entry(name.clone())
                    .or_default() += 1;
            }
        }
    }
    let sums = total(&pool_sums(c));
    json!({
        "all": all,
        "by_osd": by_osd.into_iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<Map<String, Value>>(),
        "by_pool": by_pool,
        "pg_stats_sum": pool_sum_value(&sums, None, None),
    })
}

/// Recovery and client IO rates since the last report, as `print_summary` adds them (only
/// the nonzero parts).
fn rates_into(m: &mut Map<String, Value>, sum: &StatSum, d: &IoDelta, secs: f64) {
    let secs = secs.max(1e-3);
    if sum.degraded() > 0 {
        m.insert("degraded_objects".into(), sum.degraded().into());
        m.insert("degraded_total".into(), sum.copies().into());
        m.insert(
            "degraded_ratio".into(),
            (sum.degraded() as f64 / sum.copies().max(1) as f64).into(),
        );
    }
    if sum.misplaced() > 0 {
        m.insert("misplaced_objects".into(), sum.misplaced().into());
        m.insert("misplaced_total".into(), sum.copies().into());
        m.insert(
            "misplaced_ratio".into(),
            (sum.misplaced() as f64 / sum.copies().max(1) as f64).into(),
        );
    }
    if d.recovered > 0 {
        m.insert(
            "recovering_objects_per_sec".into(),
            ((d.recovered as f64 / secs) as u64).into(),
        );
        m.insert(
            "recovering_bytes_per_sec".into(),
            ((d.recovered_bytes as f64 / secs) as u64).into(),
        );
        m.insert("recovering_keys_per_sec".into(), 0.into());
        m.insert("num_objects_recovered".into(), d.recovered.into());
        m.insert("num_bytes_recovered".into(), d.recovered_bytes.into());
        m.insert("num_keys_recovered".into(), 0.into());
    }
    if d.rd > 0 || d.wr > 0 {
        m.insert(
            "read_bytes_sec".into(),
            ((d.rd_kb as f64 * 1024.0 / secs) as u64).into(),
        );
        m.insert(
            "write_bytes_sec".into(),
            ((d.wr_kb as f64 * 1024.0 / secs) as u64).into(),
        );
        m.insert(
            "read_op_per_sec".into(),
            ((d.rd as f64 / secs) as u64).into(),
        );
        m.insert(
            "write_op_per_sec".into(),
            ((d.wr as f64 / secs) as u64).into(),
        );
    }
}

/// `[{"state_name", "count"}]`, most common first.
pub(crate) fn states_by_count(counts: &BTreeMap<String, u64>) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = counts.iter().map(|(k, n)| (k.clone(), *n)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

/// State counts of every PG.
pub(crate) fn state_counts(c: &Cluster) -> BTreeMap<String, u64> {
    let mut counts: BTreeMap<u64, u64> = BTreeMap::new();
    for pool in c.pools.values() {
        for pg in &pool.pgs {
            *counts.entry(pg.state).or_default() += 1;
        }
    }
    let mut named = BTreeMap::new();
    for (state, n) in counts {
        *named.entry(pgstate::name(state)).or_default() += n;
    }
    named
}

/// The `pgmap` section of `ceph status` (`pg_status`), with `pgs_by_pool_state` when
/// `by_pool`.
pub(crate) fn pg_summary_section(c: &Cluster, by_pool: bool) -> Value {
    let sums = pool_sums(c);
    let t = total(&sums);
    let (raw_total, raw_used) = c.raw_totals();
    let mut m = Map::new();
    m.insert(
        "pgs_by_state".into(),
        states_by_count(&state_counts(c))
            .into_iter()
            .map(|(s, n)| json!({"state_name": s, "count": n}))
            .collect::<Vec<_>>()
            .into(),
    );
    if by_pool {
        let list: Vec<Value> = c
            .pools
            .values()
            .rev()
            .map(|pool| {
                let mut counts: BTreeMap<String, u64> = BTreeMap::new();
                for pg in &pool.pgs {
                    *counts.entry(pgstate::name(pg.state)).or_default() += 1;
                }
                json!({
                    "pool_id": pool.id,
                    "pg_state_counts": states_by_count(&counts)
                        .into_iter()
                        .map(|(s, n)| json!({"state_name": s, "count": n}))
                        .collect::<Vec<_>>(),
                })
            })
            .collect();
        m.insert("pgs_by_pool_state".into(), list.into());
    }
    m.insert("num_pgs".into(), t.num_pg.into());
    m.insert("num_pools".into(), (c.pools.len() as u64).into());
    m.insert("num_objects".into(), t.sum.objects().into());
    m.insert("data_bytes".into(), t.sum.bytes().into());
    m.insert("bytes_used".into(), raw_used.into());
    m.insert(
        "bytes_avail".into(),
        raw_total.saturating_sub(raw_used).into(),
    );
    m.insert("bytes_total".into(), raw_total.into());
    rates_into(&mut m, &t.sum, &total_delta(c), c.delta_secs);
    Value::Object(m)
}

/// `get("pg_status")`.
pub(crate) fn pg_status(c: &Cluster) -> Value {
    pg_summary_section(c, true)
}

/// `{"pool_stats": [{pool_name, pool_id, recovery, recovery_rate, client_io_rate}]}`.
pub(crate) fn osd_pool_stats(c: &Cluster) -> Value {
    let sums = pool_sums(c);
    let list: Vec<Value> = c
        .pools
        .values()
        .map(|pool| {
            let sum = sums.get(&pool.id).map(|p| p.sum).unwrap_or_default();
            let d = c.delta.get(&pool.id).copied().unwrap_or_default();
            let mut all = Map::new();
            rates_into(&mut all, &sum, &d, c.delta_secs);
            let pick = |keys: &[&str]| -> Value {
                Value::Object(
                    keys.iter()
                        .filter_map(|k| all.get(*k).map(|v| ((*k).to_owned(), v.clone())))
                        .collect(),
                )
            };
            json!({
                "pool_name": pool.name,
                "pool_id": pool.id,
                "recovery": pick(&["degraded_objects", "degraded_total", "degraded_ratio", "misplaced_objects", "misplaced_total", "misplaced_ratio"]),
                "recovery_rate": pick(&["recovering_objects_per_sec", "recovering_bytes_per_sec", "recovering_keys_per_sec", "num_objects_recovered", "num_bytes_recovered", "num_keys_recovered"]),
                "client_io_rate": pick(&["read_bytes_sec", "write_bytes_sec", "read_op_per_sec", "write_op_per_sec"]),
            })
        })
        .collect();
    json!({"pool_stats": list})
}

/// Raw bytes a pool can still take: the most any OSD of the rule allows given its share of
/// the weight, short of the full ratio (`PGMap::get_rule_avail`), before replication.
pub(crate) fn avail_raw(c: &Cluster) -> u64 {
    let total_w: f64 = c
        .osds
        .iter()
        .filter(|o| o.is_in)
        .map(|o| o.crush_weight)
        .sum();
    if total_w <= 0.0 {
        return 0;
    }
    let mut min = f64::MAX;
    for o in c.osds.iter().filter(|o| o.is_in && o.crush_weight > 0.0) {
        let headroom = o.avail_bytes() as f64 - (1.0 - c.full_ratio) * o.total_bytes as f64;
        let proj = headroom.max(0.0) / (o.crush_weight / total_w);
        min = min.min(proj);
    }
    if min == f64::MAX { 0 } else { min as u64 }
}

/// `ceph df` data: `stats`, `stats_by_class`, `pools`.
pub(crate) fn df(c: &Cluster) -> Value {
    let (raw_total, raw_used) = c.raw_totals();
    let ratio = |used: u64, total: u64| {
        if total == 0 {
            0.0
        } else {
            used as f64 / total as f64
        }
    };
    let mut by_class: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for o in &c.osds {
        let e = by_class.entry(o.class.name()).or_default();
        e.0 += o.total_bytes;
        e.1 += o.used_bytes();
    }
    let avail = avail_raw(c);
    let sums = pool_sums(c);
    let pools: Vec<Value> = c
        .pools
        .values()
        .map(|pool| {
            let sum = sums.get(&pool.id).map(|p| p.sum).unwrap_or_default();
            let stored = sum.bytes();
            let used = (stored as f64 * pool.raw_factor()) as u64;
            let (rd, rd_kb) = sum.read();
            let (wr, wr_kb) = sum.write();
            let max_avail = (avail as f64 / pool.raw_factor()) as u64;
            let percent = if used + avail == 0 {
                0.0
            } else {
                used as f64 / (used + avail) as f64
            };
            json!({
                "name": pool.name,
                "id": pool.id,
                "stats": {
                    "stored": stored,
                    "stored_data": stored,
                    "stored_omap": sum.omap_bytes(),
                    "objects": sum.objects(),
                    "kb_used": used.div_ceil(1024),
                    "bytes_used": used,
                    "data_bytes_used": used,
                    "omap_bytes_used": (sum.omap_bytes() as f64 * pool.raw_factor()) as u64,
                    "percent_used": percent,
                    "max_avail": max_avail,
                    "quota_objects": pool.quota_max_objects,
                    "quota_bytes": pool.quota_max_bytes,
                    "dirty": 0,
                    "rd": rd,
                    "rd_bytes": rd_kb * 1024,
                    "wr": wr,
                    "wr_bytes": wr_kb * 1024,
                    "compress_bytes_used": 0,
                    "compress_under_bytes": 0,
                    "stored_raw": used,
                    "avail_raw": avail,
                }
            })
        })
        .collect();
    json!({
        "stats": {
            "total_bytes": raw_total,
            "total_avail_bytes": raw_total.saturating_sub(raw_used),
            "total_used_bytes": raw_used,
            "total_used_raw_bytes": raw_used,
            "total_used_raw_ratio": ratio(raw_used, raw_total),
            "num_osds": c.osds.len(),
            "num_per_pool_osds": c.osds.len(),
            "num_per_pool_omap_osds": c.osds.len(),
        },
        "stats_by_class": by_class
            .into_iter()
            .map(|(class, (t, u))| {
                (class.to_owned(), json!({
                    "total_bytes": t,
                    "total_avail_bytes": t.saturating_sub(u),
                    "total_used_bytes": u,
                    "total_used_raw_bytes": u,
                    "total_used_raw_ratio": ratio(u, t),
                }))
            })
            .collect::<Map<String, Value>>(),
        "pools": pools,
    })
}

/// `{"osd_ping_times": [{"osd", "network_ping_times": []}]}`: no slow heartbeats to report.
pub(crate) fn osd_ping_times(c: &Cluster) -> String {
    let mut out = String::with_capacity(c.osds.len() * 48 + 32);
    out.push_str("{\"osd_ping_times\":[");
    for (i, o) in c.osds.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"network_ping_times\":[],\"osd\":");
        push_i(&mut out, i64::from(o.id));
        out.push('}');
    }
    out.push_str("]}");
    out
}

/// `{"pg_ready": true, "pgs": {pgid: {state, num_bytes, num_bytes_recovered,
/// reported_epoch}}}` (the `progress` module's view).
pub(crate) fn pg_progress(c: &Cluster) -> String {
    let mut out =
        String::with_capacity(c.pools.values().map(|p| p.pgs.len()).sum::<usize>() * 110 + 32);
    out.push_str("{\"pg_ready\":true,\"pgs\":{");
    let mut first = true;
    for pool in c.pools.values() {
        for (ps, pg) in pool.pgs.iter().enumerate() {
            if !first {
                out.push(',');
            }
            first = false;
            key(&mut out, &pgid(pool.id, ps));
            out.push_str("{\"num_bytes\":");
            push_u(&mut out, pg.bytes);
            out.push_str(",\"num_bytes_recovered\":");
            push_u(&mut out, pg.recovered_bytes);
            out.push_str(",\"reported_epoch\":");
            push_u(&mut out, u64::from(pg.reported_epoch));
            out.push_str(",\"state\":");
            push_str(&mut out, &pgstate::name(pg.state));
            out.push('}');
        }
    }
    out.push_str("}}");
    out
}

/// `{"pg_stats": [{pgid, reported_epoch, state}], "total_num_pgs"}`: the active+clean PGs.
pub(crate) fn active_clean_pgs(c: &Cluster) -> String {
    let total: usize = c.pools.values().map(|p| p.pgs.len()).sum();
    let mut out = String::with_capacity(total * 64 + 32);
    out.push_str("{\"pg_stats\":[");
    let mut first = true;
    let clean = pgstate::ACTIVE | pgstate::CLEAN;
    for pool in c.pools.values() {
        for (ps, pg) in pool.pgs.iter().enumerate() {
            if pg.state & clean != clean {
                continue;
            }
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str("{\"pgid\":");
            push_str(&mut out, &pgid(pool.id, ps));
            out.push_str(",\"reported_epoch\":");
            push_u(&mut out, u64::from(pg.reported_epoch));
            out.push_str(",\"state\":");
            push_str(&mut out, &pgstate::name(pg.state));
            out.push('}');
        }
    }
    out.push_str("],\"total_num_pgs\":");
    push_u(&mut out, total as u64);
    out.push('}');
    out
}

/// The cluster-wide sums (for status lines and `pg stat`).
pub(crate) fn cluster_sum(c: &Cluster) -> (StatSum, u64) {
    let t = total(&pool_sums(c));
    (t.sum, t.num_pg)
}

/// Client IO since the last report: (read B/s, write B/s, read op/s, write op/s).
pub(crate) fn client_rates(c: &Cluster) -> (f64, f64, f64, f64) {
    let d = total_delta(c);
    let secs = c.delta_secs.max(1e-3);
    (
        d.rd_kb as f64 * 1024.0 / secs,
        d.wr_kb as f64 * 1024.0 / secs,
        d.rd as f64 / secs,
        d.wr as f64 / secs,
    )
}

/// Recovery since the last report: (objects/s, bytes/s).
pub(crate) fn recovery_rates(c: &Cluster) -> (f64, f64) {
    let d = total_delta(c);
    let secs = c.delta_secs.max(1e-3);
    (d.recovered as f64 / secs, d.recovered_bytes as f64 / secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fragments_spell_the_keys() {
        for (i, (k, f)) in STAT_KEYS.iter().zip(STAT_FRAGMENTS.iter()).enumerate() {
            let comma = if i == 0 { "" } else { "," };
            assert_eq!(*f, format!("{comma}\"{k}\":"));
        }
        let mut s = String::new();
        StatSum::default().write_json(&mut s);
        let v: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v.as_object().map(|o| o.len()), Some(40));
    }
}
