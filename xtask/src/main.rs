//! Project tasks: `cargo xtask run`, `cargo xtask test`, `cargo xtask guests`, `cargo xtask bench`,
//! `cargo xtask fuzz`.
//!
//! Each task installs what it needs first (the wasm32-wasip2 target; for the tests,
//! componentize-py in `target/py-venv`, which needs `python3` with its `venv` module), so the
//! two README commands work on a fresh machine with only rustup's toolchain and Python.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

const USAGE: &str = "usage: cargo xtask <task>

tasks:
  run [SERVE ARGS...]  build the example modules and the daemon, then run `wasmgr serve` with them
  test                 the whole test suite: fmt, clippy, unit and integration tests, guest SDK tests,
                       then every fuzz target for $WASMGR_FUZZ_SECONDS seconds (default 20; 0 skips)
  guests               build the example modules and stage them in target/modules
  py-venv              install componentize-py in target/py-venv (what `test` does first; then
                       plain `cargo test` builds the Python test guests too)
  bench [ARGS...]      build the bench guests, the example modules and the daemon (release), then
                       run every benchmark and print the table (options: 'cargo xtask bench --help')
  fuzz [ARGS...]       run the fuzz targets ('cargo xtask fuzz --help'): all of them for 60 s each by
                       default, crashes saved in fuzz/artifacts/; --reproduce TARGET FILE runs one input";

/// How long `cargo xtask test` fuzzes each target, unless `$WASMGR_FUZZ_SECONDS` says otherwise.
/// The targets run two at a time on CI's two cores, so five take three rounds: about a minute.
const CI_FUZZ_SECONDS: &str = "20";

/// The componentize-py that builds Python modules: pinned, because its output (the guest
/// Python, the bindings it generates) changes between releases.
const COMPONENTIZE_PY: &str = "0.25.1";

/// Where tests/build.rs finds componentize-py: the path [`ensure_componentize_py`] returns.
const COMPONENTIZE_PY_ENV: &str = "WASMGR_COMPONENTIZE_PY";

/// Guest workspaces, built for wasm32-wasip2.
const GUEST_WORKSPACES: &[&str] = &["modules", "tests/guests", "bench/guests"];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("test") => test(),
        Some("bench") => bench(&args[1..]),
        Some("fuzz") => fuzz(&args[1..]),
        Some("py-venv") => {
            ensure_componentize_py().map(|cpy| println!("{COMPONENTIZE_PY_ENV}={}", cpy.display()))
        }
        Some("guests") => {
            stage_modules().map(|dir| println!("modules staged in {}", dir.display()))
        }
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    if let Err(e) = result {
        eprintln!("xtask: {e:#}");
        std::process::exit(1);
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

fn status(mut c: Command) -> Result<()> {
    eprintln!("xtask: {c:?}");
    let s = c.status().with_context(|| format!("cannot run {c:?}"))?;
    if !s.success() {
        bail!("{c:?} failed ({s})");
    }
    Ok(())
}

/// `rustup target add` is idempotent; RUSTUP_AUTO_INSTALL=0 machines need it done explicitly.
fn ensure_wasm_target() -> Result<()> {
    let mut c = Command::new("rustup");
    c.current_dir(root())
        .args(["target", "add", "wasm32-wasip2"]);
    match c.status() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => bail!("`rustup target add wasm32-wasip2` failed ({s})"),
        Err(e) => {
            eprintln!(
                "xtask: rustup not found ({e}); assuming the wasm32-wasip2 target is installed"
            );
            Ok(())
        }
    }
}

/// componentize-py [`COMPONENTIZE_PY`] in the virtual environment `target/py-venv`, created
/// with `python3 -m venv` and installed with pip unless that version is already there; the
/// path of its `componentize-py`.
fn ensure_componentize_py() -> Result<PathBuf> {
    let venv = root().join("target/py-venv");
    let cpy = venv.join("bin/componentize-py");
    let wanted = format!("componentize-py {COMPONENTIZE_PY}");
    let installed = Command::new(&cpy)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).trim() == wanted);
    if installed {
        return Ok(cpy);
    }
    if !venv.join("bin/python3").is_file() {
        let mut c = Command::new("python3");
        c.args(["-m", "venv"]).arg(&venv);
        status(c).context(
            "the Python test guests need python3 with its venv module (Debian/Ubuntu: \
             apt-get install python3-venv)",
        )?;
    }
    let mut c = Command::new(venv.join("bin/python3"));
    c.args(["-m", "pip", "install", "--quiet"])
        .arg(format!("componentize-py=={COMPONENTIZE_PY}"));
    status(c)?;
    Ok(cpy)
}

fn build_guests(workspace: &str) -> Result<()> {
    let mut c = cargo();
    c.args([
        "build",
        "--release",
        "--target",
        "wasm32-wasip2",
        "--manifest-path",
    ])
    .arg(format!("{workspace}/Cargo.toml"))
    .arg("--target-dir")
    .arg(root().join("target/wasm"));
    status(c)
}

