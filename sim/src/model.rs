//! The cluster model: hosts, OSDs, the CRUSH hierarchy, pools and their PGs, the monitors, the
//! mgr, the file system and the service map, the config database and the epochs of each map.
//!
//! Everything here is plain data plus the operations that keep it consistent (mapping PGs,
//! marking OSDs down/out/in, creating pools). How it changes over time is in `evolve.rs`; how
//! it is shown is in `render/`.

use std::collections::{BTreeMap, BTreeSet};

use crate::clog::ClusterLog;
use crate::crush::{Crush, MAX_REPLICAS, NONE, OsdSet};
use crate::health::HealthState;
use crate::perf::PerfState;
use crate::rng::{Rng, frac, hash2, hash3, mix64};
use crate::settings::Settings;
use crate::{Event, NotifyKind};

/// The Ceph release the simulator plays.
pub(crate) const CEPH_VERSION: &str =
    "ceph version 16.2.15 (618f440892089921c3e944a991122ddc44e60516) pacific (stable)";
/// `ceph_version_short`.
pub(crate) const CEPH_VERSION_SHORT: &str = "16.2.15";
/// The features every pacific daemon advertises.
pub(crate) const FEATURES: u64 = 4_540_138_314_316_775_423;

/// PG state bits, as `osd_types.h` numbers them.
pub(crate) mod pgstate {
    pub(crate) const CREATING: u64 = 1 << 0;
    pub(crate) const ACTIVE: u64 = 1 << 1;
    pub(crate) const CLEAN: u64 = 1 << 2;
    pub(crate) const DOWN: u64 = 1 << 4;
    pub(crate) const SCRUBBING: u64 = 1 << 8;
    pub(crate) const DEGRADED: u64 = 1 << 10;
    pub(crate) const PEERING: u64 = 1 << 12;
    pub(crate) const RECOVERING: u64 = 1 << 14;
    pub(crate) const BACKFILL_WAIT: u64 = 1 << 15;
    pub(crate) const STALE: u64 = 1 << 17;
    pub(crate) const REMAPPED: u64 = 1 << 18;
    pub(crate) const DEEP_SCRUB: u64 = 1 << 19;
    pub(crate) const BACKFILLING: u64 = 1 << 20;
    pub(crate) const RECOVERY_WAIT: u64 = 1 << 22;
    pub(crate) const UNDERSIZED: u64 = 1 << 23;
    pub(crate) const ACTIVATING: u64 = 1 << 24;
    pub(crate) const PEERED: u64 = 1 << 25;

    /// `pg_state_string`, in Ceph's order.
    pub(crate) fn name(state: u64) -> String {
        const ORDER: &[(u64, &str)] = &[
            (STALE, "stale"),
            (CREATING, "creating"),
            (ACTIVE, "active"),
            (ACTIVATING, "activating"),
            (CLEAN, "clean"),
            (RECOVERY_WAIT, "recovery_wait"),
            (RECOVERING, "recovering"),
            (DOWN, "down"),
            (UNDERSIZED, "undersized"),
            (DEGRADED, "degraded"),
            (REMAPPED, "remapped"),
            (SCRUBBING, "scrubbing"),
            (DEEP_SCRUB, "deep"),
            (PEERING, "peering"),
            (BACKFILL_WAIT, "backfill_wait"),
            (BACKFILLING, "backfilling"),
            (PEERED, "peered"),
        ];
        let parts: Vec<&str> = ORDER
            .iter()
            .filter(|(bit, _)| state & bit != 0)
            .map(|(_, n)| *n)
            .collect();
        if parts.is_empty() {
            "unknown".to_owned()
        } else {
            parts.join("+")
        }
    }
}

/// OSD map flags (`CEPH_OSDMAP_*`), with the names `osd set` takes.
pub(crate) mod osdflag {
    pub(crate) const NEARFULL: u32 = 1 << 0;
    pub(crate) const FULL: u32 = 1 << 1;
    pub(crate) const PAUSERD: u32 = 1 << 2;
    pub(crate) const PAUSEWR: u32 = 1 << 3;
    pub(crate) const PAUSEREC: u32 = 1 << 4;
    pub(crate) const NOUP: u32 = 1 << 5;
    pub(crate) const NODOWN: u32 = 1 << 6;
    pub(crate) const NOOUT: u32 = 1 << 7;
    pub(crate) const NOIN: u32 = 1 << 8;
    pub(crate) const NOBACKFILL: u32 = 1 << 9;
    pub(crate) const NORECOVER: u32 = 1 << 10;
    pub(crate) const NOSCRUB: u32 = 1 << 11;
    pub(crate) const NODEEP_SCRUB: u32 = 1 << 12;
    pub(crate) const NOTIERAGENT: u32 = 1 << 13;
    pub(crate) const NOREBALANCE: u32 = 1 << 14;
    pub(crate) const SORTBITWISE: u32 = 1 << 15;
    pub(crate) const RECOVERY_DELETES: u32 = 1 << 19;
    pub(crate) const PURGED_SNAPDIRS: u32 = 1 << 20;
    pub(crate) const NOSNAPTRIM: u32 = 1 << 21;
    pub(crate) const PGLOG_HARDLIMIT: u32 = 1 << 22;

    /// Every named flag in `OSDMap::get_flag_string`'s order.
    pub(crate) const NAMES: &[(u32, &str)] = &[
        (NEARFULL, "nearfull"),
        (FULL, "full"),
        (PAUSERD, "pauserd"),
        (PAUSEWR, "pausewr"),
        (PAUSEREC, "pauserec"),
        (NOUP, "noup"),
        (NODOWN, "nodown"),
        (NOOUT, "noout"),
        (NOIN, "noin"),
        (NOBACKFILL, "nobackfill"),
        (NOREBALANCE, "norebalance"),
        (NORECOVER, "norecover"),
        (NOSCRUB, "noscrub"),
        (NODEEP_SCRUB, "nodeep-scrub"),
        (NOTIERAGENT, "notieragent"),
        (NOSNAPTRIM, "nosnaptrim"),
        (SORTBITWISE, "sortbitwise"),
        (RECOVERY_DELETES, "recovery_deletes"),
        (PURGED_SNAPDIRS, "purged_snapdirs"),
        (PGLOG_HARDLIMIT, "pglog_hardlimit"),
    ];

    /// The flags an operator sets and that raise `OSDMAP_FLAGS`.
    pub(crate) const OPERATOR: u32 = PAUSERD
        | PAUSEWR
        | PAUSEREC
        | NOUP
        | NODOWN
        | NOOUT
        | NOIN
        | NOBACKFILL
        | NOREBALANCE
        | NORECOVER
        | NOSCRUB
        | NODEEP_SCRUB
        | NOTIERAGENT
        | NOSNAPTRIM;

    /// `sortbitwise,recovery_deletes,...`.
    pub(crate) fn string(flags: u32) -> String {
        NAMES
            .iter()
            .filter(|(bit, _)| flags & bit != 0)
            .map(|(_, n)| *n)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Pool flags (`pg_pool_t::FLAG_*`).
pub(crate) mod poolflag {
    pub(crate) const HASHPSPOOL: u64 = 1 << 0;
    pub(crate) const FULL: u64 = 1 << 1;
    pub(crate) const EC_OVERWRITES: u64 = 1 << 2;
    pub(crate) const NEARFULL: u64 = 1 << 11;

    pub(crate) fn names(flags: u64) -> String {
        [
            (HASHPSPOOL, "hashpspool"),
            (FULL, "full"),
            (EC_OVERWRITES, "ec_overwrites"),
            (NEARFULL, "nearfull"),
        ]
        .iter()
        .filter(|(b, _)| flags & b != 0)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(",")
    }
}

/// A device class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum DeviceClass {
    Hdd,
    Ssd,
}

impl DeviceClass {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Hdd => "hdd",
            Self::Ssd => "ssd",
        }
    }
}

