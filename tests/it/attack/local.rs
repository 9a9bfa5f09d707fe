//! A local user with a shell account on the daemon's host, and files in the modules
//! directory that are not what they seem.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::guests::HELLO;
use crate::harness::{Modules, WASMGR, grant_requests, shared_cache, wasmgr};

/// `wasmgr serve` started the way a service manager starts it (umask 022, the usual default),
/// on a data directory the daemon creates itself; killed when dropped.
struct Serve {
    root: tempfile::TempDir,
    child: Child,
}

impl Serve {
    fn start(modules: &Path) -> Serve {
        Serve::start_then(modules, |_| {})
    }

    /// [`Serve::start`], calling `then` with the modules directory once the grants file is
    /// written and before the daemon starts.
    fn start_then(modules: &Path, then: impl FnOnce(&Path)) -> Serve {
        let root = tempfile::Builder::new()
            .prefix("wasmgr-local-")
            .tempdir()
            .unwrap();
        // What the operator approved, written before anything odd lands in the directory.
        let grants = root.path().join("grants.toml");
        grant_requests(modules, &grants);
        then(modules);
        let log = fs::File::create(root.path().join("daemon.log")).unwrap();
        let data = root.path().join("data");
        let child = Command::new("sh")
            .arg("-c")
            .arg("umask 022 && exec \"$0\" \"$@\"")
            .arg(WASMGR)
            .args(["serve", "--cluster", "snapshot", "--data"])
            .arg(&data)
            .arg("--modules")
            .arg(modules)
            .arg("--cache")
            .arg(shared_cache())
            .arg("--grants")
            .arg(&grants)
            .env_remove(wasmgr::DATA_ENV)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        Serve { root, child }
    }

    fn data(&self) -> PathBuf {
        self.root.path().join("data")
    }

    /// Whether the daemon wrote its endpoints within `within`.
    fn ready_within(&mut self, within: Duration) -> bool {
        let started = Instant::now();
        while started.elapsed() < within {
            if self.data().join("admin.json").is_file() {
                return true;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the daemon exited ({status}):\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    fn log(&self) -> String {
        fs::read_to_string(self.root.path().join("daemon.log")).unwrap_or_default()
    }

    fn run(&self, args: &[&str]) -> crate::harness::Out {
        let data = self.data().display().to_string();
        let mut all = vec!["--data", data.as_str()];
        all.extend_from_slice(args);
        wasmgr(&all, None)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// `admin.json` is 0600 and `readonly.json` 0640, so that only the daemon's user (and its
/// group, read-only) act as clients. But the daemon creates its data directory and its
/// database with the umask's defaults, 0755 and 0644: any local user reads `wasmgr.db`, and
/// with it every config-key (where the README says secrets belong), every module's store and
/// options, and the whole audit ledger, without any token.
#[test]
fn a_local_user_cannot_read_the_daemons_database() {
    let modules = Modules::new(&[HELLO]);
    let mut serve = Serve::start(modules.path());
    assert!(
        serve.ready_within(Duration::from_secs(60)),
        "{}",
        serve.log()
    );
    serve
        .run(&["config-key", "set", "mgr/dashboard/password", "hunter2"])
        .ok();
    let data = serve.data();
    let others_enter = mode(&data) & 0o001 != 0;
    let exposed: Vec<String> = ["wasmgr.db", "wasmgr.db-wal"]
        .iter()
        .map(|f| data.join(f))
        .filter(|p| p.exists() && mode(p) & 0o004 != 0)
        .map(|p| format!("{} ({:o})", p.display(), mode(&p)))
        .collect();
    assert!(
        !others_enter || exposed.is_empty(),
        "every local user can read the daemon's database: data directory {} is {:o}, and {}",
        data.display(),
        mode(&data),
        exposed.join(", ")
    );
}

/// A FIFO named like a component in the modules directory (left by an archive a stranger's
/// module came in, or by anyone who can write that directory). Reading it blocks until
/// someone writes to it, and the daemon reads every `*.wasm` (and its `.sig` and `.toml`) at
/// start-up before it starts serving: it never starts.
#[test]
fn a_fifo_in_the_modules_directory_does_not_stop_the_daemon_from_starting() {
    let modules = Modules::new(&[HELLO]);
    let mut serve = Serve::start_then(modules.path(), |dir| {
        let made = Command::new("mkfifo")
            .arg(dir.join("stranger.wasm"))
            .status()
            .unwrap();
        assert!(made.success());
    });
    let ready = serve.ready_within(Duration::from_secs(15));
    assert!(
        ready,
        "the daemon did not start within 15 s with a FIFO in its modules directory:\n{}",
        serve.log()
    );
    assert_eq!(serve.run(&["hello"]).ok(), "Hello, world!\n");
}
