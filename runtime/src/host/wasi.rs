//! The WASI a module gets, and the one place where it can wait.
//!
//! Every WASI interface is wasmtime-wasi's synchronous implementation, except `wasi:io/poll`:
//! `poll` and `pollable.block` are the only calls through which a guest can wait (a sleep is
//! a clock pollable blocked on; streams have no files or sockets behind them here), and
//! wasmtime's epoch deadline only interrupts guest code, not a host call waiting on a timer.
//! So the linker's `wasi:io/poll` is shadowed by [`BoundedPoll`], which waits no longer than
//! the call's deadline: a guest that sleeps past it is stopped exactly like one that spins,
//! with [`crate::trap::TrapKind::Deadline`].

use std::time::{Duration, Instant};

use wasmtime::component::{HasData, Linker, Resource, ResourceTable};
use wasmtime_wasi::p2::DynPollable;
use wasmtime_wasi::p2::bindings::io::poll::{Host as AsyncPoll, HostPollable as AsyncPollable};
use wasmtime_wasi::p2::bindings::sync::io::poll as sync_poll;
use wasmtime_wasi::runtime::in_tokio;

use super::ModuleCtx;

/// The `wasi:io/poll` a module sees: wasmtime-wasi's, bounded by the call's deadline.
pub(crate) struct BoundedPoll;

impl HasData for BoundedPoll {
    type Data<'a> = BoundedWait<'a>;
}

/// What a wait needs: the instance's resources, when its call must end, and where to record
/// that a wait was cut short by that deadline.
pub(crate) struct BoundedWait<'a> {
    table: &'a mut ResourceTable,
    deadline: Option<Instant>,
    expired: &'a mut bool,
}

/// Adds WASI to `linker`, with [`BoundedPoll`] in place of wasmtime-wasi's `wasi:io/poll`.
pub(crate) fn add_to_linker(linker: &mut Linker<ModuleCtx>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_sync(linker)?;
    linker.allow_shadowing(true);
    let added = sync_poll::add_to_linker::<ModuleCtx, BoundedPoll>(linker, |ctx| BoundedWait {
        table: &mut ctx.table,
        deadline: ctx.deadline,
        expired: &mut ctx.wait_expired,
    });
    linker.allow_shadowing(false);
    added
}

/// Waits for `fut`, at most until `deadline`; past it, records that in `expired` and fails,
/// which traps the call.
fn bounded_by<T>(
    deadline: Option<Instant>,
    expired: &mut bool,
    fut: impl Future<Output = wasmtime::Result<T>>,
) -> wasmtime::Result<T> {
    let left = deadline.map_or(Duration::ZERO, |d| {
        d.saturating_duration_since(Instant::now())
    });
    match in_tokio(async { tokio::time::timeout(left, fut).await }) {
        Ok(result) => result,
        Err(_) => {
            *expired = true;
            Err(wasmtime::Error::msg(
                "a WASI wait ran past the call's deadline",
            ))
        }
    }
}

impl sync_poll::Host for BoundedWait<'_> {
    fn poll(&mut self, pollables: Vec<Resource<DynPollable>>) -> wasmtime::Result<Vec<u32>> {
        let fut = AsyncPoll::poll(&mut *self.table, pollables);
        bounded_by(self.deadline, &mut *self.expired, fut)
    }
}

impl sync_poll::HostPollable for BoundedWait<'_> {
    fn ready(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<bool> {
        // Never waits: it asks whether the pollable is ready now.
        in_tokio(async { AsyncPollable::ready(&mut *self.table, pollable).await })
    }

    fn block(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        let fut = AsyncPollable::block(&mut *self.table, pollable);
        bounded_by(self.deadline, &mut *self.expired, fut)
    }

    fn drop(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        AsyncPollable::drop(&mut *self.table, pollable)
    }
}
