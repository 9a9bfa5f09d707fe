//! The manager: the host's one entry point. It starts the engine, the store and the modules,
//! and turns client commands (words, format, input) into module calls or built-in actions.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::actor::Blame;
use crate::bindings::{NotifyKind, Perm};
use crate::builtin;
use crate::cluster::ClusterSource;
use crate::command::{self, CommandTable};
use crate::engine::{self, EpochTicker};
use crate::format::Format;
use crate::health::{self, Check, HealthBoard};
use crate::limits::{self, Limits};
use crate::loader::{Loader, Services};
use crate::persist::{Persistence, SqliteStore};
use crate::pool::Pool;
use crate::sanitize;
use crate::supervisor::Supervisor;

/// How the host is set up. Built by the daemon from its command line.
pub struct HostConfig {
    /// Where the database and the compiled-artifact cache live.
    pub data_dir: PathBuf,
    /// Where module components (`<name>.wasm`, optional `<name>.toml`) are found.
    pub modules_dir: PathBuf,
    /// Where cluster state comes from.
    pub cluster: Arc<dyn ClusterSource>,
    /// The ceilings of every module's limits.
    pub limits: Limits,
    /// How many module instances the engine's pool holds.
    pub module_slots: u32,
    /// Core worker threads that run queued module calls (notifications, and commands for a
    /// busy module); spare workers are added while all of them are stuck in calls.
    pub workers: usize,
    /// The daemon's `debug_mgr` level (`"2/5"` in Ceph's notation), used by modules whose
    /// `log_level` option is empty.
    pub debug_mgr: String,
    /// Where compiled modules are cached (default: `<data_dir>/cache`). Several hosts may share
    /// one cache directory.
    pub cache_dir: Option<PathBuf>,
    /// Which modules may load by their signatures (default: every unsigned module; see
    /// [`crate::signing`]).
    pub trust: crate::signing::TrustPolicy,
    /// A grants file applied at start ([`crate::grants_file`]).
    pub grants_file: Option<PathBuf>,
}

impl HostConfig {
    /// The defaults for `data_dir`, `modules_dir` and `cluster`.
    pub fn new(data_dir: PathBuf, modules_dir: PathBuf, cluster: Arc<dyn ClusterSource>) -> Self {
        HostConfig {
            data_dir,
            modules_dir,
            cluster,
            limits: Limits::default(),
            module_slots: engine::DEFAULT_MODULE_SLOTS,
            workers: crate::pool::default_workers(),
            debug_mgr: "2/5".into(),
            cache_dir: None,
            trust: crate::signing::TrustPolicy::default(),
            grants_file: None,
        }
    }
}

/// Why the host could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The grants file is unreadable or malformed.
    #[error("grants file: {0}")]
    Grants(String),
    /// A directory is missing or unusable.
    #[error("{path}: {message}")]
    Dir {
        /// The directory.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The store could not be opened.
    #[error(transparent)]
    Persist(#[from] crate::persist::PersistError),
    /// The engine could not be built.
    #[error("cannot set up the WebAssembly engine: {0:#}")]
    Engine(wasmtime::Error),
}

/// Who is asking: read-only clients may run only `r` commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientPerm {
    /// `r` commands only.
    Read,
    /// Every command.
    ReadWrite,
}

/// A command from a client, as words (`["hello", "Mars"]`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CommandRequest {
    /// The command's words: prefix words then arguments.
    pub words: Vec<String>,
    /// The output format the client asked for, if any.
    #[serde(default)]
    pub format: Option<String>,
    /// The client's input file (`-i FILE`), empty if none.
    #[serde(default)]
    pub inbuf: String,
}

/// A command's outcome, Ceph style: `retval` is 0 or a negative Linux errno.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CommandReply {
    /// 0 or a negative errno.
    pub retval: i32,
    /// The output.
    pub stdout: String,
    /// Errors and progress messages.
    pub stderr: String,
}

impl CommandReply {
    /// A successful reply.
    pub fn ok(stdout: impl Into<String>) -> Self {
        CommandReply {
            retval: 0,
            stdout: stdout.into(),
            stderr: String::new(),
        }
    }

