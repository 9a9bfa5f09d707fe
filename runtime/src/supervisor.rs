//! The supervisor: owns every module's lifecycle state and is the only code that changes it.
//!
//! ```text
//!                                ┌─ load fails ──────▶ Failed{reason, since}
//! Discovered ──▶ Loading ────────┼─ enabled ─▶ Running ─ trap×N ─▶ Failed ◀──┐
//!                                └─ disabled ─▶ Disabled      │ trap         │
//!                                                 ▲    Running ◀┘ restart    │
//!  Running / Failed ─── disable ──────────────────┘                          │
//!  Disabled / Failed ── enable (Loading: reads the file again) ─▶ Running ───┘
//!
//!  Loading ── a required capability not granted for its digest ─▶ Ungranted{missing}
//!  Ungranted ── module grant (or learn) ─▶ Loading ─▶ Running
//! ```
//!
//! No code of a module runs before its required capabilities are granted for the digest of
//! its component: an `Ungranted` module was read and digested, never compiled or instantiated.
//!
//! At start-up every module loads in parallel; once all are compiled, start-up waits at most
//! [`DESCRIBE_WAIT`] for their own code (instantiation and `describe`), and a module still
//! in it starts on its own when it finishes, so one slow module does not hold up the daemon.
//!
//! A trap restarts the module's instance (the first immediately, later ones after a doubling
//! backoff); [`limits::TRAPS_BEFORE_FAILED`] traps within [`limits::TRAP_WINDOW`] mark it
//! failed, raise `MGR_MODULE_ERROR`, and leave it so until an operator enables it again.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError, sync_channel};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, Weak};
use std::time::{Duration, Instant, SystemTime};

use crate::actor::{ActorHandle, Blame, CallFailure, Job, SendError};
use crate::bindings::{CommandResult, NotifyKind, RemoteError, Severity};
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
    /// Its file is being loaded (compiled, instantiated, described).
    Loading,
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
    /// Not started: capabilities it requires are not granted for its component's digest.
    Ungranted {
        /// The required capabilities without a grant.
        missing: Vec<crate::caps::Cap>,
        /// The digest the grants must name.
        digest: String,
        /// Since when.
        since: SystemTime,
    },
}

