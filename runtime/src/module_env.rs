//! What every instance of one module shares: its identity, its limits, its declared options,
//! and the host services it reaches (persistence, cluster state, health board, log).

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use crate::bindings::{
    ClogPriority, ErrorCode, GuestError, HealthCheck, Level, NotifyKind, OptionValue,
};
use crate::caps::{Cap, Effective, Requests};
use crate::clog::ClusterLog;
use crate::cluster::ClusterSource;
use crate::health::HealthBoard;
use crate::host::command::{CommandRunner, Pending};
use crate::limits::Limits;
use crate::link::Link;
use crate::loader::Services;
use crate::options::{self, OptionError, OptionProblem, OptionSet};
use crate::persist::{PersistError, Persistence, Space};

/// Counters kept per module, shown by `module info`.
#[derive(Debug, Default)]
pub struct ModuleStats {
    /// Calls made into the module (commands, notifies, describe, shutdown).
    pub calls: AtomicU64,
    /// Traps (fuel, deadline, memory, panic, other).
    pub traps: AtomicU64,
    /// Restarts after a trap.
    pub restarts: AtomicU64,
    /// Log lines dropped by the rate limit.
    pub log_dropped: AtomicU64,
    /// Bytes the current instance's memories and tables hold.
    pub memory_bytes: AtomicU64,
    /// The most [`ModuleStats::memory_bytes`] has been, over every instance.
    pub memory_high_water: AtomicU64,
}

/// A module's shared environment.
pub struct ModuleEnv {
    /// The module's name (its file name without `.wasm`).
    pub name: String,
    /// The id of this manager, for localized options and keys.
    pub mgr_id: String,
    /// Where options and KV data live.
    pub persist: Arc<dyn Persistence>,
    /// Where cluster state comes from.
    pub cluster: Arc<dyn ClusterSource>,
    /// The limits this module runs under.
    pub limits: Limits,
    /// Where the module's health checks go.
    pub health: Arc<HealthBoard>,
    /// Counters.
    pub stats: ModuleStats,
    options: RwLock<Arc<OptionSet>>,
    level: AtomicU8,
    debug_mgr: String,
    log_bucket: Mutex<(Instant, u32)>,
    /// False once the module was disabled or failed: its leftover calls may no longer raise
    /// health checks. A re-enable loads a new environment.
    active: AtomicBool,
    /// What the module keeps on disk, counted once from the store and then kept up to date by
    /// every write through [`ModuleEnv::write_accounted`], so a write costs no scan of the
    /// module's data. `None` until first needed, or after an operator wrote to the module's
    /// keys directly ([`ModuleEnv::invalidate_usage`]).
    usage: Mutex<Option<StoreUsage>>,
    /// The store write budget: (when last refilled, bytes left).
    write_bucket: Mutex<(Instant, u64)>,
    /// The way back to the supervisor (command completions, remote calls).
    pub(crate) link: Arc<Link>,
    /// Where the module's cluster commands run.
    pub(crate) runner: Arc<CommandRunner>,
    /// The daemon's cluster log.
    pub(crate) clog: Arc<ClusterLog>,
    /// The module's cluster commands pending or not yet taken, by tag.
    pub(crate) commands: Pending,
    /// The tick period in milliseconds; 0: no ticks.
    tick_period_ms: AtomicU32,
    /// When the next tick is due.
    next_tick: Mutex<Option<Instant>>,
    /// Whether a tick is queued or running (so ticks never pile up).
    tick_queued: AtomicBool,
    /// `log_to_file`, `log_to_cluster` and `log_to_cluster_level`, read from the options when
    /// they change, not per line.
    log_to_file: AtomicBool,
    log_to_cluster: AtomicBool,
    cluster_level: AtomicU8,
    /// Where `log_to_file` writes: `<dir>/<module>.log`, opened on first use.
    log_dir: Option<std::path::PathBuf>,
    log_file: Mutex<Option<(std::fs::File, u64)>>,
    /// What the module may do: requested ∩ granted, replaced when grants change.
    caps: RwLock<Arc<Effective>>,
    /// What it requested, for the hint in a denial.
    requests: Requests,
    /// Where uses and denials are counted.
    pub(crate) ledger: Arc<crate::ledger::Ledger>,
}

