//! The cases: each is set up once, then run once per round; one run is a fixed batch of
//! operations that records one sample per operation (or one rate per batch).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::json;
use wasmgr_runtime::bindings::NotifyKind;
use wasmgr_runtime::cache::{self, ArtifactCache, CacheOutcome};
use wasmgr_runtime::loader::Loader;
use wasmgr_runtime::manager::{ClientPerm, CommandRequest};

use crate::daemon::{self, Conn, Daemon};
use crate::floor::Floor;
use crate::host::{CountingSource, Dirs, Host};
use crate::native::{self, NativeModule};
use crate::raw::{On, RawHost, RawInstance};
use crate::stats::{Summary, Unit};

/// The command map the host sends the `echo` guest for `echo` (what `Manager::command` builds).
pub const ECHO_CMD: &str = r#"{"prefix":"echo"}"#;

/// The notify fan-out sizes.
pub const FANOUT: &[usize] = &[1, 10, 100, 1000];

/// The module counts of the idle-RSS case.
pub const RSS_COUNTS: &[usize] = &[1, 100, 1000];

/// Samples by case key; nothing is kept during the warm-up round.
#[derive(Default)]
pub struct Recorder {
    samples: BTreeMap<String, (Unit, Vec<f64>)>,
    pub warmup: bool,
}

impl Recorder {
    pub fn push(&mut self, key: &str, unit: Unit, v: f64) {
        if !self.warmup {
            self.samples
                .entry(key.to_owned())
                .or_insert_with(|| (unit, Vec::new()))
                .1
                .push(v);
        }
    }

    pub fn nanos(&mut self, key: &str, d: Duration) {
        self.push(key, Unit::Nanos, d.as_nanos() as f64);
    }

    /// Every sample, by key, as JSON (`--samples`).
    pub fn to_json(&self) -> serde_json::Value {
        self.samples
            .iter()
            .map(|(k, (_, v))| (k.clone(), json!(v)))
            .collect::<serde_json::Map<_, _>>()
            .into()
    }

    pub fn summary(&self, key: &str) -> Option<Summary> {
        self.samples.get(key).and_then(|(u, s)| Summary::of(*u, s))
    }
}

/// One round of one case.
type Case<'a> = Box<dyn FnMut(&mut Recorder) -> Result<()> + 'a>;

/// The cases of a run, in the order they were set up.
#[derive(Default)]
pub struct Cases<'a> {
    list: Vec<(String, Case<'a>)>,
}

impl<'a> Cases<'a> {
    pub fn add(&mut self, key: &str, case: impl FnMut(&mut Recorder) -> Result<()> + 'a) {
        self.list.push((key.to_owned(), Box::new(case)));
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Run every case once, starting at case `round` (mod the count), so no case always runs
    /// right after the same neighbour.
    pub fn round(&mut self, round: usize, rec: &mut Recorder) -> Result<()> {
        let n = self.list.len();
        for i in 0..n {
            let (name, case) = &mut self.list[(i + round) % n];
            case(rec).map_err(|e| e.context(format!("case {name}")))?;
        }
        Ok(())
    }
}

/// `echo` with 1 KB in and out: through the whole in-process host, as a raw wasmtime call, as
/// a native call, and as a native call handed to another thread and back.
pub fn command<'a>(
    cases: &mut Cases<'a>,
    host: &'a Host,
    raw: &mut RawHost,
    echo: &Path,
    inbuf: &str,
) -> Result<()> {
    let req = CommandRequest {
        words: vec!["echo".into()],
        format: None,
        inbuf: inbuf.to_owned(),
    };
    cases.add("cmd.host", move |r| {
        for _ in 0..200 {
            let t = Instant::now();
            let reply = host.manager.command(&req, ClientPerm::Read);
            r.nanos("cmd.host", t.elapsed());
            if reply.retval != 0 || reply.stdout.len() != 1024 {
                bail!("echo through the host: {reply:?}");
            }
        }
        Ok(())
    });

    let pre = raw.prepare(echo)?;
    let mut instance = raw.instantiate(&pre)?;
    let input = inbuf.to_owned();
    cases.add("cmd.raw", move |r| {
        for _ in 0..200 {
            let t = Instant::now();
            let reply = instance.command(ECHO_CMD, &input)?;
            r.nanos("cmd.raw", t.elapsed());
            if reply.retval != 0 || reply.stdout.len() != 1024 {
                bail!("raw echo: retval {} {}", reply.retval, reply.stderr);
            }
        }
        Ok(())
    });

    let actor = native::Actor::spawn()?;
    let input = inbuf.to_owned();
    cases.add("cmd.handoff", move |r| {
        for _ in 0..200 {
            let t = Instant::now();
            // The owned strings mirror the host's `Job::Command`.
            let reply = actor.call(ECHO_CMD.to_owned(), input.clone())?;
            r.nanos("cmd.handoff", t.elapsed());
            if reply.retval != 0 || reply.stdout.len() != 1024 {
                bail!("native echo on a thread: {} {}", reply.retval, reply.stderr);
            }
        }
        Ok(())
    });

    for (key, caller_cpu, actor_cpu) in [("cmd.handoff.same", 0, 0), ("cmd.handoff.cross", 0, 1)] {
        if let Some(pair) = native::PinnedPair::spawn(caller_cpu, actor_cpu, inbuf)? {
            cases.add(key, move |r| {
                for v in pair.run(200)? {
                    r.push(key, Unit::Nanos, v);
                }
                Ok(())
            });
        }
    }

    let mut module: Box<dyn NativeModule> = Box::new(native::Echo);
    let input = inbuf.to_owned();
    cases.add("cmd.native", move |r| {
        for _ in 0..200 {
            let t = Instant::now();
            let reply =
                black_box(&mut module).handle_command(black_box(ECHO_CMD), black_box(&input));
            r.nanos("cmd.native", t.elapsed());
            if reply.retval != 0 || reply.stdout.len() != 1024 {
                bail!("native echo: {} {}", reply.retval, reply.stderr);
            }
        }
        Ok(())
    });
    Ok(())
}

