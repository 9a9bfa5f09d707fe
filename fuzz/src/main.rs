//! `wasmgr-fuzz`: runs the fuzz targets of `wasmgr-fuzz` on stable Rust (`cargo xtask fuzz`).
//!
//! Each target runs in a worker process of its own (this binary again, with `--worker`), so a
//! crash of any kind (a panic, an abort, a stack overflow) or a hang ends only that worker, and
//! the parent still knows the input: before every run the worker writes its input to
//! `target/fuzz/<target>.current`, which the parent copies to `fuzz/artifacts/<target>/` when
//! the worker dies or stops writing for `--timeout` seconds.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write as _;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant, SystemTime};

use wasmgr_fuzz::mutate::{self, Dictionary, Rng};
use wasmgr_fuzz::{Features, TARGETS, Target};

const USAGE: &str =
    "usage: wasmgr-fuzz [TARGET...] [--seconds N] [--jobs N] [--seed N] [--timeout N]
       wasmgr-fuzz --reproduce TARGET FILE...
       wasmgr-fuzz --list

Runs each TARGET (default: all) for N seconds (default 60), N at a time (default: one per
CPU), mutating the seeds of fuzz/corpus/TARGET/ with the tokens of fuzz/dict/TARGET.dict.
A crash, or an input running longer than --timeout seconds (default 10), is saved under
fuzz/artifacts/TARGET/ and makes the exit code 1. Inputs that did something new are kept in
target/fuzz/corpus/TARGET/ and are replayed first by the next run.
--reproduce runs TARGET once on each FILE (RUST_BACKTRACE=1 for a backtrace).";

/// How often a worker reports progress, and the parent checks on its workers.
const REPORT_EVERY: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(100);

/// The most details of one feature kind that count as new (see [`Features`]).
const DETAILS_PER_KIND: usize = 16;

/// The most new inputs a worker saves for the next run.
const SAVED_PER_RUN: usize = 5_000;

/// The most inputs a worker keeps in memory; past it a new one replaces a random found one.
const CORPUS_ENTRIES: usize = 20_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match parse(&args) {
        Ok(Mode::Help) => {
            println!("{USAGE}");
            0
        }
        Ok(Mode::List) => {
            for t in TARGETS {
                println!("{:<10} {}", t.name, t.about);
            }
            0
        }
        Ok(Mode::Run(opts)) => run(&opts),
        Ok(Mode::Worker(opts)) => worker(&opts),
        Ok(Mode::Reproduce { target, files }) => reproduce(target, &files),
        Err(e) => {
            eprintln!("wasmgr-fuzz: {e}\n\n{USAGE}");
            2
        }
    };
    std::process::exit(code);
}

enum Mode {
    Help,
    List,
    Run(Options),
    Worker(Options),
    Reproduce {
        target: &'static Target,
        files: Vec<PathBuf>,
    },
}

struct Options {
    targets: Vec<&'static Target>,
    seconds: u64,
    jobs: usize,
    seed: u64,
    timeout: u64,
}

fn parse(args: &[String]) -> Result<Mode, String> {
    let find = |name: &str| {
        wasmgr_fuzz::target(name).ok_or_else(|| {
            let names: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
            format!("no target '{name}': the targets are {}", names.join(", "))
        })
    };
    let mut opts = Options {
        targets: Vec::new(),
        seconds: 60,
        jobs: std::thread::available_parallelism().map_or(1, usize::from),
        seed: SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64),
        timeout: 10,
    };
    let mut worker = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or(format!("{name} needs a whole number"))
        };
        match arg.as_str() {
            "--list" => return Ok(Mode::List),
            "-h" | "--help" => return Ok(Mode::Help),
            "--reproduce" => {
                let target = find(it.next().ok_or("--reproduce needs a TARGET")?)?;
                let files: Vec<PathBuf> = it.map(PathBuf::from).collect();
                if files.is_empty() {
                    return Err("--reproduce needs a FILE".into());
                }
                return Ok(Mode::Reproduce { target, files });
            }
            "--worker" => worker = true,
            "--seconds" => opts.seconds = number("--seconds")?,
            "--jobs" => opts.jobs = (number("--jobs")? as usize).max(1),
            "--seed" => opts.seed = number("--seed")?,
            "--timeout" => opts.timeout = number("--timeout")?.max(1),
            name if !name.starts_with('-') => opts.targets.push(find(name)?),
            other => return Err(format!("unknown option '{other}'")),
        }
    }
    if opts.targets.is_empty() {
        opts.targets = TARGETS.iter().collect();
    }
    Ok(if worker {
        Mode::Worker(opts)
    } else {
        Mode::Run(opts)
    })
}