    /// A failed reply; `errno` is positive.
    pub fn err(errno: i32, stderr: impl Into<String>) -> Self {
        CommandReply {
            retval: -errno.abs(),
            stdout: String::new(),
            stderr: stderr.into(),
        }
    }
}

/// One command as `--help` lists it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CommandInfo {
    /// The prefix words.
    pub prefix: String,
    /// The generated usage, e.g. `hello [<person_name>]`.
    pub usage: String,
    /// The `--help` line: usage and description, aligned.
    pub help: String,
    /// One line of description.
    pub desc: String,
    /// `r`, `w` or `rw`.
    pub perm: String,
    /// Whether `--period` repeats it.
    pub poll: bool,
    /// The module serving it, or `mgr`.
    pub owner: String,
}

/// A running host.
pub struct Manager {
    pub(crate) supervisor: Arc<Supervisor>,
    pub(crate) persist: Arc<dyn Persistence>,
    pub(crate) health: Arc<HealthBoard>,
    pub(crate) cluster: Arc<dyn ClusterSource>,
    pub(crate) config: HostConfigSummary,
    pub(crate) started: Instant,
    pub(crate) clog: Arc<crate::clog::ClusterLog>,
    /// The named admin clients, whose tokens requests are checked against.
    pub(crate) clients: crate::clients::Clients,
    /// The cluster's commands, for words that match none of the daemon's or modules'.
    cluster_commands: CommandTable,
    _ticker: EpochTicker,
}

/// What `status` reports about the configuration.
pub(crate) struct HostConfigSummary {
    pub data_dir: PathBuf,
    pub modules_dir: PathBuf,
    pub mgr_id: String,
}

impl Manager {
    /// Start the host: open the store, build the engine, load the modules and start the
    /// enabled ones. A module that fails to load is marked failed; it does not stop the host.
    pub fn start(config: HostConfig) -> Result<Manager, StartError> {
        for (dir, create) in [(&config.data_dir, true), (&config.modules_dir, false)] {
            if create {
                std::fs::create_dir_all(dir).map_err(|e| StartError::Dir {
                    path: dir.display().to_string(),
                    message: e.to_string(),
                })?;
            } else if !dir.is_dir() {
                return Err(StartError::Dir {
                    path: dir.display().to_string(),
                    message: "not a directory; point --modules at the directory holding the module .wasm files".into(),
                });
            }
        }
        let persist: Arc<dyn Persistence> = Arc::new(SqliteStore::open(&config.data_dir)?);
        let clients = crate::clients::Clients::load(persist.clone())?;
        let engine =
            engine::build(&config.limits, config.module_slots).map_err(StartError::Engine)?;
        let pool = Pool::start(config.workers).map_err(|e| {
            StartError::Engine(wasmtime::Error::msg(format!(
                "cannot start the worker threads: {e}"
            )))
        })?;
        let health = Arc::new(HealthBoard::default());
        let mgr_id = config.cluster.mgr_id();
        let mut services = Services::new(
            persist.clone(),
            config.cluster.clone(),
            health.clone(),
            mgr_id.clone(),
            config.debug_mgr.clone(),
        );
        services.log_dir = Some(config.data_dir.join("log"));
        let link = services.link.clone();
        let clog = services.clog.clone();
        let watchdog = pool.watchdog();
        let ticks = link.clone();
        // Every epoch tick also runs the modules' due ticks (periodic work).
        let ticker = EpochTicker::start_with(engine.clone(), move || {
            watchdog.tick();
            ticks.run_due_ticks();
        })
        .map_err(|e| StartError::Engine(wasmtime::Error::msg(e.to_string())))?;
        let loader = Loader::new(
            engine,
            &config
                .cache_dir
                .clone()
                .unwrap_or_else(|| config.data_dir.join("cache")),
            services,
            config.limits.clone(),
        )
        .map_err(StartError::Engine)?
        .with_trust(config.trust.clone());
        let mut table = CommandTable::new();
        for decl in builtin::commands() {
            table
                .insert("mgr", decl)
                .map_err(|e| StartError::Engine(wasmtime::Error::msg(e.to_string())))?;
        }
        let supervisor = Supervisor::new(
            Arc::new(loader),
            &config.modules_dir,
            persist.clone(),
            health.clone(),
            table,
            pool,
        );
        link.bind(&supervisor);
        if let Some(path) = &config.grants_file {
            let file = crate::grants_file::GrantsFile::load(path).map_err(StartError::Grants)?;
            let added = file
                .apply(
                    supervisor.ledger(),
                    &format!("grants-file:{}", path.display()),
                )
                .map_err(StartError::Grants)?;
            tracing::info!(added, "grants file {} applied", path.display());
        }
        let cluster_commands = cluster_table(&*config.cluster);
        supervisor.reserve_cluster_prefixes(
            cluster_commands
                .entries()
                .map(|e| e.decl.prefix.clone())
                .collect(),
        );
        supervisor.discover().map_err(|e| StartError::Dir {
            path: config.modules_dir.display().to_string(),
            message: e.to_string(),
        })?;
        // The cluster's changes cue the modules subscribed to them.
        let notified = Arc::downgrade(&supervisor);
        config.cluster.start(Arc::new(move |kind: &str, id: &str| {
            if let (Some(sup), Some(kind)) = (notified.upgrade(), notify_kind(kind)) {
                sup.notify(kind, id);
            }
        }));
        Ok(Manager {
            supervisor,
            persist,
            health,
            cluster: config.cluster,
            config: HostConfigSummary {
                data_dir: config.data_dir,
                modules_dir: config.modules_dir,
                mgr_id,
            },
            started: Instant::now(),
            clog,
            clients,
            cluster_commands,
            _ticker: ticker,
        })
    }

