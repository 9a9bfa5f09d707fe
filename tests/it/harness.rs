//! What the tests share: the guest components, a modules directory, the real daemon as a child
//! process with its CLI client, and an in-process host for tests that need no process.
//!
//! Every test gets its own data directory, so tests run in parallel. Compiled components go to
//! one cache shared by every test ([`shared_cache`]), so each component compiles once per run.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;
use wasmgr_runtime::cluster::SnapshotSource;
use wasmgr_runtime::manager::{ClientPerm, CommandReply, CommandRequest, HostConfig, Manager};

/// The guest components, built from source by `tests/build.rs`: absolute paths of `.wasm`
/// files.
pub(crate) mod guests {
    include!(concat!(env!("OUT_DIR"), "/guests.rs"));
}

/// The real `wasmgr` command line (daemon and client).
pub(crate) const WASMGR: &str = env!("CARGO_BIN_EXE_wasmgr-under-test");

/// The snapshot's manager id (`get_mgr_id.json`), the `<id>` of localized keys.
pub(crate) const MGR_ID: &str = "x";

/// How long a daemon may take to start, compiling every component when the cache is cold on a
/// busy machine included. A liveness bound, not a performance assertion.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// How long the whole integration run may take. A hung test (a deadlock in the host) would
/// otherwise hold CI until its own limit; this fails the run with a clear message instead.
const RUN_LIMIT: Duration = Duration::from_secs(600);

/// Start the run's watchdog (once): past [`RUN_LIMIT`] it reports and aborts the process.
pub(crate) fn watchdog() {
    static START: std::sync::Once = std::sync::Once::new();
    START.call_once(|| {
        std::thread::spawn(|| {
            std::thread::sleep(RUN_LIMIT);
            eprintln!(
                "the integration tests have run for {} s: a test hangs (look for the tests still \
                 running above); aborting",
                RUN_LIMIT.as_secs()
            );
            std::process::abort();
        });
    });
}

/// The compiled-component cache every test shares (unless it needs its own).
pub(crate) fn shared_cache() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_TARGET_TMPDIR"), "/wasmgr-test-cache"))
}

/// A module's name: its component's file stem.
pub(crate) fn name_of(guest: &str) -> &str {
    Path::new(guest)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap()
}

/// A modules directory holding copies of some guests, and optionally their manifests.
pub(crate) struct Modules {
    dir: TempDir,
}

impl Modules {
    /// A directory with `guests` (paths from [`guests`]) as `<name>.wasm`, each with the
    /// manifest its build wrote beside it (`<name>.toml`, as the Python SDK's build does), if
    /// any.
    pub(crate) fn new(guests: &[&str]) -> Modules {
        watchdog();
        let dir = tempfile::Builder::new()
            .prefix("wasmgr-modules-")
            .tempdir()
            .unwrap();
        for guest in guests {
            fs::copy(guest, dir.path().join(format!("{}.wasm", name_of(guest)))).unwrap();
            let manifest = Path::new(guest).with_extension("toml");
            if manifest.is_file() {
                fs::copy(
                    &manifest,
                    dir.path().join(format!("{}.toml", name_of(guest))),
                )
                .unwrap();
            }
        }
        Modules { dir }
    }

    /// Add `<name>.toml` for `guest`, with `text`.
    pub(crate) fn manifest(self, guest: &str, text: &str) -> Modules {
        fs::write(
            self.dir.path().join(format!("{}.toml", name_of(guest))),
            text,
        )
        .unwrap();
        self
    }