/// `echo` with 1 KB in and out over the real daemon's admin API: one client sequentially, and
/// four clients at once on keep-alive connections; and the same requests to the HTTP floor
/// server (see [`crate::floor`]), which answers with the reply the daemon gave.
pub fn admin(cases: &mut Cases<'_>, daemon: &Daemon, inbuf: &str) -> Result<Floor> {
    let body = json!({ "words": ["echo"], "inbuf": inbuf });
    let mut conn = Conn::open(&daemon.endpoint)?;
    let mut reply = Vec::new();
    conn.send(&conn.command_request(&body), &mut reply)?;
    check_echo_reply(&reply)?;
    let floor = Floor::start(&reply)?;
    http(cases, "admin", &daemon.endpoint, &body)?;
    http(cases, "admin.floor", &floor.endpoint, &body)?;
    Ok(floor)
}

/// `PREFIX.seq`, `PREFIX.4c` and `PREFIX.4c.lat`: `body` posted to `endpoint` by one client
/// sequentially, and by four clients at once.
fn http(
    cases: &mut Cases<'_>,
    prefix: &str,
    endpoint: &daemon::Endpoint,
    body: &serde_json::Value,
) -> Result<()> {
    let mut conn = Conn::open(endpoint)?;
    // Every client has the same endpoint and token, so one request serves them all.
    let req = conn.command_request(body);
    let seq_req = req.clone();
    let key = format!("{prefix}.seq");
    cases.add(&key.clone(), move |r| {
        let mut body = Vec::new();
        for _ in 0..100 {
            let t = Instant::now();
            conn.send(&seq_req, &mut body)?;
            r.nanos(&key, t.elapsed());
            check_echo_reply(&body)?;
        }
        Ok(())
    });

    let mut clients = (0..4)
        .map(|_| Conn::open(endpoint))
        .collect::<Result<Vec<_>>>()?;
    let key = format!("{prefix}.4c");
    cases.add(&key.clone(), move |r| {
        const PER_CLIENT: usize = 250;
        let barrier = Barrier::new(clients.len() + 1);
        let (barrier, req) = (&barrier, &req);
        let (elapsed, results) = std::thread::scope(|s| {
            let handles: Vec<_> = clients
                .iter_mut()
                .map(|c| {
                    s.spawn(move || -> Result<Vec<f64>> {
                        let mut lat = Vec::with_capacity(PER_CLIENT);
                        let mut body = Vec::new();
                        barrier.wait();
                        for _ in 0..PER_CLIENT {
                            let t = Instant::now();
                            c.send(req, &mut body)?;
                            lat.push(t.elapsed().as_nanos() as f64);
                            check_echo_reply(&body)?;
                        }
                        Ok(lat)
                    })
                })
                .collect();
            barrier.wait();
            let t = Instant::now();
            let results: Vec<_> = handles
                .into_iter()
                .map(|h| h.join().map_err(|_| anyhow!("a client thread panicked")))
                .collect();
            (t.elapsed(), results)
        });
        let mut n = 0;
        let lat = format!("{key}.lat");
        for latencies in results {
            for v in latencies?? {
                r.push(&lat, Unit::Nanos, v);
                n += 1;
            }
        }
        r.push(&key, Unit::PerSec, n as f64 / elapsed.as_secs_f64());
        Ok(())
    });
    Ok(())
}

