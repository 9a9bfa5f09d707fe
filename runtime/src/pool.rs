//! The worker threads that run queued module calls.
//!
//! Every module has its own mailbox (see [`crate::actor`]); a module with queued jobs is a
//! *task* on the pool's ready queue, at most once. A worker takes the task at the front, runs a
//! few of its jobs under the module's own lock, and puts it at the back again if more are
//! waiting, so one busy module cannot hold a worker while others wait.
//!
//! The pool starts with a fixed number of *core* workers (one per CPU by default). A call can
//! hold its worker for up to its deadline (a spinning guest), or longer while a host call blocks.
//! So a [`Watchdog`], ticked by the engine's epoch ticker every 10 ms, watches the queue: when a
//! whole tick passes with tasks waiting, every worker busy and none of them taking a new task,
//! it starts a *spare* worker, up to [`MAX_WORKERS`]. Spare workers leave after [`SPARE_IDLE`]
//! without work. Each tick that stays stalled starts one more, so k stuck modules delay the
//! others by about k + 1 ticks, not by their deadline, while a fan-out to hundreds of idle modules wakes only as many threads as there are
//! CPUs, and nothing but the workers is woken to hand it over.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

/// How long a spare worker waits for work before it leaves.
pub const SPARE_IDLE: Duration = Duration::from_secs(10);
/// The most workers (core and spare) the pool ever runs.
pub const MAX_WORKERS: usize = 256;
/// The stack of every worker: guest code runs on it (wasmtime caps the wasm part at 512 KiB),
/// and so do the host calls the guest makes.
pub const WORKER_STACK: usize = 4 << 20;

/// Something on the ready queue: a module with jobs waiting.
pub(crate) trait Task: Send + Sync {
    /// Run some of the task's work. A task that still has work afterwards schedules itself
    /// again through `pool`.
    fn run(self: Arc<Self>, pool: &Scheduler);
}

/// The number of core workers for this machine: one per CPU, at least two, so that one
/// stuck module never leaves the others waiting for a spare worker on a small machine.
pub fn default_workers() -> usize {
    thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(2, MAX_WORKERS)
}

/// The pool's owner: dropping it lets the workers leave once the queue is empty (it does not
/// wait for them).
pub struct Pool {
    scheduler: Scheduler,
}

/// A handle that puts tasks on the pool's ready queue.
#[derive(Clone)]
pub(crate) struct Scheduler {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    /// Idle workers wait here.
    work: Condvar,
    core: usize,
    max: usize,
    spare_idle: Duration,
}

struct State {
    ready: VecDeque<Arc<dyn Task>>,
    /// Workers alive.
    workers: usize,
    /// Workers waiting for work.
    idle: usize,
    /// Idle workers already woken that have not taken their wake-up yet.
    waking: usize,
    /// Tasks taken by workers so far: the watchdog's measure of progress.
    taken: u64,
    /// `taken` at the watchdog's last tick, if tasks were waiting then.
    watched: Option<u64>,
    /// Whether the current stall at the ceiling was logged already.
    warned: bool,
    closed: bool,
    /// Numbers the next worker thread's name.
    next_id: u64,
}

impl Pool {
    /// Start `core` workers (at least one). Tick its [`Pool::watchdog`] regularly.
    pub fn start(core: usize) -> std::io::Result<Pool> {
        Pool::with(core, MAX_WORKERS, SPARE_IDLE)
    }

    fn with(core: usize, max: usize, spare_idle: Duration) -> std::io::Result<Pool> {
        let core = core.clamp(1, max);
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                ready: VecDeque::new(),
                workers: 0,
                idle: 0,
                waking: 0,
                taken: 0,
                watched: None,
                warned: false,
                closed: false,
                next_id: 0,
            }),
            work: Condvar::new(),
            core,
            max,
            spare_idle,
        });
        let pool = Pool {
            scheduler: Scheduler {
                shared: shared.clone(),
            },
        };
        // On an error the pool is dropped, which closes it: the threads started so far leave.
        for _ in 0..core {
            let mut st = shared.lock();
            st.workers += 1;
            Shared::spawn_worker(&shared, &mut st)?;
        }
        Ok(pool)
    }

    /// The handle that watches this pool for stalls; it does not keep the pool alive.
    pub fn watchdog(&self) -> Watchdog {
        Watchdog {
            shared: Arc::downgrade(&self.scheduler.shared),
        }
    }

    /// The handle that schedules tasks on this pool.
    pub(crate) fn scheduler(&self) -> &Scheduler {
        &self.scheduler
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        let shared = &self.scheduler.shared;
        shared.lock().closed = true;
        shared.work.notify_all();
    }
}