    /// Add a copy of `guest` as `<name>.wasm`: another module built from the same component
    /// (the `rogue` guest takes its name from its script, see [`script_key`]).
    pub(crate) fn named(self, guest: &str, name: &str) -> Modules {
        fs::copy(guest, self.dir.path().join(format!("{name}.wasm"))).unwrap();
        self
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// The config-key holding a module's script: the `rogue` guest reads its store key `script` in
/// `describe`, so a script set here takes effect the next time the module loads (an enable, a
/// daemon start).
pub(crate) fn script_key(module: &str) -> String {
    format!("mgr/{module}/script")
}

/// What a CLI invocation returned.
#[derive(Debug)]
#[must_use = "check the exit code"]
pub(crate) struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// Assert success; the standard output.
    #[track_caller]
    pub(crate) fn ok(self) -> String {
        assert_eq!(self.code, 0, "expected success, got {self:#?}");
        self.stdout
    }

    /// Assert that it failed with exit code `code`; the standard error.
    #[track_caller]
    pub(crate) fn fails(self, code: i32) -> String {
        assert_eq!(self.code, code, "expected exit code {code}, got {self:#?}");
        self.stderr
    }

    /// The standard output as JSON.
    #[track_caller]
    pub(crate) fn json(self) -> Value {
        let stdout = self.ok();
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"))
    }
}

/// Run the CLI with `args`, `stdin` as its standard input.
pub(crate) fn wasmgr(args: &[&str], stdin: Option<&str>) -> Out {
    watchdog();
    let mut child = Command::new(WASMGR)
        .args(args)
        .env_remove(wasmgr::DATA_ENV)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    let output = child.wait_with_output().unwrap();
    Out {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// How to start a [`Daemon`].
pub(crate) struct DaemonOptions {
    pub cache: PathBuf,
    /// More `wasmgr serve` arguments.
    pub args: Vec<String>,
    /// Whether every module in the modules directory gets what its manifest requests, as an
    /// operator would grant it (`--grants`, written anew at every start). Off for the tests
    /// of grants themselves.
    pub grant_requests: bool,
}

impl Default for DaemonOptions {
    fn default() -> Self {
        DaemonOptions {
            cache: shared_cache(),
            args: Vec::new(),
            grant_requests: true,
        }
    }
}

/// The row of `capability` in `module caps --format json` output `caps`, if there is one.
pub(crate) fn cap_row(caps: &Value, capability: &str) -> Option<Value> {
    caps["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["capability"] == capability)
        .cloned()
}

/// Write a grants file granting every module in `modules` what its manifest requests, pinned
/// to its digest, as an operator approving them would.
pub(crate) fn grant_requests(modules: &Path, to: &Path) {
    let text = wasmgr_runtime::grants_file::requested_by(modules).unwrap();
    fs::write(to, text).unwrap();
}

/// The real daemon, `wasmgr serve`, as a child process on a data directory of its own. It is
/// killed when dropped.
pub(crate) struct Daemon {
    root: TempDir,
    modules: Modules,
    cache: PathBuf,
    args: Vec<String>,
    grant_requests: bool,
    child: Option<Child>,
    runs: usize,
}

impl Daemon {
    /// A daemon running `guests`.
    pub(crate) fn start(guests: &[&str]) -> Daemon {
        Daemon::with(Modules::new(guests), DaemonOptions::default())
    }

    /// A daemon running the modules of `modules`.
    pub(crate) fn with(modules: Modules, options: DaemonOptions) -> Daemon {
        let root = tempfile::Builder::new()
            .prefix("wasmgr-daemon-")
            .tempdir()
            .unwrap();
        let mut daemon = Daemon {
            root,
            modules,
            cache: options.cache,
            args: options.args,
            grant_requests: options.grant_requests,
            child: None,
            runs: 0,
        };
        daemon.spawn();
        daemon
    }

    pub(crate) fn data(&self) -> PathBuf {
        self.root.path().join("data")
    }

    /// The process id of the running daemon.
    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    fn log_path(&self, run: usize) -> PathBuf {
        self.root.path().join(format!("daemon-{run}.log"))
    }

    /// What the daemon wrote to stderr (its log) in this run.
    pub(crate) fn log(&self) -> String {
        fs::read_to_string(self.log_path(self.runs)).unwrap_or_default()
    }

    /// The `wasmgr serve` arguments of this daemon, for starting another one like it.
    pub(crate) fn serve_args(&self) -> Vec<String> {
        let mut args = vec![
            "serve".into(),
            "--data".into(),
            self.data().display().to_string(),
            "--modules".into(),
            self.modules.path().display().to_string(),
            "--cache".into(),
            self.cache.display().to_string(),
        ];
        // The tests that do not say otherwise run on the embedded snapshot, which never
        // changes: what they check does not move under them.
        if !self.args.iter().any(|a| a.starts_with("--cluster")) {
            args.extend(["--cluster".into(), "snapshot".into()]);
        }
        if self.grant_requests && !self.args.iter().any(|a| a.starts_with("--grants")) {
            let file = self.root.path().join("grants.toml");
            args.extend(["--grants".into(), file.display().to_string()]);
        }
        args.extend(self.args.iter().cloned());
        args
    }

    fn spawn(&mut self) {
        self.runs += 1;
        if self.grant_requests {
            grant_requests(self.modules.path(), &self.root.path().join("grants.toml"));
        }
        let log = fs::File::create(self.log_path(self.runs)).unwrap();
        let child = Command::new(WASMGR)
            .args(self.serve_args())
            .env_remove(wasmgr::DATA_ENV)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let pid = child.id();
        self.child = Some(child);
        self.wait_ready(pid);
    }

    /// Wait until the daemon `pid` wrote both endpoint files (stale ones from a killed daemon
    /// name another pid).
    fn wait_ready(&mut self, pid: u32) {
        let started = Instant::now();
        loop {
            let written = |file: &str| {
                fs::read(self.data().join(file))
                    .ok()
                    .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                    .is_some_and(|e| e["pid"] == pid)
            };
            if written("admin.json") && written("readonly.json") {
                return;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!(
                    "the daemon exited ({status}) before it was ready:\n{}",
                    self.log()
                );
            }
            assert!(
                started.elapsed() < START_TIMEOUT,
                "the daemon was not ready within {START_TIMEOUT:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Run the client against this daemon: `wasmgr --data <data> <args…>`.
    pub(crate) fn run(&self, args: &[&str]) -> Out {
        self.run_with_stdin(args, None)
    }

    /// [`Daemon::run`] with `stdin` as the client's standard input.
    pub(crate) fn run_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Out {
        let data = self.data().display().to_string();
        let mut all = vec!["--data", data.as_str()];
        all.extend_from_slice(args);
        wasmgr(&all, stdin)
    }

    /// Run a command that must succeed; its standard output.
    #[track_caller]
    pub(crate) fn ok(&self, args: &[&str]) -> String {
        self.run(args).ok()
    }

    /// `module info <module> -f json`.
    #[track_caller]
    pub(crate) fn module_info(&self, module: &str) -> Value {
        self.run(&["module", "info", module, "-f", "json"]).json()
    }

    /// How many calls `module` has received (describe included).
    #[track_caller]
    pub(crate) fn calls(&self, module: &str) -> u64 {
        self.module_info(module)["stats"]["calls"].as_u64().unwrap()
    }

    /// The state of `module` as `module ls -f json` shows it.
    #[track_caller]
    pub(crate) fn module_row(&self, module: &str) -> Value {
        row_of(&self.run(&["module", "ls", "-f", "json"]).json(), module)
    }

    /// The daemon's modules directory.
    pub(crate) fn modules_dir(&self) -> &Path {
        self.modules.path()
    }

    /// The daemon's resident memory, from `/proc/<pid>/status`.
    #[track_caller]
    pub(crate) fn rss_bytes(&self) -> u64 {
        let status = fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let line = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .unwrap_or_else(|| panic!("no VmRSS in {status}"));
        let kib: u64 = line
            .trim_start_matches("VmRSS:")
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .unwrap();
        kib * 1024
    }

    /// A data directory holding only this daemon's read-only endpoint: what a user who may
    /// not read `admin.json` has.
    pub(crate) fn readonly_data(&self) -> TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::copy(
            self.data().join("readonly.json"),
            dir.path().join("readonly.json"),
        )
        .unwrap();
        dir
    }

    /// Set `module`'s script (see [`script_key`]); it takes effect when the module next loads.
    #[track_caller]
    pub(crate) fn set_script(&self, module: &str, script: &Value) {
        self.run_with_stdin(
            &["config-key", "set", &script_key(module), "-i", "-"],
            Some(&script.to_string()),
        )
        .ok();
    }

    /// Set `module`'s script, then load the module afresh (`module disable`, whose outcome is
    /// ignored, then `module enable`); what the enable returned.
    #[track_caller]
    pub(crate) fn load_script(&self, module: &str, script: &Value) -> Out {
        self.set_script(module, script);
        let _ = self.run(&["module", "disable", module]);
        self.run(&["module", "enable", module])
    }

    /// Stop the daemon with SIGTERM, as an operator or a service manager does, and wait for
    /// it to exit: commands in progress get their replies, then every module shuts down.
    pub(crate) fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("the daemon is not running");
        let sent = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -TERM failed");
        child.wait().unwrap()
    }

    /// Kill the daemon with SIGKILL: no shutdown code runs.
    pub(crate) fn kill_9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// Start the daemon again on the same data, modules and cache (killing it first if it
    /// runs).
    pub(crate) fn restart(&mut self) {
        self.kill_9();
        self.spawn();
    }

    /// The audit ledger's events of `kind` about `module`, oldest first (`wasmgr audit
    /// --module <module> --kind <kind> --format json`).
    #[track_caller]
    pub(crate) fn audit(&self, kind: &str, module: &str) -> Vec<Value> {
        let events = self
            .run(&[
                "audit", "--module", module, "--kind", kind, "--format", "json",
            ])
            .json();
        events.as_array().unwrap().clone()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The host in this process: a [`Manager`] on its own data directory, for tests that need no
/// daemon process.
pub(crate) struct Host {
    // Dropped before the directories it uses.
    pub manager: Manager,
    pub modules: Modules,
    data: TempDir,
}

impl Host {
    /// A host running `guests`.
    pub(crate) fn start(guests: &[&str]) -> Host {
        Host::with(Modules::new(guests))
    }

    /// A host running the modules of `modules`.
    pub(crate) fn with(modules: Modules) -> Host {
        Host::configured(modules, |_| {})
    }

    /// A host running the modules of `modules`, with `adjust` applied to its configuration.
    pub(crate) fn configured(modules: Modules, adjust: impl FnOnce(&mut HostConfig)) -> Host {
        let data = tempfile::Builder::new()
            .prefix("wasmgr-host-")
            .tempdir()
            .unwrap();
        let mut config = HostConfig::new(
            data.path().to_owned(),
            modules.path().to_owned(),
            Arc::new(SnapshotSource::embedded()),
        );
        // A small pool: many hosts run side by side in this process.
        config.module_slots = 16;
        config.cache_dir = Some(shared_cache());
        let grants = data.path().join("grants.toml");
        grant_requests(modules.path(), &grants);
        config.grants_file = Some(grants);
        adjust(&mut config);
        let manager = Manager::start(config).unwrap();
        Host {
            manager,
            modules,
            data,
        }
    }

    /// Run `words` with read-write permission.
    pub(crate) fn run(&self, words: &[&str]) -> CommandReply {
        self.request(words, None, "")
    }

    /// Run `words` with an output format and an input buffer.
    pub(crate) fn request(
        &self,
        words: &[&str],
        format: Option<&str>,
        inbuf: &str,
    ) -> CommandReply {
        let req = CommandRequest {
            words: words.iter().map(|w| (*w).to_owned()).collect(),
            format: format.map(str::to_owned),
            inbuf: inbuf.to_owned(),
        };
        self.manager.command(&req, ClientPerm::ReadWrite)
    }

    /// `module info <module>` as JSON.
    #[track_caller]
    pub(crate) fn module_info(&self, module: &str) -> Value {
        let reply = self.request(&["module", "info", module], Some("json"), "");
        assert_eq!(reply.retval, 0, "module info {module}: {reply:#?}");
        serde_json::from_str(&reply.stdout).unwrap()
    }

    /// One of `module info <module>`'s counters (`calls`, `traps`, `restarts`, ...).
    #[track_caller]
    pub(crate) fn stat(&self, module: &str, counter: &str) -> u64 {
        self.module_info(module)["stats"][counter].as_u64().unwrap()
    }

    /// Run `words`, which must succeed; the output.
    #[track_caller]
    pub(crate) fn ok(&self, words: &[&str]) -> String {
        let reply = self.run(words);
        assert_eq!(reply.retval, 0, "{words:?} failed: {reply:#?}");
        reply.stdout
    }

    /// Run `words`, which must fail with `errno`; the error message.
    #[track_caller]
    pub(crate) fn fails(&self, words: &[&str], errno: i32) -> String {
        let reply = self.run(words);
        assert_eq!(
            reply.retval, -errno,
            "{words:?}: expected errno {errno}, got {reply:#?}"
        );
        reply.stderr
    }

    /// The host's data directory.
    pub(crate) fn data(&self) -> &Path {
        self.data.path()
    }

    /// The row of `module` in `module ls` as JSON.
    #[track_caller]
    pub(crate) fn module_row(&self, module: &str) -> Value {
        let reply = self.request(&["module", "ls"], Some("json"), "");
        assert_eq!(reply.retval, 0, "module ls: {reply:#?}");
        row_of(&serde_json::from_str(&reply.stdout).unwrap(), module)
    }

    /// Set `module`'s script (see [`script_key`]) with `config-key set`, the value as the
    /// input buffer; it takes effect when the module next loads.
    #[track_caller]
    pub(crate) fn set_script(&self, module: &str, script: &Value) {
        let reply = self.request(
            &["config-key", "set", &script_key(module)],
            None,
            &script.to_string(),
        );
        assert_eq!(reply.retval, 0, "setting {module}'s script: {reply:#?}");
    }

    /// Set `module`'s script, then load the module afresh (`module disable`, whose outcome is
    /// ignored, then `module enable`); what the enable returned.
    #[track_caller]
    pub(crate) fn load_script(&self, module: &str, script: &Value) -> CommandReply {
        self.set_script(module, script);
        let _ = self.run(&["module", "disable", module]);
        self.run(&["module", "enable", module])
    }

    /// The audit ledger's events of `kind` about `module`, oldest first (`audit` as JSON).
    #[track_caller]
    pub(crate) fn audit(&self, kind: &str, module: &str) -> Vec<Value> {
        let reply = self.request(
            &["audit", "--module", module, "--kind", kind],
            Some("json"),
            "",
        );
        assert_eq!(reply.retval, 0, "audit: {reply:#?}");
        let events: Value = serde_json::from_str(&reply.stdout).unwrap();
        events.as_array().unwrap().clone()
    }
}

/// The row of `module` in the JSON of `module ls`.
#[track_caller]
fn row_of(list: &Value, module: &str) -> Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == module)
        .unwrap_or_else(|| panic!("no {module} in {list}"))
        .clone()
}

/// Poll `done` every few milliseconds until it holds; fail naming `what` after `within`.
#[track_caller]
pub(crate) fn wait_until(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < within,
            "{what} did not happen within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}
