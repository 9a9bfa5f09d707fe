//! A deterministic, seeded simulation of a Ceph 16.2 (pacific) cluster that answers in the
//! exact JSON shapes a real ceph-mgr hands to its Python modules, evolves on a clock, and
//! accepts the cluster's own commands as `ceph` sends them to a mon.
//!
//! ```
//! use std::time::Duration;
//! use wasmgr_sim::{NotifyKind, Settings, Sim};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let sim = Sim::new(Settings::parse("osds=12,seed=7")?);
//! // The maps, in ceph-mgr's shapes.
//! let osd_map: serde_json::Value = serde_json::from_str(&sim.get("osd_map")?)?;
//! assert_eq!(osd_map["osds"].as_array().map(Vec::len), Some(12));
//!
//! // A command with real effects: the OSD map changes and says so.
//! let reply = sim.handle_command(r#"{"prefix": "osd set", "key": "noout"}"#, b"");
//! assert_eq!(reply.retval, 0);
//! assert!(reply.events.iter().any(|e| e.kind == NotifyKind::OsdMap));
//! assert!(sim.health_checks().iter().any(|c| c.code == "OSDMAP_FLAGS"));
//!
//! // Time passes: IO, stats reports, PG map versions, cluster log lines.
//! let events = sim.step(Duration::from_secs(10));
//! assert!(events.iter().any(|e| e.kind == NotifyKind::PgSummary));
//! # Ok(())
//! # }
//! ```
//!
//! # What is modelled
//! Hosts of OSDs (device class, crush weight, up/in, utilisation) under a CRUSH root with
//! straw2 buckets; replicated and erasure-coded pools whose PGs are placed by a CRUSH-like
//! choose loop (marking an OSD out moves exactly the PGs that had it); PG states from peering
//! through degraded, recovering and backfilling to active+clean; mons with a quorum, the mgr
//! map (this daemon active), one file system with an active and a standby MDS, a service
//! map with RGWs, devices, perf counters with 20-sample time series, client IO that varies,
//! usage that wanders, spontaneous OSD and host failures, the cluster's health checks and its
//! cluster log. Everything follows from the [`Settings`] (size and seed): the same settings and
//! the same calls give the same answers.
//!
//! # Reading
//! [`Sim::get`] answers every `MgrModule.get` name ([`DATA_NAMES`], [`UNDOCUMENTED_DATA_NAMES`],
//! `device <devid>`), with pacific's quirks (`health` and `mon_status` double-encoded, unknown
//! `osd_map*`/`config*` names answered `{}`). Large documents are serialised at most once per
//! map epoch or PG map version and shared as `Arc<str>` by every reader.
//!
//! # Architecture
//! This crate knows nothing of WebAssembly or of the wasmgr host: it is a model with a
//! read/command API, so it can also serve module authors' own tests.

#![deny(missing_docs)]
#![recursion_limit = "256"]

mod cache;
mod clock;
mod clog;
mod commands;
mod crush;
mod evolve;
mod health;
mod json;
mod model;
mod perf;
mod render;
mod rng;
mod settings;
mod time;

use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

pub use clock::Clock;
pub use clog::{LogEntry, Priority};
pub use commands::{ArgSpec, ArgType, CommandDesc, CommandReply, command_descriptions};
pub use health::{HealthCheck, Severity};
pub use settings::{MAX_OSDS, SETTING_KEYS, Settings, SettingsError};

use cache::Cache;
use model::Cluster;

/// Every `MgrModule.get(data_name)` name ceph-mgr documents (the same list as the host's).
pub const DATA_NAMES: &[&str] = &[
    "osd_map",
    "osd_map_tree",
    "osd_map_crush",
    "config",
    "mon_map",
    "fs_map",
    "osd_metadata",
    "pg_summary",
    "io_rate",
    "pg_dump",
    "df",
    "osd_stats",
    "health",
    "mon_status",
    "devices",
    "pg_stats",
    "pool_stats",
    "pg_ready",
    "osd_ping_times",
    "mgr_map",
    "mgr_ips",
    "modified_config_options",
    "service_map",
    "mds_metadata",
    "have_local_config_map",
    "osd_pool_stats",
    "pg_status",
    "osdmap_crush_map_text",
];

/// Names pacific's ceph-mgr also accepts that the module contract does not document.
pub const UNDOCUMENTED_DATA_NAMES: &[&str] = &["pg_progress", "active_clean_pgs", "config_options"];

