//! `cargo xtask bench`: every wasmgr benchmark in one run, printed as one markdown table.
//!
//! Cases run round-robin: each round runs every case once (a fixed batch of operations), so
//! noise from other work on the machine lands on all cases alike, and the ratios between a
//! case and its baselines, measured in the same rounds, stay meaningful. The first round warms
//! caches and is not counted. The bench reports; it asserts nothing.

mod cases;
mod daemon;
mod floor;
mod host;
mod live;
#[cfg(target_arch = "x86_64")]
mod loops;
mod machine;
mod native;
mod raw;
// The scrape guest's rendering, shared with the native baseline.
#[path = "../guests/scrape/src/render.rs"]
mod render;
mod report;
mod rss;
mod stats;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use wasmgr_runtime::cluster::SnapshotSource;
use wasmgr_runtime::engine;
use wasmgr_runtime::health::HealthBoard;
use wasmgr_runtime::limits::Limits;
use wasmgr_runtime::loader::{Loader, Services};
use wasmgr_runtime::persist::SqliteStore;

use crate::cases::{Cases, RSS_COUNTS, Recorder};
use crate::daemon::Daemon;
use crate::host::Dirs;
use crate::raw::RawHost;
use crate::stats::Unit;

const USAGE: &str = "usage: wasmgr-bench [--rounds N] [--quick] [--only GROUP] [--wasmgr PATH]
                    [--collatz N] [--samples FILE]
       wasmgr-bench compile LIMITS WASM OUT

Runs every benchmark case round by round and prints a markdown table: median, p99, spread
and the ratio to the baselines measured in the same run. Run it through `cargo xtask bench`,
which builds the guests, the example modules and the daemon first.

  --rounds N     measured rounds (default 100; 8 with --quick); a warm-up round comes first
  --quick        fewer rounds and RSS repeats, for trying the bench out
  --only GROUP   only the cases of one group: cmd, admin, notify, enable, restart, fuel,
                 coldstart, rss, get, scrape, remote, caps
  --wasmgr PATH  the daemon binary (default: `wasmgr` next to this binary)
  --collatz N    the compute guest's work per call: Collatz steps of 1..=N (default 20000)
  --samples FILE also write every sample (nanoseconds, /s or bytes) to FILE as JSON

