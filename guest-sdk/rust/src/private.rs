//! What the macros expand to. Not part of the API: names here may change in any release.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::sync::Once;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::args::CephArg;
use crate::errno::{EBUSY, EINVAL};
use crate::log::{self, Level};
use crate::module::MgrModule;
use crate::response::{ErrorResponse, Format, HandleCommandResult, IntoCommandResult};
use crate::{ArgRange, ArgType, CommandArg, ModuleInfo, NotifyKind};

pub use crate::bindings::exports::wasmgr::mgr::module::{CommandResult, Guest};
pub use crate::bindings::exports::wasmgr::mgr::remote_target::Guest as RemoteTargetGuest;
pub use crate::bindings::exports::wasmgr::mgr::ticker::Guest as TickerGuest;
pub use serde;

/// One command call: the command map the host sent and the input buffer.
pub struct Call<'a> {
    prefix: String,
    args: Map<String, Value>,
    format: Option<String>,
    inbuf: &'a str,
}

impl<'a> Call<'a> {
    /// Parses the `cmd` JSON of `handle-command`.
    pub fn parse(cmd: &str, inbuf: &'a str) -> Result<Self, ErrorResponse> {
        let mut args = match serde_json::from_str::<Value>(cmd) {
            Ok(Value::Object(map)) => map,
            Ok(_) => {
                return Err(ErrorResponse::invalid(
                    "the command map is not a JSON object",
                ));
            }
            Err(e) => {
                return Err(ErrorResponse::invalid(format!(
                    "the command map is not JSON: {e}"
                )));
            }
        };
        let prefix = match args.remove("prefix") {
            Some(Value::String(prefix)) => prefix,
            _ => {
                return Err(ErrorResponse::invalid(
                    "the command map has no string 'prefix'",
                ));
            }
        };
        let format = match args.remove("format") {
            None | Some(Value::Null) => None,
            Some(Value::String(format)) => Some(format),
            Some(_) => return Err(ErrorResponse::invalid("'format' must be a string")),
        };
        Ok(Call {
            prefix,
            args,
            format,
            inbuf,
        })
    }

    /// The command's prefix words.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The client's input file, empty if none.
    pub fn inbuf(&self) -> &'a str {
        self.inbuf
    }

    /// The requested output format, if any.
    pub fn format(&self) -> Option<&str> {
        self.format.as_deref()
    }

    /// The argument `name`, as a handler parameter of type `T`.
    pub fn arg<T: CephArg>(&self, name: &str) -> Result<T, ErrorResponse> {
        T::from_arg(name, self.args.get(name))
    }
}

/// The declaration of a parameter of type `T` named `name`.
pub fn arg<T: CephArg>(name: &str) -> CommandArg {
    T::declare(name)
}

/// `#[arg(range = ..)]` with integer bounds: only for `i64` arguments.
pub fn int_range<T: CephArg<Scalar = i64>>(
    arg: &mut CommandArg,
    min: Option<i64>,
    max: Option<i64>,
) {
    arg.range = Some(ArgRange::Int((min, max)));
}

/// `#[arg(range = ..)]` with float bounds: only for `f64` arguments.
pub fn float_range<T: CephArg<Scalar = f64>>(
    arg: &mut CommandArg,
    min: Option<f64>,
    max: Option<f64>,
) {
    arg.range = Some(ArgRange::Float((min, max)));
}

/// `#[arg(choices = [..])]`: only for `String` arguments, which become `CephChoices`.
pub fn choices<T: CephArg<Scalar = String>>(arg: &mut CommandArg, words: &[&str]) {
    arg.type_ = ArgType::CephChoices;
    arg.choices = words.iter().map(|w| (*w).to_owned()).collect();
}

/// `#[arg(goodchars = "..")]`: only for `String` arguments.
pub fn goodchars<T: CephArg<Scalar = String>>(arg: &mut CommandArg, class: &str) {
    arg.goodchars = Some(class.to_owned());
}

/// A raw handler's result.
pub fn raw<R: IntoCommandResult>(result: R) -> HandleCommandResult {
    result.into_command_result()
}

/// A `responder` handler's result, rendered in `format`.
pub fn responder<T: Serialize>(
    result: Result<T, ErrorResponse>,
    format: Format,
) -> HandleCommandResult {
    result
        .and_then(|value| format.render(&value))
        .map_or_else(Into::into, HandleCommandResult::ok)
}

/// An `empty_responder` handler's result.
pub fn empty_responder(result: Result<(), ErrorResponse>) -> HandleCommandResult {
    result.map_or_else(Into::into, |()| HandleCommandResult::default())
}

thread_local! {
    /// The module instance. A wasm instance runs one export at a time on one thread, so a
    /// thread-local `RefCell` is all the synchronisation needed; it holds `dyn Any` because a
    /// static cannot be generic over the module type.
    static INSTANCE: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };

    /// Whether this wasm instance has set `MgrModule::TICK_PERIOD` (or given up on it).
    static TICK_PERIOD_SET: Cell<bool> = const { Cell::new(false) };
}

/// Sets `M::TICK_PERIOD` once per wasm instance. In `describe` a refusal is only noted (the
/// host may not take host calls there; the instance's first call tries again); at a later
/// call it is logged, once.
fn set_tick_period<M: MgrModule>(in_describe: bool) {
    let Some(period) = M::TICK_PERIOD else { return };
    if TICK_PERIOD_SET.get() {
        return;
    }
    match crate::schedule::set_tick_period(Some(period)) {
        Ok(()) => TICK_PERIOD_SET.set(true),
        Err(e) if in_describe => log::log(
            Level::Debug,
            &format!("tick period not set in describe, will be at the first call: {e}"),
        ),
        Err(e) => {
            TICK_PERIOD_SET.set(true);
            log::log(
                Level::Error,
                &format!("cannot set the tick period {period:?}: {e}"),
            );
        }
    }
}

