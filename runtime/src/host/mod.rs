//! The host side of every imported interface: one file per WIT interface, all implemented on
//! [`ModuleCtx`], the data of one module instance's `Store`.
//!
//! Every call here is a choke point: it sees which module is calling (`ModuleCtx::env`), checks
//! what the call may touch, and reports failures as the WIT `error` record — never as a trap.

mod cluster;
pub(crate) mod command;
mod config;
mod health;
mod log;
mod remote;
mod schedule;
mod store;
mod wasi;

pub(crate) use wasi::add_to_linker as add_wasi_to_linker;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::bindings::{ErrorCode, GuestError};
use crate::module_env::ModuleEnv;

/// The data of one module instance's `Store`: who the module is, its WASI context (which grants
/// nothing: no files, no environment, no sockets), and per-call bookkeeping.
pub struct ModuleCtx {
    pub(crate) env: Arc<ModuleEnv>,
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    /// The message of the last panic the guest reported through its log, so a trap that
    /// follows can be reported as that panic.
    pub(crate) last_panic: Option<String>,
    /// When the current call must end; a WASI wait never runs past it.
    pub(crate) deadline: Option<Instant>,
    /// Set when a WASI wait was cut short by [`ModuleCtx::deadline`], so the trap that
    /// follows is reported as the deadline.
    pub(crate) wait_expired: bool,
    /// Whether the instance exports `ticker` (so a tick period may be set).
    pub(crate) has_ticker: bool,
    /// The most WASI handles the instance may hold.
    pub(crate) resource_limit: usize,
}

impl ModuleCtx {
    pub(crate) fn new(env: Arc<ModuleEnv>) -> Self {
        let memory_limit = env.limits.memory_bytes;
        let env_for_limiter = env.clone();
        let wasi = wasi_ctx(&env);
        let mut table = ResourceTable::new();
        // Each open file or socket is one of the daemon's file descriptors.
        let caps = env.caps();
        let resource_limit = if caps.files().next().is_some() || caps.has_net() {
            crate::limits::RESOURCES_WITH_IO
        } else {
            crate::limits::RESOURCES_PER_INSTANCE
        };
        table.set_max_capacity(resource_limit);
        ModuleCtx {
            env,
            wasi,
            table,
            limiter: MemoryLimiter {
                limit: memory_limit,
                used: 0,
                denied: None,
                env: env_for_limiter,
            },
            last_panic: None,
            deadline: None,
            wait_expired: false,
            has_ticker: false,
            resource_limit,
        }
    }

    /// A new store for this module, with its limiter installed.
    pub(crate) fn store(engine: &wasmtime::Engine, env: Arc<ModuleEnv>) -> Store<ModuleCtx> {
        let mut store = Store::new(engine, ModuleCtx::new(env));
        store.limiter(|ctx| &mut ctx.limiter);
        store.set_hostcall_fuel(crate::limits::HOSTCALL_BYTES);
        store
    }
}

