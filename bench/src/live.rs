//! The cases on the simulated cluster (`wasmgr-sim`): `get()` of large documents through a
//! module, a scrape-style module rendering Prometheus text, and notify fan-out of the events
//! the simulator produces.

use std::hint::black_box;
use std::path::Path;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use wasmgr_runtime::bindings::NotifyKind;
use wasmgr_runtime::cluster::{ClusterSource, SimSource};
use wasmgr_runtime::manager::{ClientPerm, CommandRequest, notify_kind};
use wasmgr_sim::Sim;

use crate::cases::Cases;
use crate::host::{self, CountingSource, Dirs, Host};
use crate::raw::{RawHost, RawInstance};
use crate::render;
use crate::stats::Unit;

/// The cluster sizes of the get and scrape cases.
pub const SIZES: &[usize] = &[1_000, 10_000];

/// The documents the get case reads through a module, at every size. (`pg_dump` is 72 MB at
/// 1,000 OSDs and 505 MB at 10,000, over a module's 64 MiB of memory: it is read host-side
/// only.)
pub const GUEST_DOCS: &[&str] = &["osd_map", "osd_stats"];

/// The documents the get case reads host-side, at every size.
pub const HOST_DOCS: &[&str] = &["osd_map", "osd_stats", "pg_dump"];

/// Modules subscribed to the simulator's events in the simulated notify case.
pub const SIM_FANOUT: usize = 1000;

/// The settings string of a simulated cluster of `osds` OSDs. The pace is an hour: its clock
/// never steps during a run, so every document stays at one version (rendered once, at setup)
/// unless a case steps the simulator by hand.
fn settings(osds: usize) -> String {
    format!("osds={osds},seed=1,pace=3600000")
}

/// A host on a simulated cluster with the `getter` and `scrape` guests.
pub struct SimHost {
    osds: usize,
    sim: Arc<Sim>,
    source: Arc<SimSource>,
    host: Host,
}

/// Guest components the simulated-cluster hosts load.
pub struct Guests<'a> {
    pub getter: &'a Path,
    pub scrape: &'a Path,
}

/// One host per cluster size, each document the cases read rendered once up front.
pub fn sim_hosts(guests: &Guests<'_>, cache: &Path) -> Result<Vec<SimHost>> {
    SIZES
        .iter()
        .map(|&osds| {
            eprintln!("setup: simulated cluster of {osds} OSDs, host with getter and scrape");
            let sim = Arc::new(
                Sim::from_config(&settings(osds)).map_err(|e| anyhow!("simulated cluster: {e}"))?,
            );
            for name in HOST_DOCS.iter().chain(&render::DOCS) {
                sim.get(name)
                    .map_err(|e| anyhow!("the simulator has no '{name}': {e}"))?;
            }
            let source = Arc::new(SimSource::new(sim.clone()));
            let dirs = Dirs::new()?;
            dirs.add(guests.getter, "getter")?;
            dirs.add(guests.scrape, "scrape")?;
            let host = host::start(dirs, source.clone(), 8, cache)?;
            Ok(SimHost {
                osds,
                sim,
                source,
                host,
            })
        })
        .collect()
}

/// A command to one of the hosts' modules.
fn request(words: &[&str]) -> CommandRequest {
    CommandRequest {
        words: words.iter().map(|w| (*w).to_owned()).collect(),
        ..Default::default()
    }
}

/// `get(name)` through a module (`getter len NAME`: the host call copies the document into the
/// module, which answers its length), host-side (`SimSource::get`: the copy of the cached
/// document the host hands on), and the floor: a memcpy of the same bytes into a fresh buffer.
pub fn get<'a>(cases: &mut Cases<'a>, hosts: &'a [SimHost]) -> Result<()> {
    for h in hosts {
        let n = h.osds;
        for &name in HOST_DOCS {
            let doc = h
                .sim
                .get(name)
                .map_err(|e| anyhow!("the simulator has no '{name}': {e}"))?;
            let len = doc.len();
            // Fewer repetitions for larger documents: about the same time per round.
            let reps = (4_000_000 / len).clamp(1, 20);
            let key = format!("get.host.{name}.{n}");
            cases.add(&key.clone(), move |r| {
                for _ in 0..reps {
                    let t = Instant::now();
                    let text = h.source.get(name).map_err(|e| anyhow!("{e}"))?;
                    black_box(&text);
                    drop(text);
                    r.nanos(&key, t.elapsed());
                }
                Ok(())
            });

            let key = format!("get.memcpy.{name}.{n}");
            let size_key = format!("size.{name}.{n}");
            let bytes = doc.clone();
            cases.add(&key.clone(), move |r| {
                r.push(&size_key, Unit::Bytes, bytes.len() as f64);
                for _ in 0..reps {
                    let t = Instant::now();
                    let mut copy = Vec::<u8>::with_capacity(bytes.len());
                    copy.extend_from_slice(black_box(bytes.as_bytes()));
                    black_box(&copy);
                    drop(copy);
                    r.nanos(&key, t.elapsed());
                }
                Ok(())
            });

            if !GUEST_DOCS.contains(&name) {
                continue;
            }
            let req = request(&["getter", "len", name]);
            let expected = len.to_string();
            let reply = h.host.manager.command(&req, ClientPerm::Read);
            if reply.retval != 0 || reply.stdout != expected {
                bail!("getter len {name} at {n} OSDs: {reply:?}, expected {expected}");
            }
            let key = format!("get.guest.{name}.{n}");
            cases.add(&key.clone(), move |r| {
                for _ in 0..reps {
                    let t = Instant::now();
                    let reply = h.host.manager.command(&req, ClientPerm::Read);
                    r.nanos(&key, t.elapsed());
                    if reply.retval != 0 || reply.stdout != expected {
                        bail!("getter len {name}: {reply:?}");
                    }
                }
                Ok(())
            });
        }
    }
    Ok(())
}

