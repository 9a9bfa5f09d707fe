//! Loading a module from disk: read, digest, manifest, compile (through the artifact cache),
//! link, instantiate, describe.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wasmtime::component::{Component, HasSelf, Linker, TypedFunc};
use wasmtime::{Engine, Store};

use crate::bindings::{MgrModule, MgrModulePre, ModuleInfo, optional};
use crate::cache::{self, ArtifactCache, CacheOutcome};
use crate::caps::{self, Cap, Effective};
use crate::clog::ClusterLog;
use crate::cluster::ClusterSource;
use crate::engine;
use crate::health::HealthBoard;
use crate::host::ModuleCtx;
use crate::host::command::CommandRunner;
use crate::limits::{self, Limits};
use crate::link::Link;
use crate::manifest::Manifest;
use crate::module_env::ModuleEnv;
use crate::options::OptionSet;
use crate::persist::Persistence;
use crate::trap::TrapKind;

/// A module compiled, linked and described: everything needed to make fresh instances.
pub struct LoadedModule {
    /// The module's name.
    pub name: String,
    /// Its component file.
    pub path: PathBuf,
    /// sha256 of the component file, hex.
    pub digest: String,
    /// Its manifest (empty if it has none).
    pub manifest: Manifest,
    /// What it said about itself.
    pub info: ModuleInfo,
    /// Whether the compiled code came from the cache.
    pub cache: CacheOutcome,
    /// How long compile-or-load plus first instantiation and describe took.
    pub load_time: Duration,
    /// The methods it serves to remote calls (`remote-target.methods`), empty if none.
    pub remote_methods: Vec<String>,
    /// The trusted key that signed it; none for an unsigned module.
    pub signer: Option<crate::signing::Signer>,
    pub(crate) pre: MgrModulePre<ModuleCtx>,
    pub(crate) env: Arc<ModuleEnv>,
}

/// A component as found on disk, not compiled: see [`Loader::inspect`].
pub struct Inspected {
    /// sha256 of the component file.
    pub digest: String,
    /// Its manifest.
    pub manifest: Manifest,
    /// Who signed it, if a trusted key did.
    pub signer: Option<crate::signing::Signer>,
}

/// One live instance: a store and the bindings into it. Dropping it frees the instance.
pub struct Instance {
    pub(crate) store: Store<ModuleCtx>,
    pub(crate) bindings: MgrModule,
    pub(crate) extras: Extras,
}

/// `remote-target.handle-remote(method, args) -> result<string, string>`.
pub(crate) type HandleRemote = TypedFunc<(String, String), (Result<String, String>,)>;

/// The optional exports an instance has (see [`crate::bindings::optional`]).
#[derive(Clone, Default)]
pub(crate) struct Extras {
    /// `ticker.tick`.
    pub tick: Option<TypedFunc<(), ()>>,
    /// `remote-target.methods`.
    pub methods: Option<TypedFunc<(), (Vec<String>,)>>,
    /// `remote-target.handle-remote`.
    pub handle_remote: Option<HandleRemote>,
}

impl Extras {
    /// Look up the optional exports of `instance`. A missing or mistyped one is simply absent.
    fn find(store: &mut Store<ModuleCtx>, instance: &wasmtime::component::Instance) -> Extras {
        let mut func = |iface: &str, name: &str| {
            let parent = instance.get_export_index(&mut *store, None, iface)?;
            let index = instance.get_export_index(&mut *store, Some(&parent), name)?;
            instance.get_func(&mut *store, index)
        };
        let tick = func(optional::TICKER, "tick");
        let methods = func(optional::REMOTE_TARGET, "methods");
        let handle = func(optional::REMOTE_TARGET, "handle-remote");
        Extras {
            tick: tick.and_then(|f| f.typed(&*store).ok()),
            methods: methods.and_then(|f| f.typed(&*store).ok()),
            handle_remote: handle.and_then(|f| f.typed(&*store).ok()),
        }
    }
}

