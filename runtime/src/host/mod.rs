//! The host side of every imported interface: one file per WIT interface, all implemented on
//! [`ModuleCtx`], the data of one module instance's `Store`.
//!
//! Every call here is a choke point: it sees which module is calling (`ModuleCtx::env`), checks
//! what the call may touch, and reports failures as the WIT `error` record — never as a trap.

mod cluster;
mod config;
mod health;
mod log;
mod store;

use std::sync::Arc;

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
}

impl ModuleCtx {
    pub(crate) fn new(env: Arc<ModuleEnv>) -> Self {
        let memory_limit = env.limits.memory_bytes;
        let wasi = WasiCtxBuilder::new()
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        ModuleCtx {
            env,
            wasi,
            table: ResourceTable::new(),
            limiter: MemoryLimiter {
                limit: memory_limit,
                denied: None,
            },
            last_panic: None,
        }
    }

    /// A new store for this module, with its limiter installed.
    pub(crate) fn store(engine: &wasmtime::Engine, env: Arc<ModuleEnv>) -> Store<ModuleCtx> {
        let mut store = Store::new(engine, ModuleCtx::new(env));
        store.limiter(|ctx| &mut ctx.limiter);
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

/// Enforces the module's memory limit, and remembers a refused growth so the trap that follows
/// is reported as "memory limit" rather than as whatever the guest's allocator did next.
pub struct MemoryLimiter {
    limit: u64,
    /// The size (bytes) a refused growth asked for.
    pub(crate) denied: Option<u64>,
}

impl MemoryLimiter {
    /// The limit in bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired as u64 > self.limit {
            self.denied = Some(desired as u64);
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= crate::limits::TABLE_ELEMENTS)
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