/// Bytes of a 4 TB hard disk.
const HDD_BYTES: u64 = 4_000_787_030_016;
/// Bytes of a 960 GB SSD.
const SSD_BYTES: u64 = 960_197_124_096;

/// A host: its name, address, OSDs and CRUSH bucket ids.
#[derive(Debug, Clone)]
pub(crate) struct Host {
    pub(crate) name: String,
    pub(crate) ip: String,
    pub(crate) osds: Vec<i32>,
    /// The host bucket's id and its per-class shadow buckets (`host~hdd`).
    pub(crate) bucket: i32,
    pub(crate) shadow: BTreeMap<DeviceClass, i32>,
}

/// One OSD.
#[derive(Debug, Clone)]
pub(crate) struct Osd {
    pub(crate) id: i32,
    pub(crate) host: usize,
    pub(crate) class: DeviceClass,
    pub(crate) crush_weight: f64,
    pub(crate) total_bytes: u64,
    pub(crate) up: bool,
    /// `in` (reweight 1) or out (reweight 0).
    pub(crate) is_in: bool,
    pub(crate) autoout: bool,
    pub(crate) up_from: u32,
    pub(crate) up_thru: u32,
    pub(crate) down_at: u32,
    pub(crate) last_clean_begin: u32,
    pub(crate) last_clean_end: u32,
    pub(crate) down_since: f64,
    pub(crate) up_since: f64,
    pub(crate) in_since: f64,
    /// When a down OSD's daemon comes back (it restarts by itself, as real ones do).
    pub(crate) revive_at: Option<f64>,
    pub(crate) uuid: String,
    pub(crate) nonce: u32,
    pub(crate) port: u16,
    pub(crate) dev: String,
    pub(crate) devid: String,
    /// Bytes of PG data on it, and its metadata (BlueFS/RocksDB) and omap bytes.
    pub(crate) data_bytes: u64,
    pub(crate) meta_bytes: u64,
    pub(crate) omap_bytes: u64,
    pub(crate) num_pgs: u32,
    pub(crate) seq: u64,
    pub(crate) apply_latency_ms: u32,
    pub(crate) commit_latency_ms: u32,
}

impl Osd {
    pub(crate) fn used_bytes(&self) -> u64 {
        self.data_bytes + self.meta_bytes + self.omap_bytes
    }

    pub(crate) fn avail_bytes(&self) -> u64 {
        self.total_bytes.saturating_sub(self.used_bytes())
    }

    pub(crate) fn utilization(&self) -> f64 {
        if self.total_bytes == 0 {
            0.0
        } else {
            self.used_bytes() as f64 / self.total_bytes as f64
        }
    }

    pub(crate) fn name(&self) -> String {
        format!("osd.{}", self.id)
    }

    pub(crate) fn reweight(&self) -> f64 {
        if self.is_in { 1.0 } else { 0.0 }
    }
}

/// How a pool stores data.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PoolKind {
    Replicated,
    Erasure { k: u32, m: u32, profile: String },
}

/// One PG, stored compactly: four OSD sets, its state bits, its stats and its stamps (as
/// milliseconds since the simulation started).
#[derive(Debug, Clone)]
pub(crate) struct Pg {
    /// The CRUSH mapping with every OSD in: which OSDs' out/in can change this PG.
    pub(crate) ideal: OsdSet,
    /// The CRUSH mapping with the current out OSDs skipped.
    pub(crate) raw: OsdSet,
    pub(crate) up: OsdSet,
    pub(crate) acting: OsdSet,
    pub(crate) state: u64,
    /// When peering (or a scrub) ends, in ms since start; 0 for none.
    pub(crate) until_ms: u32,
    pub(crate) bytes: u64,
    /// Objects written while a replica was down, to recover when it returns.
    pub(crate) missing: u64,
    /// Objects still to copy to new members of the up set.
    pub(crate) backfill_left: u64,
    pub(crate) rd: u64,
    pub(crate) rd_kb: u64,
    pub(crate) wr: u64,
    pub(crate) wr_kb: u64,
    pub(crate) recovered: u64,
    pub(crate) recovered_bytes: u64,
    pub(crate) version: u64,
    pub(crate) version_epoch: u32,
    pub(crate) reported_seq: u64,
    pub(crate) reported_epoch: u32,
    pub(crate) created: u32,
    pub(crate) mapping_epoch: u32,
    pub(crate) last_epoch_clean: u32,
    pub(crate) t_change: u32,
    pub(crate) t_active: u32,
    pub(crate) t_clean: u32,
    pub(crate) t_peered: u32,
    pub(crate) t_became_active: u32,
    pub(crate) t_became_peered: u32,
    pub(crate) t_unstale: u32,
    pub(crate) t_undegraded: u32,
    pub(crate) t_fullsized: u32,
    pub(crate) t_scrub: u32,
    pub(crate) t_deep_scrub: u32,
    pub(crate) t_report: u32,
    /// This PG's share of its pool's data and IO, around 1.
    pub(crate) weight: f32,
}

/// One pool with its PGs (indexed by placement seed `ps`).
#[derive(Debug, Clone)]
pub(crate) struct Pool {
    pub(crate) id: u32,
    pub(crate) name: String,
    pub(crate) kind: PoolKind,
    pub(crate) size: u32,
    pub(crate) min_size: u32,
    pub(crate) crush_rule: u32,
    pub(crate) flags: u64,
    pub(crate) create_time: f64,
    pub(crate) last_change: u32,
    pub(crate) autoscale_mode: String,
    pub(crate) application: BTreeMap<String, BTreeMap<String, String>>,
    pub(crate) options: BTreeMap<String, u64>,
    pub(crate) quota_max_bytes: u64,
    pub(crate) quota_max_objects: u64,
    /// Average object size, which turns bytes into objects.
    pub(crate) object_size: u64,
    /// Client IO now: read and write ops per second, bytes per op.
    pub(crate) rd_ops: f64,
    pub(crate) wr_ops: f64,
    pub(crate) rd_op_bytes: f64,
    pub(crate) wr_op_bytes: f64,
    /// The base rates this pool's IO varies around, and its phase.
    pub(crate) io_base: f64,
    pub(crate) io_phase: f64,
    /// Share of the cluster's stored data this pool aims at.
    pub(crate) data_share: f64,
    pub(crate) pgs: Vec<Pg>,
    pub(crate) weight_sum: f64,
}

impl Pool {
    pub(crate) fn pg_num(&self) -> u32 {
        self.pgs.len() as u32
    }

    pub(crate) fn is_ec(&self) -> bool {
        matches!(self.kind, PoolKind::Erasure { .. })
    }

    /// Raw bytes per stored byte: the size for replicated pools, (k+m)/k for EC.
    pub(crate) fn raw_factor(&self) -> f64 {
        match &self.kind {
            PoolKind::Replicated => f64::from(self.size.max(1)),
            PoolKind::Erasure { k, m, .. } => f64::from(k + m) / f64::from((*k).max(1)),
        }
    }

    /// Bytes one shard of a PG holds on an OSD.
    pub(crate) fn shard_bytes(&self, pg_bytes: u64) -> u64 {
        match &self.kind {
            PoolKind::Replicated => pg_bytes,
            PoolKind::Erasure { k, .. } => pg_bytes / u64::from((*k).max(1)),
        }
    }