/// Why a module could not be loaded. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The component file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is larger than the host loads.
    #[error(
        "{path} is {size} bytes, over the limit of {} bytes for a module's component",
        limits::MODULE_FILE_BYTES
    )]
    TooLarge {
        /// The component file.
        path: String,
        /// Its size.
        size: u64,
    },
    /// Bad manifest.
    #[error(transparent)]
    Manifest(#[from] crate::manifest::ManifestError),
    /// The manifest asked for more than the host allows.
    #[error("manifest: {0}")]
    Limits(#[from] crate::limits::RaiseRefused),
    /// Not a component, or not one this host can compile.
    #[error(transparent)]
    Compile(#[from] crate::cache::CacheError),
    /// The component imports something the host does not provide.
    #[error(
        "cannot link: {0}; build the module against the wasmgr:mgr@0.1.1 world (mgr-module) with a current SDK"
    )]
    Link(String),
    /// A required capability is not granted for this digest.
    #[error(
        "not granted: {}; an operator can allow it with `{}`",
        missing.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
        caps::grant_command(module, missing)
    )]
    Ungranted {
        /// The module.
        module: String,
        /// The component's digest.
        digest: String,
        /// The required capabilities without a grant.
        missing: Vec<Cap>,
    },
    /// Its signature does not satisfy the host's trust policy.
    #[error(transparent)]
    Signature(#[from] crate::signing::SignatureError),
    /// Instantiation or `describe` trapped.
    #[error("{stage} {trap}")]
    Trapped {
        /// `instantiate` or `describe`.
        stage: &'static str,
        /// What happened.
        trap: TrapKind,
    },
    /// `describe` returned something the host cannot accept.
    #[error("invalid description: {0}")]
    Invalid(String),
}

