//! A module's actor: the module's one instance, its bounded mailbox, and the rule that calls
//! into the module run one at a time.
//!
//! The instance sits in the module's own [`Runner`] behind a per-module lock: whoever holds it
//! runs the call. A command for a module with nothing queued runs on the caller's thread,
//! waiting for the lock if another call holds it, which saves the two thread hand-offs of a
//! mailbox round trip (tens of microseconds when they wake an idle CPU); otherwise it is
//! queued, as notifications always are, and a worker of the host's [`crate::pool`] runs it. The lock is the module's alone: no
//! lock shared between modules, and no host-wide lock, is ever held while guest code runs.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, TryLockError, Weak};
use std::thread;
use std::time::{Duration, Instant};

use crate::bindings::{CommandResult, MgrModule, NotifyKind};
use crate::host::ModuleCtx;
use crate::limits;
use crate::loader::{self, Instance, LoadedModule, Loader};
use crate::pool::{Scheduler, Task};
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
        /// Whether a trap in it counts towards failing the module (see [`Blame`]).
        blame: Blame,
        reply: SyncSender<CommandOutcome>,
        /// Set by a caller that stopped waiting: the command is then not run at all.
        abandoned: Arc<AtomicBool>,
    },
    Notify {
        kind: NotifyKind,
        /// Shared by every subscriber's job of one event.
        id: Arc<str>,
    },
    /// One round of the module's periodic work (`ticker.tick`).
    Tick,
    /// Gets the module scheduled so that a worker sees [`ActorHandle::stop`]'s flag.
    Stop,
}

/// Who a trap is blamed on, which decides whether it counts towards failing the module.
///
/// A read-only client can send a module any input its commands accept, and another module
/// any arguments to its remote methods. If the traps such input causes could fail the module,
/// any read-only client (or any module) could take a module away from everyone. So a trap in
/// a command from a read-only client, or in a remote call, restarts the instance (with the
/// usual backoff) but is not counted towards [`limits::TRAPS_BEFORE_FAILED`]; traps in
/// commands from read-write clients (operators) and in the module's own calls (notify, tick,
/// describe) are. See docs/design/0008-containment.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blame {
    /// The module is at fault: the trap counts.
    Module,
    /// A read-only client's input (or another module's remote call) may be: the trap does not
    /// count.
    Client,
}

/// Callers that may wait for a busy module's lock at once; more queue in its mailbox.
const LOCK_WAITERS: usize = 4;

/// How long a caller spins on a busy module's lock before it sleeps on it.
const SPIN_FOR: Duration = Duration::from_micros(20);

/// Jobs a worker runs for one module before it puts the module at the back of the ready
/// queue, so that one module with a long queue does not hold a worker while others wait.
const JOBS_PER_TURN: usize = 16;

/// The caller's side of an actor.
#[derive(Clone)]
pub(crate) struct ActorHandle {
    runner: Arc<Runner>,
}

pub(crate) enum SendError {
    Full,
    Gone,
}

impl ActorHandle {
    /// An actor for `module`, running `instance`; its jobs run on `scheduler`'s pool.
    pub(crate) fn start(
        module: Arc<LoadedModule>,
        instance: Instance,
        loader: Arc<Loader>,
        supervisor: Weak<Supervisor>,
        generation: u64,
        scheduler: Scheduler,
    ) -> ActorHandle {
        ActorHandle {
            runner: Arc::new(Runner {
                module,
                loader,
                supervisor,
                generation,
                scheduler,
                instance: Mutex::new(Some(instance)),
                mailbox: Mutex::new(Mailbox::default()),
                queued: AtomicUsize::new(0),
                lock_waiters: AtomicUsize::new(0),
                stopping: AtomicBool::new(false),
                finished: (Mutex::new(false), Condvar::new()),
            }),
        }
    }

    /// Stop the module: no call starts after this returns except what a worker finishes first
    /// (its current job); then a worker runs `shutdown` under its deadline and drops the
    /// instance. Queued calls are answered as "not running". Never blocks.
    pub(crate) fn stop(&self) {
        self.runner.stopping.store(true, Ordering::Release);
        // Only a wake-up, queued even into a full mailbox: the worker sees the flag at the
        // module's next job.
        let _ = self.send(Job::Stop);
    }

