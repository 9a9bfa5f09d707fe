//! `wasmgr:mgr/command`: the module's commands to the cluster (`send_command`, `mon_command`).
//!
//! Commands run on the host's [`CommandRunner`] threads, never on the module's own: `send`
//! returns at once and the completion cues the module with `notify(command, tag)`; `send-wait`
//! waits for the reply no longer than the call's deadline.

use std::collections::{HashMap, VecDeque};
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::{ModuleCtx, error};
use crate::bindings::wasmgr::mgr::command::Host;
use crate::bindings::{ErrorCode, GuestError, NotifyKind, Reply};
use crate::cluster::ClusterSource;
use crate::limits;

/// A job for a [`CommandRunner`] thread.
type Job = Box<dyn FnOnce() + Send>;

/// Threads that run the cluster commands modules send, so that a slow cluster never holds a
/// module's instance (or a worker) while the command is out. Each module has a queue of its
/// own and the threads serve the modules in turn, one command each, so a module with many
/// slow commands pending delays another module's by one command at most per thread.
pub struct CommandRunner {
    state: Arc<(Mutex<Queues>, Condvar)>,
}

/// The modules' queues and the order they are served in.
#[derive(Default)]
struct Queues {
    /// Jobs by module.
    jobs: HashMap<String, VecDeque<Job>>,
    /// Modules with jobs, each once, served front to back.
    ring: VecDeque<String>,
    /// Jobs queued in all.
    total: usize,
}

impl Queues {
    /// The next job, from the module at the front of the ring (which goes to the back if it
    /// has more).
    fn next(&mut self) -> Option<Job> {
        let module = self.ring.pop_front()?;
        let queue = self.jobs.get_mut(&module)?;
        let job = queue.pop_front()?;
        if queue.is_empty() {
            self.jobs.remove(&module);
        } else {
            self.ring.push_back(module);
        }
        self.total -= 1;
        Some(job)
    }
}

impl CommandRunner {
    /// Starts `threads` runner threads; at most [`limits::COMMANDS_QUEUED`] jobs wait.
    pub fn start(threads: usize) -> Arc<CommandRunner> {
        let state = Arc::new((Mutex::new(Queues::default()), Condvar::new()));
        for i in 0..threads.max(1) {
            let state = state.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("cluster-cmd-{i}"))
                .spawn(move || run(&state));
            if let Err(e) = spawned {
                tracing::error!("cannot start a cluster command thread: {e}");
            }
        }
        Arc::new(CommandRunner { state })
    }

    /// Queue `job` for `module`; false if the queue is full.
    fn submit(&self, module: &str, job: Job) -> bool {
        let (queues, cv) = &*self.state;
        let mut q = queues.lock().unwrap_or_else(|p| p.into_inner());
        if q.total >= limits::COMMANDS_QUEUED {
            return false;
        }
        let queue = q.jobs.entry(module.to_owned()).or_default();
        let first = queue.is_empty();
        queue.push_back(job);
        if first {
            q.ring.push_back(module.to_owned());
        }
        q.total += 1;
        drop(q);
        cv.notify_one();
        true
    }
}

fn run(state: &(Mutex<Queues>, Condvar)) {
    let (queues, cv) = state;
    loop {
        let job = {
            let mut q = queues.lock().unwrap_or_else(|p| p.into_inner());
            loop {
                if let Some(job) = q.next() {
                    break job;
                }
                q = cv.wait(q).unwrap_or_else(|p| p.into_inner());
            }
        };
        // A job that panics (it should not: `execute` contains the cluster's panics) does not
        // take the thread with it.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
    }
}

/// Run `command` on `cluster` and turn its answer into the WIT reply. A cluster source that
/// panics answers EIO: a command a module sent must not take a host thread down.
fn execute(
    cluster: &dyn ClusterSource,
    svc_type: &str,
    svc_id: &str,
    command: &str,
    inbuf: &str,
) -> Reply {
    let out = crate::cluster::command_contained(cluster, svc_type, svc_id, command, inbuf);
    Reply {
        retval: out.retval,
        outb: out.outb,
        outs: out.outs,
    }
}

/// Checks a command before it is sent: a known daemon type, JSON with a string `prefix`, and
/// a grant for that prefix.
fn check(ctx: &ModuleCtx, svc_type: &str, svc_id: &str, command: &str) -> Result<(), GuestError> {
    if !matches!(svc_type, "mon" | "osd" | "mgr") {
        return Err(error(
            ErrorCode::Invalid,
            format!(
                "unknown daemon type '{}': send to mon, osd or mgr",
                crate::sanitize::quote(svc_type)
            ),
        ));
    }
    if svc_id.len() > limits::NAME_BYTES {
        return Err(error(
            ErrorCode::Invalid,
            format!("a daemon id is at most {} bytes", limits::NAME_BYTES),
        ));
    }
    let parsed: serde_json::Value = serde_json::from_str(command).map_err(|e| {
        error(
            ErrorCode::Invalid,
            format!("the command is not JSON ({e}); send an object with a \"prefix\""),
        )
    })?;
    let Some(prefix) = parsed.get("prefix").and_then(serde_json::Value::as_str) else {
        return Err(error(
            ErrorCode::Invalid,
            "the command has no \"prefix\": send an object such as {\"prefix\": \"osd pool ls\"}",
        ));
    };
    ctx.env
        .allow(crate::caps::Cap::Command(crate::caps::Pattern::Exact(
            prefix.to_owned(),
        )))
}

