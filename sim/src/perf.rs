//! Perf counters: the schemas a pacific OSD and mon report (taken from the captured cluster,
//! already filtered by `mgr_stats_threshold`), and for each OSD and mon a ring of the last 20
//! samples of the counters that move, as ceph-mgr keeps them.

use std::collections::VecDeque;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::model::Cluster;

/// Samples kept per counter (ceph-mgr keeps 20).
pub(crate) const RING: usize = 20;

/// The captured `get_all_perf_counters` of a one-OSD cluster: schemas and values of `osd.0`
/// and `mon.a`.
static TEMPLATES: &str = include_str!("../data/perf_counters.json");

/// Counter type bits (`perfcounter_type_d`).
const TYPE_LONGRUNAVG: u64 = 0x4;

/// The moving counters of an OSD, in this order in each sample.
#[derive(Debug, Clone, Copy)]
#[repr(usize)]
enum O {
    Op,
    OpR,
    OpW,
    InBytes,
    OutBytes,
    LatSum,
    RLatSum,
    WLatSum,
    NumPg,
    StatBytes,
    StatUsed,
    RecOps,
    RecBytes,
    Wip,
}
const OSD_K: usize = 14;

/// The moving counters of a mon.
#[derive(Debug, Clone, Copy)]
#[repr(usize)]
enum M {
    Paxos,
    Sessions,
    Gets,
}
const MON_K: usize = 3;

/// One OSD's client IO during a stats period.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct OsdIo {
    pub(crate) rd: u64,
    pub(crate) wr: u64,
    pub(crate) rd_bytes: u64,
    pub(crate) wr_bytes: u64,
    pub(crate) recovery_ops: u64,
    pub(crate) recovery_bytes: u64,
}

/// The sample rings.
#[derive(Debug, Clone, Default)]
pub(crate) struct PerfState {
    /// Sample times, oldest first, shared by every daemon (they report together).
    pub(crate) times: VecDeque<f64>,
    /// Per OSD: current counters and its samples (flattened: `osd * RING + slot`).
    osd_now: Vec<[u64; OSD_K]>,
    osd_ring: Vec<[u64; OSD_K]>,
    mon_now: Vec<[u64; MON_K]>,
    mon_ring: Vec<[u64; MON_K]>,
    /// Index of the oldest sample in each ring.
    head: usize,
}

/// A parsed template: (counter path, schema fields, captured value, captured count).
type Template = Vec<(String, Map<String, Value>, u64, Option<u64>)>;

fn templates() -> &'static (Template, Template) {
    static T: OnceLock<(Template, Template)> = OnceLock::new();
    T.get_or_init(|| {
        let all: Value = serde_json::from_str(TEMPLATES).unwrap_or(Value::Null);
        let take = |daemon: &str| -> Template {
            let Some(Value::Object(counters)) = all.get(daemon) else {
                return Vec::new();
            };
            counters
                .iter()
                .map(|(path, c)| {
                    let mut schema = Map::new();
                    for f in ["description", "nick", "priority", "type", "units"] {
                        if let Some(v) = c.get(f) {
                            schema.insert(f.to_owned(), v.clone());
                        }
                    }
                    let value = c.get("value").and_then(Value::as_u64).unwrap_or(0);
                    let count = c.get("count").and_then(Value::as_u64);
                    (path.clone(), schema, value, count)
                })
                .collect()
        };
        (take("osd.0"), take("mon.a"))
    })
}

/// The schema template of a daemon type, empty for types without counters here.
fn template_of(kind: &str) -> &'static Template {
    static EMPTY: Template = Vec::new();
    let (osd, mon) = templates();
    match kind {
        "osd" => osd,
        "mon" => mon,
        _ => &EMPTY,
    }
}

