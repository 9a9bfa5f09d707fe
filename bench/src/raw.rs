//! The raw-wasmtime baselines: the same components and exports the host calls, on an engine
//! with the host's configuration, but with nothing of the host around the call (no actor, no
//! argument checks, no host context). The host functions are WASI, granting nothing as the
//! host's does (Rust's std seeds its hash maps from `wasi:random`);
//! `cluster.have-mon-connection`, which the `fan` guest calls from its notify; and
//! `remote.call`, which calls the `handle-remote` export of a second raw instance given to the
//! caller ([`RawInstance::set_callee`]), for the floor of a remote call. Every other
//! `wasmgr:mgr` import fails the call, and none is on the measured paths.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{Context, Result};
use wasmgr_runtime::bindings::{
    CommandResult, MgrModule, MgrModulePre, NotifyKind, RemoteError, optional,
};
use wasmgr_runtime::cache::{self, ArtifactCache};
use wasmgr_runtime::engine::{self, EpochTicker};
use wasmgr_runtime::limits::{self, Limits};
use wasmtime::Engine;
use wasmtime::component::ResourceTable;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker, TypedFunc};
use wasmtime::{Store, StoreContextMut};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// The data of a raw store: a WASI context that grants nothing, and what the stub host
/// function counts.
pub struct RawCtx {
    wasi: WasiCtx,
    table: ResourceTable,
    /// `have-mon-connection` calls.
    mon_pings: u64,
    /// The instance `remote.call` calls, whatever module the guest names.
    callee: Option<Box<RawInstance>>,
}

impl RawCtx {
    fn new() -> RawCtx {
        RawCtx {
            wasi: WasiCtxBuilder::new()
                .allow_tcp(false)
                .allow_udp(false)
                .allow_ip_name_lookup(false)
                .build(),
            table: ResourceTable::new(),
            mon_pings: 0,
            callee: None,
        }
    }
}

impl WasiView for RawCtx {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Which limits an engine enforces.
#[derive(Clone, Copy)]
pub struct On {
    pub fuel: bool,
    pub epoch: bool,
}

/// An engine, a linker and a compile cache, without the wasmgr host.
pub struct RawHost {
    engine: Engine,
    linker: Linker<RawCtx>,
    cache: ArtifactCache,
    /// The `interface#function` names defined so far.
    stubbed: HashSet<String>,
    /// Which of fuel and epoch deadlines are on (each call is armed like the host's for those).
    on: On,
    _ticker: Option<EpochTicker>,
}

impl RawHost {
    /// The host's own engine configuration (`engine::build`), fuel and deadlines on.
    pub fn limited(cache_root: &Path, slots: u32) -> Result<RawHost> {
        RawHost::with(
            cache_root,
            slots,
            On {
                fuel: true,
                epoch: true,
            },
        )
    }

    /// The same configuration with only the limits in `on`.
    pub fn with(cache_root: &Path, slots: u32, on: On) -> Result<RawHost> {
        let engine = engine_with(&Limits::default(), slots, on)?;
        RawHost::new(engine, cache_root, on)
    }

    fn new(engine: Engine, cache_root: &Path, on: On) -> Result<RawHost> {
        let ticker = if on.epoch {
            Some(EpochTicker::start(engine.clone())?)
        } else {
            None
        };
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        // Defined at the WIT's version; wasmtime matches imports of any 0.1.x to them.
        linker.instance("wasmgr:mgr/cluster@0.1.1")?.func_wrap(
            "have-mon-connection",
            |mut cx: StoreContextMut<'_, RawCtx>, (): ()| {
                cx.data_mut().mon_pings += 1;
                Ok((true,))
            },
        )?;
        linker.instance("wasmgr:mgr/remote@0.1.1")?.func_wrap(
            "call",
            |mut cx: StoreContextMut<'_, RawCtx>,
             (module, method, args): (String, String, String)| {
                let Some(callee) = cx.data_mut().callee.as_mut() else {
                    return Ok((Err(RemoteError::NotEnabled(format!(
                        "the raw baseline host has no callee for '{module}'"
                    ))),));
                };
                let reply = callee
                    .handle_remote(&method, &args)
                    .map_err(|e| wasmtime::Error::msg(format!("{e:#}")))?;
                Ok((reply.map_err(RemoteError::Failed),))
            },
        )?;
        let cache = ArtifactCache::new(cache_root, &engine);
        Ok(RawHost {
            engine,
            linker,
            cache,
            stubbed: HashSet::from([
                "wasmgr:mgr/cluster#have-mon-connection".to_owned(),
                "wasmgr:mgr/remote#call".to_owned(),
            ]),
            on,
            _ticker: ticker,
        })
    }

    /// Compile (through the artifact cache) and link a component.
    pub fn prepare(&mut self, wasm: &Path) -> Result<MgrModulePre<RawCtx>> {
        let bytes = std::fs::read(wasm).with_context(|| format!("read {}", wasm.display()))?;
        let (component, _) = self
            .cache
            .load(&self.engine, wasm, &bytes, &cache::digest(&bytes))?;
        self.stub_mgr_imports(&component)?;
        let pre = self.linker.instantiate_pre(&component)?;
        Ok(MgrModulePre::new(pre)?)
    }