impl ModuleState {
    /// The state's name as `module ls` shows it.
    pub fn name(&self) -> &'static str {
        match self {
            ModuleState::Discovered => "discovered",
            ModuleState::Loading => "loading",
            ModuleState::Running => "running",
            ModuleState::Failed { .. } => "failed",
            ModuleState::Disabled => "disabled",
            ModuleState::Ungranted { .. } => "ungranted",
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
    /// Traps in commands from read-only clients, which back off but do not fail the module.
    client_traps: VecDeque<Instant>,
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
            client_traps: VecDeque::new(),
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
    /// Which module first served each command prefix (see [`Space::Claims`]).
    claims: Mutex<BTreeMap<String, String>>,
    /// The cluster's command prefixes: no module may declare one, nor a command under or
    /// above one, so an operator's `osd pool rm` always reaches the cluster.
    cluster_prefixes: RwLock<Vec<String>>,
    /// The workers that run queued calls of every module.
    pool: Pool,
}

thread_local! {
    /// The modules this thread is in the middle of a remote call into, outermost first.
    static REMOTE_CHAIN: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// How the reason of a module whose `can_run` said no begins.
const CANNOT_RUN: &str = "the module reports that it cannot run: ";

/// Bytes of a failure reason as `module ls` and `health detail` show it.
const REASON_BYTES: usize = 2048;

/// How many modules load at once at start-up.
const LOAD_THREADS: usize = 16;

/// How long start-up waits for modules' own code (instantiation and `describe`) once every
/// module is compiled. Modules still running it then start on their own when they finish,
/// within their load deadline: one slow module does not hold up the daemon.
pub const DESCRIBE_WAIT: Duration = Duration::from_secs(2);

/// A start-up load's progress.
enum LoadEvent {
    /// The named module's code is compiled (or needed no compiling).
    Compiled(String),
    /// The named module's load ended.
    Done(String, bool, u64, Attempt),
}

/// Wait for the start-up loads on `events`: every compile (host work, bounded by the file
/// size limit), then the modules' own code for at most [`DESCRIBE_WAIT`]. The loads that
/// ended, and how many are still running.
fn collect_loads(
    events: &mpsc::Receiver<LoadEvent>,
    total: usize,
) -> (Vec<(String, bool, u64, Attempt)>, usize) {
    let mut done = Vec::with_capacity(total);
    // Modules past compiling: compiled, or ended (an unreadable file never compiles).
    let mut past_compile = std::collections::HashSet::with_capacity(total);
    let mut deadline: Option<Instant> = None;
    while done.len() < total {
        if deadline.is_none() && past_compile.len() >= total {
            deadline = Some(Instant::now() + DESCRIBE_WAIT);
        }
        let event = match deadline {
            None => events.recv().ok(),
            Some(d) => events
                .recv_timeout(d.saturating_duration_since(Instant::now()))
                .ok(),
        };
        match event {
            Some(LoadEvent::Compiled(name)) => {
                past_compile.insert(name);
            }
            Some(LoadEvent::Done(name, run, generation, attempt)) => {
                past_compile.insert(name.clone());
                done.push((name, run, generation, attempt));
            }
            None => break,
        }
    }
    let late = total - done.len();
    (done, late)
}

/// What starting a module loads: taken from its slot under the lock, used without it.
struct Begun {
    generation: u64,
    loaded: Option<Arc<LoadedModule>>,
    path: PathBuf,
}

/// A load's outcome: the module and, if it is to run, its first instance; or why not.
type Attempt = Result<(Arc<LoadedModule>, Option<Instance>), Refusal>;

/// Why a load gave no module.
enum Refusal {
    /// It could not load: what went wrong and what to do.
    Failed(String),
    /// Required capabilities are not granted for its digest.
    Ungranted {
        missing: Vec<crate::caps::Cap>,
        digest: String,
    },
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
            claims: Mutex::new(BTreeMap::new()),
            cluster_prefixes: RwLock::new(Vec::new()),
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
    ///
    /// Modules load in parallel ([`LOAD_THREADS`] at a time), each bounded by the load
    /// deadline, so one slow module does not hold up the others. Commands are then handed out
    /// with every module's declarations known, so who gets a contested command never depends
    /// on file or load order: the module that served it first (its claim, kept in the
    /// database) keeps it; without a claim, every contender is refused.
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
        self.load_claims(names.iter().map(|(n, _)| n.as_str()));
        let mut begun = Vec::new();
        {
            let mut slots = self.slots();
            for (name, path) in &names {
                let slot = slots
                    .entry(name.clone())
                    .or_insert_with(|| Slot::discovered(path));
                if let Err(reason) = check_name(name) {
                    self.failed_to_start(name, slot, reason);
                }
            }
        }
        for (name, _) in &names {
            if check_name(name).is_err() {
                continue;
            }
            let run = self.wanted(name);
            if let Ok(Some(b)) = self.begin(name) {
                begun.push((name.clone(), run, b));
            }
        }
        let total = begun.len();
        let events = self.spawn_loads(begun);
        let (mut attempts, late) = collect_loads(&events, total);
        attempts.sort_by(|a, b| a.0.cmp(&b.0));
        let candidates: Vec<(&str, &LoadedModule)> = attempts
            .iter()
            .filter_map(|(name, run, _, attempt)| match attempt {
                Ok((m, Some(_))) if *run && m.info.can_run => Some((name.as_str(), &**m)),
                _ => None,
            })
            .collect();
        let mut refused = self.contests(&candidates);
        drop(candidates);
        for (name, run, generation, attempt) in attempts {
            // A module that fails to start is marked failed; the others still start.
            let _ = self.finish(&name, generation, attempt, run, refused.remove(&name));
        }
        if late > 0 {
            self.finish_late(events, late);
        }
        Ok(())
    }

    /// Load the modules of `begun` on up to [`LOAD_THREADS`] threads, reporting each one's
    /// progress on the returned channel.
    fn spawn_loads(&self, begun: Vec<(String, bool, Begun)>) -> mpsc::Receiver<LoadEvent> {
        let (tx, rx) = mpsc::channel();
        let threads = begun.len().clamp(1, LOAD_THREADS);
        let queue = Arc::new(Mutex::new(VecDeque::from(begun)));
        let work = {
            let me = self.me.clone();
            let queue = queue.clone();
            move |tx: mpsc::Sender<LoadEvent>| {
                let Some(sup) = me.upgrade() else { return };
                loop {
                    let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                    let Some((name, run, b)) = next else { break };
                    let compiled = || {
                        let _ = tx.send(LoadEvent::Compiled(name.clone()));
                    };
                    let attempt = sup.attempt_then(&name, b.loaded, &b.path, run, compiled);
                    if tx
                        .send(LoadEvent::Done(name, run, b.generation, attempt))
                        .is_err()
                    {
                        break;
                    }
                }
            }
        };
        let mut spawned = 0;
        for _ in 0..threads {
            let (work, tx) = (work.clone(), tx.clone());
            let thread = std::thread::Builder::new()
                .name("module-load".into())
                // describe runs guest code on this stack, as on a worker's.
                .stack_size(crate::pool::WORKER_STACK)
                .spawn(move || work(tx));
            spawned += usize::from(thread.is_ok());
        }
        if spawned == 0 {
            // No thread could be started: load here, one after another.
            work(tx);
        }
        rx
    }

    /// Start modules that were still loading when start-up went on without them, as each
    /// finishes: as an operator's enable would, against the commands already handed out.
    fn finish_late(&self, events: mpsc::Receiver<LoadEvent>, mut left: usize) {
        tracing::warn!(
            modules = left,
            "modules still loading after {} s; they start when loaded",
            DESCRIBE_WAIT.as_secs()
        );
        let me = self.me.clone();
        let spawned = std::thread::Builder::new()
            .name("module-load-late".into())
            .spawn(move || {
                while left > 0 {
                    let Ok(event) = events.recv() else { break };
                    if let LoadEvent::Done(name, run, generation, attempt) = event {
                        left -= 1;
                        if let Some(sup) = me.upgrade() {
                            let _ = sup.finish(&name, generation, attempt, run, None);
                        }
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::error!("cannot wait for the modules still loading: {e}");
        }
    }

    /// Which of `candidates` (loaded, wanted, able to run) may not start because another
    /// candidate declares the same command, or one under or above it: name → reason. The
    /// module holding a claim on either command wins; without one, both are refused.
    fn contests(&self, candidates: &[(&str, &LoadedModule)]) -> HashMap<String, String> {
        let mut all: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for (name, m) in candidates {
            for d in &m.info.commands {
                all.entry(d.prefix.clone()).or_default().push(name);
            }
        }
        let claims = self.claims();
        let claimed_by = |prefix: &str, owner: &str| claims.get(prefix).is_some_and(|o| o == owner);
        let mut refused = HashMap::new();
        for (name, m) in candidates {
            for d in &m.info.commands {
                for (other, owner) in command::overlapping(&all, name, &d.prefix) {
                    let theirs = claimed_by(&d.prefix, owner) || claimed_by(other, owner);
                    let mine = claimed_by(&d.prefix, name) || claimed_by(other, name);
                    let reason = if theirs && !mine {
                        format!(
                            "command '{}' overlaps command '{other}' of module '{owner}', \
                             which served it first; choose another prefix",
                            d.prefix
                        )
                    } else if mine {
                        continue;
                    } else {
                        format!(
                            "command '{}' overlaps command '{other}' of module '{owner}', and \
                             neither served it before, so neither is started: remove or \
                             disable one of them, then enable the other",
                            d.prefix
                        )
                    };
                    refused.entry((*name).to_owned()).or_insert(reason);
                }
            }
        }
        refused
    }

    fn claims(&self) -> MutexGuard<'_, BTreeMap<String, String>> {
        self.claims.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Read the command claims of the modules in `present` (a claim by a module whose file is
    /// gone no longer holds).
    fn load_claims<'a>(&self, present: impl Iterator<Item = &'a str>) {
        let present: std::collections::HashSet<&str> = present.collect();
        let stored = match self.persist.list(Space::Claims, "") {
            Ok(rows) => rows,
            Err(e) => {
                tracing::error!(error = %e, "cannot read which modules own which commands; contested commands are refused to every contender");
                Vec::new()
            }
        };
        let mut claims = self.claims();
        for (prefix, owner) in stored {
            if present.contains(owner.as_str()) {
                claims.insert(prefix, owner);
            }
        }
    }

    /// Record that `name` now serves `prefixes`, dropping its claims on commands it no longer
    /// declares.
    fn claim(&self, name: &str, prefixes: &[&str]) {
        let mut writes = Vec::new();
        {
            let mut claims = self.claims();
            claims.retain(|prefix, owner| {
                let keep = owner != name || prefixes.contains(&prefix.as_str());
                if !keep {
                    writes.push((prefix.clone(), None));
                }
                keep
            });
            for p in prefixes {
                if claims.get(*p).is_none_or(|o| o != name) {
                    claims.insert((*p).to_owned(), name.to_owned());
                    writes.push(((*p).to_owned(), Some(name.to_owned())));
                }
            }
        }
        if !writes.is_empty()
            && let Err(e) = self.persist.set_many(Space::Claims, &writes)
        {
            tracing::warn!(module = name, error = %e, "cannot record the module's commands; another module may contest them after a restart");
        }
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
        let Some(b) = self.begin(name)? else {
            return Ok(());
        };
        // Guest code runs here (instantiation, describe): no lock is held.
        let attempt = self.attempt(name, b.loaded, &b.path, run);
        self.finish(name, b.generation, attempt, run, None)
    }

    /// The first step of starting `name`: a new generation for its slot, and what to load.
    /// `None` if it is running already.
    fn begin(&self, name: &str) -> Result<Option<Begun>, OpError> {
        let mut slots = self.slots();
        let slot = slots
            .get_mut(name)
            .ok_or_else(|| op_err(2, format!("no module '{name}'")))?;
        if slot.state == ModuleState::Running {
            return Ok(None);
        }
        slot.generation += 1;
        slot.traps.clear();
        slot.client_traps.clear();
        if slot.loaded.is_none() {
            slot.state = ModuleState::Loading;
        }
        Ok(Some(Begun {
            generation: slot.generation,
            loaded: slot.loaded.clone(),
            path: slot.path.clone(),
        }))
    }

    /// The second step, run without any lock: load the module (unless it is loaded) and, if
    /// `run`, make its instance.
    fn attempt(
        &self,
        name: &str,
        loaded: Option<Arc<LoadedModule>>,
        path: &Path,
        run: bool,
    ) -> Attempt {
        self.attempt_then(name, loaded, path, run, || {})
    }

    /// [`Supervisor::attempt`], calling `compiled` once no more compiling is left to do,
    /// before the module's own code runs.
    fn attempt_then(
        &self,
        name: &str,
        loaded: Option<Arc<LoadedModule>>,
        path: &Path,
        run: bool,
        compiled: impl FnOnce(),
    ) -> Attempt {
        let Some(m) = loaded else {
            return self
                .loader
                .load_then(name, path, compiled)
                .map(|(m, i)| (m, Some(i)))
                .map_err(|e| match e {
                    crate::loader::LoadError::Ungranted {
                        missing, digest, ..
                    } => Refusal::Ungranted { missing, digest },
                    other => Refusal::Failed(other.to_string()),
                });
        };
        compiled();
        if !run {
            return Ok((m, None));
        }
        self.loader
            .instantiate(&m)
            .map(|i| (m, Some(i)))
            .map_err(|t| Refusal::Failed(format!("instantiate {t}")))
    }

    /// The last step: record the outcome in the slot, if it is still at `generation`, and
    /// start the module if it should run and was not `refused` its commands.
    fn finish(
        &self,
        name: &str,
        generation: u64,
        attempt: Attempt,
        run: bool,
        refused: Option<String>,
    ) -> Result<(), OpError> {
        let mut slots = self.slots();
        // A module's name is its namespace: another module may not declare commands starting
        // with it (`antigravity purge` by a module that is not antigravity).
        let foreign = attempt.as_ref().ok().and_then(|(m, _)| {
            m.info.commands.iter().find_map(|d| {
                let first = d.prefix.split(' ').next()?;
                (first != name && slots.contains_key(first)).then(|| {
                    format!(
                        "command '{}' starts with the name of module '{first}', whose commands \
                         those are; choose a prefix of this module's own",
                        d.prefix
                    )
                })
            })
        });
        let refused = refused.or(foreign);
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
            Err(Refusal::Failed(reason)) => {
                let message = format!("module '{name}' failed to load: {reason}");
                self.failed_to_start(name, slot, reason);
                return Err(op_err(5, message));
            }
            Err(Refusal::Ungranted { missing, digest }) => {
                let message = format!(
                    "module '{name}' needs capabilities not granted for its digest {digest}: {}; \
                     an operator can allow them with `{}`",
                    missing
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                    crate::caps::grant_command(name, &missing)
                );
                tracing::warn!(module = name, "{message}");
                self.ledger().event(
                    crate::ledger::Event::new(
                        crate::ledger::EventKind::Refused,
                        Some(name),
                        format!(
                            "not started: capabilities not granted for its digest: {}",
                            missing
                                .iter()
                                .map(ToString::to_string)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                    .digest(&digest),
                );
                slot.loaded = None;
                slot.state = ModuleState::Ungranted {
                    missing,
                    digest,
                    since: SystemTime::now(),
                };
                self.health.clear_module(name);
                return Err(op_err(13, message));
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
            let reason = format!("{CANNOT_RUN}{}", module.info.error_string);
            let message = format!("module '{name}': {reason}");
            self.failed_to_start(name, slot, reason);
            return Err(op_err(95, message));
        }
        if let Some(reason) = refused {
            let message = format!("module '{name}': {reason}");
            self.failed_to_start(name, slot, reason);
            return Err(op_err(17, message));
        }
        self.run(name, slot, module, instance)
    }

    /// Mark a module that did not start as failed. Health checks it raised while loading
    /// (instantiation and `describe` run its code) go with it.
    fn failed_to_start(&self, name: &str, slot: &mut Slot, reason: String) {
        // A reason may quote what the module supplied: bounded and escaped, as it is shown.
        let reason = crate::sanitize::line(&reason, REASON_BYTES);
        tracing::error!(module = name, "{reason}");
        let mut refused = crate::ledger::Event::new(
            crate::ledger::EventKind::Refused,
            Some(name),
            format!("not started: {reason}"),
        );
        refused.digest = slot.loaded.as_ref().map(|m| m.digest.clone());
        self.ledger().event(refused);
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
            let claims = self.claims();
            let taken = module
                .info
                .commands
                .iter()
                .find_map(|d| command::conflict(&claims, |o| o.as_str(), name, &d.prefix));
            drop(claims);
            if let Some(reason) = module
                .info
                .commands
                .iter()
                .find_map(|d| self.cluster_conflict(&d.prefix))
            {
                self.failed_to_start(name, slot, reason.clone());
                return Err(op_err(17, reason));
            }
            if let Some(e) = taken {
                let reason = format!("{e} (that module holds the command)");
                self.failed_to_start(name, slot, reason.clone());
                return Err(op_err(17, reason));
            }
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
        let prefixes: Vec<&str> = module
            .info
            .commands
            .iter()
            .map(|d| d.prefix.as_str())
            .collect();
        self.claim(name, &prefixes);
        slot.actor = Some(ActorHandle::start(
            module.clone(),
            instance,
            self.loader.clone(),
            self.me.clone(),
            slot.generation,
            self.pool.scheduler().clone(),
        ));
        slot.state = ModuleState::Running;
        let caps = module.env.caps();
        let signer = module
            .signer
            .as_ref()
            .and_then(|s| serde_json::to_value(s).ok())
            .map_or_else(|| "unsigned".to_owned(), |v| format!("signed by {v}"));
        let mut detail = format!(
            "started, {signer}, {} capabilities effective",
            caps.caps().len()
        );
        if caps.learning {
            detail.push_str(", in learning mode");
        }
        self.ledger().event(
            crate::ledger::Event::new(crate::ledger::EventKind::Load, Some(name), detail)
                .digest(&module.digest),
        );
        Ok(())
    }

    /// Enable module `name` (also restarts a failed one). New `*.wasm` files in the modules
    /// directory can be enabled without restarting the daemon.
    pub fn enable(&self, name: &str) -> Result<(), OpError> {
        check_name(name).map_err(|reason| op_err(22, reason))?;
        let known = self.slots().contains_key(name);
        if !known {
            let path = self.modules_dir.join(format!("{name}.wasm"));
            if !path.is_file() {
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
                format!(
                    "no module '{}'; see 'wasmgr module ls'",
                    crate::sanitize::quote(name)
                ),
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
        blame: Blame,
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
        if let Some(outcome) = actor.try_command_here(cmd, inbuf, blame) {
            return outcome;
        }
        let (tx, rx) = sync_channel(1);
        let abandoned = Arc::new(std::sync::atomic::AtomicBool::new(false));
        match actor.send(Job::Command {
            cmd: cmd.to_owned(),
            inbuf: inbuf.to_owned(),
            blame,
            abandoned: abandoned.clone(),
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
            Err(RecvTimeoutError::Timeout) => {
                // Not run at all if it has not started yet: nobody waits for it any more.
                abandoned.store(true, std::sync::atomic::Ordering::Release);
                Err(CallFailure {
                    errno: 110,
                    message: format!(
                        "module '{name}' did not answer within {} s; its queue is long",
                        CALLER_WAIT.as_secs()
                    ),
                })
            }
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
            // The cluster log's entries (the operator's commands among them) go only to
            // modules granted to read it.
            if kind == NotifyKind::Clog
                && m.env
                    .allow(crate::caps::Cap::Read(crate::caps::ReadCall::ClusterLog))
                    .is_err()
            {
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

    /// Cue module `name` alone with `notify(kind, id)` (a command it sent has completed),
    /// whatever it subscribed to. Never waits for the module.
    pub fn notify_module(&self, name: &str, kind: NotifyKind, id: &str) {
        let actor = self.slots().get(name).and_then(|s| s.actor.clone());
        if let Some(actor) = actor {
            let _ = actor.send(Job::Notify {
                kind,
                id: Arc::from(id),
            });
        }
    }

    /// Queue a tick for every running module whose tick is due. Cheap when none is: called
    /// on every epoch tick.
    pub fn run_due_ticks(&self) {
        let now = Instant::now();
        let mut to_schedule = Vec::new();
        for slot in self.slots().values() {
            let (Some(actor), Some(m)) = (&slot.actor, &slot.loaded) else {
                continue;
            };
            if m.env.claim_due_tick(now) {
                match actor.queue(Job::Tick) {
                    Ok(task) => to_schedule.extend(task),
                    // A full mailbox: the tick is skipped, the next one comes a period later.
                    Err(_) => m.env.tick_done(),
                }
            }
        }
        if !to_schedule.is_empty() {
            self.pool.scheduler().schedule_all(to_schedule);
        }
    }

    /// A remote call from module `from` to `method` of module `to`, run on this thread within
    /// `budget`. The modules this thread is in the middle of calling are remembered, so a call
    /// back into one of them (A calls B calls A) fails at once instead of deadlocking on a lock
    /// this thread holds.
    pub fn call_remote(
        &self,
        from: &str,
        to: &str,
        method: &str,
        args: &str,
        budget: Duration,
    ) -> Result<String, RemoteError> {
        let chain = REMOTE_CHAIN.with(|c| c.borrow().clone());
        let mut path = if chain.last().is_some_and(|m| m == from) {
            chain
        } else {
            vec![from.to_owned()]
        };
        if path.iter().any(|m| m == to) {
            path.push(to.to_owned());
            return Err(RemoteError::Failed(format!(
                "the remote call would call back into a module already in the call: {}",
                path.join(" -> ")
            )));
        }
        if path.len() >= limits::REMOTE_DEPTH {
            return Err(RemoteError::Failed(format!(
                "remote calls nest at most {} modules deep: {} -> {to}",
                limits::REMOTE_DEPTH,
                path.join(" -> ")
            )));
        }
        let (actor, methods, target) = {
            let slots = self.slots();
            let found = slots
                .get(to)
                .and_then(|s| Some((s.actor.clone()?, s.loaded.clone()?)));
            match found {
                Some((actor, m)) if !actor.is_stopping() => {
                    (actor, m.remote_methods.clone(), m.env.clone())
                }
                _ => {
                    return Err(RemoteError::NotEnabled(format!(
                        "module '{}' is not enabled",
                        crate::sanitize::quote(to)
                    )));
                }
            }
        };
        if !methods.iter().any(|m| m == method) {
            return Err(RemoteError::NoSuchMethod(format!(
                "module '{to}' has no remote method '{}'; it serves: {}",
                crate::sanitize::quote(method),
                if methods.is_empty() {
                    "none".to_owned()
                } else {
                    methods.join(", ")
                }
            )));
        }
        // The target answers only methods it was granted to expose.
        let exposed = crate::caps::Cap::Expose(crate::caps::Pattern::Exact(method.to_owned()));
        if let Err(denied) = target.allow(exposed) {
            return Err(RemoteError::Failed(format!(
                "access denied: {}",
                denied.message
            )));
        }
        path.push(to.to_owned());
        let outer = REMOTE_CHAIN.with(|c| std::mem::replace(&mut *c.borrow_mut(), path));
        let outcome = actor.remote_here(method, args, budget);
        REMOTE_CHAIN.with(|c| *c.borrow_mut() = outer);
        match outcome {
            Ok(Ok(json)) => Ok(json),
            Ok(Err(message)) => Err(RemoteError::Failed(crate::sanitize::line(
                &message,
                limits::LOG_LINE_BYTES,
            ))),
            Err(f) => Err(RemoteError::Failed(f.message)),
        }
    }

    /// Record a trap of `name`'s actor `generation` and decide what it does next.
    pub(crate) fn on_trap(
        &self,
        name: &str,
        generation: u64,
        trap: &TrapKind,
        blame: Blame,
    ) -> TrapDecision {
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
        let window = match blame {
            Blame::Module => &mut slot.traps,
            Blame::Client => &mut slot.client_traps,
        };
        window.push_back(now);
        while window
            .front()
            .is_some_and(|t| now.duration_since(*t) > limits::TRAP_WINDOW)
        {
            window.pop_front();
        }
        let n = window.len();
        slot.last_trap = Some(trap.to_string());
        let mut fault = crate::ledger::Event::new(
            crate::ledger::EventKind::Fault,
            Some(name),
            crate::sanitize::line(&trap.to_string(), REASON_BYTES),
        );
        fault.digest = slot.loaded.as_ref().map(|m| m.digest.clone());
        self.ledger().event(fault);
        // Traps a read-only client caused back off like any other, but never fail the module
        // (their backoff stays at its longest instead).
        let n = match blame {
            Blame::Module => n,
            Blame::Client => n.min(limits::TRAPS_BEFORE_FAILED - 1),
        };
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
        let reason = &crate::sanitize::line(reason, REASON_BYTES);
        tracing::error!(module = name, "module failed: {reason}");
        let mut fault = crate::ledger::Event::new(
            crate::ledger::EventKind::Fault,
            Some(name),
            format!("failed: {reason}"),
        );
        fault.digest = slot.loaded.as_ref().map(|m| m.digest.clone());
        self.ledger().event(fault);
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
            ModuleState::Failed { .. } | ModuleState::Loading | ModuleState::Ungranted { .. } => {
                self.wanted(&m.name)
            }
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

    /// The digest, manifest and signer of module `name` as it runs, or (not loaded) as its
    /// file is now.
    pub fn inspect(&self, name: &str) -> Result<crate::loader::Inspected, OpError> {
        let (loaded, path) = {
            let slots = self.slots();
            let slot = slots.get(name).ok_or_else(|| {
                op_err(
                    2,
                    format!(
                        "no module '{}'; see 'wasmgr module ls'",
                        crate::sanitize::quote(name)
                    ),
                )
            })?;
            (slot.loaded.clone(), slot.path.clone())
        };
        match loaded {
            Some(m) => Ok(crate::loader::Inspected {
                digest: m.digest.clone(),
                manifest: m.manifest.clone(),
                signer: m.signer.clone(),
            }),
            None => self
                .loader
                .inspect(&path)
                .map_err(|e| op_err(5, format!("module '{name}': {e}"))),
        }
    }

    /// The ledger every module's uses and denials go to.
    pub fn ledger(&self) -> &Arc<crate::ledger::Ledger> {
        self.loader.ledger()
    }

    /// Grant `caps` to module `name`, pinned to the digest of its component (the running one,
    /// or the file's if it is not loaded), by admin client `by`; then apply them: an
    /// ungranted module that is enabled starts, a running one gets them at once. Ends
    /// learning mode: a grant is the operator's decision.
    pub fn grant(
        &self,
        name: &str,
        caps: &[crate::caps::Cap],
        by: &str,
        reviewed: Option<&str>,
    ) -> Result<String, OpError> {
        let found = self.inspect(name)?;
        check_reviewed(name, &found.digest, reviewed)?;
        let ledger = self.ledger();
        let io = |e: crate::persist::PersistError| op_err(5, e.to_string());
        ledger.grant(name, &found.digest, caps, by).map_err(io)?;
        if ledger.learning(name).map_err(io)?.is_some() {
            ledger.set_learning(name, None, by).map_err(io)?;
        }
        let unrequested: Vec<String> = caps
            .iter()
            .filter(|c| {
                !found
                    .manifest
                    .requests
                    .all()
                    .any(|r| c.covers(r) || r.covers(c))
            })
            .map(ToString::to_string)
            .collect();
        let mut note = format!("granted to {name} at {}", found.digest);
        // The grant stands whatever its module does next; say why it did not start.
        if let Err(e) = self.reapply(name) {
            note.push_str(&format!("; {}", e.message));
        }
        if !unrequested.is_empty() {
            note.push_str(&format!(
                "; the module does not request {}, so it stays unused until its manifest does",
                unrequested.join(", ")
            ));
        }
        Ok(note)
    }

    /// Revoke `caps` from module `name` (for every digest), by admin client `by`; a running
    /// module loses them at once, and stops if it required one.
    pub fn revoke(
        &self,
        name: &str,
        caps: &[crate::caps::Cap],
        by: &str,
    ) -> Result<String, OpError> {
        if !self.knows(name) {
            return Err(op_err(
                2,
                format!(
                    "no module '{}'; see 'wasmgr module ls'",
                    crate::sanitize::quote(name)
                ),
            ));
        }
        let removed = self
            .ledger()
            .revoke(name, caps, by)
            .map_err(|e| op_err(5, e.to_string()))?;
        if removed.is_empty() {
            let held: Vec<String> = self
                .ledger()
                .grants(name)
                .map_err(|e| op_err(5, e.to_string()))?
                .into_iter()
                .map(|g| g.cap.to_string())
                .collect();
            return Err(op_err(
                2,
                format!(
                    "module '{name}' holds no grant {}; it holds: {}",
                    caps.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                    if held.is_empty() {
                        "none".to_owned()
                    } else {
                        held.join(", ")
                    }
                ),
            ));
        }
        let mut note = format!("revoked {} grant(s) from {name}", removed.len());
        if let Err(e) = self.reapply(name) {
            note.push_str(&format!("; {}", e.message));
        }
        Ok(note)
    }

    /// Turn learning mode on (for the module's current digest) or off, by admin client `by`.
    pub fn learn(
        &self,
        name: &str,
        on: bool,
        by: &str,
        reviewed: Option<&str>,
    ) -> Result<(), OpError> {
        let found = self.inspect(name)?;
        check_reviewed(name, &found.digest, reviewed)?;
        let requests: Vec<crate::caps::Cap> = found.manifest.requests.all().cloned().collect();
        self.ledger()
            .set_learning(
                name,
                on.then_some((found.digest.as_str(), requests.as_slice())),
                by,
            )
            .map_err(|e| op_err(5, e.to_string()))?;
        self.reapply(name)
    }

    /// Apply changed grants to module `name`: start it if it waited for them, give a running
    /// instance its new capabilities, or restart it when they change what its instance was
    /// made with (directories, sockets) or no longer cover what it requires.
    fn reapply(&self, name: &str) -> Result<(), OpError> {
        let (state, loaded) = {
            let slots = self.slots();
            let Some(slot) = slots.get(name) else {
                return Ok(());
            };
            (slot.state.clone(), slot.loaded.clone())
        };
        match state {
            ModuleState::Ungranted { .. } if self.wanted(name) => self.start(name, true),
            ModuleState::Running => {
                let Some(m) = loaded else { return Ok(()) };
                match self.loader.effective(name, &m.digest, &m.manifest) {
                    Ok(new) => {
                        let old = m.env.caps();
                        let made_with = |e: &crate::caps::Effective| {
                            let mut v: Vec<String> = e
                                .caps()
                                .iter()
                                .filter(|c| matches!(c.kind(), "files" | "net"))
                                .map(ToString::to_string)
                                .collect();
                            v.sort();
                            v
                        };
                        if made_with(&old) == made_with(&new) && old.learning == new.learning {
                            // What the module may no longer do stops now: its periodic work,
                            // its health checks.
                            if !new.allows(&crate::caps::Cap::Tick) {
                                m.env.set_tick_period(None);
                            }
                            if !new.allows(&crate::caps::Cap::Health) {
                                self.health.clear_module(name);
                            }
                            m.env.set_caps(new);
                            Ok(())
                        } else {
                            self.reload(name)
                        }
                    }
                    Err(_) => self.reload(name),
                }
            }
            _ => Ok(()),
        }
    }

    /// Stop module `name`'s instance and load it afresh (its grants are read again).
    fn reload(&self, name: &str) -> Result<(), OpError> {
        {
            let mut slots = self.slots();
            let Some(slot) = slots.get_mut(name) else {
                return Ok(());
            };
            slot.generation += 1;
            self.stop_slot(name, slot);
            slot.loaded = None;
            slot.state = ModuleState::Discovered;
        }
        self.start(name, true)
    }

    /// For words that match no command of the daemon, the modules or the cluster: if they
    /// start with the name of a module that waits for grants (it never described itself, so
    /// its commands are unknown), what to grant.
    pub fn ungranted_command(&self, words: &[String]) -> Option<CallFailure> {
        let first = words.first()?;
        let slots = self.slots();
        let Some(ModuleState::Ungranted { missing, .. }) =
            slots.get(first.as_str()).map(|s| &s.state)
        else {
            return None;
        };
        Some(CallFailure {
            errno: 13,
            message: format!(
                "module '{first}' waits for capability grants and runs no commands yet: an \
                 operator can allow it with `{}`",
                crate::caps::grant_command(first, missing)
            ),
        })
    }

    /// Reserve the cluster's command prefixes (before modules load).
    pub fn reserve_cluster_prefixes(&self, prefixes: Vec<String>) {
        *self
            .cluster_prefixes
            .write()
            .unwrap_or_else(|p| p.into_inner()) = prefixes;
    }

    /// Why a module may not declare `prefix`: it is a cluster command's, or lies under or
    /// above one. Siblings under a shared first word (`osd status` beside `osd pool ls`) are
    /// fine, as in Ceph.
    fn cluster_conflict(&self, prefix: &str) -> Option<String> {
        let mine: Vec<&str> = prefix.split(' ').collect();
        let cluster = self
            .cluster_prefixes
            .read()
            .unwrap_or_else(|p| p.into_inner());
        cluster.iter().find_map(|c| {
            let theirs: Vec<&str> = c.split(' ').collect();
            let n = mine.len().min(theirs.len());
            if mine[..n] != theirs[..n] {
                return None;
            }
            let relation = match mine.len().cmp(&theirs.len()) {
                std::cmp::Ordering::Equal => "is",
                std::cmp::Ordering::Less => "lies above",
                std::cmp::Ordering::Greater => "lies under",
            };
            Some(format!(
                "command '{prefix}' {relation} the cluster's command '{c}': the cluster's \
                 commands stay the cluster's; choose a prefix of this module's own"
            ))
        })
    }

    /// Whether `name` is a known module.
    pub fn knows(&self, name: &str) -> bool {
        self.slots().contains_key(name)
    }

    /// `MGR_MODULE_ERROR` for failed modules, in Ceph's words.
    /// and `MGR_MODULE_DEPENDENCY` for modules whose `can_run` said no, as Ceph reports them.
    pub fn health_checks(&self) -> Vec<Check> {
        let slots = self.slots();
        let (mut errors, mut dependencies) = (Vec::new(), Vec::new());
        let (mut ungranted, mut learning) = (Vec::new(), Vec::new());
        for (name, s) in slots.iter() {
            if let ModuleState::Ungranted { missing, .. } = &s.state {
                ungranted.push(format!(
                    "Module '{name}' needs capabilities an operator has not granted: `{}`",
                    crate::caps::grant_command(name, missing)
                ));
            }
            if s.actor.is_some()
                && let Some(m) = &s.loaded
                && m.env.caps().learning
            {
                learning.push(format!(
                    "Module '{name}' runs in learning mode: every capability it requests is \
                     allowed; review `wasmgr module caps {name} --propose` and grant it"
                ));
            }
            if let ModuleState::Failed { reason, .. } = &s.state {
                match reason.strip_prefix(CANNOT_RUN) {
                    Some(why) => {
                        dependencies.push(format!("Module '{name}' has failed dependency: {why}"))
                    }
                    None => errors.push(format!("Module '{name}' has failed: {reason}")),
                }
            }
        }
        let check = |code: &str, severity, detail: Vec<String>, many: &str| {
            let summary = match detail.as_slice() {
                [one] => one.clone(),
                _ => format!("{} {many}", detail.len()),
            };
            Check {
                code: code.into(),
                severity,
                summary,
                count: detail.len() as u64,
                detail,
                modules: Vec::new(),
            }
        };
        let mut checks = Vec::new();
        if !dependencies.is_empty() {
            checks.push(check(
                "MGR_MODULE_DEPENDENCY",
                Severity::Warning,
                dependencies,
                "mgr modules have failed dependencies",
            ));
        }
        if !ungranted.is_empty() {
            checks.push(check(
                "MGR_MODULE_UNGRANTED",
                Severity::Warning,
                ungranted,
                "mgr modules wait for capability grants",
            ));
        }
        if !learning.is_empty() {
            checks.push(check(
                "MGR_MODULE_LEARNING",
                Severity::Warning,
                learning,
                "mgr modules run in learning mode",
            ));
        }
        if !errors.is_empty() {
            checks.push(check(
                "MGR_MODULE_ERROR",
                Severity::Error,
                errors,
                "mgr modules have failed",
            ));
        }
        checks
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

/// With `--digest`, the component must still be the one the operator reviewed.
fn check_reviewed(name: &str, digest: &str, reviewed: Option<&str>) -> Result<(), OpError> {
    let Some(r) = reviewed else { return Ok(()) };
    let r = r.strip_prefix("sha256:").unwrap_or(r);
    if r.eq_ignore_ascii_case(digest) {
        return Ok(());
    }
    Err(op_err(
        116,
        format!(
            "module '{name}' is now sha256:{digest}, not the sha256:{} you reviewed: its file \
             changed; review it again with 'wasmgr module caps {name}'",
            crate::sanitize::quote(r)
        ),
    ))
}

/// Why `name` cannot be a module's name: not a [`valid_name`], or one of the daemon's own
/// words ([`command::RESERVED_WORDS`]).
pub fn check_name(name: &str) -> Result<(), String> {
    if !valid_name(name) {
        return Err(format!(
            "'{}' is not a valid module name: use 1 to 64 lower-case letters, digits, '_' and \
             '-'; rename the file",
            crate::sanitize::quote(name)
        ));
    }
    if command::RESERVED_WORDS.contains(&name) {
        return Err(format!(
            "the name '{name}' is reserved for the daemon's own commands; rename the file"
        ));
    }
    Ok(())
}

/// Module names are file stems: lower-case letters, digits, `_` and `-`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}
