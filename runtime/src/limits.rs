//! The limits every module runs under.
//!
//! Each constant is the host's ceiling. The operator may lower a ceiling in the host
//! configuration, and a module's manifest may lower it further for that module; nothing raises
//! a limit past its ceiling ([`Limits::lowered_by`]).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Fuel (about one unit per wasm instruction) one call may burn: a bound on work that does
/// not depend on how busy the machine is. A tight loop burns 20 000 000 000 units in about a
/// second on current x86-64 hardware, so this is about five seconds of it: for a spinning
/// module [`CALL_DEADLINE`] fires first, and fuel is the backstop that holds however the
/// clock behaves. Large enough for an interpreted (Python, JS) guest to answer a command.
pub const FUEL_PER_CALL: u64 = 100_000_000_000;

/// Wall-clock time one call may take, host calls included. Stops a module that spins or waits
/// from stalling its callers: the call traps at the next epoch tick past the deadline.
pub const CALL_DEADLINE: Duration = Duration::from_secs(1);

/// Wall-clock time for instantiating a module and asking it to `describe` itself. Longer than
/// [`CALL_DEADLINE`] because interpreted guests initialise their runtime here.
pub const LOAD_DEADLINE: Duration = Duration::from_secs(10);

/// Fuel for instantiation plus `describe` (see [`LOAD_DEADLINE`]).
pub const LOAD_FUEL: u64 = 500_000_000_000;

/// Wall-clock time `shutdown` may take before the instance is dropped regardless.
pub const SHUTDOWN_DEADLINE: Duration = Duration::from_millis(500);

/// The epoch tick: how often the ticker thread advances the engine's epoch. Deadlines are
/// enforced to within one tick.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Linear memory one instance may use, in bytes. Stops a module that allocates without bound
/// from taking the daemon's memory: growth past it fails and the call traps.
pub const MEMORY_BYTES: u64 = 64 << 20;

/// Elements in one table. Stops table growth from being used to exhaust host memory.
pub const TABLE_ELEMENTS: usize = 100_000;

/// Resources (pollables, streams) one instance may hold in its WASI resource table. Stops a
/// guest from growing host memory by creating handles in a loop.
pub const RESOURCES_PER_INSTANCE: usize = 4096;

/// WASI handles an instance may hold when it was granted directories or sockets. Every open
/// file or socket is one of the daemon's file descriptors, so this is what stops one module
/// from taking all of them (a daemon under systemd's default of 1024 descriptors would
/// otherwise fail to read the next module's file); handles of modules without such grants
/// hold no descriptor.
pub const RESOURCES_WITH_IO: usize = 256;

/// Bytes one host call may copy out of a module (its arguments, or an export's result):
/// wasmtime's "hostcall fuel". Stops a guest from making the host allocate without bound, for
/// instance by passing one large string many times over in a list. Above the largest legal
/// transfer, a command's output ([`COMMAND_OUTPUT_BYTES`]).
pub const HOSTCALL_BYTES: usize = 32 << 20;

/// Bytes one call to WASI's `get-random-bytes` may ask for.
pub const RANDOM_BYTES: u64 = 1 << 20;

/// Core instances, memories and tables one module's component may create.
pub const INSTANCES_PER_MODULE: usize = 32;
/// See [`INSTANCES_PER_MODULE`].
pub const MEMORIES_PER_MODULE: usize = 4;
/// See [`INSTANCES_PER_MODULE`].
pub const TABLES_PER_MODULE: usize = 16;

/// Bytes of stdout plus stderr one command may return. Stops a module from making the daemon
/// and its clients buffer unbounded output.
pub const COMMAND_OUTPUT_BYTES: usize = 16 << 20;

/// Bytes of one log line; longer lines are cut. Stops log flooding by size.
pub const LOG_LINE_BYTES: usize = 4096;

/// Log lines a module may write per second (a token bucket of this size, refilled per second);
/// lines over the rate are dropped and counted. Stops log flooding by rate.
pub const LOG_LINES_PER_SEC: u32 = 200;

/// Bytes per second a module may write to the store (KV values and options, deletes counted
/// at the size they free), in a bucket that holds one second's worth. Every write is made
/// durable through one connection, so a module writing large values back to back would
/// otherwise keep every other module's writes waiting behind its own; past the budget a write
/// is refused with `again` (EAGAIN) and says when to retry.
pub const STORE_WRITE_BYTES_PER_SEC: u64 = 2 << 20;

/// What a store write costs in [`STORE_WRITE_BYTES_PER_SEC`] besides its bytes: each write is
/// a transaction of its own.
pub const STORE_WRITE_COST_BYTES: u64 = 512;

/// Cluster commands (`send`) one module may have pending or completed and not yet taken.
pub const COMMANDS_PENDING: usize = 64;
/// Bytes of a command's tag.
pub const COMMAND_TAG_BYTES: usize = 256;
/// Cluster commands queued for the host's command threads, all modules together; past it a
/// send is refused with `again`.
pub const COMMANDS_QUEUED: usize = 1024;
/// Threads that run modules' cluster commands.
pub const COMMAND_THREADS: usize = 4;