    /// Run one client command. Arguments are matched and checked against the command's
    /// declaration before any module is called: bad input is EINVAL with the usage.
    pub fn command(&self, req: &CommandRequest, perm: ClientPerm) -> CommandReply {
        let client = match perm {
            ClientPerm::ReadWrite => "admin",
            ClientPerm::Read => "readonly",
        };
        self.command_by(req, perm, client)
    }

    /// [`Manager::command`] for the named admin client `client`, to whom the ledger
    /// attributes what the command changes.
    pub fn command_by(&self, req: &CommandRequest, perm: ClientPerm, client: &str) -> CommandReply {
        // Every reply leaves through `bounded`: whatever path made it (a module, a refusal
        // quoting a module's declaration, a trap), the client gets escaped text of bounded
        // size.
        bounded(self.command_unbounded(req, perm, client))
    }

    fn command_unbounded(
        &self,
        req: &CommandRequest,
        perm: ClientPerm,
        client: &str,
    ) -> CommandReply {
        let format = match req.format.as_deref().map(Format::parse).transpose() {
            Ok(f) => f,
            Err(e) => return CommandReply::err(22, e),
        };
        // The table lock is held only for the lookup and the argument checks: the supervisor
        // takes its slots lock before the table lock, so nothing here may take the slots lock
        // while holding it, and built-in commands change the table.
        let (owner, builtin_prefix, args) = {
            let table = self.supervisor.commands();
            let Some((entry, rest)) = table.lookup(&req.words) else {
                drop(table);
                // No module's or daemon's: the cluster's, as `ceph` sends it to a mon. The
                // cluster's commands come before any module that is not running: no module
                // can stand in the way of one.
                if let Some(reply) = self.cluster_command(req, perm) {
                    return reply;
                }
                if let Some(why) = self.supervisor.inactive_command(&req.words) {
                    return CommandReply::err(why.errno, why.message);
                }
                if let Some(why) = self.supervisor.ungranted_command(&req.words) {
                    return CommandReply::err(why.errno, why.message);
                }
                return CommandReply::err(
                    22,
                    format!(
                        "no valid command found for '{}'; see 'wasmgr --help'",
                        sanitize::quote(&req.words.join(" "))
                    ),
                );
            };
            let args = match checked_args(entry, rest, req, perm) {
                Ok(args) => args,
                Err(refused) => return refused,
            };
            let builtin_prefix = (entry.owner == "mgr").then(|| entry.decl.prefix.clone());
            (entry.owner.clone(), builtin_prefix, args)
        };
        if let Some(prefix) = builtin_prefix {
            let reply = builtin::run(
                self,
                &prefix,
                &args,
                format.unwrap_or(Format::Plain),
                &req.inbuf,
                client,
            );
            return reply;
        }
        let cmd = serde_json::Value::Object(args).to_string();
        let blame = match perm {
            ClientPerm::ReadWrite => Blame::Module,
            ClientPerm::Read => Blame::Client,
        };
        match self
            .supervisor
            .call_command(&owner, &cmd, &req.inbuf, blame)
        {
            Ok(r) => CommandReply {
                retval: r.retval,
                stdout: r.stdout,
                stderr: r.stderr,
            },
            Err(f) => CommandReply::err(f.errno, f.message),
        }
    }