    pub(crate) fn objects(&self, bytes: u64) -> u64 {
        bytes.div_ceil(self.object_size.max(1))
    }

    pub(crate) fn stored_bytes(&self) -> u64 {
        self.pgs.iter().map(|p| p.bytes).sum()
    }
}

/// A monitor.
#[derive(Debug, Clone)]
pub(crate) struct Mon {
    pub(crate) name: String,
    pub(crate) host: usize,
    pub(crate) in_quorum: bool,
    pub(crate) back_at: Option<f64>,
}

/// The active mgr (this daemon) and its map.
#[derive(Debug, Clone)]
pub(crate) struct Mgr {
    pub(crate) id: String,
    pub(crate) gid: u64,
    pub(crate) nonce: u32,
    pub(crate) epoch: u32,
    pub(crate) since: f64,
    pub(crate) modules: Vec<String>,
    pub(crate) services: BTreeMap<String, String>,
}

/// An MDS daemon.
#[derive(Debug, Clone)]
pub(crate) struct Mds {
    pub(crate) name: String,
    pub(crate) host: usize,
    pub(crate) gid: u64,
    pub(crate) nonce: u32,
    /// `up:active`, `up:standby`, `up:replay`, `up:reconnect`, `up:rejoin`, or `down` while it
    /// restarts.
    pub(crate) state: &'static str,
    pub(crate) state_seq: u32,
    pub(crate) incarnation: u32,
    pub(crate) since_epoch: u32,
}

/// The file system map: one file system, `cephfs`, with one active MDS and a standby.
#[derive(Debug, Clone)]
pub(crate) struct Fs {
    pub(crate) epoch: u32,
    pub(crate) name: String,
    pub(crate) created: f64,
    pub(crate) modified: f64,
    pub(crate) metadata_pool: u32,
    pub(crate) data_pools: Vec<u32>,
    pub(crate) mds: Vec<Mds>,
    pub(crate) last_failure_osd_epoch: u32,
    /// Time of the next step of a failover under way, if any.
    pub(crate) next_transition: Option<f64>,
}

/// A service-map daemon (an RGW).
#[derive(Debug, Clone)]
pub(crate) struct ServiceDaemon {
    pub(crate) name: String,
    pub(crate) host: usize,
    pub(crate) gid: u64,
    pub(crate) nonce: u32,
    pub(crate) start_epoch: u32,
    pub(crate) start_stamp: f64,
}

/// The service map.
#[derive(Debug, Clone)]
pub(crate) struct ServiceMap {
    pub(crate) epoch: u32,
    pub(crate) modified: f64,
    pub(crate) rgw: Vec<ServiceDaemon>,
}

/// The config database (`ceph config set/get/rm/dump`) and the mgr's effective config.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConfigDb {
    /// `(who, option) -> value`, as `ceph config set` stored them.
    pub(crate) entries: BTreeMap<(String, String), String>,
    /// The effective config of the mgr at start (every option, as text).
    pub(crate) base: BTreeMap<String, String>,
    /// Options changed from their defaults at start.
    pub(crate) base_modified: Vec<String>,
    pub(crate) version: u64,
}

impl ConfigDb {
    /// The value the mgr sees for `name`: a `mgr.<id>`, then `mgr`, then `global` entry, then
    /// the base.
    pub(crate) fn effective(&self, mgr_id: &str, name: &str) -> Option<String> {
        for who in [
            format!("mgr.{mgr_id}"),
            "mgr".to_owned(),
            "global".to_owned(),
        ] {
            if let Some(v) = self.entries.get(&(who, name.to_owned())) {
                return Some(v.clone());
            }
        }
        self.base.get(name).cloned()
    }

    /// A cluster-wide setting as the mons would read it (global or mon section).
    pub(crate) fn mon_value(&self, name: &str) -> Option<String> {
        for who in ["mon", "global"] {
            if let Some(v) = self.entries.get(&(who.to_owned(), name.to_owned())) {
                return Some(v.clone());
            }
        }
        self.base.get(name).cloned()
    }

    pub(crate) fn mon_f64(&self, name: &str, default: f64) -> f64 {
        self.mon_value(name)
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite())
            .unwrap_or(default)
    }

    pub(crate) fn mon_bool(&self, name: &str, default: bool) -> bool {
        match self.mon_value(name).as_deref().map(str::trim) {
            Some("true" | "1" | "yes" | "on") => true,
            Some("false" | "0" | "no" | "off") => false,
            _ => default,
        }
    }
}

/// Counters of client IO and recovery since the previous stats report, per pool.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct IoDelta {
    pub(crate) rd: u64,
    pub(crate) rd_kb: u64,
    pub(crate) wr: u64,
    pub(crate) wr_kb: u64,
    pub(crate) recovered: u64,
    pub(crate) recovered_bytes: u64,
}

impl IoDelta {
    pub(crate) fn add(&mut self, o: &IoDelta) {
        self.rd += o.rd;
        self.rd_kb += o.rd_kb;
        self.wr += o.wr;
        self.wr_kb += o.wr_kb;
        self.recovered += o.recovered;
        self.recovered_bytes += o.recovered_bytes;
    }
}

/// The whole simulated cluster.
#[derive(Debug)]
pub(crate) struct Cluster {
    pub(crate) settings: Settings,
    pub(crate) rng: Rng,
    pub(crate) start: f64,
    pub(crate) now: f64,
    /// Simulated time not yet run (less than one tick).
    pub(crate) pending_time: f64,
    pub(crate) next_stats: f64,
    pub(crate) fsid: String,
    pub(crate) created: f64,

    pub(crate) hosts: Vec<Host>,
    pub(crate) osds: Vec<Osd>,
    pub(crate) crush: Crush,
    pub(crate) root_shadow: BTreeMap<DeviceClass, i32>,
    pub(crate) crush_rules: Vec<CrushRule>,
    pub(crate) crush_version: u32,

    pub(crate) pools: BTreeMap<u32, Pool>,
    pub(crate) pool_max: u32,
    pub(crate) ec_profiles: BTreeMap<String, BTreeMap<String, String>>,
    pub(crate) flags: u32,
    pub(crate) osd_epoch: u32,
    pub(crate) osdmap_modified: f64,
    pub(crate) last_up_change: f64,
    pub(crate) last_in_change: f64,
    pub(crate) blocklist: BTreeMap<String, f64>,
    pub(crate) nearfull_ratio: f64,
    pub(crate) backfillfull_ratio: f64,
    pub(crate) full_ratio: f64,

    pub(crate) pg_version: u64,
    pub(crate) pg_stamp: f64,
    pub(crate) pg_dirty: bool,
    /// PGs that are not active+clean or have work pending, as (pool, ps).
    pub(crate) busy: BTreeSet<(u32, u32)>,
    pub(crate) delta: BTreeMap<u32, IoDelta>,
    pub(crate) delta_secs: f64,
    /// The cluster's target fill ratio, which wanders slowly.
    pub(crate) fill_target: f64,

    pub(crate) mons: Vec<Mon>,
    pub(crate) mon_epoch: u32,
    pub(crate) monmap_created: f64,
    pub(crate) election_epoch: u32,
    pub(crate) quorum_since: f64,
    pub(crate) mgr: Mgr,
    pub(crate) fs: Fs,
    pub(crate) services: ServiceMap,
    pub(crate) config: ConfigDb,
    pub(crate) log: ClusterLog,
    pub(crate) health: HealthState,
    pub(crate) perf: PerfState,
    pub(crate) events: Vec<Event>,
}

