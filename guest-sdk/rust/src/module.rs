//! The module itself: what it declares, and the one instance the SDK keeps of it.

use crate::options::ModuleOption;
use crate::{CommandDecl, HandleCommandResult, NotifyKind};

/// A wasmgr module: ceph-mgr's `MgrModule`.
///
/// The SDK creates one instance with `Default::default()` on the first call that needs it
/// (a command, a notify) and keeps it for the life of the wasm instance, so handlers get
/// `&mut self` and state survives between calls. When a call traps (a panic, running out of
/// fuel or memory) the host replaces the whole wasm instance, and with it this state: keep
/// what must survive in the store.
pub trait MgrModule: Commands + Default + 'static {
    /// The module's name, as operators enable it and as its commands' first word.
    const NAME: &'static str;
    /// The module's version.
    const VERSION: &'static str;
    /// The notify kinds the module wants ([`MgrModule::notify`] gets no others).
    const NOTIFY: &'static [NotifyKind] = &[];

    /// The options the module declares (`MODULE_OPTIONS`). Do not declare `log_level`: the
    /// host adds it to every module.
    fn options() -> Vec<ModuleOption> {
        Vec::new()
    }

    /// Whether the module can work here (`can_run`); `Err` says why not.
    fn can_run() -> Result<(), String> {
        Ok(())
    }

    /// New state of `kind` is available; read it with `cluster::get`. `id` names the thing
    /// that changed where the kind has one (a command tag, a daemon), else it is empty.
    fn notify(&mut self, kind: NotifyKind, id: &str) {
        let _ = (kind, id);
    }

    /// The module is being disabled; the instance is dropped after, under a short deadline.
    fn shutdown(&mut self) {}
}

/// The commands a module serves. Implemented by `#[wasmgr_guest::commands]`; write it by
/// hand only for a module with no commands (`impl Commands for MyModule {}`).
pub trait Commands {
    /// The command declarations, for `describe`.
    fn commands() -> Vec<CommandDecl> {
        Vec::new()
    }

    /// Runs the handler of the call's prefix; `None` if no command has that prefix.
    fn dispatch(&mut self, call: &crate::__private::Call<'_>) -> Option<HandleCommandResult> {
        let _ = call;
        None
    }
}

/// Exports a type implementing [`MgrModule`] as the component's `module` interface.
///
/// ```ignore
/// wasmgr_guest::export_module!(Hello);
/// ```
///
/// Use it once per module crate (a `cdylib` built for `wasm32-wasip2`). The crate must
/// depend on the SDK under its own name, `wasmgr-guest`.
#[macro_export]
macro_rules! export_module {
    ($module:ty) => {
        const _: () = {
            struct __WasmgrModule;

            impl $crate::__private::Guest for __WasmgrModule {
                fn describe() -> $crate::ModuleInfo {
                    $crate::__private::describe::<$module>()
                }

                fn notify(kind: $crate::NotifyKind, id: ::std::string::String) {
                    $crate::__private::notify::<$module>(kind, &id)
                }

                fn handle_command(
                    cmd: ::std::string::String,
                    inbuf: ::std::string::String,
                ) -> $crate::__private::CommandResult {
                    $crate::__private::handle_command::<$module>(&cmd, &inbuf)
                }

                fn shutdown() {
                    $crate::__private::shutdown::<$module>()
                }
            }

            $crate::bindings::__export!(__WasmgrModule);
        };
    };
}