/// Reads a component file, refusing one over [`limits::MODULE_FILE_BYTES`] before reading it.
fn read_component(path: &Path) -> Result<Vec<u8>, LoadError> {
    use std::io::Read as _;
    let read_err = |source| LoadError::Read {
        path: path.display().to_string(),
        source,
    };
    let file = crate::fsutil::open_regular(path).map_err(|e| match e.kind() {
        // A FIFO, a directory or a device named `*.wasm`: say what belongs there.
        std::io::ErrorKind::InvalidInput => read_err(std::io::Error::new(
            e.kind(),
            format!("{e}; put a module's component there"),
        )),
        _ => read_err(e),
    })?;
    let size = file.metadata().map_err(read_err)?.len();
    if size > limits::MODULE_FILE_BYTES {
        return Err(LoadError::TooLarge {
            path: path.display().to_string(),
            size,
        });
    }
    let mut bytes = Vec::with_capacity(size as usize);
    // `take`: the file may grow while it is read.
    file.take(limits::MODULE_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 > limits::MODULE_FILE_BYTES {
        return Err(LoadError::TooLarge {
            path: path.display().to_string(),
            size: bytes.len() as u64,
        });
    }
    Ok(bytes)
}

/// The methods a module serves to remote calls, asked once at load and checked: at most
/// [`limits::REMOTE_METHODS`] plain words of at most [`limits::NAME_BYTES`] bytes.
fn remote_methods(instance: &mut Instance) -> Result<Vec<String>, LoadError> {
    let Some(methods) = instance.extras.methods else {
        return Ok(Vec::new());
    };
    let (list,) = call_extra(
        instance,
        limits::LOAD_FUEL,
        limits::LOAD_DEADLINE,
        &methods,
        (),
    )
    .map_err(|trap| LoadError::Trapped {
        stage: "remote-target.methods",
        trap,
    })?;
    if list.len() > limits::REMOTE_METHODS
        || list.iter().any(|m| {
            m.is_empty() || m.len() > limits::NAME_BYTES || !crate::sanitize::is_plain_word(m)
        })
    {
        return Err(LoadError::Invalid(format!(
            "remote-target.methods: at most {} methods, each one word of 1 to {} bytes",
            limits::REMOTE_METHODS,
            limits::NAME_BYTES
        )));
    }
    Ok(list)
}

/// What `describe` returned, checked against the declaration limits of [`limits`] and with
/// every text an operator will see made safe to show ([`crate::sanitize`]). Runs in time
/// linear in the description, before the module holds any shared lock.
fn checked_info(name: &str, mut info: ModuleInfo) -> Result<ModuleInfo, String> {
    use crate::sanitize;
    if info.version.len() > limits::VERSION_BYTES {
        return Err(format!(
            "the version is {} bytes, over the limit of {}",
            info.version.len(),
            limits::VERSION_BYTES
        ));
    }
    if info.error_string.len() > limits::DESC_BYTES {
        return Err(format!(
            "the error-string is {} bytes, over the limit of {}",
            info.error_string.len(),
            limits::DESC_BYTES
        ));
    }
    if info.commands.len() > limits::COMMANDS_PER_MODULE {
        return Err(format!(
            "{} commands is over the limit of {} commands per module",
            info.commands.len(),
            limits::COMMANDS_PER_MODULE
        ));
    }
    if info.options.len() > limits::OPTIONS_PER_MODULE {
        return Err(format!(
            "{} options is over the limit of {} options per module",
            info.options.len(),
            limits::OPTIONS_PER_MODULE
        ));
    }
    let mut prefixes = std::collections::HashSet::with_capacity(info.commands.len());
    for decl in &mut info.commands {
        crate::command::validate_decl(name, decl).map_err(|e| e.to_string())?;
        if !prefixes.insert(decl.prefix.clone()) {
            return Err(format!(
                "command '{}' is declared twice; each command needs a prefix of its own",
                decl.prefix
            ));
        }
        decl.desc = sanitize::line(&decl.desc, limits::DESC_BYTES);
    }
    for o in &mut info.options {
        crate::options::check_sizes(o)?;
        o.desc = sanitize::line(&o.desc, limits::DESC_BYTES);
        o.long_desc = sanitize::line(&o.long_desc, limits::LONG_DESC_BYTES);
    }
    info.version = sanitize::line(&info.version, limits::VERSION_BYTES);
    info.error_string = sanitize::line(&info.error_string, limits::DESC_BYTES);
    let mut kinds = Vec::with_capacity(info.notify.len().min(16));
    for k in info.notify {
        if !kinds.contains(&k) {
            kinds.push(k);
        }
    }
    info.notify = kinds;
    Ok(info)
}

/// Shared services every module environment gets.
#[derive(Clone)]
pub struct Services {
    /// Durable storage.
    pub persist: Arc<dyn Persistence>,
    /// Cluster state.
    pub cluster: Arc<dyn ClusterSource>,
    /// The health board.
    pub health: Arc<HealthBoard>,
    /// This manager's id.
    pub mgr_id: String,
    /// The daemon's `debug_mgr` level, for modules whose `log_level` is empty.
    pub debug_mgr: String,
    /// The way back to the supervisor, bound once it exists.
    pub link: Arc<Link>,
    /// Where modules' cluster commands run.
    pub runner: Arc<CommandRunner>,
    /// The daemon's cluster log.
    pub clog: Arc<ClusterLog>,
    /// Where modules with `log_to_file` write their logs (`<data>/log`); none: nowhere.
    pub log_dir: Option<std::path::PathBuf>,
    /// The audit ledger: grants, uses, denials.
    pub ledger: Arc<crate::ledger::Ledger>,
}

impl Services {
    /// Services over these parts, with a new link, command runner and cluster log.
    pub fn new(
        persist: Arc<dyn Persistence>,
        cluster: Arc<dyn ClusterSource>,
        health: Arc<HealthBoard>,
        mgr_id: String,
        debug_mgr: String,
    ) -> Services {
        let persist_for_ledger = persist.clone();
        Services {
            persist,
            cluster,
            health,
            mgr_id,
            debug_mgr,
            link: Link::new(),
            runner: CommandRunner::start(limits::COMMAND_THREADS),
            clog: Arc::new(ClusterLog::default()),
            log_dir: None,
            ledger: crate::ledger::Ledger::start(persist_for_ledger),
        }
    }
}

/// Compiles, links and instantiates modules for one engine.
pub struct Loader {
    engine: Engine,
    linker: Linker<ModuleCtx>,
    cache: ArtifactCache,
    services: Services,
    limits: Limits,
    trust: crate::signing::TrustPolicy,
    compiled: Mutex<Compiled>,
    /// Signalled whenever a digest leaves [`Compiled::in_flight`].
    compiled_done: std::sync::Condvar,
}

/// Compiled components in memory, so that modules with the same code share it and a re-enable
/// does not load it again. Bounded by the number of module names: when a name moves to new
/// code, the old code is forgotten unless another module still uses it.
#[derive(Default)]
struct Compiled {
    by_digest: HashMap<String, Component>,
    digest_of: HashMap<String, String>,
    /// Digests being compiled (or loaded from the cache) right now: another load of the same
    /// code waits for that one instead of compiling it again (ten copies of a Python module
    /// would otherwise compile ten times at once, each for seconds).
    in_flight: std::collections::HashSet<String>,
}

impl Compiled {
    fn remember(&mut self, name: &str, digest: &str, component: &Component) {
        self.by_digest
            .entry(digest.to_owned())
            .or_insert_with(|| component.clone());
        if let Some(old) = self.digest_of.insert(name.to_owned(), digest.to_owned())
            && old != digest
            && !self.digest_of.values().any(|d| *d == old)
        {
            self.by_digest.remove(&old);
        }
    }
}

impl Loader {
    /// A loader whose artifacts are cached under `cache_dir`.
    pub fn new(
        engine: Engine,
        cache_dir: &Path,
        services: Services,
        limits: Limits,
    ) -> wasmtime::Result<Self> {
        let mut linker = Linker::new(&engine);
        crate::host::add_wasi_to_linker(&mut linker)?;
        MgrModule::add_to_linker::<ModuleCtx, HasSelf<ModuleCtx>>(&mut linker, |ctx| ctx)?;
        let cache = ArtifactCache::new(cache_dir, &engine);
        Ok(Loader {
            engine,
            linker,
            cache,
            services,
            limits,
            trust: crate::signing::TrustPolicy::default(),
            compiled: Mutex::default(),
            compiled_done: std::sync::Condvar::new(),
        })
    }

    /// This loader, checking every module's signature against `trust` before its code is
    /// compiled.
    pub fn with_trust(mut self, trust: crate::signing::TrustPolicy) -> Self {
        self.trust = trust;
        self
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The audit ledger.
    pub fn ledger(&self) -> &Arc<crate::ledger::Ledger> {
        &self.services.ledger
    }

    /// Load module `name` from `path` and return it with a first, described instance.
    pub fn load(
        &self,
        name: &str,
        path: &Path,
    ) -> Result<(Arc<LoadedModule>, Instance), LoadError> {
        self.load_then(name, path, || {})
    }

    /// [`Loader::load`], calling `compiled` once the module's code is compiled and linked,
    /// before any of its code runs (instantiation and `describe`).
    pub fn load_then(
        &self,
        name: &str,
        path: &Path,
        compiled: impl FnOnce(),
    ) -> Result<(Arc<LoadedModule>, Instance), LoadError> {
        let started = Instant::now();
        let bytes = read_component(path)?;
        let digest = cache::digest(&bytes);
        let signer = self.trust.check(path, &digest)?;
        let manifest = Manifest::load(path, &bytes)?;
        let limits = self.limits.lowered_by(&manifest.limits)?;
        let caps = self.effective(name, &digest, &manifest)?;
        let (component, cache) = self.component(name, path, &bytes, &digest)?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .and_then(MgrModulePre::new)
            .map_err(|e| LoadError::Link(format!("{e:#}")))?;
        compiled();
        let env = ModuleEnv::new(
            name,
            &self.services,
            limits,
            manifest.requests.clone(),
            caps,
        )
        .map_err(|e| LoadError::Invalid(e.to_string()))?;
        let env = Arc::new(env);
        let mut instance =
            instantiate(&self.engine, &pre, &env).map_err(|trap| LoadError::Trapped {
                stage: "instantiate",
                trap,
            })?;
        let info = call(
            &mut instance,
            limits::LOAD_FUEL,
            limits::LOAD_DEADLINE,
            |b, s| b.wasmgr_mgr_module().call_describe(s),
        )
        .map_err(|trap| LoadError::Trapped {
            stage: "describe",
            trap,
        })?;
        if info.name != name {
            let described = crate::sanitize::quote(&info.name);
            return Err(LoadError::Invalid(format!(
                "the file {} describes a module named '{described}': rename the file to \
                 {described}.wasm or fix the name",
                path.display(),
            )));
        }
        let info = checked_info(name, info).map_err(LoadError::Invalid)?;
        let remote_methods = remote_methods(&mut instance)?;
        let options = OptionSet::new(name, info.options.clone())
            .map_err(|e| LoadError::Invalid(e.to_string()))?;
        env.set_options(options);
        let module = LoadedModule {
            name: name.to_owned(),
            path: path.to_owned(),
            digest,
            manifest,
            info,
            cache,
            load_time: started.elapsed(),
            remote_methods,
            signer,
            pre,
            env,
        };
        Ok((Arc::new(module), instance))
    }

    /// The capabilities module `name` at `digest` runs with: what its manifest requests and
    /// an operator granted for that digest (or everything it requests, in learning mode
    /// for that digest). Refused when a required capability is not granted: no code of a
    /// module runs before an operator approved what it asks for.
    pub fn effective(
        &self,
        name: &str,
        digest: &str,
        manifest: &Manifest,
    ) -> Result<Effective, LoadError> {
        let ledger = &self.services.ledger;
        let io = |e: crate::persist::PersistError| LoadError::Invalid(e.to_string());
        let granted = ledger.granted(name, digest).map_err(io)?;
        let learning = ledger
            .learning(name)
            .map_err(io)?
            .filter(|l| l.digest == digest);
        let Some(learning) = learning else {
            let missing = caps::missing(&manifest.requests, &granted);
            if !missing.is_empty() {
                return Err(LoadError::Ungranted {
                    module: name.to_owned(),
                    digest: digest.to_owned(),
                    missing,
                });
            }
            return Ok(Effective::new(&manifest.requests, &granted, false));
        };
        // Learning allows what the module requested when learning began, and no more: a
        // manifest file changed since (it is not covered by the digest) widens nothing.
        let recorded = |c: &&Cap| learning.requests.iter().any(|r| r.covers(c));
        let requests = caps::Requests {
            required: manifest
                .requests
                .required
                .iter()
                .filter(recorded)
                .cloned()
                .collect(),
            optional: manifest
                .requests
                .optional
                .iter()
                .filter(recorded)
                .cloned()
                .collect(),
        };
        Ok(Effective::new(&requests, &granted, true))
    }

    /// The compiled component for `bytes`: from memory, else from the artifact cache, else
    /// compiled. Compilation runs without the lock held.
    fn component(
        &self,
        name: &str,
        path: &Path,
        bytes: &[u8],
        digest: &str,
    ) -> Result<(Component, CacheOutcome), crate::cache::CacheError> {
        let lock = || self.compiled.lock().unwrap_or_else(|p| p.into_inner());
        {
            let mut compiled = lock();
            loop {
                if let Some(c) = compiled.by_digest.get(digest).cloned() {
                    compiled.remember(name, digest, &c);
                    return Ok((c, CacheOutcome::Memory));
                }
                if compiled.in_flight.insert(digest.to_owned()) {
                    break;
                }
                // Another load has this code in hand: wait for it. Should it fail, this one
                // tries for itself.
                compiled = self
                    .compiled_done
                    .wait(compiled)
                    .unwrap_or_else(|p| p.into_inner());
            }
        }
        // However the load ends, a panic included, the digest leaves `in_flight` and the
        // waiting loads wake.
        struct Done<'a>(&'a Loader, &'a str);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0
                    .compiled
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .in_flight
                    .remove(self.1);
                self.0.compiled_done.notify_all();
            }
        }
        let done = Done(self, digest);
        let (component, outcome) = self.cache.load(&self.engine, path, bytes, digest)?;
        lock().remember(name, digest, &component);
        drop(done);
        Ok((component, outcome))
    }

    /// What the component at `path` is now, without compiling it: its digest, manifest and
    /// signer (for grants and `module caps` of a module that is not loaded).
    pub fn inspect(&self, path: &Path) -> Result<Inspected, LoadError> {
        let bytes = read_component(path)?;
        let digest = cache::digest(&bytes);
        let manifest = Manifest::load(path, &bytes)?;
        let signer = self.trust.check(path, &digest).ok().flatten();
        Ok(Inspected {
            digest,
            manifest,
            signer,
        })
    }

    /// A fresh instance of an already loaded module.
    pub fn instantiate(&self, module: &LoadedModule) -> Result<Instance, TrapKind> {
        instantiate(&self.engine, &module.pre, &module.env)
    }
}

