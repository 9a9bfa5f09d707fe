//! The supervisor: owns every module's lifecycle state and is the only code that changes it.
//!
//! ```text
//!                ┌─ load fails ───────────────────────▶ Failed{reason, since}
//! Discovered ────┼─ load, enabled ──▶ Running ─ trap×N ─▶ Failed     ▲
//!                └─ load, disabled ─▶ Disabled             │ trap   │
//!                                        ▲        Running ◀┘ restart │
//!  Running / Failed ─── disable ─────────┘                          │
//!  Disabled / Failed ── enable (reloads the file) ─▶ Running ───────┘
//! ```
//!
//! A trap restarts the module's instance (the first immediately, later ones after a doubling
//! backoff); [`limits::TRAPS_BEFORE_FAILED`] traps within [`limits::TRAP_WINDOW`] mark it
//! failed, raise `MGR_MODULE_ERROR`, and leave it so until an operator enables it again.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{RecvTimeoutError, sync_channel};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, Weak};
use std::time::{Duration, Instant, SystemTime};

use crate::actor::{ActorHandle, CallFailure, Job, SendError};
use crate::bindings::{CommandResult, NotifyKind, Severity};
use crate::command::{self, CommandTable};
use crate::health::{Check, HealthBoard};
use crate::limits;
use crate::loader::{Instance, LoadedModule, Loader};
use crate::module_env::ModuleEnv;
use crate::persist::{Persistence, Space};
use crate::pool::Pool;
use crate::trap::TrapKind;

/// How long a caller waits for a module's answer, queueing included, before giving up.
pub const CALLER_WAIT: Duration = Duration::from_secs(60);

/// Where a module is in its life.
#[derive(Clone, Debug, PartialEq)]
pub enum ModuleState {
    /// Its file was found; not loaded yet.
    Discovered,
    /// An instance runs and serves its commands.
    Running,
    /// Stopped by the host: it could not load, or it trapped too often.
    Failed {
        /// What went wrong and what to do.
        reason: String,
        /// When it failed.
        since: SystemTime,
    },
    /// Stopped by the operator.
    Disabled,
}

impl ModuleState {
    /// The state's name as `module ls` shows it.
    pub fn name(&self) -> &'static str {
        match self {
            ModuleState::Discovered => "discovered",
            ModuleState::Running => "running",
            ModuleState::Failed { .. } => "failed",
            ModuleState::Disabled => "disabled",
        }
    }
}

/// What the actor should do after a trap.
pub(crate) enum TrapDecision {
    Restart { delay: Duration },
    Fail { reason: String },
}

struct Slot {
    path: PathBuf,
    state: ModuleState,
    loaded: Option<Arc<LoadedModule>>,
    actor: Option<ActorHandle>,
    /// Bumped whenever the slot gets a new actor or loses one, so reports from an old actor
    /// are ignored.
    generation: u64,
    traps: VecDeque<Instant>,
    last_trap: Option<String>,
}

impl Slot {
    fn discovered(path: &Path) -> Slot {
        Slot {
            path: path.to_owned(),
            state: ModuleState::Discovered,
            loaded: None,
            actor: None,
            generation: 0,
            traps: VecDeque::new(),
            last_trap: None,
        }
    }
}

/// A row of `module ls`.
#[derive(Clone)]
pub struct ModuleSummary {
    /// Module name.
    pub name: String,
    /// Lifecycle state.
    pub state: ModuleState,
    /// The loaded module, if it loaded.
    pub module: Option<Arc<LoadedModule>>,
    /// The component file.
    pub path: PathBuf,
    /// The last trap, if any.
    pub last_trap: Option<String>,
}

/// A failed enable/disable, with the errno the command returns.
#[derive(Debug, PartialEq)]
pub struct OpError {
    /// Linux errno, positive.
    pub errno: i32,
    /// What went wrong and what to do.
    pub message: String,
}

fn op_err(errno: i32, message: impl Into<String>) -> OpError {
    OpError {
        errno,
        message: message.into(),
    }
}

/// Owns the modules.
pub struct Supervisor {
    me: Weak<Supervisor>,
    loader: Arc<Loader>,
    modules_dir: PathBuf,
    persist: Arc<dyn Persistence>,
    health: Arc<HealthBoard>,
    slots: Mutex<BTreeMap<String, Slot>>,
    commands: RwLock<CommandTable>,
    /// The workers that run queued calls of every module.
    pool: Pool,
}

