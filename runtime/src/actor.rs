//! A module's actor: the module's one instance, a thread with a bounded mailbox, and the rule
//! that calls into the module run one at a time.
//!
//! The instance sits in the module's own [`Runner`] behind a per-module lock: whoever holds it
//! runs the call. A command that finds the module idle (empty mailbox, lock free) runs on the
//! caller's thread, which saves the two thread hand-offs of a mailbox round trip (tens of
//! microseconds when they wake an idle CPU); otherwise it is queued for the actor thread, as
//! notifications always are. The lock is the module's alone: no lock shared between modules,
//! and no host-wide lock, is ever held while guest code runs.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, TryLockError, Weak};
use std::thread;
use std::time::Duration;

use crate::bindings::{CommandResult, MgrModule, NotifyKind};
use crate::host::ModuleCtx;
use crate::limits;
use crate::loader::{self, Instance, LoadedModule, Loader};
use crate::supervisor::{Supervisor, TrapDecision};
use crate::trap::TrapKind;

/// A call that did not produce a module result: the errno (positive, Linux) and a message for
/// the client.
#[derive(Clone, Debug, PartialEq)]
pub struct CallFailure {
    /// Linux errno, positive.
    pub errno: i32,
    /// What happened and what to do.
    pub message: String,
}

pub(crate) type CommandOutcome = Result<CommandResult, CallFailure>;

pub(crate) enum Job {
    Command {
        cmd: String,
        inbuf: String,
        reply: SyncSender<CommandOutcome>,
    },
    Notify {
        kind: NotifyKind,
        id: String,
    },
    /// Wakes the actor so that it sees [`ActorHandle::stop`]'s flag.
    Stop,
}

/// The caller's side of an actor.
#[derive(Clone)]
pub(crate) struct ActorHandle {
    tx: SyncSender<Job>,
    runner: Arc<Runner>,
}

pub(crate) enum SendError {
    Full,
    Gone,
}

impl ActorHandle {
    /// Start the actor thread for `module`, running `instance`.
    pub(crate) fn spawn(
        module: Arc<LoadedModule>,
        instance: Instance,
        loader: Arc<Loader>,
        supervisor: Weak<Supervisor>,
        generation: u64,
    ) -> std::io::Result<ActorHandle> {
        let (tx, rx) = sync_channel(limits::MAILBOX_DEPTH);
        let runner = Arc::new(Runner {
            module,
            loader,
            supervisor,
            generation,
            instance: Mutex::new(Some(instance)),
            queued: AtomicUsize::new(0),
            stopping: AtomicBool::new(false),
            finished: (Mutex::new(false), Condvar::new()),
        });
        let actor = runner.clone();
        thread::Builder::new()
            .name(format!("module-{}", runner.module.name))
            // Guest code runs on this thread's stack (wasmtime caps the wasm part at 512 KiB).
            .stack_size(4 << 20)
            .spawn(move || {
                actor.clone().run(rx);
                let (done, cv) = &actor.finished;
                *done.lock().unwrap_or_else(|p| p.into_inner()) = true;
                cv.notify_all();
            })?;
        Ok(ActorHandle { tx, runner })
    }

    /// Stop the module: no call starts after this returns except what the actor finishes
    /// first (its current job); then the actor runs `shutdown` under its deadline, drops the
    /// instance and exits. Queued calls are answered as "not running". Never blocks.
    pub(crate) fn stop(&self) {
        self.runner.stopping.store(true, Ordering::Release);
        // Only a wake-up: with a full mailbox the actor sees the flag at its next job anyway.
        let _ = self.send(Job::Stop);
    }

    /// Whether [`ActorHandle::stop`] was called.
    pub(crate) fn is_stopping(&self) -> bool {
        self.runner.stopping.load(Ordering::Acquire)
    }

    /// Wait until the actor thread has exited, at most `limit`; whether it did.
    pub(crate) fn wait_finished(&self, limit: Duration) -> bool {
        let (done, cv) = &self.runner.finished;
        let guard = done.lock().unwrap_or_else(|p| p.into_inner());
        let (guard, _) = cv
            .wait_timeout_while(guard, limit, |finished| !*finished)
            .unwrap_or_else(|p| p.into_inner());
        *guard
    }