/// The shortest and longest tick period a module may set, in milliseconds.
pub const TICK_MIN_MS: u32 = 10;
/// See [`TICK_MIN_MS`].
pub const TICK_MAX_MS: u32 = 86_400_000;

/// Modules a remote call chain may pass through (A calls B calls C …).
pub const REMOTE_DEPTH: usize = 8;
/// Methods one module may serve to remote calls.
pub const REMOTE_METHODS: usize = 256;

/// Bytes of a module's own log file (`log_to_file`) before it is moved to `.1`.
pub const LOG_FILE_BYTES: u64 = 16 << 20;

/// Bytes of one KV value. Stops one key from holding an unbounded blob.
pub const KV_VALUE_BYTES: usize = 1 << 20;

/// Keys one module may keep in its KV store.
pub const KV_KEYS: u64 = 10_000;

/// Bytes (keys plus values) one module may keep on disk: its KV store and its option values
/// together. Stops a module from filling the daemon's disk. The quota in force is also at most
/// a quarter of the module's memory limit ([`Limits::store_quota_bytes`]), so that a module
/// can always read its whole store back (`get-prefix`) into its own memory.
pub const KV_TOTAL_BYTES: u64 = 16 << 20;

/// Health checks one module may raise at once, and detail lines per check. With the byte
/// limits below, they keep `health detail` small whatever a module raises.
pub const HEALTH_CHECKS: usize = 64;
/// See [`HEALTH_CHECKS`].
pub const HEALTH_DETAIL_LINES: usize = 256;
/// Bytes of a health check's summary, and of each detail line.
pub const HEALTH_LINE_BYTES: usize = 1024;
/// Bytes of all of one module's health text together (summaries and detail lines).
pub const HEALTH_TEXT_BYTES: usize = 64 << 10;
/// Bytes of a health check's code.
pub const HEALTH_CODE_BYTES: usize = 64;

/// Calls that may wait in one module's mailbox; more are refused with EBUSY rather than queued
/// without bound.
pub const MAILBOX_DEPTH: usize = 256;

/// Traps within [`TRAP_WINDOW`] after which a module is marked failed instead of restarted.
pub const TRAPS_BEFORE_FAILED: usize = 5;
/// See [`TRAPS_BEFORE_FAILED`].
pub const TRAP_WINDOW: Duration = Duration::from_secs(60);
/// Delay before re-instantiating after the second trap in the window; it doubles per further
/// trap (the first restart is immediate), so a module that keeps trapping spends at most
/// 100 + 200 + 400 ms in backoff before it is failed.
pub const RESTART_BACKOFF: Duration = Duration::from_millis(100);

/// Bytes of a module's component file. Checked before the file is read, so a huge file costs
/// neither memory nor compile time. An interpreted (Python, JS) module with its runtime is
/// 10 to 40 MiB.
pub const MODULE_FILE_BYTES: u64 = 64 << 20;

/// Bytes of a module's version string.
pub const VERSION_BYTES: usize = 64;

// What a module declares in `describe` is checked by the host outside fuel and deadlines, and
// shown in listings (`module ls`, `module info`, `--help`, `config ls`): these bound the work
// and the output. A declaration over any of them stops the module from loading, with a
// message naming the limit.

/// Commands one module declares.
pub const COMMANDS_PER_MODULE: usize = 256;
/// Words of one command prefix.
pub const PREFIX_WORDS: usize = 8;
/// Bytes of one command prefix.
pub const PREFIX_BYTES: usize = 128;
/// Arguments of one command.
pub const ARGS_PER_COMMAND: usize = 32;
/// Bytes of a name: an argument's or an option's.
pub const NAME_BYTES: usize = 64;
/// Choices of one CephChoices argument.
pub const CHOICES_PER_ARG: usize = 128;
/// Bytes of one choice.
pub const CHOICE_BYTES: usize = 64;
/// Bytes of one argument's `goodchars` class.
pub const GOODCHARS_BYTES: usize = 256;
/// Bytes of one description: a command's, an option's, the module's `error-string`.
pub const DESC_BYTES: usize = 1024;
/// Bytes of an option's long description.
pub const LONG_DESC_BYTES: usize = 8192;
/// Options one module declares (besides the built-in `log_level`).
pub const OPTIONS_PER_MODULE: usize = 256;
/// Allowed values of one option.
pub const ENUM_ALLOWED: usize = 128;
/// Bytes of one option value (a default, or a value set by the module or an operator). Option
/// values also count towards the module's [`KV_TOTAL_BYTES`].
pub const OPTION_VALUE_BYTES: usize = 16 << 10;

