//! The native baseline: the echo command as a Rust trait object, doing the guest's work
//! (parse the command map, dispatch on the prefix, copy the input to the output) with no wasm.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use anyhow::{Result, anyhow};
use serde_json::Value;

use crate::cases::ECHO_CMD;

/// What a native module would implement.
pub trait NativeModule {
    /// Run one command: `cmd` is the command map as JSON.
    fn handle_command(&mut self, cmd: &str, inbuf: &str) -> NativeReply;
}

/// A command's outcome.
#[derive(Debug, Default)]
pub struct NativeReply {
    pub retval: i32,
    pub stdout: String,
    pub stderr: String,
}

/// The `echo` guest, natively.
pub struct Echo;

impl NativeModule for Echo {
    fn handle_command(&mut self, cmd: &str, inbuf: &str) -> NativeReply {
        let prefix = match serde_json::from_str::<Value>(cmd) {
            Ok(Value::Object(mut map)) => match map.remove("prefix") {
                Some(Value::String(p)) => p,
                _ => return error("the command map has no string 'prefix'"),
            },
            _ => return error("the command map is not a JSON object"),
        };
        match prefix.as_str() {
            "echo" => NativeReply {
                retval: 0,
                stdout: inbuf.to_owned(),
                stderr: String::new(),
            },
            other => error(&format!("no command '{other}'")),
        }
    }
}

fn error(message: &str) -> NativeReply {
    NativeReply {
        retval: -22,
        stdout: String::new(),
        stderr: message.to_owned(),
    }
}

/// A mailbox job: command map, input, where to answer.
type Job = (String, String, SyncSender<NativeReply>);

/// A native module on a thread of its own, called through a bounded channel of jobs, each with
/// a fresh one-slot reply channel. The difference from a direct call is the cost of handing a
/// call to another thread and back, as every queued call to a module pays.
pub struct Actor {
    tx: SyncSender<Job>,
}

impl Actor {
    pub fn spawn() -> Result<Actor> {
        Actor::spawn_on(None)
    }

    /// The actor's thread pinned to `cpu`, if given; an error if it cannot be pinned.
    fn spawn_on(cpu: Option<usize>) -> Result<Actor> {
        let (tx, rx) = sync_channel(256);
        let (ready_tx, ready) = sync_channel(1);
        std::thread::Builder::new()
            .name("native-actor".into())
            .spawn(move || {
                let pinned = cpu.map_or(Ok(()), pin_current);
                let ok = pinned.is_ok();
                let _ = ready_tx.send(pinned);
                if ok {
                    serve(rx);
                }
            })?;
        ready
            .recv()
            .map_err(|_| anyhow!("the native actor did not start"))??;
        Ok(Actor { tx })
    }

    pub fn call(&self, cmd: String, inbuf: String) -> Result<NativeReply> {
        let (reply, answer) = sync_channel(1);
        self.tx
            .try_send((cmd, inbuf, reply))
            .map_err(|_| anyhow!("the native actor is gone or busy"))?;
        answer
            .recv()
            .map_err(|_| anyhow!("the native actor dropped the call"))
    }
}

fn serve(rx: Receiver<Job>) {
    let mut module = Echo;
    while let Ok((cmd, inbuf, reply)) = rx.recv() {
        let _ = reply.send(module.handle_command(&cmd, &inbuf));
    }
}

/// A caller thread and an [`Actor`], each pinned to a CPU, for the cost of the hand-off alone
/// when both share a CPU and when the wake-up has to reach the other one. (Unpinned threads
/// land either way, and on a VM the two costs differ several-fold.)
pub struct PinnedPair {
    tx: SyncSender<(usize, SyncSender<Result<Vec<f64>>>)>,
}

impl PinnedPair {
    /// The caller sends `inbuf` with every call. `None` if the threads cannot be pinned (no
    /// `taskset`, or fewer CPUs than asked for).
    pub fn spawn(caller_cpu: usize, actor_cpu: usize, inbuf: &str) -> Result<Option<PinnedPair>> {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        if caller_cpu.max(actor_cpu) >= cpus {
            return Ok(None);
        }
        let (tx, rx) = sync_channel::<(usize, SyncSender<Result<Vec<f64>>>)>(1);
        let (ready_tx, ready) = sync_channel(1);
        let input = inbuf.to_owned();
        std::thread::Builder::new()
            .name("pinned-caller".into())
            .spawn(move || {
                let setup = pin_current(caller_cpu).and_then(|()| Actor::spawn_on(Some(actor_cpu)));
                let actor = match setup {
                    Ok(a) => {
                        let _ = ready_tx.send(Ok(()));
                        a
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                while let Ok((n, answer)) = rx.recv() {
                    let samples = (0..n)
                        .map(|_| {
                            let t = std::time::Instant::now();
                            actor
                                .call(ECHO_CMD.to_owned(), input.clone())
                                .map(|_| t.elapsed().as_nanos() as f64)
                        })
                        .collect();
                    let _ = answer.send(samples);
                }
            })?;
        match ready.recv() {
            Ok(Ok(())) => Ok(Some(PinnedPair { tx })),
            Ok(Err(e)) => {
                eprintln!("note: cannot pin threads ({e:#}); skipping the pinned hand-off rows");
                Ok(None)
            }
            Err(_) => Ok(None),
        }
    }

    /// `n` timed calls.
    pub fn run(&self, n: usize) -> Result<Vec<f64>> {
        let (answer, samples) = sync_channel(1);
        self.tx
            .send((n, answer))
            .map_err(|_| anyhow!("the pinned caller is gone"))?;
        samples
            .recv()
            .map_err(|_| anyhow!("the pinned caller dropped the run"))?
    }
}

/// Pin the calling thread to `cpu` with `taskset` (std has no affinity call, and the bench
/// keeps to safe code).
fn pin_current(cpu: usize) -> Result<()> {
    let me = std::fs::read_link("/proc/thread-self")?;
    let tid = me
        .file_name()
        .and_then(|t| t.to_str())
        .ok_or_else(|| anyhow!("cannot read this thread's id"))?
        .to_owned();
    let status = std::process::Command::new("taskset")
        .args(["-p", "-c", &cpu.to_string(), &tid])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()?;
    if !status.success() {
        anyhow::bail!("taskset -p -c {cpu} {tid} failed ({status})");
    }
    Ok(())
}