/// Sets every OSD's and mon's counters to a plausible history for a cluster up for a day, and
/// takes the first sample.
pub(crate) fn init(c: &mut Cluster) {
    let mut p = PerfState {
        osd_now: c
            .osds
            .iter()
            .map(|o| {
                let ops = 2_000_000 + (c.salt(&o.name()) % 1_000_000);
                let mut v = [0u64; OSD_K];
                v[O::Op as usize] = ops;
                v[O::OpR as usize] = ops * 6 / 10;
                v[O::OpW as usize] = ops - ops * 6 / 10;
                v[O::InBytes as usize] = (ops - ops * 6 / 10) * 65_536;
                v[O::OutBytes as usize] = ops * 6 / 10 * 16_384;
                v[O::RLatSum as usize] = ops * 6 / 10 * 3_000_000;
                v[O::WLatSum as usize] = (ops - ops * 6 / 10) * 6_000_000;
                v[O::LatSum as usize] = v[O::RLatSum as usize] + v[O::WLatSum as usize];
                v
            })
            .collect(),
        mon_now: c
            .mons
            .iter()
            .map(|_| [20_000, c.osds.len() as u64 + 6, 500_000])
            .collect(),
        ..PerfState::default()
    };
    p.osd_ring = vec![[0; OSD_K]; p.osd_now.len() * RING];
    p.mon_ring = vec![[0; MON_K]; p.mon_now.len() * RING];
    c.perf = p;
    sample(c, &vec![OsdIo::default(); c.osds.len()]);
}

/// Adds a stats period's IO to every counter and records a sample at `c.now`.
pub(crate) fn sample(c: &mut Cluster, io: &[OsdIo]) {
    let paxos = u64::from(c.osd_epoch) + u64::from(c.fs.epoch) + u64::from(c.mgr.epoch);
    let sessions = c.osds.len() as u64 + 6;
    let p = &mut c.perf;
    for (i, osd) in c.osds.iter().enumerate() {
        let Some(v) = p.osd_now.get_mut(i) else {
            continue;
        };
        let d = io.get(i).copied().unwrap_or_default();
        let ssd = osd.class == crate::model::DeviceClass::Ssd;
        let (r_lat, w_lat) = if ssd {
            (400_000, 900_000)
        } else {
            (3_000_000, 6_000_000)
        };
        v[O::Op as usize] += d.rd + d.wr;
        v[O::OpR as usize] += d.rd;
        v[O::OpW as usize] += d.wr;
        v[O::InBytes as usize] += d.wr_bytes;
        v[O::OutBytes as usize] += d.rd_bytes;
        v[O::RLatSum as usize] += d.rd * r_lat;
        v[O::WLatSum as usize] += d.wr * w_lat;
        v[O::LatSum as usize] += d.rd * r_lat + d.wr * w_lat;
        v[O::NumPg as usize] = u64::from(osd.num_pgs);
        v[O::StatBytes as usize] = osd.total_bytes;
        v[O::StatUsed as usize] = osd.used_bytes();
        v[O::RecOps as usize] += d.recovery_ops;
        v[O::RecBytes as usize] += d.recovery_bytes;
        v[O::Wip as usize] = (d.rd + d.wr) / 500;
    }
    for v in &mut p.mon_now {
        v[M::Paxos as usize] = 20_000 + paxos * 3;
        v[M::Sessions as usize] = sessions;
        v[M::Gets as usize] += 40;
    }
    let slot = if p.times.len() < RING {
        p.times.push_back(c.now);
        p.times.len() - 1
    } else {
        p.times.pop_front();
        p.times.push_back(c.now);
        let s = p.head;
        p.head = (p.head + 1) % RING;
        s
    };
    for (i, v) in p.osd_now.iter().enumerate() {
        if let Some(dst) = p.osd_ring.get_mut(i * RING + slot) {
            *dst = *v;
        }
    }
    for (i, v) in p.mon_now.iter().enumerate() {
        if let Some(dst) = p.mon_ring.get_mut(i * RING + slot) {
            *dst = *v;
        }
    }
}

/// A counter's value: a plain number, or (sum, count) of a long-running average.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Reading {
    Plain(u64),
    Avg(u64, u64),
}

impl Reading {
    pub(crate) fn value(self) -> u64 {
        match self {
            Self::Plain(v) | Self::Avg(v, _) => v,
        }
    }
}