    /// A command of the cluster's (the words match none of the daemon's or modules'), run on
    /// the cluster source; `None` if the cluster has no such command either.
    fn cluster_command(&self, req: &CommandRequest, perm: ClientPerm) -> Option<CommandReply> {
        let (entry, rest) = self.cluster_commands.lookup(&req.words)?;
        let args = match checked_args(entry, rest, req, perm) {
            Ok(args) => args,
            Err(refused) => return Some(refused),
        };
        let cmd = serde_json::Value::Object(args).to_string();
        let out = crate::cluster::command_contained(&*self.cluster, "mon", "", &cmd, &req.inbuf);
        Some(CommandReply {
            retval: out.retval,
            stdout: out.outb,
            stderr: out.outs,
        })
    }

    /// Every command a client can run, sorted by prefix: the daemon's and the modules', then
    /// the cluster's that none of them shadows.
    pub fn command_list(&self) -> Vec<CommandInfo> {
        let table = self.supervisor.commands();
        let cluster = self
            .cluster_commands
            .entries()
            .filter(|e| table.lookup(&words_of(&e.decl.prefix)).is_none());
        let mut list: Vec<CommandInfo> = table
            .entries()
            .chain(cluster)
            .map(|e| CommandInfo {
                prefix: e.decl.prefix.clone(),
                usage: sanitize::line(&command::usage(&e.decl), limits::DESC_BYTES),
                help: sanitize::line(&command::help_line(&e.decl), 2 * limits::DESC_BYTES),
                desc: e.decl.desc.clone(),
                perm: perm_name(e.decl.perm).into(),
                poll: e.decl.poll,
                owner: e.owner.clone(),
            })
            .collect();
        list.sort_by(|a, b| a.prefix.cmp(&b.prefix));
        list
    }

    /// Cue the modules subscribed to `kind`; returns how many were cued.
    pub fn notify(&self, kind: NotifyKind, id: &str) -> usize {
        self.supervisor.notify(kind, id)
    }

    /// Every health check: the cluster's own, the host's and the modules'.
    pub fn health_checks(&self) -> Vec<Check> {
        let mut checks: Vec<Check> = self
            .cluster
            .health_checks()
            .into_iter()
            .map(|c| Check {
                code: c.code,
                severity: if c.error {
                    crate::bindings::Severity::Error
                } else {
                    crate::bindings::Severity::Warning
                },
                summary: c.summary,
                count: c.count,
                detail: c.detail,
                modules: Vec::new(),
            })
            .collect();
        checks.extend(self.supervisor.health_checks());
        checks.extend(self.health.module_checks());
        checks
    }

    /// `HEALTH_OK`, `HEALTH_WARN` or `HEALTH_ERR`.
    pub fn health_status(&self) -> &'static str {
        health::status(&self.health_checks())
    }

    /// The named admin clients: who a request's token belongs to.
    pub fn clients(&self) -> &crate::clients::Clients {
        &self.clients
    }

    /// The supervisor, for inspection.
    pub fn supervisor(&self) -> &Supervisor {
        &self.supervisor
    }

    /// Stop every module (each gets a bounded `shutdown`).
    pub fn shutdown(&self) {
        self.supervisor.shutdown_all();
        self.supervisor.ledger().close();
    }
}

impl Drop for Manager {
    fn drop(&mut self) {
        self.supervisor.shutdown_all();
        self.supervisor.ledger().close();
    }
}

/// The most bytes the JSON body of a command's reply can take: output is at most
/// [`limits::COMMAND_OUTPUT_BYTES`] once escaped, JSON doubles at most (`\n`, `\"`, `\\`),
/// plus the envelope. Clients accept replies up to this size, so that they never refuse what
/// the daemon sends.
pub const MAX_REPLY_BODY_BYTES: usize = 2 * limits::COMMAND_OUTPUT_BYTES + (64 << 10);