/// `get("device <devid>")` asks for one device.
pub const DEVICE_PREFIX: &str = "device ";

/// The kinds of notification ceph-mgr sends its modules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NotifyKind {
    /// A new mon map.
    MonMap,
    /// A new OSD map.
    OsdMap,
    /// A new FS map.
    FsMap,
    /// A new service map.
    ServiceMap,
    /// A new mgr map.
    MgrMap,
    /// Health changed (or was re-reported).
    Health,
    /// A new PG map digest (every stats period).
    PgSummary,
    /// A cluster log entry; the event's id is the entry as JSON.
    Clog,
    /// A command finished (sent by the host for `send_command` completions, never by the
    /// simulator itself).
    Command,
}

impl NotifyKind {
    /// The name ceph-mgr uses: `osd_map`, `pg_summary`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MonMap => "mon_map",
            Self::OsdMap => "osd_map",
            Self::FsMap => "fs_map",
            Self::ServiceMap => "service_map",
            Self::MgrMap => "mgr_map",
            Self::Health => "health",
            Self::PgSummary => "pg_summary",
            Self::Clog => "clog",
            Self::Command => "command",
        }
    }

    /// Every kind.
    pub const ALL: [NotifyKind; 9] = [
        Self::MonMap,
        Self::OsdMap,
        Self::FsMap,
        Self::ServiceMap,
        Self::MgrMap,
        Self::Health,
        Self::PgSummary,
        Self::Clog,
        Self::Command,
    ];
}

/// A notification: its kind and its id (empty, except for `clog`: the log entry as JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// What changed.
    pub kind: NotifyKind,
    /// The notify id.
    pub id: String,
}

/// Why the simulator cannot answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// The thing asked for does not exist.
    #[error("{what} not found: {hint}")]
    NotFound {
        /// What was asked for.
        what: String,
        /// What to do instead.
        hint: String,
    },
}

/// A simulated cluster, safe to share between threads (`Arc<Sim>`): reads take a shared lock,
/// [`Sim::step`] and commands an exclusive one.
pub struct Sim {
    model: RwLock<Cluster>,
    cache: Cache,
    settings: Settings,
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("settings", &self.settings.to_string())
            .finish()
    }
}

impl Sim {
    /// Builds the cluster. At 10,000 OSDs this maps about 213,000 PGs (840,000 PG replicas)
    /// with CRUSH, on two threads, in a second or two.
    pub fn new(settings: Settings) -> Self {
        let cluster = Cluster::build(settings.clone());
        Self {
            model: RwLock::new(cluster),
            cache: Cache::default(),
            settings,
        }
    }

    /// Builds the cluster from a config string (see [`Settings`]).
    pub fn from_config(config: &str) -> Result<Self, SettingsError> {
        Ok(Self::new(Settings::parse(config)?))
    }