/// `fuzz/`, where the seeds, dictionaries and crashes live.
fn fuzz_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `target/fuzz/`: inputs found by earlier runs, and each worker's current input.
fn work_dir() -> PathBuf {
    fuzz_dir().join("../target/fuzz")
}

fn current_file(target: &Target) -> PathBuf {
    work_dir().join(format!("{}.current", target.name))
}

fn hash_hex(data: &[u8]) -> String {
    let mut h = DefaultHasher::new();
    data.hash(&mut h);
    format!("{:016x}", h.finish())
}

// ---------------------------------------------------------------------------------------------
// The parent: one worker per target, `jobs` at a time.
// ---------------------------------------------------------------------------------------------

struct Job {
    target: &'static Target,
    child: Child,
    started: Instant,
}

fn run(opts: &Options) -> i32 {
    if let Err(e) = fs::create_dir_all(work_dir()) {
        eprintln!("wasmgr-fuzz: cannot create {}: {e}", work_dir().display());
        return 1;
    }
    let Ok(exe) = std::env::current_exe() else {
        eprintln!("wasmgr-fuzz: cannot find its own executable to start workers");
        return 1;
    };
    println!(
        "wasmgr-fuzz: {} target(s) for {} s each, {} at a time (--seed {})",
        opts.targets.len(),
        opts.seconds,
        opts.jobs,
        opts.seed
    );
    let mut pending: Vec<&'static Target> = opts.targets.iter().rev().copied().collect();
    let mut running: Vec<Job> = Vec::new();
    let mut failed = Vec::new();
    while !pending.is_empty() || !running.is_empty() {
        while running.len() < opts.jobs
            && let Some(target) = pending.pop()
        {
            let _ = fs::remove_file(current_file(target));
            let spawned = Command::new(&exe)
                .args(["--worker", target.name])
                .args(["--seconds", &opts.seconds.to_string()])
                .args(["--seed", &opts.seed.to_string()])
                .spawn();
            match spawned {
                Ok(child) => running.push(Job {
                    target,
                    child,
                    started: Instant::now(),
                }),
                Err(e) => {
                    eprintln!(
                        "wasmgr-fuzz: cannot start a worker for {}: {e}",
                        target.name
                    );
                    failed.push(target.name);
                }
            }
        }
        std::thread::sleep(POLL);
        let mut i = 0;
        while i < running.len() {
            let job = &mut running[i];
            let outcome = match job.child.try_wait() {
                Ok(Some(status)) => Some(ended(job.target, status)),
                Ok(None) => hung(job, opts.timeout).then(|| {
                    let _ = job.child.kill();
                    let _ = job.child.wait();
                    save(
                        job.target,
                        "timeout",
                        &format!("no input finished within {} s", opts.timeout),
                    )
                }),
                Err(e) => Some(Err(format!("cannot wait for the worker: {e}"))),
            };
            match outcome {
                None => i += 1,
                Some(result) => {
                    let job = running.swap_remove(i);
                    if let Err(e) = result {
                        eprintln!("[{}] FAILED: {e}", job.target.name);
                        failed.push(job.target.name);
                    }
                }
            }
        }
    }
    if failed.is_empty() {
        println!("wasmgr-fuzz: no crash in {} target(s)", opts.targets.len());
        0
    } else {
        eprintln!("wasmgr-fuzz: failed: {}", failed.join(", "));
        1
    }
}

/// Whether `job`'s worker has been on one input for longer than `timeout` seconds (or has not
/// started its first one in that time after starting up).
fn hung(job: &Job, timeout: u64) -> bool {
    let limit = Duration::from_secs(timeout);
    if job.started.elapsed() < limit {
        return false;
    }
    let since_input = fs::metadata(current_file(job.target))
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok());
    since_input.is_none_or(|d| d > limit)
}

