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
}

impl ModuleCtx {
    pub(crate) fn new(env: Arc<ModuleEnv>) -> Self {
        let memory_limit = env.limits.memory_bytes;
        let env_for_limiter = env.clone();
        let wasi = WasiCtxBuilder::new()
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .max_random_size(crate::limits::RANDOM_BYTES)
            .build();
        let mut table = ResourceTable::new();
        table.set_max_capacity(crate::limits::RESOURCES_PER_INSTANCE);
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
