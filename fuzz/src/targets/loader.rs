//! The component loader (`runtime/src/loader.rs`): a component file read, digested, its
//! manifest found, compiled through the artifact cache by the daemon's engine, and linked
//! against the daemon's linker; stopped right after linking, before any of its code runs
//! (instantiation runs start functions, `describe` runs guest code: both are the limits'
//! business, not a parser's).
//!
//! Most mutated inputs fail validation within microseconds; those that validate are compiled
//! by cranelift, so inputs are capped at [`MAX_INPUT`] bytes.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use wasmgr_runtime::cache::{self, ArtifactCache};
use wasmgr_runtime::cluster::SnapshotSource;
use wasmgr_runtime::engine;
use wasmgr_runtime::health::HealthBoard;
use wasmgr_runtime::limits::Limits;
use wasmgr_runtime::loader::{Loader, Services};
use wasmgr_runtime::persist::SqliteStore;

use crate::{Features, broken};

/// The largest input loaded: compiling a large valid component takes cranelift long enough
/// to slow the run to a crawl.
pub const MAX_INPUT: usize = 64 << 10;

/// The module name every input is loaded as.
const NAME: &str = "fuzzed";

/// The payload `load_then`'s callback unwinds with: the input compiled and linked.
struct Linked;

struct Setup {
    loader: Loader,
    /// `<dir>/fuzzed.wasm`: where each input is written to be loaded.
    component: PathBuf,
    /// The loader's artifact cache, to remove each input's compiled artifact after it.
    cache: ArtifactCache,
    /// The data, modules and cache directories; removed by [`cleanup`].
    dir: PathBuf,
}

static SETUP: OnceLock<Setup> = OnceLock::new();

/// A loader as the daemon builds it (its engine configuration, linker and limits), over a
/// store and cache in a temporary directory. Made once per process.
fn setup() -> &'static Setup {
    SETUP.get_or_init(|| {
        let made = (|| -> Result<Setup, String> {
            let dir = tempfile::Builder::new()
                .prefix("wasmgr-fuzz-loader-")
                .tempdir()
                .map_err(|e| e.to_string())?
                .keep();
            let modules = dir.join("modules");
            std::fs::create_dir_all(&modules).map_err(|e| e.to_string())?;
            let limits = Limits::default();
            let engine = engine::build(&limits, engine::DEFAULT_MODULE_SLOTS)
                .map_err(|e| format!("{e:#}"))?;
            let persist = Arc::new(SqliteStore::open(&dir).map_err(|e| e.to_string())?);
            let services = Services::new(
                persist,
                Arc::new(SnapshotSource::embedded()),
                Arc::new(HealthBoard::default()),
                "x".into(),
                "2/5".into(),
            );
            let cache_dir = dir.join("cache");
            let loader =
                Loader::new(engine, &cache_dir, services, limits).map_err(|e| format!("{e:#}"))?;
            let cache = ArtifactCache::new(&cache_dir, loader.engine());
            Ok(Setup {
                loader,
                component: modules.join(format!("{NAME}.wasm")),
                cache,
                dir,
            })
        })();
        made.unwrap_or_else(|e| broken(format_args!("cannot set up the loader: {e}")))
    })
}

/// Removes the loader's temporary directory, if this process made one.
pub fn cleanup() {
    if let Some(setup) = SETUP.get() {
        let _ = std::fs::remove_dir_all(&setup.dir);
    }
}

/// Loads `data` as the component file of module `fuzzed`.
pub fn loader(data: &[u8], seen: &mut Features) {
    if data.len() > MAX_INPUT {
        return;
    }
    let setup = setup();
    if let Err(e) = std::fs::write(&setup.component, data) {
        broken(format_args!(
            "cannot write {}: {e}",
            setup.component.display()
        ));
    }
    // The loader calls this once the component is compiled and linked, before it
    // instantiates it; unwinding from here (without the panic hook, which would print) stops
    // the load with nothing of the component run.
    let stop = || std::panic::resume_unwind(Box::new(Linked));
    let loaded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        setup.loader.load_then(NAME, &setup.component, stop)
    }));
    match loaded {
        Err(payload) if payload.is::<Linked>() => seen.add("compiled and linked"),
        // A real panic inside the loader: let it go on to the driver.
        Err(payload) => std::panic::resume_unwind(payload),
        Ok(Ok(_)) => broken(format_args!(
            "the module loaded without the callback running"
        )),
        Ok(Err(e)) => {
            let debug = format!("{e:?}");
            let variant = debug.split(['(', ' ', '{']).next().unwrap_or_default();
            seen.message(variant, &e.to_string());
        }
    }
    // Each valid input leaves a compiled artifact behind; a run makes thousands.
    let _ = std::fs::remove_file(setup.cache.file(&cache::digest(data)));
}