fn instantiate(
    engine: &Engine,
    pre: &MgrModulePre<ModuleCtx>,
    env: &Arc<ModuleEnv>,
) -> Result<Instance, TrapKind> {
    let mut store = ModuleCtx::store(engine, env.clone());
    let budget = limits::LOAD_FUEL;
    let deadline = limits::LOAD_DEADLINE;
    arm(&mut store, budget, deadline);
    let started = Instant::now();
    let made = pre
        .instance_pre()
        .instantiate(&mut store)
        .and_then(|instance| {
            let bindings = MgrModule::new(&mut store, &instance)?;
            Ok((instance, bindings))
        });
    match made {
        Ok((instance, bindings)) => {
            let extras = Extras::find(&mut store, &instance);
            store.data_mut().has_ticker = extras.tick.is_some();
            Ok(Instance {
                store,
                bindings,
                extras,
            })
        }
        Err(e) => Err(TrapKind::classify(
            &e,
            store.data(),
            budget,
            deadline,
            started.elapsed(),
        )),
    }
}

fn arm(store: &mut Store<ModuleCtx>, fuel: u64, deadline: Duration) {
    // Fuel is on for every store of this engine, so setting it cannot fail.
    let _ = store.set_fuel(fuel);
    store.set_epoch_deadline(engine::ticks(deadline));
    let ctx = store.data_mut();
    ctx.limiter.denied = None;
    ctx.last_panic = None;
    ctx.deadline = Some(Instant::now() + deadline);
    ctx.wait_expired = false;
}