/// A failure reading or writing an option.
#[derive(Debug, thiserror::Error)]
pub enum OptionAccessError {
    /// Not declared, wrong type, out of range.
    #[error(transparent)]
    Option(#[from] OptionError),
    /// The store failed.
    #[error(transparent)]
    Persist(#[from] PersistError),
    /// The module's store quota is full.
    #[error(transparent)]
    Quota(#[from] QuotaFull),
}

/// Keys and bytes a module keeps on disk: its KV store and its option values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreUsage {
    /// Keys (KV keys and set options).
    pub keys: u64,
    /// Bytes of keys plus values.
    pub bytes: u64,
}

/// A write that would take a module past its store quota.
#[derive(Debug, thiserror::Error)]
#[error(
    "module '{module}' store quota is full ({} of {} keys, {} of {} bytes, option values \
     included): delete keys first",
    usage.keys, max_keys, usage.bytes, max_bytes
)]
pub struct QuotaFull {
    /// The module.
    pub module: String,
    /// What it uses now.
    pub usage: StoreUsage,
    /// Its key quota.
    pub max_keys: u64,
    /// Its byte quota.
    pub max_bytes: u64,
}

/// A failed write to a module's part of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreWriteError {
    /// The quota is full.
    #[error(transparent)]
    Quota(#[from] QuotaFull),
    /// The store failed.
    #[error(transparent)]
    Persist(#[from] PersistError),
}

impl From<StoreWriteError> for OptionAccessError {
    fn from(e: StoreWriteError) -> Self {
        match e {
            StoreWriteError::Quota(q) => OptionAccessError::Quota(q),
            StoreWriteError::Persist(p) => OptionAccessError::Persist(p),
        }
    }
}

/// A level as Python's `logging` names it (what Ceph's module logs show).
fn level_name(l: Level) -> &'static str {
    match l {
        Level::Debug => "DEBUG",
        Level::Info => "INFO",
        Level::Warning => "WARNING",
        Level::Error => "ERROR",
        Level::Critical => "CRITICAL",
    }
}

fn level_to_u8(l: Level) -> u8 {
    match l {
        Level::Debug => 0,
        Level::Info => 1,
        Level::Warning => 2,
        Level::Error => 3,
        Level::Critical => 4,
    }
}

impl ModuleEnv {
    /// The one choke point every host call that reaches outside the module goes through:
    /// `access` is allowed if the module's effective capabilities cover it, and the use is
    /// counted; otherwise the denial is counted (and logged once per window) and the guest
    /// gets `access-denied` naming the grant that would allow it.
    pub fn allow(&self, access: Cap) -> Result<(), GuestError> {
        // A name no grant could ever name exactly — longer than any capability, or ending in
        // the pattern character — is refused as it is, counted under its kind's `(others)`:
        // it is not kept whole in the ledger, and never proposed as a grant.
        if let Some(len) = access.exact_len()
            && (len > crate::caps::CAP_BYTES || access.exact_ends_with_star())
        {
            let others = crate::ledger::overflow(&access);
            let hint = format!(
                "module '{}' asked for a {} name of {len} bytes{}: no grant names it",
                self.name,
                access.kind(),
                if access.exact_ends_with_star() {
                    " ending in '*', which grants read as a pattern"
                } else {
                    ""
                }
            );
            self.ledger.denied(&self.name, &others, &hint);
            return Err(GuestError {
                code: ErrorCode::AccessDenied,
                message: hint,
            });
        }
        let caps = self.caps();
        if caps.allows(&access) {
            self.ledger.used(&self.name, &access);
            return Ok(());
        }
        // The access names what the module passed: escaped before it is shown anywhere.
        let shown = crate::sanitize::line(&access.to_string(), crate::caps::CAP_BYTES);
        let grant = crate::sanitize::line(
            &crate::caps::grant_command(&self.name, std::slice::from_ref(&access)),
            2 * crate::caps::CAP_BYTES,
        );
        let hint = if self.requests.covers(&access) {
            format!(
                "module '{}' has no grant for {shown}: an operator can allow it with `{grant}`",
                self.name
            )
        } else {
            format!(
                "module '{}' does not request {shown}: add it to the [requests] (or [optional]) \
                 of its manifest, then an operator can allow it with `{grant}`",
                self.name
            )
        };
        self.ledger.denied(&self.name, &access, &hint);
        Err(GuestError {
            code: ErrorCode::AccessDenied,
            message: crate::sanitize::line(&hint, 1024),
        })
    }

