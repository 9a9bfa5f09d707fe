//! The one wasmtime [`Engine`] of a host, built here and nowhere else, and its epoch ticker.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use wasmtime::{Config, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig};

use crate::limits::{self, Limits};

/// How many module instances the pooling allocator keeps slots for. Each slot reserves address
/// space (not memory) up front; loading more modules than this fails with a clear error.
pub const DEFAULT_MODULE_SLOTS: u32 = 1024;

/// The engine configuration: fuel and epoch interruption on, the pooling allocator sized for
/// `slots` instances whose memories never exceed `limits.memory_bytes`, and component-model
/// concurrency off (it costs time on every call and instantiation, and modules are called one
/// at a time). Exposed so that benchmarks can build baselines that differ in one setting only.
pub fn config(limits: &Limits, slots: u32) -> Config {
    let mut pool = PoolingAllocationConfig::default();
    let slots = slots.max(1);
    pool.total_component_instances(slots)
        .total_core_instances(slots.saturating_mul(limits::INSTANCES_PER_MODULE as u32 / 4))
        .total_memories(slots.saturating_mul(2))
        .total_tables(slots.saturating_mul(4))
        .max_memories_per_component(limits::MEMORIES_PER_MODULE as u32)
        .max_tables_per_component(limits::TABLES_PER_MODULE as u32)
        .max_core_instances_per_component(limits::INSTANCES_PER_MODULE as u32)
        .max_memory_size(limits.memory_bytes as usize)
        .table_elements(limits::TABLE_ELEMENTS);
    let mut config = Config::new();
    config
        .concurrency_support(false)
        .consume_fuel(true)
        .epoch_interruption(true)
        .cranelift_opt_level(OptLevel::Speed)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    config
}

/// Builds the host's engine from [`config`].
pub fn build(limits: &Limits, slots: u32) -> wasmtime::Result<Engine> {
    Engine::new(&config(limits, slots))
}

/// Advances an engine's epoch every [`limits::EPOCH_TICK`] until dropped, so that call
/// deadlines fire even while a guest spins without making host calls.
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl EpochTicker {
    /// Starts the ticker thread for `engine`.
    pub fn start(engine: Engine) -> std::io::Result<Self> {
        EpochTicker::start_with(engine, || {})
    }

    /// Starts the ticker thread for `engine`, which also runs `on_tick` after every tick (the
    /// host ticks its worker pool's [`crate::pool::Watchdog`] with it).
    pub fn start_with(
        engine: Engine,
        on_tick: impl Fn() + Send + 'static,
    ) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = thread::Builder::new()
            .name("epoch-ticker".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    thread::sleep(limits::EPOCH_TICK);
                    engine.increment_epoch();
                    on_tick();
                }
            })?;
        Ok(EpochTicker {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The number of epoch ticks that covers `d` (at least one).
pub fn ticks(d: std::time::Duration) -> u64 {
    let tick = limits::EPOCH_TICK.as_micros().max(1);
    (d.as_micros().div_ceil(tick) as u64).max(1)
}