    /// The settings this cluster was built with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    fn read(&self) -> RwLockReadGuard<'_, Cluster> {
        self.model.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Cluster> {
        self.model.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Advances simulated time by `dt` (in one-second ticks; a remainder carries over to the
    /// next call) and returns what happened, in order: at most one event of each kind, except
    /// `clog`, which has one event per log entry.
    pub fn step(&self, dt: Duration) -> Vec<Event> {
        let mut c = self.write();
        c.advance(dt.as_secs_f64());
        take_events(&mut c)
    }

    /// Simulated time now, seconds since the Unix epoch.
    pub fn now(&self) -> f64 {
        self.read().now
    }

    /// The notifications a module gets when the mgr starts: one of every map kind, health
    /// and the PG summary.
    pub fn initial_events(&self) -> Vec<Event> {
        [
            NotifyKind::MonMap,
            NotifyKind::OsdMap,
            NotifyKind::FsMap,
            NotifyKind::ServiceMap,
            NotifyKind::MgrMap,
            NotifyKind::Health,
            NotifyKind::PgSummary,
        ]
        .into_iter()
        .map(|kind| Event {
            kind,
            id: String::new(),
        })
        .collect()
    }

    /// `MgrModule.get(data_name)`, as JSON text. Unknown names answer like pacific: any name
    /// starting with `osd_map` or `config` is `{}`, `device <devid>` of an unknown device is
    /// `{}`, anything else is [`SimError::NotFound`] listing the valid names (ceph-mgr returns
    /// `None`).
    pub fn get(&self, data_name: &str) -> Result<Arc<str>, SimError> {
        let c = self.read();
        if let Some(devid) = data_name.strip_prefix(DEVICE_PREFIX)
            && !devid.is_empty()
        {
            return Ok(render::osdmap::device(&c, devid).into());
        }
        let known = DATA_NAMES.contains(&data_name) || UNDOCUMENTED_DATA_NAMES.contains(&data_name);
        if !known {
            if data_name.starts_with("osd_map") || data_name.starts_with("config") {
                return Ok(Arc::from("{}"));
            }
            let mut names: Vec<&str> = DATA_NAMES.to_vec();
            names.extend_from_slice(UNDOCUMENTED_DATA_NAMES);
            names.push("device <devid>");
            return Err(SimError::NotFound {
                what: format!("cluster data name `{data_name}`"),
                hint: format!(
                    "ceph-mgr does not know this name; valid names are: {}",
                    names.join(", ")
                ),
            });
        }
        Ok(self
            .cache
            .get(&c, data_name, render::version(&c, data_name), |c| {
                render::get(c, data_name)
            }))
    }

    /// `MgrModule.get_server(hostname)`: the daemons on one host; an unknown host has no
    /// services and an empty version, as ceph-mgr answers.
    pub fn get_server(&self, hostname: &str) -> Arc<str> {
        render::daemons::server(&self.read(), hostname).into()
    }

    /// `MgrModule.list_servers()`: every host with its daemons.
    pub fn list_servers(&self) -> Arc<str> {
        let c = self.read();
        self.cache.get(
            &c,
            "#list_servers",
            render::version(&c, "#list_servers"),
            render::daemons::list_servers,
        )
    }

    /// `MgrModule.get_metadata(svc_type, svc_id)`; `None` for an unknown daemon.
    pub fn get_metadata(&self, svc_type: &str, svc_id: &str) -> Option<Arc<str>> {
        render::daemons::metadata(&self.read(), svc_type, svc_id).map(Arc::from)
    }

    /// `MgrModule.get_daemon_status(svc_type, svc_id)`: `{}` for a known daemon without a
    /// status (only service-map daemons have one), `None` for an unknown one.
    pub fn get_daemon_status(&self, svc_type: &str, svc_id: &str) -> Option<Arc<str>> {
        render::daemons::daemon_status(&self.read(), svc_type, svc_id).map(Arc::from)
    }

    /// `MgrModule.get_perf_schema(svc_type, svc_id)`: `{"<type>.<id>": {counter: schema}}`;
    /// an empty type means every daemon, an empty id every daemon of the type; an unknown
    /// daemon gives `{}`.
    pub fn get_perf_schema(&self, svc_type: &str, svc_id: &str) -> Arc<str> {
        let c = self.read();
        if svc_type.is_empty() || svc_id.is_empty() {
            let key = format!("#schema {svc_type}");
            let v = render::version(&c, &key);
            let kind = svc_type.to_owned();
            return self.cache.get(&c, &key, v, move |c| {
                render::daemons::perf_schema(c, &kind, "")
            });
        }
        render::daemons::perf_schema(&c, svc_type, svc_id).into()
    }

    /// `MgrModule.get_counter(svc_type, svc_id, path)`: `{"<path>": [[t, v], ...]}` (samples
    /// `[t, sum, count]` for averages), no samples for an unknown daemon or counter.
    pub fn get_counter(&self, svc_type: &str, svc_id: &str, path: &str) -> Arc<str> {
        self.read().counter_json(svc_type, svc_id, path).into()
    }

    /// `MgrModule.get_latest(svc_type, svc_id, path)`: the newest value (the sum, for an
    /// average), `0` when there is none.
    pub fn get_latest(&self, svc_type: &str, svc_id: &str, path: &str) -> Arc<str> {
        let c = self.read();
        let last = c.perf.times.len().checked_sub(1);
        let v = last
            .and_then(|s| c.perf_reading(svc_type, svc_id, path, Some(s)))
            .map_or(0, perf::Reading::value);
        v.to_string().into()
    }

    /// `MgrModule.get_latest_counter(svc_type, svc_id, path)`: `{"<path>": [t, v]}` (or
    /// `[t, sum, count]`), `{"<path>": []}` when there is no sample.
    pub fn get_latest_counter(&self, svc_type: &str, svc_id: &str, path: &str) -> Arc<str> {
        self.read()
            .latest_counter_json(svc_type, svc_id, path)
            .into()
    }

    /// `MgrModule.get_latest_avg(svc_type, svc_id, path)`: `[sum, count]`, `[0, 0]` when there
    /// is none.
    pub fn get_latest_avg(&self, svc_type: &str, svc_id: &str, path: &str) -> Arc<str> {
        let c = self.read();
        let last = c.perf.times.len().checked_sub(1);
        let (s, n) = match last.and_then(|s| c.perf_reading(svc_type, svc_id, path, Some(s))) {
            Some(perf::Reading::Avg(s, n)) => (s, n),
            _ => (0, 0),
        };
        format!("[{s},{n}]").into()
    }

    /// `MgrModule.get_all_perf_counters()`: every daemon's counters with schema and value.
    pub fn get_all_perf_counters(&self) -> Arc<str> {
        let c = self.read();
        self.cache.get(
            &c,
            "#all_perf",
            render::version(&c, "#all_perf"),
            Cluster::all_perf_counters_json,
        )
    }

    /// `MgrModule.get_daemon_health_metrics()`: `{daemon: [{type, value}]}`.
    pub fn get_daemon_health_metrics(&self) -> Arc<str> {
        render::daemons::health_metrics(&self.read()).into()
    }

    /// `MgrModule.get_ceph_option(key)`: the mgr's value of a Ceph option, typed as ceph-mgr
    /// types it (JSON). Unknown options are [`SimError::NotFound`] (ceph-mgr raises
    /// `KeyError`).
    pub fn ceph_option(&self, key: &str) -> Result<Arc<str>, SimError> {
        render::config::ceph_option(&self.read(), key).map(Arc::from)
    }

    /// `MgrModule.get_mgr_id()`.
    pub fn mgr_id(&self) -> String {
        self.settings.mgr_id.clone()
    }

    /// `MgrModule.version` and `MgrModule.release_name`.
    pub fn version(&self) -> (String, String) {
        (model::CEPH_VERSION.to_owned(), "pacific".to_owned())
    }

    /// `MgrModule.have_mon_connection()`: always true here.
    pub fn have_mon_connection(&self) -> bool {
        true
    }

    /// `simulated (osds=…,seed=…)`, for status lines.
    pub fn describe(&self) -> String {
        format!("simulated ({})", self.settings)
    }

    /// Runs a cluster command as a mon (or, for `pg`/`osd df` commands, the mgr) would: `cmd`
    /// is the command map as JSON (`prefix`, typed arguments, optional `format`). Arguments
    /// are checked here too, with the mon's wording. Returns `(retval, stdout, stderr)` and the
    /// notifications the command caused.
    pub fn handle_command(&self, cmd: &str, inbuf: &[u8]) -> CommandReply {
        commands::handle(self, cmd, inbuf)
    }

    /// The cluster's own health checks now (not including any module's).
    pub fn health_checks(&self) -> Vec<HealthCheck> {
        self.read().health.checks.clone()
    }

    /// `HEALTH_OK`, `HEALTH_WARN` or `HEALTH_ERR` from the cluster's own checks.
    pub fn health_status(&self) -> &'static str {
        self.read().health.status()
    }

    /// The last `n` cluster log entries of `channel` (`cluster`, `audit`, or `*` for all),
    /// oldest first, as `ceph log last [n] [level] [channel]` selects them (debug entries
    /// included only when `level` is [`Priority::Dbg`]).
    pub fn log_last(&self, n: usize, level: Priority, channel: &str) -> Vec<LogEntry> {
        self.read().log_last(n, channel, level)
    }

    /// Writes an entry to the cluster log as `who` (e.g. `mgr.x`), as a module's
    /// `cluster_log` does; returns its `clog` notify.
    pub fn log(&self, who: &str, channel: &str, priority: Priority, message: &str) -> Vec<Event> {
        let mut c = self.write();
        let who = if who.is_empty() {
            format!("mgr.{}", c.mgr.id)
        } else {
            who.to_owned()
        };
        c.log_as(&who, channel, priority, message.to_owned());
        take_events(&mut c)
    }

    /// What `ceph -s` prints (`json == false`), or `ceph status -f json`'s document.
    pub fn status(&self, json: bool) -> String {
        let c = self.read();
        if json {
            render::status::json(&c).to_string()
        } else {
            render::text::status(&c)
        }
    }

    /// Sets the mgr map's list of enabled modules (the host's own modules); bumps the mgr
    /// map when it changes.
    pub fn set_mgr_modules(&self, modules: &[String]) -> Vec<Event> {
        let mut c = self.write();
        let mut sorted = modules.to_vec();
        sorted.sort();
        sorted.dedup();
        if c.mgr.modules != sorted {
            c.mgr.modules = sorted;
            c.mgr.epoch += 1;
            c.push_event(NotifyKind::MgrMap);
        }
        take_events(&mut c)
    }

    /// Sets the mgr map's services (`{"prometheus": "http://…"}`); bumps the mgr map when
    /// they change.
    pub fn set_mgr_services(&self, services: &[(String, String)]) -> Vec<Event> {
        let mut c = self.write();
        let map: std::collections::BTreeMap<String, String> = services.iter().cloned().collect();
        if c.mgr.services != map {
            c.mgr.services = map;
            c.mgr.epoch += 1;
            c.push_event(NotifyKind::MgrMap);
        }
        take_events(&mut c)
    }

    /// Checks the model's invariants and returns what is broken (nothing, normally): every
    /// PG maps to existing OSDs, no up set holds an out or down OSD, the acting sets hold only
    /// existing OSDs, the counters are consistent. For tests.
    #[doc(hidden)]
    pub fn check_invariants(&self) -> Vec<String> {
        self.read().check_invariants()
    }

    /// The epochs and versions of the maps: (osdmap, pgmap, monmap, fsmap, mgrmap,
    /// servicemap). For tests.
    #[doc(hidden)]
    pub fn epochs(&self) -> [u64; 6] {
        let c = self.read();
        [
            u64::from(c.osd_epoch),
            c.pg_version,
            u64::from(c.mon_epoch),
            u64::from(c.fs.epoch),
            u64::from(c.mgr.epoch),
            u64::from(c.services.epoch),
        ]
    }

    /// The up sets of every PG, by PG id. For tests.
    #[doc(hidden)]
    pub fn pg_up_sets(&self) -> std::collections::BTreeMap<String, Vec<i32>> {
        let c = self.read();
        let mut out = std::collections::BTreeMap::new();
        for pool in c.pools.values() {
            for (ps, pg) in pool.pgs.iter().enumerate() {
                out.insert(format!("{}.{ps:x}", pool.id), pg.up.to_vec());
            }
        }
        out
    }
}

/// The events queued in the model, with repeats of one kind (other than `clog`) dropped.
fn take_events(c: &mut Cluster) -> Vec<Event> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for e in c.events.drain(..) {
        if e.kind != NotifyKind::Clog {
            if seen.contains(&e.kind) {
                continue;
            }
            seen.push(e.kind);
        }
        out.push(e);
    }
    out
}