impl Scheduler {
    /// Queue `task` for a worker.
    pub(crate) fn schedule(&self, task: Arc<dyn Task>) {
        self.schedule_all(std::iter::once(task));
    }

    /// Queue `tasks` under one lock, then wake as many idle workers as there are tasks.
    pub(crate) fn schedule_all(&self, tasks: impl IntoIterator<Item = Arc<dyn Task>>) {
        let shared = &self.shared;
        let mut st = shared.lock();
        let before = st.ready.len();
        st.ready.extend(tasks);
        let added = st.ready.len() - before;
        if added == 0 {
            return;
        }
        let wake = added.min(st.idle.saturating_sub(st.waking));
        st.waking += wake;
        drop(st);
        for _ in 0..wake {
            shared.work.notify_one();
        }
    }

    /// Workers alive now (core and spare).
    #[cfg(test)]
    fn workers(&self) -> usize {
        self.shared.lock().workers
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update under this lock is a few plain assignments, and tasks run outside it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Start a worker thread; `st.workers` already counts it (and is taken back on failure).
    fn spawn_worker(shared: &Arc<Shared>, st: &mut State) -> std::io::Result<()> {
        let id = st.next_id;
        st.next_id += 1;
        let worker = shared.clone();
        let started = thread::Builder::new()
            .name(format!("wasmgr-worker-{id}"))
            .stack_size(WORKER_STACK)
            .spawn(move || worker.work());
        if started.is_err() {
            st.workers -= 1;
        }
        started.map(drop)
    }

    /// A worker: take tasks until the pool closes, or, as a spare, until idle too long.
    fn work(self: Arc<Self>) {
        let scheduler = Scheduler {
            shared: self.clone(),
        };
        let mut st = self.lock();
        loop {
            if let Some(task) = st.ready.pop_front() {
                st.taken += 1;
                drop(st);
                // A task contains the panics of the calls it runs; this is the last line, so
                // that the worker itself survives anything.
                if catch_unwind(AssertUnwindSafe(|| task.run(&scheduler))).is_err() {
                    tracing::error!("a module task panicked outside its calls; the worker goes on");
                }
                st = self.lock();
                continue;
            }
            if st.closed {
                st.workers -= 1;
                return;
            }
            let spare = st.workers > self.core;
            st.idle += 1;
            let timed_out;
            (st, timed_out) = if spare {
                let (st, r) = self
                    .work
                    .wait_timeout(st, self.spare_idle)
                    .unwrap_or_else(|p| p.into_inner());
                (st, r.timed_out())
            } else {
                (self.work.wait(st).unwrap_or_else(|p| p.into_inner()), false)
            };
            st.idle -= 1;
            if !timed_out {
                st.waking = st.waking.saturating_sub(1);
            }
            st.waking = st.waking.min(st.idle);
            if timed_out && st.ready.is_empty() && st.workers > self.core {
                st.workers -= 1;
                return;
            }
        }
    }
}

/// Watches a [`Pool`] for stalls: tick it regularly (the host ticks it with the engine's epoch,
/// every 10 ms).
pub struct Watchdog {
    shared: std::sync::Weak<Shared>,
}

impl Watchdog {
    /// If tasks have waited since the last tick with every worker busy and none taking a task,
    /// start a spare worker (or wake idle ones that missed their wake-up).
    pub fn tick(&self) {
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        let mut st = shared.lock();
        if st.closed || st.ready.is_empty() {
            st.watched = None;
            st.warned = false;
            return;
        }
        let stalled = st.watched == Some(st.taken);
        st.watched = Some(st.taken);
        if !stalled {
            st.warned = false;
            return;
        }
        if st.idle > 0 {
            // A worker is free but has not taken the work: wake them all rather than wait.
            st.waking = st.idle;
            shared.work.notify_all();
        } else if st.workers < shared.max {
            st.workers += 1;
            let waiting = st.ready.len();
            match Shared::spawn_worker(&shared, &mut st) {
                Ok(()) => {
                    // The new worker's own first take is not progress of the stuck ones: if
                    // it is the only take by the next tick, the pool is still stalled.
                    st.watched = Some(st.taken.wrapping_add(1));
                    tracing::debug!(
                        workers = st.workers,
                        waiting,
                        "every worker is busy in a module call; started a spare worker"
                    );
                }
                Err(e) => tracing::warn!("cannot start a spare worker: {e}"),
            }
        } else if !st.warned {
            st.warned = true;
            tracing::warn!(
                workers = st.workers,
                "every worker is busy in a module call and the pool is at its ceiling; queued calls wait"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc::{Receiver, Sender, channel};
    use std::time::Instant;

    use super::*;

    /// A pool with its watchdog ticked every 10 ms, as the host does.
    fn pool(core: usize, max: usize, spare_idle: Duration) -> (Pool, Ticking) {
        let pool = Pool::with(core, max, spare_idle).unwrap();
        let watchdog = pool.watchdog();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                thread::sleep(TICK);
                watchdog.tick();
            }
        });
        (pool, Ticking(stop, Some(thread)))
    }