    /// The module's effective capabilities now.
    pub fn caps(&self) -> Arc<Effective> {
        self.caps.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Replace the effective capabilities (grants changed while it runs).
    pub fn set_caps(&self, caps: Effective) {
        *self.caps.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(caps);
    }

    /// What the module requested.
    pub fn requests(&self) -> &Requests {
        &self.requests
    }

    /// The environment of module `name`, with only the built-in options known until the module
    /// has described itself.
    pub fn new(
        name: &str,
        services: &Services,
        limits: Limits,
        requests: Requests,
        caps: Effective,
    ) -> Result<Self, OptionError> {
        let s = services;
        let env = ModuleEnv {
            caps: RwLock::new(Arc::new(caps)),
            requests,
            ledger: s.ledger.clone(),
            name: name.to_owned(),
            mgr_id: s.mgr_id.clone(),
            persist: s.persist.clone(),
            cluster: s.cluster.clone(),
            limits,
            health: s.health.clone(),
            link: s.link.clone(),
            runner: s.runner.clone(),
            clog: s.clog.clone(),
            commands: Pending::default(),
            tick_period_ms: AtomicU32::new(0),
            next_tick: Mutex::new(None),
            tick_queued: AtomicBool::new(false),
            log_to_file: AtomicBool::new(false),
            log_to_cluster: AtomicBool::new(false),
            cluster_level: AtomicU8::new(level_to_u8(Level::Info)),
            log_dir: s.log_dir.clone(),
            log_file: Mutex::new(None),
            stats: ModuleStats::default(),
            options: RwLock::new(Arc::new(OptionSet::new(name, Vec::new())?)),
            level: AtomicU8::new(level_to_u8(Level::Info)),
            debug_mgr: s.debug_mgr.clone(),
            log_bucket: Mutex::new((Instant::now(), 0)),
            active: AtomicBool::new(true),
            usage: Mutex::new(None),
            write_bucket: Mutex::new((Instant::now(), limits_write_budget())),
        };
        env.refresh_log_level();
        Ok(env)
    }

    /// The module's options (built-in ones only before `describe`).
    pub fn options(&self) -> Arc<OptionSet> {
        self.options
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Install the options the module declared.
    pub fn set_options(&self, set: OptionSet) {
        *self.options.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(set);
        self.refresh_log_level();
    }

    fn option_key(&self, name: &str, localized: bool) -> String {
        if localized {
            format!("mgr/{}/{}/{name}", self.name, self.mgr_id)
        } else {
            format!("mgr/{}/{name}", self.name)
        }
    }

    /// The value of option `name`: the localized value if asked and set, else the module-wide
    /// value, else the default. A stored value that no longer fits the declaration (the module
    /// changed) falls back to the default with a warning.
    pub fn option(
        &self,
        name: &str,
        localized: bool,
    ) -> Result<Option<OptionValue>, OptionAccessError> {
        let set = self.options();
        require_declared(&set, name)?;
        let mut keys = vec![self.option_key(name, false)];
        if localized {
            keys.insert(0, self.option_key(name, true));
        }
        for key in keys {
            if let Some(text) = self.persist.get(Space::Config, &key)? {
                match set.from_stored(name, &text) {
                    Ok(v) => return Ok(Some(v)),
                    Err(e) => {
                        tracing::warn!(module = %self.name, key, error = %e, "stored option value no longer valid; using the default")
                    }
                }
            }
        }
        Ok(set.default(name))
    }

    /// Set option `name` to `value` (checked against its declaration), or revert it to the
    /// default with `None`.
    pub fn set_option(
        &self,
        name: &str,
        value: Option<OptionValue>,
        localized: bool,
    ) -> Result<(), OptionAccessError> {
        let set = self.options();
        require_declared(&set, name)?;
        let key = self.option_key(name, localized);
        match value {
            None => self.write_accounted(Space::Config, &key, None)?,
            Some(v) => {
                let v = set.check(name, &v)?;
                self.write_accounted(Space::Config, &key, Some(&options::to_stored(&v)))?;
            }
        }
        if options::BUILT_IN.contains(&name) {
            self.refresh_log_level();
        }
        Ok(())
    }

    /// The prefix of every key the module owns, in the KV and the config space.
    pub fn key_prefix(&self) -> String {
        format!("mgr/{}/", self.name)
    }

    fn usage_guard(&self) -> Result<std::sync::MutexGuard<'_, Option<StoreUsage>>, PersistError> {
        let mut guard = self.usage.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            let prefix = self.key_prefix();
            let (kv_keys, kv_bytes) = self.persist.usage(Space::Kv, &prefix)?;
            let (opt_keys, opt_bytes) = self.persist.usage(Space::Config, &prefix)?;
            *guard = Some(StoreUsage {
                keys: kv_keys.saturating_add(opt_keys),
                bytes: kv_bytes.saturating_add(opt_bytes),
            });
        }
        Ok(guard)
    }