/// A CRUSH rule.
#[derive(Debug, Clone)]
pub(crate) struct CrushRule {
    pub(crate) id: u32,
    pub(crate) name: String,
    pub(crate) erasure: bool,
}

/// A pool to make at build time or by `osd pool create`.
#[derive(Debug, Clone)]
pub(crate) struct PoolSpec {
    pub(crate) name: String,
    pub(crate) kind: PoolKind,
    pub(crate) size: u32,
    pub(crate) min_size: u32,
    pub(crate) pg_num: u32,
    pub(crate) crush_rule: u32,
    pub(crate) application: Option<(String, BTreeMap<String, String>)>,
    pub(crate) object_size: u64,
    pub(crate) io_base: f64,
    pub(crate) data_share: f64,
    pub(crate) autoscale_mode: String,
}

/// Milliseconds of simulated time since `start`, as PG stamps store them.
pub(crate) fn ms_since(start: f64, t: f64) -> u32 {
    ((t - start).max(0.0) * 1000.0).min(f64::from(u32::MAX)) as u32
}

/// The nearest power of two to `n`, at least 1.
pub(crate) fn nearest_pow2(n: f64) -> u32 {
    if n <= 1.0 {
        return 1;
    }
    let exp = n.log2().round().clamp(0.0, 16.0);
    1u32 << (exp as u32)
}