    const TICK: Duration = Duration::from_millis(10);

    struct Ticking(
        Arc<std::sync::atomic::AtomicBool>,
        Option<thread::JoinHandle<()>>,
    );

    impl Drop for Ticking {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
            if let Some(t) = self.1.take() {
                t.join().unwrap();
            }
        }
    }

    /// Runs once: reports on `done`, after waiting for `gate` if it has one.
    struct Job {
        gate: Mutex<Option<Receiver<()>>>,
        done: Sender<usize>,
        id: usize,
    }

    impl Task for Job {
        fn run(self: Arc<Self>, _pool: &Scheduler) {
            let gate = self.gate.lock().unwrap().take();
            if let Some(gate) = gate {
                let _ = gate.recv_timeout(Duration::from_secs(30));
            }
            let _ = self.done.send(self.id);
        }
    }

    fn job(id: usize, done: &Sender<usize>, gate: Option<Receiver<()>>) -> Arc<dyn Task> {
        Arc::new(Job {
            gate: Mutex::new(gate),
            done: done.clone(),
            id,
        })
    }

    #[test]
    fn every_task_runs_once() {
        let pool = Pool::start(2).unwrap();
        let (tx, rx) = channel();
        pool.scheduler()
            .schedule_all((0..1000).map(|i| job(i, &tx, None)));
        let mut seen: Vec<usize> = (0..1000)
            .map(|_| rx.recv_timeout(Duration::from_secs(30)).unwrap())
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..1000).collect::<Vec<_>>());
    }

    /// A task that reschedules itself until it has run `left` times.
    struct Repeat {
        left: AtomicUsize,
        done: Sender<()>,
    }

    impl Task for Repeat {
        fn run(self: Arc<Self>, pool: &Scheduler) {
            if self.left.fetch_sub(1, Ordering::SeqCst) > 1 {
                pool.schedule(self);
            } else {
                let _ = self.done.send(());
            }
        }
    }

    #[test]
    fn a_task_can_schedule_itself_again() {
        let pool = Pool::start(1).unwrap();
        let (tx, rx) = channel();
        pool.scheduler().schedule(Arc::new(Repeat {
            left: AtomicUsize::new(100),
            done: tx,
        }));
        rx.recv_timeout(Duration::from_secs(30)).unwrap();
    }

    #[test]
    fn stuck_workers_get_a_spare_and_spares_leave_when_idle() {
        let (pool, _ticking) = pool(1, 8, Duration::from_millis(50));
        let (tx, rx) = channel();
        let (open, gate) = channel();
        // The one core worker blocks in the first task; the second must still run, on a spare.
        pool.scheduler()
            .schedule_all([job(0, &tx, Some(gate)), job(1, &tx, None)]);
        assert_eq!(rx.recv_timeout(Duration::from_secs(30)).unwrap(), 1);
        assert_eq!(pool.scheduler().workers(), 2);
        open.send(()).unwrap();
        assert_eq!(rx.recv_timeout(Duration::from_secs(30)).unwrap(), 0);
        // With nothing to do, the spare leaves and the core worker stays.
        let until = Instant::now() + Duration::from_secs(30);
        while pool.scheduler().workers() > 1 && Instant::now() < until {
            thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(pool.scheduler().workers(), 1);
    }

    #[test]
    fn the_ceiling_holds_and_queued_work_waits_for_it() {
        let (pool, _ticking) = pool(1, 2, SPARE_IDLE);
        let (tx, rx) = channel();
        let gates: Vec<_> = (0..3).map(|_| channel::<()>()).collect();
        let mut opens = Vec::new();
        let mut tasks = Vec::new();
        for (i, (open, gate)) in gates.into_iter().enumerate() {
            opens.push(open);
            tasks.push(job(i, &tx, Some(gate)));
        }
        pool.scheduler().schedule_all(tasks);
        // Two workers at most: the third task has not started, whatever the wait.
        thread::sleep(TICK * 20);
        assert_eq!(pool.scheduler().workers(), 2);
        assert!(rx.try_recv().is_err());
        opens[0].send(()).unwrap();
        assert_eq!(rx.recv_timeout(Duration::from_secs(30)).unwrap(), 0);
        for open in &opens[1..] {
            open.send(()).unwrap();
        }
        let mut rest: Vec<_> = (0..2)
            .map(|_| rx.recv_timeout(Duration::from_secs(30)).unwrap())
            .collect();
        rest.sort_unstable();
        assert_eq!(rest, [1, 2]);
    }
}