/// What every export but `describe` does first.
fn enter<M: MgrModule>() {
    install_panic_hook();
    set_tick_period::<M>(false);
}

fn with_instance<M: MgrModule, R>(f: impl FnOnce(&mut M) -> R) -> Result<R, ErrorResponse> {
    INSTANCE.with(|cell| {
        let mut slot = cell.try_borrow_mut().map_err(|_| {
            ErrorResponse::new(-EBUSY, "the module is already running a call (re-entered)")
        })?;
        let instance = slot.get_or_insert_with(|| Box::new(M::default()));
        match instance.downcast_mut::<M>() {
            Some(module) => Ok(f(module)),
            None => Err(ErrorResponse::invalid(
                "the module instance has an unexpected type",
            )),
        }
    })
}

/// Sends panics to the host log before the abort traps the call. A wasm32 panic aborts (it
/// cannot unwind), the host reports the trap and replaces the instance; this hook is what
/// makes the panic's message visible to the operator.
fn install_panic_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let message = info.payload_as_str().unwrap_or("(a non-string payload)");
            let line = match info.location() {
                Some(at) => format!("panic: {message} (at {}:{})", at.file(), at.line()),
                None => format!("panic: {message}"),
            };
            log::log(Level::Critical, &line);
        }));
    });
}

/// The `describe` export.
pub fn describe<M: MgrModule>() -> ModuleInfo {
    install_panic_hook();
    set_tick_period::<M>(true);
    let (can_run, error_string) = match M::can_run() {
        Ok(()) => (true, String::new()),
        Err(why) => (false, why),
    };
    ModuleInfo {
        name: M::NAME.to_owned(),
        version: M::VERSION.to_owned(),
        commands: M::commands(),
        options: M::options().into_iter().map(|o| o.into_decl()).collect(),
        notify: M::NOTIFY.to_vec(),
        can_run,
        error_string,
    }
}

/// The `handle-command` export.
pub fn handle_command<M: MgrModule>(cmd: &str, inbuf: &str) -> CommandResult {
    enter::<M>();
    let result = dispatch::<M>(cmd, inbuf);
    CommandResult {
        retval: result.retval,
        stdout: result.stdout,
        stderr: result.stderr,
    }
}

fn dispatch<M: MgrModule>(cmd: &str, inbuf: &str) -> HandleCommandResult {
    let call = match Call::parse(cmd, inbuf) {
        Ok(call) => call,
        Err(e) => return e.into(),
    };
    match with_instance::<M, _>(|module| module.dispatch(&call)) {
        Ok(Some(result)) => result,
        Ok(None) => ErrorResponse::new(
            -EINVAL,
            format!("module '{}' has no command '{}'", M::NAME, call.prefix()),
        )
        .into(),
        Err(e) => e.into(),
    }
}

/// The `notify` export.
pub fn notify<M: MgrModule>(kind: NotifyKind, id: &str) {
    enter::<M>();
    if let Err(e) = with_instance::<M, _>(|module| module.notify(kind, id)) {
        log::log(Level::Error, &format!("notify dropped: {}", e.message));
    }
}

/// The `ticker.tick` export.
pub fn tick<M: MgrModule>() {
    enter::<M>();
    if let Err(e) = with_instance::<M, _>(|module| module.tick()) {
        log::log(Level::Error, &format!("tick skipped: {}", e.message));
    }
}

/// The `remote-target.methods` export.
pub fn remote_methods<M: MgrModule>() -> Vec<String> {
    install_panic_hook();
    M::remote_methods().into_iter().map(str::to_owned).collect()
}

/// The `remote-target.handle-remote` export: the method must be one of `M::remote_methods`
/// and the arguments JSON.
pub fn handle_remote<M: MgrModule>(method: &str, args_json: &str) -> Result<String, String> {
    enter::<M>();
    if !M::remote_methods().contains(&method) {
        return Err(format!(
            "module '{}' has no remote method '{method}'",
            M::NAME
        ));
    }
    let args: Value = serde_json::from_str(args_json)
        .map_err(|e| format!("the arguments of {}.{method} are not JSON: {e}", M::NAME))?;
    let result = with_instance::<M, _>(|module| module.handle_remote(method, args))
        .map_err(|e| e.message)??;
    serde_json::to_string(&result).map_err(|e| {
        format!(
            "the result of {}.{method} does not serialise as JSON: {e}",
            M::NAME
        )
    })
}

/// The `shutdown` export. A module that never ran is not created just to be shut down.
pub fn shutdown<M: MgrModule>() {
    install_panic_hook();
    INSTANCE.with(|cell| {
        if let Ok(mut slot) = cell.try_borrow_mut() {
            if let Some(module) = slot.as_mut().and_then(|i| i.downcast_mut::<M>()) {
                module.shutdown();
            }
            *slot = None;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_map_needs_a_prefix() {
        let err = Call::parse(r#"{"oid":"a"}"#, "").err().unwrap();
        assert_eq!(err.message, "the command map has no string 'prefix'");
        let err = Call::parse("[1]", "").err().unwrap();
        assert_eq!(err.retval, -22);
        let call = Call::parse(r#"{"prefix":"x y","format":"yaml","n":1}"#, "in").unwrap();
        assert_eq!(
            (call.prefix(), call.format(), call.inbuf()),
            ("x y", Some("yaml"), "in")
        );
        assert_eq!(call.arg::<i64>("n"), Ok(1));
    }
}