/// The four documents rendered natively, as the `scrape` guest renders them (the same code,
/// `render.rs`), from the simulator's cached text.
fn native_scrape(sim: &Sim) -> Result<String> {
    let mut out = String::new();
    for name in render::DOCS {
        let json = sim
            .get(name)
            .map_err(|e| anyhow!("the simulator has no '{name}': {e}"))?;
        render::render(name, &json, &mut out).map_err(|e| anyhow!("{e}"))?;
    }
    Ok(out)
}

/// `scrape metrics` through the host (the four `get()` calls, parse, render, the reply), the
/// four `get()` calls alone (`scrape fetch`), and the native rendering from the same JSON.
pub fn scrape<'a>(cases: &mut Cases<'a>, hosts: &'a [SimHost]) -> Result<()> {
    for h in hosts {
        let n = h.osds;
        let native = native_scrape(&h.sim)?;
        let metrics = request(&["scrape", "metrics"]);
        let reply = h.host.manager.command(&metrics, ClientPerm::Read);
        if reply.retval != 0 {
            bail!(
                "scrape metrics at {n} OSDs failed ({}): {}",
                reply.retval,
                reply.stderr
            );
        }
        if reply.stdout != native {
            bail!(
                "scrape metrics at {n} OSDs answered {} bytes, the native rendering {} bytes: they \
                 should be the same text",
                reply.stdout.len(),
                native.len()
            );
        }
        eprintln!(
            "setup: scrape at {n} OSDs renders {} bytes, {} samples",
            native.len(),
            native.lines().filter(|l| !l.starts_with('#')).count()
        );
        let reps = if n <= 1_000 { 3 } else { 1 };
        let expected = native.len();
        let key = format!("scrape.{n}");
        let size_key = format!("size.scrape.{n}");
        cases.add(&key.clone(), move |r| {
            r.push(&size_key, Unit::Bytes, expected as f64);
            for _ in 0..reps {
                let t = Instant::now();
                let reply = h.host.manager.command(&metrics, ClientPerm::Read);
                r.nanos(&key, t.elapsed());
                if reply.retval != 0 || reply.stdout.len() != expected {
                    bail!(
                        "scrape metrics: retval {}, {} bytes: {}",
                        reply.retval,
                        reply.stdout.len(),
                        reply.stderr
                    );
                }
            }
            Ok(())
        });

        let fetch = request(&["scrape", "fetch"]);
        let total: usize = render::DOCS
            .iter()
            .map(|name| h.sim.get(name).map(|d| d.len()))
            .sum::<Result<usize, _>>()
            .map_err(|e| anyhow!("{e}"))?;
        let key = format!("scrape.fetch.{n}");
        cases.add(&key.clone(), move |r| {
            for _ in 0..reps {
                let t = Instant::now();
                let reply = h.host.manager.command(&fetch, ClientPerm::Read);
                r.nanos(&key, t.elapsed());
                if reply.retval != 0 || reply.stdout != total.to_string() {
                    bail!("scrape fetch: {reply:?}, expected {total}");
                }
            }
            Ok(())
        });

        let key = format!("scrape.native.{n}");
        cases.add(&key.clone(), move |r| {
            for _ in 0..reps {
                let t = Instant::now();
                let out = native_scrape(black_box(&h.sim))?;
                r.nanos(&key, t.elapsed());
                if out.len() != expected {
                    bail!("native scrape: {} bytes, expected {expected}", out.len());
                }
            }
            Ok(())
        });
    }
    Ok(())
}

/// A host with [`SIM_FANOUT`] copies of the `fan` guest on a simulated cluster of 1,000 OSDs.
pub struct SimFanHost {
    sim: Arc<Sim>,
    source: Arc<CountingSource>,
    host: Host,
}

pub fn sim_fan_host(fan: &Path, cache: &Path) -> Result<SimFanHost> {
    eprintln!("setup: simulated cluster of 1000 OSDs, host with {SIM_FANOUT} fan modules");
    let sim = Arc::new(
        Sim::from_config(&settings(1_000)).map_err(|e| anyhow!("simulated cluster: {e}"))?,
    );
    let source = Arc::new(CountingSource::over(Arc::new(SimSource::new(sim.clone()))));
    let host = host::fan_host(
        SIM_FANOUT,
        fan,
        cache,
        source.clone(),
        SIM_FANOUT as u32 + 8,
    )?;
    Ok(SimFanHost { sim, source, host })
}