fn check_echo_reply(body: &[u8]) -> Result<()> {
    if !body.starts_with(br#"{"retval":0,"#) || body.len() < 1024 {
        bail!("echo over HTTP: {}", String::from_utf8_lossy(body));
    }
    Ok(())
}

/// A host running `n` copies of the `fan` guest, and the source counting their notifies.
pub struct FanHost {
    host: Host,
    source: Arc<CountingSource>,
    n: usize,
}

/// One fan host per fan-out size.
pub fn fan_hosts(fan: &Path, cache: &Path) -> Result<Vec<FanHost>> {
    FANOUT
        .iter()
        .map(|&n| {
            eprintln!("setup: host with {n} fan modules");
            let source = Arc::new(CountingSource::new());
            let host = crate::host::fan_host(n, fan, cache, source.clone(), n as u32 + 8)?;
            Ok(FanHost { host, source, n })
        })
        .collect()
}

/// One `osd_map` event to every module of a fan host, timed until the last has run its
/// notify; and the same notifies as raw wasmtime calls in a loop over as many instances.
pub fn notify<'a>(
    cases: &mut Cases<'a>,
    hosts: &'a [FanHost],
    raw: &mut RawHost,
    fan: &Path,
) -> Result<()> {
    let pre = raw.prepare(fan)?;
    for h in hosts {
        let (n, reps) = (h.n, notify_reps(h.n));
        let key = format!("notify.host.{n}");
        cases.add(&key.clone(), move |r| {
            for _ in 0..reps {
                h.source.expect(n as u64);
                let t = Instant::now();
                let sent = h.host.manager.notify(NotifyKind::OsdMap, "");
                h.source.wait(Duration::from_secs(30))?;
                r.nanos(&key, t.elapsed());
                if sent != n {
                    bail!("notify cued {sent} of {n} modules");
                }
            }
            Ok(())
        });

        // The floor of any host that runs notifies off the notifying thread: the same raw
        // loop on a thread of its own, handed the event once and answering once.
        let mut instances = (0..n)
            .map(|_| raw.instantiate(&pre))
            .collect::<Result<Vec<_>>>()?;
        let (go, go_rx) = std::sync::mpsc::channel::<()>();
        let (done_tx, done) = std::sync::mpsc::channel::<Result<()>>();
        std::thread::Builder::new()
            .name("bench-raw-notify".into())
            .stack_size(4 << 20)
            .spawn(move || {
                while go_rx.recv().is_ok() {
                    let r = instances
                        .iter_mut()
                        .try_for_each(|i| i.notify(NotifyKind::OsdMap, ""));
                    if done_tx.send(r).is_err() {
                        return;
                    }
                }
            })?;
        let key = format!("notify.raw-thread.{n}");
        cases.add(&key.clone(), move |r| {
            for _ in 0..reps {
                let t = Instant::now();
                go.send(()).context("the raw notify thread has gone")?;
                done.recv().context("the raw notify thread has gone")??;
                r.nanos(&key, t.elapsed());
            }
            Ok(())
        });

        let mut instances = (0..n)
            .map(|_| raw.instantiate(&pre))
            .collect::<Result<Vec<_>>>()?;
        let key = format!("notify.raw.{n}");
        cases.add(&key.clone(), move |r| {
            for _ in 0..reps {
                let before: u64 = instances.iter().map(|i| i.mon_pings()).sum();
                let t = Instant::now();
                for i in &mut instances {
                    i.notify(NotifyKind::OsdMap, "")?;
                }
                r.nanos(&key, t.elapsed());
                let after: u64 = instances.iter().map(|i| i.mon_pings()).sum();
                if after - before != n as u64 {
                    bail!("raw notify: {} of {n} instances ran it", after - before);
                }
            }
            Ok(())
        });
    }
    Ok(())
}

