//! Idle memory per module, measured in child processes so that each count starts from a fresh
//! process: the child starts a host with `n` copies of the `fan` guest, lets it settle, and
//! prints its resident set size. The parent subtracts a child with no modules.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use wasmgr_runtime::cluster::SnapshotSource;
use wasmgr_runtime::engine::DEFAULT_MODULE_SLOTS;

use crate::host;

/// A process's resident memory, in bytes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Rss {
    pub total: u64,
    pub anon: u64,
    pub file: u64,
}

/// The value of a `/proc` field such as `MemTotal:` or `VmRSS:` given in kB, in KiB.
pub fn kib_field(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// This process's resident memory, from /proc/self/status.
pub fn current() -> Result<Rss> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let field = |name: &str| kib_field(&status, name).unwrap_or(0) * 1024;
    Ok(Rss {
        total: field("VmRSS:"),
        anon: field("RssAnon:"),
        file: field("RssFile:") + field("RssShmem:"),
    })
}

/// The child: start `n` modules, settle, print `total anon file`.
pub fn child(n: usize, fan: &Path, cache: &Path) -> Result<()> {
    // Every child uses the daemon's default pool size, so the baseline pays the same fixed
    // costs as the measured hosts.
    let h = host::fan_host(
        n,
        fan,
        cache,
        Arc::new(SnapshotSource::embedded()),
        DEFAULT_MODULE_SLOTS,
    )?;
    std::thread::sleep(Duration::from_millis(300));
    let rss = current()?;
    println!("{} {} {}", rss.total, rss.anon, rss.file);
    drop(h);
    Ok(())
}

/// Run a child for `n` modules and read what it printed.
pub fn measure(n: usize, fan: &Path, cache: &Path) -> Result<Rss> {
    let me = std::env::current_exe()?;
    let out = Command::new(&me)
        .arg("__rss-child")
        .arg(n.to_string())
        .arg(fan)
        .arg(cache)
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .output()
        .with_context(|| format!("run {}", me.display()))?;
    if !out.status.success() {
        bail!(
            "the RSS child for {n} modules failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Vec<u64> = text
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    match v[..] {
        [total, anon, file] => Ok(Rss { total, anon, file }),
        _ => bail!("the RSS child printed '{text}'"),
    }
}