fn ended(target: &Target, status: ExitStatus) -> Result<(), String> {
    if status.success() {
        return Ok(());
    }
    let why = match status.code() {
        Some(101) => "the target panicked".to_owned(),
        Some(code) => format!("the worker exited with status {code}"),
        None => format!(
            "the worker was killed ({status}): an abort, a stack overflow or running out of memory"
        ),
    };
    save(target, "crash", &why)
}

/// Copies the input a worker was running to `fuzz/artifacts/<target>/<kind>-<hash>`, and
/// returns the error that says where it is and how to run it again.
fn save(target: &Target, kind: &str, why: &str) -> Result<(), String> {
    let current = current_file(target);
    let recorded = match fs::read(&current) {
        Ok(bytes) => bytes,
        Err(e) => {
            return Err(format!(
                "{why}; no input recorded ({}: {e})",
                current.display()
            ));
        }
    };
    let Some(input) = current_input(&recorded) else {
        return Err(format!(
            "{why}; the recorded input in {} is damaged",
            current.display()
        ));
    };
    let dir = fuzz_dir().join("artifacts").join(target.name);
    let file = dir.join(format!("{kind}-{}", hash_hex(input)));
    if let Err(e) = fs::create_dir_all(&dir).and_then(|()| fs::write(&file, input)) {
        return Err(format!(
            "{why}; cannot save the input to {}: {e}",
            file.display()
        ));
    }
    // Relative to the repository, where `cargo xtask` runs.
    let shown = fuzz_dir()
        .parent()
        .and_then(|root| file.strip_prefix(root).ok())
        .unwrap_or(&file)
        .display();
    Err(format!(
        "{why} on an input of {} bytes, saved to {shown}\n  reproduce: cargo xtask fuzz --reproduce {} {shown}",
        input.len(),
        target.name
    ))
}

/// The input in a `.current` file: an 8-byte little-endian length, then that many bytes
/// (what follows is left over from longer inputs).
fn current_input(bytes: &[u8]) -> Option<&[u8]> {
    let (len, rest) = bytes.split_first_chunk::<8>()?;
    let len = usize::try_from(u64::from_le_bytes(*len)).ok()?;
    rest.get(..len)
}

// ---------------------------------------------------------------------------------------------
// A worker: one target, mutating its corpus until the time is up.
// ---------------------------------------------------------------------------------------------

fn worker(opts: &Options) -> i32 {
    let &[target] = opts.targets.as_slice() else {
        eprintln!("wasmgr-fuzz: a worker runs one target");
        return 2;
    };
    match fuzz(target, opts) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("[{}] {e}", target.name);
            1
        }
    }
}

fn fuzz(target: &'static Target, opts: &Options) -> Result<(), String> {
    let name = target.name;
    let dict_path = fuzz_dir().join("dict").join(format!("{name}.dict"));
    let dict = match fs::read_to_string(&dict_path) {
        Ok(text) => {
            Dictionary::parse(&text).map_err(|e| format!("{}: {e}", dict_path.display()))?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Dictionary::default(),
        Err(e) => return Err(format!("{}: {e}", dict_path.display())),
    };
    let found_dir = work_dir().join("corpus").join(name);
    fs::create_dir_all(&found_dir).map_err(|e| format!("{}: {e}", found_dir.display()))?;
    let mut seeds = read_inputs(&fuzz_dir().join("corpus").join(name))?;
    let committed = seeds.len();
    seeds.extend(read_inputs(&found_dir)?);
    let current_path = current_file(target);
    let current =
        fs::File::create(&current_path).map_err(|e| format!("{}: {e}", current_path.display()))?;

    // Each target gets its own sequence from the one seed of the run.
    let mut h = DefaultHasher::new();
    name.hash(&mut h);
    let mut rng = Rng::new(opts.seed ^ h.finish());
    let mut run = Runner {
        target,
        current,
        record: Vec::new(),
        seen: Features::default(),
        known: HashMap::new(),
        features: 0,
        execs: 0,
        slowest: (Duration::ZERO, 0),
    };
    let mut corpus: Vec<Vec<u8>> = Vec::new();
    for seed in seeds {
        run.exec(&seed)?;
        corpus.push(seed);
    }
    if corpus.is_empty() {
        corpus.push(Vec::new());
    }
    let kept_at_start = corpus.len();
    println!(
        "[{name}] {} seed(s) ({committed} committed), {} feature(s); fuzzing for {} s",
        kept_at_start, run.features, opts.seconds
    );
    let started = Instant::now();
    let end = started + Duration::from_secs(opts.seconds);
    let mut next_report = started + REPORT_EVERY;
    let mut found = 0usize;
    let mut input = Vec::new();
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        if now >= next_report {
            next_report += REPORT_EVERY;
            println!(
                "[{name}] {} s: {} execs, {} kept, {} features",
                started.elapsed().as_secs(),
                run.execs,
                corpus.len(),
                run.features
            );
        }
        input.clear();
        input.extend_from_slice(&corpus[rng.below(corpus.len())]);
        mutate::mutate(&mut rng, &mut input, &corpus, &dict, target.max_len);
        if run.exec(&input)? {
            found += 1;
            let file = found_dir.join(hash_hex(&input));
            // Keeping it for the next run is a convenience; this run goes on without it.
            if found <= SAVED_PER_RUN {
                let _ = fs::write(&file, &input);
            }
            if corpus.len() < CORPUS_ENTRIES {
                corpus.push(input.clone());
            } else {
                let i = kept_at_start + rng.below(corpus.len() - kept_at_start);
                corpus[i] = input.clone();
            }
        }
    }
    if target.name == "loader" {
        wasmgr_fuzz::targets::loader::cleanup();
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "[{name}] done: {} execs in {secs:.0} s ({:.0}/s), {found} new input(s), {} kept, {} features, slowest input {} ms ({} bytes)",
        run.execs,
        run.execs as f64 / secs.max(0.001),
        corpus.len(),
        run.features,
        run.slowest.0.as_millis(),
        run.slowest.1,
    );
    Ok(())
}