/// Notifies per round: about the same time per size.
fn notify_reps(n: usize) -> usize {
    match n {
        0..=1 => 50,
        2..=10 => 30,
        11..=100 => 10,
        _ => 2,
    }
}

/// A remote call round trip: `rcaller call`, a command whose handler calls `rcallee.ping()`
/// through `remote::call`, through the in-process host; the same module's `rcaller nop` (the
/// same reply without the call: the command path alone); and the floor, the same command as a
/// raw wasmtime call whose `remote.call` import makes the second raw call, into rcallee's
/// `handle-remote`, and that inner call alone.
pub fn remote<'a>(
    cases: &mut Cases<'a>,
    host: &'a Host,
    raw: &mut RawHost,
    rcaller: &Path,
    rcallee: &Path,
) -> Result<()> {
    const PONG: &str = "\"pong\"";
    for (key, word) in [("remote.host", "call"), ("remote.host.nop", "nop")] {
        let req = CommandRequest {
            words: vec!["rcaller".into(), word.into()],
            ..Default::default()
        };
        cases.add(key, move |r| {
            for _ in 0..200 {
                let t = Instant::now();
                let reply = host.manager.command(&req, ClientPerm::Read);
                r.nanos(key, t.elapsed());
                if reply.retval != 0 || reply.stdout != PONG {
                    bail!("rcaller {word} through the host: {reply:?}");
                }
            }
            Ok(())
        });
    }

    let caller = raw.prepare(rcaller)?;
    let callee = raw.prepare(rcallee)?;
    let mut instance = raw.instantiate(&caller)?;
    instance.set_callee(raw.instantiate(&callee)?);
    cases.add("remote.raw", move |r| {
        for _ in 0..200 {
            let t = Instant::now();
            let reply = instance.command(r#"{"prefix":"rcaller call"}"#, "")?;
            r.nanos("remote.raw", t.elapsed());
            if reply.retval != 0 || reply.stdout != PONG {
                bail!("raw rcaller call: retval {} {}", reply.retval, reply.stderr);
            }
        }
        Ok(())
    });

    let mut instance = raw.instantiate(&callee)?;
    cases.add("remote.raw.callee", move |r| {
        for _ in 0..200 {
            let t = Instant::now();
            let reply = instance.handle_remote("ping", "[]")?;
            r.nanos("remote.raw.callee", t.elapsed());
            if reply.as_deref() != Ok(PONG) {
                bail!("raw rcallee ping: {reply:?}");
            }
        }
        Ok(())
    });
    Ok(())
}

/// `Loader::load` of `echo`: from the compile cache on disk (a fresh loader per sample, as a
/// daemon start or the first enable sees it) and again from memory (a re-enable, or another
/// module with the same code); and the parts of the disk path that run no guest code, timed
/// alone to explain the whole.
pub fn enable(
    cases: &mut Cases<'_>,
    fresh_loader: impl Fn() -> Result<Loader> + 'static,
    loader: Arc<Loader>,
    echo: &Path,
    cache: &Path,
) -> Result<()> {
    let echo = echo.to_owned();
    let bytes = std::fs::read(&echo)?;
    let digest = cache::digest(&bytes);
    let artifacts = ArtifactCache::new(cache, loader.engine());
    // Make sure the artifact exists before looking for its file.
    drop(artifacts.load(loader.engine(), &echo, &bytes, &digest)?);
    let artifact_file = artifacts.file(&digest);
    cases.add("enable.rust", move |r| {
        for _ in 0..5 {
            let cold = fresh_loader()?;
            let t = Instant::now();
            let (module, instance) = cold.load("echo", &echo)?;
            r.nanos("enable.rust", t.elapsed());
            if module.cache != CacheOutcome::Hit {
                bail!(
                    "echo was not loaded from the compile cache: {:?}",
                    module.cache
                );
            }
            drop(instance);

            let t = Instant::now();
            let (module, instance) = loader.load("echo", &echo)?;
            r.nanos("enable.rust.memory", t.elapsed());
            if module.cache != CacheOutcome::Memory {
                bail!("echo was not reused from memory: {:?}", module.cache);
            }
            drop(instance);

            let t = Instant::now();
            black_box(cache::digest(black_box(&bytes)));
            r.nanos("enable.digest", t.elapsed());
            let t = Instant::now();
            let (component, outcome) = artifacts.load(loader.engine(), &echo, &bytes, &digest)?;
            r.nanos("enable.artifact", t.elapsed());
            if outcome != CacheOutcome::Hit {
                bail!("echo's artifact was not read from the cache: {outcome:?}");
            }
            drop(component);
            let t = Instant::now();
            black_box(std::fs::read(&artifact_file)?);
            r.nanos("enable.artifact.read", t.elapsed());
        }
        Ok(())
    });
    Ok(())
}

/// What the actor does after a trap (drop the store, instantiate again), alone through the
/// loader; and end to end, a trapping command through the host, whose reply comes after the
/// restart. Also times `Supervisor::enable`, which each end-to-end sample needs anyway.
pub fn restart<'a>(
    cases: &mut Cases<'a>,
    loader: Arc<Loader>,
    host: &'a Host,
    echo: &Path,
) -> Result<()> {
    let (module, instance) = loader.load("echo", echo)?;
    let mut instance = Some(instance);
    cases.add("restart.instantiate", move |r| {
        for _ in 0..20 {
            let t = Instant::now();
            drop(instance.take());
            instance = Some(
                loader
                    .instantiate(&module)
                    .map_err(|e| anyhow!("instantiate: {e}"))?,
            );
            r.nanos("restart.instantiate", t.elapsed());
        }
        Ok(())
    });

    let crash = CommandRequest {
        words: vec!["compute".into(), "crash".into()],
        ..Default::default()
    };
    cases.add("restart.trap", move |r| {
        let sup = host.manager.supervisor();
        for _ in 0..3 {
            // A fresh enable clears the trap window, so the restart is the immediate first one
            // rather than a backed-off later one.
            sup.disable("compute")
                .map_err(|e| anyhow!("{}", e.message))?;
            let t = Instant::now();
            sup.enable("compute")
                .map_err(|e| anyhow!("{}", e.message))?;
            r.nanos("enable.supervisor", t.elapsed());
            let t = Instant::now();
            let reply = host.manager.command(&crash, ClientPerm::ReadWrite);
            r.nanos("restart.trap", t.elapsed());
            if reply.retval == 0 || !reply.stderr.contains("restarted") {
                bail!("compute crash did not restart the module: {reply:?}");
            }
        }
        Ok(())
    });
    Ok(())
}

