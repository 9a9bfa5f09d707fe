//! In-process hosts for the cases that need a `Manager`: a cluster source that counts notifies,
//! and modules directories holding one component under many names.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tempfile::TempDir;
use wasmgr_runtime::cluster::{ClusterSource, SnapshotSource, SourceError};
use wasmgr_runtime::manager::{HostConfig, Manager};
use wasmgr_runtime::persist::{Persistence, Space, SqliteStore};
use wasmgr_runtime::supervisor::ModuleState;

/// A cluster source (the embedded snapshot, or the simulated cluster), plus a count of
/// `have_mon_connection` calls (the `fan` guest's notify makes one) that a waiter can block on.
/// It does not pass [`ClusterSource::start`] on: a simulated cluster behind it has no clock and
/// sends nothing by itself, and the bench hands its events to `Manager::notify`.
pub struct CountingSource {
    inner: Arc<dyn ClusterSource>,
    count: AtomicU64,
    target: AtomicU64,
    lock: Mutex<()>,
    reached: Condvar,
}

impl CountingSource {
    /// Over the embedded snapshot.
    pub fn new() -> CountingSource {
        CountingSource::over(Arc::new(SnapshotSource::embedded()))
    }

    /// Over `inner`.
    pub fn over(inner: Arc<dyn ClusterSource>) -> CountingSource {
        CountingSource {
            inner,
            count: AtomicU64::new(0),
            target: AtomicU64::new(u64::MAX),
            lock: Mutex::new(()),
            reached: Condvar::new(),
        }
    }

    /// Reset the count and expect `n` calls.
    pub fn expect(&self, n: u64) {
        self.count.store(0, Ordering::SeqCst);
        self.target.store(n, Ordering::SeqCst);
    }

    /// Reset the count, expecting nothing yet (see [`CountingSource::wait_for`]).
    pub fn reset(&self) {
        self.expect(u64::MAX);
    }

    /// Block until `n` calls have happened since the reset. Calls made before this sets the
    /// target count too.
    pub fn wait_for(&self, n: u64, timeout: Duration) -> Result<()> {
        self.target.store(n, Ordering::SeqCst);
        self.wait(timeout)
    }

    /// Block until the expected calls have happened.
    pub fn wait(&self, timeout: Duration) -> Result<()> {
        let target = self.target.load(Ordering::SeqCst);
        let guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let (_guard, result) = self
            .reached
            .wait_timeout_while(guard, timeout, |()| {
                self.count.load(Ordering::SeqCst) < target
            })
            .unwrap_or_else(|p| p.into_inner());
        if result.timed_out() {
            bail!(
                "only {} of {target} modules ran their notify within {timeout:?}",
                self.count.load(Ordering::SeqCst)
            );
        }
        Ok(())
    }
}

impl ClusterSource for CountingSource {
    fn get(&self, data_name: &str) -> Result<String, SourceError> {
        self.inner.get(data_name)
    }
    fn get_server(&self, hostname: &str) -> Result<String, SourceError> {
        self.inner.get_server(hostname)
    }
    fn list_servers(&self) -> Result<String, SourceError> {
        self.inner.list_servers()
    }
    fn get_metadata(&self, svc_type: &str, svc_id: &str) -> Result<Option<String>, SourceError> {
        self.inner.get_metadata(svc_type, svc_id)
    }
    fn get_daemon_status(
        &self,
        svc_type: &str,
        svc_id: &str,
    ) -> Result<Option<String>, SourceError> {
        self.inner.get_daemon_status(svc_type, svc_id)
    }
    fn get_perf_schema(&self, svc_type: &str, svc_id: &str) -> Result<String, SourceError> {
        self.inner.get_perf_schema(svc_type, svc_id)
    }
    fn get_counter(&self, svc_type: &str, svc_id: &str, path: &str) -> Result<String, SourceError> {
        self.inner.get_counter(svc_type, svc_id, path)
    }
    fn get_latest(&self, svc_type: &str, svc_id: &str, path: &str) -> Result<String, SourceError> {
        self.inner.get_latest(svc_type, svc_id, path)
    }
    fn mgr_id(&self) -> String {
        self.inner.mgr_id()
    }
    fn ceph_option(&self, key: &str) -> Result<String, SourceError> {
        self.inner.ceph_option(key)
    }
    fn version(&self) -> (String, String) {
        self.inner.version()
    }
    fn have_mon_connection(&self) -> bool {
        let n = self.count.fetch_add(1, Ordering::SeqCst) + 1;
        if n == self.target.load(Ordering::SeqCst) {
            // Taking the lock orders this wake-up after the waiter's check.
            let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
            self.reached.notify_all();
        }
        self.inner.have_mon_connection()
    }
    fn describe(&self) -> String {
        format!("bench: {}, counting notifies", self.inner.describe())
    }
}