/// The value of counter `path` of an OSD given its moving counters.
fn osd_reading(path: &str, v: &[u64; OSD_K], avg: bool) -> Reading {
    let g = |k: O| v[k as usize];
    let plain = |x: u64| Reading::Plain(x);
    match path {
        "osd.op" => plain(g(O::Op)),
        "osd.op_r" => plain(g(O::OpR)),
        "osd.op_w" => plain(g(O::OpW)),
        "osd.op_in_bytes" | "osd.op_w_in_bytes" => plain(g(O::InBytes)),
        "osd.op_out_bytes" | "osd.op_r_out_bytes" => plain(g(O::OutBytes)),
        "osd.op_latency" => Reading::Avg(g(O::LatSum), g(O::Op)),
        "osd.op_process_latency" => Reading::Avg(g(O::LatSum) * 3 / 4, g(O::Op)),
        "osd.op_prepare_latency" => Reading::Avg(g(O::LatSum) * 3 / 4, g(O::Op)),
        "osd.op_r_latency" => Reading::Avg(g(O::RLatSum), g(O::OpR)),
        "osd.op_r_process_latency" => Reading::Avg(g(O::RLatSum) / 2, g(O::OpR)),
        "osd.op_r_prepare_latency" => Reading::Avg(g(O::RLatSum) * 9 / 10, g(O::OpR)),
        "osd.op_w_latency" => Reading::Avg(g(O::WLatSum), g(O::OpW)),
        "osd.op_w_process_latency" => Reading::Avg(g(O::WLatSum) * 4 / 5, g(O::OpW)),
        "osd.op_w_prepare_latency" => Reading::Avg(g(O::WLatSum) * 7 / 10, g(O::OpW)),
        "osd.numpg" => plain(g(O::NumPg)),
        "osd.stat_bytes" => plain(g(O::StatBytes)),
        "osd.stat_bytes_used" => plain(g(O::StatUsed)),
        "osd.recovery_ops" => plain(g(O::RecOps)),
        "osd.recovery_bytes" => plain(g(O::RecBytes)),
        "osd.op_wip" => plain(g(O::Wip)),
        _ if avg => Reading::Avg(0, 0),
        _ => plain(0),
    }
}

fn mon_reading(
    path: &str,
    v: &[u64; MON_K],
    captured: u64,
    captured_count: Option<u64>,
) -> Reading {
    let paxos = v[M::Paxos as usize];
    let gets = v[M::Gets as usize];
    match path {
        "paxos.begin" | "paxos.commit" | "paxos.refresh" => Reading::Plain(paxos),
        "paxos.begin_bytes" | "paxos.commit_bytes" => Reading::Avg(paxos * 13_000, paxos),
        "paxos.begin_keys" => Reading::Avg(paxos * 3, paxos),
        "paxos.commit_keys" => Reading::Avg(paxos * 5, paxos),
        "paxos.begin_latency" => Reading::Avg(paxos * 250_000, paxos),
        "paxos.commit_latency" => Reading::Avg(paxos * 360_000, paxos),
        "paxos.refresh_latency" => Reading::Avg(paxos * 1_070_000, paxos),
        "mon.num_sessions" => Reading::Plain(v[M::Sessions as usize]),
        "mon.session_add" => Reading::Plain(v[M::Sessions as usize] + gets / 1000),
        "mon.session_rm" => Reading::Plain(gets / 1000),
        "rocksdb.get" => Reading::Plain(gets),
        "rocksdb.get_latency" => Reading::Avg(gets * 1_940, gets),
        "rocksdb.submit_sync_latency" => Reading::Avg(paxos * 400_000, paxos),
        _ => match captured_count {
            Some(n) => Reading::Avg(captured, n),
            None => Reading::Plain(captured),
        },
    }
}

impl Cluster {
    /// Whether ceph-mgr knows this daemon (it is in its daemon index).
    pub(crate) fn daemon_known(&self, kind: &str, id: &str) -> bool {
        match kind {
            "osd" => id
                .parse::<usize>()
                .ok()
                .filter(|_| !id.starts_with('+') && (id == "0" || !id.starts_with('0')))
                .is_some_and(|n| n < self.osds.len()),
            "mon" => self.mons.iter().any(|m| m.name == id),
            "mgr" => self.mgr.id == id,
            "mds" => self
                .fs
                .mds
                .iter()
                .any(|m| m.name == id && m.state != "down"),
            "rgw" => self.services.rgw.iter().any(|d| d.name == id),
            _ => false,
        }
    }

    /// Every daemon ceph-mgr knows, sorted as its index is: by type, then id.
    pub(crate) fn daemons(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for m in &self.fs.mds {
            if m.state != "down" {
                out.push(("mds".into(), m.name.clone()));
            }
        }
        out.push(("mgr".into(), self.mgr.id.clone()));
        for m in &self.mons {
            out.push(("mon".into(), m.name.clone()));
        }
        for o in &self.osds {
            out.push(("osd".into(), o.id.to_string()));
        }
        for d in &self.services.rgw {
            out.push(("rgw".into(), d.name.clone()));
        }
        out.sort();
        out
    }