/// One way of computing the Collatz steps of 1..=n; returns the total.
type CollatzCall = Box<dyn FnMut() -> Result<u64>>;

/// The `compute` guest's Collatz loop as raw calls: on the host's engine configuration, on the
/// same configuration with only fuel or only epoch interruption, and with neither; on x86-64
/// also its compiled inner loop replayed natively in three shapes (`loops`). One case whose
/// calls alternate between all of them, so that each sees the same machine: a loop with the
/// checks compiled in is slowed more by a busy neighbour than one without.
pub fn fuel(cases: &mut Cases<'_>, cache: &Path, compute: &Path, n: u64) -> Result<()> {
    let cmd = json!({ "prefix": "compute collatz", "n": n }).to_string();
    let expected = collatz_steps(n);
    let mut variants: Vec<(&str, CollatzCall)> = Vec::new();
    let mut guest = |key: &'static str, mut instance: RawInstance, host: RawHost| {
        let cmd = cmd.clone();
        let call = move || -> Result<u64> {
            // The instance keeps its engine alive; the host is kept for its epoch ticker.
            let _ = &host;
            let reply = instance.command(&cmd, "")?;
            reply
                .stdout
                .parse()
                .map_err(|_| anyhow!("collatz: '{}' {}", reply.stdout, reply.stderr))
        };
        variants.push((key, Box::new(call)));
    };
    for (key, fuel, epoch) in [
        ("fuel.on", true, true),
        ("fuel.fuel_only", true, false),
        ("fuel.epoch_only", false, true),
        ("fuel.off", false, false),
    ] {
        let mut raw = RawHost::with(cache, 4, On { fuel, epoch })?;
        let pre = raw.prepare(compute)?;
        guest(key, raw.instantiate(&pre)?, raw);
    }
    #[cfg(target_arch = "x86_64")]
    {
        use crate::loops::{Epoch, Shape};
        let epoch = Arc::new(Epoch::start()?);
        for (key, shape) in [
            ("fuel.asm_plain", Shape::Plain),
            ("fuel.asm_checks", Shape::Checks),
            ("fuel.asm_spilled", Shape::Spilled),
        ] {
            let epoch = epoch.clone();
            variants.push((key, Box::new(move || epoch.run(shape, n))));
        }
    }
    cases.add("fuel", move |r| {
        for i in 0..3 {
            let k = variants.len();
            for j in 0..k {
                let (key, call) = &mut variants[(i + j) % k];
                let t = Instant::now();
                let total = call()?;
                r.nanos(key, t.elapsed());
                if total != expected {
                    bail!("{key}: {total} Collatz steps, expected {expected}");
                }
            }
        }
        Ok(())
    });
    Ok(())
}