/// Simulated seconds per step: one stats period, so every step reports (`pg_summary`,
/// `health`) and most log a line (`clog`).
const STEP: Duration = Duration::from_secs(5);

/// Each round steps the simulator by [`STEP`] and hands each event it produced to
/// `Manager::notify`, as `SimSource`'s sink does, timed until all subscribed modules ran it;
/// then all of the step's events again, back to back as the clock delivers them. The same
/// events also go to [`SIM_FANOUT`] raw instances of the same guest, in a loop on the bench
/// thread, and split over two threads of their own (the floor of a host using two vCPUs).
pub fn sim_notify<'a>(
    cases: &mut Cases<'a>,
    h: &'a SimFanHost,
    raw: &mut RawHost,
    fan: &Path,
) -> Result<()> {
    let wait = Duration::from_secs(30);
    let pre = raw.prepare(fan)?;
    let mut instances = (0..SIM_FANOUT)
        .map(|_| raw.instantiate(&pre))
        .collect::<Result<Vec<_>>>()?;
    let mut halves = Vec::new();
    for _ in 0..2 {
        halves.push(
            (0..SIM_FANOUT / 2)
                .map(|_| raw.instantiate(&pre))
                .collect::<Result<Vec<_>>>()?,
        );
    }
    let gang = RawGang::start(halves)?;
    cases.add("notify.sim", move |r| {
        for _ in 0..2 {
            let t = Instant::now();
            let events = h.sim.step(STEP);
            r.nanos("notify.sim.step", t.elapsed());
            let events: Vec<_> = events
                .into_iter()
                .map(|e| {
                    notify_kind(e.kind.as_str())
                        .map(|kind| (kind, e.id, e.kind.as_str()))
                        .with_context(|| format!("the host knows no notify '{}'", e.kind.as_str()))
                })
                .collect::<Result<_>>()?;
            for (kind, id, name) in &events {
                h.source.reset();
                let t = Instant::now();
                let sent = h.host.manager.notify(*kind, id);
                r.nanos("notify.sim.queue", t.elapsed());
                h.source.wait_for(sent as u64, wait)?;
                let took = t.elapsed();
                r.nanos("notify.sim", took);
                r.nanos(&format!("notify.sim.{name}"), took);
                if sent != SIM_FANOUT {
                    bail!("a {name} notify cued {sent} of {SIM_FANOUT} modules");
                }

                let before: u64 = instances.iter().map(|i| i.mon_pings()).sum();
                let t = Instant::now();
                for i in &mut instances {
                    i.notify(*kind, id)?;
                }
                let took = t.elapsed();
                r.nanos("notify.sim.raw", took);
                r.nanos(&format!("notify.sim.raw.{name}"), took);
                let after: u64 = instances.iter().map(|i| i.mon_pings()).sum();
                if after - before != SIM_FANOUT as u64 {
                    bail!("raw notify: {} of {SIM_FANOUT} ran it", after - before);
                }

                let t = Instant::now();
                gang.notify(*kind, id)?;
                let took = t.elapsed();
                r.nanos("notify.sim.raw2", took);
                r.nanos(&format!("notify.sim.raw2.{name}"), took);
            }
            h.source.reset();
            let t = Instant::now();
            let sent: usize = events
                .iter()
                .map(|(kind, id, _)| h.host.manager.notify(*kind, id))
                .sum();
            h.source.wait_for(sent as u64, wait)?;
            r.nanos("notify.sim.all", t.elapsed());
        }
        Ok(())
    });
    Ok(())
}

/// Raw instances split over threads of their own, each handed every event and answering
/// through std channels when its instances have all run it.
struct RawGang {
    go: Vec<mpsc::Sender<(NotifyKind, String)>>,
    done: mpsc::Receiver<Result<()>>,
}

impl RawGang {
    fn start(groups: Vec<Vec<RawInstance>>) -> Result<RawGang> {
        let (done_tx, done) = mpsc::channel();
        let mut go = Vec::new();
        for mut instances in groups {
            let (tx, rx) = mpsc::channel::<(NotifyKind, String)>();
            let done_tx = done_tx.clone();
            std::thread::Builder::new()
                .name("bench-raw-gang".into())
                .stack_size(4 << 20)
                .spawn(move || {
                    while let Ok((kind, id)) = rx.recv() {
                        let r = instances.iter_mut().try_for_each(|i| i.notify(kind, &id));
                        if done_tx.send(r).is_err() {
                            return;
                        }
                    }
                })?;
            go.push(tx);
        }
        Ok(RawGang { go, done })
    }

    /// One event to every thread's instances; returns when all have run it.
    fn notify(&self, kind: NotifyKind, id: &str) -> Result<()> {
        for tx in &self.go {
            tx.send((kind, id.to_owned()))
                .context("a raw notify thread has gone")?;
        }
        for _ in &self.go {
            self.done.recv().context("a raw notify thread has gone")??;
        }
        Ok(())
    }
}
