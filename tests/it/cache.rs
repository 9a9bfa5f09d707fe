//! The compiled-component cache: a corrupt artifact is never loaded; it is recompiled with a
//! warning and replaced.

use std::fs;
use std::path::{Path, PathBuf};

use crate::harness::guests::{ANTIGRAVITY, HELLO};
use crate::harness::{Daemon, DaemonOptions, Modules};

/// The cache file of the component with sha256 `digest`.
fn artifact(cache: &Path, digest: &str) -> PathBuf {
    let name = format!("{digest}.cwasm");
    let mut found = Vec::new();
    for dir in fs::read_dir(cache).unwrap() {
        let path = dir.unwrap().path().join(&name);
        if path.is_file() {
            found.push(path);
        }
    }
    assert_eq!(
        found.len(),
        1,
        "{name} under {}: {found:?}",
        cache.display()
    );
    found.remove(0)
}

fn digest(daemon: &Daemon, module: &str) -> String {
    let digest = daemon.module_info(module)["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    digest.trim_start_matches("sha256:").to_owned()
}

#[test]
fn a_corrupt_compiled_artifact_is_recompiled_with_a_warning_and_replaced() {
    // A cache of its own: corrupting the shared one would slow the other tests down.
    let cache = tempfile::tempdir().unwrap();
    let mut daemon = Daemon::with(
        Modules::new(&[HELLO, ANTIGRAVITY]),
        DaemonOptions {
            cache: cache.path().to_owned(),
            ..DaemonOptions::default()
        },
    );
    assert_eq!(daemon.module_info("hello")["compiled_from_cache"], false);
    let truncated = artifact(cache.path(), &digest(&daemon, "hello"));
    let flipped = artifact(cache.path(), &digest(&daemon, "antigravity"));
    let sizes = [
        truncated.metadata().unwrap().len(),
        flipped.metadata().unwrap().len(),
    ];
    daemon.kill_9();

    let bytes = fs::read(&truncated).unwrap();
    fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let mut bytes = fs::read(&flipped).unwrap();
    let middle = bytes.len() / 2;
    for b in &mut bytes[middle..middle + 16] {
        *b ^= 0xff;
    }
    fs::write(&flipped, &bytes).unwrap();

    daemon.restart();
    assert_eq!(daemon.ok(&["hello"]), "Hello, world!\n");
    assert_eq!(daemon.ok(&["antigravity", "ls", "objects"]), "[]\n");
    let log = daemon.log();
    for file in [&truncated, &flipped] {
        let warning = log
            .lines()
            .find(|l| l.contains("WARN") && l.contains(&file.display().to_string()))
            .unwrap_or_else(|| panic!("no warning about {} in:\n{log}", file.display()));
        assert!(
            warning.contains("compiled artifact is truncated or corrupt; recompiling"),
            "{warning}"
        );
    }
    assert_eq!(daemon.module_info("hello")["compiled_from_cache"], false);

    // Rewritten whole, and valid: the next start loads them without a word.
    assert_eq!(
        [
            truncated.metadata().unwrap().len(),
            flipped.metadata().unwrap().len()
        ],
        sizes
    );
    daemon.restart();
    assert_eq!(daemon.module_info("hello")["compiled_from_cache"], true);
    assert_eq!(
        daemon.module_info("antigravity")["compiled_from_cache"],
        true
    );
    assert!(!daemon.log().contains("WARN"), "{}", daemon.log());
    assert_eq!(daemon.ok(&["hello"]), "Hello, world!\n");
}

/// Several modules with the same code loading at once (copies of one component, as a fleet of
/// Python modules sharing one interpreter build would be): the code is compiled once, and the
/// other loads wait for it and share it.
#[test]
fn copies_of_one_component_loading_at_once_compile_it_once() {
    use std::sync::{Arc, Barrier};
    use wasmgr_runtime::cache::CacheOutcome;
    use wasmgr_runtime::cluster::SnapshotSource;
    use wasmgr_runtime::health::HealthBoard;
    use wasmgr_runtime::limits::Limits;
    use wasmgr_runtime::loader::{Loader, Services};
    use wasmgr_runtime::persist::SqliteStore;

    let (cache, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let services = Services::new(
        Arc::new(SqliteStore::open(data.path()).unwrap()),
        Arc::new(SnapshotSource::embedded()),
        Arc::new(HealthBoard::default()),
        "x".into(),
        "2/5".into(),
    );
    let engine = wasmgr_runtime::engine::build(&Limits::default(), 16).unwrap();
    let loader = Arc::new(Loader::new(engine, cache.path(), services, Limits::default()).unwrap());
    // Three files of the same component (a module's name is its file's stem).
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let start = Arc::new(Barrier::new(dirs.len()));
    let outcomes: Vec<CacheOutcome> = std::thread::scope(|s| {
        let loads: Vec<_> = dirs
            .iter()
            .map(|d| {
                let path = d.path().join("counter.wasm");
                fs::copy(crate::harness::guests::COUNTER, &path).unwrap();
                let (loader, start) = (loader.clone(), start.clone());
                s.spawn(move || {
                    start.wait();
                    loader.load("counter", &path).unwrap().0.cache
                })
            })
            .collect();
        loads.into_iter().map(|l| l.join().unwrap()).collect()
    });
    let compiled = outcomes
        .iter()
        .filter(|o| **o == CacheOutcome::Compiled)
        .count();
    assert_eq!(compiled, 1, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, CacheOutcome::Compiled | CacheOutcome::Memory)),
        "{outcomes:?}"
    );
}