    /// The schema of one daemon's counters: `{path: {description, nick, priority, type,
    /// units}}`.
    pub(crate) fn perf_schema_of(&self, kind: &str) -> Map<String, Value> {
        template_of(kind)
            .iter()
            .map(|(path, schema, _, _)| (path.clone(), Value::Object(schema.clone())))
            .collect()
    }

    /// The reading of a counter at sample `slot` (0 = oldest), or at the current values
    /// with `None`. `None` when the daemon or counter is unknown.
    pub(crate) fn perf_reading(
        &self,
        kind: &str,
        id: &str,
        path: &str,
        slot: Option<usize>,
    ) -> Option<Reading> {
        if !self.daemon_known(kind, id) {
            return None;
        }
        let (_, _, captured, count) = template_of(kind).iter().find(|(p, _, _, _)| p == path)?;
        let is_avg = template_of(kind)
            .iter()
            .find(|(p, _, _, _)| p == path)
            .and_then(|(_, s, _, _)| s.get("type").and_then(Value::as_u64))
            .is_some_and(|t| t & TYPE_LONGRUNAVG != 0);
        let ring_slot = |i: usize| slot.map(|s| i * RING + (self.perf.head + s) % RING);
        match kind {
            "osd" => {
                let i: usize = id.parse().ok()?;
                let v = match ring_slot(i) {
                    Some(k) => self.perf.osd_ring.get(k)?,
                    None => self.perf.osd_now.get(i)?,
                };
                Some(osd_reading(path, v, is_avg))
            }
            "mon" => {
                let i = self.mons.iter().position(|m| m.name == id)?;
                let v = match ring_slot(i) {
                    Some(k) => self.perf.mon_ring.get(k)?,
                    None => self.perf.mon_now.get(i)?,
                };
                Some(mon_reading(path, v, *captured, *count))
            }
            _ => None,
        }
    }

    /// `get_counter`: `{"<path>": [[t, v], ...]}` (or `[t, sum, count]` samples for an
    /// average); no samples for an unknown daemon or counter.
    pub(crate) fn counter_json(&self, kind: &str, id: &str, path: &str) -> String {
        let mut samples = Vec::new();
        if self.perf_reading(kind, id, path, None).is_some() {
            for (s, t) in self.perf.times.iter().enumerate() {
                if let Some(r) = self.perf_reading(kind, id, path, Some(s)) {
                    samples.push(sample_json(*t, r));
                }
            }
        }
        single(path, Value::Array(samples))
    }

    /// `get_latest_counter`: `{"<path>": [t, v]}` or `{"<path>": []}`.
    pub(crate) fn latest_counter_json(&self, kind: &str, id: &str, path: &str) -> String {
        let last = self.perf.times.len().checked_sub(1);
        let v = match (
            last,
            last.and_then(|s| self.perf_reading(kind, id, path, Some(s))),
        ) {
            (Some(s), Some(r)) => self
                .perf
                .times
                .get(s)
                .map_or(Value::Array(Vec::new()), |t| sample_json(*t, r)),
            _ => Value::Array(Vec::new()),
        };
        single(path, v)
    }

    /// `get_all_perf_counters`: every known daemon's counters with their current values.
    pub(crate) fn all_perf_counters_json(&self) -> String {
        let mut all = Map::new();
        for (kind, id) in self.daemons() {
            let mut counters = Map::new();
            for (path, schema, _, _) in template_of(&kind) {
                let mut entry = schema.clone();
                match self.perf_reading(&kind, &id, path, None) {
                    Some(Reading::Avg(sum, count)) => {
                        entry.insert("value".into(), sum.into());
                        entry.insert("count".into(), count.into());
                    }
                    Some(Reading::Plain(v)) => {
                        entry.insert("value".into(), v.into());
                    }
                    None => {}
                }
                counters.insert(path.clone(), Value::Object(entry));
            }
            if !counters.is_empty() {
                all.insert(format!("{kind}.{id}"), Value::Object(counters));
            }
        }
        Value::Object(all).to_string()
    }
}

fn sample_json(t: f64, r: Reading) -> Value {
    match r {
        Reading::Plain(v) => serde_json::json!([t, v]),
        Reading::Avg(s, n) => serde_json::json!([t, s, n]),
    }
}

fn single(key: &str, v: Value) -> String {
    let mut m = Map::new();
    m.insert(key.to_owned(), v);
    Value::Object(m).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse() {
        let (osd, mon) = templates();
        assert_eq!(osd.len(), 37);
        assert_eq!(mon.len(), 98);
    }
}