/// Call an optional export `f` of `instance` with `params` under `fuel` and `deadline`, as
/// [`call`] does for the world's exports.
pub(crate) fn call_extra<P, R>(
    instance: &mut Instance,
    fuel: u64,
    deadline: Duration,
    f: &TypedFunc<P, R>,
    params: P,
) -> Result<R, TrapKind>
where
    P: wasmtime::component::ComponentNamedList + wasmtime::component::Lower + Send + Sync,
    R: wasmtime::component::ComponentNamedList + wasmtime::component::Lift + Send + Sync,
{
    call(instance, fuel, deadline, |_, store| {
        f.call(&mut *store, params)
    })
}

/// Run one call into `instance` under `fuel` and `deadline`. A failure is classified; the
/// instance must then be dropped (its store is poisoned).
pub(crate) fn call<R>(
    instance: &mut Instance,
    fuel: u64,
    deadline: Duration,
    f: impl FnOnce(&MgrModule, &mut Store<ModuleCtx>) -> wasmtime::Result<R>,
) -> Result<R, TrapKind> {
    let Instance {
        store, bindings, ..
    } = instance;
    store
        .data()
        .env
        .stats
        .calls
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    arm(store, fuel, deadline);
    let started = Instant::now();
    f(bindings, store)
        .map_err(|e| TrapKind::classify(&e, store.data(), fuel, deadline, started.elapsed()))
}