`compile` writes the component WASM compiled with the engine settings of one fuel case
(LIMITS: on, fuel_only, epoch_only or off; the host's settings are `on`) to OUT, an ELF file
to read with `objdump -d`.";

struct Opts {
    rounds: usize,
    quick: bool,
    only: Option<String>,
    wasmgr: Option<PathBuf>,
    collatz: u64,
    samples: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("__rss-child") => rss_child(&args[1..]),
        Some("__http-floor") => floor::serve(),
        Some("compile") => compile(&args[1..]),
        _ => match parse(&args) {
            Ok(Some(opts)) => run(&opts),
            Ok(None) => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            Err(e) => {
                eprintln!("wasmgr-bench: {e}\n\n{USAGE}");
                return ExitCode::from(2);
            }
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wasmgr-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn parse(args: &[String]) -> Result<Option<Opts>> {
    let mut o = Opts {
        rounds: 0,
        quick: false,
        only: None,
        wasmgr: None,
        collatz: 20_000,
        samples: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "-h" | "--help" => return Ok(None),
            "--quick" => o.quick = true,
            "--rounds" => o.rounds = value()?.parse().context("--rounds: a number")?,
            "--only" => o.only = Some(value()?.clone()),
            "--wasmgr" => o.wasmgr = Some(PathBuf::from(value()?)),
            "--collatz" => o.collatz = value()?.parse().context("--collatz: a number")?,
            "--samples" => o.samples = Some(PathBuf::from(value()?)),
            other => bail!("unknown option '{other}'"),
        }
    }
    if o.rounds == 0 {
        o.rounds = if o.quick { 8 } else { 100 };
    }
    Ok(Some(o))
}

fn rss_child(args: &[String]) -> Result<()> {
    let [n, fan, cache] = args else {
        bail!("__rss-child N FAN_WASM CACHE_DIR");
    };
    rss::child(n.parse()?, Path::new(fan), Path::new(cache))
}

fn compile(args: &[String]) -> Result<()> {
    let [limits, wasm, out] = args else {
        bail!("usage: wasmgr-bench compile LIMITS WASM OUT");
    };
    let (fuel, epoch) = match limits.as_str() {
        "on" => (true, true),
        "fuel_only" => (true, false),
        "epoch_only" => (false, true),
        "off" => (false, false),
        other => bail!("unknown LIMITS '{other}': one of on, fuel_only, epoch_only, off"),
    };
    raw::precompile(raw::On { fuel, epoch }, Path::new(wasm), Path::new(out))
}

/// Where things are.
struct Paths {
    root: PathBuf,
    echo: PathBuf,
    compute: PathBuf,
    fan: PathBuf,
    getter: PathBuf,
    scrape: PathBuf,
    rcaller: PathBuf,
    rcallee: PathBuf,
    /// The staged example modules (`cargo xtask guests`).
    examples: PathBuf,
    /// The compile cache every host of the bench shares, kept between runs.
    cache: PathBuf,
}

impl Paths {
    fn find() -> Result<Paths> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .context("the bench crate has no parent directory")?
            .to_owned();
        let wasm = root.join("target/wasm/wasm32-wasip2/release");
        let p = Paths {
            echo: wasm.join("echo.wasm"),
            compute: wasm.join("compute.wasm"),
            fan: wasm.join("fan.wasm"),
            getter: wasm.join("getter.wasm"),
            scrape: wasm.join("scrape.wasm"),
            rcaller: wasm.join("rcaller.wasm"),
            rcallee: wasm.join("rcallee.wasm"),
            examples: root.join("target/modules"),
            cache: root.join("target/bench-cache"),
            root,
        };
        for f in [
            &p.echo, &p.compute, &p.fan, &p.getter, &p.scrape, &p.rcaller, &p.rcallee,
        ] {
            if !f.is_file() {
                bail!(
                    "{} is missing: run the bench with `cargo xtask bench`, which builds it",
                    f.display()
                );
            }
        }
        if !p.examples.is_dir() {
            bail!(
                "{} is missing: run the bench with `cargo xtask bench`, which stages the example modules",
                p.examples.display()
            );
        }
        std::fs::create_dir_all(&p.cache)?;
        Ok(p)
    }
}

fn run(o: &Opts) -> Result<()> {
    let started = Instant::now();
    for var in ["RUST_BACKTRACE", "RUST_LIB_BACKTRACE"] {
        if std::env::var_os(var).is_some_and(|v| v != "0") {
            // wasmtime and anyhow then capture a native backtrace for every error, traps
            // included, which a production daemon does not do.
            eprintln!(
                "warning: {var} is set, so errors and traps capture native backtraces and cost \
                 more than in production; `cargo xtask bench` unsets it"
            );
        }
    }
    let p = Paths::find()?;
    let facts = machine::facts(&p.root);
    let want = |group: &str| o.only.as_deref().is_none_or(|w| w == group);
    let inbuf: String = (0..1024).map(|i| (b'a' + (i % 26) as u8) as char).collect();
    let wasmgr = match &o.wasmgr {
        Some(w) => w.clone(),
        None => daemon::default_binary()?,
    };
    if (want("admin") || want("coldstart")) && !wasmgr.is_file() {
        bail!(
            "no daemon binary at {}: build it (`cargo build --release -p wasmgr`) or pass --wasmgr",
            wasmgr.display()
        );
    }

    // Everything the cases borrow is set up first, so that it outlives them, and only for the
    // groups that are wanted.
    // Raw wasmtime on the host's engine configuration, with slots for every raw instance: two
    // sets of fan-out instances (the loop here and the loop on a thread of its own), two for the
    // simulated cluster's events (one thread, two threads), and a few more for the command and
    // remote cases.
    let mut raw_on = if want("cmd") || want("notify") || want("remote") {
        let fanout: usize = cases::FANOUT.iter().sum();
        Some(RawHost::limited(
            &p.cache,
            (2 * fanout + 2 * live::SIM_FANOUT + 100) as u32,
        )?)
    } else {
        None
    };
    let main_host = if want("cmd") || want("restart") {
        eprintln!("setup: in-process host with echo and compute");
        let dirs = Dirs::new()?;
        dirs.add(&p.echo, "echo")?;
        dirs.add(&p.compute, "compute")?;
        Some(host::start(
            dirs,
            Arc::new(SnapshotSource::embedded()),
            16,
            &p.cache,
        )?)
    } else {
        None
    };
    let admin = if want("admin") {
        eprintln!("setup: daemon for the admin API ({})", wasmgr.display());
        let dirs = Dirs::new()?;
        dirs.add(&p.echo, "echo")?;
        let d = Daemon::start(&wasmgr, &dirs.data(), &dirs.modules(), &p.cache)?;
        Some((d, dirs))
    } else {
        None
    };
    let fan_hosts = if want("notify") {
        cases::fan_hosts(&p.fan, &p.cache)?
    } else {
        Vec::new()
    };
    let sim_fan_host = if want("notify") {
        Some(live::sim_fan_host(&p.fan, &p.cache)?)
    } else {
        None
    };
    let sim_hosts = if want("get") || want("scrape") {
        let guests = live::Guests {
            getter: &p.getter,
            scrape: &p.scrape,
        };
        live::sim_hosts(&guests, &p.cache)?
    } else {
        Vec::new()
    };
    let remote_host = if want("remote") {
        eprintln!("setup: in-process host with rcaller and rcallee");
        let dirs = Dirs::new()?;
        dirs.add(&p.rcaller, "rcaller")?;
        dirs.add(&p.rcallee, "rcallee")?;
        Some(host::start(
            dirs,
            Arc::new(SnapshotSource::embedded()),
            8,
            &p.cache,
        )?)
    } else {
        None
    };
    // A loader of its own, like the supervisor's, for enable and restart: the directory holding
    // its store, a maker of fresh loaders, and one loader kept warm.
    let own_loader = if want("enable") || want("restart") {
        let dirs = Dirs::new()?;
        let services = Services::new(
            Arc::new(SqliteStore::open(&dirs.data())?),
            Arc::new(SnapshotSource::embedded()),
            Arc::new(HealthBoard::default()),
            "x".into(),
            "2/5".into(),
        );
        let (engine, cache) = (engine::build(&Limits::default(), 16)?, p.cache.clone());
        let new_loader = move || {
            Ok(Loader::new(
                engine.clone(),
                &cache,
                services.clone(),
                Limits::default(),
            )?)
        };
        let loader = Arc::new(new_loader()?);
        Some((dirs, new_loader, loader))
    } else {
        None
    };
    let cold_dirs = if want("coldstart") {
        Some(Dirs::new()?)
    } else {
        None
    };

    let mut cases = Cases::default();
    if let (true, Some(h), Some(raw)) = (want("cmd"), &main_host, raw_on.as_mut()) {
        cases::command(&mut cases, h, raw, &p.echo, &inbuf)?;
    }
    let floor = match &admin {
        Some((d, _)) => Some(cases::admin(&mut cases, d, &inbuf)?),
        None => None,
    };
    if let (true, Some(raw)) = (want("notify"), raw_on.as_mut()) {
        cases::notify(&mut cases, &fan_hosts, raw, &p.fan)?;
    }
    if let (Some(h), Some(raw)) = (&sim_fan_host, raw_on.as_mut()) {
        live::sim_notify(&mut cases, h, raw, &p.fan)?;
    }
    if want("get") {
        live::get(&mut cases, &sim_hosts)?;
    }
    if want("scrape") {
        live::scrape(&mut cases, &sim_hosts)?;
    }
    if let (Some(h), Some(raw)) = (&remote_host, raw_on.as_mut()) {
        cases::remote(&mut cases, h, raw, &p.rcaller, &p.rcallee)?;
    }
    if let (true, Some((_, new_loader, loader))) = (want("enable"), &own_loader) {
        cases::enable(
            &mut cases,
            new_loader.clone(),
            loader.clone(),
            &p.echo,
            &p.cache,
        )?;
    }
    if let (true, Some(h), Some((_, _, loader))) = (want("restart"), &main_host, &own_loader) {
        cases::restart(&mut cases, loader.clone(), h, &p.echo)?;
    }
    if want("fuel") {
        cases::fuel(&mut cases, &p.cache, &p.compute, o.collatz)?;
    }
    // Kept until the cases are done: the ledger's database lives there.
    let _caps_dirs = if want("caps") {
        let dirs = Dirs::new()?;
        std::fs::create_dir_all(dirs.data())?;
        cases::caps(&mut cases, &dirs.data())?;
        Some(dirs)
    } else {
        None
    };
    if let Some(dirs) = &cold_dirs {
        cases::coldstart(&mut cases, &wasmgr, dirs, &p.examples, &p.cache)?;
    }
    if cases.is_empty() && !want("rss") {
        bail!(
            "no case group is called '{}'; see --help",
            o.only.as_deref().unwrap_or_default()
        );
    }

    let mut rec = Recorder::default();
    let setup = started.elapsed();
    if !cases.is_empty() {
        for round in 0..=o.rounds {
            rec.warmup = round == 0;
            eprint!("\rround {round}/{} ", o.rounds);
            cases.round(round, &mut rec)?;
        }
        eprintln!();
    }
    rec.warmup = false;
    // Stop every host before the RSS children run, so they have the machine to themselves.
    drop(cases);
    drop((fan_hosts, admin, floor, main_host, raw_on));
    drop((sim_fan_host, sim_hosts, remote_host));

    if want("rss") {
        let reps = if o.quick { 1 } else { 3 };
        for rep in 0..reps {
            eprintln!("rss: repeat {}/{reps}", rep + 1);
            let base = rss::measure(0, &p.fan, &p.cache)?;
            for &n in RSS_COUNTS {
                let m = rss::measure(n, &p.fan, &p.cache)?;
                let per = |a: u64, b: u64| a.saturating_sub(b) as f64 / n as f64;
                rec.push(&format!("rss.{n}"), Unit::Bytes, per(m.total, base.total));
                rec.push(
                    &format!("rss.anon.{n}"),
                    Unit::Bytes,
                    per(m.anon, base.anon),
                );
                rec.push(
                    &format!("rss.file.{n}"),
                    Unit::Bytes,
                    per(m.file, base.file),
                );
            }
        }
    }

    if let Some(file) = &o.samples {
        std::fs::write(file, rec.to_json().to_string())
            .with_context(|| format!("write {}", file.display()))?;
    }
    let info = report::RunInfo {
        rounds: o.rounds,
        collatz: o.collatz,
        setup,
        total: started.elapsed(),
        facts: &facts,
    };
    print!("{}", report::report(&rec, &info));
    Ok(())
}