/// The capability check every host call that reaches outside its module makes
/// (`ModuleEnv::allow` on the allowed path: the effective set scanned, the use counted in the
/// ledger), against the least any per-call counting costs: a `HashMap<String, u64>` increment.
pub fn caps(cases: &mut Cases<'_>, data: &Path) -> Result<()> {
    use wasmgr_runtime::caps::{Cap, Effective, Requests};
    use wasmgr_runtime::ledger::Ledger;
    use wasmgr_runtime::persist::SqliteStore;
    let parse = |s: &str| s.parse::<Cap>().map_err(anyhow::Error::msg);
    // What an example module with a typical manifest runs with.
    let required = [
        "get:osd_map",
        "get:pg_summary",
        "get:io_rate",
        "store",
        "health",
        "cluster-log",
        "tick",
        "command:osd pool create",
    ]
    .iter()
    .map(|s| parse(s))
    .collect::<Result<Vec<_>>>()?;
    let requests = Requests {
        required: required.clone(),
        optional: Vec::new(),
    };
    let effective = Arc::new(std::sync::RwLock::new(Arc::new(Effective::new(
        &requests, &required, false,
    ))));
    let ledger = Ledger::start(Arc::new(SqliteStore::open(data)?));
    let access = parse("get:osd_map")?;
    let mut counts: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    const N: usize = 10_000;
    cases.add("caps", move |r| {
        let t = Instant::now();
        for _ in 0..N {
            let caps = effective.read().map_err(|_| anyhow!("poisoned"))?.clone();
            if !caps.allows(black_box(&access)) {
                bail!("get:osd_map not allowed");
            }
            ledger.used("bench", &access);
        }
        r.nanos("caps.check", t.elapsed() / N as u32);
        let t = Instant::now();
        for _ in 0..N {
            *counts
                .entry(black_box("get:osd_map").to_owned())
                .or_default() += 1;
        }
        r.nanos("caps.baseline", t.elapsed() / N as u32);
        Ok(())
    });
    Ok(())
}

/// What the `compute` guest returns for `n`.
pub fn collatz_steps(n: u64) -> u64 {
    let mut total = 0u64;
    for start in 1..=n {
        let mut x = start;
        while x != 1 {
            x = if x % 2 == 0 { x / 2 } else { 3 * x + 1 };
            total += 1;
        }
    }
    total
}

/// The real daemon started on the example modules with a warm compile cache, timed until
/// `module ls` shows every module running. The data directory is reused, so each start after
/// the warm-up round is a restart of an existing installation.
pub fn coldstart(
    cases: &mut Cases<'_>,
    wasmgr: &Path,
    dirs: &Dirs,
    examples: &Path,
    cache: &Path,
) -> Result<()> {
    let mut expected = 0;
    for entry in std::fs::read_dir(examples)? {
        let path = entry?.path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        match path.extension().and_then(|e| e.to_str()) {
            Some("wasm") => {
                dirs.add(&path, stem)?;
                expected += 1;
            }
            Some("toml") => {
                std::os::unix::fs::symlink(&path, dirs.modules().join(format!("{stem}.toml")))?
            }
            _ => {}
        }
    }
    let (wasmgr, data, modules, cache) = (
        wasmgr.to_owned(),
        dirs.data(),
        dirs.modules(),
        cache.to_owned(),
    );
    cases.add("coldstart", move |r| {
        let t = Instant::now();
        let d = Daemon::start(&wasmgr, &data, &modules, &cache)?;
        let mut conn = Conn::open(&d.endpoint)?;
        while !daemon::all_running(&mut conn, expected)? {
            if t.elapsed() > Duration::from_secs(60) {
                bail!("the example modules were not all running after 60 s");
            }
            std::thread::sleep(Duration::from_micros(100));
        }
        r.nanos("coldstart", t.elapsed());
        Ok(())
    });
    Ok(())
}