    /// Whether [`ActorHandle::stop`] was called.
    pub(crate) fn is_stopping(&self) -> bool {
        self.runner.stopping.load(Ordering::Acquire)
    }

    /// Wait until the module has shut down (or failed), at most `limit`; whether it did.
    pub(crate) fn wait_finished(&self, limit: Duration) -> bool {
        let (done, cv) = &self.runner.finished;
        let guard = done.lock().unwrap_or_else(|p| p.into_inner());
        let (guard, _) = cv
            .wait_timeout_while(guard, limit, |finished| !*finished)
            .unwrap_or_else(|p| p.into_inner());
        *guard
    }

    /// Queue `job` and schedule the module if it was not already.
    pub(crate) fn send(&self, job: Job) -> Result<(), SendError> {
        if let Some(task) = self.queue(job)? {
            self.runner.scheduler.schedule(task);
        }
        Ok(())
    }

    /// Queue `job`. `Some` is the module, which now needs scheduling: the caller schedules it,
    /// possibly with others (see [`Scheduler::schedule_all`]).
    pub(crate) fn queue(&self, job: Job) -> Result<Option<Arc<dyn Task>>, SendError> {
        let r = &self.runner;
        let mut mailbox = r.mailbox();
        if mailbox.closed {
            return Err(SendError::Gone);
        }
        if mailbox.jobs.len() >= limits::MAILBOX_DEPTH && !matches!(job, Job::Stop) {
            return Err(SendError::Full);
        }
        // Counted before it is queued, so a caller never sees an empty mailbox while a job is
        // on its way into it.
        r.queued.fetch_add(1, Ordering::AcqRel);
        mailbox.jobs.push_back(job);
        if mailbox.scheduled {
            return Ok(None);
        }
        mailbox.scheduled = true;
        Ok(Some(r.clone()))
    }