impl Supervisor {
    /// A supervisor for the modules in `modules_dir`, whose command table starts with
    /// `builtin` (the host's own commands), running queued calls on `pool`.
    pub fn new(
        loader: Arc<Loader>,
        modules_dir: &Path,
        persist: Arc<dyn Persistence>,
        health: Arc<HealthBoard>,
        builtin: CommandTable,
        pool: Pool,
    ) -> Arc<Supervisor> {
        Arc::new_cyclic(|me| Supervisor {
            me: me.clone(),
            loader,
            modules_dir: modules_dir.to_owned(),
            persist,
            health,
            slots: Mutex::new(BTreeMap::new()),
            commands: RwLock::new(builtin),
            pool,
        })
    }

    fn slots(&self) -> MutexGuard<'_, BTreeMap<String, Slot>> {
        // State changes are single assignments; a panic elsewhere cannot leave a slot half
        // written, so a poisoned lock is still consistent.
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The command table (built-in commands plus those of running modules).
    pub fn commands(&self) -> std::sync::RwLockReadGuard<'_, CommandTable> {
        self.commands.read().unwrap_or_else(|p| p.into_inner())
    }

    fn commands_mut(&self) -> std::sync::RwLockWriteGuard<'_, CommandTable> {
        self.commands.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Find every `*.wasm` in the modules directory, load each, and start those that are
    /// enabled (a module is enabled unless an operator disabled it).
    pub fn discover(&self) -> std::io::Result<()> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&self.modules_dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "wasm")
                && let Some(name) = path.file_stem().and_then(|s| s.to_str())
            {
                names.push((name.to_owned(), path.clone()));
            }
        }
        names.sort();
        {
            let mut slots = self.slots();
            for (name, path) in &names {
                slots
                    .entry(name.clone())
                    .or_insert_with(|| Slot::discovered(path));
            }
        }
        for (name, _) in names {
            let wanted = self.wanted(&name);
            // A module that fails to load is marked failed; the others still start.
            let _ = self.start(&name, wanted);
        }
        Ok(())
    }

    fn wanted(&self, name: &str) -> bool {
        match self.persist.get(Space::Modules, name) {
            Ok(v) => v.as_deref() != Some("false"),
            Err(e) => {
                tracing::error!(module = name, error = %e, "cannot read whether the module is enabled; leaving it disabled");
                false
            }
        }
    }

    /// Load (if needed) and, if `run`, start module `name`.
    fn start(&self, name: &str, run: bool) -> Result<(), OpError> {
        let (generation, loaded, path) = {
            let mut slots = self.slots();
            let slot = slots
                .get_mut(name)
                .ok_or_else(|| op_err(2, format!("no module '{name}'")))?;
            if slot.state == ModuleState::Running {
                return Ok(());
            }
            slot.generation += 1;
            slot.traps.clear();
            (slot.generation, slot.loaded.clone(), slot.path.clone())
        };
        // Guest code runs here (instantiation, describe): no lock is held.
        let attempt = match loaded {
            Some(m) if run => self
                .loader
                .instantiate(&m)
                .map(|i| (m, Some(i)))
                .map_err(|t| format!("instantiate {t}")),
            Some(m) => Ok((m, None)),
            None => self
                .loader
                .load(name, &path)
                .map(|(m, i)| (m, Some(i)))
                .map_err(|e| e.to_string()),
        };
        let mut slots = self.slots();
        let Some(slot) = slots.get_mut(name) else {
            return Err(op_err(2, format!("no module '{name}'")));
        };
        if slot.generation != generation {
            return Err(op_err(
                16,
                format!("module '{name}' changed state meanwhile; try again"),
            ));
        }
        let (module, instance) = match attempt {
            Ok(v) => v,
            Err(reason) => {
                let message = format!("module '{name}' failed to load: {reason}");
                self.failed_to_start(name, slot, reason);
                return Err(op_err(5, message));
            }
        };
        slot.loaded = Some(module.clone());
        let instance = match instance {
            Some(i) if run => i,
            _ => {
                slot.state = ModuleState::Disabled;
                return Ok(());
            }
        };
        if !module.info.can_run {
            let reason = format!(
                "the module reports that it cannot run: {}",
                module.info.error_string
            );
            let message = format!("module '{name}': {reason}");
            self.failed_to_start(name, slot, reason);
            return Err(op_err(95, message));
        }
        self.run(name, slot, module, instance)
    }

    /// Mark a module that did not start as failed. Health checks it raised while loading
    /// (instantiation and `describe` run its code) go with it.
    fn failed_to_start(&self, name: &str, slot: &mut Slot, reason: String) {
        tracing::error!(module = name, "{reason}");
        slot.state = ModuleState::Failed {
            reason,
            since: SystemTime::now(),
        };
        self.health.clear_module(name);
    }

    fn run(
        &self,
        name: &str,
        slot: &mut Slot,
        module: Arc<LoadedModule>,
        instance: Instance,
    ) -> Result<(), OpError> {
        {
            let mut table = self.commands_mut();
            for decl in &module.info.commands {
                if let Err(e) = table.insert(name, decl.clone()) {
                    table.remove_owner(name);
                    let reason = e.to_string();
                    drop(table);
                    self.failed_to_start(name, slot, reason.clone());
                    return Err(op_err(17, reason));
                }
            }
        }
        slot.actor = Some(ActorHandle::start(
            module,
            instance,
            self.loader.clone(),
            self.me.clone(),
            slot.generation,
            self.pool.scheduler().clone(),
        ));
        slot.state = ModuleState::Running;
        Ok(())
    }

    /// Enable module `name` (also restarts a failed one). New `*.wasm` files in the modules
    /// directory can be enabled without restarting the daemon.
    pub fn enable(&self, name: &str) -> Result<(), OpError> {
        let known = self.slots().contains_key(name);
        if !known {
            let path = self.modules_dir.join(format!("{name}.wasm"));
            if !valid_name(name) || !path.is_file() {
                return Err(op_err(
                    2,
                    format!(
                        "no module '{name}': put {name}.wasm in {} or see 'wasmgr module ls'",
                        self.modules_dir.display()
                    ),
                ));
            }
            self.slots()
                .entry(name.to_owned())
                .or_insert_with(|| Slot::discovered(&path));
        }
        self.persist
            .set(Space::Modules, name, Some("true"))
            .map_err(|e| op_err(5, e.to_string()))?;
        {
            // Enabling loads the file afresh (the compile cache makes that cheap), so an
            // operator who replaced the component or its manifest gets the new one.
            let mut slots = self.slots();
            if let Some(slot) = slots.get_mut(name)
                && slot.state != ModuleState::Running
            {
                slot.loaded = None;
            }
        }
        self.start(name, true)
    }

    /// Disable module `name`: its instance gets `shutdown` (bounded) and is dropped, its
    /// commands and health checks go away. Other modules are not touched.
    pub fn disable(&self, name: &str) -> Result<(), OpError> {
        if !self.knows(name) {
            return Err(op_err(
                2,
                format!("no module '{name}'; see 'wasmgr module ls'"),
            ));
        }
        // Written before the slot lock is taken: callers of other modules never wait on disk.
        self.persist
            .set(Space::Modules, name, Some("false"))
            .map_err(|e| op_err(5, e.to_string()))?;
        let mut slots = self.slots();
        let slot = slots
            .get_mut(name)
            .ok_or_else(|| op_err(2, format!("no module '{name}'; see 'wasmgr module ls'")))?;
        slot.generation += 1;
        slot.state = ModuleState::Disabled;
        self.stop_slot(name, slot);
        Ok(())
    }

    /// Take a slot's module out of service: no call starts on it any more (the module
    /// finishes its current job, then runs `shutdown` under its deadline; only
    /// `shutdown_all` waits for that),
    /// its commands leave the table and its health checks go, for good: the stopped instance
    /// can no longer raise any.
    fn stop_slot(&self, name: &str, slot: &mut Slot) {
        if let Some(actor) = slot.actor.take() {
            actor.stop();
        }
        if let Some(m) = &slot.loaded {
            m.env.deactivate();
        }
        self.commands_mut().remove_owner(name);
        self.health.clear_module(name);
    }

    /// Whether `generation` is still the current one of module `name`.
    pub(crate) fn is_current(&self, name: &str, generation: u64) -> bool {
        self.slots()
            .get(name)
            .is_some_and(|s| s.generation == generation)
    }

    /// Run a command on module `name`.
    pub fn call_command(
        &self,
        name: &str,
        cmd: &str,
        inbuf: &str,
    ) -> Result<CommandResult, CallFailure> {
        let actor = {
            let slots = self.slots();
            let slot = slots.get(name).ok_or_else(|| CallFailure {
                errno: 2,
                message: format!("no module '{name}'"),
            })?;
            let Some(actor) = slot.actor.as_ref() else {
                return Err(not_running(name, &slot.state));
            };
            actor.clone()
        };
        if actor.is_stopping() {
            return Err(self.why_not_running(name));
        }
        // No supervisor lock is held from here on: the call may run guest code, and a trap
        // reports back to the supervisor.
        if let Some(outcome) = actor.try_command_here(cmd, inbuf) {
            return outcome;
        }
        let (tx, rx) = sync_channel(1);
        match actor.send(Job::Command {
            cmd: cmd.to_owned(),
            inbuf: inbuf.to_owned(),
            reply: tx,
        }) {
            Ok(()) => {}
            Err(SendError::Full) => {
                return Err(CallFailure {
                    errno: 16,
                    message: format!(
                        "module '{name}' is busy: {} calls are queued; try again later",
                        limits::MAILBOX_DEPTH
                    ),
                });
            }
            Err(SendError::Gone) => return Err(self.why_not_running(name)),
        }
        drop(actor);
        match rx.recv_timeout(CALLER_WAIT) {
            Ok(outcome) => outcome,
            Err(RecvTimeoutError::Timeout) => Err(CallFailure {
                errno: 110,
                message: format!(
                    "module '{name}' did not answer within {} s; its queue is long",
                    CALLER_WAIT.as_secs()
                ),
            }),
            Err(RecvTimeoutError::Disconnected) => Err(self.why_not_running(name)),
        }
    }

    /// Why module `name` cannot take a call now (it failed, or it is not enabled).
    pub(crate) fn why_not_running(&self, name: &str) -> CallFailure {
        let slots = self.slots();
        let state = slots
            .get(name)
            .map_or(ModuleState::Disabled, |s| s.state.clone());
        not_running(name, &state)
    }

    /// Cue every running module subscribed to `kind`. Never waits for the modules.
    pub fn notify(&self, kind: NotifyKind, id: &str) -> usize {
        let mut to_schedule = Vec::new();
        let mut sent = 0;
        let id: Arc<str> = Arc::from(id);
        for slot in self.slots().values() {
            let (Some(actor), Some(m)) = (&slot.actor, &slot.loaded) else {
                continue;
            };
            if !m.info.notify.contains(&kind) {
                continue;
            }
            let job = Job::Notify {
                kind,
                id: id.clone(),
            };
            if let Ok(task) = actor.queue(job) {
                sent += 1;
                to_schedule.extend(task);
            }
        }
        // One hand-over for the whole event: idle workers wake once, not once per module.
        self.pool.scheduler().schedule_all(to_schedule);
        sent
    }

    /// Record a trap of `name`'s actor `generation` and decide what it does next.
    pub(crate) fn on_trap(&self, name: &str, generation: u64, trap: &TrapKind) -> TrapDecision {
        let mut slots = self.slots();
        let Some(slot) = slots.get_mut(name) else {
            return TrapDecision::Fail {
                reason: "module removed".into(),
            };
        };
        if slot.generation != generation {
            return TrapDecision::Fail {
                reason: "module was disabled or restarted".into(),
            };
        }
        if let Some(m) = &slot.loaded {
            m.env
                .stats
                .traps
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        let now = Instant::now();
        slot.traps.push_back(now);
        while slot
            .traps
            .front()
            .is_some_and(|t| now.duration_since(*t) > limits::TRAP_WINDOW)
        {
            slot.traps.pop_front();
        }
        slot.last_trap = Some(trap.to_string());
        let n = slot.traps.len();
        if n >= limits::TRAPS_BEFORE_FAILED {
            let reason = format!(
                "{n} traps within {} s, the last: {trap}",
                limits::TRAP_WINDOW.as_secs()
            );
            self.fail_slot(name, slot, &reason);
            return TrapDecision::Fail { reason };
        }
        let delay = if n <= 1 {
            Duration::ZERO
        } else {
            limits::RESTART_BACKOFF * 2u32.saturating_pow(n as u32 - 2)
        };
        TrapDecision::Restart { delay }
    }

    /// Mark `name` failed (from its actor `generation`).
    pub(crate) fn fail(&self, name: &str, generation: u64, reason: &str) {
        let mut slots = self.slots();
        if let Some(slot) = slots.get_mut(name)
            && slot.generation == generation
        {
            self.fail_slot(name, slot, reason);
        }
    }

    fn fail_slot(&self, name: &str, slot: &mut Slot, reason: &str) {
        tracing::error!(module = name, "module failed: {reason}");
        slot.generation += 1;
        slot.state = ModuleState::Failed {
            reason: reason.to_owned(),
            since: SystemTime::now(),
        };
        self.stop_slot(name, slot);
    }

    /// Every module, by name.
    pub fn list(&self) -> Vec<ModuleSummary> {
        self.slots()
            .iter()
            .map(|(name, s)| ModuleSummary {
                name: name.clone(),
                state: s.state.clone(),
                module: s.loaded.clone(),
                path: s.path.clone(),
                last_trap: s.last_trap.clone(),
            })
            .collect()
    }

    /// Whether the operator wants module `m` enabled: a running module is; a failed one is
    /// unless an operator disabled it (read from disk: call it without holding any lock).
    pub fn enabled(&self, m: &ModuleSummary) -> bool {
        match m.state {
            ModuleState::Running => true,
            ModuleState::Failed { .. } => self.wanted(&m.name),
            ModuleState::Discovered | ModuleState::Disabled => false,
        }
    }

    /// The environment of a loaded module (for operator access to its options).
    pub fn env(&self, name: &str) -> Option<Arc<ModuleEnv>> {
        self.slots()
            .get(name)
            .and_then(|s| s.loaded.as_ref().map(|m| m.env.clone()))
    }

    /// For words that match no served command: if a loaded but not running module declares a
    /// command they start with, why that command cannot run now.
    pub fn inactive_command(&self, words: &[String]) -> Option<CallFailure> {
        let slots = self.slots();
        // Matched as the command table matches served commands, longest prefix first.
        let best = command::candidate_prefixes(words).find_map(|(prefix, _)| {
            slots.iter().find_map(|(name, slot)| {
                let m = slot.loaded.as_ref().filter(|_| slot.actor.is_none())?;
                let c = m.info.commands.iter().find(|c| c.prefix == prefix)?;
                Some((name, slot, c.prefix.as_str()))
            })
        });
        best.map(|(name, slot, prefix)| match &slot.state {
            ModuleState::Failed { .. } => not_running(name, &slot.state),
            _ => CallFailure {
                errno: 95,
                message: format!(
                    "module '{name}' is not enabled (required by command '{prefix}'): run 'wasmgr module enable {name}'"
                ),
            },
        })
    }

    /// Whether `name` is a known module.
    pub fn knows(&self, name: &str) -> bool {
        self.slots().contains_key(name)
    }

    /// `MGR_MODULE_ERROR` for failed modules, in Ceph's words.
    pub fn health_checks(&self) -> Vec<Check> {
        let slots = self.slots();
        let detail: Vec<String> = slots
            .iter()
            .filter_map(|(name, s)| match &s.state {
                ModuleState::Failed { reason, .. } => {
                    Some(format!("Module '{name}' has failed: {reason}"))
                }
                _ => None,
            })
            .collect();
        if detail.is_empty() {
            return Vec::new();
        }
        let summary = if detail.len() == 1 {
            detail[0].clone()
        } else {
            format!("{} mgr modules have failed", detail.len())
        };
        vec![Check {
            code: "MGR_MODULE_ERROR".into(),
            severity: Severity::Error,
            summary,
            count: detail.len() as u64,
            detail,
        }]
    }

    /// Stop every module for daemon shutdown (without recording them as disabled), and wait
    /// a bounded time for their `shutdown` calls to finish.
    pub fn shutdown_all(&self) {
        let actors: Vec<ActorHandle> = {
            let mut slots = self.slots();
            slots
                .iter_mut()
                .filter_map(|(name, s)| {
                    s.generation += 1;
                    let actor = s.actor.clone();
                    if actor.is_some() {
                        s.state = ModuleState::Disabled;
                        self.stop_slot(name, s);
                    }
                    actor
                })
                .collect()
        };
        // Each actor may be finishing one call (up to its deadline) before its `shutdown`.
        let limit = limits::SHUTDOWN_DEADLINE + limits::CALL_DEADLINE + Duration::from_millis(500);
        let started = Instant::now();
        for a in &actors {
            if !a.wait_finished(limit.saturating_sub(started.elapsed())) {
                tracing::warn!("a module did not finish its shutdown in time; leaving it");
            }
        }
    }
}

fn not_running(name: &str, state: &ModuleState) -> CallFailure {
    match state {
        ModuleState::Failed { reason, .. } => CallFailure {
            errno: 5,
            message: format!(
                "module '{name}' has failed: {reason}; fix it, then run 'wasmgr module enable {name}'"
            ),
        },
        _ => CallFailure {
            errno: 95,
            message: format!("module '{name}' is not enabled: run 'wasmgr module enable {name}'"),
        },
    }
}

/// Module names are file stems: lower-case letters, digits, `_` and `-`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}