/// A built-in command's reply as the client may see it: escaped as module output is, and
/// within the output limit (a listing of everything can be long: narrow it instead).
fn bounded(mut reply: CommandReply) -> CommandReply {
    reply.stdout = sanitize::block(&reply.stdout);
    reply.stderr = sanitize::block(&reply.stderr);
    let size = reply.stdout.len() + reply.stderr.len();
    if size > limits::COMMAND_OUTPUT_BYTES {
        return CommandReply::err(
            7,
            format!(
                "the reply is {size} bytes, over the limit of {} bytes; narrow the command \
                 (e.g. give a key prefix or a module)",
                limits::COMMAND_OUTPUT_BYTES
            ),
        );
    }
    reply
}

/// The command map of `entry` from the words after its prefix, if the client may run it:
/// else `EACCES` (a read-only client, a command that writes) or `EINVAL` with the usage.
fn checked_args(
    entry: &command::Entry,
    rest: &[String],
    req: &CommandRequest,
    perm: ClientPerm,
) -> Result<serde_json::Map<String, serde_json::Value>, CommandReply> {
    if perm == ClientPerm::Read && entry.decl.perm != Perm::R {
        return Err(CommandReply::err(
            13,
            format!(
                "access denied: '{}' needs write permission; use a read-write client token",
                entry.decl.prefix
            ),
        ));
    }
    command::parse_args(&entry.decl, rest, req.format.as_deref()).map_err(|e| {
        let usage = command::usage(&entry.decl);
        CommandReply::err(22, format!("{}\nusage: {usage}", e.message()))
    })
}

/// A notification kind from its ceph-mgr name (`osd_map`, `pg_summary`, …).
pub fn notify_kind(name: &str) -> Option<NotifyKind> {
    Some(match name {
        "mon_map" => NotifyKind::MonMap,
        "osd_map" => NotifyKind::OsdMap,
        "fs_map" => NotifyKind::FsMap,
        "service_map" => NotifyKind::ServiceMap,
        "mgr_map" => NotifyKind::MgrMap,
        "health" => NotifyKind::Health,
        "pg_summary" => NotifyKind::PgSummary,
        "clog" => NotifyKind::Clog,
        "command" => NotifyKind::Command,
        "perf_schema_update" => NotifyKind::PerfSchemaUpdate,
        _ => return None,
    })
}

/// A notification kind's ceph-mgr name.
pub fn notify_name(kind: NotifyKind) -> &'static str {
    match kind {
        NotifyKind::MonMap => "mon_map",
        NotifyKind::OsdMap => "osd_map",
        NotifyKind::FsMap => "fs_map",
        NotifyKind::ServiceMap => "service_map",
        NotifyKind::MgrMap => "mgr_map",
        NotifyKind::Health => "health",
        NotifyKind::PgSummary => "pg_summary",
        NotifyKind::Clog => "clog",
        NotifyKind::Command => "command",
        NotifyKind::PerfSchemaUpdate => "perf_schema_update",
    }
}

/// A prefix's words.
fn words_of(prefix: &str) -> Vec<String> {
    prefix.split(' ').map(str::to_owned).collect()
}

/// The cluster's commands as declarations (owner `cluster`); a signature that does not parse
/// is left out with a warning.
fn cluster_table(cluster: &dyn ClusterSource) -> CommandTable {
    let mut table = CommandTable::new();
    for sig in cluster.command_descriptions() {
        let added = command::parse_signature(&sig.sig, &sig.help, &sig.perm)
            .and_then(|decl| table.insert_unchecked(CLUSTER_OWNER, decl));
        if let Err(e) = added {
            tracing::warn!(signature = %sig.sig, "cluster command left out: {e}");
        }
    }
    table
}

/// Who serves the cluster's commands in `--help`.
pub const CLUSTER_OWNER: &str = "cluster";

/// `r`, `w` or `rw`.
pub fn perm_name(p: Perm) -> &'static str {
    match p {
        Perm::R => "r",
        Perm::W => "w",
        Perm::Rw => "rw",
    }
}
