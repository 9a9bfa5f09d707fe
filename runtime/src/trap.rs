//! Classifying why a call into a module failed, by type, never by message text.

use std::fmt;
use std::time::Duration;

use wasmtime::Trap;

use crate::host::ModuleCtx;

/// Why a call into a module stopped abnormally. Every variant means the instance's store is
/// poisoned: it is dropped and the module re-instantiated (or failed).
#[derive(Clone, Debug, PartialEq)]
pub enum TrapKind {
    /// The call burned its whole fuel budget.
    OutOfFuel {
        /// The budget, in fuel units.
        budget: u64,
    },
    /// The call ran past its wall-clock deadline.
    Deadline {
        /// The deadline.
        limit: Duration,
        /// How long it had run when stopped.
        elapsed: Duration,
    },
    /// The module tried to grow its memory past its limit.
    Memory {
        /// The limit in bytes.
        limit: u64,
        /// The size in bytes it asked for.
        requested: u64,
    },
    /// The guest panicked (its SDK logged the message before aborting).
    Panic {
        /// The panic message.
        message: String,
    },
    /// Any other trap: `unreachable`, out-of-bounds access, stack overflow, …
    Trap {
        /// Wasmtime's description of the trap.
        code: String,
    },
    /// The module held as many WASI handles (open files, sockets, streams, pollables) as it
    /// may, and asked for another.
    Handles {
        /// The most it may hold.
        limit: usize,
    },
    /// The call failed outside guest code (instantiation, a host-side failure).
    Host {
        /// The error chain.
        message: String,
    },
}

impl TrapKind {
    /// Classify a failed call from its error and the store's bookkeeping.
    pub(crate) fn classify(
        err: &wasmtime::Error,
        ctx: &ModuleCtx,
        fuel_budget: u64,
        deadline: Duration,
        elapsed: Duration,
    ) -> TrapKind {
        if let Some(requested) = ctx.limiter.denied {
            return TrapKind::Memory {
                limit: ctx.limiter.limit(),
                requested,
            };
        }
        if ctx.wait_expired {
            return TrapKind::Deadline {
                limit: deadline,
                elapsed,
            };
        }
        if matches!(
            err.downcast_ref::<wasmtime::component::ResourceTableError>(),
            Some(wasmtime::component::ResourceTableError::Full)
        ) {
            return TrapKind::Handles {
                limit: ctx.resource_limit,
            };
        }
        match err.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => TrapKind::OutOfFuel {
                budget: fuel_budget,
            },
            Some(Trap::Interrupt) => TrapKind::Deadline {
                limit: deadline,
                elapsed,
            },
            Some(t) => match &ctx.last_panic {
                Some(message) if *t == Trap::UnreachableCodeReached => TrapKind::Panic {
                    message: message.clone(),
                },
                _ => TrapKind::Trap {
                    code: t.to_string(),
                },
            },
            // The root cause only: the chain's context holds wasmtime's backtrace, whose frame
            // names the component chose, and it is escaped as all module text is.
            None => TrapKind::Host {
                message: crate::sanitize::line(
                    &err.root_cause().to_string(),
                    crate::limits::LOG_LINE_BYTES,
                ),
            },
        }
    }

    /// The Linux errno a command that hit this trap returns (positive).
    pub fn errno(&self) -> i32 {
        match self {
            TrapKind::OutOfFuel { .. } | TrapKind::Deadline { .. } => 110, // ETIMEDOUT
            TrapKind::Memory { .. } => 12,                                 // ENOMEM
            TrapKind::Handles { .. } => 24,                                // EMFILE
            TrapKind::Panic { .. } | TrapKind::Trap { .. } | TrapKind::Host { .. } => 5, // EIO
        }
    }
}

impl fmt::Display for TrapKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrapKind::OutOfFuel { budget } => {
                write!(
                    f,
                    "ran out of fuel: used all {budget} units allowed per call (limit fuel_per_call)"
                )
            }
            TrapKind::Deadline { limit, elapsed } => write!(
                f,
                "exceeded its deadline of {} ms (stopped after {} ms; limit deadline_ms)",
                limit.as_millis(),
                elapsed.as_millis()
            ),
            TrapKind::Memory { limit, requested } => write!(
                f,
                "hit its memory limit of {} MiB (asked to grow to {} MiB; limit memory_mib)",
                limit >> 20,
                requested.div_ceil(1 << 20)
            ),
            TrapKind::Panic { message } => write!(f, "panicked: {message}"),
            TrapKind::Trap { code } => {
                write!(
                    f,
                    "trapped: {}",
                    code.strip_prefix("wasm trap: ").unwrap_or(code)
                )
            }
            TrapKind::Handles { limit } => write!(
                f,
                "holds {limit} WASI handles (open files, sockets, streams), its limit: close what \
                 it no longer uses"
            ),
            TrapKind::Host { message } => write!(f, "failed: {message}"),
        }
    }
}
