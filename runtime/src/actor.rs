//! A module's actor: one thread that owns the module's `Store` and runs its calls one at a
//! time from a bounded mailbox. Modules run in parallel on their own actors; no lock is held
//! while guest code runs.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Weak};
use std::thread;

use crate::bindings::{CommandResult, NotifyKind};
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
    Shutdown,
}

/// The caller's side of an actor.
pub(crate) struct ActorHandle {
    tx: SyncSender<Job>,
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
        let actor = Actor {
            module,
            instance: Some(instance),
            loader,
            supervisor,
            generation,
        };
        thread::Builder::new()
            .name(format!("module-{}", actor.module.name))
            // Guest code runs on this thread's stack (wasmtime caps the wasm part at 512 KiB).
            .stack_size(4 << 20)
            .spawn(move || actor.run(rx))?;
        Ok(ActorHandle { tx })
    }

    pub(crate) fn send(&self, job: Job) -> Result<(), SendError> {
        self.tx.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => SendError::Full,
            TrySendError::Disconnected(_) => SendError::Gone,
        })
    }
}

struct Actor {
    module: Arc<LoadedModule>,
    instance: Option<Instance>,
    loader: Arc<Loader>,
    supervisor: Weak<Supervisor>,
    generation: u64,
}

impl Actor {
    fn run(mut self, rx: Receiver<Job>) {
        while let Ok(job) = rx.recv() {
            match job {
                Job::Command { cmd, inbuf, reply } => {
                    let outcome = self.command(&cmd, &inbuf);
                    // The caller may have given up waiting; that is fine.
                    let _ = reply.send(outcome);
                }
                Job::Notify { kind, id } => {
                    let _ = self.call("notify", |b, s| {
                        b.wasmgr_mgr_module().call_notify(s, kind, &id)
                    });
                }
                Job::Shutdown => {
                    if let Some(instance) = self.instance.as_mut() {
                        let r = loader::call(
                            instance,
                            self.module.env.limits.fuel_per_call,
                            limits::SHUTDOWN_DEADLINE,
                            |b, s| b.wasmgr_mgr_module().call_shutdown(s),
                        );
                        if let Err(trap) = r {
                            tracing::warn!(module = %self.module.name, "shutdown {trap}");
                        }
                    }
                    return;
                }
            }
            if self.instance.is_none() {
                // The supervisor failed the module: stop taking calls. Dropping the receiver
                // tells every queued caller.
                return;
            }
        }
    }

    fn command(&mut self, cmd: &str, inbuf: &str) -> CommandOutcome {
        let result = self.call("handle-command", |b, s| {
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
        &mut self,
        what: &str,
        f: impl FnOnce(
            &crate::bindings::MgrModule,
            &mut wasmtime::Store<crate::host::ModuleCtx>,
        ) -> wasmtime::Result<R>,
    ) -> Result<R, CallFailure> {
        let Some(instance) = self.instance.as_mut() else {
            return Err(CallFailure {
                errno: 5,
                message: format!("module '{}' has no instance", self.module.name),
            });
        };
        let limits = &self.module.env.limits;
        match loader::call(instance, limits.fuel_per_call, limits.deadline(), f) {
            Ok(r) => Ok(r),
            Err(trap) => {
                self.instance = None;
                let message = self.after_trap(what, &trap);
                Err(CallFailure {
                    errno: trap.errno(),
                    message,
                })
            }
        }
    }

    fn after_trap(&mut self, what: &str, trap: &TrapKind) -> String {
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
                match self.loader.instantiate(&self.module) {
                    Ok(instance) => {
                        self.instance = Some(instance);
                        self.module
                            .env
                            .stats
                            .restarts
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
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