impl Cluster {
    fn check_invariants(&self) -> Vec<String> {
        let mut errs = Vec::new();
        let n = self.osds.len() as i32;
        for pool in self.pools.values() {
            if pool.pgs.is_empty() {
                errs.push(format!("pool {} has no PGs", pool.id));
            }
            for (ps, pg) in pool.pgs.iter().enumerate() {
                let id = format!("{}.{ps:x}", pool.id);
                for set in [&pg.up, &pg.acting, &pg.raw, &pg.ideal] {
                    if set.osds().any(|o| o < 0 || o >= n) {
                        errs.push(format!(
                            "pg {id} maps to a nonexistent OSD: {:?}",
                            set.to_vec()
                        ));
                    }
                    if set.len() > pool.size as usize {
                        errs.push(format!("pg {id} has more OSDs than its pool's size"));
                    }
                }
                if pg.up.osds().any(|o| self.osd_is_out(o)) {
                    errs.push(format!("pg {id} is up on an out OSD: {:?}", pg.up.to_vec()));
                }
                if pg.up.osds().any(|o| !self.osd_is_up(o)) {
                    errs.push(format!("pg {id} is up on a down OSD: {:?}", pg.up.to_vec()));
                }
                let scrubbing = pg.state & model::pgstate::SCRUBBING != 0;
                if pg.state & model::pgstate::CLEAN != 0
                    && (pg.up != pg.acting
                        || (!scrubbing && self.busy.contains(&(pool.id, ps as u32))))
                {
                    errs.push(format!("pg {id} is clean but remapped or busy"));
                }
            }
        }
        errs
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_sim_and_its_clock_can_be_shared_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<super::Sim>();
        send_sync::<super::Clock>();
    }
}