/// Build the example modules and copy them (with their manifests) to target/modules.
fn stage_modules() -> Result<PathBuf> {
    ensure_wasm_target()?;
    build_guests("modules")?;
    let out = root().join("target/modules");
    std::fs::create_dir_all(&out)?;
    let built = root().join("target/wasm/wasm32-wasip2/release");
    for entry in std::fs::read_dir(root().join("modules"))? {
        let dir = entry?.path();
        if !dir.join("Cargo.toml").is_file() {
            continue;
        }
        let Some(name) = dir.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
            continue;
        };
        let wasm = built.join(format!("{name}.wasm"));
        std::fs::copy(&wasm, out.join(format!("{name}.wasm")))
            .with_context(|| format!("copy {}", wasm.display()))?;
        let manifest = dir.join(format!("{name}.toml"));
        if manifest.is_file() {
            std::fs::copy(&manifest, out.join(format!("{name}.toml")))?;
        }
    }
    Ok(out)
}

fn run(serve_args: &[String]) -> Result<()> {
    let modules = stage_modules()?;
    let mut c = cargo();
    c.args(["build", "-p", "wasmgr"]);
    status(c)?;
    let bin = root().join("target/debug/wasmgr");
    // The example modules are ours: approve what each one requests, pinned to the digest just
    // built (a stranger's module would get `wasmgr module caps` and `module grant` instead).
    let grants = root().join("target/modules-grants.toml");
    let out = Command::new(&bin)
        .args(["grants", "requested"])
        .arg(&modules)
        .output()
        .context("run wasmgr grants requested")?;
    if !out.status.success() {
        bail!(
            "wasmgr grants requested failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::fs::write(&grants, &out.stdout)?;
    eprintln!(
        "xtask: the example modules get what their manifests request ({})",
        grants.display()
    );
    eprintln!(
        "xtask: starting the daemon; in another terminal try:\n  ./target/debug/wasmgr --help\n  ./target/debug/wasmgr hello\n  ./target/debug/wasmgr antigravity ls objects --format yaml\n"
    );
    let mut c = Command::new(&bin);
    c.arg("serve")
        .arg("--modules")
        .arg(&modules)
        .arg("--grants")
        .arg(&grants)
        .args(serve_args);
    status(c)
}

/// Build what the benchmarks measure, then run them. Release builds throughout: the numbers
/// are meant for BENCHMARKS.md.
fn bench(bench_args: &[String]) -> Result<()> {
    // Installs the wasm32-wasip2 target first, for the bench guests too.
    stage_modules()?;
    build_guests("bench/guests")?;
    let mut c = cargo();
    c.args(["build", "--release", "-p", "wasmgr"]);
    status(c)?;
    let mut c = cargo();
    // A production daemon captures no native backtraces; with RUST_BACKTRACE set every trap
    // and error would, and the numbers would include it.
    c.args(["run", "--release", "-p", "wasmgr-bench", "--"])
        .args(bench_args)
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE");
    status(c)
}

fn test() -> Result<()> {
    ensure_wasm_target()?;
    let cpy = ensure_componentize_py()?;
    // Every cargo below may build the tests crate, whose build script builds the Python guests.
    let cargo = || {
        let mut c = cargo();
        c.env(COMPONENTIZE_PY_ENV, &cpy);
        c
    };
    let mut c = cargo();
    c.args(["fmt", "--all", "--check"]);
    status(c)?;
    for ws in GUEST_WORKSPACES.iter().chain(&["guest-sdk/rust"]) {
        let mut c = cargo();
        c.args(["fmt", "--all", "--check", "--manifest-path"])
            .arg(format!("{ws}/Cargo.toml"));
        status(c)?;
    }
    let mut c = cargo();
    c.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    status(c)?;
    for ws in GUEST_WORKSPACES {
        let mut c = cargo();
        c.args([
            "clippy",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--manifest-path",
        ])
        .arg(format!("{ws}/Cargo.toml"))
        .arg("--target-dir")
        .arg(root().join("target/wasm"))
        .args(["--", "-D", "warnings"]);
        status(c)?;
    }
    // The SDK's pure logic (formatting, argument mapping, dispatch) is tested on the host.
    let mut c = cargo();
    c.args([
        "test",
        "--manifest-path",
        "guest-sdk/rust/Cargo.toml",
        "--target-dir",
    ])
    .arg(root().join("target/sdk-host"));
    status(c)?;
    let mut c = cargo();
    c.args(["test", "--workspace"]);
    status(c)?;
    let seconds = std::env::var("WASMGR_FUZZ_SECONDS").unwrap_or_else(|_| CI_FUZZ_SECONDS.into());
    if seconds.trim() == "0" {
        eprintln!("xtask: WASMGR_FUZZ_SECONDS=0: not fuzzing");
        return Ok(());
    }
    // `cargo test --workspace` has just built the driver (the fuzz crate's integration test
    // needs it).
    run_fuzz_driver(&["--seconds".into(), seconds])
}

/// Build the fuzz driver as `cargo test --workspace` builds it, and run it with `args`.
///
/// The tests' build, not `cargo build -p wasmgr-fuzz`: the workspace's dev-dependencies turn
/// on features of dependencies wasmtime shares, and a build without them would compile
/// wasmtime a second time.
fn fuzz(args: &[String]) -> Result<()> {
    ensure_wasm_target()?;
    let cpy = ensure_componentize_py()?;
    let mut c = cargo();
    c.env(COMPONENTIZE_PY_ENV, &cpy);
    c.args(["test", "--workspace", "--no-run"]);
    status(c)?;
    run_fuzz_driver(args)
}

fn run_fuzz_driver(args: &[String]) -> Result<()> {
    let mut c = Command::new(root().join("target/debug/wasmgr-fuzz"));
    c.current_dir(root()).args(args);
    status(c)
}