    /// What the module keeps on disk now.
    pub fn store_usage(&self) -> Result<StoreUsage, PersistError> {
        Ok(self.usage_guard()?.unwrap_or_default())
    }

    /// Take `bytes` (plus the per-write cost) from the module's store write budget
    /// ([`crate::limits::STORE_WRITE_BYTES_PER_SEC`]); if it has not that much left, how long
    /// until it will.
    pub fn spend_write_budget(&self, bytes: u64) -> Result<(), std::time::Duration> {
        let cost = bytes.saturating_add(crate::limits::STORE_WRITE_COST_BYTES);
        let rate = limits_write_budget();
        let mut bucket = self.write_bucket.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let refill = (now.duration_since(bucket.0).as_secs_f64() * rate as f64) as u64;
        if refill > 0 {
            *bucket = (now, bucket.1.saturating_add(refill).min(rate));
        }
        // A single write larger than the whole bucket still goes through once it is full.
        let needed = cost.min(rate);
        if bucket.1 >= needed {
            bucket.1 -= needed;
            return Ok(());
        }
        let missing = needed - bucket.1;
        Err(std::time::Duration::from_secs_f64(
            missing as f64 / rate as f64,
        ))
    }

    /// Forget the counted usage: an operator changed the module's keys behind its back.
    pub fn invalidate_usage(&self) {
        *self.usage.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Write (or with `None` delete) `key`, one of the module's own, counting it against the
    /// module's store quota ([`Limits::kv_keys`], [`Limits::store_quota_bytes`]). A write that
    /// does not grow the module's usage is always allowed, so a full store can be emptied.
    pub fn write_accounted(
        &self,
        space: Space,
        key: &str,
        value: Option<&str>,
    ) -> Result<(), StoreWriteError> {
        // Held across the write: the module's own writes are serialised anyway (one call at a
        // time), and this keeps an operator's concurrent write from being miscounted.
        let mut guard = self.usage_guard()?;
        let usage = guard.unwrap_or_default();
        let old = self.persist.value_len(space, key)?;
        let key_len = key.len() as u64;
        let old_bytes = old.map_or(0, |n| n.saturating_add(key_len));
        let new_bytes = value.map_or(0, |v| (v.len() as u64).saturating_add(key_len));
        let next = StoreUsage {
            keys: usage.keys - u64::from(old.is_some()).min(usage.keys)
                + u64::from(value.is_some()),
            bytes: usage
                .bytes
                .saturating_sub(old_bytes)
                .saturating_add(new_bytes),
        };
        let l = &self.limits;
        let grows = next.keys > usage.keys || next.bytes > usage.bytes;
        if grows && (next.keys > l.kv_keys || next.bytes > l.store_quota_bytes()) {
            return Err(QuotaFull {
                module: self.name.clone(),
                usage,
                max_keys: l.kv_keys,
                max_bytes: l.store_quota_bytes(),
            }
            .into());
        }
        self.persist.set(space, key, value)?;
        *guard = Some(next);
        Ok(())
    }

    /// Re-read `log_level` and recompute the module's log threshold.
    pub fn refresh_log_level(&self) {
        let value = match self.option(options::LOG_LEVEL, false) {
            Ok(Some(OptionValue::Str(s))) => s,
            _ => String::new(),
        };
        let level = options::log_level_filter(&value, &self.debug_mgr);
        self.level.store(level_to_u8(level), Ordering::Relaxed);
        let flag = |name| matches!(self.option(name, false), Ok(Some(OptionValue::Bool(true))));
        self.log_to_file
            .store(flag(options::LOG_TO_FILE), Ordering::Relaxed);
        self.log_to_cluster
            .store(flag(options::LOG_TO_CLUSTER), Ordering::Relaxed);
        let cluster_level = match self.option(options::LOG_TO_CLUSTER_LEVEL, false) {
            Ok(Some(OptionValue::Str(s))) => options::log_level_filter(&s, &self.debug_mgr),
            _ => Level::Info,
        };
        self.cluster_level
            .store(level_to_u8(cluster_level), Ordering::Relaxed);
    }

    /// Append `line` to the module's own log file, moving a full file to `.1` first (so at
    /// most twice [`crate::limits::LOG_FILE_BYTES`] per module). A failure is logged once per
    /// opening and the line stays in the daemon's log.
    fn write_log_file(&self, level: Level, message: &str) {
        use std::{io::Write as _, os::unix::fs::OpenOptionsExt as _};
        let Some(dir) = &self.log_dir else { return };
        let path = dir.join(format!("{}.log", self.name));
        let mut file = self.log_file.lock().unwrap_or_else(|p| p.into_inner());
        if file
            .as_ref()
            .is_some_and(|(_, size)| *size >= crate::limits::LOG_FILE_BYTES)
        {
            *file = None;
            let _ = std::fs::rename(&path, dir.join(format!("{}.log.1", self.name)));
        }
        if file.is_none() {
            let opened = std::fs::create_dir_all(dir).and_then(|()| {
                let f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .mode(0o600)
                    .open(&path)?;
                let size = f.metadata()?.len();
                Ok((f, size))
            });
            match opened {
                Ok(f) => *file = Some(f),
                Err(e) => {
                    tracing::warn!(module = %self.name, path = %path.display(), "cannot open the module's log file: {e}");
                    return;
                }
            }
        }
        if let Some((f, size)) = file.as_mut() {
            let line = format!(
                "{} {} {message}\n",
                crate::clog::ceph_stamp(std::time::SystemTime::now()),
                level_name(level)
            );
            if f.write_all(line.as_bytes()).is_ok() {
                *size += line.len() as u64;
            }
        }
    }

    /// Write a log line for this module, if its level passes the module's threshold and the
    /// module is within its log rate.
    pub fn log(&self, level: Level, message: &str) {
        if level_to_u8(level) < self.level.load(Ordering::Relaxed) {
            return;
        }
        if !self.take_log_token() {
            self.stats.log_dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        // Escaped here, once: a module's line can neither drive the terminal the log goes to
        // nor start a forged line of its own.
        let message = crate::sanitize::line(message, crate::limits::LOG_LINE_BYTES);
        if self.log_to_file.load(Ordering::Relaxed) {
            self.write_log_file(level, &message);
        }
        if self.log_to_cluster.load(Ordering::Relaxed)
            && level_to_u8(level) >= self.cluster_level.load(Ordering::Relaxed)
        {
            let priority = match level {
                Level::Debug => ClogPriority::Debug,
                Level::Info => ClogPriority::Info,
                Level::Warning => ClogPriority::Warn,
                Level::Error | Level::Critical => ClogPriority::Error,
            };
            self.cluster_log("cluster", priority, &message);
        }
        let m = self.name.as_str();
        match level {
            Level::Debug => tracing::debug!(target: "module", module = m, "{message}"),
            Level::Info => tracing::info!(target: "module", module = m, "{message}"),
            Level::Warning => tracing::warn!(target: "module", module = m, "{message}"),
            Level::Error | Level::Critical => {
                tracing::error!(target: "module", module = m, "{message}")
            }
        }
    }

    /// Take one line from the module's log rate (log lines and cluster log entries share it);
    /// false if the rate is used up for this second.
    pub fn take_log_token(&self) -> bool {
        let mut bucket = self.log_bucket.lock().unwrap_or_else(|p| p.into_inner());
        if bucket.0.elapsed().as_secs() >= 1 {
            *bucket = (Instant::now(), 0);
        }
        if bucket.1 >= self.limits.log_lines_per_sec {
            return false;
        }
        bucket.1 += 1;
        true
    }

    /// Write an entry to the cluster log as this module (`mgr.<id>`), and cue the modules
    /// subscribed to `clog` with it.
    pub fn cluster_log(&self, channel: &str, priority: ClogPriority, message: &str) {
        let who = format!("mgr.{}", self.mgr_id);
        // A cluster that keeps its own log takes the entry (and sends the `clog` cue).
        if self
            .cluster
            .cluster_log(&who, channel, crate::clog::priority_name(priority), message)
        {
            return;
        }
        let entry = self.clog.push(
            &format!("mgr.{}", self.mgr_id),
            Some(&self.name),
            channel,
            priority,
            message,
        );
        self.link
            .notify_all(NotifyKind::Clog, &entry.to_json().to_string());
    }

    /// Tick every `period_ms` from now on (`None`: stop ticking).
    pub fn set_tick_period(&self, period_ms: Option<u32>) {
        let ms = period_ms.unwrap_or(0);
        self.tick_period_ms.store(ms, Ordering::Release);
        *self.next_tick.lock().unwrap_or_else(|p| p.into_inner()) =
            period_ms.map(|ms| Instant::now() + std::time::Duration::from_millis(u64::from(ms)));
    }

    /// The tick period, if the module ticks.
    pub fn tick_period(&self) -> Option<std::time::Duration> {
        match self.tick_period_ms.load(Ordering::Acquire) {
            0 => None,
            ms => Some(std::time::Duration::from_millis(u64::from(ms))),
        }
    }

    /// Whether a tick is due at `now` and none is queued; if so it counts as queued from now.
    pub(crate) fn claim_due_tick(&self, now: Instant) -> bool {
        let due = self
            .next_tick
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some_and(|t| t <= now);
        due && !self.tick_queued.swap(true, Ordering::AcqRel)
    }

    /// A tick ended (or was dropped): the next one is due a period from now.
    pub(crate) fn tick_done(&self) {
        if let Some(period) = self.tick_period() {
            *self.next_tick.lock().unwrap_or_else(|p| p.into_inner()) =
                Some(Instant::now() + period);
        }
        self.tick_queued.store(false, Ordering::Release);
    }

    /// Replace this module's health checks (ignored once the module was stopped); refused if
    /// another module raises one of the codes.
    pub fn set_health(&self, checks: Vec<HealthCheck>) -> Result<(), crate::health::CodeTaken> {
        self.health
            .set_module_checks(&self.name, checks, &self.active)
    }

    /// Mark the module stopped (disabled or failed).
    pub fn deactivate(&self) {
        self.active.store(false, Ordering::Release);
    }
}

fn limits_write_budget() -> u64 {
    crate::limits::STORE_WRITE_BYTES_PER_SEC
}

fn require_declared(set: &OptionSet, name: &str) -> Result<(), OptionError> {
    if set.decl(name).is_some() {
        return Ok(());
    }
    Err(OptionError {
        module: set.module().to_owned(),
        name: name.to_owned(),
        problem: OptionProblem::Undeclared {
            declared: set.names().collect::<Vec<_>>().join(", "),
        },
    })
}