impl Host for ModuleCtx {
    fn send(
        &mut self,
        svc_type: String,
        svc_id: String,
        command: String,
        inbuf: String,
        tag: String,
    ) -> Result<(), GuestError> {
        check(self, &svc_type, &svc_id, &command)?;
        if tag.is_empty() || tag.len() > limits::COMMAND_TAG_BYTES {
            return Err(error(
                ErrorCode::Invalid,
                format!(
                    "a command tag is 1 to {} bytes long",
                    limits::COMMAND_TAG_BYTES
                ),
            ));
        }
        self.env.commands.begin(&tag)?;
        let env = self.env.clone();
        let job_tag = tag.clone();
        let job = Box::new(move || {
            let reply = execute(&*env.cluster, &svc_type, &svc_id, &command, &inbuf);
            if env.commands.complete(&job_tag, reply) {
                env.link
                    .notify_module(&env.name, NotifyKind::Command, &job_tag);
            }
        });
        if !self.env.runner.submit(&self.env.name, job) {
            self.env.commands.forget(&tag);
            return Err(error(
                ErrorCode::Again,
                "the host's cluster command queue is full; try again shortly",
            ));
        }
        Ok(())
    }

    fn take_reply(&mut self, tag: String) -> Option<Reply> {
        self.env.commands.take(&tag)
    }

    fn send_wait(
        &mut self,
        svc_type: String,
        svc_id: String,
        command: String,
        inbuf: String,
        timeout_ms: u32,
    ) -> Result<Reply, GuestError> {
        check(self, &svc_type, &svc_id, &command)?;
        let by_timeout = Instant::now() + Duration::from_millis(u64::from(timeout_ms));
        let until = self.deadline.map_or(by_timeout, |d| d.min(by_timeout));
        let (tx, rx) = sync_channel(1);
        let cluster = self.env.cluster.clone();
        let job = Box::new(move || {
            let _ = tx.send(execute(&*cluster, &svc_type, &svc_id, &command, &inbuf));
        });
        if !self.env.runner.submit(&self.env.name, job) {
            return Err(error(
                ErrorCode::Again,
                "the host's cluster command queue is full; try again shortly",
            ));
        }
        rx.recv_timeout(until.saturating_duration_since(Instant::now()))
            .map_err(|e| match e {
                std::sync::mpsc::RecvTimeoutError::Timeout => error(
                    ErrorCode::TimedOut,
                    format!(
                        "no reply within {timeout_ms} ms or the call's deadline; the command may \
                         still complete: send it with a tag to have its reply later"
                    ),
                ),
                std::sync::mpsc::RecvTimeoutError::Disconnected => error(
                    ErrorCode::Io,
                    "the host lost the command before the cluster answered it; try again",
                ),
            })
    }
}

/// One module's commands in flight and replies not yet taken, by tag.
#[derive(Default)]
pub struct Pending {
    tags: Mutex<std::collections::HashMap<String, Option<Reply>>>,
}

impl Pending {
    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Option<Reply>>> {
        self.tags.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Record `tag` as sent; refused if it is in use or too many are pending.
    fn begin(&self, tag: &str) -> Result<(), GuestError> {
        let mut tags = self.lock();
        if tags.contains_key(tag) {
            return Err(error(
                ErrorCode::Exists,
                format!(
                    "tag '{}' is in use: take its reply first, or use another tag",
                    crate::sanitize::quote(tag)
                ),
            ));
        }
        if tags.len() >= limits::COMMANDS_PENDING {
            return Err(error(
                ErrorCode::Again,
                format!(
                    "{} commands are pending or unclaimed: take their replies (take-reply) before sending more",
                    limits::COMMANDS_PENDING
                ),
            ));
        }
        tags.insert(tag.to_owned(), None);
        Ok(())
    }

    /// Store the reply of `tag`; false if the tag was forgotten meanwhile.
    fn complete(&self, tag: &str, reply: Reply) -> bool {
        match self.lock().get_mut(tag) {
            Some(slot) => {
                *slot = Some(reply);
                true
            }
            None => false,
        }
    }

    fn forget(&self, tag: &str) {
        self.lock().remove(tag);
    }

    /// The reply of `tag` if it has completed, handed over once.
    fn take(&self, tag: &str) -> Option<Reply> {
        let mut tags = self.lock();
        if tags.get(tag).is_some_and(Option::is_some) {
            return tags.remove(tag).flatten();
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_take_turns_on_the_command_threads() {
        let runner = CommandRunner::start(1);
        let order = Arc::new(Mutex::new(Vec::new()));
        let (gate_tx, gate_rx) = sync_channel::<()>(0);
        let (started_tx, started_rx) = sync_channel::<()>(1);
        // The one thread is held by a first job of `a` until the rest are queued.
        runner.submit(
            "a",
            Box::new(move || {
                let _ = started_tx.send(());
                let _ = gate_rx.recv();
            }),
        );
        started_rx.recv().unwrap();
        for (module, n) in [("a", 0), ("a", 1), ("a", 2), ("b", 0)] {
            let order = order.clone();
            assert!(runner.submit(
                module,
                Box::new(move || order.lock().unwrap().push(format!("{module}{n}")))
            ));
        }
        gate_tx.send(()).unwrap();
        let started = std::time::Instant::now();
        while order.lock().unwrap().len() < 4 && started.elapsed().as_secs() < 10 {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        // b's one command runs right after a's first, not after all of a's.
        assert_eq!(*order.lock().unwrap(), ["a0", "b0", "a1", "a2"]);
    }
}