    /// Queue `job` for the actor thread.
    pub(crate) fn send(&self, job: Job) -> Result<(), SendError> {
        // Counted before it is queued, so a caller never sees an empty mailbox while a job is
        // on its way into it.
        self.runner.queued.fetch_add(1, Ordering::AcqRel);
        self.tx.try_send(job).map_err(|e| {
            self.runner.queued.fetch_sub(1, Ordering::AcqRel);
            match e {
                TrySendError::Full(_) => SendError::Full,
                TrySendError::Disconnected(_) => SendError::Gone,
            }
        })
    }

    /// Run a command on the calling thread if the module is idle: nothing queued and nobody
    /// running a call. `None` means it is busy and the command should be queued.
    pub(crate) fn try_command_here(&self, cmd: &str, inbuf: &str) -> Option<CommandOutcome> {
        if self.runner.queued.load(Ordering::Acquire) != 0 {
            return None;
        }
        let mut slot = match self.runner.instance.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(p)) => self.runner.recover(p.into_inner()),
            Err(TryLockError::WouldBlock) => return None,
        };
        // Checked again under the lock: the actor takes a job's count off only once it holds
        // the lock, so a job queued before this call is never overtaken; and a stop that came
        // in meanwhile wins.
        if self.runner.queued.load(Ordering::Acquire) != 0 {
            return None;
        }
        if self.is_stopping() {
            return Some(Err(self.runner.stopped()));
        }
        Some(self.runner.command(&mut slot, cmd, inbuf))
    }
}

/// One module's instance and what it takes to run calls on it and recover from traps.
struct Runner {
    module: Arc<LoadedModule>,
    loader: Arc<Loader>,
    supervisor: Weak<Supervisor>,
    generation: u64,
    /// The module's instance; `None` once it failed or was shut down.
    instance: Mutex<Option<Instance>>,
    /// Jobs sent to the mailbox and not yet taken by the actor thread.
    queued: AtomicUsize,
    /// Set by [`ActorHandle::stop`]: no new call starts.
    stopping: AtomicBool,
    /// Set when the actor thread has exited.
    finished: (Mutex<bool>, Condvar),
}

type Slot<'a> = MutexGuard<'a, Option<Instance>>;