/// A data directory and a modules directory under one temporary directory. Every host of the
/// bench is pointed at one shared compile cache (`cache_dir`, `--cache`), so hosts of this run
/// and of later runs load compiled code instead of compiling.
pub struct Dirs {
    tmp: TempDir,
}

impl Dirs {
    pub fn new() -> Result<Dirs> {
        let tmp = tempfile::Builder::new().prefix("wasmgr-bench-").tempdir()?;
        std::fs::create_dir_all(tmp.path().join("data"))?;
        std::fs::create_dir_all(tmp.path().join("modules"))?;
        Ok(Dirs { tmp })
    }

    pub fn data(&self) -> PathBuf {
        self.tmp.path().join("data")
    }

    pub fn modules(&self) -> PathBuf {
        self.tmp.path().join("modules")
    }

    /// Put `wasm` in the modules directory as `<name>.wasm` (a symbolic link).
    pub fn add(&self, wasm: &Path, name: &str) -> Result<()> {
        std::os::unix::fs::symlink(wasm, self.modules().join(format!("{name}.wasm")))
            .with_context(|| format!("link {} as {name}", wasm.display()))
    }
}

/// An in-process host and its directories.
pub struct Host {
    pub manager: Manager,
    _dirs: Dirs,
}

/// Start a host on `dirs` with `cluster`, and check that every module runs.
pub fn start(
    dirs: Dirs,
    cluster: Arc<dyn ClusterSource>,
    slots: u32,
    cache: &Path,
) -> Result<Host> {
    let mut config = HostConfig::new(dirs.data(), dirs.modules(), cluster);
    config.module_slots = slots;
    config.cache_dir = Some(cache.to_owned());
    config.grants_file = Some(grant_requests(&dirs.modules(), &dirs.data())?);
    let manager = Manager::start(config)?;
    for m in manager.supervisor().list() {
        if m.state != ModuleState::Running {
            bail!("module {} is {:?}, not running", m.name, m.state);
        }
    }
    Ok(Host {
        manager,
        _dirs: dirs,
    })
}

/// Grant every module in `modules` what it requests (as an operator approving them would):
/// the grants file written in `data`.
pub fn grant_requests(modules: &Path, data: &Path) -> Result<std::path::PathBuf> {
    let text = wasmgr_runtime::grants_file::requested_by(modules).map_err(anyhow::Error::msg)?;
    std::fs::create_dir_all(data)?;
    let path = data.join("grants.toml");
    std::fs::write(&path, text)?;
    Ok(path)
}

/// The name of the `i`th copy of the `fan` guest.
pub fn fan_name(i: usize) -> String {
    format!("fan{i:04}")
}

/// A host running `n` copies of the `fan` guest (each told its name through its store).
pub fn fan_host(
    n: usize,
    fan: &Path,
    cache: &Path,
    cluster: Arc<dyn ClusterSource>,
    slots: u32,
) -> Result<Host> {
    let dirs = Dirs::new()?;
    let names: Vec<String> = (0..n).map(fan_name).collect();
    {
        let store = SqliteStore::open(&dirs.data())?;
        let writes: Vec<(String, Option<String>)> = names
            .iter()
            .map(|name| (format!("mgr/{name}/name"), Some(name.clone())))
            .collect();
        store.set_many(Space::Kv, &writes)?;
    }
    for name in &names {
        dirs.add(fan, name)?;
    }
    start(dirs, cluster, slots, cache)
}