/// The per-module limits in force. Built from the constants above ([`Limits::default`]),
/// possibly lowered by the host configuration and by the module's manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// See [`FUEL_PER_CALL`].
    pub fuel_per_call: u64,
    /// See [`CALL_DEADLINE`], in milliseconds.
    pub deadline_ms: u64,
    /// See [`MEMORY_BYTES`].
    pub memory_bytes: u64,
    /// See [`COMMAND_OUTPUT_BYTES`].
    pub output_bytes: usize,
    /// See [`KV_KEYS`].
    pub kv_keys: u64,
    /// See [`KV_TOTAL_BYTES`].
    pub kv_total_bytes: u64,
    /// See [`LOG_LINES_PER_SEC`].
    pub log_lines_per_sec: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel_per_call: FUEL_PER_CALL,
            deadline_ms: CALL_DEADLINE.as_millis() as u64,
            memory_bytes: MEMORY_BYTES,
            output_bytes: COMMAND_OUTPUT_BYTES,
            kv_keys: KV_KEYS,
            kv_total_bytes: KV_TOTAL_BYTES,
            log_lines_per_sec: LOG_LINES_PER_SEC,
        }
    }
}

/// A request to lower some limits; absent fields keep the ceiling.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitOverrides {
    /// Lower [`Limits::fuel_per_call`].
    pub fuel_per_call: Option<u64>,
    /// Lower [`Limits::deadline_ms`].
    pub deadline_ms: Option<u64>,
    /// Lower [`Limits::memory_bytes`] (in MiB in the file, as `memory_mib`).
    pub memory_mib: Option<u64>,
    /// Lower [`Limits::output_bytes`] (as `output_kib`).
    pub output_kib: Option<usize>,
    /// Lower [`Limits::kv_keys`].
    pub kv_keys: Option<u64>,
    /// Lower [`Limits::kv_total_bytes`] (as `kv_mib`).
    pub kv_mib: Option<u64>,
    /// Lower [`Limits::log_lines_per_sec`].
    pub log_lines_per_sec: Option<u32>,
}

/// A limit that was asked to go above its ceiling, or to zero.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error(
    "{name} = {asked} is {}; a manifest may only lower limits: remove the line or use a value from 1 to {ceiling}, the host's ceiling",
    if *asked == 0 { "zero" } else { "above the host's ceiling" }
)]
pub struct RaiseRefused {
    /// The limit's name as written in the file.
    pub name: &'static str,
    /// What was asked.
    pub asked: u64,
    /// The ceiling in force.
    pub ceiling: u64,
}

impl Limits {
    /// These limits lowered by `o`. Asking for more than the ceiling is an error, not a silent
    /// clamp, so an operator learns the manifest expected more than it will get.
    pub fn lowered_by(&self, o: &LimitOverrides) -> Result<Limits, RaiseRefused> {
        fn lower(
            name: &'static str,
            ceiling: u64,
            asked: Option<u64>,
        ) -> Result<u64, RaiseRefused> {
            match asked {
                None => Ok(ceiling),
                Some(a) if a <= ceiling && a > 0 => Ok(a),
                Some(a) => Err(RaiseRefused {
                    name,
                    asked: a,
                    ceiling,
                }),
            }
        }
        Ok(Limits {
            fuel_per_call: lower("fuel_per_call", self.fuel_per_call, o.fuel_per_call)?,
            deadline_ms: lower("deadline_ms", self.deadline_ms, o.deadline_ms)?,
            memory_bytes: lower("memory_mib", self.memory_bytes >> 20, o.memory_mib)? << 20,
            output_bytes: (lower(
                "output_kib",
                (self.output_bytes >> 10) as u64,
                o.output_kib.map(|v| v as u64),
            )? << 10) as usize,
            kv_keys: lower("kv_keys", self.kv_keys, o.kv_keys)?,
            kv_total_bytes: lower("kv_mib", self.kv_total_bytes >> 20, o.kv_mib)? << 20,
            log_lines_per_sec: lower(
                "log_lines_per_sec",
                u64::from(self.log_lines_per_sec),
                o.log_lines_per_sec.map(u64::from),
            )? as u32,
        })
    }

    /// The bytes the module may keep on disk: [`Limits::kv_total_bytes`], but at most a
    /// quarter of [`Limits::memory_bytes`] (see [`KV_TOTAL_BYTES`]).
    pub fn store_quota_bytes(&self) -> u64 {
        self.kv_total_bytes.min(self.memory_bytes / 4)
    }

    /// The call deadline as a duration.
    pub fn deadline(&self) -> Duration {
        Duration::from_millis(self.deadline_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_may_lower_but_not_raise() {
        let base = Limits::default();
        let lowered = base
            .lowered_by(&LimitOverrides {
                memory_mib: Some(16),
                deadline_ms: Some(200),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(lowered.memory_bytes, 16 << 20);
        assert_eq!(lowered.deadline_ms, 200);
        assert_eq!(lowered.fuel_per_call, FUEL_PER_CALL);
        let err = base
            .lowered_by(&LimitOverrides {
                memory_mib: Some(1024),
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(err.name, "memory_mib");
        assert!(err.to_string().contains("from 1 to 64"), "{err}");
        let zero = base
            .lowered_by(&LimitOverrides {
                deadline_ms: Some(0),
                ..Default::default()
            })
            .unwrap_err();
        assert!(
            zero.to_string().starts_with("deadline_ms = 0 is zero;"),
            "{zero}"
        );
    }
}