/// The WASI context of one instance: nothing the module was not granted. No environment, no
/// arguments, an empty stdin, stdout and stderr into its log; its granted directories and
/// socket addresses only; no name lookups.
fn wasi_ctx(env: &Arc<ModuleEnv>) -> WasiCtx {
    let caps = env.caps();
    let mut b = WasiCtxBuilder::new();
    b.stdout(wasi::LogStream::new(
        env.clone(),
        crate::bindings::Level::Info,
    ))
    .stderr(wasi::LogStream::new(
        env.clone(),
        crate::bindings::Level::Warning,
    ))
    .allow_ip_name_lookup(false)
    .max_random_size(crate::limits::RANDOM_BYTES);
    for (host, guest, write) in caps.files() {
        let perms = if write {
            wasmtime_wasi::FsPerms::ReadWrite
        } else {
            wasmtime_wasi::FsPerms::ReadOnly
        };
        // The granted path is opened one component at a time without following a symbolic
        // link, and the preopen made from the descriptor that gives: a link planted on the
        // path (by this module through another grant, or by anyone) cannot turn the grant
        // into another directory, and nothing can swap the path in between.
        let opened = open_nofollow(host).and_then(|fd| {
            use std::os::fd::AsRawFd;
            b.preopened_dir(format!("/proc/self/fd/{}", fd.as_raw_fd()), guest, perms)
                .map_err(|e| std::io::Error::other(format!("{e:#}")))?;
            Ok(fd)
        });
        match opened {
            // The preopen holds a descriptor of its own.
            Ok(fd) => drop(fd),
            Err(e) => {
                // The grant stands; the module sees no such directory until the host has it.
                tracing::warn!(module = %env.name, host, guest, "cannot open the granted directory (a symbolic link on its path is not followed): {e}");
            }
        }
    }
    // Sockets are on for every module so that every attempt reaches the address check, which
    // allows only granted addresses and counts each attempt in the ledger; a module without
    // a `net:` grant can make a socket and reach nobody.
    let checked = env.clone();
    b.allow_tcp(true)
        .allow_udp(true)
        .socket_addr_check(move |addr, usage| {
            let ok = wasi::socket_allowed(&checked, addr, usage);
            Box::pin(async move { ok })
        });
    b.build()
}

/// Open directory `path` (absolute) component by component, following no symbolic link.
fn open_nofollow(path: &str) -> std::io::Result<std::os::fd::OwnedFd> {
    use rustix::fs::{Mode, OFlags, openat};
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let mut dir = openat(rustix::fs::CWD, "/", flags, Mode::empty())?;
    for part in path.split('/').filter(|p| !p.is_empty()) {
        if part == "." || part == ".." {
            return Err(std::io::Error::other("'.' and '..' are not followed"));
        }
        dir = openat(&dir, part, flags, Mode::empty())?;
    }
    Ok(dir)
}

impl WasiView for ModuleCtx {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl crate::bindings::wasmgr::mgr::types::Host for ModuleCtx {}

/// Enforces the module's memory limit over the whole instance: every linear memory and table
/// of every core instance in the component counts towards one limit, so a component made of
/// several core instances cannot hold a multiple of it. Remembers a refused growth so the trap
/// that follows is reported as "memory limit" rather than as whatever the guest's allocator
/// did next, and publishes what the instance holds for `module info`.
pub struct MemoryLimiter {
    limit: u64,
    /// Bytes the instance's memories and tables hold now.
    used: u64,
    /// The size (bytes) a refused growth asked for, the instance's total.
    pub(crate) denied: Option<u64>,
    env: Arc<ModuleEnv>,
}

/// What one table element is counted as: a pointer.
const TABLE_ELEMENT_BYTES: u64 = 8;

impl MemoryLimiter {
    /// The limit in bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Grow the instance's total by `delta` bytes if that stays within the limit.
    fn grow(&mut self, delta: u64) -> bool {
        let total = self.used.saturating_add(delta);
        if total > self.limit {
            self.denied = Some(total);
            return false;
        }
        self.used = total;
        self.env.stats.memory_bytes.store(total, Ordering::Relaxed);
        self.env
            .stats
            .memory_high_water
            .fetch_max(total, Ordering::Relaxed);
        true
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(self.grow(desired.saturating_sub(current) as u64))
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > crate::limits::TABLE_ELEMENTS {
            return Ok(false);
        }
        let delta = (desired.saturating_sub(current) as u64).saturating_mul(TABLE_ELEMENT_BYTES);
        Ok(self.grow(delta))
    }

    fn instances(&self) -> usize {
        crate::limits::INSTANCES_PER_MODULE
    }

    fn tables(&self) -> usize {
        crate::limits::TABLES_PER_MODULE
    }

    fn memories(&self) -> usize {
        crate::limits::MEMORIES_PER_MODULE
    }
}

/// A guest-visible error.
pub(crate) fn error(code: ErrorCode, message: impl Into<String>) -> GuestError {
    GuestError {
        code,
        message: message.into(),
    }
}