impl Runner {
    fn lock(&self) -> Slot<'_> {
        match self.instance.lock() {
            Ok(slot) => slot,
            Err(p) => self.recover(p.into_inner()),
        }
    }

    /// The slot after a panic in host code while it was held: the instance may be mid-call, so
    /// it is dropped and replaced as after a trap.
    fn recover<'a>(&self, mut slot: Slot<'a>) -> Slot<'a> {
        self.instance.clear_poison();
        self.replace_after_panic(&mut slot);
        slot
    }

    /// Drop an instance that was mid-call when host code panicked, and restart or fail the
    /// module as after a trap.
    fn replace_after_panic(&self, slot: &mut Slot<'_>) {
        if slot.take().is_some() {
            let trap = TrapKind::Host {
                message: "a host call panicked during the previous call".into(),
            };
            let message = self.after_trap(slot, "call", &trap);
            tracing::error!(module = %self.module.name, "{message}");
        }
    }

    /// The actor thread: take jobs until the module stops or every handle is gone.
    fn run(self: Arc<Self>, rx: Receiver<Job>) {
        while let Ok(job) = rx.recv() {
            let mut slot = self.lock();
            // Taken off only under the lock: see `try_command_here`.
            self.queued.fetch_sub(1, Ordering::AcqRel);
            if self.stopping.load(Ordering::Acquire) {
                self.shutdown(&mut slot);
                return;
            }
            // A panic in host code must not take the actor thread down with the module's
            // queue: it is contained here and the instance replaced (see `recover`).
            let ran = catch_unwind(AssertUnwindSafe(|| match job {
                Job::Command { cmd, inbuf, reply } => {
                    let outcome = self.command(&mut slot, &cmd, &inbuf);
                    // The caller may have given up waiting; that is fine.
                    let _ = reply.send(outcome);
                }
                Job::Notify { kind, id } => {
                    let _ = self.call(&mut slot, "notify", |b, s| {
                        b.wasmgr_mgr_module().call_notify(s, kind, &id)
                    });
                }
                Job::Stop => {}
            }));
            if ran.is_err() {
                tracing::error!(module = %self.module.name, "a host call panicked; replacing the instance");
                self.replace_after_panic(&mut slot);
            }
            if slot.is_none() {
                // The module failed: stop taking calls. Dropping the receiver tells every
                // queued caller, who then reads the failure from the supervisor.
                return;
            }
        }
    }

    /// Run the module's `shutdown` under its deadline and drop the instance.
    fn shutdown(&self, slot: &mut Slot<'_>) {
        if let Some(instance) = slot.as_mut() {
            let fuel = self.module.env.limits.fuel_per_call;
            let r = loader::call(instance, fuel, limits::SHUTDOWN_DEADLINE, |b, s| {
                b.wasmgr_mgr_module().call_shutdown(s)
            });
            if let Err(trap) = r {
                tracing::warn!(module = %self.module.name, "shutdown {trap}");
            }
        }
        **slot = None;
    }

    fn command(&self, slot: &mut Slot<'_>, cmd: &str, inbuf: &str) -> CommandOutcome {
        let result = self.call(slot, "handle-command", |b, s| {
            b.wasmgr_mgr_module().call_handle_command(s, cmd, inbuf)
        })?;
        let size = result.stdout.len() + result.stderr.len();
        let cap = self.module.env.limits.output_bytes;
        if size > cap {
            return Err(CallFailure {
                errno: 7, // E2BIG
                message: format!(
                    "module '{}' returned {size} bytes of output, over its limit of {cap} bytes (limit output_kib); ask for less, e.g. with a narrower query",
                    self.module.name
                ),
            });
        }
        Ok(result)
    }

    /// Run one export call; on a trap, drop the instance and let the supervisor decide between
    /// a restart (after a backoff) and failing the module.
    fn call<R>(
        &self,
        slot: &mut Slot<'_>,
        what: &str,
        f: impl FnOnce(&MgrModule, &mut wasmtime::Store<ModuleCtx>) -> wasmtime::Result<R>,
    ) -> Result<R, CallFailure> {
        let Some(instance) = slot.as_mut() else {
            return Err(self.stopped());
        };
        let limits = &self.module.env.limits;
        match loader::call(instance, limits.fuel_per_call, limits.deadline(), f) {
            Ok(r) => Ok(r),
            Err(trap) => {
                **slot = None;
                let message = self.after_trap(slot, what, &trap);
                Err(CallFailure {
                    errno: trap.errno(),
                    message,
                })
            }
        }
    }

    /// Why a module without an instance cannot take a call.
    fn stopped(&self) -> CallFailure {
        match self.supervisor.upgrade() {
            Some(sup) => sup.why_not_running(&self.module.name),
            None => CallFailure {
                errno: 5,
                message: format!("module '{}' has stopped", self.module.name),
            },
        }
    }

    fn after_trap(&self, slot: &mut Slot<'_>, what: &str, trap: &TrapKind) -> String {
        let name = &self.module.name;
        tracing::warn!(module = %name, call = what, "{trap}");
        let Some(sup) = self.supervisor.upgrade() else {
            return format!("module '{name}' {what} {trap}");
        };
        match sup.on_trap(name, self.generation, trap) {
            TrapDecision::Restart { delay } => {
                if !delay.is_zero() {
                    thread::sleep(delay);
                }
                // The module may have been disabled (or re-enabled as a new generation) during
                // the backoff: then this instance must not come back.
                if self.stopping.load(Ordering::Acquire) || !sup.is_current(name, self.generation) {
                    return format!(
                        "module '{name}' {what} {trap}; the module was stopped meanwhile"
                    );
                }
                match self.loader.instantiate(&self.module) {
                    Ok(instance) => {
                        **slot = Some(instance);
                        self.module
                            .env
                            .stats
                            .restarts
                            .fetch_add(1, Ordering::Relaxed);
                        format!("module '{name}' {what} {trap}; the module was restarted")
                    }
                    Err(again) => {
                        let reason = format!("restart after a trap failed: instantiate {again}");
                        sup.fail(name, self.generation, &reason);
                        format!("module '{name}' {what} {trap}; {reason}")
                    }
                }
            }
            TrapDecision::Fail { reason } => format!(
                "module '{name}' {what} {trap}; the module has failed ({reason}): fix it, then run 'wasmgr module enable {name}'"
            ),
        }
    }
}