    /// Run a command on the calling thread unless jobs are queued for the module: then `None`,
    /// and the command should be queued behind them.
    ///
    /// If another call is running (a command on another caller's thread, or a worker's job),
    /// this waits for the module's lock: the command has to wait for that call anyway, and
    /// taking the lock directly saves the two thread hand-offs of going through the mailbox.
    pub(crate) fn try_command_here(
        &self,
        cmd: &str,
        inbuf: &str,
        blame: Blame,
    ) -> Option<CommandOutcome> {
        if self.runner.queued.load(Ordering::Acquire) != 0 {
            return None;
        }
        // A few callers may wait for the lock; the rest go through the mailbox, where its depth
        // and the caller's wait are bounded. Otherwise every connection could end up waiting
        // here on one slow module.
        if self.runner.lock_waiters.fetch_add(1, Ordering::AcqRel) >= LOCK_WAITERS {
            self.runner.lock_waiters.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        let mut slot = self.runner.lock_spinning();
        self.runner.lock_waiters.fetch_sub(1, Ordering::AcqRel);
        // Checked again under the lock: a worker takes a job's count off only once it holds
        // the lock, so a job queued before this call took the lock is never overtaken; and a
        // stop that came in meanwhile wins.
        if self.runner.queued.load(Ordering::Acquire) != 0 {
            return None;
        }
        if self.is_stopping() {
            return Some(Err(self.runner.stopped()));
        }
        let runner = &self.runner;
        Some(
            runner
                .contained(&mut slot, |slot| runner.command(slot, cmd, inbuf, blame))
                .unwrap_or_else(|| {
                    Err(CallFailure {
                        errno: 5, // EIO
                        message: format!(
                            "module '{}': a host call panicked during this command; the instance was replaced",
                            runner.module.name
                        ),
                    })
                }),
        )
    }
}

/// A module's command result as the client may see it: `retval` in range, output within
/// `cap` and escaped ([`crate::sanitize::block`]) so that it cannot drive the client's terminal.
fn checked_result(module: &str, mut result: CommandResult, cap: usize) -> CommandOutcome {
    if !valid_retval(result.retval) {
        return Err(CallFailure {
            errno: 5, // EIO
            message: format!(
                "module '{module}' returned retval {}: a command returns 0 or a negative Linux \
                 errno (-1 to -{MAX_ERRNO}); the module is at fault",
                result.retval
            ),
        });
    }
    let too_big = |size: usize| CallFailure {
        errno: 7, // E2BIG
        message: format!(
            "module '{module}' returned {size} bytes of output, over its limit of {cap} bytes (limit output_kib); ask for less, e.g. with a narrower query"
        ),
    };
    let size = result.stdout.len() + result.stderr.len();
    if size > cap {
        return Err(too_big(size));
    }
    result.stdout = crate::sanitize::block(&result.stdout);
    result.stderr = crate::sanitize::block(&result.stderr);
    // Escaping lengthens the output; the limit holds for what the client receives.
    let size = result.stdout.len() + result.stderr.len();
    if size > cap {
        return Err(too_big(size));
    }
    Ok(result)
}

/// The largest errno a command may return. The client exits with the errno, and an exit code
/// holds 8 bits (Linux's errnos end at 133); anything larger would wrap, 256 into a success.
pub const MAX_ERRNO: i32 = 255;

/// Whether `retval` is 0 or a negative errno: what the contract allows a command to return.
pub fn valid_retval(retval: i32) -> bool {
    retval == 0 || (-MAX_ERRNO..0).contains(&retval)
}

impl ActorHandle {
    /// Run `handle-remote(method, args)` on the module for a remote call, on the calling
    /// thread, within `budget` (the caller's remaining deadline): waiting for the module's lock
    /// counts against it, so two modules calling each other from two threads both give up in
    /// time instead of deadlocking.
    pub(crate) fn remote_here(
        &self,
        method: &str,
        args: &str,
        budget: Duration,
    ) -> Result<Result<String, String>, CallFailure> {
        let runner = &self.runner;
        let name = &runner.module.name;
        let until = Instant::now() + budget;
        let mut slot = loop {
            match runner.instance.try_lock() {
                Ok(slot) => break slot,
                Err(TryLockError::Poisoned(p)) => break runner.recover(p.into_inner()),
                Err(TryLockError::WouldBlock) if Instant::now() < until => {
                    thread::sleep(Duration::from_micros(200));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(CallFailure {
                        errno: 110,
                        message: format!("module '{name}' stayed busy past the caller's deadline"),
                    });
                }
            }
        };
        if self.is_stopping() {
            return Err(runner.stopped());
        }
        let Some(handle) = slot.as_ref().and_then(|i| i.extras.handle_remote) else {
            return Err(CallFailure {
                errno: 95,
                message: format!("module '{name}' serves no remote methods"),
            });
        };
        let left = until.saturating_duration_since(Instant::now());
        let (method, args) = (method.to_owned(), args.to_owned());
        runner
            .contained(&mut slot, |slot| {
                // The arguments are another module's: a trap they cause restarts this module
                // but does not count towards failing it, or any module could fail any other.
                runner.call_within(slot, "handle-remote", Blame::Client, left, |_, store| {
                    let (r,) = handle.call(&mut *store, (method, args))?;
                    Ok(r)
                })
            })
            .unwrap_or_else(|| {
                Err(CallFailure {
                    errno: 5,
                    message: format!(
                        "module '{name}': a host call panicked during the remote call"
                    ),
                })
            })
    }
}

/// A module's queued jobs.
#[derive(Default)]
struct Mailbox {
    jobs: VecDeque<Job>,
    /// Whether the module is on the pool's ready queue or being run by a worker.
    scheduled: bool,
    /// Set once the module shut down or failed: nothing is queued any more.
    closed: bool,
}

/// One module's instance and what it takes to run calls on it and recover from traps.
struct Runner {
    module: Arc<LoadedModule>,
    loader: Arc<Loader>,
    supervisor: Weak<Supervisor>,
    generation: u64,
    scheduler: Scheduler,
    /// The module's instance; `None` once it failed or was shut down.
    instance: Mutex<Option<Instance>>,
    mailbox: Mutex<Mailbox>,
    /// Jobs queued and not yet taken by a worker.
    queued: AtomicUsize,
    /// Callers waiting for the instance lock (at most [`LOCK_WAITERS`]).
    lock_waiters: AtomicUsize,
    /// Set by [`ActorHandle::stop`]: no new call starts.
    stopping: AtomicBool,
    /// Set once the module has shut down or failed and its mailbox is closed.
    finished: (Mutex<bool>, Condvar),
}

type Slot<'a> = MutexGuard<'a, Option<Instance>>;

impl Runner {
    /// The module's lock, spinning briefly before sleeping on it: a command usually holds it
    /// for a few microseconds, less than a sleep and a wake-up cost.
    fn lock_spinning(&self) -> Slot<'_> {
        // The clock starts at the first miss: a free lock costs one try.
        let mut started = None;
        loop {
            match self.instance.try_lock() {
                Ok(slot) => return slot,
                Err(TryLockError::Poisoned(p)) => return self.recover(p.into_inner()),
                Err(TryLockError::WouldBlock) => {}
            }
            if started.get_or_insert_with(Instant::now).elapsed() > SPIN_FOR {
                return self.lock();
            }
            for _ in 0..64 {
                std::hint::spin_loop();
            }
        }
    }

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
            // The restart runs guest code too: a host panic in it fails the module rather
            // than escaping to the worker or caller with the mailbox left scheduled.
            let restart = || self.after_trap(slot, "call", &trap, Blame::Module);
            match catch_unwind(AssertUnwindSafe(restart)) {
                Ok(message) => tracing::error!(module = %self.module.name, "{message}"),
                Err(_) => {
                    **slot = None;
                    let reason = "a host call panicked again while the module was restarted";
                    tracing::error!(module = %self.module.name, "{reason}");
                    if let Some(sup) = self.supervisor.upgrade() {
                        sup.fail(&self.module.name, self.generation, reason);
                    }
                }
            }
        }
    }

    fn mailbox(&self) -> MutexGuard<'_, Mailbox> {
        // Every update under this lock is a push, a pop or a flag.
        self.mailbox.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Run one job; whether the module takes more (false once it stopped or failed).
    fn run_job(&self, job: Job) -> bool {
        let mut slot = self.lock();
        // Taken off only under the lock: see `try_command_here`.
        self.queued.fetch_sub(1, Ordering::AcqRel);
        if self.stopping.load(Ordering::Acquire) {
            // The instance goes whatever happens, even a host panic in `shutdown`.
            if catch_unwind(AssertUnwindSafe(|| self.shutdown(&mut slot))).is_err() {
                tracing::error!(module = %self.module.name, "a host call panicked during shutdown");
            }
            *slot = None;
            return false;
        }
        // A panicking host call must not take the worker down with the module's queue.
        self.contained(&mut slot, |slot| match job {
            Job::Command { abandoned, .. } if abandoned.load(Ordering::Acquire) => {}
            Job::Command {
                cmd,
                inbuf,
                blame,
                reply,
                abandoned: _,
            } => {
                let outcome = self.command(slot, &cmd, &inbuf, blame);
                // The caller may have given up waiting; that is fine.
                let _ = reply.send(outcome);
            }
            Job::Notify { kind, id } => {
                let _ = self.call(slot, "notify", Blame::Module, |b, s| {
                    b.wasmgr_mgr_module().call_notify(s, kind, &id)
                });
            }
            Job::Tick => {
                let tick = slot.as_ref().and_then(|i| i.extras.tick);
                if let Some(tick) = tick {
                    let _ = self.call(slot, "tick", Blame::Module, |_, store| {
                        tick.call(&mut *store, ())
                    });
                }
                self.module.env.tick_done();
            }
            Job::Stop => {}
        });
        // `None`: the module failed and takes no more calls.
        slot.is_some()
    }

    /// Run `f` on the module's instance; if host code panics in it, drop the instance and
    /// restart or fail the module as after a trap, and return `None`. Whoever runs a call
    /// (a worker or a caller) survives a host panic.
    fn contained<'a, R>(
        &self,
        slot: &mut Slot<'a>,
        f: impl FnOnce(&mut Slot<'a>) -> R,
    ) -> Option<R> {
        match catch_unwind(AssertUnwindSafe(|| f(slot))) {
            Ok(r) => Some(r),
            Err(_) => {
                tracing::error!(module = %self.module.name, "a host call panicked; replacing the instance");
                self.replace_after_panic(slot);
                None
            }
        }
    }

    /// Close the mailbox for good. The jobs still in it are dropped, which tells every queued
    /// caller (its reply channel closes), who then reads why from the supervisor.
    fn close(&self) {
        let dropped = {
            let mut mailbox = self.mailbox();
            mailbox.closed = true;
            mailbox.scheduled = false;
            std::mem::take(&mut mailbox.jobs)
        };
        self.queued.fetch_sub(dropped.len(), Ordering::AcqRel);
        drop(dropped);
        let (done, cv) = &self.finished;
        *done.lock().unwrap_or_else(|p| p.into_inner()) = true;
        cv.notify_all();
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

    fn command(&self, slot: &mut Slot<'_>, cmd: &str, inbuf: &str, blame: Blame) -> CommandOutcome {
        let result = self.call(slot, "handle-command", blame, |b, s| {
            b.wasmgr_mgr_module().call_handle_command(s, cmd, inbuf)
        })?;
        checked_result(
            &self.module.name,
            result,
            self.module.env.limits.output_bytes,
        )
    }

    /// Run one export call; on a trap, drop the instance and let the supervisor decide between
    /// a restart (after a backoff) and failing the module.
    fn call<R>(
        &self,
        slot: &mut Slot<'_>,
        what: &str,
        blame: Blame,
        f: impl FnOnce(&MgrModule, &mut wasmtime::Store<ModuleCtx>) -> wasmtime::Result<R>,
    ) -> Result<R, CallFailure> {
        let deadline = self.module.env.limits.deadline();
        self.call_within(slot, what, blame, deadline, f)
    }

    /// [`Runner::call`] with a deadline of `deadline` (at most the module's own).
    fn call_within<R>(
        &self,
        slot: &mut Slot<'_>,
        what: &str,
        blame: Blame,
        deadline: Duration,
        f: impl FnOnce(&MgrModule, &mut wasmtime::Store<ModuleCtx>) -> wasmtime::Result<R>,
    ) -> Result<R, CallFailure> {
        let Some(instance) = slot.as_mut() else {
            return Err(self.stopped());
        };
        let limits = &self.module.env.limits;
        let deadline = deadline.min(limits.deadline());
        match loader::call(instance, limits.fuel_per_call, deadline, f) {
            Ok(r) => Ok(r),
            Err(trap) => {
                **slot = None;
                let message = self.after_trap(slot, what, &trap, blame);
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

    fn after_trap(&self, slot: &mut Slot<'_>, what: &str, trap: &TrapKind, blame: Blame) -> String {
        let name = &self.module.name;
        tracing::warn!(module = %name, call = what, "{trap}");
        let Some(sup) = self.supervisor.upgrade() else {
            return format!("module '{name}' {what} {trap}");
        };
        match sup.on_trap(name, self.generation, trap, blame) {
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

impl Task for Runner {
    /// A worker's turn on this module: up to [`JOBS_PER_TURN`] jobs, then the back of the
    /// ready queue if more are waiting.
    fn run(self: Arc<Self>, pool: &Scheduler) {
        for _ in 0..JOBS_PER_TURN {
            let job = {
                let mut mailbox = self.mailbox();
                match mailbox.jobs.pop_front() {
                    Some(job) => job,
                    None => {
                        mailbox.scheduled = false;
                        return;
                    }
                }
            };
            if !self.run_job(job) {
                self.close();
                return;
            }
        }
        let more = {
            let mut mailbox = self.mailbox();
            mailbox.scheduled = !mailbox.jobs.is_empty();
            mailbox.scheduled
        };
        if more {
            pool.schedule(self);
        }
    }
}
