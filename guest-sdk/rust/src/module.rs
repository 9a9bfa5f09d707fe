//! The module itself: what it declares, and the one instance the SDK keeps of it.

use std::time::Duration;

use serde_json::Value;

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
    /// The period of [`MgrModule::tick`] from the start, if the module does periodic work.
    ///
    /// The SDK sets it with [`schedule::set_tick_period`](crate::schedule::set_tick_period)
    /// once per wasm instance: in `describe` if the host allows it there, else at the
    /// instance's first call (so after a trap replaces the instance, ticking resumes with the
    /// first call into the new one). Change it later with `set_tick_period`.
    const TICK_PERIOD: Option<Duration> = None;

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

    /// One round of periodic work: the body of a Python `serve()` loop. The host calls it
    /// every period set with [`schedule::set_tick_period`](crate::schedule::set_tick_period)
    /// (or [`MgrModule::TICK_PERIOD`]), between the module's other calls and under the same
    /// limits; it never ticks a module that set no period.
    fn tick(&mut self) {}

    /// The methods other modules may call with [`remote::call`](crate::remote::call); the
    /// host asks once, when the module is loaded. A call to any other method is
    /// `NoSuchMethod` for the caller.
    fn remote_methods() -> Vec<&'static str> {
        Vec::new()
    }

    /// Runs the remote method `method` (one of [`MgrModule::remote_methods`]) with `args`, the
    /// JSON list of the caller's arguments; the result as JSON, or a message the caller gets
    /// as `RemoteError::Failed`.
    fn handle_remote(&mut self, method: &str, args: Value) -> Result<Value, String> {
        let _ = args;
        Err(format!("no such method '{method}'"))
    }
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

/// Exports a type implementing [`MgrModule`] as the component's `module` interface, with the
/// `ticker` and `remote-target` interfaces (every SDK module exports them; a module that sets
/// no tick period and lists no remote methods is never called through them).
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

            impl $crate::__private::TickerGuest for __WasmgrModule {
                fn tick() {
                    $crate::__private::tick::<$module>()
                }
            }

            impl $crate::__private::RemoteTargetGuest for __WasmgrModule {
                fn methods() -> ::std::vec::Vec<::std::string::String> {
                    $crate::__private::remote_methods::<$module>()
                }

                fn handle_remote(
                    method: ::std::string::String,
                    args_json: ::std::string::String,
                ) -> ::std::result::Result<::std::string::String, ::std::string::String> {
                    $crate::__private::handle_remote::<$module>(&method, &args_json)
                }
            }

            $crate::bindings::__export!(__WasmgrModule);
        };
    };
}