/// Every file in `dir`, in name order (none if it does not exist).
fn read_inputs(dir: &Path) -> Result<Vec<Vec<u8>>, String> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("{}: {e}", dir.display())),
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| fs::read(p).map_err(|e| format!("{}: {e}", p.display())))
        .collect()
}

struct Runner {
    target: &'static Target,
    /// Holds the input being run, for the parent to save if this process dies.
    current: fs::File,
    record: Vec<u8>,
    seen: Features,
    /// Every feature kind seen, with the details of it seen (at most [`DETAILS_PER_KIND`]).
    known: HashMap<u64, HashSet<u64>>,
    /// How many (kind, detail) features have been seen.
    features: usize,
    execs: u64,
    /// The longest run so far, and its input's length.
    slowest: (Duration, usize),
}

impl Runner {
    /// Runs one input; whether it did something no input did before.
    fn exec(&mut self, input: &[u8]) -> Result<bool, String> {
        self.record.clear();
        self.record
            .extend_from_slice(&(input.len() as u64).to_le_bytes());
        self.record.extend_from_slice(input);
        self.current
            .write_all_at(&self.record, 0)
            .map_err(|e| format!("cannot record the current input: {e}"))?;
        self.seen.start(input);
        let started = Instant::now();
        (self.target.run)(input, &mut self.seen);
        let took = started.elapsed();
        if took > self.slowest.0 {
            self.slowest = (took, input.len());
        }
        self.execs += 1;
        let mut new = false;
        for (kind, detail) in self.seen.iter() {
            let details = self.known.entry(kind).or_default();
            if details.len() < DETAILS_PER_KIND && details.insert(detail) {
                self.features += 1;
                new = true;
            }
        }
        Ok(new)
    }
}

// ---------------------------------------------------------------------------------------------
// Reproducing a saved input.
// ---------------------------------------------------------------------------------------------

fn reproduce(target: &Target, files: &[PathBuf]) -> i32 {
    let mut code = 0;
    for file in files {
        match fs::read(file) {
            Ok(input) => {
                println!(
                    "[{}] running {} ({} bytes)",
                    target.name,
                    file.display(),
                    input.len()
                );
                let _ = std::io::stdout().flush();
                let mut seen = Features::default();
                (target.run)(&input, &mut seen);
                println!("[{}] {}: no crash", target.name, file.display());
            }
            Err(e) => {
                eprintln!("wasmgr-fuzz: {}: {e}", file.display());
                code = 1;
            }
        }
    }
    if target.name == "loader" {
        wasmgr_fuzz::targets::loader::cleanup();
    }
    code
}