    /// Define every `wasmgr:mgr` import function not defined yet as one that fails the call.
    /// (wasmtime's `define_unknown_imports_as_traps` would also shadow the semver-matched WASI
    /// definitions, so it cannot be used here.)
    fn stub_mgr_imports(&mut self, component: &Component) -> Result<()> {
        let ty = component.component_type();
        for (name, item) in ty.imports(&self.engine) {
            let ComponentItem::ComponentInstance(instance) = item.ty else {
                continue;
            };
            if !name.starts_with("wasmgr:mgr/") {
                continue;
            }
            let funcs: Vec<String> = instance
                .exports(&self.engine)
                .filter(|(_, item)| matches!(item.ty, ComponentItem::ComponentFunc(_)))
                .map(|(f, _)| f.to_owned())
                .collect();
            // Keyed without the version: a definition at 0.1.1 serves imports of any 0.1.x.
            let unversioned = name.split('@').next().unwrap_or(name);
            for f in funcs {
                if !self.stubbed.insert(format!("{unversioned}#{f}")) {
                    continue;
                }
                let what = format!("{name}#{f}");
                self.linker
                    .instance(name)?
                    .func_new(&f, move |_, _, _, _| {
                        Err(wasmtime::Error::msg(format!(
                            "{what} is not provided by the raw baseline host"
                        )))
                    })?;
            }
        }
        Ok(())
    }

    /// A fresh instance.
    pub fn instantiate(&self, pre: &MgrModulePre<RawCtx>) -> Result<RawInstance> {
        let mut store = Store::new(&self.engine, RawCtx::new());
        arm(
            &mut store,
            self.on,
            limits::LOAD_FUEL,
            limits::LOAD_DEADLINE,
        )?;
        let instance = pre.instance_pre().instantiate(&mut store)?;
        let bindings = MgrModule::new(&mut store, &instance)?;
        // `remote-target.handle-remote`, looked up as the host's loader does.
        let handle_remote = instance
            .get_export_index(&mut store, None, optional::REMOTE_TARGET)
            .and_then(|iface| instance.get_export_index(&mut store, Some(&iface), "handle-remote"))
            .and_then(|index| instance.get_func(&mut store, index))
            .map(|f| f.typed(&store))
            .transpose()?;
        Ok(RawInstance {
            store,
            bindings,
            handle_remote,
            on: self.on,
        })
    }
}

/// Set fuel and the epoch deadline as the host's `loader::arm` does before every call.
fn arm(store: &mut Store<RawCtx>, on: On, fuel: u64, deadline: std::time::Duration) -> Result<()> {
    if on.fuel {
        store.set_fuel(fuel)?;
    }
    if on.epoch {
        store.set_epoch_deadline(engine::ticks(deadline));
    }
    Ok(())
}

/// One raw instance.
pub struct RawInstance {
    store: Store<RawCtx>,
    bindings: MgrModule,
    /// `remote-target.handle-remote`, if the component exports it.
    handle_remote: Option<HandleRemote>,
    on: On,
}

/// `remote-target.handle-remote(method, args) -> result<string, string>`.
type HandleRemote = TypedFunc<(String, String), (Result<String, String>,)>;

impl RawInstance {
    /// Fuel and deadline for one call, as the host arms them.
    fn arm(&mut self) -> Result<()> {
        arm(
            &mut self.store,
            self.on,
            limits::FUEL_PER_CALL,
            limits::CALL_DEADLINE,
        )
    }

    /// `handle-command`, armed like a host call.
    pub fn command(&mut self, cmd: &str, inbuf: &str) -> Result<CommandResult> {
        self.arm()?;
        Ok(self
            .bindings
            .wasmgr_mgr_module()
            .call_handle_command(&mut self.store, cmd, inbuf)?)
    }

    /// `notify`, armed like a host call.
    pub fn notify(&mut self, kind: NotifyKind, id: &str) -> Result<()> {
        self.arm()?;
        Ok(self
            .bindings
            .wasmgr_mgr_module()
            .call_notify(&mut self.store, kind, id)?)
    }

    /// `remote-target.handle-remote`, armed like a host call.
    pub fn handle_remote(&mut self, method: &str, args: &str) -> Result<Result<String, String>> {
        let handle = self
            .handle_remote
            .context("the component exports no remote-target.handle-remote")?;
        self.arm()?;
        let (reply,) = handle.call(&mut self.store, (method.to_owned(), args.to_owned()))?;
        Ok(reply)
    }

    /// Make `remote.call` from this instance call `callee`'s `handle-remote`.
    pub fn set_callee(&mut self, callee: RawInstance) {
        self.store.data_mut().callee = Some(Box::new(callee));
    }

    /// How many times the guest called `have-mon-connection`.
    pub fn mon_pings(&self) -> u64 {
        self.store.data().mon_pings
    }
}

/// Compile the component at `wasm` as the engine with the limits in `on` does, and write the
/// compiled artifact (an ELF file) to `out`.
pub fn precompile(on: On, wasm: &Path, out: &Path) -> Result<()> {
    let engine = engine_with(&Limits::default(), 1, on)?;
    let bytes = std::fs::read(wasm).with_context(|| format!("read {}", wasm.display()))?;
    let compiled = engine.precompile_component(&bytes)?;
    std::fs::write(out, compiled).with_context(|| format!("write {}", out.display()))
}

/// `wasmgr_runtime::engine::build` with `consume_fuel` and `epoch_interruption` as in `on`,
/// every other setting the same.
fn engine_with(limits: &Limits, slots: u32, on: On) -> wasmtime::Result<Engine> {
    let mut config = wasmgr_runtime::engine::config(limits, slots);
    config.consume_fuel(on.fuel).epoch_interruption(on.epoch);
    Engine::new(&config)
}