/// A UUID-shaped string from a hash.
pub(crate) fn uuid(seed: u64, salt: u64) -> String {
    let a = hash2(seed, salt);
    let b = hash2(seed, salt ^ 0xdead_beef);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

impl Cluster {
    /// Builds a cluster from its settings: hosts, OSDs, CRUSH, the standard pools with their
    /// PGs mapped and filled, the mons, the mgr, the file system and the service map.
    pub(crate) fn build(settings: Settings) -> Self {
        let seed = settings.seed;
        let mut rng = Rng::new(seed);
        let start = settings.start as f64;
        // The cluster was created a day before the simulation starts; its daemons came up
        // over the following minutes.
        let created = start - 86_400.0 + rng.range_f(0.0, 1.0);
        let n_osds = settings.osds.max(1) as usize;
        let n_hosts = (settings.host_count() as usize).clamp(1, n_osds);

        // Hosts and OSDs: OSD ids run host by host; every fifth OSD of a host with five or
        // more is an SSD.
        let mut hosts = Vec::with_capacity(n_hosts);
        let mut osds = Vec::with_capacity(n_osds);
        let mut next_bucket = -2i32;
        let mut root_shadow = BTreeMap::new();
        let mut next_osd = 0i32;
        for h in 0..n_hosts {
            let count = n_osds / n_hosts + usize::from(h < n_osds % n_hosts);
            let mut ids = Vec::with_capacity(count);
            for i in 0..count {
                let class = if count >= 5 && i % 5 == 4 {
                    DeviceClass::Ssd
                } else {
                    DeviceClass::Hdd
                };
                let total = match class {
                    DeviceClass::Hdd => HDD_BYTES,
                    DeviceClass::Ssd => SSD_BYTES,
                };
                let id = next_osd;
                next_osd += 1;
                ids.push(id);
                let dev = format!("sd{}", char::from(b'b' + (i % 24) as u8));
                let serial = format!("{:08X}", hash2(seed, id as u64 + 7) & 0xffff_ffff);
                let devid = match class {
                    DeviceClass::Hdd => format!("SEAGATE_ST4000NM0035_ZC{serial}"),
                    DeviceClass::Ssd => format!("INTEL_SSDSC2KB960G8_PHYF{serial}"),
                };
                osds.push(Osd {
                    id,
                    host: h,
                    class,
                    crush_weight: crush_weight_of(total),
                    total_bytes: total,
                    up: true,
                    is_in: true,
                    autoout: false,
                    up_from: 5,
                    up_thru: 0,
                    down_at: 0,
                    last_clean_begin: 0,
                    last_clean_end: 0,
                    down_since: 0.0,
                    up_since: created + 4.0 + rng.range_f(0.0, 60.0),
                    in_since: created + 2.0 + rng.range_f(0.0, 2.0),
                    revive_at: None,
                    uuid: uuid(seed, 0x05d0_0000 + id as u64),
                    nonce: 1000 + (hash2(seed, 0x0a5e + id as u64) % 4_000_000) as u32,
                    port: 6800 + ((i % 32) * 8) as u16,
                    dev,
                    devid,
                    data_bytes: 0,
                    meta_bytes: 0,
                    omap_bytes: 0,
                    num_pgs: 0,
                    seq: 0,
                    apply_latency_ms: 0,
                    commit_latency_ms: 0,
                });
            }
            hosts.push(Host {
                name: format!("host-{h:04}"),
                ip: format!("10.0.{}.{}", h / 250, h % 250 + 1),
                osds: ids,
                bucket: 0,
                shadow: BTreeMap::new(),
            });
        }
        // Bucket ids as Ceph hands them out: the root's per-class shadows first, then each
        // host followed by its shadows.
        let classes: BTreeSet<DeviceClass> = osds.iter().map(|o| o.class).collect();
        for c in &classes {
            root_shadow.insert(*c, next_bucket);
            next_bucket -= 1;
        }
        for host in &mut hosts {
            host.bucket = next_bucket;
            next_bucket -= 1;
            let host_classes: BTreeSet<DeviceClass> = host
                .osds
                .iter()
                .filter_map(|&o| osds.get(o as usize).map(|x: &Osd| x.class))
                .collect();
            for c in host_classes {
                host.shadow.insert(c, next_bucket);
                next_bucket -= 1;
            }
        }
        let host_osds: Vec<Vec<i32>> = hosts.iter().map(|h| h.osds.clone()).collect();
        let weights: Vec<f64> = osds.iter().map(|o| o.crush_weight).collect();
        let crush = Crush::new(&host_osds, &weights, seed);

        let domains = if crush.domain_is_host {
            n_hosts
        } else {
            n_osds
        };
        let rep_size = domains.min(3) as u32;
        let rep_min = rep_size - rep_size / 2;
        let mut config = ConfigDb::default();
        let fsid = uuid(seed, 0xf51d);
        let mgr_host_ip = hosts.first().map(|h| h.ip.clone()).unwrap_or_default();

        let n_mons = if n_hosts < 3 {
            1
        } else if n_hosts < 50 {
            3
        } else {
            5
        };
        let mons: Vec<Mon> = (0..n_mons)
            .map(|i| Mon {
                name: char::from(b'a' + i as u8).to_string(),
                host: i % n_hosts,
                in_quorum: true,
                back_at: None,
            })
            .collect();
        let mon_host = mons
            .iter()
            .filter_map(|m| hosts.get(m.host))
            .map(|h| format!("[v2:{ip}:3300,v1:{ip}:6789]", ip = h.ip))
            .collect::<Vec<_>>()
            .join(",");
        crate::render::config::init_base(
            &mut config,
            &settings.mgr_id,
            &fsid,
            &mon_host,
            &mgr_host_ip,
            rep_size,
            rep_min,
        );

        let ec = if domains >= 6 {
            Some((4, 2))
        } else if domains >= 3 {
            Some((2, 1))
        } else {
            None
        };
        let mut ec_profiles = BTreeMap::new();
        ec_profiles.insert(
            "default".to_owned(),
            [
                ("k", "2"),
                ("m", "2"),
                ("plugin", "jerasure"),
                ("technique", "reed_sol_van"),
            ]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        );
        let mut crush_rules = vec![CrushRule {
            id: 0,
            name: "replicated_rule".to_owned(),
            erasure: false,
        }];

        // Pools, sized for about 100 PG replicas per OSD.
        let replicas = 100.0 * n_osds as f64;
        let pgs_for =
            |share: f64, size: u32| nearest_pow2(replicas * share / f64::from(size.max(1)));
        let (rbd_share, data_share, ec_share) = if ec.is_some() {
            (0.40, 0.25, 0.30)
        } else {
            (0.55, 0.40, 0.0)
        };
        let app = |name: &str, kv: &[(&str, &str)]| {
            Some((
                name.to_owned(),
                kv.iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            ))
        };
        let mut specs = vec![
            PoolSpec {
                name: "device_health_metrics".to_owned(),
                kind: PoolKind::Replicated,
                size: rep_size,
                min_size: rep_min,
                pg_num: 1,
                crush_rule: 0,
                application: app("mgr_devicehealth", &[]),
                object_size: 64 << 10,
                io_base: 0.2,
                data_share: 0.000_01,
                autoscale_mode: "on".to_owned(),
            },
            PoolSpec {
                name: "rbd".to_owned(),
                kind: PoolKind::Replicated,
                size: rep_size,
                min_size: rep_min,
                pg_num: pgs_for(rbd_share, rep_size),
                crush_rule: 0,
                application: app("rbd", &[]),
                object_size: 4 << 20,
                io_base: 30.0,
                data_share: 0.45,
                autoscale_mode: "on".to_owned(),
            },
            PoolSpec {
                name: "cephfs.cephfs.meta".to_owned(),
                kind: PoolKind::Replicated,
                size: rep_size,
                min_size: rep_min,
                pg_num: pgs_for(0.05, rep_size).max(4),
                crush_rule: 0,
                application: app("cephfs", &[("metadata", "cephfs")]),
                object_size: 8 << 10,
                io_base: 6.0,
                data_share: 0.002,
                autoscale_mode: "on".to_owned(),
            },
            PoolSpec {
                name: "cephfs.cephfs.data".to_owned(),
                kind: PoolKind::Replicated,
                size: rep_size,
                min_size: rep_min,
                pg_num: pgs_for(data_share, rep_size),
                crush_rule: 0,
                application: app("cephfs", &[("data", "cephfs")]),
                object_size: 2 << 20,
                io_base: 12.0,
                data_share: 0.30,
                autoscale_mode: "on".to_owned(),
            },
        ];
        if let Some((k, m)) = ec {
            let profile = format!("ec-{k}-{m}");
            ec_profiles.insert(
                profile.clone(),
                [
                    (
                        "crush-failure-domain",
                        if crush.domain_is_host { "host" } else { "osd" },
                    ),
                    ("k", &k.to_string()),
                    ("m", &m.to_string()),
                    ("plugin", "jerasure"),
                    ("technique", "reed_sol_van"),
                ]
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect(),
            );
            crush_rules.push(CrushRule {
                id: 1,
                name: "default.rgw.buckets.data".to_owned(),
                erasure: true,
            });
            specs.push(PoolSpec {
                name: "default.rgw.buckets.data".to_owned(),
                kind: PoolKind::Erasure { k, m, profile },
                size: k + m,
                min_size: k + 1.min(m - 1),
                pg_num: pgs_for(ec_share, k + m),
                crush_rule: 1,
                application: app("rgw", &[]),
                object_size: 4 << 20,
                io_base: 15.0,
                data_share: 0.25,
                autoscale_mode: "on".to_owned(),
            });
        }

        let mgr_gid = 4100 + hash2(seed, 0x3a9) % 20_000;
        let n_mds_hosts = n_hosts.min(2);
        let mut cluster = Self {
            rng,
            start,
            now: start,
            pending_time: 0.0,
            next_stats: start + 5.0,
            fsid,
            created,
            hosts,
            osds,
            crush,
            root_shadow,
            crush_rules,
            crush_version: 3,
            pools: BTreeMap::new(),
            pool_max: 0,
            ec_profiles,
            flags: osdflag::SORTBITWISE
                | osdflag::RECOVERY_DELETES
                | osdflag::PURGED_SNAPDIRS
                | osdflag::PGLOG_HARDLIMIT,
            osd_epoch: 5,
            osdmap_modified: created,
            last_up_change: created + 60.0,
            last_in_change: created + 4.0,
            blocklist: BTreeMap::new(),
            nearfull_ratio: 0.850_000_023_841_857_9,
            backfillfull_ratio: 0.899_999_976_158_142_1,
            full_ratio: 0.949_999_988_079_071,
            pg_version: 0,
            pg_stamp: start,
            pg_dirty: true,
            busy: BTreeSet::new(),
            delta: BTreeMap::new(),
            delta_secs: 5.0,
            fill_target: 0.0,
            mons,
            mon_epoch: 1,
            monmap_created: created,
            election_epoch: 3,
            quorum_since: created + 1.0,
            mgr: Mgr {
                id: settings.mgr_id.clone(),
                gid: mgr_gid,
                nonce: 1000 + (hash2(seed, 0x3a8) % 4_000_000) as u32,
                epoch: 11,
                since: start - 20.0,
                modules: Vec::new(),
                services: BTreeMap::new(),
            },
            fs: Fs {
                epoch: 1,
                name: "cephfs".to_owned(),
                created: created + 300.0,
                modified: created + 310.0,
                metadata_pool: 3,
                data_pools: vec![4],
                mds: (0..2)
                    .map(|i| Mds {
                        name: format!(
                            "cephfs.host-{:04}.{}",
                            i % n_mds_hosts,
                            ["qwmdst", "bckzdu"][i]
                        ),
                        host: i % n_mds_hosts,
                        gid: 14_100 + i as u64 * 17 + hash2(seed, 0x3d5 + i as u64) % 100,
                        nonce: 1000 + (hash2(seed, 0x3d6 + i as u64) % 4_000_000) as u32,
                        state: if i == 0 { "up:active" } else { "up:standby" },
                        state_seq: if i == 0 { 4 } else { 1 },
                        incarnation: if i == 0 { 4 } else { 0 },
                        since_epoch: 4,
                    })
                    .collect(),
                last_failure_osd_epoch: 0,
                next_transition: None,
            },
            services: ServiceMap {
                epoch: 2,
                modified: created + 400.0,
                rgw: Vec::new(),
            },
            config,
            log: ClusterLog::default(),
            health: HealthState::default(),
            perf: PerfState::default(),
            events: Vec::new(),
            settings,
        };
        cluster.mgr.modules = crate::render::mgr::default_modules();
        cluster.fill_target = 0.25 + 0.15 * cluster.rng.unit();
        for spec in specs {
            cluster.create_pool(spec, created + 200.0);
        }
        if cluster.pools.values().any(|p| p.is_ec()) {
            let n_rgw = n_hosts.min(2);
            cluster.services.rgw = (0..n_rgw)
                .map(|i| ServiceDaemon {
                    name: format!("default.host-{i:04}.{}", ["kfzqyl", "nvcrae"][i]),
                    host: i,
                    gid: 24_100 + i as u64 * 11 + hash2(seed, 0x6a1 + i as u64) % 100,
                    nonce: 1000 + (hash2(seed, 0x6a2 + i as u64) % 4_000_000) as u32,
                    start_epoch: 2,
                    start_stamp: created + 400.0,
                })
                .collect();
        }
        // The map history of a cluster that has been up for a day.
        cluster.osd_epoch = 40 + 2 * cluster.pools.len() as u32;
        cluster.fs.epoch = 8;
        cluster.fs.last_failure_osd_epoch = 0;
        for osd in &mut cluster.osds {
            osd.up_from = 12 + (osd.id as u32 % 7);
            osd.up_thru = osd.up_from + 20;
        }
        cluster.mgr.epoch = 14;
        cluster.osdmap_modified = start - 600.0;
        let fill = cluster.fill_target;
        cluster.fill_pools(fill);
        for pool in cluster.pools.values_mut() {
            pool.last_change = 20 + 3 * pool.id;
            for pg in &mut pool.pgs {
                pg.created = 30;
                pg.mapping_epoch = 38;
                pg.last_epoch_clean = 39;
                pg.version_epoch = 39;
                pg.reported_epoch = 40;
            }
        }
        let ids: Vec<u32> = cluster.pools.keys().copied().collect();
        for id in ids {
            cluster.refresh_pool_io(id, 0.0);
        }
        cluster.recount_osds();
        crate::perf::init(&mut cluster);
        crate::clog::startup(&mut cluster);
        cluster.health.update_silently(&cluster_health(&cluster));
        cluster.pg_version = 1000 + cluster.rng.below(500);
        cluster
    }

    /// Is this OSD out of the CRUSH placement (reweight 0)?
    pub(crate) fn osd_is_out(&self, id: i32) -> bool {
        self.osds.get(id as usize).is_none_or(|o| !o.is_in)
    }

    pub(crate) fn osd_is_up(&self, id: i32) -> bool {
        self.osds.get(id as usize).is_some_and(|o| o.up)
    }

    pub(crate) fn ms(&self, t: f64) -> u32 {
        ms_since(self.start, t)
    }

    pub(crate) fn now_ms(&self) -> u32 {
        self.ms(self.now)
    }

    /// Stamp (seconds) of a PG time in ms.
    pub(crate) fn at_ms(&self, ms: u32) -> f64 {
        self.start + f64::from(ms) / 1000.0
    }

    pub(crate) fn push_event(&mut self, kind: NotifyKind) {
        self.events.push(Event {
            kind,
            id: String::new(),
        });
    }

    /// Bumps the OSD map epoch and queues an `osd_map` notify.
    pub(crate) fn bump_osdmap(&mut self) {
        self.osd_epoch += 1;
        self.osdmap_modified = self.now;
        self.pg_dirty = true;
        self.push_event(NotifyKind::OsdMap);
    }

    /// Placement seed of a PG (Ceph hashes `ps` with the pool id for `hashpspool` pools).
    pub(crate) fn placement_seed(pool: u32, ps: u32) -> u64 {
        hash2(u64::from(pool) + 1, u64::from(ps))
    }

    /// Up set from a raw mapping: down OSDs dropped (replicated) or left as holes (EC).
    pub(crate) fn up_from_raw(&self, raw: &OsdSet, ec: bool) -> OsdSet {
        let mut up = OsdSet::default();
        for id in raw.iter() {
            if id != NONE && self.osd_is_up(id) {
                up.push(id);
            } else if ec {
                up.push(NONE);
            }
        }
        up
    }

    /// Creates a pool with its PGs, all active+clean and empty, mapped by CRUSH. Returns the
    /// new pool's id.
    pub(crate) fn create_pool(&mut self, spec: PoolSpec, t: f64) -> u32 {
        self.pool_max += 1;
        let id = self.pool_max;
        let mut application = BTreeMap::new();
        if let Some((app, kv)) = spec.application {
            application.insert(app, kv);
        }
        let flags = poolflag::HASHPSPOOL
            | if matches!(spec.kind, PoolKind::Erasure { .. }) {
                poolflag::EC_OVERWRITES
            } else {
                0
            };
        let io_phase = frac(hash2(self.settings.seed, u64::from(id) << 8)) * std::f64::consts::TAU;
        let mut pool = Pool {
            id,
            name: spec.name,
            kind: spec.kind,
            size: spec.size.clamp(1, MAX_REPLICAS as u32),
            min_size: spec.min_size.max(1),
            crush_rule: spec.crush_rule,
            flags,
            create_time: t,
            last_change: self.osd_epoch,
            autoscale_mode: spec.autoscale_mode,
            application,
            options: BTreeMap::new(),
            quota_max_bytes: 0,
            quota_max_objects: 0,
            object_size: spec.object_size.max(1),
            rd_ops: 0.0,
            wr_ops: 0.0,
            rd_op_bytes: 16_384.0,
            wr_op_bytes: 65_536.0,
            io_base: spec.io_base,
            io_phase,
            data_share: spec.data_share,
            pgs: Vec::new(),
            weight_sum: 0.0,
        };
        if pool.name == "device_health_metrics" {
            pool.options.insert("pg_num_min".to_owned(), 1);
            pool.options.insert("pg_num_max".to_owned(), 32);
        }
        self.pools.insert(id, pool);
        self.resize_pool(id, spec.pg_num.max(1));
        id
    }

    /// Sets a pool's PG count: PGs are created or dropped and the pool's data spread over the
    /// new set (Ceph splits and merges PGs; the totals are what matter here). New PGs peer.
    pub(crate) fn resize_pool(&mut self, id: u32, pg_num: u32) {
        let now_ms = self.now_ms();
        let epoch = self.osd_epoch;
        let seed = self.settings.seed;
        let Some(pool) = self.pools.get(&id) else {
            return;
        };
        let (size, ec) = (pool.size as usize, pool.is_ec());
        let old_len = pool.pgs.len();
        let total_bytes: u64 = pool.stored_bytes();
        let new_pgs: Vec<u32> = (old_len as u32..pg_num).collect();
        let mappings = self.map_many(id, &new_pgs, size, ec);
        let Some(pool) = self.pools.get_mut(&id) else {
            return;
        };
        pool.pgs.truncate(pg_num as usize);
        for (ps, (ideal, raw, up)) in new_pgs.iter().zip(mappings) {
            let weight = 0.6 + 0.8 * frac(hash3(seed, u64::from(id), u64::from(*ps))) as f32;
            pool.pgs.push(Pg {
                ideal,
                raw,
                up,
                acting: up,
                state: pgstate::ACTIVE | pgstate::CLEAN,
                until_ms: 0,
                bytes: 0,
                missing: 0,
                backfill_left: 0,
                rd: 0,
                rd_kb: 0,
                wr: 0,
                wr_kb: 0,
                recovered: 0,
                recovered_bytes: 0,
                version: 0,
                version_epoch: 0,
                reported_seq: u64::from(epoch) << 32,
                reported_epoch: epoch,
                created: epoch,
                mapping_epoch: epoch,
                last_epoch_clean: epoch,
                t_change: now_ms,
                t_active: now_ms,
                t_clean: now_ms,
                t_peered: now_ms,
                t_became_active: now_ms,
                t_became_peered: now_ms,
                t_unstale: now_ms,
                t_undegraded: now_ms,
                t_fullsized: now_ms,
                t_scrub: now_ms,
                t_deep_scrub: now_ms,
                t_report: now_ms,
                weight,
            });
        }
        pool.weight_sum = pool.pgs.iter().map(|p| f64::from(p.weight)).sum();
        // Spread the data again when the PG count changed on a pool that has some.
        if old_len > 0 && total_bytes > 0 {
            let ws = pool.weight_sum.max(1e-9);
            for pg in &mut pool.pgs {
                pg.bytes = (total_bytes as f64 * f64::from(pg.weight) / ws) as u64;
            }
        }
        // A new PG is being created until its first peering finishes.
        let affected: Vec<u32> = if old_len > 0 {
            (0..pg_num).collect()
        } else {
            Vec::new()
        };
        for ps in affected {
            self.start_peering(id, ps, 1.0);
        }
        // PGs merged away have no work left.
        self.busy.retain(|(p, s)| *p != id || *s < pg_num);
        self.pg_dirty = true;
    }

    /// CRUSH mappings (ideal, raw, up) of many PGs of one pool, on two threads when there are
    /// many: mapping is the one expensive step of building a large cluster.
    fn map_many(
        &self,
        pool: u32,
        pss: &[u32],
        size: usize,
        ec: bool,
    ) -> Vec<(OsdSet, OsdSet, OsdSet)> {
        let any_out = self.osds.iter().any(|o| !o.is_in);
        let one = |ps: u32| {
            let x = Self::placement_seed(pool, ps);
            let ideal = self.crush.map(x, size, ec, &|_| false);
            let raw = if any_out && ideal.osds().any(|o| self.osd_is_out(o)) {
                self.crush.map(x, size, ec, &|o| self.osd_is_out(o))
            } else {
                ideal
            };
            let up = self.up_from_raw(&raw, ec);
            (ideal, raw, up)
        };
        if pss.len() < 4096 {
            return pss.iter().map(|&ps| one(ps)).collect();
        }
        let mid = pss.len() / 2;
        let (a, b) = pss.split_at(mid);
        std::thread::scope(|scope| {
            let other = scope.spawn(|| b.iter().map(|&ps| one(ps)).collect::<Vec<_>>());
            let mut first: Vec<_> = a.iter().map(|&ps| one(ps)).collect();
            match other.join() {
                Ok(rest) => first.extend(rest),
                // The mapping code does not panic; if it ever did, map the rest here.
                Err(_) => first.extend(b.iter().map(|&ps| one(ps))),
            }
            first
        })
    }

    /// Gives the pools their initial data: `fill` of the raw capacity, split by each pool's
    /// share, spread over its PGs by their weights.
    fn fill_pools(&mut self, fill: f64) {
        let raw_total: f64 = self.osds.iter().map(|o| o.total_bytes as f64).sum();
        let shares: f64 = self
            .pools
            .values()
            .map(|p| p.data_share)
            .sum::<f64>()
            .max(1e-9);
        for pool in self.pools.values_mut() {
            let raw = raw_total * fill * pool.data_share / shares;
            let stored = raw / pool.raw_factor();
            let ws = pool.weight_sum.max(1e-9);
            for pg in &mut pool.pgs {
                pg.bytes = (stored * f64::from(pg.weight) / ws) as u64;
                let objects = pg.bytes.div_ceil(pool.object_size.max(1));
                pg.version = objects + objects / 3;
                pg.wr = pg.version;
                pg.wr_kb = pg.bytes / 1024;
                pg.rd = pg.version / 2;
                pg.rd_kb = pg.wr_kb / 3;
            }
        }
    }

    /// Recounts every OSD's PGs and the bytes its shards hold, from the acting sets. Down
    /// OSDs keep what they had.
    pub(crate) fn recount_osds(&mut self) {
        let n = self.osds.len();
        let mut pgs = vec![0u32; n];
        let mut data = vec![0u64; n];
        for pool in self.pools.values() {
            for pg in &pool.pgs {
                let shard = pool.shard_bytes(pg.bytes);
                for o in pg.acting.osds() {
                    if let Some(slot) = pgs.get_mut(o as usize) {
                        *slot += 1;
                    }
                    if let Some(slot) = data.get_mut(o as usize) {
                        *slot += shard;
                    }
                }
            }
        }
        for (i, osd) in self.osds.iter_mut().enumerate() {
            if !osd.up {
                continue;
            }
            osd.num_pgs = pgs.get(i).copied().unwrap_or(0);
            let d = data
                .get(i)
                .copied()
                .unwrap_or(0)
                .min(osd.total_bytes * 97 / 100);
            osd.data_bytes = d;
            // BlueFS/RocksDB: about 1 GiB plus 0.5 % of the data, and a little omap.
            osd.meta_bytes = (1 << 30) + d / 200;
            osd.omap_bytes = d / 5000;
        }
    }

    /// Starts peering a PG: its sets change now and it is inactive for a moment.
    pub(crate) fn start_peering(&mut self, pool: u32, ps: u32, secs: f64) {
        let now_ms = self.now_ms();
        let until = now_ms.saturating_add((secs * 1000.0) as u32).max(1);
        let epoch = self.osd_epoch;
        if let Some(pg) = self
            .pools
            .get_mut(&pool)
            .and_then(|p| p.pgs.get_mut(ps as usize))
        {
            pg.state = pgstate::PEERING | (pg.state & pgstate::DEGRADED);
            pg.until_ms = until;
            pg.t_change = now_ms;
            pg.mapping_epoch = epoch;
            self.busy.insert((pool, ps));
            self.pg_dirty = true;
        }
    }

    /// Recomputes the sets of every PG that involves one of `osds` (by its ideal or raw
    /// mapping), after those OSDs changed up/down or in/out. PGs whose up set changed start
    /// peering; data that must move becomes backfill, data written while a replica was away
    /// becomes recovery.
    pub(crate) fn remap_osds(&mut self, osds: &[i32], crush_changed: bool) {
        if osds.is_empty() {
            return;
        }
        let mut touched: Vec<(u32, u32)> = Vec::new();
        for pool in self.pools.values() {
            for (ps, pg) in pool.pgs.iter().enumerate() {
                let hit = osds.iter().any(|&o| {
                    pg.raw.contains(o)
                        || pg.acting.contains(o)
                        || (crush_changed && pg.ideal.contains(o))
                });
                if hit {
                    touched.push((pool.id, ps as u32));
                }
            }
        }
        let any_out = self.osds.iter().any(|o| !o.is_in);
        for (pool_id, ps) in touched {
            let Some(pool) = self.pools.get(&pool_id) else {
                continue;
            };
            let (size, ec) = (pool.size as usize, pool.is_ec());
            let Some(pg) = pool.pgs.get(ps as usize) else {
                continue;
            };
            let raw = if crush_changed {
                if any_out && pg.ideal.osds().any(|o| self.osd_is_out(o)) {
                    self.crush
                        .map(Self::placement_seed(pool_id, ps), size, ec, &|o| {
                            self.osd_is_out(o)
                        })
                } else {
                    pg.ideal
                }
            } else {
                pg.raw
            };
            let ideal = pg.ideal;
            self.transition(pool_id, ps, ideal, raw);
        }
    }

    /// Recomputes every PG of a pool after its size changed.
    pub(crate) fn repool(&mut self, pool_id: u32) {
        let Some(pool) = self.pools.get(&pool_id) else {
            return;
        };
        let (size, ec, n) = (pool.size as usize, pool.is_ec(), pool.pg_num());
        let pss: Vec<u32> = (0..n).collect();
        let maps = self.map_many(pool_id, &pss, size, ec);
        for (ps, (ideal, raw, _)) in pss.into_iter().zip(maps) {
            self.transition(pool_id, ps, ideal, raw);
        }
        self.recount_osds();
    }

    /// Moves a PG to a new CRUSH mapping: its up set follows, the acting set keeps the
    /// OSDs that hold the data while new members backfill (a pg_temp), returning members
    /// recover what they missed, and the PG peers if anything changed.
    fn transition(&mut self, pool_id: u32, ps: u32, ideal: OsdSet, raw: OsdSet) {
        let Some(pool) = self.pools.get(&pool_id) else {
            return;
        };
        let (ec, size) = (pool.is_ec(), pool.size as usize);
        let Some(pg) = pool.pgs.get(ps as usize) else {
            return;
        };
        let old_raw = pg.raw;
        let up = self.up_from_raw(&raw, ec);
        let (old_up, old_acting) = (pg.up, pg.acting);
        // A member that was in the mapping but down, and is up again, has the data up to
        // when it went down: it recovers from the log. Any other newcomer backfills.
        let returning = |o: i32| !old_up.contains(o) && old_raw.contains(o);
        let is_new = |o: i32| !old_acting.contains(o) && !returning(o);
        let new_members = up.osds().filter(|&o| is_new(o)).count() as u64;
        let came_back = up.osds().any(|o| returning(o) && !old_acting.contains(o));
        let holders: Vec<i32> = old_acting.osds().filter(|&o| self.osd_is_up(o)).collect();
        let objects = pool.objects(pg.bytes);
        let acting = if new_members > 0 && !holders.is_empty() && objects > 0 {
            // Keep serving from the OSDs that have the data (a pg_temp) while the new
            // members backfill.
            let mut a = OsdSet::default();
            if ec {
                for (i, u) in up.iter().enumerate() {
                    let o = old_acting.iter().nth(i).unwrap_or(NONE);
                    if u != NONE && !is_new(u) {
                        a.push(u);
                    } else if o != NONE && self.osd_is_up(o) {
                        a.push(o);
                    } else {
                        a.push(NONE);
                    }
                }
            } else {
                // The holders first, then returning members, never more than the size.
                let others = up.osds().filter(|&o| !is_new(o) && !holders.contains(&o));
                for o in holders.iter().copied().chain(others).take(size) {
                    a.push(o);
                }
            }
            a
        } else {
            up
        };
        let Some(pg) = self
            .pools
            .get_mut(&pool_id)
            .and_then(|p| p.pgs.get_mut(ps as usize))
        else {
            return;
        };
        pg.raw = raw;
        pg.ideal = ideal;
        if up == old_up && acting == old_acting {
            return;
        }
        pg.up = up;
        pg.acting = acting;
        if acting != up {
            pg.backfill_left = pg.backfill_left.max(objects * new_members);
        } else {
            pg.backfill_left = 0;
        }
        if acting == up && new_members > 0 && holders.is_empty() && objects > 0 {
            // Nobody left with the data: everything must be recovered.
            pg.missing = pg.missing.max(objects);
        }
        if came_back && pg.missing == 0 && objects > 0 {
            // The returning replica missed at least the last log entries.
            pg.missing = (objects / 200).clamp(1, objects);
        }
        let secs = 1.0 + frac(hash3(0x9ee, u64::from(pool_id), u64::from(ps))) * 3.0;
        self.start_peering(pool_id, ps, secs);
    }

    /// Marks an OSD down (as the mons do on failure reports or `osd down`).
    pub(crate) fn mark_down(&mut self, id: i32) -> bool {
        let epoch = self.osd_epoch + 1;
        let now = self.now;
        let Some(osd) = self.osds.get_mut(id as usize) else {
            return false;
        };
        if !osd.up {
            return false;
        }
        osd.up = false;
        osd.down_at = epoch;
        osd.down_since = now;
        osd.last_clean_begin = osd.up_from;
        osd.last_clean_end = epoch.saturating_sub(1);
        self.last_up_change = now;
        self.bump_osdmap();
        self.remap_osds(&[id], false);
        true
    }

    /// Marks a down OSD up again (its daemon booted).
    pub(crate) fn mark_up(&mut self, id: i32) -> bool {
        let epoch = self.osd_epoch + 1;
        let now = self.now;
        let noin = self.flags & osdflag::NOIN != 0;
        let Some(osd) = self.osds.get_mut(id as usize) else {
            return false;
        };
        if osd.up {
            return false;
        }
        osd.up = true;
        osd.up_from = epoch;
        osd.up_thru = epoch;
        osd.up_since = now;
        osd.revive_at = None;
        let back_in = osd.autoout && !osd.is_in && !noin;
        if back_in {
            osd.is_in = true;
            osd.autoout = false;
            osd.in_since = now;
        }
        self.last_up_change = now;
        self.bump_osdmap();
        if back_in {
            self.last_in_change = now;
        }
        self.remap_osds(&[id], back_in);
        true
    }

    /// Marks an OSD out (`auto` for the mons' own down-out) or in.
    pub(crate) fn set_in(&mut self, id: i32, is_in: bool, auto: bool) -> bool {
        let now = self.now;
        let Some(osd) = self.osds.get_mut(id as usize) else {
            return false;
        };
        if osd.is_in == is_in {
            return false;
        }
        osd.is_in = is_in;
        osd.autoout = !is_in && auto;
        osd.in_since = now;
        self.last_in_change = now;
        self.bump_osdmap();
        self.remap_osds(&[id], true);
        true
    }

    /// Removes a pool and its PGs.
    pub(crate) fn remove_pool(&mut self, id: u32) {
        if self.pools.remove(&id).is_some() {
            self.busy.retain(|(p, _)| *p != id);
            self.delta.remove(&id);
            self.bump_osdmap();
            self.recount_osds();
        }
    }

    pub(crate) fn pool_by_name(&self, name: &str) -> Option<&Pool> {
        self.pools.values().find(|p| p.name == name)
    }

    /// Sets a pool's client IO rates for time `t` (seconds since start): a daily-ish wave
    /// around its base rate, scaled by the cluster's size.
    pub(crate) fn refresh_pool_io(&mut self, id: u32, t: f64) {
        let scale = (self.osds.len() as f64).sqrt() * 4.0;
        let paused_rd = self.flags & osdflag::PAUSERD != 0;
        let paused_wr = self.flags & osdflag::PAUSEWR != 0;
        let jitter = 0.85 + 0.3 * self.rng.unit();
        let Some(pool) = self.pools.get_mut(&id) else {
            return;
        };
        let wave = 1.0 + 0.6 * (t / 900.0 * std::f64::consts::TAU + pool.io_phase).sin();
        let base = pool.io_base * scale * wave * jitter;
        pool.rd_ops = if paused_rd { 0.0 } else { base * 1.6 };
        pool.wr_ops = if paused_wr { 0.0 } else { base };
    }

    /// Total raw bytes and used raw bytes over every OSD.
    pub(crate) fn raw_totals(&self) -> (u64, u64) {
        let total = self.osds.iter().map(|o| o.total_bytes).sum();
        let used = self.osds.iter().map(|o| o.used_bytes()).sum();
        (total, used)
    }

    /// The root bucket's id (always -1) and the name of the root.
    pub(crate) fn host_name_of(&self, osd: i32) -> &str {
        self.osds
            .get(osd as usize)
            .and_then(|o| self.hosts.get(o.host))
            .map_or("", |h| h.name.as_str())
    }

    /// Address of an OSD's port `k` (0..4: public v2/v1, cluster v2/v1, ...).
    pub(crate) fn osd_addr(&self, osd: &Osd, k: u16) -> String {
        let ip = self
            .hosts
            .get(osd.host)
            .map_or("0.0.0.0", |h| h.ip.as_str());
        format!("{ip}:{}", osd.port + k)
    }

    /// The hash of a daemon name, for deterministic per-daemon variety.
    pub(crate) fn salt(&self, s: &str) -> u64 {
        s.bytes()
            .fold(mix64(self.settings.seed), |h, b| hash2(h, u64::from(b)))
    }
}

/// 16.16 fixed-point weight of a device, as CRUSH rounds TiB.
pub(crate) fn crush_weight_of(bytes: u64) -> f64 {
    let tib = bytes as f64 / (1u64 << 40) as f64;
    (tib * 65536.0).round() / 65536.0
}

/// The health checks the cluster raises now.
pub(crate) fn cluster_health(c: &Cluster) -> Vec<crate::HealthCheck> {
    crate::health::compute(c)
}
